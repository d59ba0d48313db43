package geo

import (
	"bytes"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"math"
	"strconv"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/wkt"
	"github.com/paulmach/orb/geojson"
)

// Geometry is an orb geometry with its spatial reference system id. A nil Geom is SQL NULL.
//
// The zero value is NULL. SRID 0 means "unknown", as in PostGIS.
type Geometry struct {
	Geom orb.Geometry // nil for SQL NULL
	SRID int          // spatial reference system id: 4326, 3857, ...; 0 when unknown
}

// Compile-time checks of the interfaces Geometry is used through.
var (
	_ sql.Scanner   = (*Geometry)(nil)
	_ driver.Valuer = Geometry{}
	_ fmt.Stringer  = Geometry{}
)

// New returns g with the given SRID (4326 for longitude/latitude, 3857 for web mercator).
func New(g orb.Geometry, srid int) Geometry { return Geometry{Geom: g, SRID: srid} }

// Scan implements [sql.Scanner]. src may be
//   - nil (SQL NULL), which sets Geom to nil and SRID to 0;
//   - hex EWKB or WKB as a string or []byte, upper or lower case: PostGIS's text output, what
//     CARTO's SQL API returns for geometry and geography columns;
//   - raw EWKB or WKB bytes (ST_AsEWKB, ST_AsBinary), or their bytea text form \x0101...;
//   - GeoJSON geometry text starting with '{' (ST_AsGeoJSON), which takes SRID 4326.
//
// Scan never modifies src. A geometry with Z or M ordinates is refused with a [*DimensionError];
// see [Force2D]. On error g is left unchanged.
func (g *Geometry) Scan(src any) error { return g.scan(src, false) }

func (g *Geometry) scan(src any, force2D bool) error {
	var (
		geom orb.Geometry
		srid int
		err  error
	)
	switch v := src.(type) {
	case nil:
		*g = Geometry{}
		return nil
	case string:
		geom, srid, err = decode(v, force2D)
	case []byte:
		geom, srid, err = decode(v, force2D)
	default:
		return &DecodeError{Format: "source", Offset: -1, Reason: fmt.Sprintf("cannot scan a %T into a geometry", src)}
	}
	if err != nil {
		return err
	}
	*g = Geometry{Geom: geom, SRID: srid}
	return nil
}

// decode tells the input formats apart by their first byte: binary WKB starts with its byte
// order (0 or 1), hex EWKB with the hex digit '0' (or bytea's \x), GeoJSON with '{'.
func decode[T text](src T, force2D bool) (orb.Geometry, int, error) {
	if len(src) == 0 {
		return nil, 0, &DecodeError{Format: "source", Offset: 0, Reason: "empty input"}
	}
	switch c := src[0]; {
	case c == 0 || c == 1:
		return decodeWKB(src, false, force2D)
	case c == '\\' && len(src) > 1 && src[1] == 'x':
		// bytea's text output, as of SELECT ST_AsEWKB(g) in psql or a CSV export.
		g, srid, err := decodeWKB(src[2:], true, force2D)
		var de *DecodeError
		if errors.As(err, &de) && de.Offset >= 0 {
			de.Offset += 2
		}
		return g, srid, err
	case c == '{' || c == ' ' || c == '\t' || c == '\n' || c == '\r':
		if b := bytes.TrimLeft([]byte(src[:min(len(src), 64)]), " \t\r\n"); len(b) > 0 && b[0] == '{' {
			return decodeGeoJSON([]byte(src), force2D)
		}
	}
	return decodeWKB(src, true, force2D)
}

// Value implements [driver.Valuer]: hex EWKB (a string), or nil for NULL.
func (g Geometry) Value() (driver.Value, error) {
	if g.Geom == nil {
		return nil, nil
	}
	return g.EWKBHex()
}

// EWKBHex returns the geometry as upper-case hex EWKB, little-endian, with the SRID when it is
// not 0: exactly PostGIS's text output, which '<hex>'::geometry reads back. A NULL geometry is an
// error.
func (g Geometry) EWKBHex() (string, error) {
	b, err := g.AppendEWKBHex(nil)
	return string(b), err
}

// AppendEWKBHex appends [Geometry.EWKBHex] to dst, for callers building SQL text themselves.
func (g Geometry) AppendEWKBHex(dst []byte) ([]byte, error) {
	if dst == nil && g.Geom != nil {
		dst = make([]byte, 0, ewkbHexSize(g.Geom))
	}
	return appendEWKBHex(dst, g.Geom, g.SRID)
}

// String returns the geometry as EWKT, "SRID=4326;POINT(1 2)" (WKT alone when the SRID is 0),
// or "NULL". An empty point (NaN coordinates, PostGIS's POINT EMPTY) prints as "POINT EMPTY".
func (g Geometry) String() string {
	if g.Geom == nil {
		return "NULL"
	}
	var s string
	if p, ok := g.Geom.(orb.Point); ok && math.IsNaN(p[0]) && math.IsNaN(p[1]) {
		s = "POINT EMPTY"
	} else {
		s = wkt.MarshalString(g.Geom)
	}
	if g.SRID != 0 {
		return "SRID=" + strconv.Itoa(g.SRID) + ";" + s
	}
	return s
}

// MarshalJSON writes the geometry as a GeoJSON geometry object, or null. GeoJSON has no SRID:
// the coordinates are written as they are, whatever g.SRID says, so transform to 4326 first
// (ST_Transform) when the consumer expects RFC 7946 GeoJSON.
func (g Geometry) MarshalJSON() ([]byte, error) {
	if g.Geom == nil {
		return []byte("null"), nil
	}
	return geojson.NewGeometry(g.Geom).MarshalJSON()
}

// UnmarshalJSON reads a GeoJSON geometry object (SRID 4326) or null (NULL). Like Scan, it refuses
// positions with more than two coordinates with a [*DimensionError].
func (g *Geometry) UnmarshalJSON(data []byte) error {
	if bytes.Equal(bytes.TrimSpace(data), []byte("null")) {
		*g = Geometry{}
		return nil
	}
	geom, srid, err := decodeGeoJSON(data, false)
	if err != nil {
		return err
	}
	*g = Geometry{Geom: geom, SRID: srid}
	return nil
}
