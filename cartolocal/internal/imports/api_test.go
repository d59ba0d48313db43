package imports_test

import (
	"bytes"
	"encoding/json"
	"github.com/gocarto/carto/cartolocal/internal/imports"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

var uuidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

// keysOf lists a JSON object's keys in order.
func keysOf(t *testing.T, body []byte) []string {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(body))
	var keys []string
	depth := 0
	for {
		tok, err := dec.Token()
		if err != nil {
			break
		}
		switch v := tok.(type) {
		case json.Delim:
			if v == '{' || v == '[' {
				depth++
			} else {
				depth--
			}
		case string:
			if depth == 1 {
				keys = append(keys, v)
				// skip the value
				var raw json.RawMessage
				if err := dec.Decode(&raw); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	return keys
}

// The show answer has CARTO's keys in CARTO's order, with success only when final and the
// last two only when complete (DataImportPresenter).
func TestShowShape(t *testing.T) {
	e, acct := newEnv(t, nil)
	id := e.upload(t, acct, "capitals.csv", []byte(capitalsCSV), "")
	e.wait(t, acct, id)
	_, body := e.do(t, acct, "GET", "api/v1/imports/"+id+"/", "", nil)
	want := "id user_id table_id data_type table_name state error_code queue_id tables_created_count synchronization_id type_guessing quoted_fields_guessing content_guessing create_visualization visualization_id user_defined_limits get_error_text display_name success original_url warnings is_raster any_table_raster derived_visualization_id"
	if got := strings.Join(keysOf(t, body), " "); got != want {
		t.Errorf("keys\n got %s\nwant %s", got, want)
	}
	var m map[string]any
	json.Unmarshal(body, &m)
	if m["user_defined_limits"] != `{"twitter_credits_limit":0}` || m["queue_id"] != id || m["data_type"] != "file" || m["success"] != true || m["get_error_text"] != nil {
		t.Errorf("%s", body)
	}

	// Unknown and malformed ids are 404 with no body; so is another account's import.
	for _, p := range []string{"api/v1/imports/00000000-0000-4000-8000-000000000000", "api/v1/imports/nope"} {
		if status, body := e.do(t, acct, "GET", p, "", nil); status != 404 || len(body) != 0 {
			t.Errorf("%s: %d %q", p, status, body)
		}
	}
	// Without the master key: 401, no body.
	req, _ := http.NewRequest("GET", e.url(acct, "api/v1/imports/"+id), nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Errorf("no key: %d", resp.StatusCode)
	}

	// The list holds unfinished imports only: this one is done.
	_, body = e.do(t, acct, "GET", "api/v1/imports/", "", nil)
	if string(bytes.TrimSpace(body)) != `{"imports":[],"success":true}` {
		t.Errorf("list: %s", body)
	}
}

// §1.5's examples: names from the file, collisions get _1, _2; skip and overwrite.
func TestNamingAndCollisions(t *testing.T) {
	e, acct := newEnv(t, nil)
	names := []string{}
	for range 3 {
		m := e.importFile(t, acct, "tornados.csv", []byte(capitalsCSV), "")
		names = append(names, m["table_name"].(string))
	}
	if strings.Join(names, " ") != "tornados tornados_1 tornados_2" {
		t.Errorf("names %v", names)
	}
	for file, want := range map[string]string{"2024 Data.csv": "table_2024_data", "select.csv": "select_t", "Ñandú.csv": "table_and_", "spatial_ref_sys.csv": "spatial_ref_sys_t"} {
		if m := e.importFile(t, acct, file, []byte(capitalsCSV), ""); m["table_name"] != want {
			t.Errorf("%s: %v, want %s", file, m["table_name"], want)
		}
	}
	// Column names: the docs' examples.
	m := e.importFile(t, acct, "columns.csv", []byte("Unnamed: 0,201moore,201moore,Acadia 1.2.3,_testingTesting,1,1.0,SELECT,à,all\n1,2,3,4,5,6,7,8,9,10\n"), "")
	if got := e.columnsOf(t, acct.User, m["table_name"].(string)); !strings.Contains(got, "unnamed_0 integer, _201moore integer, _201moore_1 integer, acadia_1_2_3 integer, _testingtesting integer, _1 integer, _1_0 integer, _select integer, a integer, _all integer") {
		t.Errorf("columns %s", got)
	}

	// skip: the table exists, nothing is imported, and the import completes with 1022.
	m = e.importFile(t, acct, "tornados.csv", []byte(capitalsCSV), "collision_strategy=skip")
	if m["error_code"] != float64(1022) || m["tables_created_count"] != float64(0) || m["table_name"] != nil {
		t.Errorf("skip: %v", m)
	}
	// overwrite: the table is replaced under its name, and keeps its grants.
	e.query(t, `GRANT SELECT ON "`+acct.User+`".tornados TO publicuser`)
	m = e.importFile(t, acct, "tornados.csv", []byte("name,lat,lon\nRome,41.9,12.5\n"), "collision_strategy=overwrite")
	if m["table_name"] != "tornados" {
		t.Errorf("overwrite: %v", m)
	}
	if got := e.scalar(t, `SELECT string_agg(name, ',') FROM "`+acct.User+`".tornados`); got != "Rome" {
		t.Errorf("overwrite: rows %s", got)
	}
	if got := e.scalar(t, `SELECT has_table_privilege('publicuser', '"`+acct.User+`".tornados', 'SELECT')`); got != "true" {
		t.Errorf("overwrite lost the grant")
	}
	e.checkCartodbfied(t, acct.User, "tornados")
	if status, body := e.do(t, acct, "POST", "api/v1/imports?collision_strategy=replace&url=http://x/y.csv", "", nil); status != 400 || !strings.Contains(string(body), `{"errors":{"imports":`) {
		t.Errorf("bad strategy: %d %s", status, body)
	}
}

// type_guessing=false keeps every column text and makes no point of lat/lon; "False" (what
// Python's str(False) gives) does not turn guessing off, as on CARTO.
func TestTypeGuessingOff(t *testing.T) {
	e, acct := newEnv(t, nil)
	m := e.importFile(t, acct, "capitals.csv", []byte(capitalsCSV), "type_guessing=false")
	if m["type_guessing"] != false {
		t.Errorf("type_guessing %v", m["type_guessing"])
	}
	table := m["table_name"].(string)
	if got := e.columnsOf(t, acct.User, table); got != "cartodb_id bigint, name text, lat text, lon text, population text, founded text, the_geom geometry(Geometry,4326), the_geom_webmercator geometry(Geometry,3857)" {
		t.Errorf("columns %s", got)
	}
	if got := e.scalar(t, `SELECT count(*) FROM "`+acct.User+`"."`+table+`" WHERE the_geom IS NOT NULL`); got != "0" {
		t.Errorf("%s rows with a geometry", got)
	}
	e.checkCartodbfied(t, acct.User, table)
	m = e.importFile(t, acct, "capitals.csv", []byte(capitalsCSV), "type_guessing=False")
	if m["type_guessing"] != true {
		t.Errorf(`"False": type_guessing %v`, m["type_guessing"])
	}
}

// quoted_fields_guessing=false keeps quoted CSV fields text (QUOTED_FIELDS_AS_STRING=YES); by
// default their types are guessed like the others'.
func TestQuotedFieldsGuessing(t *testing.T) {
	e, acct := newEnv(t, nil)
	csv := []byte("name,code,score\n\"a\",\"12\",1.5\n\"b\",\"34\",2.5\n")
	m := e.importFile(t, acct, "quoted.csv", csv, "")
	if got := e.columnsOf(t, acct.User, m["table_name"].(string)); !strings.Contains(got, "name text, code integer, score double precision") {
		t.Errorf("guessed: %s", got)
	}
	m = e.importFile(t, acct, "quoted.csv", csv, "quoted_fields_guessing=false")
	if m["quoted_fields_guessing"] != false {
		t.Errorf("quoted_fields_guessing %v", m["quoted_fields_guessing"])
	}
	if got := e.columnsOf(t, acct.User, m["table_name"].(string)); !strings.Contains(got, "name text, code text, score double precision") {
		t.Errorf("not guessed: %s", got)
	}
}

// Geometry columns named the_geom, wkb_geometry, geom, wkt or geojson are read as hex WKB, WKT
// or GeoJSON.
func TestGeometryColumns(t *testing.T) {
	e, acct := newEnv(t, nil)
	for file, content := range map[string]string{
		"wkt.csv":     "id,wkt\n1,POINT(1 2)\n2,\"LINESTRING(0 0,1 1)\"\n",
		"geojson.csv": "id,geojson\n1,\"{\"\"type\"\":\"\"Polygon\"\",\"\"coordinates\"\":[[[0,0],[1,0],[1,1],[0,0]]]}\"\n",
		"wkb.csv":     "id,the_geom\n1,0101000020E61000000000000000805FC00000000000004B40\n",
		"geom.csv":    "id,geom\n1,POINT(3 4)\n",
		"wkbgeom.csv": "id,wkb_geometry\n1,0101000020E61000000000000000805FC00000000000004B40\n",
	} {
		m := e.importFile(t, acct, file, []byte(content), "")
		table := m["table_name"].(string)
		got := e.scalar(t, `SELECT string_agg(ST_AsText(the_geom), ';' ORDER BY cartodb_id) FROM "`+acct.User+`"."`+table+`"`)
		want := map[string]string{"wkt.csv": "POINT(1 2);MULTILINESTRING((0 0,1 1))", "geojson.csv": "MULTIPOLYGON(((0 0,1 0,1 1,0 0)))", "wkb.csv": "POINT(-126 54)",
			"geom.csv": "POINT(3 4)", "wkbgeom.csv": "POINT(-126 54)"}[file]
		if got != want {
			t.Errorf("%s: %s, want %s", file, got, want)
		}
		e.checkCartodbfied(t, acct.User, table)
	}
}

// An account has 3 import slots; the 4th unfinished import is refused with CARTO's 429.
func TestConcurrentLimit(t *testing.T) {
	release := make(chan struct{})
	var once sync.Once
	defer once.Do(func() { close(release) })
	src := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
		w.Header().Set("Content-Type", "text/csv")
		w.Write([]byte(capitalsCSV))
	}))
	defer src.Close()
	e, acct := newEnv(t, func(c *imports.Config) { c.Runners = 3 })
	var ids []string
	for i := range 3 {
		ids = append(ids, e.createJSON(t, acct, map[string]any{"url": src.URL + "/c" + string(rune('0'+i)) + ".csv"}))
	}
	status, body := e.do(t, acct, "POST", "api/v1/imports", "application/json", strings.NewReader(`{"url":"`+src.URL+`/d.csv"}`))
	if status != 429 || string(bytes.TrimSpace(body)) != `{"errors":{"imports":"We're sorry but you're already using your allowed 3 import slots"}}` {
		t.Errorf("4th import: %d %s", status, body)
	}
	_, body = e.do(t, acct, "GET", "api/v1/imports", "", nil)
	for _, id := range ids {
		if !strings.Contains(string(body), id) {
			t.Errorf("list %s lacks %s", body, id)
		}
	}
	once.Do(func() { close(release) })
	for _, id := range ids {
		if m := e.wait(t, acct, id); m["state"] != "complete" {
			t.Errorf("%s: %v", id, m)
		}
	}
}

// A POST with neither file, URL nor connector is accepted and fails when it runs, as CARTO's
// does: its unpacker gets the path "" (NotAFileError, 1010, a code without texts, so
// get_error_text is null). Privacy and a raw body with ?filename= work as CARTO's do.
func TestCreateVariants(t *testing.T) {
	e, acct := newEnv(t, nil)
	for _, body := range []string{`{"client": "cps-1.11.3"}`, `{}`, ``} {
		status, resp := e.do(t, acct, "POST", "api/v1/imports/", "application/json", strings.NewReader(body))
		var r struct {
			ItemQueueID string `json:"item_queue_id"`
			Success     bool   `json:"success"`
		}
		if err := json.Unmarshal(resp, &r); status != 200 || err != nil || !r.Success || !uuidRE.MatchString(r.ItemQueueID) {
			t.Fatalf("empty POST %q: %d %s", body, status, resp)
		}
		m := e.wait(t, acct, r.ItemQueueID)
		if m["state"] != "failure" || m["success"] != false || m["error_code"] != float64(1010) || m["get_error_text"] != nil ||
			m["data_type"] != "datasource" || m["display_name"] != r.ItemQueueID || m["table_name"] != nil {
			t.Errorf("empty POST %q: %v", body, m)
		}
	}
	status, body := e.do(t, acct, "POST", "api/v1/imports/?filename=my%20places.csv&privacy=public", "text/csv", strings.NewReader(capitalsCSV))
	if status != 200 {
		t.Fatalf("raw body: %d %s", status, body)
	}
	var r struct {
		ItemQueueID string `json:"item_queue_id"`
	}
	json.Unmarshal(body, &r)
	m := e.wait(t, acct, r.ItemQueueID)
	if m["table_name"] != "my_places" || m["display_name"] != "my_places.csv" {
		t.Errorf("raw body: %v", m)
	}
	if got := e.scalar(t, `SELECT has_table_privilege('publicuser', '"`+acct.User+`".my_places', 'SELECT')`); got != "true" {
		t.Errorf("privacy=public: publicuser cannot read")
	}
	if status, body := e.do(t, acct, "POST", "api/v1/imports?privacy=secret", "application/json", strings.NewReader(`{"url":"http://x/y.csv"}`)); status != 400 ||
		string(bytes.TrimSpace(body)) != `{"errors":{"imports":"Unknown value 'secret' for 'privacy'. Allowed values are: private, public and link"}}` {
		t.Errorf("privacy=secret: %d %s", status, body)
	}
	// sql and table_copy: CREATE TABLE AS, as the account.
	id := e.createJSON(t, acct, map[string]any{"sql": "SELECT name, the_geom FROM my_places WHERE name <> 'Paris'", "table_name": "south"})
	if m := e.wait(t, acct, id); m["table_name"] != "south" || m["data_type"] != "query" {
		t.Errorf("sql: %v", m)
	}
	if got := e.scalar(t, `SELECT count(*) FROM "`+acct.User+`".south WHERE the_geom IS NOT NULL`); got != "2" {
		t.Errorf("sql: %s rows", got)
	}
	e.checkCartodbfied(t, acct.User, "south")
	id = e.createJSON(t, acct, map[string]any{"table_copy": "my_places", "table_name": "copy"})
	if m := e.wait(t, acct, id); m["table_name"] != "copy" {
		t.Errorf("table_copy: %v", m)
	}
	id = e.createJSON(t, acct, map[string]any{"sql": "SELECT * FROM no_such_table", "table_name": "x"})
	if m := e.wait(t, acct, id); m["error_code"] != float64(8003) {
		t.Errorf("bad sql: %v", m)
	}
}

// A restart in the middle of an import loses nothing: the next server takes it up from the
// start and finishes it.
func TestRestartMidImport(t *testing.T) {
	started := make(chan struct{}, 10)
	var mu sync.Mutex
	block := true
	src := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		b := block
		mu.Unlock()
		w.Header().Set("Content-Type", "text/csv")
		if b {
			w.Header().Set("Content-Length", "100000")
			w.WriteHeader(200)
			w.Write([]byte(capitalsCSV[:20]))
			w.(http.Flusher).Flush()
			started <- struct{}{}
			<-r.Context().Done() // the first server dies while downloading
			return
		}
		w.Write([]byte(capitalsCSV))
	}))
	defer src.Close()
	e, acct := newEnv(t, nil)
	id := e.createJSON(t, acct, map[string]any{"url": src.URL + "/capitals.csv"})
	// And a file upload that waits behind it: stored, not yet run.
	select {
	case <-started:
	case <-time.After(time.Minute):
		t.Fatal("the download never started")
	}
	_, body := e.do(t, acct, "GET", "api/v1/imports/"+id, "", nil)
	if !regexp.MustCompile(`"state":"uploading"`).Match(body) {
		t.Fatalf("before the restart: %s", body)
	}
	e.srv.Close()
	mu.Lock()
	block = false
	mu.Unlock()
	// The next server, on the same database and directory.
	e.restart(t, "test "+acct.User)
	m := e.wait(t, acct, id)
	if m["state"] != "complete" || m["table_name"] != "capitals" {
		t.Fatalf("after the restart: %v", m)
	}
	if got := e.scalar(t, `SELECT count(*) FROM "`+acct.User+`".capitals`); got != "3" {
		t.Errorf("%s rows", got)
	}
}
