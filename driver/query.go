package driver

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"net/http"

	"github.com/gocarto/carto"
	"github.com/gocarto/carto/sqlapi"
)

// sqlPath is the SQL API endpoint, relative to the account's base URL.
const sqlPath = "api/v2/sql"

// The options of the driver's requests, made once: they are the same for every statement.
var (
	writeOpts    = []sqlapi.Option{sqlapi.WithFormat(sqlapi.JSON)}
	readOnlyOpts = []sqlapi.Option{sqlapi.WithFormat(sqlapi.JSON), sqlapi.WithReadOnly()}
)

// post sends one SQL text to the SQL API through package sqlapi, the one request path. The caller
// reads and closes the body, then calls done.
func (c *connector) post(ctx context.Context, q string) (resp *sqlapi.Response, reqCtx context.Context, done context.CancelFunc, err error) {
	done = func() {}
	if c.cfg.Timeout > 0 {
		// The limit covers reading the answer too, so it must outlive Do.
		ctx, done = context.WithTimeout(ctx, c.cfg.Timeout)
	}
	opts := writeOpts
	if readOnly(q) {
		opts = readOnlyOpts
	}
	resp, err = sqlapi.New(c.client).Open(ctx, q, opts...)
	if err != nil {
		done()
		return nil, nil, nil, err
	}
	return resp, ctx, done, nil
}

// readError adds why the context ended to an error met while reading an answer, so that
// errors.Is(err, context.Canceled) or context.DeadlineExceeded holds whatever the transport
// made of it.
func readError(ctx context.Context, err error) error {
	if cerr := ctx.Err(); cerr != nil && !errors.Is(err, cerr) {
		return fmt.Errorf("%w (%w)", err, context.Cause(ctx))
	}
	return err
}

// query sends q and reads its whole answer into rows.
func (c *connector) query(ctx context.Context, q string) (*rows, error) {
	resp, rctx, done, err := c.post(ctx, q)
	if err != nil {
		return nil, err
	}
	defer done()
	defer resp.Close()
	r, res, err := readRows(resp, c.cfg.spoolMemory(), http.MethodPost, c.path())
	if err != nil {
		return nil, c.keyless(readError(rctx, err))
	}
	c.notify(res)
	return r, nil
}

// exec sends q and reads its answer, skipping any rows, for the count of rows affected.
func (c *connector) exec(ctx context.Context, q string) (driver.Result, error) {
	resp, rctx, done, err := c.post(ctx, q)
	if err != nil {
		return nil, err
	}
	defer done()
	defer resp.Close()
	res, err := readResponse(resp, nil)
	if err == nil {
		if err := res.trailerError(http.MethodPost, c.path()); err != nil {
			return nil, c.keyless(err)
		}
		if !res.sawTotal {
			err = errors.New("the answer has no total_rows")
		}
	}
	if err != nil {
		return nil, c.keyless(readError(rctx, fmt.Errorf("carto driver: %s %s: %w", http.MethodPost, c.path(), err)))
	}
	c.notify(res)
	return result{affected: res.totalRows}, nil
}

// notify hands the answer's notices to Config.OnNotice.
func (c *connector) notify(res *response) {
	if c.cfg.OnNotice == nil {
		return
	}
	for _, m := range res.notices {
		c.cfg.OnNotice(Notice{Level: "notice", Message: m})
	}
	for _, m := range res.warnings {
		c.cfg.OnNotice(Notice{Level: "warning", Message: m})
	}
	for _, m := range res.infos {
		c.cfg.OnNotice(Notice{Level: "info", Message: m})
	}
}

func (c *connector) path() string { return c.client.URL(sqlPath).Path }

// result is what Exec reports: CARTO's total_rows, the rows the (last) statement affected.
type result struct{ affected int64 }

var errLastInsertID = errors.New("carto driver: LastInsertId is not supported: CARTO's SQL API reports no inserted ids; " +
	"use INSERT … RETURNING id with QueryRow instead")

// LastInsertId is always an error: use INSERT … RETURNING.
func (result) LastInsertId() (int64, error) { return 0, errLastInsertID }

// RowsAffected is the answer's total_rows: for INSERT, UPDATE and DELETE the rows they touched;
// for several statements, those of the last.
func (r result) RowsAffected() (int64, error) { return r.affected, nil }

// keyless marks an error found in an answer (one raised after CARTO began answering) as that of
// a request without an API key when it was, as the client does for the errors it builds.
func (c *connector) keyless(err error) error {
	var ce *carto.Error
	if !c.client.HasAPIKey() && errors.As(err, &ce) {
		ce.NoAPIKey = true
	}
	return err
}
