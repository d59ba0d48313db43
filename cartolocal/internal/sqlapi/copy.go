package sqlapi

// COPY endpoints, as CartoDB-SQL-API 6.0.0's copy-controller and stream-copy services answer them
// (protocol/sqlapi.md §8, samples 80-89). Where cartolocal differs, on purpose:
//   - there is no database quota, so "DB Quota exceeded" is never answered, and no input throttle
//     ("Connection closed by server: input data too slow" is off in CARTO's default config too);
//   - errors carry Go's gzip messages after CARTO's "Error while gunzipping: " prefix.

import (
	"bufio"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gocarto/carto/cartolocal/internal/httpapi"
	"github.com/gocarto/carto/cartolocal/internal/jsjson"
	"github.com/jackc/pgx/v5/pgxpool"
)

// copyTimeout is CARTO's copy_timeout: the COPY's session gets SET statement_timeout to it.
const copyTimeout = "'5h'"

// maxCopyFromBytes is CARTO's copy_from_max_post_size, counted on the wire (compressed when gzip).
const maxCopyFromBytes = 2 << 30

// copyRequest is what both COPY endpoints check before running anything: CORS, the user, the key
// and q, in CARTO's middleware order. It answers the request itself and returns nil when the
// request ends there.
func (srv *Server) copyRequest(w http.ResponseWriter, r *http.Request, bodyParams bool) (*copyCall, httpapi.Params) {
	h := w.Header()
	httpapi.SetCORS(h)
	if r.Method == http.MethodOptions {
		h.Set("Content-Length", "0")
		w.WriteHeader(http.StatusOK)
		return nil, nil
	}
	u, aerr := srv.users.Resolve(r)
	if name := r.PathValue("user"); name != "" {
		h.Set("Carto-User", name)
	} else if u != nil {
		h.Set("Carto-User", u.Name)
	}
	if aerr != nil {
		httpapi.WriteError(w, aerr)
		return nil, nil
	}
	var p httpapi.Params
	if bodyParams {
		// copyto has CARTO's body parser; copyfrom's body is the data.
		if p, aerr = httpapi.ReadParams(r); aerr != nil {
			httpapi.WriteError(w, aerr)
			return nil, nil
		}
	} else {
		p = httpapi.Params{}
		httpapi.MergeValues(p, httpapi.ParseQS(r.URL.RawQuery))
	}
	who, aerr := srv.users.Authenticate(r, p)
	if aerr != nil {
		httpapi.WriteError(w, aerr)
		return nil, nil
	}
	if !who.Allows("sql") {
		// A regular API key without the sql grant, refused as the SQL endpoint refuses it.
		httpapi.WriteError(w, &httpapi.Error{Status: http.StatusForbidden, Message: "forbidden"})
		return nil, nil
	}
	h.Set("Vary", "Authorization")
	q, ok := p.Str("q")
	if !ok {
		httpapi.WriteError(w, httpapi.BadRequest("SQL is missing"))
		return nil, nil
	}
	if !strings.HasPrefix(strings.ToUpper(q), "COPY ") {
		httpapi.WriteError(w, httpapi.BadRequest("SQL must start with COPY"))
		return nil, nil
	}
	// The key's own role: the owner, a regular key's role (its grants), or the public role.
	return &copyCall{srv: srv, w: w, r: r, sql: q, acquire: who.Acquire}, p
}

// copyCall is one COPY request that passed the checks.
type copyCall struct {
	srv     *Server
	w       http.ResponseWriter
	r       *http.Request
	sql     string
	acquire func(context.Context) (*pgxpool.Conn, error)
}

// conn takes a connection of the key's role and gives its session CARTO's COPY timeout. On failure
// it has answered the request.
func (c *copyCall) conn(ctx context.Context) *pgxpool.Conn {
	// A bounded wait for one of the role's few connections, as for a query (see poolBusyError).
	acquireCtx, acquireStop := context.WithTimeout(ctx, c.srv.poolWait)
	conn, err := c.acquire(acquireCtx)
	acquireStop()
	if err != nil {
		switch {
		case ctx.Err() != nil:
		case acquireCtx.Err() != nil:
			httpapi.WriteError(c.w, poolBusyError())
		default:
			c.srv.logf("cartolocal: COPY: acquiring a connection: %v", err)
			httpapi.WriteError(c.w, &httpapi.Error{Status: http.StatusInternalServerError, Message: "cannot connect to the database"})
		}
		return nil
	}
	// The pool's reset (DISCARD ALL) puts the role's own timeout back on release.
	if _, err := conn.Conn().PgConn().Exec(ctx, "SET statement_timeout="+copyTimeout).ReadAll(); err != nil {
		conn.Release()
		if ctx.Err() == nil {
			httpapi.WriteError(c.w, copyError(err))
		}
		return nil
	}
	return conn
}

// copyFailure is an error of the COPY endpoints' own (not PostgreSQL's): a 400 with its message.
type copyFailure struct{ msg string }

func (e *copyFailure) Error() string { return e.msg }

// copyError maps an error as CARTO's error handler does: PostgreSQL's as for queries (400, 403 for
// permission denied, 429 for timeouts), the endpoint's own as 400.
func copyError(err error) *httpapi.Error {
	var cf *copyFailure
	if errors.As(err, &cf) {
		return httpapi.BadRequest(cf.msg)
	}
	return sqlError(err)
}

// handleCopyFrom answers POST /api/:version/sql/copyfrom: the body (gunzipped when
// Content-Encoding is gzip) streams into COPY ... FROM STDIN through pgx's COPY support, 64 KiB
// at a time. A body that breaks off (the client went away) fails the COPY, which rolls it back.
func (srv *Server) handleCopyFrom(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost && r.Method != http.MethodOptions {
		httpapi.WriteCannot(w, r)
		return
	}
	call, _ := srv.copyRequest(w, r, false)
	if call == nil {
		return
	}
	ctx := r.Context()
	conn := call.conn(ctx)
	if conn == nil {
		return
	}
	defer conn.Release()

	start := time.Now()
	src := &copyInput{r: r.Body}
	var in io.Reader = src
	if r.Header.Get("Content-Encoding") == "gzip" {
		in = &gunzip{src: src}
	}
	tag, err := conn.Conn().PgConn().CopyFrom(ctx, in, call.sql)
	if src.broken != nil || ctx.Err() != nil {
		// The client is gone: the COPY failed on the server (CopyFail), and nobody reads an answer.
		return
	}
	if src.failure != nil {
		// Ours, not PostgreSQL's "COPY from stdin failed: ..." that the CopyFail it caused brings.
		err = src.failure
	}
	if err != nil {
		httpapi.WriteError(w, copyError(err))
		return
	}
	rows := tag.RowsAffected()
	if rows == 0 {
		httpapi.WriteError(w, httpapi.BadRequest("No rows copied"))
		return
	}
	body := append([]byte(`{"time":`), jsjson.AppendFloat(nil, float64(time.Since(start).Milliseconds())/1000)...)
	body = append(body, `,"total_rows":`...)
	body = jsjson.AppendFloat(body, float64(rows))
	httpapi.WriteJSON(w, http.StatusOK, append(body, '}'))
}

// copyInput is the request body as COPY reads it: counted against CARTO's size limit, and with a
// read failure (a connection cut) kept apart from the end of the data.
type copyInput struct {
	r       io.Reader
	n       int64
	broken  error
	failure *copyFailure // why the endpoint itself failed the COPY
}

func (c *copyInput) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	if c.n > maxCopyFromBytes {
		c.failure = &copyFailure{msg: "COPY FROM maximum POST size of 2 GB exceeded"}
		return n, c.failure
	}
	if err != nil && err != io.EOF {
		c.broken = err
	}
	return n, err
}

// gunzip decompresses the body, naming its failures as CARTO does. The gzip reader is made on the
// first Read, so that a bad header is a COPY failure like any other.
type gunzip struct {
	src *copyInput
	zr  *gzip.Reader
}

func (g *gunzip) Read(p []byte) (int, error) {
	if g.zr == nil {
		zr, err := gzip.NewReader(g.src)
		if err != nil {
			return 0, g.fail(err)
		}
		g.zr = zr
	}
	n, err := g.zr.Read(p)
	if err != nil && err != io.EOF {
		return n, g.fail(err)
	}
	return n, err
}

func (g *gunzip) fail(err error) error {
	var cf *copyFailure
	if g.src.broken != nil || errors.As(err, &cf) {
		return err
	}
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	g.src.failure = &copyFailure{msg: "Error while gunzipping: " + err.Error()}
	return g.src.failure
}

// handleCopyTo answers GET and POST /api/:version/sql/copyto: COPY ... TO STDOUT's output streams
// to the client through pgx's COPY support, with the status line held back until the first data,
// so that an error before it is a normal error answer. An error after it is appended to the data
// as CARTO's JSON error body, and the answer ends normally (as CARTO's copy-controller does). A
// client that goes away ends the COPY: the write fails, pgx closes the connection, and the server
// ends the backend.
func (srv *Server) handleCopyTo(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodPost && r.Method != http.MethodOptions {
		httpapi.WriteCannot(w, r)
		return
	}
	call, p := srv.copyRequest(w, r, true)
	if call == nil {
		return
	}
	if r.Body != nil {
		// Read to its end, so that net/http watches the connection and cancels the request's
		// context when the client goes away.
		_, _ = io.Copy(io.Discard, io.LimitReader(r.Body, httpapi.MaxBodyBytes))
	}
	filename, ok := p.Str("filename")
	if !ok || filename == "" {
		filename = "carto-sql-copyto.dmp"
	}
	h := w.Header()
	h.Set("Content-Disposition", "attachment; filename="+encodeURIComponent(filename))
	h.Set("Content-Type", "application/octet-stream")

	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	conn := call.conn(ctx)
	if conn == nil {
		return
	}
	defer conn.Release()

	out := &copyOutput{w: w, rc: http.NewResponseController(w), cancel: cancel}
	_, err := conn.Conn().PgConn().CopyTo(ctx, out, call.sql)
	if out.gone || ctx.Err() != nil {
		return
	}
	if err != nil && !out.started {
		httpapi.WriteError(w, copyError(err))
		return
	}
	if err != nil {
		out.buf().Write(copyError(err).Body())
	}
	out.flush()
}

// copyOutput is the response as COPY TO writes it, one row per Write: buffered, flushed when the
// buffer fills or rows have waited flushEvery, with the status line sent on the first row.
type copyOutput struct {
	w         http.ResponseWriter
	rc        *http.ResponseController
	cancel    context.CancelFunc
	bw        *bufio.Writer
	started   bool
	gone      bool
	lastFlush time.Time
	writes    int
}

func (o *copyOutput) buf() *bufio.Writer {
	if !o.started {
		o.started = true
		o.w.WriteHeader(http.StatusOK)
		o.bw = bufio.NewWriterSize(&goneWriter{o}, flushBytes)
		o.lastFlush = time.Now()
	}
	return o.bw
}

func (o *copyOutput) Write(p []byte) (int, error) {
	if o.gone {
		return 0, errClientGone
	}
	n, err := o.buf().Write(p)
	if err != nil {
		return n, err
	}
	o.writes++
	if o.writes%64 == 0 && time.Since(o.lastFlush) >= flushEvery {
		o.flush()
	}
	if o.gone {
		return n, errClientGone
	}
	return n, nil
}

// flush sends what is buffered to the client now.
func (o *copyOutput) flush() {
	if !o.started || o.gone {
		return
	}
	if o.bw.Flush() == nil {
		if err := o.rc.Flush(); err != nil && !errors.Is(err, http.ErrNotSupported) {
			o.fail()
		}
	}
	o.lastFlush = time.Now()
}

func (o *copyOutput) fail() {
	o.gone = true
	o.cancel()
}

// goneWriter writes to the response and notes a client that went away.
type goneWriter struct{ o *copyOutput }

func (g *goneWriter) Write(p []byte) (int, error) {
	n, err := g.o.w.Write(p)
	if err != nil {
		g.o.fail()
	}
	return n, err
}

// encodeURIComponent escapes s as JavaScript's encodeURIComponent: everything but letters, digits
// and -_.!~*'() is percent-encoded as UTF-8.
func encodeURIComponent(s string) string {
	e := url.QueryEscape(s)
	e = strings.ReplaceAll(e, "+", "%20")
	for _, keep := range []string{"!", "'", "(", ")", "*"} {
		e = strings.ReplaceAll(e, url.QueryEscape(keep), keep)
	}
	return e
}
