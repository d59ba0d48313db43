package driver

import (
	"context"
	"database/sql/driver"
	"errors"

	"github.com/gocarto/carto/driver/internal/bind"
)

// conn is a handle on the connector's shared *carto.Client. It has no server session: its only
// state is the transaction being queued, if any.
type conn struct {
	ctr *connector
	tx  *tx
}

var (
	_ driver.Conn               = (*conn)(nil)
	_ driver.ConnBeginTx        = (*conn)(nil)
	_ driver.ConnPrepareContext = (*conn)(nil)
	_ driver.QueryerContext     = (*conn)(nil)
	_ driver.ExecerContext      = (*conn)(nil)
	_ driver.Pinger             = (*conn)(nil)
	_ driver.NamedValueChecker  = (*conn)(nil)
)

var errQueryInTx = errors.New("carto driver: Query inside a transaction is not supported: a Tx's statements " +
	"are queued and sent together at Commit, so no rows can come back before it; run the query before " +
	"Begin or after Commit, or on the *sql.DB")

// sql returns the statement with its arguments written in as literals.
func sqlText(query string, args []driver.NamedValue) (string, error) {
	if len(args) == 0 {
		return query, nil
	}
	return bind.Interpolate(query, args)
}

// QueryContext sends the query and reads its whole answer before returning.
func (c *conn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	if c.tx != nil {
		return nil, errQueryInTx
	}
	q, err := sqlText(query, args)
	if err != nil {
		return nil, err
	}
	r, err := c.ctr.query(ctx, q)
	if err != nil {
		return nil, err
	}
	return r, nil
}

// ExecContext sends the statement, or inside a transaction queues it for Commit.
func (c *conn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	q, err := sqlText(query, args)
	if err != nil {
		return nil, err
	}
	if c.tx != nil {
		return c.tx.queue(q)
	}
	res, err := c.ctr.exec(ctx, q)
	if err != nil {
		return nil, err
	}
	return res, nil
}

// Ping sends SELECT 1, which checks the address, the key and the database behind the API.
func (c *conn) Ping(ctx context.Context) error {
	_, err := c.ctr.exec(ctx, "SELECT 1")
	return err
}

// CheckNamedValue accepts the argument types the driver can write as SQL literals.
func (c *conn) CheckNamedValue(nv *driver.NamedValue) error { return bind.CheckNamedValue(nv) }

// Close discards the handle; the HTTP connections stay with the connector.
func (c *conn) Close() error {
	c.tx = nil
	return nil
}

// Begin starts a transaction; see BeginTx.
//
// Deprecated: database/sql calls BeginTx.
func (c *conn) Begin() (driver.Tx, error) {
	return c.BeginTx(context.Background(), driver.TxOptions{})
}

// Prepare returns a statement that is only the SQL text: CARTO's SQL API has no prepared
// statements, and arguments are written in as literals at each execution.
func (c *conn) Prepare(query string) (driver.Stmt, error) {
	return c.PrepareContext(context.Background(), query)
}

// PrepareContext is Prepare; it sends nothing.
func (c *conn) PrepareContext(_ context.Context, query string) (driver.Stmt, error) {
	return &stmt{c: c, query: query}, nil
}

// stmt is a prepared statement: the SQL text, run through its connection.
type stmt struct {
	c     *conn
	query string
}

var (
	_ driver.Stmt             = (*stmt)(nil)
	_ driver.StmtExecContext  = (*stmt)(nil)
	_ driver.StmtQueryContext = (*stmt)(nil)
)

func (s *stmt) Close() error { return nil }

// NumInput is -1: the placeholders are counted when the arguments are written in.
func (s *stmt) NumInput() int { return -1 }

func (s *stmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	return s.c.ExecContext(ctx, s.query, args)
}

func (s *stmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	return s.c.QueryContext(ctx, s.query, args)
}

// Exec is for drivers older than database/sql's contexts; database/sql calls ExecContext.
func (s *stmt) Exec(args []driver.Value) (driver.Result, error) {
	return s.ExecContext(context.Background(), named(args))
}

// Query is for drivers older than database/sql's contexts; database/sql calls QueryContext.
func (s *stmt) Query(args []driver.Value) (driver.Rows, error) {
	return s.QueryContext(context.Background(), named(args))
}

func named(args []driver.Value) []driver.NamedValue {
	nv := make([]driver.NamedValue, len(args))
	for i, v := range args {
		nv[i] = driver.NamedValue{Ordinal: i + 1, Value: v}
	}
	return nv
}
