package geo_test

import (
	"context"
	"database/sql"
	"errors"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"github.com/gocarto/carto/cartolocal/cartotest"
	_ "github.com/gocarto/carto/driver"
	"github.com/gocarto/carto/geo"
)

// TestDriverRoundTrip writes geometries as arguments of the carto database/sql driver and scans
// them back from geometry, geography, GeoJSON text and EWKB bytea columns.
func TestDriverRoundTrip(t *testing.T) {
	acct := cartotest.New(t)
	acct.Exec(t, `CREATE TABLE shapes (id int PRIMARY KEY, the_geom geometry(Geometry, 4326))`)
	db, err := sql.Open("carto", acct.DSN())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	ring := orb.Ring{{0, 0}, {1, 0}, {1, 1}, {0, 0}}
	in := []any{
		geo.New(orb.Point{-3.7, 40.4}, 4326),
		geo.NewTyped(orb.Point{2.17, 41.38}, 4326), // a geo.Point
		geo.New(orb.Polygon{ring}, 4326),
		geo.New(orb.MultiPolygon{{ring}}, 4326),
		geo.New(orb.Collection{orb.Point{1, 2}, orb.LineString{{0, 0}, {1, 1}}}, 4326),
		geo.Geometry{}, // NULL
		geo.Point{},    // NULL
	}
	for i, g := range in {
		if _, err := db.ExecContext(ctx, `INSERT INTO shapes (id, the_geom) VALUES ($1, $2)`, i, g); err != nil {
			t.Fatalf("insert %v: %v", g, err)
		}
	}
	rows, err := db.QueryContext(ctx, `SELECT id, the_geom, the_geom::geography AS geog, ST_AsGeoJSON(the_geom) AS gj,
		ST_AsEWKB(the_geom) AS ewkb FROM shapes ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var (
			id                int
			g, geog, gj, ewkb geo.Geometry
		)
		if err := rows.Scan(&id, &g, &geog, &gj, &ewkb); err != nil {
			t.Fatal(err)
		}
		var want geo.Geometry
		switch v := in[id].(type) {
		case geo.Geometry:
			want = v
		case geo.Point:
			want = v.Geometry()
		}
		for name, got := range map[string]geo.Geometry{"geometry": g, "geography": geog, "GeoJSON": gj, "EWKB": ewkb} {
			if want.Geom == nil {
				if got.Geom != nil {
					t.Errorf("row %d %s: NULL came back as %v", id, name, got)
				}
				continue
			}
			if !orb.Equal(got.Geom, want.Geom) || got.SRID != 4326 {
				t.Errorf("row %d %s: got %v, want %v", id, name, got, want)
			}
		}
		n++
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if n != len(in) {
		t.Fatalf("%d rows", n)
	}

	// A typed scan of the wrong type, and a Z geometry, fail clearly through database/sql.
	var p geo.Point
	err = db.QueryRowContext(ctx, `SELECT the_geom FROM shapes WHERE id = 2`).Scan(&p)
	var te *geo.TypeError
	if !errors.As(err, &te) || te.Got != "Polygon" {
		t.Fatalf("polygon into geo.Point: err = %v", err)
	}
	var g geo.Geometry
	err = db.QueryRowContext(ctx, `SELECT ST_Force3D(the_geom) AS g FROM shapes WHERE id = 0`).Scan(&g)
	var de *geo.DimensionError
	if !errors.As(err, &de) || de.Type != "Point" || de.Dims != "Z" {
		t.Fatalf("POINT Z: err = %v", err)
	}
	if err := db.QueryRowContext(ctx, `SELECT ST_Force3D(the_geom) AS g FROM shapes WHERE id = 0`).Scan(geo.Force2D(&g)); err != nil ||
		g.Geom != (orb.Point{-3.7, 40.4}) {
		t.Fatalf("POINT Z with Force2D: %v, %v", g, err)
	}
}
