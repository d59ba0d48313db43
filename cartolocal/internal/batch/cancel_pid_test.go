package batch_test

import (
	"context"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/gocarto/carto/cartolocal"
	"github.com/gocarto/carto/cartolocal/cartotest"
)

// TestCancelLeavesOtherBackendsAlone: a job's row names the backend that ran it, but by the time a
// DELETE reads it the runner may have finished, handed the connection back to the pool and started
// the user's next job (or SQL API query) on it. The DELETE must not cancel whatever that backend runs
// now: here the row names a backend busy with an unrelated query.
func TestCancelLeavesOtherBackendsAlone(t *testing.T) {
	acct := cartotest.New(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	victim, err := pgx.Connect(ctx, acct.PGURL)
	if err != nil {
		t.Fatal(err)
	}
	defer victim.Close(context.Background())
	pid := victim.PgConn().PID()

	admin, err := pgx.Connect(ctx, acct.PGURL)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(context.Background())
	// A fresh id, so that the test can run again in the same cluster (-count).
	var id string
	if err := admin.QueryRow(ctx, `INSERT INTO cartolocal.batch_jobs
		(job_id, username, query, status, created_at, updated_at, queued, backend_pid)
		VALUES (gen_random_uuid(), $1, '"select pg_sleep(60)"', 'running', now(), now(), false, $2)
		RETURNING job_id::text`, acct.User, pid).Scan(&id); err != nil {
		t.Fatal(err)
	}

	done := make(chan error, 1)
	go func() {
		_, err := victim.Exec(ctx, "select pg_sleep(2)")
		done <- err
	}()
	// Wait until the victim's query runs.
	for {
		var active bool
		if err := admin.QueryRow(ctx, `SELECT count(*) > 0 FROM pg_stat_activity WHERE pid = $1 AND state = 'active'`, pid).Scan(&active); err != nil {
			t.Fatal(err)
		}
		if active {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}

	r := httptest.NewRequest("DELETE", "/user/"+acct.User+"/api/v2/sql/job/"+id+"?api_key="+acct.MasterKey, nil)
	w := httptest.NewRecorder()
	acct.Server.ServeHTTP(w, r)
	if w.Code != 200 {
		t.Fatalf("DELETE: %d %s", w.Code, w.Body)
	}
	if err := <-done; err != nil {
		t.Errorf("the DELETE cancelled another backend's query: %v", err)
	}
}

// TestCancelFromAnotherServer: two cartolocals on one PostgreSQL share the job table; a DELETE sent
// to the one that does not run the job still stops its query.
func TestCancelFromAnotherServer(t *testing.T) {
	acct := cartotest.New(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	name := acct.User + "_two"
	s1, err := cartolocal.New(ctx, cartolocal.Config{PGURL: acct.PGURL, Users: []cartolocal.UserConfig{{Name: name}}, Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	defer s1.Close()
	u, _ := s1.User(name)
	// The second server knows the account (same keys) but, not running yet, cannot run its job.
	create := httptest.NewRequest("POST", "/user/"+name+"/api/v2/sql/job?api_key="+u.MasterKey, strings.NewReader(`{"query":"select pg_sleep(30)"}`))
	create.Header.Set("Content-Type", "application/json")
	w := httptest.NewRecorder()
	s1.ServeHTTP(w, create)
	if w.Code != 201 {
		t.Fatalf("create: %d %s", w.Code, w.Body)
	}
	id := regexp.MustCompile(`"job_id":"([^"]+)"`).FindStringSubmatch(w.Body.String())[1]
	admin, err := pgx.Connect(ctx, acct.PGURL)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(context.Background())
	running := func() bool {
		var n int
		if err := admin.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND position($1 in query) > 0`, "/* "+id+" */").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n > 0
	}
	for !running() {
		time.Sleep(20 * time.Millisecond)
	}
	s2, err := cartolocal.New(ctx, cartolocal.Config{PGURL: acct.PGURL, Users: []cartolocal.UserConfig{{Name: name, MasterKey: u.MasterKey, PublicKey: u.PublicKey}}, Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	w = httptest.NewRecorder()
	s2.ServeHTTP(w, httptest.NewRequest("DELETE", "/user/"+name+"/api/v2/sql/job/"+id+"?api_key="+u.MasterKey, nil))
	if w.Code != 200 || !strings.Contains(w.Body.String(), `"status":"cancelled"`) {
		t.Fatalf("DELETE: %d %s", w.Code, w.Body)
	}
	deadline := time.Now().Add(5 * time.Second)
	for running() {
		if time.Now().After(deadline) {
			t.Fatal("the job's query still runs 5s after the DELETE")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
