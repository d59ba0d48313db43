package maps_test

import (
	"encoding/json"
	"fmt"
	"math"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/clip"
	"github.com/paulmach/orb/encoding/mvt"
	"github.com/paulmach/orb/encoding/wkt"
	"github.com/paulmach/orb/planar"
)

// shape is a row of the tiled table, with its web-mercator geometry as PostGIS holds it.
type shape struct {
	id   int
	name string
	kind string
	geom orb.Geometry // EPSG:3857
}

const (
	worldHalf = 20037508.342789245
	extent    = 4096.0
	bufferU   = 1024.0 // 64 px of a 256 px tile, in tile units
)

// toTile maps a web-mercator geometry to the units of tile z/x/y (y down, as in MVT).
func toTile(g orb.Geometry, z, x, y int) orb.Geometry {
	size := 2 * worldHalf / math.Exp2(float64(z))
	xmin := -worldHalf + float64(x)*size
	ymax := worldHalf - float64(y)*size
	return transform(g, func(p orb.Point) orb.Point {
		return orb.Point{(p[0] - xmin) / size * extent, (ymax - p[1]) / size * extent}
	})
}

func transform(g orb.Geometry, f func(orb.Point) orb.Point) orb.Geometry {
	switch g := g.(type) {
	case orb.Point:
		return f(g)
	case orb.LineString:
		out := make(orb.LineString, len(g))
		for i, p := range g {
			out[i] = f(p)
		}
		return out
	case orb.Polygon:
		out := make(orb.Polygon, len(g))
		for i, r := range g {
			out[i] = orb.Ring(transform(orb.LineString(r), f).(orb.LineString))
		}
		return out
	case orb.MultiPolygon:
		out := make(orb.MultiPolygon, len(g))
		for i, p := range g {
			out[i] = transform(p, f).(orb.Polygon)
		}
		return out
	}
	panic(fmt.Sprintf("geometry %T", g))
}

// vertices lists a geometry's points.
func vertices(g orb.Geometry) []orb.Point {
	var out []orb.Point
	switch g := g.(type) {
	case orb.Point:
		out = append(out, g)
	case orb.MultiPoint:
		out = append(out, g...)
	case orb.LineString:
		out = append(out, g...)
	case orb.MultiLineString:
		for _, l := range g {
			out = append(out, l...)
		}
	case orb.Polygon:
		for _, r := range g {
			out = append(out, r...)
		}
	case orb.MultiPolygon:
		for _, p := range g {
			out = append(out, vertices(p)...)
		}
	}
	return out
}

// spanUnits is the larger side of a geometry's bounds, in tile units: below a unit, ST_AsMVTGeom
// may collapse a line or polygon to nothing.
func spanUnits(g orb.Geometry) float64 {
	b := g.Bound()
	return math.Max(b.Max[0]-b.Min[0], b.Max[1]-b.Min[1])
}

// TestTilesMatchTheData tiles points, lines and polygons at every zoom from 0 to 16 and checks
// each tile against the source rows, computed here independently of the server's SQL: a tile
// holds exactly the rows whose geometry meets the tile plus its 64 px buffer (orb's clip is the
// oracle; lines and polygons smaller than a tile unit may collapse), every vertex lies within one
// tile unit of its source geometry (or on the buffer's edge, where clipping cut it), properties
// are the row's, and tiles with nothing are 204.
func TestTilesMatchTheData(t *testing.T) {
	a := newAccount(t)
	a.exec(t, `CREATE TABLE shapes (name text, kind text, rank int, the_geom geometry(Geometry,4326));
	INSERT INTO shapes (name, kind, rank, the_geom) VALUES
	 ('sol', 'point', 1, CDB_LatLng(40.4169, -3.7035)),
	 ('retiro', 'point', 2, CDB_LatLng(40.4153, -3.6845)),
	 ('far', 'point', 3, CDB_LatLng(40.4500, -3.6500)),
	 ('gran via', 'line', 4, ST_GeomFromText('LINESTRING(-3.7124 40.4240, -3.7058 40.4200, -3.6965 40.4195, -3.6893 40.4189)', 4326)),
	 ('castellana', 'line', 5, ST_GeomFromText('LINESTRING(-3.6906 40.4200, -3.6920 40.4300, -3.6890 40.4450, -3.6880 40.4600)', 4326)),
	 ('park', 'polygon', 6, ST_GeomFromText('POLYGON((-3.6900 40.4080, -3.6760 40.4080, -3.6760 40.4200, -3.6900 40.4200, -3.6900 40.4080),(-3.6850 40.4120, -3.6800 40.4120, -3.6800 40.4160, -3.6850 40.4120))', 4326)),
	 ('block', 'polygon', 7, ST_GeomFromText('POLYGON((-3.7100 40.4100, -3.7080 40.4100, -3.7080 40.4115, -3.7100 40.4100))', 4326)),
	 ('district', 'polygon', 8, ST_GeomFromText('MULTIPOLYGON(((-3.72 40.40, -3.70 40.40, -3.70 40.43, -3.72 40.40)),((-3.66 40.44, -3.64 40.44, -3.65 40.46, -3.66 40.44)))', 4326));
	SELECT CDB_CartodbfyTable('shapes')`)

	conn, err := a.u.Acquire(ctxT(t), true)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := conn.Query(ctxT(t), "SELECT cartodb_id, name, kind, ST_AsText(the_geom_webmercator) FROM shapes ORDER BY cartodb_id")
	if err != nil {
		t.Fatal(err)
	}
	var shapes []shape
	for rows.Next() {
		var s shape
		var text string
		if err := rows.Scan(&s.id, &s.name, &s.kind, &text); err != nil {
			t.Fatal(err)
		}
		if s.geom, err = wkt.Unmarshal(text); err != nil {
			t.Fatal(err)
		}
		shapes = append(shapes, s)
	}
	rows.Close()
	conn.Release()
	if len(shapes) != 8 {
		t.Fatalf("%d shapes", len(shapes))
	}

	got := postJSON(t, a.url("api/v1/map?api_key="+a.master), `{"version":"1.7.0","layers":[{"type":"mapnik","id":"shapes","options":{"sql":"select * from shapes"}}]}`)
	if got.status != 200 {
		t.Fatalf("%d %s", got.status, got.body)
	}
	id := got.header.Get("X-Layergroup-Id")

	var all orb.Bound
	for i, s := range shapes {
		if i == 0 {
			all = s.geom.Bound()
		}
		all = all.Union(s.geom.Bound())
	}
	tiles, features, empty := 0, 0, 0
	for z := 0; z <= 16; z++ {
		size := 2 * worldHalf / math.Exp2(float64(z))
		n := int(math.Exp2(float64(z)))
		clampT := func(v int) int { return max(0, min(n-1, v)) }
		x0 := clampT(int(math.Floor((all.Min[0]+worldHalf)/size)) - 1)
		x1 := clampT(int(math.Floor((all.Max[0]+worldHalf)/size)) + 1)
		y0 := clampT(int(math.Floor((worldHalf-all.Max[1])/size)) - 1)
		y1 := clampT(int(math.Floor((worldHalf-all.Min[1])/size)) + 1)
		for x := x0; x <= x1; x++ {
			for y := y0; y <= y1; y++ {
				tiles++
				f, e := checkTile(t, a, id, shapes, z, x, y)
				features += f
				if e {
					empty++
				}
			}
		}
	}
	t.Logf("%d tiles (%d empty), %d features checked", tiles, empty, features)
	if empty == 0 || features < 100 {
		t.Errorf("the walk saw %d empty tiles and %d features: too few to mean anything", empty, features)
	}
}

// checkTile fetches one tile and compares it with the shapes; it returns the features seen and
// whether the tile was empty.
func checkTile(t *testing.T, a *account, id string, shapes []shape, z, x, y int) (int, bool) {
	t.Helper()
	name := fmt.Sprintf("%d/%d/%d", z, x, y)
	buffered := orb.Bound{Min: orb.Point{-bufferU, -bufferU}, Max: orb.Point{extent + bufferU, extent + bufferU}}
	want := map[string]shape{}
	for _, s := range shapes {
		g := toTile(s.geom, z, x, y)
		c := clip.Geometry(buffered, orb.Clone(g))
		if c == nil || len(vertices(c)) == 0 {
			continue
		}
		if s.kind != "point" && spanUnits(g) < 1 {
			continue // may collapse below a unit: not required either way
		}
		want[s.name] = s
	}
	got := do(t, "GET", a.url("api/v1/map/"+id+"/"+name+".mvt?api_key="+a.master), "", "")
	if got.status == 204 {
		for n, s := range want {
			if s.kind == "point" || spanUnits(toTile(s.geom, z, x, y)) >= 2 {
				t.Errorf("tile %s: 204, but %s meets it", name, n)
			}
		}
		return 0, true
	}
	if got.status != 200 {
		t.Fatalf("tile %s: %d %s", name, got.status, got.body)
	}
	layers, err := mvt.Unmarshal(got.body)
	if err != nil || len(layers) != 1 || layers[0].Name != "shapes" || layers[0].Extent != 4096 {
		t.Fatalf("tile %s: %v %v", name, err, layers)
	}
	seen := map[string]bool{}
	for _, f := range layers[0].Features {
		fname, _ := f.Properties["name"].(string)
		src, ok := shapeNamed(shapes, fname)
		if !ok {
			t.Errorf("tile %s: unknown feature %v", name, f.Properties)
			continue
		}
		seen[fname] = true
		if _, ok := want[fname]; !ok && (src.kind == "point" || spanUnits(toTile(src.geom, z, x, y)) >= 1) {
			t.Errorf("tile %s: %s does not meet the buffered tile", name, fname)
		}
		if f.Properties["kind"] != src.kind || f.Properties["cartodb_id"] != float64(src.id) || len(f.Properties) != 4 {
			b, _ := json.Marshal(f.Properties)
			t.Errorf("tile %s: %s properties %s", name, fname, b)
		}
		checkVertices(t, name, fname, f.Geometry, toTile(src.geom, z, x, y))
	}
	for n, s := range want {
		if !seen[n] && (s.kind == "point" || spanUnits(toTile(s.geom, z, x, y)) >= 2) {
			t.Errorf("tile %s lacks %s", name, n)
		}
	}
	return len(layers[0].Features), false
}

func shapeNamed(shapes []shape, name string) (shape, bool) {
	for _, s := range shapes {
		if s.name == name {
			return s, true
		}
	}
	return shape{}, false
}

// checkVertices: every vertex of the tile's geometry lies within one tile unit of the source, or
// on the buffer's edge where the clip cut it (inside a polygon, or on a simplified segment).
func checkVertices(t *testing.T, tile, name string, got, src orb.Geometry) {
	t.Helper()
	onEdge := func(v float64) bool { return math.Abs(v+bufferU) <= 1 || math.Abs(v-extent-bufferU) <= 1 }
	for _, v := range vertices(got) {
		if planar.DistanceFrom(src, v) <= 1 {
			continue
		}
		// Where the clip cut a segment, the vertex lies on the segment simplified first, which
		// strays up to pg-mvt's tolerance from the source: half a pixel of 256, 8 units of 4096.
		if (onEdge(v[0]) || onEdge(v[1])) && (contains(src, v) || planar.DistanceFrom(src, v) <= extent/512) {
			continue
		}
		t.Errorf("tile %s: vertex %v of %s is %.2f units from the source", tile, v, name, planar.DistanceFrom(src, v))
		return
	}
}

func contains(g orb.Geometry, p orb.Point) bool {
	switch g := g.(type) {
	case orb.Polygon:
		return planar.PolygonContains(g, p)
	case orb.MultiPolygon:
		return planar.MultiPolygonContains(g, p)
	}
	return false
}
