package geo

import (
	"errors"
	"fmt"
	"math"

	"github.com/paulmach/orb"
)

const upperHex = "0123456789ABCDEF"

// ewkbEncoder appends little-endian (NDR) EWKB as upper-case hex, PostGIS's own text output.
type ewkbEncoder struct{ b []byte }

func (e *ewkbEncoder) byte(v byte) { e.b = append(e.b, upperHex[v>>4], upperHex[v&0x0f]) }

func (e *ewkbEncoder) uint32(v uint32) {
	for range 4 {
		e.byte(byte(v))
		v >>= 8
	}
}

func (e *ewkbEncoder) float(f float64) {
	v := math.Float64bits(f)
	if f != f {
		// One NaN for all, the one PostGIS writes for POINT EMPTY (Go's math.NaN() differs).
		v = 0x7FF8000000000000
	}
	for range 8 {
		e.byte(byte(v))
		v >>= 8
	}
}

func (e *ewkbEncoder) header(typ uint32, srid int) {
	e.byte(1) // NDR
	if srid != 0 {
		e.uint32(typ | ewkbSRID)
		e.uint32(uint32(int32(srid)))
		return
	}
	e.uint32(typ)
}

func (e *ewkbEncoder) points(ps []orb.Point) {
	e.uint32(uint32(len(ps)))
	for _, p := range ps {
		e.float(p[0])
		e.float(p[1])
	}
}

func (e *ewkbEncoder) rings(rs []orb.Ring) {
	e.uint32(uint32(len(rs)))
	for _, r := range rs {
		e.points(r)
	}
}

// geometry appends g; srid is written only on the outermost header, as PostGIS does.
func (e *ewkbEncoder) geometry(g orb.Geometry, srid int, depth int) error {
	if depth > maxDepth {
		return fmt.Errorf("geo: geometry collections nested deeper than %d", maxDepth)
	}
	switch g := g.(type) {
	case orb.Point:
		e.header(wkbPoint, srid)
		e.float(g[0])
		e.float(g[1])
	case orb.LineString:
		e.header(wkbLineString, srid)
		e.points(g)
	case orb.Polygon:
		e.header(wkbPolygon, srid)
		e.rings(g)
	case orb.Ring:
		// A Ring has no WKB type of its own; PostGIS stores it as a one-ring polygon.
		e.header(wkbPolygon, srid)
		e.uint32(1)
		e.points(g)
	case orb.Bound:
		return e.geometry(g.ToPolygon(), srid, depth)
	case orb.MultiPoint:
		e.header(wkbMultiPoint, srid)
		e.uint32(uint32(len(g)))
		for _, p := range g {
			e.header(wkbPoint, 0)
			e.float(p[0])
			e.float(p[1])
		}
	case orb.MultiLineString:
		e.header(wkbMultiLineString, srid)
		e.uint32(uint32(len(g)))
		for _, ls := range g {
			e.header(wkbLineString, 0)
			e.points(ls)
		}
	case orb.MultiPolygon:
		e.header(wkbMultiPolygon, srid)
		e.uint32(uint32(len(g)))
		for _, p := range g {
			e.header(wkbPolygon, 0)
			e.rings(p)
		}
	case orb.Collection:
		e.header(wkbGeometryCollection, srid)
		e.uint32(uint32(len(g)))
		for _, m := range g {
			if err := e.geometry(m, 0, depth+1); err != nil {
				return err
			}
		}
	case nil:
		return errors.New("geo: a geometry collection holds a nil geometry")
	default:
		return fmt.Errorf("geo: cannot encode %T as EWKB", g)
	}
	return nil
}

// appendEWKBHex appends the upper-case hex EWKB of g to dst.
func appendEWKBHex(dst []byte, g orb.Geometry, srid int) ([]byte, error) {
	if g == nil {
		return dst, errors.New("geo: a NULL geometry has no EWKB")
	}
	if srid < 0 || srid > math.MaxInt32 {
		return dst, fmt.Errorf("geo: SRID %d out of range", srid)
	}
	e := ewkbEncoder{b: dst}
	if err := e.geometry(g, srid, 0); err != nil {
		return dst, err
	}
	return e.b, nil
}

// ewkbHexSize estimates the encoded length of g so the output is allocated once.
func ewkbHexSize(g orb.Geometry) int {
	const hdr = 2 * (1 + 4 + 4 + 4) // order, type, SRID, count
	switch g := g.(type) {
	case orb.Point:
		return hdr + 32
	case orb.LineString:
		return hdr + 32*len(g)
	case orb.MultiPoint:
		return hdr + (10+32)*len(g)
	case orb.Ring:
		return hdr + 8 + 32*len(g)
	case orb.Polygon:
		n := hdr
		for _, r := range g {
			n += 8 + 32*len(r)
		}
		return n
	case orb.MultiLineString:
		n := hdr
		for _, ls := range g {
			n += hdr + 32*len(ls)
		}
		return n
	case orb.MultiPolygon:
		n := hdr
		for _, p := range g {
			n += ewkbHexSize(p)
		}
		return n
	}
	return 256
}
