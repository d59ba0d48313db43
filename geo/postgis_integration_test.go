package geo_test

import (
	"context"
	"errors"
	"math"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"

	"github.com/gocarto/carto/cartolocal/cartotest"
	"github.com/gocarto/carto/geo"
)

func TestMain(m *testing.M) { os.Exit(cartotest.Main(m)) }

// pgConn connects straight to the PostgreSQL + PostGIS behind a fresh cartolocal account.
func pgConn(t *testing.T) *pgx.Conn {
	t.Helper()
	acct := cartotest.New(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, acct.PGURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

// geometriesSQL lists geometries of every type and dimension, some built by PostGIS itself.
var geometriesSQL = []string{
	`'SRID=4326;POINT(-3.7 40.4)'`,
	`'SRID=4326;POINT Z (1 2 3)'`,
	`'SRID=4326;POINT M (1 2 4)'`,
	`'SRID=4326;POINT ZM (1 2 3 4)'`,
	`'POINT(1e-300 -1e300)'`,
	`'SRID=4326;LINESTRING Z (1 2 3, 4 5 6)'`,
	`'SRID=4326;LINESTRING ZM (1 2 3 4, 5 6 7 8)'`,
	`'SRID=3857;MULTIPOINT M (1 2 3, 4 5 6)'`,
	`'SRID=4326;GEOMETRYCOLLECTION(POINT Z (1 2 3), LINESTRING Z (0 0 0, 1 1 1))'`,
	`'SRID=4326;GEOMETRYCOLLECTION EMPTY'`,
	`'SRID=4326;MULTIPOLYGON EMPTY'`,
	`ST_Buffer('SRID=3857;POINT(-412000 4920000)'::geometry, 1000, 250)`,     // 1001-vertex polygon
	`ST_Force3DZ(ST_Buffer('SRID=4326;POINT(-3.7 40.4)'::geometry, 0.1, 8))`, // POLYGON Z
	`ST_Force4D(ST_Multi(ST_Buffer('SRID=4326;LINESTRING(0 0, 1 1)'::geometry, 0.2)))`,
	`ST_Collect(ARRAY['SRID=4326;POINT(1 2)'::geometry, 'SRID=4326;POLYGON((0 0,1 0,1 1,0 0))', 'SRID=4326;MULTILINESTRING((0 0,1 1),(2 2,3 3))'])`,
	`ST_SetSRID(ST_GeneratePoints(ST_Buffer('POINT(0 0)'::geometry, 10), 200, 42), 4326)`,
	`ST_Transform('SRID=4326;POINT(-3.7 40.4)'::geometry, 3857)`,
	`ST_Segmentize('SRID=4326;LINESTRING(-10 -10, 10 10)'::geography, 50000)::geometry`,
}

// TestPostGISDecode checks every decoding path against PostGIS's own output for the same
// geometry: geometry text (hex EWKB), ST_AsEWKB and ST_AsBinary bytes, and the coordinates of
// ST_AsGeoJSON(ST_Force2D(g)) as the truth.
func TestPostGISDecode(t *testing.T) {
	conn := pgConn(t)
	ctx := context.Background()
	for _, expr := range geometriesSQL {
		t.Run(expr, func(t *testing.T) {
			var (
				text, gj, gtype string
				ewkb, iso       []byte
				srid, ndims     int
			)
			err := conn.QueryRow(ctx, `SELECT g::text, ST_AsEWKB(g), ST_AsBinary(g), ST_AsGeoJSON(ST_Force2D(g), 17),
				ST_SRID(g), ST_NDims(g), GeometryType(g) FROM (SELECT (`+expr+`)::geometry AS g) s`).
				Scan(&text, &ewkb, &iso, &gj, &srid, &ndims, &gtype)
			if err != nil {
				t.Fatal(err)
			}
			wantGJ, err := geojson.UnmarshalGeometry([]byte(gj))
			if err != nil {
				t.Fatal(err)
			}
			want := wantGJ.Geometry()
			for form, src := range map[string]any{"text": text, "EWKB": ewkb, "ISO WKB": iso} {
				var g geo.Geometry
				err := g.Scan(src)
				var de *geo.DimensionError
				switch {
				case ndims > 2 && !errors.As(err, &de):
					t.Fatalf("%s: %d dims: err = %v, want a DimensionError", form, ndims, err)
				case ndims == 2 && err != nil:
					t.Fatalf("%s: %v", form, err)
				}
				if err := geo.Force2D(&g).Scan(src); err != nil {
					t.Fatalf("%s with Force2D: %v", form, err)
				}
				if !closeEnough(g.Geom, want) {
					t.Fatalf("%s: decoded %v\nPostGIS says %s", form, g.Geom, gj)
				}
				wantSRID := srid
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

// TestPostGISRoundTrip writes geometries as '<hex>'::geometry and reads PostGIS's text output
// back: it must be our hex byte for byte, and decode to the same geometry.
func TestPostGISRoundTrip(t *testing.T) {
	conn := pgConn(t)
	ctx := context.Background()
	ring := orb.Ring{{0, 0}, {1, 0}, {1, 1}, {0, 0}}
	for _, in := range []geo.Geometry{
		geo.New(orb.Point{-3.7, 40.4}, 4326),
		geo.New(orb.Point{math.NaN(), math.NaN()}, 4326), // POINT EMPTY
		geo.New(orb.LineString{{1, 2}, {3, 4}}, 0),
		geo.New(orb.Polygon{ring}, 3857),
		geo.New(ring, 4326),
		geo.New(orb.Bound{Min: orb.Point{-1, -2}, Max: orb.Point{3, 4}}, 4326),
		geo.New(orb.MultiPoint{{1, 2}, {3, 4}}, 4326),
		geo.New(orb.MultiLineString{{{1, 2}, {3, 4}}, {{5, 6}, {7, 8}}}, 4326),
		geo.New(orb.MultiPolygon{{ring}, {{{10, 10}, {11, 10}, {11, 11}, {10, 10}}}}, 4326),
		geo.New(orb.Collection{orb.Point{1, 2}, orb.Collection{orb.LineString{{0, 0}, {1, 1}}}}, 4326),
	} {
		h, err := in.EWKBHex()
		if err != nil {
			t.Fatal(err)
		}
		var text, fromEWKT string
		var back geo.Geometry
		// The literal is what the carto driver writes for a geometry argument. String's EWKT must
		// parse to the same geometry.
		if err := conn.QueryRow(ctx, `SELECT g::text, ST_GeomFromEWKT($1)::text, g FROM (SELECT '`+h+`'::geometry AS g) s`, in.String()).
			Scan(&text, &fromEWKT, &back); err != nil {
			t.Fatalf("%v: %v", in, err)
		}
		if text != h {
			t.Errorf("%v: PostGIS prints\n%s\nwe wrote\n%s", in, text, h)
		}
		if fromEWKT != h {
			t.Errorf("%v: EWKT %q reads back as %s", in, in.String(), fromEWKT)
		}
		want, _ := back.EWKBHex()
		if want != h || back.SRID != in.SRID {
			t.Errorf("%v: read back as %v", in, back)
		}
	}
}

// TestPgxScanner scans geometry columns through pgx, which hands sql.Scanner values of types it
// does not know as text.
func TestPgxScanner(t *testing.T) {
	conn := pgConn(t)
	ctx := context.Background()
	var p geo.Point
	var line geo.LineString
	var null geo.Geometry
	err := conn.QueryRow(ctx, `SELECT 'SRID=4326;POINT(-3.7 40.4)'::geometry, 'SRID=4326;LINESTRING ZM (1 2 3 4, 5 6 7 8)'::geometry, NULL::geometry`).
		Scan(&p, geo.Force2D(&line), &null)
	if err != nil {
		t.Fatal(err)
	}
	if !p.Valid || p.Geom != (orb.Point{-3.7, 40.4}) || !orb.Equal(line.Geom, orb.LineString{{1, 2}, {5, 6}}) || null.Geom != nil {
		t.Fatalf("got %v %v %v", p, line, null)
	}
	// Without Force2D the ZM line is refused.
	err = conn.QueryRow(ctx, `SELECT 'SRID=4326;LINESTRING ZM (1 2 3 4, 5 6 7 8)'::geometry`).Scan(&line)
	var de *geo.DimensionError
	if !errors.As(err, &de) || de.Dims != "ZM" {
		t.Fatalf("err = %v", err)
	}
}

func closeEnough(a, b orb.Geometry) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	ha, err1 := geo.New(a, 0).EWKBHex()
	hb, err2 := geo.New(b, 0).EWKBHex()
	if err1 == nil && err2 == nil && ha == hb {
		return true
	}
	// ST_AsGeoJSON prints shortest round-trip decimals; allow for the last bit anyway.
	return orb.Equal(a, b) || coordsClose(a, b)
}

func coordsClose(a, b orb.Geometry) bool {
	pa, pb := points(a), points(b)
	if len(pa) != len(pb) || a.GeoJSONType() != b.GeoJSONType() {
		return false
	}
	for i := range pa {
		for k := range 2 {
			if d := math.Abs(pa[i][k] - pb[i][k]); d > 1e-9*math.Max(1, math.Abs(pa[i][k])) {
				return false
			}
		}
	}
	return true
}

func points(g orb.Geometry) []orb.Point {
	switch g := g.(type) {
	case orb.Point:
		return []orb.Point{g}
	case orb.MultiPoint:
		return g
	case orb.LineString:
		return g
	case orb.Ring:
		return g
	case orb.Polygon:
		var ps []orb.Point
		for _, r := range g {
			ps = append(ps, r...)
		}
		return ps
	case orb.MultiLineString:
		var ps []orb.Point
		for _, l := range g {
			ps = append(ps, l...)
		}
		return ps
	case orb.MultiPolygon:
		var ps []orb.Point
		for _, p := range g {
			ps = append(ps, points(p)...)
		}
		return ps
	case orb.Collection:
		var ps []orb.Point
		for _, m := range g {
			ps = append(ps, points(m)...)
		}
		return ps
	}
	return nil
}
