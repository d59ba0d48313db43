package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"regexp"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/gocarto/carto/cartolocal/cartotest"
)

// forceAdvice finds the force command an error message advises.
var forceAdvice = regexp.MustCompile("`cartomigrate force ((?:-if-dirty -?[0-9]+ )?-?[0-9]+)` records that")

// plainForce finds a force without -if-dirty.
var plainForce = regexp.MustCompile("`cartomigrate force -?[0-9]+`")

// TestKilledThenAdviceFollowed is issue 9's scenario: cartomigrate is killed with -9 right after
// its 1/u line, while migration 2's Batch job is created or running; it is restarted, and a user
// follows the advice it prints. Before, the advice was "force 1", and force overwrote the version
// the job recorded when it committed, so the next up ran migration 2 a second time. Each
// migration must be applied exactly once. The lease is short (1s), so that the restarted up gets
// the lock while the job still runs. The second case kills it once the job's query is seen
// running, the case in which the old advice re-applied migration 2 every time.
func TestKilledThenAdviceFollowed(t *testing.T) {
	t.Parallel()
	t.Run("after the 1/u line", func(t *testing.T) { t.Parallel(); killThenFollowAdvice(t, false) })
	t.Run("while the job runs", func(t *testing.T) { t.Parallel(); killThenFollowAdvice(t, true) })
}

func killThenFollowAdvice(t *testing.T, whileRunning bool) {
	bin := buildBinary(t)
	acct := cartotest.New(t)
	acct.Exec(t, "CREATE TABLE applied (version int, at timestamptz DEFAULT clock_timestamp())")
	dir := writeMigrations(t, map[string]string{
		"1_a.up.sql": "INSERT INTO applied (version) VALUES (1);", "1_a.down.sql": "DELETE FROM applied WHERE version = 1;",
		"2_b.up.sql": "SELECT pg_sleep(6);\nINSERT INTO applied (version) VALUES (2);", "2_b.down.sql": "DELETE FROM applied WHERE version = 2;",
		"3_c.up.sql": "INSERT INTO applied (version) VALUES (3);", "3_c.down.sql": "DELETE FROM applied WHERE version = 3;",
	})
	dsn := acct.DSN() + "&x-lock-lease=1s"
	env := map[string]string{"CARTO_DATABASE_URL": dsn}

	cmd, out := startBinaryEnv(t, bin, dsn, "-path", dir, "up")
	waitFor(t, "the 1/u line", 60*time.Second, func() bool { return strings.Contains(out.String(), "1/u a (") })
	if whileRunning {
		conn := pgConn(t, acct)
		waitFor(t, "migration 2's query to run", 30*time.Second, func() bool { return sleepingJobs(t, conn, acct) == 1 })
	}
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()

	followAdvice(t, env, dir)
	checkAppliedOnce(t, acct)
}

// followAdvice plays a user who runs up and then does what each message says, until up succeeds.
func followAdvice(t *testing.T, env map[string]string, dir string) {
	t.Helper()
	args := []string{"-path", dir, "up"}
	for steps := 0; ; steps++ {
		if steps > 6 {
			t.Fatal("the advice did not lead to a finished up in 6 steps")
		}
		code, msg := runCLI(t, env, "", args...)
		if code == 0 && args[len(args)-1] == "up" {
			return
		}
		args = nextStep(t, env, dir, code, msg)
	}
}

// nextStep is what a message tells the user to run next.
func nextStep(t *testing.T, env map[string]string, dir string, code int, msg string) []string {
	t.Helper()
	if strings.Contains(msg, "Run `cartomigrate version`") {
		_, v := runCLI(t, env, "", "version")
		if m := forceAdvice.FindStringSubmatch(msg); m != nil && strings.Contains(v, "(dirty)") {
			return append([]string{"force"}, strings.Fields(m[1])...)
		}
		return []string{"-path", dir, "up"}
	}
	if m := forceAdvice.FindStringSubmatch(msg); m != nil {
		return append([]string{"force"}, strings.Fields(m[1])...)
	}
	if code == 0 || strings.Contains(msg, "run the migrations again to go on") {
		return []string{"-path", dir, "up"}
	}
	t.Fatalf("no advice to follow (exit %d):\n%s", code, msg)
	return nil
}

// checkAppliedOnce reads the applied table: each migration inserted its version once.
func checkAppliedOnce(t *testing.T, acct *cartotest.Account) {
	t.Helper()
	conn := pgConn(t, acct)
	var got string
	if err := conn.QueryRow(context.Background(), "SELECT string_agg(version::text, ',' ORDER BY at) FROM "+
		pgx.Identifier{acct.User, "applied"}.Sanitize()).Scan(&got); err != nil {
		t.Fatal(err)
	}
	t.Logf("applied %s", got)
	if got != "1,2,3" {
		t.Errorf("applied %s, want 1,2,3 once each", got)
	}
}

// TestLostContactThenAdviceFollowed: cartomigrate loses contact with the server while it waits
// for migration 2's job (a proxy cuts every poll once the job is created, as a server killed and
// restarted would), and the job commits. The old advice was "failed and was rolled back ... run
// `cartomigrate force 1`", which made the next up run migration 2 a second time. Now the outcome
// is unknown, the advice is to read the version first, and each migration is applied once.
func TestLostContactThenAdviceFollowed(t *testing.T) {
	t.Parallel()
	acct := cartotest.New(t)
	acct.Exec(t, "CREATE TABLE applied (version int, at timestamptz DEFAULT clock_timestamp())")
	dir := writeMigrations(t, map[string]string{
		"1_a.up.sql": "INSERT INTO applied (version) VALUES (1);", "1_a.down.sql": "DELETE FROM applied WHERE version = 1;",
		"2_b.up.sql": "SELECT pg_sleep(0.5);\nINSERT INTO applied (version) VALUES (2);", "2_b.down.sql": "DELETE FROM applied WHERE version = 2;",
		"3_c.up.sql": "INSERT INTO applied (version) VALUES (3);", "3_c.down.sql": "DELETE FROM applied WHERE version = 3;",
	})
	u, err := url.Parse(acct.DSN())
	if err != nil {
		t.Fatal(err)
	}
	var jobs atomic.Int32
	proxy := httputil.NewSingleHostReverseProxy(&url.URL{Scheme: "http", Host: u.Host})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && strings.Contains(r.URL.Path, "/api/v2/sql/job/") && jobs.Load() >= 2 {
			if conn, _, err := w.(http.Hijacker).Hijack(); err == nil {
				conn.Close()
			}
			return
		}
		if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/api/v2/sql/job") {
			defer jobs.Add(1)
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	u.Host = strings.TrimPrefix(srv.URL, "http://")
	// up 2: golang-migrate would leave a goroutine behind that prefetches migration 3 for a run
	// that failed.
	code, msg := runCLI(t, map[string]string{"CARTO_DATABASE_URL": u.String()}, "", "-path", dir, "up", "2")
	expect(t, code, msg, 1, "migration 2 (up) has an unknown outcome", "Do not force version 1 before you know", "Run `cartomigrate version`")
	if plainForce.MatchString(msg) {
		t.Errorf("an unconditional force is advised for an unknown outcome:\n%s", msg)
	}
	// The network is back: the user goes on with the account itself.
	env := map[string]string{"CARTO_DATABASE_URL": acct.DSN()}
	conn := pgConn(t, acct)
	waitFor(t, "the job to end", 30*time.Second, func() bool { return sleepingJobs(t, conn, acct) == 0 })
	args := nextStep(t, env, dir, code, msg)
	for steps := 0; ; steps++ {
		if steps > 6 {
			t.Fatal("the advice did not lead to a finished up in 6 steps")
		}
		code, msg = runCLI(t, env, "", args...)
		if code == 0 && args[len(args)-1] == "up" {
			break
		}
		args = nextStep(t, env, dir, code, msg)
	}
	checkAppliedOnce(t, acct)
}
