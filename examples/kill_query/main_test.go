package main

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/gocarto/carto"
	"github.com/gocarto/carto/cartolocal/cartotest"
)

func TestMain(m *testing.M) { os.Exit(cartotest.Main(m)) }

// slowQuery runs pg_sleep through the driver until it is stopped, and returns its backend's pid
// once pg_stat_activity shows it.
// The query's error can be read from done's receiver once done is closed.
func slowQuery(t *testing.T, ctx context.Context, db *sql.DB, tag string) (pid int64, done <-chan struct{}, result *error) {
	t.Helper()
	ch := make(chan struct{})
	result = new(error)
	slowCtx, stop := context.WithCancel(ctx)
	go func() {
		defer close(ch)
		_, *result = db.ExecContext(slowCtx, "SELECT pg_sleep(30) /* "+tag+" */")
	}()
	t.Cleanup(func() {
		stop()
		select {
		case <-ch:
		case <-time.After(30 * time.Second):
			t.Error("the slow query never ended")
		}
	})
	deadline := time.Now().Add(15 * time.Second)
	for {
		err := db.QueryRowContext(ctx, `SELECT pid::int8 AS pid FROM pg_stat_activity
			WHERE usename = current_user AND pid <> pg_backend_pid() AND query LIKE $1`,
			"SELECT pg_sleep(30) /* "+tag+" */%").Scan(&pid)
		if err == nil {
			return pid, ch, result
		}
		if !errors.Is(err, sql.ErrNoRows) || time.Now().After(deadline) {
			t.Fatalf("finding the slow query: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func setup(t *testing.T) (context.Context, *sql.DB) {
	acct := cartotest.New(t)
	db, err := sql.Open("carto", acct.DSN())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx, db
}

func TestKillQuery(t *testing.T) {
	ctx, db := setup(t)
	pid, done, result := slowQuery(t, ctx, db, "kill me")
	var out bytes.Buffer
	start := time.Now()
	if err := run(ctx, db, args{PID: pid}, &out); err != nil {
		t.Fatal(err)
	}
	if want := "cancelled the query of pid "; !strings.HasPrefix(out.String(), want) ||
		!strings.Contains(out.String(), "SELECT pg_sleep(30) /* kill me */") {
		t.Fatalf("output: %q", out.String())
	}
	select {
	case <-done:
		// CARTO's SQL API reports a cancelled query as it reports a statement timeout.
		var ce *carto.Error
		if err := *result; !errors.As(err, &ce) || ce.StatusCode != 429 || ce.Detail != "datasource" {
			t.Fatalf("the slow query ended with %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the query still runs")
	}
	if time.Since(start) > 10*time.Second {
		t.Fatal("too slow")
	}
	// It is gone: a second kill finds nothing to cancel.
	err := run(ctx, db, args{PID: pid}, &bytes.Buffer{})
	if err == nil {
		t.Fatal("second kill: no error")
	}
}

func TestKillQueryTerminate(t *testing.T) {
	ctx, db := setup(t)
	pid, done, result := slowQuery(t, ctx, db, "terminate me")
	var out bytes.Buffer
	if err := run(ctx, db, args{PID: pid, Terminate: true}, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out.String(), "terminated pid ") {
		t.Fatalf("output: %q", out.String())
	}
	select {
	case <-done:
		if *result == nil {
			t.Fatal("the terminated query succeeded")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the query still runs")
	}
}

func TestKillQueryUnknownPID(t *testing.T) {
	ctx, db := setup(t)
	err := run(ctx, db, args{PID: 1}, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "no session of this account has pid 1") {
		t.Fatalf("err = %v", err)
	}
}
