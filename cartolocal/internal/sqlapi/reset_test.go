package sqlapi_test

import (
	"testing"
	"time"

	"github.com/gocarto/carto/cartolocal/cartotest"
)

// backendState is what one request sees of its session: the backend and what a previous request
// on it could have left behind.
type backendState struct {
	PID      int    `json:"pid"`
	Path     string `json:"path"`
	Timeout  string `json:"timeout"`
	Temps    int    `json:"temps"`
	Prepared int    `json:"prepared"`
	Locks    int    `json:"locks"`
	InTx     bool   `json:"intx"`
}

const stateSQL = `SELECT pg_backend_pid() AS pid, current_setting('search_path') AS path,
	current_setting('statement_timeout') AS timeout,
	(SELECT count(*) FROM pg_class WHERE relpersistence = 't' AND relname = 'scratch')::int AS temps,
	(SELECT count(*) FROM pg_prepared_statements)::int AS prepared,
	(SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid())::int AS locks,
	now() <> statement_timestamp() AS intx`

// sessionStates runs stateSQL n times, a little apart so that each released connection is back
// in the pool (reset) before the next request, and returns what each saw.
func sessionStates(t *testing.T, acct *cartotest.Account, n int) []backendState {
	t.Helper()
	var out []backendState
	for range n {
		time.Sleep(20 * time.Millisecond)
		r := sqlMaster(t, acct, stateSQL)
		if r.status != 200 {
			t.Fatalf("%d %s", r.status, r.body)
		}
		var got struct{ Rows []backendState }
		decodeJSON(t, r.body, &got)
		if len(got.Rows) != 1 {
			t.Fatalf("rows: %s", r.body)
		}
		out = append(out, got.Rows[0])
	}
	return out
}

// TestSQLSessionResetBehindQuery: the session reset the SQL API queues behind each query leaves
// nothing of a request's session state to the next request on the same connection (settings,
// search_path, statement_timeout, temporary tables, prepared statements, advisory locks), and a
// connection it cannot reset (a transaction left open) is never handed out again.
func TestSQLSessionResetBehindQuery(t *testing.T) {
	acct := cartotest.New(t)
	base := sessionStates(t, acct, 1)[0]
	r := sqlMaster(t, acct, `SET search_path = public; SET statement_timeout = 1234; CREATE TEMP TABLE scratch (v int);
		PREPARE p AS SELECT 1; SELECT pg_advisory_lock(42), pg_backend_pid() AS pid`)
	if r.status != 200 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	var dirty struct{ Rows []struct{ PID int } }
	decodeJSON(t, r.body, &dirty)
	reused := false
	for _, s := range sessionStates(t, acct, 10) {
		if s.Path != base.Path || s.Timeout != base.Timeout || s.Temps != 0 || s.Prepared != 0 || s.Locks != 0 || s.InTx {
			t.Errorf("state leaked to backend %d: %+v (fresh: %+v)", s.PID, s, base)
		}
		reused = reused || s.PID == dirty.Rows[0].PID
	}
	if !reused {
		t.Logf("the pool never handed backend %d out again", dirty.Rows[0].PID)
	}

	r = sqlMaster(t, acct, "BEGIN; SELECT pg_backend_pid() AS pid")
	if r.status != 200 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	var open struct{ Rows []struct{ PID int } }
	decodeJSON(t, r.body, &open)
	for _, s := range sessionStates(t, acct, 10) {
		if s.PID == open.Rows[0].PID || s.InTx {
			t.Errorf("a connection left inside a transaction was handed out again: %+v", s)
		}
	}
}
