package migrate_test

import (
	"context"
	"database/sql/driver"
	"errors"
	"regexp"
	"strings"
	"testing"

	"github.com/DATA-DOG/go-sqlmock"

	"github.com/gocarto/carto"
	cmigrate "github.com/gocarto/carto/migrate"
)

// go-sqlmock stands in for the account here, and only here: the fault is a connection that fails
// with driver.ErrBadConn half-way through the bookkeeping, on every attempt database/sql makes,
// which no real server gives on demand. What is tested is migrate's bookkeeping above
// database/sql; everything else runs on cartolocal.

// TestBookkeepingAfterBadConn: a SetVersion whose connection failed may still have committed
// before the answer was lost, so the driver must forget what it believed the version was. The
// next Run reads it again before it builds the job's guards, instead of guarding on a stale
// version; and when no job can be created, nothing else is written.
func TestBookkeepingAfterBadConn(t *testing.T) {
	db, mock, err := sqlmock.New()
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	// sqlmock forgets its connection when the last one open is closed, as database/sql closes a
	// bad one: a second one held open for the whole test keeps it.
	keep, err := db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer keep.Close()
	mock.ExpectQuery(regexp.QuoteMeta("SELECT current_schema()")).WillReturnRows(sqlmock.NewRows([]string{"current_schema"}).AddRow("acct"))
	mock.ExpectExec("CREATE TABLE IF NOT EXISTS").WillReturnResult(sqlmock.NewResult(0, 0))
	// No server listens on port 1, so creating a job fails before anything is sent.
	client, err := carto.NewClient("http://127.0.0.1:1/user/acct", carto.WithAPIKey("k"), carto.WithRetryPolicy(carto.RetryPolicy{MaxAttempts: 1}))
	if err != nil {
		t.Fatal(err)
	}
	d, err := cmigrate.WithInstance(client, db, cmigrate.Config{})
	if err != nil {
		t.Fatal(err)
	}
	versionRow := func(v int64, dirty bool) *sqlmock.Rows {
		return sqlmock.NewRows([]string{"version", "dirty"}).AddRow(v, dirty)
	}
	mock.ExpectQuery("SELECT version, dirty FROM").WillReturnRows(versionRow(1, false))
	if v, dirty, err := d.Version(); err != nil || v != 1 || dirty {
		t.Fatalf("Version = %d, %t, %v", v, dirty, err)
	}
	// database/sql tries a bad connection three times (twice a pooled one, once a new one).
	for range 3 {
		mock.ExpectExec("TRUNCATE").WillReturnError(driver.ErrBadConn)
	}
	if err := d.SetVersion(2, true); err == nil {
		t.Fatal("SetVersion succeeded over a bad connection")
	}
	// The write had committed: the table says 2 (dirty). Run must ask.
	mock.ExpectQuery("SELECT version, dirty FROM").WillReturnRows(versionRow(2, true))
	err = d.Run(strings.NewReader("CREATE TABLE t (id int);"))
	var me *cmigrate.MigrationError
	if !errors.As(err, &me) || me.Outcome != cmigrate.OutcomeNotRun || me.Target != 2 {
		t.Fatalf("Run = %v (%+v), want a job that could not be created, for version 2", err, me)
	}
	if err := mock.ExpectationsWereMet(); err != nil {
		t.Errorf("Run did not read the version again: %v", err)
	}
}
