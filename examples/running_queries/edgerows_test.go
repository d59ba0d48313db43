package main

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/DATA-DOG/go-sqlmock"
)

// go-sqlmock stands in for the server here, and only here: the rows below are ones a real
// PostgreSQL does not give on demand (a session whose query_start lies ahead of the clock, a
// background worker with no state, a connection lost after the first rows), and the code under
// test is only what sits above database/sql. TestRunningQueries covers the real query on
// cartolocal.

// TestEdgeCaseRows: the table stays one line per session whatever the row holds.
func TestEdgeCaseRows(t *testing.T) {
	db, mock, err := sqlmock.New()
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	cols := []string{"pid", "state", "seconds", "waiting", "application", "query"}
	mock.ExpectQuery("FROM pg_stat_activity").WithArgs(false).WillReturnRows(sqlmock.NewRows(cols).
		AddRow(int64(41), "", 0.0, "", "", "").                                                         // a worker with nothing to show
		AddRow(int64(42), "active", -0.25, "Lock:relation", "cartodb", "SELECT\n\t1   FROM\r\nt").      // query_start ahead of our clock
		AddRow(int64(43), "idle in transaction (aborted)", 3600.0, "", "", "SELECT 'éèê' || '漢字漢字漢字'"), // cut inside multibyte text
	)
	var out strings.Builder
	if err := run(context.Background(), db, args{Width: 16}, &out); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"PID  STATE                          RUNNING  WAITING ON     APPLICATION  QUERY",
		"41                                  0s       -              -            ",
		"42   active                         -250ms   Lock:relation  cartodb      SELECT 1 FROM t",
		"43   idle in transaction (aborted)  1h0m0s   -              -            SELECT 'éèê' ||…",
		"3 sessions",
	}
	if got := strings.Split(strings.TrimRight(out.String(), "\n"), "\n"); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("output:\n%s\nwant:\n%s", out.String(), strings.Join(want, "\n"))
	}
	if err := mock.ExpectationsWereMet(); err != nil {
		t.Error(err)
	}
}

// TestConnectionLostMidRows: an error after the first rows is the program's error, and no
// partial table is printed as if it were the whole list.
func TestConnectionLostMidRows(t *testing.T) {
	db, mock, err := sqlmock.New()
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	lost := errors.New("connection reset by peer")
	mock.ExpectQuery("FROM pg_stat_activity").WithArgs(true).WillReturnRows(sqlmock.NewRows([]string{"pid", "state", "seconds", "waiting", "application", "query"}).
		AddRow(int64(1), "active", 1.0, "", "", "SELECT 1").
		AddRow(int64(2), "active", 1.0, "", "", "SELECT 2").
		RowError(1, lost))
	var out strings.Builder
	if err := run(context.Background(), db, args{All: true}, &out); !errors.Is(err, lost) {
		t.Fatalf("run = %v, want the connection's error", err)
	}
	if strings.Contains(out.String(), "session") {
		t.Errorf("a partial list was printed as complete:\n%s", out.String())
	}
}
