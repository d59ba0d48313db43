package main

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/gocarto/carto/cartolocal/cartotest"
)

func TestMain(m *testing.M) {
	code := cartotest.Main(m)
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// syncBuffer is a bytes.Buffer safe for the signal goroutine and the test to share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// runCLI runs the command in process, as main would, with env as its environment and stdin as
// what the user types.
func runCLI(t *testing.T, env map[string]string, stdin string, args ...string) (int, string) {
	t.Helper()
	var out syncBuffer
	c := &cli{
		stdin:   bufio.NewReader(strings.NewReader(stdin)),
		con:     &console{w: &out},
		getenv:  func(k string) string { return env[k] },
		signals: make(chan os.Signal),
	}
	code := c.run(args)
	t.Logf("cartomigrate %s → %d\n%s", strings.Join(redactArgs(args), " "), code, out.String())
	return code, out.String()
}

var keyInURL = regexp.MustCompile(`(carto://[^:/]+:)[^@]+@`)

func redactArgs(args []string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		out[i] = keyInURL.ReplaceAllString(a, "${1}KEY@")
	}
	return out
}

func expect(t *testing.T, gotCode int, out string, wantCode int, wants ...string) {
	t.Helper()
	if gotCode != wantCode {
		t.Errorf("exit %d, want %d; output:\n%s", gotCode, wantCode, out)
	}
	for _, w := range wants {
		if !strings.Contains(out, w) {
			t.Errorf("output lacks %q:\n%s", w, out)
		}
	}
}

func writeMigrations(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func pgConn(t *testing.T, acct *cartotest.Account) *pgx.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, acct.PGURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

func tableExists(t *testing.T, conn *pgx.Conn, schema, table string) bool {
	t.Helper()
	var ok bool
	if err := conn.QueryRow(context.Background(), "SELECT to_regclass($1) IS NOT NULL", pgx.Identifier{schema, table}.Sanitize()).Scan(&ok); err != nil {
		t.Fatal(err)
	}
	return ok
}

var migrationLine = regexp.MustCompile(`(?m)^(\d+)/([ud]) (\S+) \(([^,]+), Batch job ([0-9a-f-]{36})\)$`)

func TestUpDownGotoVersion(t *testing.T) {
	t.Parallel()
	acct := cartotest.New(t)
	env := map[string]string{"CARTO_DATABASE_URL": acct.DSN()}
	path := "../../migrations/example"

	code, out := runCLI(t, env, "", "-path", path, "up", "2")
	expect(t, code, out, 0, "1/u create_places (", "2/u load_places (")
	if n := len(migrationLine.FindAllString(out, -1)); n != 2 {
		t.Errorf("%d migration lines with duration and job, want 2", n)
	}
	code, out = runCLI(t, env, "", "-path", path, "up")
	expect(t, code, out, 0, "3/u add_service_area", "6/u normalize_category_trigger")
	code, out = runCLI(t, env, "", "version")
	expect(t, code, out, 0, "version 6\n")
	code, out = runCLI(t, env, "", "-path", path, "up")
	expect(t, code, out, 0, "no change")

	code, out = runCLI(t, env, "", "-path", path, "down", "2")
	expect(t, code, out, 0, "6/d normalize_category_trigger", "5/d places_near_function")
	code, out = runCLI(t, env, "", "version")
	expect(t, code, out, 0, "version 4\n")
	code, out = runCLI(t, env, "", "-path", path, "goto", "5")
	expect(t, code, out, 0, "5/u places_near_function")
	code, out = runCLI(t, env, "", "-path", path, "goto", "5")
	expect(t, code, out, 0, "no change")

	code, out = runCLI(t, env, "n\n", "-path", path, "down")
	expect(t, code, out, 1, "Are you sure you want to apply all down migrations? [y/N]", "Not applying all down migrations")
	code, out = runCLI(t, env, "y\n", "-path", path, "down")
	expect(t, code, out, 0, "Applying all down migrations", "1/d create_places")
	code, out = runCLI(t, env, "", "version")
	expect(t, code, out, 1, "error: no migration")
	code, out = runCLI(t, env, "", "-path", path, "down", "-all")
	expect(t, code, out, 0, "no change")

	// -database wins over the environment; -verbose adds timestamps and the time summary.
	code, out = runCLI(t, map[string]string{"CARTO_DATABASE_URL": "carto://x:y@127.0.0.1:1/user/x"}, "", "-database", acct.DSN(), "-verbose", "-path", path, "up", "1")
	expect(t, code, out, 0, "Finished 1/u create_places (read ", "Batch jobs:", "Finished after")
	if strings.Contains(out, acct.MasterKey) {
		t.Errorf("the output shows the API key")
	}
}

func TestFailureDirtyAndForce(t *testing.T) {
	t.Parallel()
	acct := cartotest.New(t)
	conn := pgConn(t, acct)
	env := map[string]string{"CARTO_DATABASE_URL": acct.DSN()}
	dir := writeMigrations(t, map[string]string{
		"1_base.up.sql": "CREATE TABLE base (id int);", "1_base.down.sql": "DROP TABLE base;",
		"2_bad.up.sql": "CREATE TABLE extra (id int);\nSELECT no_such_function();", "2_bad.down.sql": "DROP TABLE extra;",
	})
	code, out := runCLI(t, env, "", "-path", dir, "up")
	expect(t, code, out, 1, "1/u base", "error: migration 2 (up) failed at line 2, statement 2 of 2: SELECT no_such_function();: function no_such_function() does not exist",
		"Version 2 is left dirty", "still at version 1", "cartomigrate force 1")
	if tableExists(t, conn, acct.User, "extra") {
		t.Error("the failed migration was not rolled back")
	}
	code, out = runCLI(t, env, "", "version")
	expect(t, code, out, 0, "version 2 (dirty)")
	code, out = runCLI(t, env, "", "-source", "file://"+dir, "-prefetch", "1", "up")
	expect(t, code, out, 1, "error: Dirty database version 2. Fix and force version.", "cartomigrate force -if-dirty 2 1")
	code, out = runCLI(t, env, "", "force", "-if-dirty", "2", "1")
	expect(t, code, out, 0)
	// Once the version is no longer 2 (dirty), -if-dirty refuses: had a migration's job recorded
	// 2, forcing 1 would make the migration run twice.
	code, out = runCLI(t, env, "", "force", "-if-dirty", "2", "1")
	expect(t, code, out, 1, "nothing forced: the database is at version 1, not version 2 (dirty)")
	code, out = runCLI(t, env, "", "version")
	expect(t, code, out, 0, "version 1\n")
	code, out = runCLI(t, env, "", "force", "-1")
	expect(t, code, out, 0)
	code, out = runCLI(t, env, "", "version")
	expect(t, code, out, 1, "no migration")
}

func TestDrop(t *testing.T) {
	t.Parallel()
	acct := cartotest.New(t)
	conn := pgConn(t, acct)
	env := map[string]string{"CARTO_DATABASE_URL": acct.DSN()}
	code, out := runCLI(t, env, "", "-path", "../../migrations/example", "up")
	expect(t, code, out, 0)
	code, out = runCLI(t, env, "no\n", "drop")
	expect(t, code, out, 1, "Are you sure you want to drop the entire database schema? [y/N]", "Aborted dropping the entire database schema")
	if !tableExists(t, conn, acct.User, "places") {
		t.Fatal("drop ran without a yes")
	}
	code, out = runCLI(t, env, "y\n", "drop")
	expect(t, code, out, 0, "Dropping the entire database schema")
	if tableExists(t, conn, acct.User, "places") || tableExists(t, conn, acct.User, "schema_migrations") {
		t.Error("drop left tables")
	}
	code, out = runCLI(t, env, "", "version")
	expect(t, code, out, 1, "no migration")
	code, out = runCLI(t, env, "", "-path", "../../migrations/example", "up")
	expect(t, code, out, 0, "6/u")
	code, out = runCLI(t, env, "", "drop", "-f")
	expect(t, code, out, 0)
}

func TestCreate(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	code, out := runCLI(t, nil, "", "create", "-seq", "-dir", dir, "add_roads")
	expect(t, code, out, 0, filepath.Join(dir, "000001_add_roads.up.sql"), filepath.Join(dir, "000001_add_roads.down.sql"))
	code, out = runCLI(t, nil, "", "-path", dir, "create", "-seq", "-digits", "3", "add_rivers")
	expect(t, code, out, 0, "002_add_rivers.up.sql")
	code, out = runCLI(t, nil, "", "create", "-ext", ".pgsql", "-dir", dir, "-format", "unix", "ts")
	expect(t, code, out, 0, "_ts.up.pgsql")
	code, out = runCLI(t, nil, "", "create", "-dir", dir, "-tz", "Europe/Madrid", "tz")
	expect(t, code, out, 0, "_tz.down.sql")
	code, out = runCLI(t, nil, "", "create", "-dir", dir, "-format", "2006", "-ext", "x", "same")
	expect(t, code, out, 0)
	code, out = runCLI(t, nil, "", "create", "-dir", dir, "-format", "2006", "-ext", "x", "same")
	expect(t, code, out, 1, "duplicate migration version")
	code, out = runCLI(t, nil, "", "create", "-seq", "-format", "unix", "-dir", dir, "x")
	expect(t, code, out, 1, "the seq and format options are mutually exclusive")
	code, out = runCLI(t, nil, "", "create", "-seq", "-digits", "0", "-dir", dir, "x")
	expect(t, code, out, 1, "digits must be positive")
	code, out = runCLI(t, nil, "", "create", "-dir", dir)
	expect(t, code, out, 2, "error: please specify name")
	code, out = runCLI(t, nil, "", "create", "-dir", dir, "../escape")
	expect(t, code, out, 1, "must not be a path")
	files, _ := filepath.Glob(filepath.Join(dir, "*"))
	if len(files) != 10 {
		t.Errorf("%d files: %v", len(files), files)
	}
}

func TestUsage(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		args  []string
		code  int
		wants []string
	}{
		{nil, 2, []string{"Usage: cartomigrate OPTIONS COMMAND"}},
		{[]string{"frobnicate"}, 2, []string{"error: unknown command \"frobnicate\"", "Commands:"}},
		{[]string{"-nope", "up"}, 2, []string{"flag provided but not defined: -nope"}},
		{[]string{"-help"}, 0, []string{"create [-ext E]", "goto V", "up [N]", "down [N] [-all]", "drop [-f]", "force [-if-dirty N] V", "version      Print"}},
		{[]string{"-version"}, 0, []string{"0."}},
		{[]string{"up", "-help"}, 0, []string{"up [N]       Apply all or N up migrations"}},
		{[]string{"up", "many"}, 2, []string{"error: can't read limit argument N"}},
		{[]string{"down", "-all", "3"}, 2, []string{"-all cannot be used with other arguments"}},
		{[]string{"down", "1", "2"}, 2, []string{"too many arguments"}},
		{[]string{"goto"}, 2, []string{"error: please specify version argument V"}},
		{[]string{"goto", "-3"}, 2, []string{"error: can't read version argument V"}},
		{[]string{"force", "-2"}, 2, []string{"argument V must be >= -1"}},
		{[]string{"force", "x"}, 2, []string{"can't read version argument V"}},
		{[]string{"version"}, 2, []string{"no database: give -database"}},
		{[]string{"-database", "postgres://localhost/db", "version"}, 2, []string{"must be a carto:// URL"}},
		{[]string{"-database", "carto://u:k@127.0.0.1:1/user/u", "up"}, 2, []string{"no migrations: give -path"}},
		{[]string{"-database", "carto://u:secretkey@127.0.0.1:1/user/u", "-path", "/nonexistent", "up"}, 1, []string{"failed to open source"}},
		// The repository's migrations/ holds only the example's directory, as the README's
		// first example once pointed at.
		{[]string{"-database", "carto://u:secretkey@127.0.0.1:1/user/u", "-path", "../../migrations", "up"}, 1, []string{"error: no migration files found in ../../migrations"}},
		{[]string{"-database", "carto://u:secretkey@127.0.0.1:1/user/u", "version"}, 1, []string{"error: failed to open database"}},
		{[]string{"-database", "carto://u:secret%zzkey@127.0.0.1:1/user/u", "version"}, 2, []string{"does not parse as a URL"}},
		{[]string{"-database", "carto://u:secretkey@", "version"}, 1, []string{"invalid DSN"}},
		{[]string{"-database", "carto://u:secretkey@127.0.0.1:1/user/u?x-bogus=1", "version"}, 1, []string{"unknown URL parameter x-bogus"}},
	} {
		code, out := runCLI(t, nil, "", tt.args...)
		expect(t, code, out, tt.code, tt.wants...)
		if strings.Contains(out, "secretkey") {
			t.Errorf("%v: the output shows the key:\n%s", tt.args, out)
		}
	}
}

// TestAPIKeyFromEnvironment: a URL without a key takes $CARTO_API_KEY.
func TestAPIKeyFromEnvironment(t *testing.T) {
	acct := cartotest.New(t)
	t.Setenv("CARTO_API_KEY", acct.MasterKey)
	noKey := strings.Replace(acct.DSN(), ":"+acct.MasterKey+"@", "@", 1)
	code, out := runCLI(t, map[string]string{"CARTO_DATABASE_URL": noKey}, "", "force", "3")
	expect(t, code, out, 0)
	code, out = runCLI(t, map[string]string{"CARTO_DATABASE_URL": noKey}, "", "version")
	expect(t, code, out, 0, "version 3\n")
}

func TestConsoleLiveLine(t *testing.T) {
	var out bytes.Buffer
	c := &console{w: &out, terminal: true}
	c.setLive("1/u job running 3s")
	c.Println("1/u create_places (1s)")
	c.clearLive()
	want := "\r\033[K1/u job running 3s" + "\r\033[K1/u create_places (1s)\n1/u job running 3s" + "\r\033[K"
	if out.String() != want {
		t.Errorf("terminal output %q, want %q", out.String(), want)
	}
	out.Reset()
	c = &console{w: &out}
	c.setLive("ignored")
	c.Println("line")
	if out.String() != "line\n" {
		t.Errorf("off a terminal: %q", out.String())
	}
}
