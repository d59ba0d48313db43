package maps_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/paulmach/orb/encoding/mvt"
	"github.com/paulmach/orb/maptile"
)

// answer is one HTTP exchange.
type answer struct {
	status int
	header http.Header
	body   []byte
}

func do(t testing.TB, method, u, ctype, body string) answer {
	t.Helper()
	req, err := http.NewRequestWithContext(ctxT(t), method, u, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return answer{resp.StatusCode, resp.Header, b}
}

func postJSON(t testing.TB, u, body string) answer { return do(t, "POST", u, "application/json", body) }

// samplePts makes the samples' fixture: a private cartodbfied table of four cities, three
// inserted before CDB_CartodbfyTable and one after (cartodbfy itself writes no CDB_TableMetadata
// row).
func samplePts(t testing.TB, a *account) {
	t.Helper()
	a.exec(t, `CREATE TABLE maps_sample_pts (name text, value float8, flag bool,
		created timestamptz DEFAULT now(), meta jsonb, the_geom geometry(Point,4326));
		INSERT INTO maps_sample_pts (name, value, flag, meta, the_geom) VALUES
		('Barcelona', 10.5, true, '{"a":1}', CDB_LatLng(41.3851, 2.1734)),
		('Madrid', 20.25, false, '{}', CDB_LatLng(40.4168, -3.7038)),
		('Lisboa', 30, true, null, CDB_LatLng(38.7223, -9.1393));
		SELECT CDB_CartodbfyTable('maps_sample_pts')`)
	a.exec(t, `INSERT INTO maps_sample_pts (name, value, flag, the_geom) VALUES ('Paris', 40, false, CDB_LatLng(48.8566, 2.3522))`)
}

const cartoCSSMap = `{"version":"1.7.0","layers":[{"type":"mapnik","options":{"sql":"select * from maps_sample_pts","cartocss":"#layer { marker-width: 6; marker-fill: #f00; }","cartocss_version":"2.3.0"}}]}`

func errorsOf(t testing.TB, a answer) (string, map[string]any) {
	t.Helper()
	var body struct {
		Errors  []string         `json:"errors"`
		Context []map[string]any `json:"errors_with_context"`
	}
	if err := json.Unmarshal(a.body, &body); err != nil || len(body.Errors) != 1 || len(body.Context) != 1 {
		t.Fatalf("not a Windshaft error (%v): %s", err, a.body)
	}
	return body.Errors[0], body.Context[0]
}

func TestAnonymousCartoCSS(t *testing.T) {
	a := newAccount(t)
	samplePts(t, a)
	got := postJSON(t, a.url("api/v1/map?api_key="+a.master), cartoCSSMap)
	if got.status != 200 {
		t.Fatalf("%d %s", got.status, got.body)
	}
	var lg map[string]any
	if err := json.Unmarshal(got.body, &lg); err != nil {
		t.Fatal(err)
	}
	id := lg["layergroupid"].(string)
	if !regexp.MustCompile(`^[0-9a-f]{32}:[1-9]\d{12}$`).MatchString(id) || got.header.Get("X-Layergroup-Id") != id {
		t.Fatalf("layergroupid %q, header %q", id, got.header.Get("X-Layergroup-Id"))
	}
	// Members in Windshaft's order, and its shapes.
	s := string(got.body)
	for _, want := range []string{
		`{"layergroupid":"` + id + `","metadata":{"layers":[{"type":"mapnik","id":"layer0","meta":{"cartocss":"#layer { marker-width: 6; marker-fill: #f00; }","stats":{"estimatedFeatureCount":`,
		`"cartocss_meta":{"rules":[]}},"tilejson":{"vector":{"tilejson":"2.2.0","tiles":["` + a.url("api/v1/map/"+id+"/layer0/{z}/{x}/{y}.mvt?api_key="+a.master) + `"]},"raster":{"tilejson":"2.2.0","tiles":["` + a.url("api/v1/map/"+id+"/layer0/{z}/{x}/{y}.png?api_key="+a.master) + `"]}}}],"dataviews":{},"analyses":[],"tilejson":{"vector":`,
		`"url":{"vector":{"urlTemplate":"` + a.url("api/v1/map/"+id+"/{z}/{x}/{y}.mvt?api_key="+a.master) + `","subdomains":[]},"raster":`,
		`"cdn_url":{},"last_updated":"20`,
	} {
		if !strings.Contains(s, want) {
			t.Errorf("layergroup lacks %s\n%s", want, s)
		}
	}
	// The same config again is the same map.
	again := postJSON(t, a.url("api/v1/map?api_key="+a.master), cartoCSSMap)
	if again.header.Get("X-Layergroup-Id") != id {
		t.Errorf("second layergroup %s, want %s", again.header.Get("X-Layergroup-Id"), id)
	}
	// Without a trailing slash, with one, and without /user/NAME when the path names no user
	// (our glue needs the user: covered by the cartolocal mount's tests).
	slash := postJSON(t, a.url("api/v1/map/?api_key="+a.master), cartoCSSMap)
	if slash.status != 200 {
		t.Errorf("trailing slash: %d %s", slash.status, slash.body)
	}
	// GET ?config=.
	g := do(t, "GET", a.url("api/v1/map?api_key="+a.master+"&config="+url.QueryEscape(cartoCSSMap)), "", "")
	if g.status != 200 || g.header.Get("X-Layergroup-Id") != id {
		t.Errorf("GET ?config=: %d %s", g.status, g.body)
	}
}

func TestAnonymousVector(t *testing.T) {
	a := newAccount(t)
	samplePts(t, a)
	got := postJSON(t, a.url("api/v1/map?api_key="+a.master), `{"version":"1.7.0","layers":[{"type":"mapnik","id":"pts","options":{"sql":"select * from maps_sample_pts"}}]}`)
	if got.status != 200 {
		t.Fatalf("%d %s", got.status, got.body)
	}
	s := string(got.body)
	if !strings.Contains(s, `"id":"pts","meta":{"stats":{"estimatedFeatureCount":`) || !strings.Contains(s, `"aggregation":{"png":false,"mvt":false}}`) || strings.Contains(s, "raster") {
		t.Errorf("vector layergroup: %s", s)
	}
	id := got.header.Get("X-Layergroup-Id")
	tile := do(t, "GET", a.url("api/v1/map/"+id+"/pts/0/0/0.mvt?api_key="+a.master), "", "")
	if tile.status != 200 || tile.header.Get("Content-Type") != "application/x-protobuf" {
		t.Fatalf("tile: %d %v %s", tile.status, tile.header, tile.body)
	}
	layers, err := mvt.Unmarshal(tile.body)
	if err != nil {
		t.Fatal(err)
	}
	if len(layers) != 1 || layers[0].Name != "pts" || layers[0].Extent != 4096 || len(layers[0].Features) != 4 {
		t.Fatalf("layers %+v", layers)
	}
	layers.ProjectToWGS84(maptile.New(0, 0, 0))
	props := map[string]map[string]any{}
	for _, f := range layers[0].Features {
		props[f.Properties["name"].(string)] = f.Properties
		if f.ID != nil {
			t.Errorf("feature id %v: Windshaft's features carry none", f.ID)
		}
	}
	bcn := props["Barcelona"]
	// timestamptz, jsonb and geometries are dropped; bool, numbers and text stay.
	if len(bcn) != 4 || bcn["flag"] != true || bcn["value"] != 10.5 || bcn["cartodb_id"] == nil {
		t.Errorf("Barcelona's properties %v", bcn)
	}
	// Far from the data: 204 with no body and no Content-Type.
	empty := do(t, "GET", a.url("api/v1/map/"+id+"/0/10/0/0.mvt?api_key="+a.master), "", "")
	if empty.status != 204 || len(empty.body) != 0 || empty.header.Get("Content-Type") != "" || empty.header.Get("x-tilelive-contains-data") != "false" {
		t.Errorf("empty tile: %d %v", empty.status, empty.header)
	}
}

func TestAnonymousErrors(t *testing.T) {
	a := newAccount(t)
	samplePts(t, a)
	mapURL := a.url("api/v1/map?api_key=" + a.master)
	for _, c := range []struct {
		name, url, ctype, body string
		status                 int
		msg, typ               string
		layer                  bool
	}{
		{"missing sql", mapURL, "application/json", `{"version":"1.7.0","layers":[{"type":"mapnik","options":{"cartocss":"#layer { marker-width: 6; }","cartocss_version":"2.3.0"}}]}`,
			400, "Missing sql for layer", "layer", true},
		{"bad sql", mapURL, "application/json", `{"version":"1.7.0","layers":[{"type":"mapnik","options":{"sql":"selec * from maps_sample_pts","cartocss":"#layer {}","cartocss_version":"2.3.0"}}]}`,
			400, `PgMvtFactory: syntax error at or near "from"`, "layer", true},
		{"bad sql vector", mapURL, "application/json", `{"version":"1.7.0","layers":[{"type":"mapnik","options":{"sql":"selec * from maps_sample_pts"}}]}`,
			400, `PgMvtFactory: syntax error at or near "from"`, "unknown", false},
		{"missing table", mapURL, "application/json", `{"version":"1.7.0","layers":[{"type":"mapnik","options":{"sql":"select * from no_such_table","cartocss":"#layer {}","cartocss_version":"2.3.0"}}]}`,
			404, `relation "no_such_table" does not exist`, "unknown", false},
		{"private without key", a.url("api/v1/map"), "application/json", cartoCSSMap,
			403, "PgMvtFactory: permission denied for table maps_sample_pts", "layer", true},
		{"wrong key", a.url("api/v1/map?api_key=wrong"), "application/json", cartoCSSMap,
			401, "Unauthorized", "auth", false},
		{"no layers", mapURL, "application/json", `{"version":"1.7.0"}`,
			400, "Missing layers array from layergroup config", "unknown", false},
		{"form post", mapURL, "application/x-www-form-urlencoded", "config=" + url.QueryEscape(cartoCSSMap),
			400, "POST data must be of type application/json", "unknown", false},
		{"mixed", mapURL, "application/json", `{"version":"1.7.0","layers":[{"type":"mapnik","options":{"sql":"select * from maps_sample_pts","cartocss":"#layer {}","cartocss_version":"2.3.0"}},{"type":"mapnik","options":{"sql":"select * from maps_sample_pts"}}]}`,
			400, "The `mapnik` or `cartodb` layers must be consistent: `cartocss` option is either present or voided in all layers. Mixing is not allowed.", "mapconfig", false},
		{"no geometry column", mapURL, "application/json", `{"version":"1.7.0","layers":[{"type":"mapnik","options":{"sql":"select cartodb_id, name from maps_sample_pts","cartocss":"#layer {}","cartocss_version":"2.3.0"}}]}`,
			400, `PgMvtRenderer: column "the_geom_webmercator" does not exist`, "layer", true},
		{"version", mapURL, "application/json", `{"version":"2.0.0","layers":[{"options":{"sql":"select 1"}}]}`,
			400, "Unsupported layergroup configuration version 2.0.0", "unknown", false},
		{"options", mapURL, "application/json", `{"version":"1.7.0","layers":[{"type":"mapnik"}]}`,
			400, "Missing options from layer 0 of layergroup config", "unknown", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := do(t, "POST", c.url, c.ctype, c.body)
			msg, ctx := errorsOf(t, got)
			if got.status != c.status || msg != c.msg || ctx["type"] != c.typ || ctx["message"] != msg {
				t.Errorf("got %d %s", got.status, got.body)
			}
			if l, ok := ctx["layer"].(map[string]any); ok != c.layer || ok && (l["id"] != "layer0" || l["index"] != 0.0 || l["type"] != "mapnik") {
				t.Errorf("layer context %v", ctx["layer"])
			}
		})
	}
}
