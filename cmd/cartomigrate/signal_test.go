package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/gocarto/carto/cartolocal/cartotest"
)

// The binary is built once per test run, into a temporary directory that TestMain removes:
// signals must reach a real process, with its own signal handling, as a user's Ctrl-C would.
var (
	buildOnce sync.Once
	binDir    string
	binPath   string
	buildErr  error
)

func buildBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		binDir, buildErr = os.MkdirTemp("", "cartomigrate-test-")
		if buildErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "cartomigrate")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// startBinary runs the binary with args and the account in CARTO_DATABASE_URL.
func startBinary(t *testing.T, bin string, acct *cartotest.Account, args ...string) (*exec.Cmd, *syncBuffer) {
	t.Helper()
	return startBinaryEnv(t, bin, acct.DSN(), args...)
}

// startBinaryEnv runs the binary with args and dsn in CARTO_DATABASE_URL.
func startBinaryEnv(t *testing.T, bin, dsn string, args ...string) (*exec.Cmd, *syncBuffer) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "CARTO_DATABASE_URL="+dsn)
	out := &syncBuffer{}
	cmd.Stderr = out
	cmd.Stdout = out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	return cmd, out
}

// sleepingJobs counts the account's backends sleeping in pg_sleep: a migration job mid-run.
// pg_stat_activity cuts query texts at 1 KiB, so the job is known by the account's schema, which
// its first lines name, and by what it waits on.
func sleepingJobs(t *testing.T, conn *pgx.Conn, acct *cartotest.Account) int {
	t.Helper()
	var n int
	err := conn.QueryRow(context.Background(), `SELECT count(*) FROM pg_stat_activity
		WHERE state = 'active' AND wait_event = 'PgSleep' AND strpos(query, $1) > 0`,
		pgx.Identifier{acct.User}.Sanitize()).Scan(&n)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func waitFor(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func waitExit(t *testing.T, cmd *exec.Cmd, timeout time.Duration) int {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return ee.ExitCode()
		}
		if err != nil {
			t.Fatal(err)
		}
		return 0
	case <-time.After(timeout):
		cmd.Process.Kill()
		<-done
		t.Fatalf("cartomigrate did not exit within %s", timeout)
		return -1
	}
}

// TestSecondInterruptCancelsJob: Ctrl-C twice during a long migration cancels its Batch job on
// the server: no query of it is left running, nothing of it stays, the lock is released and
// version says truthfully that it is dirty.
func TestSecondInterruptCancelsJob(t *testing.T) {
	t.Parallel()
	bin := buildBinary(t)
	acct := cartotest.New(t)
	conn := pgConn(t, acct)
	dir := writeMigrations(t, map[string]string{
		"1_slow.up.sql":   "CREATE TABLE slow_t (id int);\nSELECT pg_sleep(60) AS cartomigrate_sigint_test;",
		"1_slow.down.sql": "DROP TABLE slow_t;",
	})
	cmd, out := startBinary(t, bin, acct, "-path", dir, "up")
	waitFor(t, "the migration's query to run", 30*time.Second, func() bool { return sleepingJobs(t, conn, acct) == 1 })

	start := time.Now()
	cmd.Process.Signal(syscall.SIGINT)
	waitFor(t, "the first Ctrl-C to be seen", 5*time.Second, func() bool { return strings.Contains(out.String(), "Stopping after this running migration") })
	cmd.Process.Signal(syscall.SIGINT)
	code := waitExit(t, cmd, 40*time.Second)
	t.Logf("exit %d after %s:\n%s", code, time.Since(start), out.String())
	if code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	for _, want := range []string{"Cancelling the running Batch job", "error: migration 1 (up) was interrupted: its Batch job was cancelled on the server and rolled back", "Version 1 is left dirty", "cartomigrate force -1"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q", want)
		}
	}
	if n := sleepingJobs(t, conn, acct); n != 0 {
		t.Errorf("%d queries of the cancelled job still run", n)
	}
	if tableExists(t, conn, acct.User, "slow_t") {
		t.Error("the cancelled migration's table exists")
	}
	var leases int
	conn.QueryRow(context.Background(), "SELECT count(*) FROM "+pgx.Identifier{acct.User, "cartomigrate_lock"}.Sanitize()).Scan(&leases)
	if leases != 0 {
		t.Error("the lock was not released")
	}
	code, vout := runCLI(t, map[string]string{"CARTO_DATABASE_URL": acct.DSN()}, "", "version")
	expect(t, code, vout, 0, "version 1 (dirty)")
	// The way out the message gave works.
	code, vout = runCLI(t, map[string]string{"CARTO_DATABASE_URL": acct.DSN()}, "", "force", "-1")
	expect(t, code, vout, 0)
}

// TestFirstInterruptStopsAfterMigration: one Ctrl-C lets the running migration finish and stops
// before the next, with a clean version; up did not finish, so it exits 1 and says where it
// stopped.
func TestFirstInterruptStopsAfterMigration(t *testing.T) {
	t.Parallel()
	bin := buildBinary(t)
	acct := cartotest.New(t)
	conn := pgConn(t, acct)
	dir := writeMigrations(t, map[string]string{
		"1_a.up.sql": "SELECT pg_sleep(3) AS cartomigrate_graceful_test;\nCREATE TABLE a (id int);", "1_a.down.sql": "DROP TABLE a;",
		"2_b.up.sql": "CREATE TABLE b (id int);", "2_b.down.sql": "DROP TABLE b;",
	})
	cmd, out := startBinary(t, bin, acct, "-path", dir, "up")
	waitFor(t, "the migration's query to run", 30*time.Second, func() bool {
		return sleepingJobs(t, conn, acct) == 1
	})
	cmd.Process.Signal(syscall.SIGINT)
	code := waitExit(t, cmd, 30*time.Second)
	t.Logf("exit %d:\n%s", code, out.String())
	if code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	for _, want := range []string{"Stopping after this running migration", "1/u a (", "error: interrupted: stopped after the running migration; the database is at version 1"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q", want)
		}
	}
	if !tableExists(t, conn, acct.User, "a") || tableExists(t, conn, acct.User, "b") {
		t.Error("want migration 1 applied and 2 not")
	}
	code, vout := runCLI(t, map[string]string{"CARTO_DATABASE_URL": acct.DSN()}, "", "version")
	expect(t, code, vout, 0, "version 1\n")
}

// TestMeasureExampleUp times `cartomigrate up` on migrations/example through the built binary,
// and how much of it went to noticing that jobs had ended (polling).
func TestMeasureExampleUp(t *testing.T) {
	t.Parallel()
	bin := buildBinary(t)
	acct := cartotest.New(t)
	start := time.Now()
	cmd, out := startBinary(t, bin, acct, "-verbose", "-path", "../../migrations/example", "up")
	code := waitExit(t, cmd, 60*time.Second)
	wall := time.Since(start)
	if code != 0 {
		t.Fatalf("exit %d:\n%s", code, out.String())
	}
	var summary string
	for _, l := range strings.Split(out.String(), "\n") {
		if strings.Contains(l, "Batch jobs:") {
			summary = l
		}
	}
	if summary == "" {
		t.Fatalf("no summary line:\n%s", out.String())
	}
	t.Logf("cartomigrate up (6 migrations): wall %s (process start to exit)\n%s", wall, summary)
}

// TestConcurrentProcesses: two cartomigrate up at once on one account apply each migration once;
// the one that waits for the lock finds nothing left to do, or the migrations the other has not
// reached.
func TestConcurrentProcesses(t *testing.T) {
	t.Parallel()
	bin := buildBinary(t)
	acct := cartotest.New(t)
	acct.Exec(t, "CREATE TABLE applied (version int, at timestamptz DEFAULT clock_timestamp())")
	files := map[string]string{}
	for _, v := range []string{"1", "2", "3"} {
		files[v+"_m.up.sql"] = "INSERT INTO applied (version) VALUES (" + v + "); SELECT pg_sleep(0.3);"
		files[v+"_m.down.sql"] = "DELETE FROM applied WHERE version = " + v + ";"
	}
	dir := writeMigrations(t, files)
	a, outA := startBinary(t, bin, acct, "-lock-timeout", "60", "-path", dir, "up")
	b, outB := startBinary(t, bin, acct, "-lock-timeout", "60", "-path", dir, "up")
	codeA, codeB := waitExit(t, a, 60*time.Second), waitExit(t, b, 60*time.Second)
	t.Logf("A exit %d:\n%s\nB exit %d:\n%s", codeA, outA.String(), codeB, outB.String())
	if codeA != 0 || codeB != 0 {
		t.Errorf("exit statuses %d and %d, want 0 and 0", codeA, codeB)
	}
	var got string
	conn := pgConn(t, acct)
	if err := conn.QueryRow(context.Background(), "SELECT string_agg(version::text, ',' ORDER BY at) FROM "+
		pgx.Identifier{acct.User, "applied"}.Sanitize()).Scan(&got); err != nil {
		t.Fatal(err)
	}
	if got != "1,2,3" {
		t.Errorf("applied %s, want 1,2,3 once each", got)
	}
}

// TestKilledDuringJob: a migrator killed outright while its job runs leaves the job to finish,
// and the job records its own version clean, so version tells the truth afterwards. The lease
// of the dead process expires by itself.
func TestKilledDuringJob(t *testing.T) {
	t.Parallel()
	bin := buildBinary(t)
	acct := cartotest.New(t)
	conn := pgConn(t, acct)
	dir := writeMigrations(t, map[string]string{
		"1_slow.up.sql": "SELECT pg_sleep(1.5);\nCREATE TABLE after_kill (id int);", "1_slow.down.sql": "DROP TABLE after_kill;",
	})
	cmd, _ := startBinary(t, bin, acct, "-path", dir, "up")
	waitFor(t, "the migration's query to run", 30*time.Second, func() bool { return sleepingJobs(t, conn, acct) == 1 })
	cmd.Process.Kill()
	cmd.Wait()
	waitFor(t, "the job to finish", 30*time.Second, func() bool { return sleepingJobs(t, conn, acct) == 0 })
	waitFor(t, "the table", 10*time.Second, func() bool { return tableExists(t, conn, acct.User, "after_kill") })
	code, out := runCLI(t, map[string]string{"CARTO_DATABASE_URL": acct.DSN()}, "", "version")
	expect(t, code, out, 0, "version 1\n")
}
