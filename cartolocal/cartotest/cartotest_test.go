package cartotest_test

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/gocarto/carto/cartolocal/cartotest"
	"github.com/gocarto/carto/cartolocal/pgcluster"
)

func TestMain(m *testing.M) {
	if os.Getenv("CARTOTEST_TEST_WITHOUT_MAIN") == "1" {
		os.Exit(m.Run()) // for TestNewWithoutMain
	}
	os.Exit(cartotest.Main(m))
}

// rerun runs this test binary again, running only the test named run, with env added.
func rerun(t *testing.T, run string, env ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^"+run+"$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func TestNewWithoutMain(t *testing.T) {
	out, err := rerun(t, "TestExec", "CARTOTEST_TEST_WITHOUT_MAIN=1")
	if err == nil || !strings.Contains(out, "func TestMain(m *testing.M) { os.Exit(cartotest.Main(m)) }") {
		t.Errorf("New without Main: %v\n%s", err, out)
	}
}

// TestExistingServer runs TestExec in a process told to use an existing PostgreSQL.
func TestExistingServer(t *testing.T) {
	ctx := context.Background()
	c, err := pgcluster.Start(ctx, pgcluster.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Stop()
	out, err := rerun(t, "TestExec", cartotest.EnvPGURL+"="+c.URL())
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	conn, err := pgx.Connect(ctx, c.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var n int
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM cartolocal.users").Scan(&n); err != nil || n != 1 {
		t.Errorf("accounts made on the existing server: %d, %v", n, err)
	}
}

func TestNew(t *testing.T) {
	start := time.Now()
	a := cartotest.New(t)
	t.Logf("first New: %v", time.Since(start))
	if !strings.HasPrefix(a.URL, "http://127.0.0.1:") || !strings.HasSuffix(a.URL, "/user/"+a.User+"/") {
		t.Errorf("URL = %q", a.URL)
	}
	if len(a.MasterKey) != 40 || len(a.PublicKey) != 40 || a.MasterKey == a.PublicKey {
		t.Errorf("keys %q %q", a.MasterKey, a.PublicKey)
	}
	if got, want := a.DSN(), "carto://"+a.User+":"+a.MasterKey+"@"+strings.TrimPrefix(strings.TrimSuffix(a.URL, "/user/"+a.User+"/"), "http://")+"/user/"+a.User+"?sslmode=disable"; got != want {
		t.Errorf("DSN = %q, want %q", got, want)
	}
	if c := a.Client(t); c.User() != a.User || !c.HasAPIKey() {
		t.Errorf("Client: user %q, key %v", c.User(), c.HasAPIKey())
	}
	t.Setenv("CARTO_API_KEY", "from-the-environment")
	if c := a.PublicClient(t); c.HasAPIKey() {
		t.Error("PublicClient carries a key")
	}

	start = time.Now()
	b := cartotest.New(t)
	t.Logf("second New: %v", time.Since(start))
	if b.User == a.User || b.URL == a.URL {
		t.Errorf("two accounts share a name: %q", a.User)
	}

	resp, err := http.Get(a.URL + "api/v1/version")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var v map[string]string
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil || v["cartodb_sql_api"] == "" {
		t.Errorf("version: %v %v", v, err)
	}
}

func TestExec(t *testing.T) {
	a := cartotest.New(t)
	a.Exec(t, "CREATE TABLE things (n int); INSERT INTO things VALUES (1), (2)")

	ctx := context.Background()
	conn, err := pgx.Connect(ctx, a.PGURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var owner string
	var n int
	err = conn.QueryRow(ctx, `SELECT tableowner, (SELECT count(*) FROM `+pgx.Identifier{a.User, "things"}.Sanitize()+`)
		FROM pg_tables WHERE schemaname = $1 AND tablename = 'things'`, a.User).Scan(&owner, &n)
	if err != nil {
		t.Fatal(err)
	}
	if owner != "cartodb_user_"+a.User || n != 2 {
		t.Errorf("owner %q, %d rows", owner, n)
	}
}

func BenchmarkNew(b *testing.B) {
	cartotest.New(b) // the server starts outside the measurement
	b.ResetTimer()
	for b.Loop() {
		cartotest.New(b)
	}
}
