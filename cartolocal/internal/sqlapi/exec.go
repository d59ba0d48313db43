package sqlapi

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/gocarto/carto/cartolocal/internal/httpapi"
	"github.com/gocarto/carto/cartolocal/internal/jsjson"
	"github.com/gocarto/carto/cartolocal/internal/users"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

const (
	// flushBytes is the size at which the row buffer goes to the client as one chunk.
	flushBytes = 32 << 10
	// flushEvery bounds how long rows wait in the buffer when they trickle in.
	flushEvery = 100 * time.Millisecond
)

// rowFormat writes one answer format while rows stream.
type rowFormat interface {
	// describe is called at each row description (each statement that returns rows).
	describe(fds []pgconn.FieldDescription)
	// open appends what precedes the first row; it runs once, when the status line goes out.
	open(b []byte) []byte
	// row appends one row.
	row(b []byte, vals [][]byte) []byte
	// close appends what follows the rows. late is an error that happened after the first row went
	// out; a format that cannot carry one reports ok false and the response is aborted.
	close(b []byte, run *sqlRun, late *httpapi.Error) (out []byte, ok bool)
}

// sqlRun is one query request being answered: the response, the row buffer, and what CARTO's
// trailer needs (time, row counts, notices).
type sqlRun struct {
	w      http.ResponseWriter
	rc     *http.ResponseController
	ctx    context.Context
	cancel context.CancelFunc // cancels ctx: the query stops
	// beforeBegin runs just before the status line goes out, with failed false (the caching
	// headers of a decision that waited).
	beforeBegin func(failed bool)

	buf        []byte
	started    bool // the status line is written
	gone       bool // a write failed: the client is gone
	lastFlush  time.Time
	sinceCheck int

	start    time.Time
	rows     int64 // rows streamed, all statements
	rowCount int64 // the last command tag's count (node-postgres' result.rowCount)
	notices  []*pgconn.Notice
}

// exec runs sql with the simple query protocol (several statements, one implicit transaction) and
// streams the rows of every statement through f. It returns an error only when nothing was sent
// yet; an error after the first row lands in the trailer.
func (run *sqlRun) exec(conn *pgxpool.Conn, sql string, f rowFormat) error {
	pgc := conn.Conn().PgConn()
	defer users.CollectNotices(pgc, func(n *pgconn.Notice) { run.notices = append(run.notices, n) })()

	run.start = time.Now()
	run.lastFlush = run.start
	mrr := pgc.Exec(run.ctx, sql)
	// The session reset goes out behind the query, so that the release has no round trip of its
	// own to make (one write and one wake-up of the backend less per request).
	users.QueueReset(pgc, sql)
	var err error
	for mrr.NextResult() {
		rr := mrr.ResultReader()
		if fds := rr.FieldDescriptions(); fds != nil {
			f.describe(fds)
		}
		for !run.gone && rr.NextRow() {
			first := !run.started
			if first {
				run.begin(f)
			}
			run.buf = f.row(run.buf, rr.Values())
			run.rows++
			if first {
				// The status line and the first row go out at once. Holding them back until the
				// answer's end (one write for a small answer) saved a write but no time: SELECT 1
				// through the driver measured the same, within this machine's noise, and the
				// client can read the head while the server finishes.
				run.flush(true)
			} else {
				run.maybeFlush()
			}
		}
		tag, rerr := rr.Close()
		if rerr != nil {
			err = rerr
			break
		}
		run.rowCount = tag.RowsAffected()
	}
	if cerr := mrr.Close(); err == nil {
		err = cerr
	}
	if run.gone || run.ctx.Err() != nil {
		return errClientGone
	}
	if err != nil && !run.started {
		return err
	}
	return run.finish(f, err)
}

// errClientGone means the client went away: nobody is left to answer.
var errClientGone = errors.New("cartolocal: client gone")

// begin sends the status line and headers, then the opening of the body.
func (run *sqlRun) begin(f rowFormat) {
	if run.beforeBegin != nil {
		run.beforeBegin(false)
	}
	run.started = true
	// Chunked, as CARTO's answers are (sample 23), also when no row pushed the head out before the
	// end, where net/http would otherwise send a Content-Length.
	run.w.Header().Set("Transfer-Encoding", "chunked")
	run.w.WriteHeader(http.StatusOK)
	run.buf = f.open(run.buf)
}

// finish writes the trailer. A late error goes into it (status 200, as on CARTO), or aborts the
// response for a format that has no place for it.
func (run *sqlRun) finish(f rowFormat, err error) error {
	if !run.started {
		run.begin(f)
	}
	var late *httpapi.Error
	if err != nil {
		late = sqlError(err)
	}
	var ok bool
	run.buf, ok = f.close(run.buf, run, late)
	if !ok {
		run.flush(true)
		// The client must not take a cut body for a complete one.
		panic(http.ErrAbortHandler)
	}
	// No push: the handler returns next, and net/http sends this with the body's last chunk in one
	// write (a small answer then costs one write after the first row, not two).
	run.flush(false)
	if run.gone {
		return errClientGone
	}
	return nil
}

// maybeFlush writes the buffer when it is full, or pushes it when its rows have waited flushEvery.
func (run *sqlRun) maybeFlush() {
	if len(run.buf) >= flushBytes {
		run.flush(false)
		return
	}
	run.sinceCheck++
	if run.sinceCheck >= 16 {
		run.sinceCheck = 0
		if time.Since(run.lastFlush) >= flushEvery {
			run.flush(true)
		}
	}
}

// flush writes the buffer; push also flushes the server's own buffer to the socket. A failed write
// means the client is gone: the query is cancelled.
func (run *sqlRun) flush(push bool) {
	if len(run.buf) > 0 && !run.gone {
		_, err := run.w.Write(run.buf)
		if err == nil && push {
			if err = run.rc.Flush(); errors.Is(err, http.ErrNotSupported) {
				err = nil // a wrapping ResponseWriter that cannot flush: the data still goes out
			}
		}
		if err != nil {
			run.gone = true
			run.cancel()
		}
	}
	run.buf = run.buf[:0]
	run.lastFlush = time.Now()
}

// totalRows is CARTO's result.rowCount || rows streamed.
func (run *sqlRun) totalRows() int64 {
	if run.rowCount > 0 {
		return run.rowCount
	}
	return run.rows
}

// appendTime appends the "time" value: elapsed milliseconds / 1000, as JavaScript prints it.
func (run *sqlRun) appendTime(b []byte) []byte {
	ms := time.Since(run.start).Milliseconds()
	return jsjson.AppendFloat(b, float64(ms)/1000)
}

// appendNotices appends ,"notices":[..],"warnings":[..],"infos":[..]: one array per severity,
// named after it in lower case plus "s", in order of first appearance.
func (run *sqlRun) appendNotices(b []byte) []byte {
	var seen []string
	for _, n := range run.notices {
		sev := strings.ToLower(n.Severity) + "s"
		if !containsString(seen, sev) {
			seen = append(seen, sev)
		}
	}
	for _, sev := range seen {
		b = append(b, ',')
		b = jsjson.AppendString(b, sev)
		b = append(b, ":["...)
		first := true
		for _, n := range run.notices {
			if strings.ToLower(n.Severity)+"s" != sev {
				continue
			}
			if !first {
				b = append(b, ',')
			}
			first = false
			b = jsjson.AppendString(b, n.Message)
		}
		b = append(b, ']')
	}
	return b
}

func containsString(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}

// timeoutMessage is CARTO's answer to a statement timeout.
const timeoutMessage = "You are over platform's limits: SQL query timeout error. Refactor your query before running again or contact CARTO support for more details."

// sqlError maps a query error as CARTO's error-handler-factory does: timeouts (and user-requested
// cancels, and plpython's interrupted functions) are 429 with context "limit" and detail
// "datasource"; a message with "permission denied" is 403; any other database error 400 with its
// detail and hint. node-postgres calls PostgreSQL's CONTEXT field "where", so it is never sent.
func sqlError(err error) *httpapi.Error {
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		return &httpapi.Error{Status: http.StatusInternalServerError, Message: "Unexpected error: " + err.Error()}
	}
	msg := pgErr.Message
	if strings.Contains(msg, "statement timeout") ||
		strings.Contains(msg, "RuntimeError: Execution of function interrupted by signal") ||
		strings.Contains(msg, "canceling statement due to user request") {
		return &httpapi.Error{Status: http.StatusTooManyRequests, Message: timeoutMessage, Context: "limit", Detail: "datasource"}
	}
	status := http.StatusBadRequest
	if strings.Contains(msg, "permission denied") {
		status = http.StatusForbidden
	}
	return &httpapi.Error{Status: status, Message: msg, Detail: pgErr.Detail, Hint: pgErr.Hint}
}
