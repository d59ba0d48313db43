package geo_test

import (
	"errors"
	"fmt"

	"github.com/gocarto/carto/geo"
	"github.com/paulmach/orb"
)

// A geometry column arrives as PostGIS's hex EWKB text; Scan decodes it with its SRID.
func ExampleGeometry_Scan() {
	var g geo.Geometry
	// What `SELECT 'SRID=4326;POINT(-3.7 40.4)'::geometry` returns.
	if err := g.Scan("0101000020E61000009A99999999990DC03333333333334440"); err != nil {
		panic(err)
	}
	fmt.Println(g)
	fmt.Println(g.Geom.(orb.Point).Lat())
	// Output:
	// SRID=4326;POINT(-3.7 40.4)
	// 40.4
}

// As a query argument a Geometry is hex EWKB, which the carto driver sends as '<hex>'::geometry.
func ExampleGeometry_Value() {
	g := geo.New(orb.LineString{{1, 2}, {3, 4}}, 4326)
	v, _ := g.Value()
	fmt.Println(v)
	var null geo.Geometry
	v, _ = null.Value()
	fmt.Println(v)
	// Output:
	// 0102000020E610000002000000000000000000F03F000000000000004000000000000008400000000000001040
	// <nil>
}

// Geometries with Z or M are refused unless the caller opts in to dropping them.
func ExampleForce2D() {
	const lineZ = "01020000A0E610000002000000000000000000F03F00000000000000400000000000000840000000000000104000000000000014400000000000001840" // LINESTRING Z (1 2 3, 4 5 6)
	var g geo.Geometry
	err := g.Scan(lineZ)
	var de *geo.DimensionError
	fmt.Println(errors.As(err, &de), de.Type, de.Dims)

	if err := geo.Force2D(&g).Scan(lineZ); err != nil {
		panic(err)
	}
	fmt.Println(g)
	// Output:
	// true LineString Z
	// SRID=4326;LINESTRING(1 2,4 5)
}

// Point scans only points, and Valid tells NULL apart.
func ExamplePoint() {
	var p geo.Point
	err := p.Scan("0102000020E610000002000000000000000000F03F000000000000004000000000000008400000000000001040")
	fmt.Println(err)
	_ = p.Scan("0101000020E61000009A99999999990DC03333333333334440")
	fmt.Println(p.Valid, p.Geom.Lon(), p.Geom.Lat(), p.SRID)
	// Output:
	// geo: cannot scan a LineString into orb.Point
	// true -3.7 40.4 4326
}
