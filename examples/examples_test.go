package examples

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/gocarto/carto/account"
	"github.com/gocarto/carto/cartolocal/cartotest"
	_ "github.com/gocarto/carto/driver"
)

func TestMain(m *testing.M) {
	code := cartotest.Main(m)
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// row is one line of README.md's table of examples.
type row struct {
	name    string // the example's directory, or the planned one's name
	status  string // "example", "planned" or "not planned"
	command string // the command line, for an example
	line    int
}

var (
	linkCell    = regexp.MustCompile(`^\[([a-z0-9_]+)\]\(([a-z0-9_]+)/\)$`)
	plannedCell = regexp.MustCompile(`^(planned|not planned): ([a-z0-9_]+)\b`)
	commandCell = regexp.MustCompile("^`(go run \\./examples/([a-z0-9_]+)(?: [^`]*)?)`$")
)

// readmeRows parses the table of README.md: the rows under the header "| example |".
func readmeRows(t *testing.T) []row {
	t.Helper()
	f, err := os.Open("README.md")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var (
		rows    []row
		inTable bool
		n       int
	)
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		n++
		line := sc.Text()
		if strings.HasPrefix(line, "| example |") {
			inTable = true
			continue
		}
		if !inTable || strings.HasPrefix(line, "|---") {
			continue
		}
		if !strings.HasPrefix(line, "|") {
			break
		}
		cells := strings.Split(strings.Trim(line, "|"), "|")
		if len(cells) != 3 {
			t.Errorf("README.md:%d: want 3 cells (a | in a command?): %s", n, line)
			continue
		}
		for i := range cells {
			cells[i] = strings.TrimSpace(cells[i])
		}
		r := row{line: n}
		switch m := linkCell.FindStringSubmatch(cells[0]); {
		case m != nil:
			r.name, r.status = m[1], "example"
			if m[2] != m[1] {
				t.Errorf("README.md:%d: %s links to %s/", n, m[1], m[2])
			}
			c := commandCell.FindStringSubmatch(cells[2])
			if c == nil || c[2] != r.name {
				t.Errorf("README.md:%d: %s needs a command `go run ./examples/%s ...`, not %q", n, r.name, r.name, cells[2])
				continue
			}
			r.command = c[1]
		default:
			p := plannedCell.FindStringSubmatch(cells[0])
			if p == nil {
				t.Errorf("README.md:%d: first cell must be [name](name/), planned: name or not planned: name, not %q", n, cells[0])
				continue
			}
			r.status, r.name = p[1], p[2]
		}
		rows = append(rows, r)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(rows) == 0 {
		t.Fatal("README.md has no table of examples")
	}
	return rows
}

// exampleDirs lists the directories holding an example: a main package.
func exampleDirs(t *testing.T) []string {
	t.Helper()
	entries, err := os.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	var dirs []string
	for _, e := range entries {
		if !e.IsDir() || e.Name() == "internal" || e.Name() == "testdata" || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		dirs = append(dirs, e.Name())
	}
	return dirs
}

// TestReadmeListsEveryExample: every example directory has exactly one row with a command, every
// row links to a directory that exists, and no planned row names an example that exists.
func TestReadmeListsEveryExample(t *testing.T) {
	rows := readmeRows(t)
	dirs := exampleDirs(t)
	seen := map[string]int{}
	for _, r := range rows {
		if r.name == "" {
			continue
		}
		if prev, ok := seen[r.name]; ok {
			t.Errorf("README.md:%d: %s is listed again (first on line %d)", r.line, r.name, prev)
		}
		seen[r.name] = r.line
		exists := slices.Contains(dirs, r.name)
		switch {
		case r.status == "example" && !exists:
			t.Errorf("README.md:%d: examples/%s does not exist", r.line, r.name)
		case r.status != "example" && exists:
			t.Errorf("README.md:%d: %s is marked %s but examples/%s exists: make the row [%[2]s](%[2]s/) with a command", r.line, r.name, r.status, r.name)
		}
	}
	for _, d := range dirs {
		if _, ok := seen[d]; !ok {
			t.Errorf("examples/%s has no row in README.md: add one, with the carto-python script it replaces and a command", d)
		}
	}
}

// buildExamples builds every example, once per test process, into a temporary directory.
func buildExamples(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		buildDir, buildErr = os.MkdirTemp("", "examples-bin-")
		if buildErr != nil {
			return
		}
		// One go build for all: the packages they share compile once.
		cmd := exec.Command("go", "build", "-o", buildDir+string(filepath.Separator), "./...")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return buildDir
}

// shell runs a README command with sh in the repository's root, the example's binary standing in
// for go run, and exactly the environment env (plus a PATH for sh).
func shell(ctx context.Context, bin string, r row, env ...string) *exec.Cmd {
	script := `"$EXAMPLES_BIN/` + r.name + `"` + strings.TrimPrefix(r.command, "go run ./examples/"+r.name)
	cmd := exec.CommandContext(ctx, "sh", "-c", script)
	cmd.Dir = ".."
	cmd.Env = append([]string{"PATH=/usr/bin:/bin", "EXAMPLES_BIN=" + bin}, env...)
	return cmd
}

// fixtures prepare what one example's command needs beyond the migrations, and return the
// variables its command line uses. They run once the migrations are applied.
var fixtures = map[string]func(t *testing.T, ctx context.Context, acct *cartotest.Account, db *sql.DB) []string{
	"kill_query": func(t *testing.T, ctx context.Context, acct *cartotest.Account, db *sql.DB) []string {
		return []string{"PID=" + fmt.Sprint(slowQuery(t, ctx, db))}
	},
	"import_sync_table":            sourceURL,
	"import_sync_table_as_dataset": sourceURL,
	"import_from_database":         connection,
	"export_map": func(t *testing.T, ctx context.Context, acct *cartotest.Account, _ *sql.DB) []string {
		placesMap(t, ctx, acct)
		return []string{"TMPDIR=" + t.TempDir()}
	},
	"map_info": func(t *testing.T, ctx context.Context, acct *cartotest.Account, _ *sql.DB) []string {
		placesMap(t, ctx, acct)
		return nil
	},
	"user_info": func(t *testing.T, ctx context.Context, acct *cartotest.Account, _ *sql.DB) []string {
		return []string{"CARTO_USER=" + acct.User}
	},
	// Where the files go.
	"export_dataset": outDir,
	"copy_example":   outDir,
	// The destination: a second account.
	"duplicate_table": func(t *testing.T, ctx context.Context, acct *cartotest.Account, db *sql.DB) []string {
		dest := cartotest.New(t)
		return []string{"CARTO_DEST_BASE_URL=" + dest.URL, "CARTO_DEST_API_KEY=" + dest.MasterKey}
	},
	"create_anonymous_map": tornados,
	// create_named_map, which runs before it, stored the template; its layer reads tornados_11.
	"instantiate_named_map": tornados,
}

// sourceURL serves a small CSV (two capitals) for the sync examples, as SOURCE_URL.
func sourceURL(t *testing.T, ctx context.Context, acct *cartotest.Account, db *sql.DB) []string {
	src := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/csv")
		io.WriteString(w, "name,lat,lon\nMadrid,40.4168,-3.7038\nParis,48.8566,2.3522\n")
	}))
	t.Cleanup(src.Close)
	return []string{"SOURCE_URL=" + src.URL + "/capitals.csv"}
}

// connection makes a second database on cartolocal's PostgreSQL with a table, and gives the
// connector that reads it as CONNECTION, in carto-python's JSON.
func connection(t *testing.T, ctx context.Context, acct *cartotest.Account, db *sql.DB) []string {
	name := "shop_" + acct.User
	admin := acct.Server.AdminPool()
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Exec(context.Background(), "DROP DATABASE "+name+" WITH (FORCE)") })
	cfg, err := pgx.ParseConfig(acct.PGURL)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Database = name
	c, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	if _, err := c.Exec(ctx, "CREATE TABLE stores (name text, lat float8, lon float8); INSERT INTO stores VALUES ('North', 40.45, -3.69)"); err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(map[string]any{"connector": map[string]any{"provider": "postgres", "table": "stores",
		"connection": map[string]any{"server": cfg.Host, "port": cfg.Port, "database": name, "username": cfg.User, "password": cfg.Password, "sslmode": "disable"}}})
	return []string{"CONNECTION=" + string(b)}
}

// placesMap makes sure the account has the map "Places map" of the places dataset, as a user
// would have made it in CARTO's editor.
func placesMap(t *testing.T, ctx context.Context, acct *cartotest.Account) {
	t.Helper()
	maps := account.NewVisualizations(acct.Client(t))
	if _, err := maps.Get(ctx, "Places map"); err == nil {
		return
	}
	if _, err := maps.Create(ctx, account.MapSpec{Name: "Places map", Tables: []string{"places"}}); err != nil {
		t.Fatal(err)
	}
}

// outDir gives an example a directory of its own to write files in, as OUT_DIR.
func outDir(t *testing.T, ctx context.Context, acct *cartotest.Account, db *sql.DB) []string {
	return []string{"OUT_DIR=" + t.TempDir()}
}

// tornados makes tornados_11, the table the seed's map templates draw.
func tornados(t *testing.T, ctx context.Context, acct *cartotest.Account, db *sql.DB) []string {
	t.Helper()
	_, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS tornados_11 (name text, the_geom geometry(Geometry,4326))`)
	if err == nil {
		_, err = db.ExecContext(ctx, `INSERT INTO tornados_11 VALUES ('t1', ST_GeomFromText('POLYGON((-97 35,-96 35,-96 36,-97 35))', 4326))`)
	}
	if err == nil {
		_, err = db.ExecContext(ctx, `SELECT CDB_CartodbfyTable('tornados_11')`)
	}
	if err != nil {
		t.Fatalf("tornados_11: %v", err)
	}
	return nil
}

// slowQuery starts a query that sleeps for a minute and returns its backend's pid once
// pg_stat_activity shows it; the query ends with the test.
func slowQuery(t *testing.T, ctx context.Context, db *sql.DB) int64 {
	t.Helper()
	slowCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, _ = db.ExecContext(slowCtx, "SELECT pg_sleep(60) /* examples_test */") // cancelled on purpose
	}()
	t.Cleanup(func() { stop(); <-done })
	deadline := time.Now().Add(15 * time.Second)
	for {
		var pid int64
		err := db.QueryRowContext(ctx, `SELECT pid::int8 AS pid FROM pg_stat_activity
			WHERE usename = current_user AND pid <> pg_backend_pid() AND query LIKE 'SELECT pg_sleep(60) /* examples_test */%'`).Scan(&pid)
		if err == nil {
			return pid
		}
		if !errors.Is(err, sql.ErrNoRows) || time.Now().After(deadline) {
			t.Fatalf("finding the slow query: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// newAccount returns a fresh cartolocal account with migrations/example applied, as the README's
// recipe leaves it.
func newAccount(t *testing.T, ctx context.Context) (*cartotest.Account, *sql.DB) {
	t.Helper()
	acct := cartotest.New(t)
	files, err := filepath.Glob(filepath.Join("..", "migrations", "example", "*.up.sql"))
	if err != nil || len(files) == 0 {
		t.Fatalf("migrations/example: %v", err)
	}
	slices.Sort(files)
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		acct.Exec(t, string(b))
	}
	db, err := sql.Open("carto", acct.DSN())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return acct, db
}

// TestExamplesAgainstCartolocal runs every example's README command against a cartolocal account
// with only CARTO_BASE_URL and CARTO_API_KEY set, as cartolocal prints them.
func TestExamplesAgainstCartolocal(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs every example")
	}
	bin := buildExamples(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	acct, db := newAccount(t, ctx)
	for _, r := range readmeRows(t) {
		if r.status != "example" {
			continue
		}
		t.Run(r.name, func(t *testing.T) {
			env := []string{"CARTO_BASE_URL=" + acct.URL, "CARTO_API_KEY=" + acct.MasterKey}
			if f := fixtures[r.name]; f != nil {
				env = append(env, f(t, ctx, acct, db)...)
			}
			out, err := shell(ctx, bin, r, env...).CombinedOutput()
			if err != nil {
				t.Fatalf("%s: %v\n%s", r.command, err, out)
			}
			if len(strings.TrimSpace(string(out))) == 0 {
				t.Errorf("%s printed nothing", r.command)
			}
			if strings.Contains(string(out), acct.MasterKey) {
				t.Errorf("%s printed the key:\n%s", r.command, out)
			}
			t.Logf("%s\n%s", r.command, out)
		})
	}
}

// TestExamplesNeverShowTheKey runs every example with a key in the environment or on the command
// line, in every way that prints usage or an error, and checks the key is not in what it printed.
func TestExamplesNeverShowTheKey(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs every example")
	}
	bin := buildExamples(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	acct := cartotest.New(t)
	wrongKey := strings.Repeat("0badc0de", 5) // shaped like a master key, known to no account
	// A URL where nothing listens: the dial fails.
	deadURL := "http://127.0.0.1:9/user/" + acct.User + "/"
	for _, r := range readmeRows(t) {
		if r.status != "example" {
			continue
		}
		t.Run(r.name, func(t *testing.T) {
			t.Parallel() // most of the time goes to the client's retries of the unreachable server
			exe := filepath.Join(bin, r.name)
			goodEnv := []string{"CARTO_BASE_URL=" + acct.URL, "CARTO_API_KEY=" + acct.MasterKey, "PID=1"}
			for _, c := range []struct {
				what   string
				cmd    *exec.Cmd
				failed bool // the command must fail
			}{
				{"-help", exec.CommandContext(ctx, exe, "-help"), false},
				{"an unknown flag after -api-key", exec.CommandContext(ctx, exe, "-api-key", acct.MasterKey, "-no-such-flag"), true},
				{"the key as the base URL's user", exec.CommandContext(ctx, exe, "-base-url", "http://"+acct.MasterKey+"@127.0.0.1:9/user/x/"), true},
				{"a wrong key", shell(ctx, bin, r, "CARTO_BASE_URL="+acct.URL, "CARTO_API_KEY="+wrongKey, "PID=1"), true},
				{"an unreachable server", shell(ctx, bin, r, "CARTO_BASE_URL="+deadURL, "CARTO_API_KEY="+acct.MasterKey, "PID=1"), true},
				{"-api-key and an unreachable server", shell(ctx, bin, r, "CARTO_BASE_URL="+deadURL, "PID=1"), true},
			} {
				if c.cmd.Env == nil {
					c.cmd.Env = append([]string{"PATH=/usr/bin:/bin"}, goodEnv...)
				}
				if c.what == "-api-key and an unreachable server" {
					c.cmd.Args[len(c.cmd.Args)-1] += " -api-key " + acct.MasterKey
				}
				out, err := c.cmd.CombinedOutput()
				if c.failed && err == nil {
					t.Errorf("%s: succeeded:\n%s", c.what, out)
				}
				for _, key := range []string{acct.MasterKey, wrongKey} {
					if strings.Contains(string(out), key) {
						t.Errorf("%s: the key was printed:\n%s", c.what, out)
					}
				}
			}
		})
	}
}

var (
	buildOnce sync.Once
	buildDir  string
	buildErr  error
)
