package account_test

import (
	"archive/zip"
	"bytes"
	"database/sql"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/go-json-experiment/json"

	"github.com/gocarto/carto/account"
	"github.com/gocarto/carto/cartolocal/cartotest"
	"github.com/gocarto/carto/imports"
)

// tableShape is a table as SQL sees it: its columns with their types, in order, and its rows
// as text, in cartodb_id order.
func tableShape(t *testing.T, db *sql.DB, table string) (columns, rows string) {
	t.Helper()
	err := db.QueryRow(`SELECT string_agg(column_name || ' ' || data_type, ', ' ORDER BY ordinal_position)
FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1`, table).Scan(&columns)
	if err != nil {
		t.Fatalf("columns of %s: %v", table, err)
	}
	// the_geom_webmercator is the trigger's; the_geom as EWKT says the SRID too.
	err = db.QueryRow(`SELECT string_agg((to_jsonb(t) - 'the_geom_webmercator' - 'the_geom' || jsonb_build_object('the_geom', ST_AsEWKT(t.the_geom)))::text, E'\n' ORDER BY t.cartodb_id)
FROM ` + table + ` t`).Scan(&rows)
	if err != nil {
		t.Fatalf("rows of %s: %v", table, err)
	}
	return columns, rows
}

// cartoJSON reads the map out of a .carto file.
func cartoJSON(t *testing.T, file []byte) map[string]any {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(file), int64(len(file)))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range zr.File {
		if strings.HasSuffix(f.Name, ".carto.json") {
			rc, err := f.Open()
			if err != nil {
				t.Fatal(err)
			}
			defer rc.Close()
			var doc map[string]any
			if err := json.UnmarshalRead(rc, &doc); err != nil {
				t.Fatal(err)
			}
			return doc["visualization"].(map[string]any)
		}
	}
	t.Fatal("no .carto.json in the file")
	return nil
}

// exportMap exports a map of the account with its data and returns the .carto file.
func exportMap(t *testing.T, maps *account.Visualizations, idOrName string) []byte {
	t.Helper()
	ctx := ctxT(t)
	e, err := maps.Export(ctx, idOrName)
	if err != nil {
		t.Fatal(err)
	}
	done, err := maps.Wait(ctx, e.ID, nil)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := maps.Download(ctx, done, &buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// The .carto round trip of issue 13: account A exports a map with its data through the account
// client, account B imports the downloaded file through the imports client (create_vis, as
// CARTO's dashboard imports a .carto), and B then has the same tables (names, columns, rows) and
// the same map (name, description, tags, privacy, tables and definition). (A numeric column comes
// back double precision: GeoPackage, the format of the tables' data in CARTO's exports as in
// ours, has no decimal type.) A second import names
// as CARTO does (tables stations_1, lines_1; the map "Transit Import"), and a third comes by URL.
func TestCartoFileRoundTrip(t *testing.T) {
	ctx := ctxT(t)
	a, b := cartotest.New(t), cartotest.New(t)
	a.Exec(t, `
CREATE TABLE stations (name text, lines integer, ridership double precision, opened date, last_seen timestamptz, accessible boolean);
INSERT INTO stations VALUES ('Sol', 3, 1234.5, '1919-10-17', '2026-01-02 03:04:05+00', true),
	('Atocha', 1, 99.25, '1851-02-09', '2026-02-03 04:05:06+00', false), ('Ópera', 2, NULL, NULL, NULL, NULL);
SELECT CDB_CartodbfyTable(current_schema(), 'stations'::regclass);
UPDATE stations SET the_geom = CDB_LatLng(40.4168 + cartodb_id / 100.0, -3.7038);
CREATE TABLE lines (code text, length_km double precision);
INSERT INTO lines VALUES ('L1', 23.9), ('L2', 14.0);
SELECT CDB_CartodbfyTable(current_schema(), 'lines'::regclass);
UPDATE lines SET the_geom = ST_SetSRID(ST_GeomFromText('MULTILINESTRING((-3.70 40.41, -3.69 40.42 ,-3.68 40.40))'), 4326);`)
	mapsA := account.NewVisualizations(a.Client(t))
	m, err := mapsA.Create(ctx, account.MapSpec{Name: "Transit", Description: "how to move", Tags: []string{"madrid", "metro"},
		Privacy: account.Link, Tables: []string{"stations", "lines"}})
	if err != nil {
		t.Fatal(err)
	}
	file := exportMap(t, mapsA, m.ID)
	dbA, dbB := dbWithKey(t, a, a.MasterKey), dbWithKey(t, b, b.MasterKey)

	cb := b.Client(t)
	imp := imports.New(cb)
	up, err := imp.Upload(ctx, "Transit (on 2026-12-03 at 10.00.00).carto", bytes.NewReader(file), &imports.Options{CreateVis: true})
	if err != nil {
		t.Fatal(err)
	}
	var states []imports.State
	done, err := imp.Wait(ctx, up.ID, imports.OnChange(func(i *imports.Import) { states = append(states, i.State) }))
	if err != nil {
		t.Fatalf("import: %v (%+v)", err, done)
	}
	if done.TablesCreated != 2 || done.ErrorCode != 0 || done.VisualizationID == "" || done.DerivedVisualizationID != done.VisualizationID ||
		!slices.Contains([]string{"stations", "lines"}, done.TableName) {
		t.Fatalf("import %+v", done)
	}
	t.Logf("states %v", states)

	for _, table := range []string{"stations", "lines"} {
		ca, ra := tableShape(t, dbA, table)
		cb, rb := tableShape(t, dbB, table)
		if ca != cb {
			t.Errorf("%s: columns\n A %s\n B %s", table, ca, cb)
		}
		if ra != rb {
			t.Errorf("%s: rows\n A %s\n B %s", table, ra, rb)
		}
	}

	// The same map: its fields through the viz API, its definition through an export of it.
	mapsB := account.NewVisualizations(cb)
	got, err := mapsB.Get(ctx, done.VisualizationID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != "Transit" || got.Description != "how to move" || !slices.Equal(got.Tags, []string{"madrid", "metro"}) ||
		got.Privacy != account.Link || got.Type != "derived" || got.Permission.Owner.Username != b.User {
		t.Errorf("map in B: %+v", got)
	}
	var related []string
	for _, rt := range got.RelatedTables {
		related = append(related, rt.Name)
	}
	slices.Sort(related)
	if !slices.Equal(related, []string{"lines", "stations"}) {
		t.Errorf("map in B uses %v", related)
	}
	defA, _ := json.Marshal(cartoJSON(t, file)["mapconfig"])
	var wantB any
	if err := json.Unmarshal(bytes.ReplaceAll(defA, []byte(`\"`+a.User+`\".`), []byte(`\"`+b.User+`\".`)), &wantB); err != nil {
		t.Fatal(err)
	}
	if defB := cartoJSON(t, exportMap(t, mapsB, got.ID))["mapconfig"]; !reflect.DeepEqual(defB, wantB) {
		t.Errorf("definition in B\n got %v\nwant %v", defB, wantB)
	}

	// Again: the tables take free names, the map "Transit Import", and its layers follow them.
	up, err = imp.Upload(ctx, "transit.carto", bytes.NewReader(file), &imports.Options{CreateVis: true})
	if err != nil {
		t.Fatal(err)
	}
	if done, err = imp.Wait(ctx, up.ID); err != nil {
		t.Fatal(err)
	}
	again, err := mapsB.Get(ctx, done.VisualizationID)
	if err != nil {
		t.Fatal(err)
	}
	related = related[:0]
	for _, rt := range again.RelatedTables {
		related = append(related, rt.Name)
	}
	slices.Sort(related)
	if again.Name != "Transit Import" || !slices.Equal(related, []string{"lines_1", "stations_1"}) {
		t.Errorf("second import: %q on %v", again.Name, related)
	}
	def := cartoJSON(t, exportMap(t, mapsB, again.ID))["mapconfig"]
	if s, _ := json.Marshal(def); !strings.Contains(string(s), `\"`+b.User+`\".\"stations_1\"`) || strings.Contains(string(s), `\"stations\"`) {
		t.Errorf("second import's definition: %s", s)
	}
	if _, r1 := tableShape(t, dbB, "stations_1"); r1 != func() string { _, r := tableShape(t, dbA, "stations"); return r }() {
		t.Errorf("stations_1 rows differ from A's stations")
	}

	// By URL: a .carto file served over HTTP, named by its Content-Disposition.
	src := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/zip")
		w.Header().Set("Content-Disposition", `attachment; filename="Transit (on 2026-12-03 at 10.00.00).carto"`)
		w.Write(file)
	}))
	defer src.Close()
	up, err = imp.FromURL(ctx, src.URL+"/api/v3/visualization_exports/x/download", &imports.Options{CreateVis: true})
	if err != nil {
		t.Fatal(err)
	}
	if done, err = imp.Wait(ctx, up.ID); err != nil {
		t.Fatal(err)
	}
	third, err := mapsB.Get(ctx, done.VisualizationID)
	if err != nil || third.Name != "Transit Import 2" || done.TablesCreated != 2 {
		t.Errorf("by URL: %+v %v (%+v)", third, err, done)
	}

	// A map exported without one table's data uses the importing account's table of that name.
	lines, err := account.NewDatasets(a.Client(t)).Get(ctx, "lines")
	if err != nil {
		t.Fatal(err)
	}
	e, err := mapsA.Export(ctx, m.ID, lines.ID)
	if err != nil {
		t.Fatal(err)
	}
	if e, err = mapsA.Wait(ctx, e.ID, nil); err != nil {
		t.Fatal(err)
	}
	var part bytes.Buffer
	if _, err := mapsA.Download(ctx, e, &part); err != nil {
		t.Fatal(err)
	}
	up, err = imp.Upload(ctx, "transit.carto", &part, &imports.Options{CreateVis: true})
	if err != nil {
		t.Fatal(err)
	}
	if done, err = imp.Wait(ctx, up.ID); err != nil || done.TablesCreated != 1 || done.TableName != "lines_3" {
		t.Fatalf("lines only: %+v %v", done, err)
	}
	if pm, err := mapsB.Get(ctx, done.VisualizationID); err != nil || pm.Name != "Transit Import 3" || len(pm.RelatedTables) != 2 {
		t.Errorf("lines only: %+v %v", pm, err)
	} else if s, _ := json.Marshal(cartoJSON(t, exportMap(t, mapsB, pm.ID))["mapconfig"]); !strings.Contains(string(s), `\"stations\"`) ||
		!strings.Contains(string(s), `\"lines_3\"`) {
		t.Errorf("lines only: definition %s", s)
	}

	// A .carto CARTO wrote has no mapconfig: the map is made from its layers' tables, queries
	// (in the exporting user's schema) and styles; a password map comes private (no password
	// travels).
	zr, err := zip.NewReader(bytes.NewReader(file), int64(len(file)))
	if err != nil {
		t.Fatal(err)
	}
	var stationsGPKG []byte
	for _, f := range zr.File {
		if strings.HasSuffix(f.Name, "/stations.gpkg") {
			rc, _ := f.Open()
			var buf bytes.Buffer
			buf.ReadFrom(rc)
			rc.Close()
			stationsGPKG = buf.Bytes()
		}
	}
	const vid = "5f1f5b8e-2d1c-4b5a-9c3e-0a1b2c3d4e5f"
	var fromCARTO bytes.Buffer
	zw := zip.NewWriter(&fromCARTO)
	for name, content := range map[string][]byte{
		vid + "/stations.gpkg": stationsGPKG,
		vid + "/" + vid + ".carto.json": []byte(`{"version":"2.1.4","visualization":{"id":"` + vid + `","name":"Busy stations","description":null,
"type":"derived","tags":["x"],"privacy":"password","user":{"username":"carto_user"},"overlays":[],"analyses":[],
"layers":[{"kind":"tiled","options":{"urlTemplate":"https://basemaps/{z}/{x}/{y}.png"}},
{"kind":"carto","options":{"table_name":"stations","user_name":"carto_user","query":"SELECT * FROM carto_user.stations WHERE lines > 1",
"tile_style":"#stations { marker-width: 7; }","style_version":"2.1.1"}}]}}`),
	} {
		w, _ := zw.Create(name)
		w.Write(content)
	}
	zw.Close()
	up, err = imp.Upload(ctx, "busy.carto", &fromCARTO, &imports.Options{CreateVis: true})
	if err != nil {
		t.Fatal(err)
	}
	if done, err = imp.Wait(ctx, up.ID); err != nil || done.TableName != "stations_3" {
		t.Fatalf("from CARTO: %+v %v", done, err)
	}
	busy, err := mapsB.Get(ctx, done.VisualizationID)
	if err != nil || busy.Name != "Busy stations" || busy.Privacy != account.Private || !slices.Equal(busy.Tags, []string{"x"}) {
		t.Fatalf("from CARTO: %+v %v", busy, err)
	}
	def = cartoJSON(t, exportMap(t, mapsB, busy.ID))["mapconfig"]
	wantDef := map[string]any{"version": "1.3.0", "layers": []any{map[string]any{"type": "mapnik", "options": map[string]any{
		"sql": `SELECT * FROM "` + b.User + `"."stations_3" WHERE lines > 1`, "cartocss": "#stations { marker-width: 7; }", "cartocss_version": "2.1.1"}}}}
	if !reflect.DeepEqual(def, any(wantDef)) {
		t.Errorf("from CARTO: definition %v", def)
	}

	// Without create_vis, CARTO imports a .carto's tables and leaves its map out.
	up, err = imp.Upload(ctx, "transit.carto", bytes.NewReader(file), nil)
	if err != nil {
		t.Fatal(err)
	}
	if done, err = imp.Wait(ctx, up.ID); err != nil || done.VisualizationID != "" || done.TablesCreated != 2 {
		t.Errorf("without create_vis: %+v %v", done, err)
	}
}
