package main

import (
	"bytes"
	"context"
	"database/sql"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/gocarto/carto/cartolocal/cartotest"
)

func TestMain(m *testing.M) { os.Exit(cartotest.Main(m)) }

// TestRunningQueries starts a slow query through the driver and expects to see it listed, then
// cancels it.
func TestRunningQueries(t *testing.T) {
	acct := cartotest.New(t)
	db, err := sql.Open("carto", acct.DSN())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	slowCtx, stopSlow := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		_, err := db.ExecContext(slowCtx, "SELECT pg_sleep(30) /* running_queries test */")
		done <- err
	}()
	defer func() {
		stopSlow()
		<-done
	}()

	var out bytes.Buffer
	deadline := time.Now().Add(15 * time.Second)
	for {
		out.Reset()
		if err := run(ctx, db, args{Width: 40}, &out); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(out.String(), "SELECT pg_sleep(30) /* running_queries …") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the slow query never showed:\n%s", out.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	s := out.String()
	t.Log("\n" + s)
	lines := strings.Split(strings.TrimSuffix(s, "\n"), "\n")
	if !strings.HasPrefix(lines[0], "PID ") || !strings.Contains(lines[0], "QUERY") {
		t.Fatalf("no header:\n%s", s)
	}
	// Aligned: the QUERY column starts at the same offset in every row.
	col := strings.Index(lines[0], "QUERY")
	for _, l := range lines[1 : len(lines)-1] {
		if len(l) < col || l[col-2:col] != "  " {
			t.Fatalf("misaligned row %q under %q", l, lines[0])
		}
	}
	if !strings.Contains(s, "active") || !strings.Contains(s, "Timeout:PgSleep") {
		t.Fatalf("state or wait event missing:\n%s", s)
	}
	if strings.Contains(s, "pg_stat_activity") {
		t.Fatalf("lists its own query:\n%s", s)
	}
}

func TestOneLine(t *testing.T) {
	if got := oneLine("SELECT\n  a,\tb\nFROM t", 0); got != "SELECT a, b FROM t" {
		t.Fatal(got)
	}
	if got := oneLine("SELECT ñandú FROM t", 10); got != "SELECT ña…" {
		t.Fatal(got)
	}
}
