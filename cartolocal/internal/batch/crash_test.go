package batch_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/gocarto/carto/cartolocal/cartotest"
	"github.com/gocarto/carto/cartolocal/internal/batch"
	"github.com/gocarto/carto/cartolocal/internal/users"
)

// batchServer is a Batch API server composed as cartolocal.New composes it, on its own pools, so
// that a test can stop it as a dying process would leave things.
type batchServer struct {
	admin *pgxpool.Pool
	dir   *users.Directory
	srv   *batch.Server
	mux   *http.ServeMux
	user  *users.User
}

func startBatch(t *testing.T, ctx context.Context, pgURL, user string) *batchServer {
	t.Helper()
	admin, err := pgxpool.New(ctx, pgURL)
	if err != nil {
		t.Fatal(err)
	}
	var publicPassword string
	if err := pgx.BeginFunc(ctx, admin, func(tx pgx.Tx) (err error) {
		publicPassword, err = users.Install(ctx, tx)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	b := &batchServer{admin: admin, dir: users.New(users.Options{Admin: admin, PublicPassword: publicPassword})}
	if b.user, err = b.dir.Add(ctx, users.Config{Name: user}); err != nil {
		t.Fatal(err)
	}
	if b.srv, err = batch.New(ctx, batch.Deps{Admin: admin, Users: b.dir, Rescan: 50 * time.Millisecond, Logf: t.Logf}); err != nil {
		t.Fatal(err)
	}
	b.mux = http.NewServeMux()
	b.srv.Register(b.mux)
	return b
}

func (b *batchServer) close() {
	b.srv.Close()
	b.dir.Close()
	b.admin.Close()
}

func (b *batchServer) do(t *testing.T, method, path, body string) string {
	t.Helper()
	r := httptest.NewRequest(method, "/user/"+b.user.Name+"/api/v2/sql/job"+path+"?api_key="+b.user.MasterKey, strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	w := httptest.NewRecorder()
	b.mux.ServeHTTP(w, r)
	if w.Code >= 300 {
		t.Fatalf("%s %s: %d %s", method, path, w.Code, w.Body)
	}
	return w.Body.String()
}

// TestCommittedQueryNeverRunsAgain (issue 9 item 2): a job's query commits, then its server dies
// before recording it (here: the bookkeeping's connection is terminated while it waits for the
// job's row, which the test holds). The next server must record the query done, not run it again.
// Before the completion mark, it queued the job again and the INSERT ran twice.
func TestCommittedQueryNeverRunsAgain(t *testing.T) {
	acct := cartotest.New(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	name := acct.User + "_crash"
	a := startBatch(t, ctx, acct.PGURL, name)
	aClosed := false
	defer func() {
		if !aClosed {
			a.close()
		}
	}()
	test, err := pgx.Connect(ctx, acct.PGURL)
	if err != nil {
		t.Fatal(err)
	}
	defer test.Close(context.Background())
	table := pgx.Identifier{name, "runs"}.Sanitize()
	if _, err := test.Exec(ctx, fmt.Sprintf("CREATE TABLE %s (n int); ALTER TABLE %[1]s OWNER TO %s", table, pgx.Identifier{a.user.Role}.Sanitize())); err != nil {
		t.Fatal(err)
	}

	// Two queries: the first is the one interrupted; the second must then run once too.
	created := a.do(t, "POST", "", `{"query":["INSERT INTO runs VALUES (1); SELECT pg_sleep(0.3)", "INSERT INTO runs VALUES (2)"]}`)
	id := regexp.MustCompile(`"job_id":"([^"]+)"`).FindStringSubmatch(created)[1]
	waitFor(t, ctx, test, "the job running", `SELECT backend_pid IS NOT NULL FROM cartolocal.batch_jobs WHERE job_id = $1`, id)

	// Hold the job's row while the query runs, so that the bookkeeping after it waits.
	lock, err := test.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := lock.Exec(ctx, `SELECT 1 FROM cartolocal.batch_jobs WHERE job_id = $1 FOR UPDATE`, id); err != nil {
		t.Fatal(err)
	}
	other, err := pgx.Connect(ctx, acct.PGURL)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close(context.Background())
	waitFor(t, ctx, other, "the bookkeeping waiting for the job's row", `SELECT EXISTS (SELECT 1 FROM pg_stat_activity
		WHERE wait_event_type = 'Lock' AND query LIKE '%cartolocal.batch_jobs%FOR UPDATE%' AND pid <> $1)`, test.PgConn().PID())
	var n int
	if err := other.QueryRow(ctx, "SELECT count(*) FROM "+table).Scan(&n); err != nil || n != 1 {
		t.Fatalf("rows after the first query: %d, %v", n, err)
	}
	// The server dies: its bookkeeping connection goes, then everything else.
	if _, err := other.Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
		WHERE wait_event_type = 'Lock' AND query LIKE '%cartolocal.batch_jobs%FOR UPDATE%' AND pid <> $1`, test.PgConn().PID()); err != nil {
		t.Fatal(err)
	}
	if err := lock.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	a.close()
	aClosed = true

	b := startBatch(t, ctx, acct.PGURL, name)
	defer b.close()
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		got := b.do(t, "GET", "/"+id, "")
		if strings.Contains(got, `"status":"done","query":`) { // the job's own status, not a query's
			break
		}
		if strings.Contains(got, `"status":"failed"`) || time.Now().After(deadline) {
			t.Fatalf("job after the restart: %s", got)
		}
	}
	rows, err := other.Query(ctx, "SELECT n FROM "+table+" ORDER BY n")
	if err != nil {
		t.Fatal(err)
	}
	got, err := pgx.CollectRows(rows, pgx.RowTo[int])
	if err != nil || fmt.Sprint(got) != "[1 2]" {
		t.Fatalf("each query must have run once: rows %v, %v", got, err)
	}
}

// waitFor polls a boolean query until it is true.
func waitFor(t *testing.T, ctx context.Context, conn *pgx.Conn, what, query string, args ...any) {
	t.Helper()
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		var ok bool
		if err := conn.QueryRow(ctx, query, args...).Scan(&ok); err != nil {
			t.Fatalf("waiting for %s: %v", what, err)
		}
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// TestUnmarkableJobsStillRun: SQL that cannot run inside a transaction block gets no completion
// mark (the mark would make it fail), and runs as before.
func TestUnmarkableJobsStillRun(t *testing.T) {
	acct := cartotest.New(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	b := startBatch(t, ctx, acct.PGURL, acct.User+"_vacuum")
	defer b.close()
	conn, err := b.user.Acquire(ctx, true)
	if err != nil {
		t.Fatal(err)
	}
	_, err = conn.Exec(ctx, "CREATE TABLE runs (n int)")
	conn.Release()
	if err != nil {
		t.Fatal(err)
	}
	created := b.do(t, "POST", "", `{"query":["VACUUM runs", "CREATE INDEX CONCURRENTLY runs_n ON runs (n)", "INSERT INTO runs VALUES (1)"]}`)
	id := regexp.MustCompile(`"job_id":"([^"]+)"`).FindStringSubmatch(created)[1]
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		got := b.do(t, "GET", "/"+id, "")
		if strings.Contains(got, `"status":"done","query":`) {
			break
		}
		if strings.Contains(got, `"status":"failed"`) || time.Now().After(deadline) {
			t.Fatalf("job: %s", got)
		}
	}
}

// TestMarkNeedsTheRunToken: the mark function, which every role may call, writes nothing without
// the token of the query running now, so no account can settle another's job.
func TestMarkNeedsTheRunToken(t *testing.T) {
	acct := cartotest.New(t)
	ctx := context.Background()
	conn, err := acct.Server.AdminPool().Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	var id string
	if err := conn.QueryRow(ctx, `INSERT INTO cartolocal.batch_jobs (job_id, username, query, status, created_at, updated_at, queued, run_token)
		VALUES (gen_random_uuid(), $1, '"select 1"', 'running', now(), now(), false, 'secret') RETURNING job_id::text`, acct.User).Scan(&id); err != nil {
		t.Fatal(err)
	}
	defer conn.Exec(ctx, `DELETE FROM cartolocal.batch_jobs WHERE job_id = $1; DELETE FROM cartolocal.batch_marks WHERE job_id = $1`, id)
	for _, master := range []bool{false, true} {
		u, _ := acct.Server.User(acct.User)
		c, err := u.Acquire(ctx, master)
		if err != nil {
			t.Fatal(err)
		}
		var ok bool
		err = c.QueryRow(ctx, `SELECT cartodb._cdb_cartolocal_batch_done($1, 'guess')`, id).Scan(&ok)
		c.Release()
		if err != nil || ok {
			t.Errorf("master %v: a wrong token marked the job: %v %v", master, ok, err)
		}
	}
	var marks int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM cartolocal.batch_marks WHERE job_id = $1`, id).Scan(&marks); err != nil || marks != 0 {
		t.Errorf("marks written: %d, %v", marks, err)
	}
}
