package batch_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/gocarto/carto/cartolocal/cartotest"
	"github.com/gocarto/carto/cartolocal/internal/batch"
	"github.com/gocarto/carto/cartolocal/internal/users"
)

// TestRunnerBacksOffWhenItCannotConnect: when a user's jobs cannot get a connection (its role may
// not log in, PostgreSQL is out of connections), the runner tries again at its next rescan instead
// of spinning on the failure. The Batch server is composed here as cartolocal.New composes it, with
// a short rescan interval.
func TestRunnerBacksOffWhenItCannotConnect(t *testing.T) {
	acct := cartotest.New(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	admin, err := pgxpool.New(ctx, acct.PGURL)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	var publicPassword string
	if err := pgx.BeginFunc(ctx, admin, func(tx pgx.Tx) (err error) {
		publicPassword, err = users.Install(ctx, tx)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	dir := users.New(users.Options{Admin: admin, PublicPassword: publicPassword})
	defer dir.Close()
	u, err := dir.Add(ctx, users.Config{Name: acct.User + "_nologin"})
	if err != nil {
		t.Fatal(err)
	}

	const rescan = 100 * time.Millisecond
	var failures atomic.Int32
	srv, err := batch.New(ctx, batch.Deps{Admin: admin, Users: dir, Rescan: rescan,
		Logf: func(format string, args ...any) {
			if msg := fmt.Sprintf(format, args...); strings.Contains(msg, "connecting as the master role") {
				failures.Add(1)
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	mux := http.NewServeMux()
	srv.Register(mux)

	if _, err := admin.Exec(ctx, fmt.Sprintf(`ALTER ROLE %s NOLOGIN`, pgx.Identifier{u.Role}.Sanitize())); err != nil {
		t.Fatal(err)
	}
	u.ResetConns()
	r := httptest.NewRequest("POST", "/user/"+u.Name+"/api/v2/sql/job?api_key="+u.MasterKey, strings.NewReader(`{"query":"select 1"}`))
	r.Header.Set("Content-Type", "application/json")
	w := httptest.NewRecorder()
	mux.ServeHTTP(w, r)
	if w.Code != 201 {
		t.Fatalf("create: %d %s", w.Code, w.Body)
	}
	const watch = 10 * rescan
	time.Sleep(watch)
	// One attempt per rescan, and a few for the wake-ups of the create; a spinning runner makes
	// thousands.
	if n := failures.Load(); n == 0 || n > int32(watch/rescan)+3 {
		t.Errorf("the runner tried to connect %d times in %v (rescan %v)", n, watch, rescan)
	}

	// Once the role may log in again, the job runs at the next retry.
	if _, err := admin.Exec(ctx, fmt.Sprintf(`ALTER ROLE %s LOGIN`, pgx.Identifier{u.Role}.Sanitize())); err != nil {
		t.Fatal(err)
	}
	id := regexp.MustCompile(`"job_id":"([^"]+)"`).FindStringSubmatch(w.Body.String())[1]
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, httptest.NewRequest("GET", "/user/"+u.Name+"/api/v2/sql/job/"+id+"?api_key="+u.MasterKey, nil))
		if strings.Contains(w.Body.String(), `"status":"done"`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("job not done after the role logs in again: %s", w.Body)
		}
	}
}
