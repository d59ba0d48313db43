package geo

import (
	"database/sql"
	"database/sql/driver"
	"fmt"

	"github.com/paulmach/orb"
)

// Typed is a geometry column of one known type: scanning anything else is a [*TypeError], so a
// query that returns a polygon where a point was expected fails at Scan rather than at a type
// assertion later. Valid is false for SQL NULL.
//
// Use it through the aliases [Point], [LineString], [Polygon], [MultiPoint], [MultiLineString],
// [MultiPolygon] and [Collection].
type Typed[G orb.Geometry] struct {
	Geom  G
	SRID  int
	Valid bool // false for SQL NULL
}

// Aliases of [Typed] for each geometry type PostGIS and orb share.
type (
	Point           = Typed[orb.Point]
	LineString      = Typed[orb.LineString]
	Polygon         = Typed[orb.Polygon]
	MultiPoint      = Typed[orb.MultiPoint]
	MultiLineString = Typed[orb.MultiLineString]
	MultiPolygon    = Typed[orb.MultiPolygon]
	Collection      = Typed[orb.Collection]
)

var (
	_ sql.Scanner   = (*Point)(nil)
	_ driver.Valuer = Point{}
)

// NewTyped returns a valid Typed value: geo.NewTyped(orb.Point{-3.7, 40.4}, 4326) is a [Point].
func NewTyped[G orb.Geometry](g G, srid int) Typed[G] {
	return Typed[G]{Geom: g, SRID: srid, Valid: true}
}

// Scan implements [sql.Scanner] with the inputs [Geometry.Scan] accepts; nil sets Valid to false.
func (t *Typed[G]) Scan(src any) error { return t.scan(src, false) }

func (t *Typed[G]) scan(src any, force2D bool) error {
	var g Geometry
	if err := g.scan(src, force2D); err != nil {
		return err
	}
	if g.Geom == nil {
		*t = Typed[G]{}
		return nil
	}
	v, ok := g.Geom.(G)
	if !ok {
		var zero G
		return &TypeError{Want: fmt.Sprintf("%T", zero), Got: g.Geom.GeoJSONType()}
	}
	*t = Typed[G]{Geom: v, SRID: g.SRID, Valid: true}
	return nil
}

// Geometry returns t as a [Geometry] (with a nil Geom when t is not Valid).
func (t Typed[G]) Geometry() Geometry {
	if !t.Valid {
		return Geometry{}
	}
	return Geometry{Geom: t.Geom, SRID: t.SRID}
}

// Value implements [driver.Valuer]: hex EWKB, or nil when not Valid.
func (t Typed[G]) Value() (driver.Value, error) { return t.Geometry().Value() }

// EWKBHex is [Geometry.EWKBHex]; a value that is not Valid is an error.
func (t Typed[G]) EWKBHex() (string, error) { return t.Geometry().EWKBHex() }

// String is [Geometry.String]: EWKT, or "NULL".
func (t Typed[G]) String() string { return t.Geometry().String() }

// MarshalJSON is [Geometry.MarshalJSON]: a GeoJSON geometry, or null.
func (t Typed[G]) MarshalJSON() ([]byte, error) { return t.Geometry().MarshalJSON() }

// UnmarshalJSON reads a GeoJSON geometry of type G, or null.
func (t *Typed[G]) UnmarshalJSON(data []byte) error {
	var g Geometry
	if err := g.UnmarshalJSON(data); err != nil {
		return err
	}
	if g.Geom == nil {
		*t = Typed[G]{}
		return nil
	}
	v, ok := g.Geom.(G)
	if !ok {
		var zero G
		return &TypeError{Want: fmt.Sprintf("%T", zero), Got: g.Geom.GeoJSONType()}
	}
	*t = Typed[G]{Geom: v, SRID: g.SRID, Valid: true}
	return nil
}
