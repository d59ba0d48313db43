package migrate_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	gomigrate "github.com/golang-migrate/migrate/v4"
	"github.com/golang-migrate/migrate/v4/database"
	dtest "github.com/golang-migrate/migrate/v4/database/testing"
	_ "github.com/golang-migrate/migrate/v4/source/file"
	"github.com/jackc/pgx/v5"

	"github.com/gocarto/carto/cartolocal/cartotest"
	cmigrate "github.com/gocarto/carto/migrate"
)

// pg queries the account's schema as the superuser, beside the system under test.
func pg(t *testing.T, acct *cartotest.Account) *pgx.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, acct.PGURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	if _, err := conn.Exec(ctx, "SET search_path = "+pgx.Identifier{acct.User}.Sanitize()+", cartodb, public"); err != nil {
		t.Fatal(err)
	}
	return conn
}

func scalar[T any](t *testing.T, conn *pgx.Conn, q string) T {
	t.Helper()
	var v T
	if err := conn.QueryRow(context.Background(), q).Scan(&v); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return v
}

// writeMigrations writes files (name → body) into a new directory and returns its file:// URL.
func writeMigrations(t *testing.T, files map[string]string) (dir, url string) {
	t.Helper()
	dir = t.TempDir()
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir, "file://" + dir
}

func newMigrate(t *testing.T, sourceURL string, d *cmigrate.Driver) *gomigrate.Migrate {
	t.Helper()
	m, err := gomigrate.NewWithDatabaseInstance(sourceURL, "carto", d)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func checkVersion(t *testing.T, d *cmigrate.Driver, wantV int, wantDirty bool) {
	t.Helper()
	v, dirty, err := d.Version()
	if err != nil {
		t.Fatal(err)
	}
	if v != wantV || dirty != wantDirty {
		t.Fatalf("version = %d dirty=%t, want %d dirty=%t", v, dirty, wantV, wantDirty)
	}
}

// TestExampleMigrations runs migrations/example up, checks what they built, runs them down, up
// again, and drops: golang-migrate's TestMigrate (Up, then Drop through Migrate) included.
func TestExampleMigrations(t *testing.T) {
	t.Parallel()
	acct := cartotest.New(t)
	d := openDriver(t, acct, "")
	db := pg(t, acct)
	m := newMigrate(t, "file://../migrations/example", d)

	var mu sync.Mutex
	var stats []cmigrate.RunStats
	d.OnProgress(func(ev cmigrate.Event) {
		if ev.Stats != nil {
			mu.Lock()
			stats = append(stats, *ev.Stats)
			mu.Unlock()
		}
	})
	start := time.Now()
	if err := m.Up(); err != nil {
		t.Fatal(err)
	}
	wall := time.Since(start)
	checkVersion(t, d, 6, false)
	if n := scalar[int64](t, db, "SELECT count(*) FROM places WHERE the_geom_webmercator IS NOT NULL AND service_area IS NOT NULL"); n != 13 {
		t.Errorf("places with geometries: %d, want 13", n)
	}
	if n := scalar[int64](t, db, "SELECT count(*) FROM large_places"); n != 4 {
		t.Errorf("large_places: %d rows, want 4", n)
	}
	if name := scalar[string](t, db, "SELECT name FROM places_near(40.42, -3.70) LIMIT 1"); name != "Madrid" {
		t.Errorf("places_near: %q, want Madrid", name)
	}
	db.Exec(context.Background(), "INSERT INTO places (name, country, category) VALUES ('Bilbao', 'Spain', '  CITY ')")
	if c := scalar[string](t, db, "SELECT category FROM places WHERE name = 'Bilbao'"); c != "city" {
		t.Errorf("trigger left category %q", c)
	}
	mu.Lock()
	if len(stats) != 6 {
		t.Errorf("%d finished jobs reported, want 6", len(stats))
	}
	var server, lag time.Duration
	for _, s := range stats {
		if s.JobID == "" {
			t.Errorf("a job without id: %+v", s)
		}
		server += s.Server
		lag += s.Lag
	}
	mu.Unlock()
	t.Logf("up: 6 migrations in %s; server-side job time %s, polling lag %s", wall, server, lag)

	if err := m.Down(); err != nil {
		t.Fatal(err)
	}
	checkVersion(t, d, database.NilVersion, false)
	if n := scalar[int64](t, db, "SELECT count(*) FROM pg_class WHERE relname IN ('places', 'large_places') AND relnamespace = current_schema()::regnamespace"); n != 0 {
		t.Errorf("%d objects left after down", n)
	}
	if err := m.Up(); err != nil {
		t.Fatal(err)
	}
	dtest.TestMigrateDrop(t, m)
	checkVersion(t, d, database.NilVersion, false)
	if n := scalar[int64](t, db, "SELECT count(*) FROM pg_class WHERE relname = 'places' AND relnamespace = current_schema()::regnamespace"); n != 0 {
		t.Errorf("places survived Drop")
	}
	// The lock table stays: golang-migrate unlocks after Drop.
	if n := scalar[int64](t, db, "SELECT count(*) FROM pg_class WHERE relname = 'cartomigrate_lock' AND relnamespace = current_schema()::regnamespace"); n != 1 {
		t.Errorf("the lock table went with Drop")
	}
	// A fresh Up works after Drop without reopening.
	if err := m.Up(); err != nil {
		t.Fatal(err)
	}
	checkVersion(t, d, 6, false)
}

// TestFailingMigration: the failing statement is named with PostgreSQL's message, the whole
// migration is rolled back, the version stays dirty, and force recovers.
func TestFailingMigration(t *testing.T) {
	t.Parallel()
	acct := cartotest.New(t)
	d := openDriver(t, acct, "")
	db := pg(t, acct)
	dir, src := writeMigrations(t, map[string]string{
		"1_base.up.sql":   "CREATE TABLE base (id int PRIMARY KEY);",
		"1_base.down.sql": "DROP TABLE base;",
		"2_broken.up.sql": "-- makes a table, then fails\nCREATE TABLE half (id int);\n\n" +
			"INSERT INTO half VALUES (1);\nALTER TABLE base ADD COLUMN note text;\nINSERT INTO base (id, nope) VALUES (1, 'x');\nSELECT 1;\n",
		"2_broken.down.sql": "DROP TABLE half;",
	})
	m := newMigrate(t, src, d)
	err := m.Up()
	var me *cmigrate.MigrationError
	if !errors.As(err, &me) {
		t.Fatalf("Up: %v (%T), want a *MigrationError", err, err)
	}
	if me.Version != 2 || me.Down || me.Target != 2 || me.JobID == "" {
		t.Errorf("error fields: %+v", me)
	}
	if me.StatementIndex != 4 || me.Statements != 5 || me.Line != 6 || !strings.HasPrefix(me.Statement, "INSERT INTO base (id, nope)") {
		t.Errorf("failed statement %d of %d at line %d: %q", me.StatementIndex, me.Statements, me.Line, me.Statement)
	}
	if !strings.Contains(me.Reason, `column "nope" of relation "base" does not exist`) {
		t.Errorf("reason %q", me.Reason)
	}
	msg := err.Error()
	for _, want := range []string{"migration 2 (up) failed at line 6, statement 4 of 5", `column "nope"`, me.JobID} {
		if !strings.Contains(msg, want) {
			t.Errorf("message %q lacks %q", msg, want)
		}
	}
	checkVersion(t, d, 2, true)
	if n := scalar[int64](t, db, "SELECT count(*) FROM pg_class WHERE relname = 'half' AND relnamespace = current_schema()::regnamespace"); n != 0 {
		t.Error("the failed migration's first statement was not rolled back")
	}
	if n := scalar[int64](t, db, "SELECT count(*) FROM pg_attribute WHERE attrelid = 'base'::regclass AND attname = 'note'"); n != 0 {
		t.Error("the failed migration's ALTER was not rolled back")
	}
	// Dirty: golang-migrate refuses to go on.
	var dirty gomigrate.ErrDirty
	if err := m.Up(); !errors.As(err, &dirty) || dirty.Version != 2 {
		t.Fatalf("Up on a dirty database: %v", err)
	}
	// Fix, force the version the database is really at, go on.
	os.WriteFile(filepath.Join(dir, "2_broken.up.sql"), []byte("CREATE TABLE half (id int);"), 0o644)
	m = newMigrate(t, src, d)
	if err := m.Force(1); err != nil {
		t.Fatal(err)
	}
	if err := m.Up(); err != nil {
		t.Fatal(err)
	}
	checkVersion(t, d, 2, false)
}

// TestFailingDownMigration names the migration by its own version, not the target.
func TestFailingDownMigration(t *testing.T) {
	t.Parallel()
	acct := cartotest.New(t)
	d := openDriver(t, acct, "")
	_, src := writeMigrations(t, map[string]string{
		"1_a.up.sql": "CREATE TABLE a (id int);", "1_a.down.sql": "DROP TABLE a;",
		"3_b.up.sql": "CREATE TABLE b (id int);", "3_b.down.sql": "DROP TABLE no_such_table;",
	})
	m := newMigrate(t, src, d)
	if err := m.Up(); err != nil {
		t.Fatal(err)
	}
	err := m.Steps(-1)
	var me *cmigrate.MigrationError
	if !errors.As(err, &me) || me.Version != 3 || !me.Down || me.Target != 1 {
		t.Fatalf("down: %v (%+v)", err, me)
	}
	if !strings.Contains(err.Error(), "migration 3 (down) failed at line 1, statement 1 of 1: DROP TABLE no_such_table;") {
		t.Errorf("message: %v", err)
	}
	checkVersion(t, d, 1, true)
}

// TestConcurrentUp: two migrators racing on one account apply each migration exactly once.
func TestConcurrentUp(t *testing.T) {
	t.Parallel()
	acct := cartotest.New(t)
	acct.Exec(t, "CREATE TABLE applied (version int, at timestamptz DEFAULT clock_timestamp())")
	files := map[string]string{}
	for _, v := range []string{"1", "2", "3", "4"} {
		files[v+"_m.up.sql"] = "INSERT INTO applied (version) VALUES (" + v + "); SELECT pg_sleep(0.2);"
		files[v+"_m.down.sql"] = "DELETE FROM applied WHERE version = " + v + ";"
	}
	_, src := writeMigrations(t, files)
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i := range 2 {
		d := openDriver(t, acct, "x-lock-timeout=60s")
		m := newMigrate(t, src, d)
		m.LockTimeout = time.Minute
		wg.Go(func() { errs[i] = m.Up() })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil && !errors.Is(err, gomigrate.ErrNoChange) {
			t.Errorf("migrator %d: %v", i, err)
		}
	}
	db := pg(t, acct)
	if got := scalar[string](t, db, "SELECT string_agg(version::text, ',' ORDER BY at) FROM applied"); got != "1,2,3,4" {
		t.Errorf("applied: %s, want 1,2,3,4 once each", got)
	}
}

// TestLeaseTakeOver: a lease of a migrator that died blocks others until it expires, then is
// taken over; the error while it blocks names the holder.
func TestLeaseTakeOver(t *testing.T) {
	t.Parallel()
	acct := cartotest.New(t)
	d := openDriver(t, acct, "x-lock-timeout=1s")
	acct.Exec(t, "INSERT INTO cartomigrate_lock VALUES ('schema_migrations', 'dead-host:42:cafe', now(), now() + interval '3 seconds')")
	start := time.Now()
	err := d.Lock()
	if !errors.Is(err, database.ErrLocked) || !strings.Contains(err.Error(), "dead-host:42:cafe holds it") {
		t.Fatalf("Lock while held: %v", err)
	}
	if e := time.Since(start); e < 900*time.Millisecond || e > 5*time.Second {
		t.Errorf("Lock gave up after %s, want about the 1s lock timeout", e)
	}
	d2 := openDriver(t, acct, "x-lock-timeout=10s")
	start = time.Now()
	if err := d2.Lock(); err != nil {
		t.Fatalf("Lock after the lease expires: %v", err)
	}
	if e := time.Since(start); e < time.Second {
		t.Errorf("took the lease after %s, before it expired", e)
	}
	db := pg(t, acct)
	if h := scalar[string](t, db, "SELECT holder FROM cartomigrate_lock"); h != d2.Config().Holder {
		t.Errorf("holder %q, want %q", h, d2.Config().Holder)
	}
	if err := d2.Unlock(); err != nil {
		t.Fatal(err)
	}
	if n := scalar[int64](t, db, "SELECT count(*) FROM cartomigrate_lock"); n != 0 {
		t.Errorf("Unlock left the lease row")
	}
}

// TestLeaseRenewal: a lease shorter than the time it is held stays held, because it is renewed.
// The renewal comes every 100ms instead of every third of the lease, so one lease (1s, the
// shortest allowed) and a margin are enough to wait.
func TestLeaseRenewal(t *testing.T) {
	t.Parallel()
	acct := cartotest.New(t)
	d := openDriver(t, acct, "x-lock-lease=1s")
	cmigrate.SetRenewEvery(d, 100*time.Millisecond)
	if err := d.Lock(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1300 * time.Millisecond) // more than the lease
	other := openDriver(t, acct, "x-lock-timeout=200ms")
	if err := other.Lock(); !errors.Is(err, database.ErrLocked) {
		t.Fatalf("a renewed lease was taken over: %v", err)
	}
	if err := d.Unlock(); err != nil {
		t.Fatal(err)
	}
	if err := other.Lock(); err != nil {
		t.Fatalf("Lock after Unlock: %v", err)
	}
	other.Unlock()
}

// TestStolenLease: once another migrator holds the lease, neither SetVersion nor a migration job
// of the old holder goes through.
func TestStolenLease(t *testing.T) {
	t.Parallel()
	acct := cartotest.New(t)
	d := openDriver(t, acct, "")
	db := pg(t, acct)
	if err := d.Lock(); err != nil {
		t.Fatal(err)
	}
	defer d.Unlock()
	if _, _, err := d.Version(); err != nil {
		t.Fatal(err)
	}
	if err := d.SetVersion(1, true); err != nil {
		t.Fatal(err)
	}
	acct.Exec(t, "UPDATE cartomigrate_lock SET holder = 'thief'")
	err := d.Run(strings.NewReader("CREATE TABLE stolen (id int);"))
	var me *cmigrate.MigrationError
	if !errors.As(err, &me) || !strings.Contains(me.Reason, "cartomigrate guard: the lock on schema_migrations is no longer held") {
		t.Fatalf("Run with a stolen lease: %v", err)
	}
	if n := scalar[int64](t, db, "SELECT count(*) FROM pg_class WHERE relname = 'stolen'"); n != 0 {
		t.Error("a migration ran under a stolen lease")
	}
	if err := d.SetVersion(1, false); err == nil || !strings.Contains(err.Error(), "no longer held") {
		t.Fatalf("SetVersion with a stolen lease: %v", err)
	}
	checkVersion(t, d, 1, true)
}

// TestVersionChangedUnderneath: a migrator whose view of schema_migrations is stale cannot write
// it or run a migration.
func TestVersionChangedUnderneath(t *testing.T) {
	t.Parallel()
	acct := cartotest.New(t)
	a := openDriver(t, acct, "")
	b := openDriver(t, acct, "")
	if _, _, err := a.Version(); err != nil {
		t.Fatal(err)
	}
	if err := b.SetVersion(5, false); err != nil {
		t.Fatal(err)
	}
	if err := a.SetVersion(1, true); err == nil || !strings.Contains(err.Error(), "schema_migrations no longer holds no version") {
		t.Fatalf("SetVersion on a stale view: %v", err)
	}
	if _, _, err := a.Version(); err != nil {
		t.Fatal(err)
	}
	if err := a.SetVersion(6, true); err != nil {
		t.Fatal(err)
	}
	if err := b.SetVersion(7, true); err == nil {
		t.Fatal("b wrote over a version it had not seen")
	}
	if _, _, err := b.Version(); err != nil {
		t.Fatal(err)
	}
	if err := b.SetVersion(7, true); err != nil {
		t.Fatal(err)
	}
	err := a.Run(strings.NewReader("CREATE TABLE twice (id int);"))
	if err == nil || !strings.Contains(err.Error(), "no longer holds 6 (dirty)") {
		t.Fatalf("Run on a stale view: %v", err)
	}
}

// TestTooLarge: a migration over the Batch limit is refused before any job is made, with the
// limit in the message; one that fits only without the statement markers still runs.
func TestTooLarge(t *testing.T) {
	t.Parallel()
	acct := cartotest.New(t)
	d := openDriver(t, acct, "")
	var jobs int
	d.OnProgress(func(ev cmigrate.Event) {
		if ev.Stats != nil {
			jobs++
		}
	})
	big := "CREATE TABLE big (v text);\nINSERT INTO big VALUES ('" + strings.Repeat("x", 17000) + "');"
	err := d.Run(strings.NewReader(big))
	if !errors.Is(err, cmigrate.ErrTooLarge) || !strings.Contains(err.Error(), "16384") {
		t.Fatalf("Run(17 KB): %v", err)
	}
	if jobs != 0 {
		t.Errorf("%d jobs created for a migration too large", jobs)
	}
	// 300 short statements: the markers (about 50 bytes each) would not fit, the SQL does.
	var b strings.Builder
	b.WriteString("CREATE TABLE many (v int);\n")
	for i := range 299 {
		b.WriteString("INSERT INTO many VALUES (" + strings.Repeat("1", i%5+1) + ");\n")
	}
	if b.Len() > 15000 {
		t.Fatalf("test migration is %d bytes", b.Len())
	}
	if err := d.Run(strings.NewReader(b.String())); err != nil {
		t.Fatalf("Run(%d bytes, 300 statements): %v", b.Len(), err)
	}
	db := pg(t, acct)
	if n := scalar[int64](t, db, "SELECT count(*) FROM many"); n != 299 {
		t.Errorf("%d rows", n)
	}
}

// TestURLParameters: x- parameters are the driver's, and a mistyped one is an error.
func TestURLParameters(t *testing.T) {
	t.Parallel()
	acct := cartotest.New(t)
	d := openDriver(t, acct, "x-migrations-table=my_versions&x-lock-table=my_lock&x-lock-timeout=3&x-lock-lease=10s&x-batch-timeout=1m")
	cfg := d.Config()
	if cfg.MigrationsTable != "my_versions" || cfg.LockTable != "my_lock" || cfg.LockTimeout != 3*time.Second ||
		cfg.LockLease != 10*time.Second || cfg.BatchTimeout != time.Minute {
		t.Errorf("config %+v", cfg)
	}
	if err := d.SetVersion(3, false); err != nil {
		t.Fatal(err)
	}
	// With x-batch-timeout the job is a fallback-shaped job with one query: still one transaction.
	if err := d.Run(strings.NewReader("CREATE TABLE t1 (id int); CREATE TABLE t2 (id int);")); err != nil {
		t.Fatal(err)
	}
	db := pg(t, acct)
	if v := scalar[int64](t, db, "SELECT version FROM my_versions"); v != 3 {
		t.Errorf("my_versions holds %d", v)
	}
	_, err := cmigrate.Open(acct.DSN() + "&x-multi-statement=true")
	if err == nil || !strings.Contains(err.Error(), "unknown URL parameter x-multi-statement") {
		t.Errorf("unknown parameter: %v", err)
	}
	if strings.Contains(err.Error(), acct.MasterKey) {
		t.Errorf("the error shows the key: %v", err)
	}
}

// TestDropLeavesOthers: Drop takes the account's tables and leaves tables it does not own.
func TestDropLeavesOthers(t *testing.T) {
	t.Parallel()
	acct := cartotest.New(t)
	d := openDriver(t, acct, "")
	db := pg(t, acct)
	acct.Exec(t, "CREATE TABLE mine (id int); CREATE VIEW mine_v AS SELECT * FROM mine; CREATE FUNCTION mine_f() RETURNS int LANGUAGE sql AS 'SELECT 1'")
	// A table of the server's, in the account's schema but owned by the superuser.
	if _, err := db.Exec(context.Background(), "CREATE TABLE server_owned (id int)"); err != nil {
		t.Fatal(err)
	}
	if err := d.SetVersion(2, false); err != nil {
		t.Fatal(err)
	}
	if err := d.Drop(); err != nil {
		t.Fatal(err)
	}
	got := scalar[string](t, db, `SELECT string_agg(relname, ',' ORDER BY relname) FROM pg_class
		WHERE relnamespace = current_schema()::regnamespace AND relkind IN ('r', 'v')`)
	if got != "cartomigrate_lock,server_owned" {
		t.Errorf("after Drop: %s", got)
	}
	// Like golang-migrate's postgres driver, functions stay.
	if n := scalar[int64](t, db, "SELECT count(*) FROM pg_proc WHERE proname = 'mine_f'"); n != 1 {
		t.Errorf("Drop dropped a function")
	}
	checkVersion(t, d, database.NilVersion, false)
	if err := d.SetVersion(1, false); err != nil {
		t.Fatal(err)
	}
	checkVersion(t, d, 1, false)
}

// TestExplicitTransaction: a migration wrapped in BEGIN ... COMMIT, as golang-migrate users often
// write them for postgres, is still one guarded transaction; one that commits midway is refused
// before any job is made.
func TestExplicitTransaction(t *testing.T) {
	t.Parallel()
	acct := cartotest.New(t)
	d := openDriver(t, acct, "")
	db := pg(t, acct)
	if err := d.Run(strings.NewReader("BEGIN;\nCREATE TABLE w1 (id int);\nCOMMIT;\n")); err != nil {
		t.Fatal(err)
	}
	err := d.Run(strings.NewReader("BEGIN;\nCREATE TABLE w2 (id int);\nINSERT INTO w2 VALUES ('x');\nCOMMIT;\n"))
	var me *cmigrate.MigrationError
	if !errors.As(err, &me) || me.StatementIndex != 3 || !strings.Contains(me.Reason, "invalid input syntax for type integer") {
		t.Fatalf("failing wrapped migration: %v", err)
	}
	if n := scalar[int64](t, db, "SELECT count(*) FROM pg_class WHERE relname IN ('w1', 'w2') AND relnamespace = current_schema()::regnamespace"); n != 1 {
		t.Errorf("%d of w1, w2 exist, want only w1", n)
	}
	err = d.Run(strings.NewReader("CREATE TABLE w3 (id int);\nCOMMIT;\nCREATE TABLE w4 (id int);"))
	if err == nil || !strings.Contains(err.Error(), "commits before the migration ends") || errors.As(err, &me) && me.JobID != "" {
		t.Fatalf("migration that commits midway: %v", err)
	}
}

// TestBatchTimeout: x-batch-timeout reaches the server as the query's timeout.
func TestBatchTimeout(t *testing.T) {
	t.Parallel()
	acct := cartotest.New(t)
	d := openDriver(t, acct, "x-batch-timeout=1s")
	start := time.Now()
	err := d.Run(strings.NewReader("SELECT pg_sleep(5);"))
	var me *cmigrate.MigrationError
	if !errors.As(err, &me) || !strings.Contains(me.Reason, "statement timeout") {
		t.Fatalf("Run past the batch timeout: %v", err)
	}
	if e := time.Since(start); e > 4*time.Second {
		t.Errorf("the job ran %s, past its 1s timeout", e)
	}
}

// TestQuotedTableNames: table names are identifiers, quoted wherever they are used.
func TestQuotedTableNames(t *testing.T) {
	t.Parallel()
	acct := cartotest.New(t)
	d := openDriver(t, acct, `x-migrations-table=My+"Versions'&x-lock-table=lock+%5Ctable`)
	if err := d.Lock(); err != nil {
		t.Fatal(err)
	}
	if _, _, err := d.Version(); err != nil {
		t.Fatal(err)
	}
	if err := d.SetVersion(4, true); err != nil {
		t.Fatal(err)
	}
	if err := d.Run(strings.NewReader("CREATE TABLE q (id int);\nSELECT 1/0;")); err == nil || !strings.Contains(err.Error(), "division by zero") || !strings.Contains(err.Error(), "statement 2 of 2") {
		t.Fatalf("Run: %v", err)
	}
	if err := d.Unlock(); err != nil {
		t.Fatal(err)
	}
	checkVersion(t, d, 4, true)
	db := pg(t, acct)
	if n := scalar[int64](t, db, `SELECT count(*) FROM "My ""Versions'"`); n != 1 {
		t.Errorf("%d rows", n)
	}
}

// TestRunRecordsClean: the job that applies a migration also records its version clean, in the
// same transaction, so a migrator that dies while its job runs leaves a true version behind;
// a migration's own trailing COMMIT comes after that record.
func TestRunRecordsClean(t *testing.T) {
	t.Parallel()
	acct := cartotest.New(t)
	other := openDriver(t, acct, "")
	for i, body := range []string{
		"CREATE TABLE rc1 (id int)",
		"BEGIN;\nCREATE TABLE rc2 (id int);\nCOMMIT;",
		"CREATE TABLE rc3 (id int); -- no newline at the end",
	} {
		d := openDriver(t, acct, "")
		if _, _, err := d.Version(); err != nil {
			t.Fatal(err)
		}
		if err := d.SetVersion(i+1, true); err != nil {
			t.Fatal(err)
		}
		if err := d.Run(strings.NewReader(body)); err != nil {
			t.Fatal(err)
		}
		// What a migrator that died right now would leave.
		checkVersion(t, other, i+1, false)
		if err := d.SetVersion(i+1, false); err != nil {
			t.Fatalf("golang-migrate's SetVersion after Run: %v", err)
		}
	}
	// Down to nothing: the first migration's down records no version.
	d := openDriver(t, acct, "")
	d.Version()
	if err := d.SetVersion(database.NilVersion, true); err != nil {
		t.Fatal(err)
	}
	if err := d.Run(strings.NewReader("DROP TABLE rc1; DROP TABLE rc2; DROP TABLE rc3;")); err != nil {
		t.Fatal(err)
	}
	checkVersion(t, other, database.NilVersion, false)
}

// TestLeaseRenewedDuringJob: a migration that runs longer than the lease keeps the lease (it is
// renewed while the job is polled), so nobody takes over and the job's holder guard passes.
func TestLeaseRenewedDuringJob(t *testing.T) {
	t.Parallel()
	acct := cartotest.New(t)
	d := openDriver(t, acct, "x-lock-lease=1200ms")
	if err := d.Lock(); err != nil {
		t.Fatal(err)
	}
	defer d.Unlock()
	if _, _, err := d.Version(); err != nil {
		t.Fatal(err)
	}
	if err := d.SetVersion(1, true); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- d.Run(strings.NewReader("SELECT pg_sleep(3); CREATE TABLE long_one (id int);")) }()
	time.Sleep(2 * time.Second) // past the first lease
	other := openDriver(t, acct, "x-lock-timeout=500ms")
	if err := other.Lock(); !errors.Is(err, database.ErrLocked) {
		t.Errorf("the lease was taken during a long job: %v", err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	checkVersion(t, other, 1, false)
}
