package batch_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/gocarto/carto/cartolocal"
	"github.com/gocarto/carto/cartolocal/cartotest"
)

// TestRunnerBacksOffWhenItCannotConnect: when a user's jobs cannot get a connection (its role may
// not log in, PostgreSQL is out of connections), the runner tries again later instead of spinning
// on the failure.
func TestRunnerBacksOffWhenItCannotConnect(t *testing.T) {
	acct := cartotest.New(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var failures atomic.Int32
	name := acct.User + "_nologin"
	s, err := cartolocal.New(ctx, cartolocal.Config{PGURL: acct.PGURL, Users: []cartolocal.UserConfig{{Name: name}},
		Logf: func(format string, args ...any) {
			if msg := fmt.Sprintf(format, args...); strings.Contains(msg, "connecting as the master role") {
				failures.Add(1)
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	u, _ := s.User(name)
	admin, err := pgx.Connect(ctx, acct.PGURL)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(context.Background())
	if _, err := admin.Exec(ctx, fmt.Sprintf(`ALTER ROLE %s NOLOGIN`, pgx.Identifier{u.Role}.Sanitize())); err != nil {
		t.Fatal(err)
	}
	u.ResetConns()

	r := httptest.NewRequest("POST", "/user/"+name+"/api/v2/sql/job?api_key="+u.MasterKey, strings.NewReader(`{"query":"select 1"}`))
	r.Header.Set("Content-Type", "application/json")
	w := httptest.NewRecorder()
	s.ServeHTTP(w, r)
	if w.Code != 201 {
		t.Fatalf("create: %d %s", w.Code, w.Body)
	}
	time.Sleep(time.Second)
	if n := failures.Load(); n > 3 {
		t.Errorf("the runner tried to connect %d times in a second", n)
	}

	// Once the role may log in again, the job runs at the next retry.
	if _, err := admin.Exec(ctx, fmt.Sprintf(`ALTER ROLE %s LOGIN`, pgx.Identifier{u.Role}.Sanitize())); err != nil {
		t.Fatal(err)
	}
	id := regexp.MustCompile(`"job_id":"([^"]+)"`).FindStringSubmatch(w.Body.String())[1]
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		w := httptest.NewRecorder()
		s.ServeHTTP(w, httptest.NewRequest("GET", "/user/"+name+"/api/v2/sql/job/"+id+"?api_key="+u.MasterKey, nil))
		if strings.Contains(w.Body.String(), `"status":"done"`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("job not done after the role logs in again: %s", w.Body)
		}
	}
}
