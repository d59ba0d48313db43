package geo

import (
	"bytes"
	"database/sql/driver"
	"encoding/hex"
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/paulmach/orb"
)

// scanAll scans src in every form a caller may hand over and checks that none is modified.
func scanForms(t *testing.T, c postgisCase) map[string]any {
	t.Helper()
	raw, err := hex.DecodeString(c.hex)
	if err != nil {
		t.Fatal(err)
	}
	return map[string]any{
		"hex string":       c.hex,
		"lower hex string": strings.ToLower(c.hex),
		"hex bytes":        []byte(c.hex),
		"lower hex bytes":  []byte(strings.ToLower(c.hex)),
		"raw EWKB":         raw,
	}
}

func clone(src any) any {
	if b, ok := src.([]byte); ok {
		return bytes.Clone(b)
	}
	return src
}

func checkUnmodified(t *testing.T, before, after any) {
	t.Helper()
	if b, ok := after.([]byte); ok && !bytes.Equal(b, before.([]byte)) {
		t.Fatalf("Scan modified its input: %q became %q", before, b)
	}
}

func TestScanPostGISOutput(t *testing.T) {
	for _, c := range postgis2D {
		t.Run(c.ewkt, func(t *testing.T) {
			for form, src := range scanForms(t, c) {
				before := clone(src)
				var g Geometry
				if err := g.Scan(src); err != nil {
					t.Fatalf("%s: %v", form, err)
				}
				checkUnmodified(t, before, src)
				if !orb.Equal(g.Geom, c.want) || g.SRID != c.srid {
					t.Fatalf("%s: got %v SRID %d, want %v SRID %d", form, g.Geom, g.SRID, c.want, c.srid)
				}
			}
			// ISO WKB from ST_AsBinary: same geometry, no SRID.
			iso, _ := hex.DecodeString(c.iso)
			for _, src := range []any{c.iso, iso} {
				var g Geometry
				if err := g.Scan(src); err != nil {
					t.Fatalf("ISO WKB %T: %v", src, err)
				}
				if !orb.Equal(g.Geom, c.want) || g.SRID != 0 {
					t.Fatalf("ISO WKB: got %v SRID %d", g.Geom, g.SRID)
				}
			}
		})
	}
}

// TestEWKBHexMatchesPostGIS checks that encoding gives PostGIS's own text output byte for byte.
func TestEWKBHexMatchesPostGIS(t *testing.T) {
	for _, c := range append(postgis2D, pointEmpty) {
		got, err := New(c.want, c.srid).EWKBHex()
		if err != nil {
			t.Fatalf("%s: %v", c.ewkt, err)
		}
		if got != c.hex {
			t.Errorf("%s:\n got %s\nwant %s", c.ewkt, got, c.hex)
		}
		v, err := New(c.want, c.srid).Value()
		if err != nil || v != driver.Value(c.hex) {
			t.Errorf("%s: Value() = %v, %v", c.ewkt, v, err)
		}
	}
}

func TestScanPointEmpty(t *testing.T) {
	var g Geometry
	if err := g.Scan(pointEmpty.hex); err != nil {
		t.Fatal(err)
	}
	p, ok := g.Geom.(orb.Point)
	if !ok || !math.IsNaN(p[0]) || !math.IsNaN(p[1]) || g.SRID != 4326 {
		t.Fatalf("got %#v", g)
	}
	if s := g.String(); s != "SRID=4326;POINT EMPTY" {
		t.Fatalf("String() = %q", s)
	}
}

func TestScanXDR(t *testing.T) {
	var g Geometry
	if err := g.Scan(xdrPoint); err != nil {
		t.Fatal(err)
	}
	if !orb.Equal(g.Geom, orb.Point{-3.7, 40.4}) || g.SRID != 4326 {
		t.Fatalf("got %v", g)
	}
	err := g.Scan(xdrLineStrZ)
	var de *DimensionError
	if !errors.As(err, &de) || de.Type != "LineString" || de.Dims != "Z" {
		t.Fatalf("XDR LINESTRING Z: err = %v", err)
	}
	if err := Force2D(&g).Scan(xdrLineStrZ); err != nil {
		t.Fatal(err)
	}
	if !orb.Equal(g.Geom, orb.LineString{{1, 2}, {4, 5}}) {
		t.Fatalf("XDR LINESTRING Z with Force2D: got %v", g.Geom)
	}
}

func TestScanZMRefused(t *testing.T) {
	for _, c := range postgisZM {
		t.Run(c.ewkt, func(t *testing.T) {
			iso, _ := hex.DecodeString(c.iso)
			srcs := scanForms(t, c.postgisCase)
			srcs["ISO WKB"] = iso
			if c.geojson != "" {
				srcs["GeoJSON"] = c.geojson
			}
			for form, src := range srcs {
				g := New(orb.Point{9, 9}, 1)
				err := g.Scan(src)
				var de *DimensionError
				if !errors.As(err, &de) {
					t.Fatalf("%s: err = %v, want a *DimensionError", form, err)
				}
				wantDims := c.dims
				if form == "GeoJSON" && wantDims == "ZM" {
					wantDims = "Z" // ST_AsGeoJSON writes X, Y, Z and drops M
				}
				if de.Type != c.typ || de.Dims != wantDims {
					t.Fatalf("%s: got %+v, want type %s dims %s", form, de, c.typ, wantDims)
				}
				if !strings.Contains(err.Error(), "ST_Force2D") {
					t.Fatalf("error does not say what to do: %v", err)
				}
				if !orb.Equal(g.Geom, orb.Point{9, 9}) || g.SRID != 1 {
					t.Fatalf("%s: a failed Scan changed the destination to %v", form, g)
				}
			}
		})
	}
}

func TestScanZMForce2D(t *testing.T) {
	for _, c := range postgisZM {
		t.Run(c.ewkt, func(t *testing.T) {
			iso, _ := hex.DecodeString(c.iso)
			srcs := scanForms(t, c.postgisCase)
			srcs["ISO WKB"] = iso
			if c.geojson != "" {
				srcs["GeoJSON"] = c.geojson
			}
			for form, src := range srcs {
				before := clone(src)
				var g Geometry
				if err := Force2D(&g).Scan(src); err != nil {
					t.Fatalf("%s: %v", form, err)
				}
				checkUnmodified(t, before, src)
				if !orb.Equal(g.Geom, c.want) {
					t.Fatalf("%s: got %v, want %v", form, g.Geom, c.want)
				}
				wantSRID := c.srid
				if form == "ISO WKB" {
					wantSRID = 0
				}
				if g.SRID != wantSRID {
					t.Fatalf("%s: SRID %d, want %d", form, g.SRID, wantSRID)
				}
			}
		})
	}
}

func TestScanNull(t *testing.T) {
	g := New(orb.Point{1, 2}, 4326)
	if err := g.Scan(nil); err != nil {
		t.Fatal(err)
	}
	if g.Geom != nil || g.SRID != 0 {
		t.Fatalf("got %v", g)
	}
	v, err := g.Value()
	if v != nil || err != nil {
		t.Fatalf("Value() of NULL = %v, %v", v, err)
	}
	if _, err := g.EWKBHex(); err == nil {
		t.Fatal("EWKBHex of NULL: no error")
	}
	if g.String() != "NULL" {
		t.Fatalf("String() = %q", g.String())
	}
}

func TestScanGeoJSON(t *testing.T) {
	for _, c := range []struct {
		in   string
		want orb.Geometry
	}{
		{`{"type":"Point","coordinates":[-3.7,40.4]}`, orb.Point{-3.7, 40.4}},
		{"  \n{\"type\":\"Point\",\"coordinates\":[1,2]}", orb.Point{1, 2}},
		// A bbox has four numbers and is no position.
		{`{"type":"LineString","bbox":[1,2,3,4],"coordinates":[[1,2],[3,4]]}`, orb.LineString{{1, 2}, {3, 4}}},
		{`{"type":"GeometryCollection","geometries":[{"type":"Point","coordinates":[1,2]}]}`, orb.Collection{orb.Point{1, 2}}},
		{`{"type":"MultiPolygon","coordinates":[[[[0,0],[1,0],[1,1],[0,0]]],[[[10,10],[11,10],[11,11],[10,10]]]]}`,
			orb.MultiPolygon{{{{0, 0}, {1, 0}, {1, 1}, {0, 0}}}, {{{10, 10}, {11, 10}, {11, 11}, {10, 10}}}}},
	} {
		for _, src := range []any{c.in, []byte(c.in)} {
			var g Geometry
			if err := g.Scan(src); err != nil {
				t.Fatalf("%s: %v", c.in, err)
			}
			if !orb.Equal(g.Geom, c.want) || g.SRID != 4326 {
				t.Fatalf("%s: got %v SRID %d", c.in, g.Geom, g.SRID)
			}
		}
	}
}

func TestScanErrors(t *testing.T) {
	for _, c := range []struct {
		name string
		src  any
		want string
	}{
		{"empty", "", "empty input"},
		{"odd hex", "0101000020E61", "odd number of hex digits"},
		{"bad hex digit", "0101000020E6100000ZZ99999999990DC03333333333334440", `invalid hex digits "ZZ"`},
		{"truncated", postgis2D[0].hex[:30], "input ends after"},
		{"trailing", postgis2D[0].hex + "00", "trailing data"},
		{"byte order", "02" + postgis2D[0].hex[2:], "byte order"},
		{"type 0", "010000000000000000000000F03F0000000000000040", "unknown geometry type 0"},
		{"type 42", "012A000000000000000000F03F0000000000000040", "unknown geometry type 42"},
		{"ISO 4000", "01A00F0000000000000000F03F0000000000000040", "unknown geometry type"},
		{"huge count", "0102000000FFFFFFFF", "cannot fit"},
		{"huge ring count", "0103000000FFFFFF7F", "cannot fit"},
		{"point in multipolygon", "0106000000010000000101000000000000000000F03F0000000000000040", "a MultiPolygon holds a Point"},
		{"circular string", circularHex, "CircularString"},
		{"int", 42, "cannot scan a int"},
		{"bad GeoJSON", `{"type":"Feature"}`, "invalid GeoJSON"},
		{"broken GeoJSON", `{"type":"Point","coordinates":[1,`, "invalid GeoJSON"},
	} {
		t.Run(c.name, func(t *testing.T) {
			g := New(orb.Point{9, 9}, 7)
			err := g.Scan(c.src)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want it to contain %q", err, c.want)
			}
			var de *DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("err = %T, want *DecodeError", err)
			}
			if g.SRID != 7 {
				t.Fatal("a failed Scan changed the destination")
			}
		})
	}
	var g Geometry
	if err := g.Scan(circularHex); !errors.Is(err, ErrUnsupportedType) {
		t.Fatalf("circular string: err = %v, want ErrUnsupportedType", err)
	}
}

func TestDeepNesting(t *testing.T) {
	// 100 nested GEOMETRYCOLLECTIONs, each holding the next.
	var b strings.Builder
	for range 100 {
		b.WriteString("010700000001000000")
	}
	b.WriteString("0101000000000000000000F03F0000000000000040")
	var g Geometry
	if err := g.Scan(b.String()); err == nil || !strings.Contains(err.Error(), "nested deeper") {
		t.Fatalf("err = %v", err)
	}
	var c orb.Geometry = orb.Point{1, 2}
	for range 100 {
		c = orb.Collection{c}
	}
	if _, err := New(c, 0).EWKBHex(); err == nil {
		t.Fatal("encoding 100 nested collections: no error")
	}
}

func TestEncodeOtherTypes(t *testing.T) {
	ring := orb.Ring{{0, 0}, {1, 0}, {1, 1}, {0, 0}}
	for _, c := range []struct {
		in   orb.Geometry
		want orb.Geometry
	}{
		{ring, orb.Polygon{ring}},
		{orb.Bound{Min: orb.Point{0, 0}, Max: orb.Point{1, 2}}, orb.Bound{Min: orb.Point{0, 0}, Max: orb.Point{1, 2}}.ToPolygon()},
		{orb.Collection{orb.MultiPoint{{1, 2}}, orb.Polygon{ring}}, orb.Collection{orb.MultiPoint{{1, 2}}, orb.Polygon{ring}}},
	} {
		h, err := New(c.in, 4326).EWKBHex()
		if err != nil {
			t.Fatal(err)
		}
		var g Geometry
		if err := g.Scan(h); err != nil {
			t.Fatal(err)
		}
		if !orb.Equal(g.Geom, c.want) || g.SRID != 4326 {
			t.Fatalf("%T: got %v", c.in, g.Geom)
		}
	}
	if _, err := New(orb.Collection{nil}, 0).EWKBHex(); err == nil {
		t.Fatal("collection with nil: no error")
	}
	if _, err := New(orb.Point{}, -1).EWKBHex(); err == nil {
		t.Fatal("negative SRID: no error")
	}
	b, err := New(orb.Point{1, 2}, 0).AppendEWKBHex([]byte("x'"))
	if err != nil || string(b) != "x'0101000000000000000000F03F0000000000000040" {
		t.Fatalf("AppendEWKBHex = %s, %v", b, err)
	}
}

func TestString(t *testing.T) {
	for _, c := range []struct {
		g    Geometry
		want string
	}{
		{New(orb.Point{-3.7, 40.4}, 4326), "SRID=4326;POINT(-3.7 40.4)"},
		{New(orb.LineString{{1, 2}, {3, 4}}, 0), "LINESTRING(1 2,3 4)"},
		{Geometry{}, "NULL"},
	} {
		if got := c.g.String(); got != c.want {
			t.Errorf("got %q, want %q", got, c.want)
		}
	}
}

func TestJSON(t *testing.T) {
	type row struct {
		ID   int      `json:"id"`
		Geom Geometry `json:"geom"`
		Opt  Geometry `json:"opt"`
	}
	in := row{ID: 1, Geom: New(orb.LineString{{1, 2}, {3, 4}}, 4326)}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	const want = `{"id":1,"geom":{"type":"LineString","coordinates":[[1,2],[3,4]]},"opt":null}`
	if string(b) != want {
		t.Fatalf("got %s", b)
	}
	var out row
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	if !orb.Equal(out.Geom.Geom, in.Geom.Geom) || out.Geom.SRID != 4326 || out.Opt.Geom != nil {
		t.Fatalf("got %+v", out)
	}
	err = json.Unmarshal([]byte(`{"geom":{"type":"Point","coordinates":[1,2,3]}}`), &out)
	var de *DimensionError
	if !errors.As(err, &de) {
		t.Fatalf("3D GeoJSON: err = %v", err)
	}
}

// TestHexRoundTrip encodes and decodes geometries of every type, the way values travel through
// the carto driver.
func TestHexRoundTrip(t *testing.T) {
	geoms := []orb.Geometry{
		orb.Point{1e-300, -1e300},
		orb.MultiPoint{},
		orb.LineString{{1, 2}, {3, 4}, {5, 6}},
		orb.Polygon{},
		orb.MultiLineString{{{1, 2}, {3, 4}}, {}},
		orb.MultiPolygon{{}, {{{0, 0}, {1, 0}, {1, 1}, {0, 0}}}},
		orb.Collection{orb.Collection{orb.Point{1, 2}}, orb.MultiPolygon{}},
		polygonN(1000),
	}
	for _, in := range geoms {
		h, err := New(in, 3857).EWKBHex()
		if err != nil {
			t.Fatal(err)
		}
		if n := ewkbHexSize(in); n < len(h) && n != 256 {
			t.Errorf("%T: size estimate %d < %d", in, n, len(h))
		}
		var g Geometry
		if err := g.Scan([]byte(h)); err != nil {
			t.Fatalf("%T: %v", in, err)
		}
		if !orb.Equal(g.Geom, in) || g.SRID != 3857 {
			t.Fatalf("%T: got %v", in, g.Geom)
		}
	}
}

// polygonN is a closed ring of n vertices around a circle.
func polygonN(n int) orb.Polygon {
	r := make(orb.Ring, n)
	for i := range n - 1 {
		a := 2 * math.Pi * float64(i) / float64(n-1)
		r[i] = orb.Point{-3.7 + math.Cos(a), 40.4 + math.Sin(a)}
	}
	r[n-1] = r[0]
	return orb.Polygon{r}
}

// TestNegativeSRID: PostGIS clamps a negative SRID in EWKB to 0 (liblwgeom's clamp_srid).
func TestNegativeSRID(t *testing.T) {
	var g Geometry
	// POINT(1 2) with the SRID flag and SRID -1 (FFFFFFFF).
	if err := g.Scan("0101000020FFFFFFFF000000000000F03F0000000000000040"); err != nil {
		t.Fatal(err)
	}
	if g.SRID != 0 || g.Geom != (orb.Point{1, 2}) {
		t.Fatalf("got %v", g)
	}
}

func TestScanByteaText(t *testing.T) {
	var g Geometry
	// psql prints SELECT ST_AsEWKB('SRID=4326;POINT(-3.7 40.4)'::geometry) this way.
	if err := g.Scan(`\x0101000020e61000009a99999999990dc03333333333334440`); err != nil {
		t.Fatal(err)
	}
	if g.Geom != (orb.Point{-3.7, 40.4}) || g.SRID != 4326 {
		t.Fatalf("got %v", g)
	}
	err := g.Scan(`\x0101000020e6100000zz`)
	var de *DecodeError
	if !errors.As(err, &de) || de.Offset != 20 {
		t.Fatalf("err = %v", err)
	}
}
