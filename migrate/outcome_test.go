package migrate_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gocarto/carto/cartolocal/cartotest"
	cmigrate "github.com/gocarto/carto/migrate"
)

// TestSyntaxErrorNamesStatement: a syntax error stops the job before any statement runs, so no
// marker tells which one failed; the error still names it (number, line, text), as it does for
// errors raised while a statement runs.
func TestSyntaxErrorNamesStatement(t *testing.T) {
	t.Parallel()
	acct := cartotest.New(t)
	d := openDriver(t, acct, "")
	_, src := writeMigrations(t, map[string]string{
		"1_a.up.sql":   "CREATE TABLE syn_a (id int);\nINSERT INTO syn_a VALUES (1);\n\nINSERT INTO syn_a VALUES (2);\nSELEC oops FROM syn_a;\nINSERT INTO syn_a VALUES (3);\n",
		"1_a.down.sql": "DROP TABLE syn_a;",
	})
	m := newMigrate(t, src, d)
	err := m.Up()
	var me *cmigrate.MigrationError
	if !errors.As(err, &me) {
		t.Fatalf("Up: %v", err)
	}
	if me.StatementIndex != 4 || me.Statements != 5 || me.Line != 5 || me.Statement != "SELEC oops FROM syn_a;" || me.Outcome != cmigrate.OutcomeRolledBack {
		t.Fatalf("error names statement %d of %d at line %d (%q), outcome %d: %v", me.StatementIndex, me.Statements, me.Line, me.Statement, me.Outcome, err)
	}
	if !strings.Contains(err.Error(), "at line 5, statement 4 of 5: SELEC oops FROM syn_a;: syntax error at or near \"SELEC\"") {
		t.Errorf("message: %v", err)
	}
	db := pg(t, acct)
	if n := scalar[int64](t, db, "SELECT count(*) FROM pg_class WHERE relname = 'syn_a'"); n != 0 {
		t.Error("the probe that locates the error ran part of the migration")
	}
	checkVersion(t, d, 1, true)
}

// TestTooLargeLeavesVersionClean: a migration over the Batch limit is refused before any job is
// made, and the dirty mark golang-migrate set just before is put back: nothing ran, so nothing is
// dirty, and the error says so instead of "rolled back".
func TestTooLargeLeavesVersionClean(t *testing.T) {
	t.Parallel()
	acct := cartotest.New(t)
	d := openDriver(t, acct, "")
	_, src := writeMigrations(t, map[string]string{
		"1_a.up.sql": "CREATE TABLE big_a (v text);", "1_a.down.sql": "DROP TABLE big_a;",
		"2_b.up.sql": "INSERT INTO big_a VALUES ('" + strings.Repeat("x", 17000) + "');", "2_b.down.sql": "DELETE FROM big_a;",
	})
	m := newMigrate(t, src, d)
	err := m.Up()
	var me *cmigrate.MigrationError
	if !errors.As(err, &me) || !errors.Is(err, cmigrate.ErrTooLarge) {
		t.Fatalf("Up: %v", err)
	}
	if me.Outcome != cmigrate.OutcomeNotRun || !me.Restored || me.JobID != "" {
		t.Fatalf("outcome %d, restored %t, job %q: %v", me.Outcome, me.Restored, me.JobID, err)
	}
	if !strings.Contains(err.Error(), "migration 2 (up) was refused before it ran: migration too large") {
		t.Errorf("message: %v", err)
	}
	checkVersion(t, d, 1, false)
}

// TestLostContactOutcomeUnknown: when the answers about a migration's job stop coming (here a
// proxy cuts every poll once the job is created), Run cannot know whether the job committed, and
// says so: OutcomeUnknown, with the job's id, never "rolled back". The job did commit, and it
// recorded the version clean in the same transaction, so the version tells the truth afterwards.
func TestLostContactOutcomeUnknown(t *testing.T) {
	t.Parallel()
	acct := cartotest.New(t)
	u, err := url.Parse(acct.DSN())
	if err != nil {
		t.Fatal(err)
	}
	var created atomic.Bool
	proxy := httputil.NewSingleHostReverseProxy(&url.URL{Scheme: "http", Host: u.Host})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && strings.Contains(r.URL.Path, "/api/v2/sql/job/") && created.Load() {
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				conn.Close() // the network is gone
			}
			return
		}
		if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/api/v2/sql/job") {
			defer created.Store(true)
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	u.Host = strings.TrimPrefix(srv.URL, "http://")
	d, err := cmigrate.Open(u.String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	if _, _, err := d.Version(); err != nil {
		t.Fatal(err)
	}
	if err := d.SetVersion(1, true); err != nil {
		t.Fatal(err)
	}
	err = d.Run(strings.NewReader("SELECT pg_sleep(0.3);\nCREATE TABLE lost_contact (id int);"))
	var me *cmigrate.MigrationError
	if !errors.As(err, &me) || me.Outcome != cmigrate.OutcomeUnknown || me.JobID == "" {
		t.Fatalf("Run with the polls cut: %v", err)
	}
	for _, want := range []string{"has an unknown outcome", "lost contact while waiting for Batch job " + me.JobID, "may have committed"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("message lacks %q: %v", want, err)
		}
	}
	if strings.Contains(err.Error(), "rolled back") {
		t.Errorf("message claims a rollback nobody saw: %v", err)
	}
	direct := openDriver(t, acct, "")
	deadline := time.Now().Add(30 * time.Second)
	for {
		v, dirty, err := direct.Version()
		if err != nil {
			t.Fatal(err)
		}
		if v == 1 && !dirty {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("version %d dirty=%t: the job never recorded its version", v, dirty)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestInterruptCancelFailsOutcomeUnknown: after an interrupt, Run cancels the job; when that
// cancel cannot reach the server (here a proxy cuts every job request once the job exists), the
// job may still commit, and Run says the outcome is unknown instead of "cancelled and rolled back".
func TestInterruptCancelFailsOutcomeUnknown(t *testing.T) {
	t.Parallel()
	acct := cartotest.New(t)
	u, err := url.Parse(acct.DSN())
	if err != nil {
		t.Fatal(err)
	}
	var created atomic.Bool
	proxy := httputil.NewSingleHostReverseProxy(&url.URL{Scheme: "http", Host: u.Host})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.URL.Path, "/api/v2/sql/job/") && created.Load() {
			if conn, _, err := w.(http.Hijacker).Hijack(); err == nil {
				conn.Close()
			}
			return
		}
		if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/api/v2/sql/job") {
			defer created.Store(true)
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	u.Host = strings.TrimPrefix(srv.URL, "http://")
	d, err := cmigrate.Open(u.String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	if _, _, err := d.Version(); err != nil {
		t.Fatal(err)
	}
	if err := d.SetVersion(1, true); err != nil {
		t.Fatal(err)
	}
	d.OnProgress(func(ev cmigrate.Event) {
		if ev.Job != nil && ev.Stats == nil && ev.Changes == 0 {
			d.Interrupt() // the job exists: interrupt now, as a second Ctrl-C would
		}
	})
	err = d.Run(strings.NewReader("SELECT pg_sleep(0.5);\nCREATE TABLE cancel_lost (id int);"))
	var me *cmigrate.MigrationError
	if !errors.As(err, &me) || me.Outcome != cmigrate.OutcomeUnknown || me.JobID == "" || !errors.Is(err, cmigrate.ErrInterrupted) {
		t.Fatalf("Run interrupted with the cancel cut: %v", err)
	}
	if !strings.Contains(err.Error(), "has an unknown outcome") || strings.Contains(err.Error(), "rolled back") {
		t.Errorf("message: %v", err)
	}
}
