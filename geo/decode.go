package geo

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/paulmach/orb"
)

// text is what the decoder reads from: both kinds are read in place and never written to, so a
// string costs no copy and a caller's []byte is left exactly as it was.
type text interface{ ~string | ~[]byte }

// maxDepth bounds the nesting of geometry collections, so hostile input cannot exhaust the stack.
const maxDepth = 64

// hexValue maps an ASCII hex digit (either case) to its value and anything else to 0xff.
var hexValue = func() (t [256]byte) {
	for i := range t {
		t[i] = 0xff
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = byte(c - '0')
	}
	for c := 'a'; c <= 'f'; c++ {
		t[c] = byte(c-'a') + 10
		t[c-'a'+'A'] = byte(c-'a') + 10
	}
	return t
}()

// wkbDecoder reads (E)WKB from binary input or from its hex text, in one pass and without an
// intermediate buffer.
type wkbDecoder[T text] struct {
	src     T
	hex     bool // src is hex text: decoded byte i is src[2i:2i+2]
	pos     int  // next decoded byte
	n       int  // decoded length
	force2D bool // drop Z and M instead of refusing them
}

// decodeWKB decodes one (E)WKB geometry that must fill the whole input.
func decodeWKB[T text](src T, hex, force2D bool) (orb.Geometry, int, error) {
	d := wkbDecoder[T]{src: src, hex: hex, n: len(src), force2D: force2D}
	if hex {
		if len(src)%2 != 0 {
			return nil, 0, d.errorf(-1, "odd number of hex digits (%d)", len(src))
		}
		d.n = len(src) / 2
	}
	g, srid, err := d.geometry(0)
	if err != nil {
		return nil, 0, err
	}
	if d.pos != d.n {
		return nil, 0, d.errorf(d.pos, "%d bytes of trailing data after the geometry", d.n-d.pos)
	}
	return g, srid, nil
}

func (d *wkbDecoder[T]) format() string {
	if d.hex {
		return "hex EWKB"
	}
	return "EWKB"
}

// errorf builds a DecodeError at decoded byte pos (reported as an offset into the input text).
func (d *wkbDecoder[T]) errorf(pos int, format string, args ...any) error {
	if pos >= 0 && d.hex {
		pos *= 2
	}
	return &DecodeError{Format: d.format(), Offset: pos, Reason: fmt.Sprintf(format, args...)}
}

func (d *wkbDecoder[T]) short(want int) error {
	return d.errorf(d.pos, "input ends after %d bytes, %d more needed", d.n, d.pos+want-d.n)
}

// read fills b with the next len(b) decoded bytes.
func (d *wkbDecoder[T]) read(b []byte) error {
	if len(b) > d.n-d.pos {
		return d.short(len(b))
	}
	if !d.hex {
		copy(b, d.src[d.pos:d.pos+len(b)])
		d.pos += len(b)
		return nil
	}
	i := d.pos * 2
	for k := range b {
		hi, lo := hexValue[d.src[i]], hexValue[d.src[i+1]]
		if hi|lo > 0x0f {
			return &DecodeError{Format: d.format(), Offset: i, Reason: fmt.Sprintf("invalid hex digits %q", string([]byte{d.src[i], d.src[i+1]}))}
		}
		b[k] = hi<<4 | lo
		i += 2
	}
	d.pos += len(b)
	return nil
}

func (d *wkbDecoder[T]) uint32(le bool) (uint32, error) {
	var b [4]byte
	if err := d.read(b[:]); err != nil {
		return 0, err
	}
	if le {
		return binary.LittleEndian.Uint32(b[:]), nil
	}
	return binary.BigEndian.Uint32(b[:]), nil
}

func (d *wkbDecoder[T]) float64(le bool) (float64, error) {
	var b [8]byte
	if err := d.read(b[:]); err != nil {
		return 0, err
	}
	if le {
		return math.Float64frombits(binary.LittleEndian.Uint64(b[:])), nil
	}
	return math.Float64frombits(binary.BigEndian.Uint64(b[:])), nil
}

// count reads an element count and checks that the rest of the input can hold that many
// elements of at least minSize bytes each, so a corrupt count cannot trigger a huge allocation.
func (d *wkbDecoder[T]) count(le bool, minSize int, what string) (int, error) {
	at := d.pos
	n, err := d.uint32(le)
	if err != nil {
		return 0, err
	}
	if uint64(n)*uint64(minSize) > uint64(d.n-d.pos) {
		return 0, d.errorf(at, "%d %s cannot fit in the remaining %d bytes", n, what, d.n-d.pos)
	}
	return int(n), nil
}

// header is the byte order and type word that start every (E)WKB geometry, nested ones included.
type header struct {
	le      bool   // little-endian (NDR)
	typ     uint32 // 1..17, flags removed
	z, m    bool
	srid    int
	hasSRID bool
}

func (h header) dims() int {
	n := 2
	if h.z {
		n++
	}
	if h.m {
		n++
	}
	return n
}

func (d *wkbDecoder[T]) header() (header, error) {
	var h header
	at := d.pos
	var b [1]byte
	if err := d.read(b[:]); err != nil {
		return h, err
	}
	switch b[0] {
	case 0:
	case 1:
		h.le = true
	default:
		return h, d.errorf(at, "byte order %#x is neither 0 (XDR) nor 1 (NDR)", b[0])
	}
	t, err := d.uint32(h.le)
	if err != nil {
		return h, err
	}
	h.z = t&ewkbZ != 0
	h.m = t&ewkbM != 0
	h.hasSRID = t&ewkbSRID != 0
	t &^= ewkbZ | ewkbM | ewkbSRID
	// ISO WKB (ST_AsBinary) marks dimensions by adding 1000 (Z), 2000 (M) or 3000 (ZM).
	switch t / 1000 {
	case 0:
	case 1:
		h.z = true
	case 2:
		h.m = true
	case 3:
		h.z, h.m = true, true
	default:
		return h, d.errorf(at+1, "unknown geometry type %d", t)
	}
	t %= 1000
	if t == 0 || t > wkbTriangle {
		return h, d.errorf(at+1, "unknown geometry type %d", t)
	}
	h.typ = t
	if h.hasSRID {
		s, err := d.uint32(h.le)
		if err != nil {
			return h, err
		}
		// PostGIS reads the SRID as a signed int32 and clamps negative ones to 0, "unknown"
		// (liblwgeom's clamp_srid); do the same.
		h.srid = max(int(int32(s)), 0)
	}
	if (h.z || h.m) && !d.force2D {
		return h, &DimensionError{Type: wkbTypeName(h.typ), Dims: dimsName(h.z, h.m)}
	}
	return h, nil
}

// geometry decodes one geometry and returns it with the SRID of its header (0 when absent).
func (d *wkbDecoder[T]) geometry(depth int) (orb.Geometry, int, error) {
	at := d.pos
	if depth > maxDepth {
		return nil, 0, d.errorf(at, "geometry collections nested deeper than %d", maxDepth)
	}
	h, err := d.header()
	if err != nil {
		return nil, 0, err
	}
	var g orb.Geometry
	switch h.typ {
	case wkbPoint:
		g, err = d.point(h)
	case wkbLineString:
		var ls []orb.Point
		ls, err = d.points(h, "points")
		g = orb.LineString(ls)
	case wkbPolygon:
		g, err = d.polygon(h)
	case wkbMultiPoint:
		n, cerr := d.count(h.le, 5+16, "points")
		if cerr != nil {
			return nil, 0, cerr
		}
		mp := make(orb.MultiPoint, n)
		for i := range mp {
			var p orb.Point
			if p, err = member[orb.Point](d, depth, "MultiPoint"); err != nil {
				break
			}
			mp[i] = p
		}
		g = mp
	case wkbMultiLineString:
		n, cerr := d.count(h.le, 5+4, "line strings")
		if cerr != nil {
			return nil, 0, cerr
		}
		mls := make(orb.MultiLineString, n)
		for i := range mls {
			if mls[i], err = member[orb.LineString](d, depth, "MultiLineString"); err != nil {
				break
			}
		}
		g = mls
	case wkbMultiPolygon:
		n, cerr := d.count(h.le, 5+4, "polygons")
		if cerr != nil {
			return nil, 0, cerr
		}
		mp := make(orb.MultiPolygon, n)
		for i := range mp {
			if mp[i], err = member[orb.Polygon](d, depth, "MultiPolygon"); err != nil {
				break
			}
		}
		g = mp
	case wkbGeometryCollection:
		n, cerr := d.count(h.le, 5+4, "geometries")
		if cerr != nil {
			return nil, 0, cerr
		}
		c := make(orb.Collection, n)
		for i := range c {
			if c[i], _, err = d.geometry(depth + 1); err != nil {
				break
			}
		}
		g = c
	default:
		return nil, 0, &DecodeError{Format: d.format(), Offset: -1, Reason: wkbTypeName(h.typ), Err: ErrUnsupportedType}
	}
	if err != nil {
		return nil, 0, err
	}
	return g, h.srid, nil
}

// member decodes an element of a multi-geometry, which must be of the element type G.
func member[G orb.Geometry, T text](d *wkbDecoder[T], depth int, parent string) (G, error) {
	at := d.pos
	g, _, err := d.geometry(depth + 1)
	if err != nil {
		var zero G
		return zero, err
	}
	m, ok := g.(G)
	if !ok {
		var zero G
		return zero, d.errorf(at, "a %s holds a %s", parent, g.GeoJSONType())
	}
	return m, nil
}

func (d *wkbDecoder[T]) point(h header) (orb.Point, error) {
	// POINT EMPTY is written as NaN coordinates, and stays so.
	x, err := d.float64(h.le)
	if err != nil {
		return orb.Point{}, err
	}
	y, err := d.float64(h.le)
	if err != nil {
		return orb.Point{}, err
	}
	// Z and M, present only with force2D: read past them.
	if skip := 8 * (h.dims() - 2); skip > 0 {
		if skip > d.n-d.pos {
			return orb.Point{}, d.short(skip)
		}
		if d.hex {
			// Validate the skipped digits too: bad input is bad wherever it is.
			var b [16]byte
			if err := d.read(b[:skip]); err != nil {
				return orb.Point{}, err
			}
		} else {
			d.pos += skip
		}
	}
	return orb.Point{x, y}, nil
}

func (d *wkbDecoder[T]) points(h header, what string) ([]orb.Point, error) {
	n, err := d.count(h.le, 8*h.dims(), what)
	if err != nil {
		return nil, err
	}
	ps := make([]orb.Point, n)
	for i := range ps {
		if ps[i], err = d.point(h); err != nil {
			return nil, err
		}
	}
	return ps, nil
}

func (d *wkbDecoder[T]) polygon(h header) (orb.Polygon, error) {
	n, err := d.count(h.le, 4, "rings")
	if err != nil {
		return nil, err
	}
	p := make(orb.Polygon, n)
	for i := range p {
		r, err := d.points(h, "points")
		if err != nil {
			return nil, err
		}
		p[i] = orb.Ring(r)
	}
	return p, nil
}
