package sqlapi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"

	"github.com/gocarto/carto"
)

// The SQL API's endpoints, relative to the account's base URL.
const (
	sqlPath      = "api/v2/sql"
	copyFromPath = "api/v2/sql/copyfrom"
	copyToPath   = "api/v2/sql/copyto"
)

// Client is the SQL API of one CARTO account. It is safe for concurrent use.
type Client struct {
	c *carto.Client
}

// New returns the SQL API of the account c reaches.
func New(c *carto.Client) *Client { return &Client{c: c} }

// Carto is the *carto.Client the requests go through.
func (c *Client) Carto() *carto.Client { return c.c }

// Response is an answer of the SQL API whose body has not been read yet. Its body streams: read it
// and close it.
type Response struct {
	io.ReadCloser
	// Header is the answer's HTTP header.
	Header http.Header
	// Method and Path name the request, for errors (the path has no query and no key).
	Method, Path string
	// NoAPIKey is set when the request carried no API key, so it ran as the account's public
	// role: the errors found in the answer say so (carto.Error.NoAPIKey), as the client's own do.
	NoAPIKey bool
}

// Filename is the file name CARTO's Content-Disposition gives the answer ("cartodb-query.csv"),
// or "" when it gives none.
func (r *Response) Filename() string {
	_, params, err := mime.ParseMediaType(r.Header.Get("Content-Disposition"))
	if err != nil {
		return ""
	}
	return params["filename"]
}

// Open sends q to the SQL API (POST, form-encoded, so the SQL never sits in a URL) and returns the
// answer's body unread. An error before the answer began (a SQL error, a bad key) is a
// *carto.Error; an error CARTO reports inside a 200 answer, at the end of a json or geojson body,
// is for the reader to find (Query, the driver and FeatureReader do).
func (c *Client) Open(ctx context.Context, q string, opts ...Option) (*Response, error) {
	s := collect(opts)
	return c.open(ctx, q, &s)
}

func (c *Client) open(ctx context.Context, q string, s *settings) (*Response, error) {
	body := make([]byte, 0, len(q)+len(q)/4+64)
	body = s.form(body)
	if len(body) > 0 {
		body = append(body, '&')
	}
	body = append(body, "q="...)
	body = append(body, escape(q)...)
	resp, err := c.c.Do(ctx, &carto.Request{
		Method:      http.MethodPost,
		Path:        sqlPath,
		Body:        body,
		ContentType: "application/x-www-form-urlencoded",
		Idempotent:  s.readOnly,
	})
	if err != nil {
		return nil, err
	}
	return c.response(resp, sqlPath), nil
}

// response wraps the answer to a request sent to path.
func (c *Client) response(resp *http.Response, path string) *Response {
	return &Response{ReadCloser: resp.Body, Header: resp.Header, Method: http.MethodPost, Path: c.c.URL(path).Path, NoAPIKey: !c.c.HasAPIKey()}
}

func escape(s string) string { return url.QueryEscape(s) }

// Result describes an answer Query wrote.
type Result struct {
	// Bytes is what was written to the writer.
	Bytes int64
	// ContentType is the answer's Content-Type; Filename the name CARTO gives it.
	ContentType string
	Filename    string
}

// Query runs q and writes its whole answer, in the format of WithFormat (json by default), to w as
// it arrives. A json or geojson answer is read as it is copied, so that an error CARTO appends to
// it after the first row, or a body cut short, is Query's error (the bytes before it are in w).
func (c *Client) Query(ctx context.Context, q string, w io.Writer, opts ...Option) (Result, error) {
	s := collect(opts)
	resp, err := c.open(ctx, q, &s)
	if err != nil {
		return Result{}, err
	}
	defer resp.Close()
	res := Result{ContentType: resp.Header.Get("Content-Type"), Filename: resp.Filename()}
	cw := &countWriter{w: w}
	switch s.format {
	case "", JSON, GeoJSON:
		err = copyChecked(cw, resp)
	default:
		_, err = io.Copy(cw, resp)
		if err != nil && !cw.failed {
			err = readFailure(resp, err)
		}
	}
	res.Bytes = cw.n
	if err != nil {
		return res, fmt.Errorf("sqlapi: query: %w", readCause(ctx, err))
	}
	return res, nil
}

// countWriter counts what goes through it and remembers whether the writer failed, which is the
// caller's problem, not the answer's.
type countWriter struct {
	w      io.Writer
	n      int64
	failed bool
}

func (cw *countWriter) Write(p []byte) (int, error) {
	n, err := cw.w.Write(p)
	cw.n += int64(n)
	if err != nil {
		cw.failed = true
	}
	return n, err
}

// errCut is an answer that ended before it was whole: the connection was cut.
var errCut = errors.New("the answer ended before it was complete (connection cut?)")

// lateError completes an error CARTO reported inside resp, a 200 answer, after it began.
func lateError(cerr *carto.Error, resp *Response) *carto.Error {
	cerr.Method, cerr.Path, cerr.Sent, cerr.StatusCode, cerr.NoAPIKey = resp.Method, resp.Path, true, http.StatusOK, resp.NoAPIKey
	return cerr
}

// readFailure describes a failure to read resp's body as a *carto.Error naming the request.
func readFailure(resp *Response, err error) error {
	if errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, errCut) {
		err = fmt.Errorf("%w: %w", errCut, err)
	}
	return &carto.Error{Method: resp.Method, Path: resp.Path, Sent: true, Err: err, NoAPIKey: resp.NoAPIKey}
}

// readCause adds why the context ended to an error met while reading an answer, so that
// errors.Is(err, context.Canceled) holds whatever the transport made of it.
func readCause(ctx context.Context, err error) error {
	if cerr := ctx.Err(); cerr != nil && !errors.Is(err, cerr) {
		return fmt.Errorf("%w (%w)", err, context.Cause(ctx))
	}
	return err
}
