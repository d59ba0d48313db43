package imports_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gocarto/carto/cartolocal/internal/imports"
)

// CARTO's rule for stuck imports (§1.4, §1.3): one past pending, created more than 5 minutes
// ago, that no worker runs, fails with 6671 when fetched; listing fails and leaves out the
// unfinished ones older than an hour that no worker runs. Here no worker runs an import when no
// runner holds it and no server of its runner group is alive: the group's server is closed
// mid-import, and another group's server answers.
func TestStuckImports(t *testing.T) {
	release := make(chan struct{})
	src := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/csv")
		w.Header().Set("Content-Length", "100000")
		w.WriteHeader(200)
		w.Write([]byte(capitalsCSV[:20]))
		w.(http.Flusher).Flush()
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer src.Close()
	defer close(release)
	e, acct := newEnv(t, func(c *imports.Config) { c.Runners = 1 })
	running := e.createJSON(t, acct, map[string]any{"url": src.URL + "/a.csv"})
	queued := e.createJSON(t, acct, map[string]any{"url": src.URL + "/b.csv"})
	held := e.createJSON(t, acct, map[string]any{"url": src.URL + "/c.csv"})
	state := func(id string) map[string]any {
		_, body := e.do(t, acct, "GET", "api/v1/imports/"+id, "", nil)
		var m map[string]any
		if err := json.Unmarshal(body, &m); err != nil {
			t.Fatalf("%s: %v", body, err)
		}
		return m
	}
	for deadline := time.Now().Add(time.Minute); state(running)["state"] != "uploading"; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the first import never started")
		}
	}
	group := "test " + acct.User
	e.srv.Close() // its runner stops mid-download; the group has no server left
	e.query(t, `UPDATE cartolocal.imports SET created_at = now() - interval '6 minutes' WHERE id IN ($1, $2)`, running, queued)
	e.query(t, `UPDATE cartolocal.imports SET created_at = now() - interval '6 minutes', state = 'importing' WHERE id = $1`, held)

	e.restart(t, "another "+acct.User)

	// A runner holds the third: it runs, it is not stuck.
	ctx := context.Background()
	conn, err := e.admin.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1, hashtext($2))", 0x696d70, held); err != nil {
		t.Fatal(err)
	}
	if m := state(held); m["state"] != "importing" {
		t.Errorf("held: %v", m)
	}
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_unlock($1, hashtext($2))", 0x696d70, held); err != nil {
		t.Fatal(err)
	}
	// A server of its group is alive (the test holds the group's lock as one would): a runner
	// will take it up, it is not stuck either.
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock_shared($1, hashtext($2))", 0x696d67, group); err != nil {
		t.Fatal(err)
	}
	if m := state(running); m["state"] != "uploading" {
		t.Errorf("group alive: %v", m)
	}
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_unlock_shared($1, hashtext($2))", 0x696d67, group); err != nil {
		t.Fatal(err)
	}

	// Now no one runs them: the one past pending fails when fetched; the pending one waits.
	for _, id := range []string{running, held} {
		m := state(id)
		text, _ := m["get_error_text"].(map[string]any)
		if m["state"] != "failure" || m["success"] != false || m["error_code"] != float64(6671) ||
			text["title"] != "Stuck import job" || text["source"] != "cartodb" {
			t.Errorf("stuck: %v", m)
		}
	}
	if m := state(queued); m["state"] != "pending" {
		t.Errorf("queued: %v", m)
	}
	// The list fails the unfinished ones older than an hour and leaves them out.
	_, body := e.do(t, acct, "GET", "api/v1/imports", "", nil)
	if !strings.Contains(string(body), queued) {
		t.Errorf("list before an hour: %s", body)
	}
	e.query(t, `UPDATE cartolocal.imports SET created_at = now() - interval '61 minutes' WHERE id = $1`, queued)
	if _, body := e.do(t, acct, "GET", "api/v1/imports", "", nil); strings.TrimSpace(string(body)) != `{"imports":[],"success":true}` {
		t.Errorf("list after an hour: %s", body)
	}
	if m := state(queued); m["state"] != "failure" || m["error_code"] != float64(6671) {
		t.Errorf("queued after an hour: %v", m)
	}
	// Their slots are free again.
	if status, body := e.do(t, acct, "POST", "api/v1/imports", "application/json", strings.NewReader(`{"url":"`+src.URL+`/d.csv"}`)); status != 200 {
		t.Errorf("a new import: %d %s", status, body)
	}
}
