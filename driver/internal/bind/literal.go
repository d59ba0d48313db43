package bind

import (
	"database/sql/driver"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/ewkb"

	"github.com/gocarto/carto/internal/pgscan"
)

// Literals: how each argument is written into the SQL text. Every form below reads back as the
// same value under standard_conforming_strings on or off, since a backslash only ever appears
// in an E'...' constant. Typed forms (with a ::cast) are wrapped in parentheses when they stand
// alone, so that what follows the placeholder cannot change them: $1[1] must not become a cast
// to int8[][1], nor $1::text a cast of only the digits of a negative number.
//
//	nil                     NULL
//	bool                    true, false
//	int64 (all int kinds)   42, (-42): typed by PostgreSQL like any integer constant (integer,
//	                        or bigint beyond integer), so that substr(s, $1) finds its function;
//	                        like a constant, ORDER BY $1 then sorts by column 1
//	uint64 (all uint kinds) 42, 18446744073709551615 (numeric beyond bigint)
//	float64, float32        ('1.5'::float8), ('1e+300'::float8), ('-0'::float8), ('NaN'::float8),
//	                        ('Infinity'::float8), ('-Infinity'::float8): the shortest decimal that
//	                        reads back as the same float64, so every bit survives
//	string                  'it''s'; with a backslash E'a\\b'; untyped like any quoted constant,
//	                        so uuid_col = $1 works; a NUL byte or invalid UTF-8 is an error (text
//	                        cannot hold them)
//	[]byte                  (E'\\x0102ff'::bytea); nil is NULL
//	time.Time               ('2006-01-02 15:04:05.123456+00:00'::timestamptz), in UTC, rounded to
//	                        the microsecond as PostgreSQL rounds; years before 1 as "... BC";
//	                        outside PostgreSQL's range (4714-11-24 BC to 294276 AD) an error
//	EWKBHex() (string, error)  ('0101000020E6...'::geometry) (geo.Geometry, geo.Point, ...);
//	                        a NULL geometry is (NULL::geometry)
//	orb.Geometry            ('0101000020E6...'::geometry), SRID 4326
//	slices                  (ARRAY[1,(-2)]::int8[]), ('{}'::text[]), (NULL::text[]) for nil; see
//	                        arrayElemType for the element types
//	driver.Valuer (inside slices; checkNamedValue resolves top-level ones) its Value()

// ewkbHexer is a geometry that writes itself as hex EWKB: geo.Geometry, geo.Point, geo.Typed.
type ewkbHexer interface {
	EWKBHex() (string, error)
}

// defaultSRID is the SRID given to orb geometries, which carry none: CARTO's the_geom is 4326.
const defaultSRID = 4326

// maxValuerDepth bounds Valuers returning Valuers.
const maxValuerDepth = 4

var (
	timeType      = reflect.TypeFor[time.Time]()
	hexerType     = reflect.TypeFor[ewkbHexer]()
	orbType       = reflect.TypeFor[orb.Geometry]()
	valuerType    = reflect.TypeFor[driver.Valuer]()
	errNullInText = errors.New("contains a NUL byte, which PostgreSQL text cannot hold (send it as []byte for bytea)")
	errBadUTF8    = errors.New("is not valid UTF-8 (send it as []byte for bytea)")
)

// appendLiteral appends v as a SQL literal. typed reports that the literal ends in a ::cast, so
// a caller writing it alone must wrap it in parentheses.
func appendLiteral(b []byte, v any) (out []byte, typed bool, err error) {
	return appendValue(b, v, 0)
}

func appendValue(b []byte, v any, depth int) ([]byte, bool, error) {
	switch v := v.(type) {
	case nil:
		return append(b, "NULL"...), false, nil
	case bool:
		return strconv.AppendBool(b, v), false, nil
	case int64:
		return appendInt(b, v), false, nil
	case uint64:
		return strconv.AppendUint(b, v, 10), false, nil
	case float64:
		return appendFloat(b, v), true, nil
	case string:
		b, err := appendString(b, v)
		return b, false, err
	case []byte:
		if v == nil {
			return append(b, "NULL"...), false, nil
		}
		return appendBytea(b, v), true, nil
	case time.Time:
		b, err := appendTime(b, v)
		return b, true, err
	case ewkbHexer:
		if isNilPointer(v) {
			return append(b, "NULL::geometry"...), true, nil
		}
		b, err := appendHexer(b, v)
		return b, true, err
	case orb.Geometry:
		if isNilPointer(v) {
			return append(b, "NULL::geometry"...), true, nil
		}
		h, err := ewkb.MarshalToHex(v, defaultSRID)
		if err != nil {
			return b, false, fmt.Errorf("%T as EWKB: %w", v, err)
		}
		// Upper case, as PostGIS writes it (and geo.Geometry.EWKBHex).
		return appendGeometryHex(b, strings.ToUpper(h)), true, nil
	case driver.Valuer:
		if isNilPointer(v) {
			return append(b, "NULL"...), false, nil
		}
		if depth >= maxValuerDepth {
			return b, false, fmt.Errorf("%T: Value returns Valuers %d deep", v, depth)
		}
		x, err := v.Value()
		if err != nil {
			return b, false, fmt.Errorf("%T.Value: %w", v, err)
		}
		return appendValue(b, x, depth+1)
	}
	return appendReflect(b, reflect.ValueOf(v), depth)
}

// appendReflect writes the kinds behind named types (type ID int64, type Tags []string, ...),
// pointers and slices.
func appendReflect(b []byte, rv reflect.Value, depth int) ([]byte, bool, error) {
	switch rv.Kind() {
	case reflect.Pointer:
		if rv.IsNil() {
			return append(b, "NULL"...), false, nil
		}
		return appendValue(b, rv.Elem().Interface(), depth)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return appendInt(b, rv.Int()), false, nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return strconv.AppendUint(b, rv.Uint(), 10), false, nil
	case reflect.Float32, reflect.Float64:
		return appendFloat(b, rv.Float()), true, nil
	case reflect.Bool:
		return strconv.AppendBool(b, rv.Bool()), false, nil
	case reflect.String:
		b, err := appendString(b, rv.String())
		return b, false, err
	case reflect.Slice:
		if rv.Type().Elem().Kind() == reflect.Uint8 {
			return appendValue(b, rv.Bytes(), depth)
		}
		return appendArray(b, rv, depth)
	}
	return b, false, fmt.Errorf("unsupported argument type %s", typeName(rv))
}

func typeName(rv reflect.Value) string {
	if !rv.IsValid() {
		return "nil"
	}
	return rv.Type().String()
}

// appendInt writes a negative number in parentheses: -5::text would cast 5 and then negate
// text, and -9223372036854775808::int8 overflows.
func appendInt(b []byte, v int64) []byte {
	if v >= 0 {
		return strconv.AppendInt(b, v, 10)
	}
	b = append(b, '(')
	b = strconv.AppendInt(b, v, 10)
	return append(b, ')')
}

// appendFloat writes a quoted float8 constant: quoting keeps -0 (a bare -0 is the integer 0),
// takes NaN and the infinities, and types it float8 like Go's float64 (a bare 1.5 is numeric).
func appendFloat(b []byte, f float64) []byte {
	b = append(b, '\'')
	switch {
	case math.IsNaN(f):
		b = append(b, "NaN"...)
	case math.IsInf(f, 1):
		b = append(b, "Infinity"...)
	case math.IsInf(f, -1):
		b = append(b, "-Infinity"...)
	default:
		b = strconv.AppendFloat(b, f, 'g', -1, 64)
	}
	return append(b, "'::float8"...)
}

// appendString writes '...' with quotes doubled, or E'...' with backslashes doubled too when
// the string has a backslash: a plain '\' would mean a backslash only with
// standard_conforming_strings on, while E'\\' means one either way.
func appendString(b []byte, s string) ([]byte, error) {
	if strings.IndexByte(s, 0) >= 0 {
		return b, fmt.Errorf("string %w", errNullInText)
	}
	if !utf8.ValidString(s) {
		return b, fmt.Errorf("string %w", errBadUTF8)
	}
	return pgscan.AppendLiteral(b, s), nil
}

// appendBytea writes bytea's hex input format inside an E'...' constant (see appendString).
func appendBytea(b []byte, p []byte) []byte {
	b = append(b, `E'\\x`...)
	b = hex.AppendEncode(b, p)
	return append(b, "'::bytea"...)
}

// PostgreSQL's timestamptz range, in UTC: 4714-11-24 00:00:00 BC to 294276-12-31 23:59:59.999999.
var (
	minTimestamp = time.Date(-4713, time.November, 24, 0, 0, 0, 0, time.UTC)
	maxTimestamp = time.Date(294276, time.December, 31, 23, 59, 59, 999999000, time.UTC)
)

// appendTime writes a timestamptz constant in UTC with an explicit offset, so neither the
// session's TimeZone nor its DateStyle (ISO input is unambiguous under every DateStyle) can
// change it. The time is rounded to the microsecond, PostgreSQL's precision, as PostgreSQL
// rounds input with more digits; Go's year 0 is 1 BC.
func appendTime(b []byte, t time.Time) ([]byte, error) {
	t = t.UTC()
	if t.Before(minTimestamp) || t.After(maxTimestamp.Add(500*time.Nanosecond-1)) {
		return b, fmt.Errorf("time %s is outside PostgreSQL's timestamptz range (4714-11-24 BC to 294276-12-31 AD)",
			t.Format(time.RFC3339Nano))
	}
	t = t.Round(time.Microsecond)
	year, bc := t.Year(), false
	if year <= 0 {
		year, bc = 1-year, true
	}
	b = append(b, '\'')
	b = appendPadded(b, year, 4)
	b = append(b, '-')
	b = appendPadded(b, int(t.Month()), 2)
	b = append(b, '-')
	b = appendPadded(b, t.Day(), 2)
	b = append(b, ' ')
	b = appendPadded(b, t.Hour(), 2)
	b = append(b, ':')
	b = appendPadded(b, t.Minute(), 2)
	b = append(b, ':')
	b = appendPadded(b, t.Second(), 2)
	if us := t.Nanosecond() / 1000; us != 0 {
		b = append(b, '.')
		digits := appendPadded(nil, us, 6)
		b = append(b, strings.TrimRight(string(digits), "0")...)
	}
	b = append(b, "+00:00"...)
	if bc {
		b = append(b, " BC"...)
	}
	return append(b, "'::timestamptz"...), nil
}

func appendPadded(b []byte, v, width int) []byte {
	s := strconv.Itoa(v)
	for i := len(s); i < width; i++ {
		b = append(b, '0')
	}
	return append(b, s...)
}

// appendHexer writes a geometry that encodes itself. Its hex is checked, since any type may
// have an EWKBHex method and its output goes into the SQL text.
func appendHexer(b []byte, g ewkbHexer) ([]byte, error) {
	h, err := g.EWKBHex()
	if err != nil {
		// geo's NULL geometry has no EWKB; its Value says NULL.
		if v, ok := g.(driver.Valuer); ok {
			if x, verr := v.Value(); verr == nil && x == nil {
				return append(b, "NULL::geometry"...), nil
			}
		}
		return b, fmt.Errorf("%T.EWKBHex: %w", g, err)
	}
	if h == "" || len(h)%2 != 0 || strings.TrimLeft(h, "0123456789abcdefABCDEF") != "" {
		return b, fmt.Errorf("%T.EWKBHex returned %d bytes that are not hex EWKB", g, len(h))
	}
	return appendGeometryHex(b, h), nil
}

func appendGeometryHex(b []byte, h string) []byte {
	b = append(b, '\'')
	b = append(b, h...)
	return append(b, "'::geometry"...)
}

// appendArray writes a slice as ARRAY[...], cast to the SQL array type of its Go element type
// when there is one (so [1, 2] is int8[], not integer[], and an empty slice has a type). A nil
// slice is a NULL of that type.
func appendArray(b []byte, rv reflect.Value, depth int) ([]byte, bool, error) {
	elem := arrayElemType(rv.Type().Elem())
	if rv.IsNil() {
		if elem == "" {
			return append(b, "NULL"...), false, nil
		}
		b = append(b, "NULL::"...)
		return append(append(b, elem...), "[]"...), true, nil
	}
	if rv.Len() == 0 {
		// ARRAY[] has no type at all; '{}' without a cast takes its type from where it is used.
		b = append(b, "'{}'"...)
		if elem == "" {
			return b, false, nil
		}
		b = append(b, "::"...)
		return append(append(b, elem...), "[]"...), true, nil
	}
	b = append(b, "ARRAY["...)
	for i := range rv.Len() {
		if i > 0 {
			b = append(b, ',')
		}
		var err error
		if b, _, err = appendValue(b, rv.Index(i).Interface(), depth); err != nil {
			return b, false, fmt.Errorf("element %d: %w", i, err)
		}
	}
	b = append(b, ']')
	if elem == "" {
		return b, false, nil
	}
	b = append(b, "::"...)
	return append(append(b, elem...), "[]"...), true, nil
}

// arrayElemType is the SQL element type of a slice of t, or "" when the Go type does not say
// (interfaces, Valuers): such arrays go without a cast and PostgreSQL types them from their
// elements. Integers are int8 (numeric for uint64, uint and uintptr, which may exceed it),
// floats float8, strings text, bools bool, []byte bytea, time.Time timestamptz, geometries
// geometry; a slice of slices is a multi-dimensional array of its innermost type.
func arrayElemType(t reflect.Type) string {
	switch {
	case t == timeType:
		return "timestamptz"
	case t.Implements(hexerType) || t.Implements(orbType):
		return "geometry"
	case t.Kind() == reflect.Interface || t.Implements(valuerType):
		return ""
	}
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint8, reflect.Uint16, reflect.Uint32:
		return "int8"
	case reflect.Uint, reflect.Uint64, reflect.Uintptr:
		return "numeric"
	case reflect.Float32, reflect.Float64:
		return "float8"
	case reflect.String:
		return "text"
	case reflect.Bool:
		return "bool"
	case reflect.Pointer:
		return arrayElemType(t.Elem())
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			return "bytea"
		}
		return arrayElemType(t.Elem())
	}
	return ""
}

// isNilPointer reports a nil pointer inside an interface, whose value methods would panic.
func isNilPointer(v any) bool {
	rv := reflect.ValueOf(v)
	return rv.Kind() == reflect.Pointer && rv.IsNil()
}
