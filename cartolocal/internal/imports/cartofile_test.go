package imports_test

import (
	"path/filepath"
	"testing"
)

// A broken .carto file fails as it fails on CARTO: an archive that does not unpack is 1003; a
// map that cannot be read (not JSON, another export version, no layers) raises in CARTO's
// runner an exception of no known code, 99999, after the tables are loaded: without tables
// the import fails, with tables it completes with them and the code. A .carto that holds
// neither a map nor a table is 1002. (The round trip itself is account's
// TestCartoFileRoundTrip, on a whole cartolocal.)
func TestCartoFileBroken(t *testing.T) {
	e, acct := newEnv(t, nil)
	gpkg := func(t *testing.T) []byte {
		dir := ogr(t, "points.geojson", pointsJSON, "-f", "GPKG", "$DIR/places.gpkg", "$IN", "-nln", "places")
		return read(t, filepath.Join(dir, "places.gpkg"))
	}
	const id = "0b6c2ab0-4a5e-4a86-9a2a-1b2c3d4e5f60"
	goodJSON := `{"version":"2.0.0","visualization":{"name":"M","type":"derived","layers":[{"kind":"carto","options":{"table_name":"places"}}]}}`
	cases := []struct {
		name  string
		files func(t *testing.T) []byte
		state string
		code  int
		title string
	}{
		{"broken.carto", func(*testing.T) []byte { return []byte("PK\x03\x04 not a zip at all") }, "failure", 1003, "Decompression error"},
		{"notjson.carto", func(t *testing.T) []byte {
			return zipFiles(t, map[string][]byte{id + "/" + id + ".carto.json": []byte(`{"version": "2.0.0", "visualization": {`)})
		}, "failure", 99999, "Unknown"},
		{"old.carto", func(t *testing.T) []byte {
			return zipFiles(t, map[string][]byte{id + "/" + id + ".carto.json": []byte(`{"version":"1.0.0","visualization":{"name":"M","layers":[]}}`)})
		}, "failure", 99999, "Unknown"},
		{"nolayers.carto", func(t *testing.T) []byte {
			return zipFiles(t, map[string][]byte{id + "/" + id + ".carto.json": []byte(`{"version":"2.1.4","visualization":{"name":"M"}}`)})
		}, "failure", 99999, "Unknown"},
		{"nothing.carto", func(t *testing.T) []byte {
			return zipFiles(t, map[string][]byte{id + "/README.txt": []byte("nothing here")})
		}, "failure", 1002, "Unsupported/Unrecognized file type"},
		{"withdata.carto", func(t *testing.T) []byte {
			return zipFiles(t, map[string][]byte{id + "/" + id + ".carto.json": []byte(`{"version": 3}`), id + "/places.gpkg": gpkg(t)})
		}, "complete", 99999, "Unknown"},
		// A map without data and without create_vis: no table, and the map is not made; CARTO
		// completes it with 1002 all the same, its runner having read a map.
		{"nodata.carto", func(t *testing.T) []byte {
			return zipFiles(t, map[string][]byte{id + "/" + id + ".carto.json": []byte(goodJSON)})
		}, "complete", 1002, "Unsupported/Unrecognized file type"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := e.wait(t, acct, e.upload(t, acct, c.name, c.files(t), ""))
			if m["state"] != c.state || m["success"] != (c.state == "complete") || m["error_code"] != float64(c.code) {
				t.Fatalf("state %v success %v error_code %v, want %s %d", m["state"], m["success"], m["error_code"], c.state, c.code)
			}
			if text, _ := m["get_error_text"].(map[string]any); text["title"] != c.title {
				t.Errorf("get_error_text %v", m["get_error_text"])
			}
			if c.name == "withdata.carto" {
				if m["table_name"] != "places" || m["tables_created_count"] != float64(1) {
					t.Errorf("tables: %v", m)
				}
				e.checkTable(t, acct.User, formatTable{"places", "city text", "POINT", 2})
			}
		})
	}
}
