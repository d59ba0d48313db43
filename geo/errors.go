package geo

import (
	"errors"
	"fmt"
)

// ErrUnsupportedType is wrapped by a [*DecodeError] for geometry types that have no orb
// counterpart: curves (CircularString, CompoundCurve, CurvePolygon, MultiCurve, MultiSurface),
// PolyhedralSurface, TIN and Triangle. ST_CurveToLine or ST_Dump turn them into types that decode.
var ErrUnsupportedType = errors.New("unsupported geometry type")

// DimensionError reports a geometry with Z and/or M ordinates, which a 2D orb geometry cannot hold
// without losing them. See the package documentation and [Force2D].
type DimensionError struct {
	// Type is the geometry type as PostGIS names it: "Point", "LineString", ...
	Type string
	// Dims is "Z", "M" or "ZM".
	Dims string
}

func (e *DimensionError) Error() string {
	return fmt.Sprintf("geo: %s %s has %s ordinates that a 2D geometry would lose; select ST_Force2D(...) or scan with geo.Force2D",
		e.Type, e.Dims, e.Dims)
}

// TypeError reports a value of another geometry type than the [Typed] destination holds.
type TypeError struct {
	Want string // the destination's orb type, e.g. "orb.Point"
	Got  string // the geometry type that arrived, e.g. "LineString"
}

func (e *TypeError) Error() string {
	return fmt.Sprintf("geo: cannot scan a %s into %s", e.Got, e.Want)
}

// DecodeError reports input that is not a well-formed geometry.
type DecodeError struct {
	// Format is what the input was taken for: "hex EWKB", "EWKB", "GeoJSON" or "source"
	// (a value of a Go type that cannot hold a geometry).
	Format string
	// Offset is the byte offset in the input where decoding failed, -1 when unknown.
	Offset int
	// Reason says what was wrong.
	Reason string
	// Err is an underlying error, if any (for example [ErrUnsupportedType]).
	Err error
}

func (e *DecodeError) Error() string {
	s := "geo: invalid " + e.Format
	if e.Offset >= 0 {
		s += fmt.Sprintf(" at byte %d", e.Offset)
	}
	if e.Reason != "" {
		s += ": " + e.Reason
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *DecodeError) Unwrap() error { return e.Err }
