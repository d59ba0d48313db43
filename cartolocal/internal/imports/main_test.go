package imports_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/gocarto/carto/cartolocal/cartotest"
	"github.com/gocarto/carto/cartolocal/internal/imports"
)

func TestMain(m *testing.M) { os.Exit(cartotest.Main(m)) }

// env is an imports Server on the test process's cartolocal database, behind its own HTTP
// server, serving the accounts the tests made.
type env struct {
	srv   *imports.Server
	http  *httptest.Server
	admin *pgxpool.Pool
	pgURL string
	dir   string
	mu    sync.Mutex
	accts map[string]testAccount
	// clock is the scheduler's time; tests move it. It starts on a whole second, so that the
	// times PostgreSQL stores (to the microsecond) are exactly the clock's.
	clockMu sync.Mutex
	clock   time.Time
}

type testAccount struct {
	imports.Account
	key string
}

func (e *env) now() time.Time {
	e.clockMu.Lock()
	defer e.clockMu.Unlock()
	return e.clock
}

func (e *env) advance(d time.Duration) {
	e.clockMu.Lock()
	e.clock = e.clock.Add(d)
	e.clockMu.Unlock()
}

func (e *env) lookup(name string) (imports.Account, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	a, ok := e.accts[name]
	return a.Account, ok
}

func (e *env) authenticate(r *http.Request, apiKey string) (imports.Account, int) {
	e.mu.Lock()
	a, ok := e.accts[r.PathValue("user")]
	e.mu.Unlock()
	if !ok {
		return imports.Account{}, http.StatusNotFound
	}
	if _, pw, ok := r.BasicAuth(); ok {
		apiKey = pw
	}
	if apiKey != a.key {
		return imports.Account{}, http.StatusUnauthorized
	}
	return a.Account, 0
}

// newEnv starts a Server for one test, with its account.
func newEnv(t *testing.T, cfg func(*imports.Config)) (*env, *cartotest.Account) {
	t.Helper()
	acct := cartotest.New(t)
	e := &env{admin: acct.Server.AdminPool(), pgURL: acct.PGURL, accts: map[string]testAccount{}, clock: time.Now().Truncate(time.Second)}
	e.accts[acct.User] = testAccount{imports.Account{Name: acct.User, ID: "00000000-0000-4000-8000-000000000001", Schema: acct.User,
		Role: "cartodb_user_" + acct.User, PublicRole: "publicuser"}, acct.MasterKey}
	e.dir = t.TempDir()
	c := imports.Config{Admin: e.admin, PGURL: e.pgURL, Dir: e.dir, Authenticate: e.authenticate, Accounts: e.lookup,
		Logf: t.Logf, Now: e.now, Tick: 20 * time.Millisecond, Group: "test " + acct.User}
	if cfg != nil {
		cfg(&c)
	}
	srv, err := imports.New(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	e.srv = srv
	mux := http.NewServeMux()
	srv.Register(mux)
	e.http = httptest.NewServer(mux)
	t.Cleanup(func() {
		e.http.Close()
		srv.Close()
	})
	return e, acct
}

// restart serves the env's HTTP address with a new Server on the same database and directory,
// in runner group group (the env's own is "test USER"), as a restarted cartolocal would. The
// caller closes the old Server first.
func (e *env) restart(t *testing.T, group string) {
	t.Helper()
	srv, err := imports.New(context.Background(), imports.Config{Admin: e.admin, PGURL: e.pgURL, Dir: e.dir, Authenticate: e.authenticate,
		Accounts: e.lookup, Logf: t.Logf, Now: e.now, Tick: 20 * time.Millisecond, Group: group})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	mux := http.NewServeMux()
	srv.Register(mux)
	e.http.Config.Handler = mux
}

func (e *env) url(acct *cartotest.Account, path string) string {
	return e.http.URL + "/user/" + acct.User + "/" + path
}

func (e *env) do(t *testing.T, acct *cartotest.Account, method, path, contentType string, body io.Reader) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, e.url(acct, path), body)
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	req.SetBasicAuth(acct.User, acct.MasterKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// upload posts a file as the multipart part "file", with extra query parameters.
func (e *env) upload(t *testing.T, acct *cartotest.Account, name string, content []byte, query string) string {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	fw, _ := mw.CreateFormFile("file", name)
	fw.Write(content)
	mw.Close()
	path := "api/v1/imports/"
	if query != "" {
		path += "?" + query
	}
	status, body := e.do(t, acct, "POST", path, mw.FormDataContentType(), &buf)
	if status != 200 {
		t.Fatalf("upload %s: %d %s", name, status, body)
	}
	var r struct {
		ID      string `json:"item_queue_id"`
		Success bool   `json:"success"`
	}
	if err := json.Unmarshal(body, &r); err != nil || !r.Success {
		t.Fatalf("upload %s: %s", name, body)
	}
	return r.ID
}

// wait polls an import until it is final and returns its last answer.
func (e *env) wait(t *testing.T, acct *cartotest.Account, id string) map[string]any {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		status, body := e.do(t, acct, "GET", "api/v1/imports/"+id, "", nil)
		if status != 200 {
			t.Fatalf("import %s: %d %s", id, status, body)
		}
		var m map[string]any
		if err := json.Unmarshal(body, &m); err != nil {
			t.Fatal(err)
		}
		if m["state"] == "complete" || m["state"] == "failure" {
			return m
		}
		if time.Now().After(deadline) {
			t.Fatalf("import %s still %v", id, m["state"])
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// importFile uploads and waits for success, returning the import.
func (e *env) importFile(t *testing.T, acct *cartotest.Account, name string, content []byte, query string) map[string]any {
	t.Helper()
	m := e.wait(t, acct, e.upload(t, acct, name, content, query))
	if m["state"] != "complete" {
		t.Fatalf("import of %s: %v (error %v: %v)", name, m["state"], m["error_code"], m["get_error_text"])
	}
	return m
}

// failCode uploads and waits for failure, returning its error code.
func (e *env) failCode(t *testing.T, acct *cartotest.Account, name string, content []byte) int {
	t.Helper()
	m := e.wait(t, acct, e.upload(t, acct, name, content, ""))
	if m["state"] != "failure" {
		t.Fatalf("import of %s: %v, want failure", name, m["state"])
	}
	return int(m["error_code"].(float64))
}

func (e *env) query(t *testing.T, sql string, args ...any) [][]any {
	t.Helper()
	rows, err := e.admin.Query(context.Background(), sql, args...)
	if err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	defer rows.Close()
	var out [][]any
	for rows.Next() {
		v, err := rows.Values()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return out
}

func (e *env) scalar(t *testing.T, sql string, args ...any) string {
	t.Helper()
	rows := e.query(t, sql, args...)
	if len(rows) != 1 || len(rows[0]) != 1 {
		t.Fatalf("%s: %d rows", sql, len(rows))
	}
	return fmt.Sprint(rows[0][0])
}

// columnsOf is "name type" of a table's columns in order.
func (e *env) columnsOf(t *testing.T, schema, table string) string {
	t.Helper()
	var cols []string
	for _, r := range e.query(t, `SELECT a.attname::text || ' ' || format_type(a.atttypid, a.atttypmod) FROM pg_attribute a
WHERE a.attrelid = format('%I.%I', $1::text, $2::text)::regclass AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum`, schema, table) {
		cols = append(cols, r[0].(string))
	}
	return strings.Join(cols, ", ")
}

// checkCartodbfied checks what cartodbfy gives a table: cartodb_id from a sequence as primary
// key, the_geom_webmercator kept by its trigger, GiST indexes on both geometries; and the table
// is logged (ogr2ogr's staging tables are not).
func (e *env) checkCartodbfied(t *testing.T, schema, table string) {
	t.Helper()
	qt := fmt.Sprintf("%q.%q", schema, table)
	if got := e.scalar(t, `SELECT relpersistence::text FROM pg_class WHERE oid = $1::regclass`, qt); got != "p" {
		t.Errorf("%s: persistence %q, want a logged table", table, got)
	}
	if got := e.scalar(t, `SELECT pg_get_serial_sequence($1, 'cartodb_id') IS NOT NULL
	AND (SELECT count(*) FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
	     WHERE i.indrelid = $1::regclass AND i.indisprimary AND a.attname = 'cartodb_id') = 1`, qt); got != "true" {
		t.Errorf("%s: cartodb_id is not a primary key with a sequence", table)
	}
	if got := e.scalar(t, `SELECT count(*) FROM pg_trigger WHERE tgrelid = $1::regclass AND tgname = 'update_the_geom_webmercator_trigger'`, qt); got != "1" {
		t.Errorf("%s: no the_geom_webmercator trigger", table)
	}
	if got := e.scalar(t, `SELECT count(DISTINCT a.attname) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
	JOIN pg_am am ON am.oid = c.relam JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
	WHERE i.indrelid = $1::regclass AND am.amname = 'gist' AND a.attname IN ('the_geom', 'the_geom_webmercator')`, qt); got != "2" {
		t.Errorf("%s: %s GiST indexes on the geometries, want 2", table, got)
	}
	if got := e.scalar(t, `SELECT count(*) FROM `+qt+` WHERE (the_geom IS NULL) <> (the_geom_webmercator IS NULL)`); got != "0" {
		t.Errorf("%s: %s rows with the_geom and the_geom_webmercator out of step", table, got)
	}
}

// createJSON posts a JSON create request and returns the import's id.
func (e *env) createJSON(t *testing.T, acct *cartotest.Account, body map[string]any) string {
	t.Helper()
	b, _ := json.Marshal(body)
	status, resp := e.do(t, acct, "POST", "api/v1/imports", "application/json", bytes.NewReader(b))
	if status != 200 {
		t.Fatalf("create %s: %d %s", b, status, resp)
	}
	var r struct {
		ID string `json:"item_queue_id"`
	}
	if err := json.Unmarshal(resp, &r); err != nil || r.ID == "" {
		t.Fatalf("create: %s", resp)
	}
	return r.ID
}
