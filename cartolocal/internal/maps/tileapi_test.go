package maps_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/paulmach/orb/encoding/mvt"
)

func layerNames(t *testing.T, body []byte) map[string]int {
	t.Helper()
	layers, err := mvt.Unmarshal(body)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for _, l := range layers {
		out[l.Name] = len(l.Features)
	}
	return out
}

func TestTileRequests(t *testing.T) {
	a := newAccount(t)
	samplePts(t, a)
	two := postJSON(t, a.url("api/v1/map?api_key="+a.master), `{"version":"1.7.0","layers":[{"type":"mapnik","options":{"sql":"select * from maps_sample_pts where value < 25","cartocss":"#layer { marker-width: 6; }","cartocss_version":"2.3.0"}},{"type":"cartodb","id":"big","options":{"sql":"select * from maps_sample_pts where value >= 25","cartocss":"#layer { marker-width: 10; }","cartocss_version":"2.3.0","attributes":{"id":"cartodb_id","columns":["name","value"]}}}]}`)
	zoomed := postJSON(t, a.url("api/v1/map?api_key="+a.master), `{"version":"1.7.0","minzoom":2,"maxzoom":12,"layers":[{"type":"mapnik","id":"low","options":{"sql":"select * from maps_sample_pts","minzoom":0,"maxzoom":3}},{"type":"mapnik","id":"high","options":{"sql":"select * from maps_sample_pts","minzoom":4,"maxzoom":30}}]}`)
	vector := postJSON(t, a.url("api/v1/map?api_key="+a.master), `{"version":"1.7.0","layers":[{"type":"mapnik","id":"pts","options":{"sql":"select * from maps_sample_pts"}}]}`)
	for _, m := range []answer{two, zoomed, vector} {
		if m.status != 200 {
			t.Fatalf("%d %s", m.status, m.body)
		}
	}
	lg2, lgz, lgv := two.header.Get("X-Layergroup-Id"), zoomed.header.Get("X-Layergroup-Id"), vector.header.Get("X-Layergroup-Id")
	key := "?api_key=" + a.master
	tile := func(path string) answer { return do(t, "GET", a.url("api/v1/map/"+path), "", "") }

	for path, want := range map[string]map[string]int{
		lg2 + "/0/0/0.mvt" + key:        {"layer0": 2, "big": 2},
		lg2 + "/0,1/0/0/0.mvt" + key:    {"layer0": 2, "big": 2},
		lg2 + "/all/0/0/0.mvt" + key:    {"layer0": 2, "big": 2},
		lg2 + "/1/0/0/0.mvt" + key:      {"big": 2},
		lg2 + "/big/0/0/0.mvt" + key:    {"big": 2},
		lg2 + "/layer0/0/0/0.mvt" + key: {"layer0": 2}, // Windshaft 9 says 400 here: see filterLayers
		lgz + "/2/2/1.mvt" + key:        {"low": 4},
		lgz + "/5/16/11.mvt" + key:      {"high": 2},
		lgz + "/0/0/0.mvt" + key:        {"low": 4},
		lgz + "/14/8290/6119.mvt" + key: {"high": 1},
		lgv + "/pts/0/0/0.mvt" + key:    {"pts": 4},
		lgv + "/pts/0/-1/0.mvt" + key:   {"pts": 4}, // x wraps around the world
		lgv + "/pts/1/0/0@2x.mvt" + key: {"pts": 4}, // retina URL, same MVT
		lgv + "/pts/1/1/0.mvt" + key:    {"pts": 4}, // the buffer reaches Lisboa and Madrid west of 0°
	} {
		got := tile(path)
		if got.status != 200 {
			t.Errorf("%s: %d %s", path, got.status, got.body)
			continue
		}
		names := layerNames(t, got.body)
		if len(names) != len(want) {
			t.Errorf("%s: layers %v, want %v", path, names, want)
		}
		for n, c := range want {
			if names[n] != c {
				t.Errorf("%s: layers %v, want %v", path, names, want)
			}
		}
		if got.header.Get("Cache-Control") != "public,max-age=31536000" || got.header.Get("Surrogate-Key") == "" ||
			!strings.HasSuffix(got.header.Get("X-Cache-Channel"), ":"+a.name+".maps_sample_pts") || got.header.Get("Last-Modified") == "" {
			t.Errorf("%s: cache headers %v", path, got.header)
		}
	}

	lgToken, _, _ := strings.Cut(lgv, ":")
	for _, c := range []struct {
		path   string
		status int
		msg    string
		typ    string
	}{
		{lgv + "/0/a/0/0.mvt" + key, 400, "Invalid zoom value (a). It should be an integer number greather than or equal to 0", "unknown"},
		{lgv + "/0/0/0/b.mvt" + key, 400, "Invalid coodinate 'y' value (b). It should be an integer number greather than or equal to 0", "unknown"},
		{lgv + "/0/0/x/0.mvt" + key, 400, "Invalid coodinate 'x' value (x). It should be an integer number", "unknown"},
		{lgv + "/5/0/0/0.mvt" + key, 400, "Layer '5' not found in layergroup", "unknown"},
		{lgv + "/nope/0/0/0.mvt" + key, 400, "Unsupported format mvt", "unknown"},
		{"0123456789abcdef0123456789abcdef:1/0/0/0/0.mvt" + key, 400, "Invalid or nonexistent map configuration token '0123456789abcdef0123456789abcdef'", "unknown"},
		{lgv + "/0/0/0.png" + key, 400, "Unsupported format: 'cartocss' option is missing for png", "tile"},
		{lg2 + "/0/0/0.png" + key, 400, "Unsupported format png: cartolocal serves vector tiles (mvt) only; raster formats need Mapnik and CartoCSS", "tile"},
		{lg2 + "/0/0/0/0.grid.json" + key, 400, "Unsupported format grid.json: cartolocal serves vector tiles (mvt) only; raster formats need Mapnik and CartoCSS", "tile"},
		{"static/center/" + lg2 + "/1/40/-3/300/200.png" + key, 400, "Static map images need Mapnik and CartoCSS: cartolocal serves vector tiles (mvt) only", "tile"},
		{"static/bbox/" + lg2 + "/-10,35,5,44/300/200.jpg" + key, 400, "Static map images need Mapnik and CartoCSS: cartolocal serves vector tiles (mvt) only", "tile"},
		{"static/named/some_tpl/300/200.png" + key, 400, "Static map images need Mapnik and CartoCSS: cartolocal serves vector tiles (mvt) only", "tile"},
		{lg2 + "/0/0/0.png32" + key, 400, "Unsupported format png32: cartolocal serves vector tiles (mvt) only; raster formats need Mapnik and CartoCSS", "tile"},
		{lgv + "/0/0/0/0.mvt", 403, "PgMvtFactory: permission denied for table maps_sample_pts", "unknown"},
		{lg2 + "/0/attributes/1" + key, 400, "Layer 0 has no exposed attributes", "unknown"},
		{lg2 + "/1/attributes/999999" + key, 404, "Multiple features (0) identified by 'cartodb_id' = 999999 in layer 1", "unknown"},
	} {
		got := tile(c.path)
		msg, ctx := errorsOf(t, got)
		if got.status != c.status || msg != c.msg || ctx["type"] != c.typ {
			t.Errorf("%s: %d %s", c.path, got.status, got.body)
		}
	}
	if got := tile(lgv + "/0/0/0/0.mvt" + key); got.header.Get("Carto-Map-Id") != lgToken {
		t.Errorf("Carto-Map-Id %q", got.header.Get("Carto-Map-Id"))
	}
	attrs := tile(lg2 + "/1/attributes/3" + key)
	if attrs.status != 200 || string(attrs.body) != `{"name":"Lisboa","value":30}` {
		t.Errorf("attributes: %d %s", attrs.status, attrs.body)
	}
}

// TestLastUpdated: a write to a table moves its CDB_TableMetadata row, and so the layergroup's
// cache buster and last_updated; the md5 stays.
func TestLastUpdated(t *testing.T) {
	a := newAccount(t)
	samplePts(t, a)
	before := postJSON(t, a.url("api/v1/map?api_key="+a.master), cartoCSSMap)
	time.Sleep(5 * time.Millisecond)
	a.exec(t, `INSERT INTO maps_sample_pts (name, value, flag, the_geom) VALUES ('Roma', 50, true, CDB_LatLng(41.9028, 12.4964))`)
	after := postJSON(t, a.url("api/v1/map?api_key="+a.master), cartoCSSMap)
	var b, c struct {
		ID          string `json:"layergroupid"`
		LastUpdated string `json:"last_updated"`
	}
	if json.Unmarshal(before.body, &b) != nil || json.Unmarshal(after.body, &c) != nil {
		t.Fatalf("%s\n%s", before.body, after.body)
	}
	bm, bb, _ := strings.Cut(b.ID, ":")
	cm, cb, _ := strings.Cut(c.ID, ":")
	if bm != cm || bb >= cb || b.LastUpdated >= c.LastUpdated {
		t.Errorf("before %+v, after %+v", b, c)
	}
	// cartodbfy alone writes no CDB_TableMetadata row: cache buster 0 until the first write.
	a.exec(t, `CREATE TABLE fresh (name text, the_geom geometry(Point,4326)); INSERT INTO fresh VALUES ('x', CDB_LatLng(1, 2));
		SELECT CDB_CartodbfyTable('fresh')`)
	freshMap := `{"version":"1.7.0","layers":[{"type":"mapnik","options":{"sql":"select * from fresh"}}]}`
	if id := postJSON(t, a.url("api/v1/map?api_key="+a.master), freshMap).header.Get("X-Layergroup-Id"); !strings.HasSuffix(id, ":0") {
		t.Errorf("fresh table: %s", id)
	}
	a.exec(t, `UPDATE fresh SET name = 'y'`)
	if id := postJSON(t, a.url("api/v1/map?api_key="+a.master), freshMap).header.Get("X-Layergroup-Id"); strings.HasSuffix(id, ":0") {
		t.Errorf("after an UPDATE: %s", id)
	}
	// A map of no table: cache buster 0.
	none := postJSON(t, a.url("api/v1/map?api_key="+a.master), `{"version":"1.7.0","layers":[{"type":"mapnik","options":{"sql":"select 1 as cartodb_id, ST_SetSRID(ST_MakePoint(0,0),3857) as the_geom_webmercator"}}]}`)
	if !strings.HasSuffix(none.header.Get("X-Layergroup-Id"), ":0") || !strings.Contains(string(none.body), `"last_updated":"1970-01-01T00:00:00.000Z"`) {
		t.Errorf("no table: %s", none.body)
	}
}

// TestOtherLayerTypes: a MapConfig with http and plain layers besides a mapnik one. Their
// metadata is {} with only a raster TileJSON; mvt tiles come from the mapnik layers, and a filter
// that takes in another layer is Windshaft's "Unsupported format mvt" (its http, plain and blend
// renderers draw no mvt).
func TestOtherLayerTypes(t *testing.T) {
	a := newAccount(t)
	samplePts(t, a)
	key := "?api_key=" + a.master
	m := postJSON(t, a.url("api/v1/map"+key), `{"version":"1.7.0","layers":[
		{"type":"http","options":{"urlTemplate":"http://{s}.example.com/{z}/{x}/{y}.png","subdomains":["a","b"]}},
		{"type":"plain","options":{"color":"#ffffff"}},
		{"type":"mapnik","options":{"sql":"select * from maps_sample_pts","cartocss":"#layer { marker-width: 6; }","cartocss_version":"2.3.0"}}]}`)
	if m.status != 200 {
		t.Fatalf("%d %s", m.status, m.body)
	}
	var resp struct {
		Metadata struct {
			Layers []struct {
				Type, ID string
				Meta     map[string]any
				TileJSON map[string]json.RawMessage
			}
		}
	}
	if err := json.Unmarshal(m.body, &resp); err != nil || len(resp.Metadata.Layers) != 3 {
		t.Fatalf("%v: %s", err, m.body)
	}
	for i, want := range [][2]string{{"http", "http-layer0"}, {"plain", "plain-layer0"}, {"mapnik", "layer0"}} {
		l := resp.Metadata.Layers[i]
		_, vector := l.TileJSON["vector"]
		if l.Type != want[0] || l.ID != want[1] || (i < 2) != (len(l.Meta) == 0) || (i < 2) == vector {
			t.Errorf("layer %d: %+v", i, l)
		}
	}
	id := m.header.Get("X-Layergroup-Id")
	for filter, status := range map[string]int{"": 200, "mapnik/": 200, "2/": 200, "layer0/": 200, "0/": 400, "1/": 400, "0,2/": 400, "all/": 400, "http/": 400} {
		got := do(t, "GET", a.url("api/v1/map/"+id+"/"+filter+"0/0/0.mvt"+key), "", "")
		if got.status != status {
			t.Errorf("filter %q: %d %s", filter, got.status, got.body)
		}
		if status == 200 {
			if names := layerNames(t, got.body); len(names) != 1 || names["layer0"] != 4 {
				t.Errorf("filter %q: layers %v", filter, names)
			}
		} else if msg, _ := errorsOf(t, got); msg != "Unsupported format mvt" {
			t.Errorf("filter %q: %s", filter, got.body)
		}
	}
}

// TestPaths: the Maps API answers without the /user/NAME prefix (the account from the host, as
// on CARTO) and with trailing slashes.
func TestPaths(t *testing.T) {
	a := newAccount(t)
	samplePts(t, a)
	key := "?api_key=" + a.master
	bare := func(method, path, body string) answer {
		t.Helper()
		req, err := http.NewRequestWithContext(ctxT(t), method, a.base+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Host = a.name + ".localhost.lan"
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, err := io.ReadAll(res.Body)
		if err != nil {
			t.Fatal(err)
		}
		return answer{res.StatusCode, res.Header, b}
	}
	m := bare("POST", "/api/v1/map"+key, cartoCSSMap)
	id := m.header.Get("X-Layergroup-Id")
	if m.status != 200 || id == "" {
		t.Fatalf("bare POST: %d %s", m.status, m.body)
	}
	if again := postJSON(t, a.url("api/v1/map/"+key), cartoCSSMap); again.header.Get("X-Layergroup-Id") != id {
		t.Errorf("with /user and a slash: %d %s", again.status, again.body)
	}
	if tile := bare("GET", "/api/v1/map/"+id+"/0/0/0.mvt"+key, ""); tile.status != 200 || tile.header.Get("Content-Type") != "application/x-protobuf" {
		t.Errorf("bare tile: %d %s", tile.status, tile.body)
	}
	tpl := `{"version":"0.0.1","name":"paths","auth":{"method":"open"},"layergroup":{"version":"1.7.0","layers":[{"type":"mapnik","options":{"sql":"select * from maps_sample_pts"}}]}}`
	for _, c := range []struct {
		method, path, body string
		status             int
		want               string
	}{
		{"POST", "/api/v1/map/named/" + key, tpl, 200, `{"template_id":"paths"}`},
		{"GET", "/api/v1/map/named/" + key, "", 200, `{"template_ids":["paths"]}`},
		{"GET", "/api/v1/map/named" + key, "", 200, `{"template_ids":["paths"]}`},
		{"GET", "/api/v1/map/named/paths/" + key, "", 200, `{"template":`},
		{"POST", "/api/v1/map/named/paths/", "{}", 200, `{"layergroupid":`},
		{"DELETE", "/api/v1/map/named/paths/" + key, "", 204, ``},
	} {
		got := bare(c.method, c.path, c.body)
		if got.status != c.status || !strings.HasPrefix(string(got.body), c.want) {
			t.Errorf("%s %s: %d %s", c.method, c.path, got.status, got.body)
		}
	}
}
