package bind

import (
	"database/sql"
	"database/sql/driver"
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"github.com/gocarto/carto/geo"
)

type litTestInt int16
type litTestString string
type litTestTags []string

// litTestHexer is a geometry-like type whose EWKBHex output the driver must not trust.
type litTestHexer struct {
	hex string
	err error
}

func (h litTestHexer) EWKBHex() (string, error) { return h.hex, h.err }

// litTestNullValuer is a Valuer whose Value is nil.
type litTestNullValuer struct{}

func (litTestNullValuer) Value() (driver.Value, error) { return nil, nil }

// litTestFailingValuer's Value fails.
type litTestFailingValuer struct{}

func (litTestFailingValuer) Value() (driver.Value, error) { return nil, errors.New("boom") }

func TestAppendLiteral(t *testing.T) {
	pointHex := "0101000020E6100000000000000000F03F0000000000000040" // SRID=4326;POINT(1 2)
	var nilGeo *geo.Geometry
	s := "x"
	tests := []struct {
		v    any
		want string
	}{
		{nil, "NULL"},
		{true, "true"},
		{false, "false"},
		{int64(0), "0"},
		{int64(42), "42"},
		{int64(-42), "(-42)"},
		{int64(math.MaxInt64), "9223372036854775807"},
		{int64(math.MinInt64), "(-9223372036854775808)"},
		{uint64(math.MaxUint64), "18446744073709551615"},
		{litTestInt(-3), "(-3)"},
		{uint8(200), "200"},
		{1.5, "('1.5'::float8)"},
		{0.1, "('0.1'::float8)"},
		{1e21, "('1e+21'::float8)"},
		{5e-324, "('5e-324'::float8)"},
		{math.MaxFloat64, "('1.7976931348623157e+308'::float8)"},
		{math.Copysign(0, -1), "('-0'::float8)"},
		{math.NaN(), "('NaN'::float8)"},
		{math.Inf(1), "('Infinity'::float8)"},
		{math.Inf(-1), "('-Infinity'::float8)"},
		{float32(0.1), "('0.10000000149011612'::float8)"},
		{"", "''"},
		{"abc", "'abc'"},
		{"it's", "'it''s'"},
		{`a\b`, `E'a\\b'`},
		{`\'`, `E'\\'''`},
		{"é\n\t", "'é\n\t'"},
		{litTestString("m"), "'m'"},
		{&s, "'x'"},
		{(*string)(nil), "NULL"},
		{[]byte(nil), "NULL"},
		{[]byte{}, `(E'\\x'::bytea)`},
		{[]byte{0, 1, 0xab, 0xff}, `(E'\\x0001abff'::bytea)`},
		{litTestJSON("{}"), `(E'\\x7b7d'::bytea)`},
		{time.Date(2006, 1, 2, 15, 4, 5, 123456000, time.UTC), "('2006-01-02 15:04:05.123456+00:00'::timestamptz)"},
		{time.Date(2006, 1, 2, 15, 4, 5, 0, time.FixedZone("x", -7*3600)), "('2006-01-02 22:04:05+00:00'::timestamptz)"},
		{time.Date(2006, 1, 2, 15, 4, 5, 120000000, time.UTC), "('2006-01-02 15:04:05.12+00:00'::timestamptz)"},
		{time.Date(2006, 1, 2, 15, 4, 5, 1499, time.UTC), "('2006-01-02 15:04:05.000001+00:00'::timestamptz)"},
		{time.Date(2006, 1, 2, 15, 4, 5, 1500, time.UTC), "('2006-01-02 15:04:05.000002+00:00'::timestamptz)"},
		{time.Date(2006, 12, 31, 23, 59, 59, 999999500, time.UTC), "('2007-01-01 00:00:00+00:00'::timestamptz)"},
		{time.Time{}, "('0001-01-01 00:00:00+00:00'::timestamptz)"},
		{time.Date(0, 3, 15, 12, 0, 0, 0, time.UTC), "('0001-03-15 12:00:00+00:00 BC'::timestamptz)"},
		{time.Date(-43, 3, 15, 12, 0, 0, 0, time.UTC), "('0044-03-15 12:00:00+00:00 BC'::timestamptz)"},
		{time.Date(-4713, 11, 24, 0, 0, 0, 0, time.UTC), "('4714-11-24 00:00:00+00:00 BC'::timestamptz)"},
		{time.Date(12345, 6, 7, 8, 9, 10, 0, time.UTC), "('12345-06-07 08:09:10+00:00'::timestamptz)"},
		{time.Date(294276, 12, 31, 23, 59, 59, 999999499, time.UTC), "('294276-12-31 23:59:59.999999+00:00'::timestamptz)"},
		{geo.New(orb.Point{1, 2}, 4326), "('" + pointHex + "'::geometry)"},
		{&geo.Geometry{Geom: orb.Point{1, 2}, SRID: 4326}, "('" + pointHex + "'::geometry)"},
		{geo.Geometry{}, "(NULL::geometry)"},
		{nilGeo, "(NULL::geometry)"},
		{orb.Point{1, 2}, "('" + pointHex + "'::geometry)"},
		{orb.LineString{{1, 2}, {3, 4}}, "('0102000020E610000002000000000000000000F03F000000000000004000000000000008400000000000001040'::geometry)"},
		{litTestHexer{hex: "00ff"}, "('00ff'::geometry)"},
		{[]int64{1, -2}, "(ARRAY[1,(-2)]::int8[])"},
		{[]int{}, "('{}'::int8[])"},
		{[]int(nil), "(NULL::int8[])"},
		{[]uint64{math.MaxUint64}, "(ARRAY[18446744073709551615]::numeric[])"},
		{[]float64{1.5, math.NaN()}, "(ARRAY['1.5'::float8,'NaN'::float8]::float8[])"},
		{[]string{"a", "it's", `\`}, `(ARRAY['a','it''s',E'\\']::text[])`},
		{litTestTags{}, "('{}'::text[])"},
		{[]bool{true, false}, "(ARRAY[true,false]::bool[])"},
		{[][]byte{{1}, nil}, `(ARRAY[E'\\x01'::bytea,NULL]::bytea[])`},
		{[]time.Time{time.Unix(0, 0)}, "(ARRAY['1970-01-01 00:00:00+00:00'::timestamptz]::timestamptz[])"},
		{[]*int64{nil}, "(ARRAY[NULL]::int8[])"},
		{[][]int64{{1, 2}, {3, 4}}, "(ARRAY[ARRAY[1,2]::int8[],ARRAY[3,4]::int8[]]::int8[])"},
		{[]orb.Point{{1, 2}}, "(ARRAY['" + pointHex + "'::geometry]::geometry[])"},
		{[]geo.Geometry{{}}, "(ARRAY[NULL::geometry]::geometry[])"},
		{[]any{int64(1), "a", nil}, "ARRAY[1,'a',NULL]"},
		{[]any{}, "'{}'"},
		{[]any(nil), "NULL"},
		{[]sql.NullString{{String: "a", Valid: true}, {}}, "ARRAY['a',NULL]"},
		{[]driver.Valuer{litTestNullValuer{}}, "ARRAY[NULL]"},
	}
	for _, tt := range tests {
		got, err := Interpolate("$1", pos(tt.v))
		if err != nil {
			t.Errorf("%T %v: %v", tt.v, tt.v, err)
			continue
		}
		if want := " " + tt.want + " "; got != want {
			t.Errorf("%T %v:\n got %s\nwant %s", tt.v, tt.v, got, want)
		}
	}
}

type litTestJSON []byte

func TestAppendLiteralErrors(t *testing.T) {
	tests := []struct {
		v    any
		want string
	}{
		{"\x00", "string contains a NUL byte"},
		{"\xc3", "string is not valid UTF-8"},
		{litTestString("a\x00"), "NUL byte"},
		{litTestHexer{hex: "00ff'; drop table t; --"}, "returned 23 bytes that are not hex EWKB"},
		{litTestHexer{hex: "0"}, "not hex EWKB"},
		{litTestHexer{hex: ""}, "not hex EWKB"},
		{litTestHexer{err: errors.New("bad geometry")}, "bind.litTestHexer.EWKBHex: bad geometry"},
		{geo.New(orb.Point{1, 2}, -1), "SRID"},
		{[]any{struct{}{}}, "element 0: unsupported argument type struct {}"},
		{[]litTestFailingValuer{{}}, "element 0: bind.litTestFailingValuer.Value: boom"},
		{[][2]int{{1, 2}}, "unsupported argument type [2]int"},
		{complex(1, 2), "unsupported argument type complex128"},
		{time.Date(-4713, 11, 23, 23, 59, 59, 999999999, time.UTC), "outside PostgreSQL's timestamptz range"},
		{time.Date(294276, 12, 31, 23, 59, 59, 999999500, time.UTC), "outside PostgreSQL's timestamptz range"},
	}
	for _, tt := range tests {
		_, err := Interpolate("$1", pos(tt.v))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%T %v: error %v, want %q", tt.v, tt.v, err, tt.want)
		}
	}
}
