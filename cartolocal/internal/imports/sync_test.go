package imports_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/gocarto/carto/cartolocal/cartotest"
)

// source is a CSV behind a URL whose content and status the test changes.
type source struct {
	mu     sync.Mutex
	body   string
	status int
	srv    *httptest.Server
}

func newSource(body string) *source {
	s := &source{body: body, status: 200}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		defer s.mu.Unlock()
		w.Header().Set("Content-Type", "text/csv")
		w.WriteHeader(s.status)
		w.Write([]byte(s.body))
	}))
	return s
}

func (s *source) set(status int, body string) {
	s.mu.Lock()
	s.status, s.body = status, body
	s.mu.Unlock()
}

func (e *env) getSync(t *testing.T, acct *cartotest.Account, id string) map[string]any {
	t.Helper()
	status, body := e.do(t, acct, "GET", "api/v1/synchronizations/"+id, "", nil)
	if status != 200 {
		t.Fatalf("sync %s: %d %s", id, status, body)
	}
	var m map[string]any
	json.Unmarshal(body, &m)
	return m
}

// waitSync polls a sync until cond holds.
func (e *env) waitSync(t *testing.T, acct *cartotest.Account, id string, cond func(map[string]any) bool) map[string]any {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		m := e.getSync(t, acct, id)
		if cond(m) {
			return m
		}
		if time.Now().After(deadline) {
			t.Fatalf("sync %s: %v", id, m)
		}
		time.Sleep(30 * time.Millisecond)
	}
}

func TestSyncTables(t *testing.T) {
	e, acct := newEnv(t, nil)
	src := newSource(capitalsCSV)
	defer src.srv.Close()

	status, body := e.do(t, acct, "POST", "api/v1/synchronizations", "application/json", strings.NewReader(`{"url":"`+src.srv.URL+`/capitals.csv","interval":899}`))
	if status != 400 || string(bytes.TrimSpace(body)) != `{"errors":"Invalid interval: Sync interval must be at least 15 minutes"}` {
		t.Errorf("interval 899: %d %s", status, body)
	}
	status, body = e.do(t, acct, "POST", "api/v1/synchronizations/", "application/json", strings.NewReader(`{"url":"`+src.srv.URL+`/capitals.csv","interval":900}`))
	if status != 200 {
		t.Fatalf("create: %d %s", status, body)
	}
	want := "data_import id name interval url state user_id created_at updated_at run_at ran_at modified_at etag checksum log_id error_code error_message retried_times service_name service_item_id type_guessing quoted_fields_guessing content_guessing visualization_id from_external_source"
	if got := strings.Join(keysOf(t, body), " "); got != want {
		t.Errorf("create keys\n got %s\nwant %s", got, want)
	}
	var created struct {
		DataImport struct {
			Endpoint string `json:"endpoint"`
			ID       string `json:"item_queue_id"`
		} `json:"data_import"`
		ID    string `json:"id"`
		State string `json:"state"`
	}
	json.Unmarshal(body, &created)
	if created.State != "queued" || created.DataImport.Endpoint != "/api/v1/imports" {
		t.Errorf("create: %s", body)
	}
	imp := e.wait(t, acct, created.DataImport.ID)
	if imp["synchronization_id"] != created.ID || imp["state"] != "complete" {
		t.Fatalf("first import: %v", imp)
	}
	m := e.waitSync(t, acct, created.ID, func(m map[string]any) bool { return m["state"] == "success" })
	if m["name"] != "capitals" {
		t.Fatalf("sync: %v", m)
	}
	_, body = e.do(t, acct, "GET", "api/v1/synchronizations/"+created.ID, "", nil)
	want = "id name interval url state created_at updated_at run_at retried_times log_id error_code error_message ran_at modified_at etag checksum user_id service_name service_item_id type_guessing quoted_fields_guessing content_guessing visualization_id from_external_source"
	if got := strings.Join(keysOf(t, body), " "); got != want {
		t.Errorf("show keys\n got %s\nwant %s", got, want)
	}
	count := func() string { return e.scalar(t, `SELECT count(*) FROM "`+acct.User+`".capitals`) }
	e.query(t, `GRANT SELECT ON "`+acct.User+`".capitals TO publicuser`)
	oid := e.scalar(t, `SELECT '"`+acct.User+`".capitals'::regclass::oid`)

	// sync_now within 15 minutes of the last run is refused; after, it runs.
	syncNow := func() string {
		_, body := e.do(t, acct, "PUT", "api/v1/synchronizations/"+created.ID+"/sync_now", "", nil)
		return string(bytes.TrimSpace(body))
	}
	if got := syncNow(); got != `{"enqueued":false,"synchronization_id":"`+created.ID+`"}` {
		t.Errorf("early sync_now: %s", got)
	}
	src.set(200, capitalsCSV+"Rome,41.9,12.5,2873000,0753-04-21\n")
	// Exactly 15 minutes: sync_now's rule allows it (at least 15 minutes since the last run), and
	// the scheduler does not run it first (run_at, 900 s after the last run, must be in the past).
	// 16 minutes made both due, and the scheduler sometimes won: sync_now saw "syncing".
	e.advance(15 * time.Minute)
	ranAt := m["ran_at"]
	if got := syncNow(); got != `{"enqueued":true,"synchronization_id":"`+created.ID+`"}` {
		t.Errorf("sync_now: %s", got)
	}
	m = e.waitSync(t, acct, created.ID, func(m map[string]any) bool { return m["state"] == "success" && m["ran_at"] != ranAt })
	if got := count(); got != "4" {
		t.Errorf("after sync_now: %s rows, want 4", got)
	}

	// The scheduler runs it when run_at passes, and the table keeps its identity and grants.
	src.set(200, capitalsCSV+"Rome,41.9,12.5,2873000,0753-04-21\nBerlin,52.52,13.405,3645000,1237-10-28\n")
	ranAt = m["ran_at"]
	e.advance(901 * time.Second)
	m = e.waitSync(t, acct, created.ID, func(m map[string]any) bool { return m["ran_at"] != ranAt && m["state"] == "success" })
	if got := count(); got != "5" {
		t.Errorf("after the scheduled run: %s rows, want 5", got)
	}
	if got := e.scalar(t, `SELECT '"`+acct.User+`".capitals'::regclass::oid`); got != oid {
		t.Errorf("the table was replaced, not its rows")
	}
	if got := e.scalar(t, `SELECT has_table_privilege('publicuser', '"`+acct.User+`".capitals', 'SELECT')`); got != "true" {
		t.Errorf("the sync lost the grant")
	}
	e.checkCartodbfied(t, acct.User, "capitals")

	// A broken source records the error and keeps the rows.
	src.set(500, "oops")
	ranAt = m["ran_at"]
	e.advance(901 * time.Second)
	m = e.waitSync(t, acct, created.ID, func(m map[string]any) bool { return m["state"] == "failure" })
	if m["error_code"] != float64(1001) || !strings.HasPrefix(fmt.Sprint(m["error_message"]), "Download error ") || m["retried_times"] != float64(1) {
		t.Errorf("failure: %v", m)
	}
	if got := count(); got != "5" {
		t.Errorf("after the failure: %s rows, want 5", got)
	}

	// PUT without a body is CARTO's 500 (carto-python's force_sync); with one it updates.
	if status, _ := e.do(t, acct, "PUT", "api/v1/synchronizations/"+created.ID, "", nil); status != 500 {
		t.Errorf("PUT without a body: %d", status)
	}
	if status, body := e.do(t, acct, "PUT", "api/v1/synchronizations/"+created.ID, "application/json", strings.NewReader(`{"interval":3600}`)); status != 200 || !strings.Contains(string(body), `"interval":3600`) {
		t.Errorf("PUT interval: %d %s", status, body)
	}
	_, body = e.do(t, acct, "GET", "api/v1/synchronizations", "", nil)
	if !strings.HasPrefix(string(body), `{"synchronizations":[{"id":"`+created.ID+`"`) || !strings.HasSuffix(string(body), `"total_entries":1}`) {
		t.Errorf("list: %s", body)
	}
	if status, _ := e.do(t, acct, "DELETE", "api/v1/synchronizations/"+created.ID, "", nil); status != 204 {
		t.Errorf("delete: %d", status)
	}
	if status, _ := e.do(t, acct, "GET", "api/v1/synchronizations/"+created.ID, "", nil); status != 404 {
		t.Errorf("after delete: %d", status)
	}
	if got := count(); got != "5" {
		t.Errorf("the table went with its sync")
	}
}

// The postgres connector imports a table or a query of another database; other providers are
// not available (1501); a connector with an interval is a sync table.
func TestConnector(t *testing.T) {
	e, acct := newEnv(t, nil)
	ctx := context.Background()
	db := "src_" + acct.User
	e.query(t, "CREATE DATABASE "+db)
	t.Cleanup(func() { e.admin.Exec(context.Background(), "DROP DATABASE "+db+" WITH (FORCE)") })
	cfg, err := pgx.ParseConfig(e.pgURL)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Database = db
	c, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Exec(ctx, `CREATE EXTENSION postgis; CREATE SCHEMA shop;
CREATE TABLE shop.stores (id serial PRIMARY KEY, name text, opened date, location geometry(Point,4326));
INSERT INTO shop.stores (name, opened, location) VALUES ('North', '2020-01-02', ST_SetSRID(ST_MakePoint(-3.7, 40.4), 4326)),
  ('South', '2021-05-06', ST_SetSRID(ST_MakePoint(-5.9, 37.4), 4326))`)
	c.Close(ctx)
	if err != nil {
		t.Fatal(err)
	}
	conn := map[string]any{"server": cfg.Host, "port": cfg.Port, "database": db, "username": cfg.User, "password": cfg.Password, "sslmode": "disable"}
	id := e.createJSON(t, acct, map[string]any{"connector": map[string]any{"provider": "postgres", "connection": conn, "schema": "shop", "table": "stores"}})
	m := e.wait(t, acct, id)
	if m["state"] != "complete" || m["table_name"] != "stores" || m["data_type"] != "datasource" {
		t.Fatalf("table: %v", m)
	}
	e.checkTable(t, acct.User, formatTable{"stores", "id integer, name text, opened date", "POINT", 2})

	id = e.createJSON(t, acct, map[string]any{"connector": map[string]any{"provider": "postgres", "connection": conn,
		"sql_query": "SELECT name, ST_X(location) AS lon, ST_Y(location) AS lat FROM shop.stores WHERE name = 'South'", "import_as": "south_store"}})
	m = e.wait(t, acct, id)
	if m["table_name"] != "south_store" {
		t.Fatalf("query: %v", m)
	}
	if got := e.scalar(t, `SELECT ST_AsText(the_geom) FROM "`+acct.User+`".south_store`); got != "POINT(-5.9 37.4)" {
		t.Errorf("lat/lon: %s", got)
	}
	if m := e.wait(t, acct, e.createJSON(t, acct, map[string]any{"connector": map[string]any{"provider": "mysql", "connection": conn, "table": "t"}})); m["error_code"] != float64(1501) {
		t.Errorf("mysql: %v", m)
	}
	conn["password"] = "wrong"
	m = e.wait(t, acct, e.createJSON(t, acct, map[string]any{"connector": map[string]any{"provider": "postgres", "connection": conn, "table": "stores", "schema": "shop"}}))
	if m["error_code"] != float64(1500) {
		t.Errorf("wrong password: %v", m)
	}
	conn["password"] = cfg.Password

	// A connector sync.
	body, _ := json.Marshal(map[string]any{"connector": map[string]any{"provider": "postgres", "connection": conn, "schema": "shop", "table": "stores", "import_as": "synced_stores"}, "interval": 900})
	status, resp := e.do(t, acct, "POST", "api/v1/synchronizations", "application/json", bytes.NewReader(body))
	if status != 200 || !strings.Contains(string(resp), `"url":null`) || !strings.Contains(string(resp), `"service_name":"connector"`) {
		t.Fatalf("connector sync: %d %s", status, resp)
	}
	var s struct{ ID string }
	json.Unmarshal(resp, &s)
	e.waitSync(t, acct, s.ID, func(m map[string]any) bool { return m["state"] == "success" && m["name"] == "synced_stores" })
	c, err = pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Exec(ctx, `INSERT INTO shop.stores (name, opened, location) VALUES ('East', '2022-01-01', ST_SetSRID(ST_MakePoint(2.1, 41.4), 4326))`)
	c.Close(ctx)
	if err != nil {
		t.Fatal(err)
	}
	e.advance(901 * time.Second)
	e.waitSync(t, acct, s.ID, func(map[string]any) bool {
		return e.scalar(t, `SELECT count(*) FROM "`+acct.User+`".synced_stores`) == "3"
	})
}
