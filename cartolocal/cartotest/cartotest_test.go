package cartotest_test

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/gocarto/carto/cartolocal/cartotest"
)

func TestMain(m *testing.M) { os.Exit(cartotest.Main(m)) }

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
