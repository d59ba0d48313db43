package driver

import (
	"bufio"
	"bytes"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/gocarto/carto"
)

// sampleBody returns the body of a response captured from CARTO's own SQL API server
// (testdata/sqlapi, copied from the project's protocol samples).
func sampleBody(t testing.TB, name string) []byte {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", "sqlapi", name+".txt"))
	if err != nil {
		t.Fatal(err)
	}
	// Comment lines, a blank line, the status line and headers, a blank line, the body.
	sc := bufio.NewScanner(bytes.NewReader(raw))
	sc.Buffer(nil, 1<<20)
	inHeaders := false
	var body []string
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), "\r")
		switch {
		case body != nil:
			body = append(body, line)
		case strings.HasPrefix(line, "HTTP/1.1 "):
			inHeaders = true
		case inHeaders && line == "":
			body = []string{}
		}
	}
	return []byte(strings.TrimSpace(strings.Join(body, "\n")))
}

// decodeAll reads a body as QueryContext does and returns every row.
func decodeAll(t testing.TB, body []byte, limit int64) (*rows, [][]driver.Value, error) {
	t.Helper()
	r, _, err := readRows(bytes.NewReader(body), limit, "POST", "/api/v2/sql")
	if err != nil {
		return nil, nil, err
	}
	defer r.Close()
	var all [][]driver.Value
	for {
		dest := make([]driver.Value, len(r.Columns()))
		err := r.Next(dest)
		if err == io.EOF {
			return r, all, nil
		}
		if err != nil {
			return r, all, err
		}
		all = append(all, dest)
	}
}

func date(y, m, d, hh, mm, ss int) time.Time {
	return time.Date(y, time.Month(m), d, hh, mm, ss, 0, time.UTC)
}

func TestDecodeSampleTypes(t *testing.T) {
	for _, limit := range []int64{8 << 20, 1} { // in memory, and through a temporary file
		r, got, err := decodeAll(t, sampleBody(t, "01-select-types"), limit)
		if err != nil {
			t.Fatal(err)
		}
		wantCols := []string{"cartodb_id", "i2", "i4", "i8", "f4", "f8", "num", "t", "vc", "ch", "b", "d", "ts",
			"tstz", "tm", "iv", "j", "jb", "arr_i", "arr_t", "u", "by", "the_geom", "poly", "geog"}
		if !reflect.DeepEqual(r.Columns(), wantCols) {
			t.Fatalf("columns %q, want %q", r.Columns(), wantCols)
		}
		want := []driver.Value{int64(1), int64(1), int64(42), int64(9007199254740992), 1.5, 3.141592653589793,
			"12345.6789", `hello "world"`, "vc", "abc", true, date(2020, 2, 29, 0, 0, 0), date(2020, 2, 29, 13, 14, 15),
			date(2020, 2, 29, 11, 14, 15), "13:14:15", []byte(`{"days":1,"hours":2,"minutes":3,"seconds":4}`),
			[]byte(`{"a":1,"b":[1,2]}`), []byte(`{"z":true}`), []byte(`[1,2,3]`), []byte(`["x","y z"]`),
			"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", []byte{222, 173, 190, 239},
			[]byte("0101000020E61000009A99999999990DC03333333333334440"),
			[]byte("0103000020E6100000010000000500000000000000000000000000000000000000000000000000F03F0000000000000000000000000000F03F000000000000F03F0000000000000000000000000000F03F00000000000000000000000000000000"),
			[]byte("0101000020E61000005C8FC2F5285C0140713D0AD7A3B04440")}
		if len(got) != 2 {
			t.Fatalf("%d rows, want 2", len(got))
		}
		for i := range want {
			if !reflect.DeepEqual(got[0][i], want[i]) {
				t.Errorf("limit %d: %s = %#v, want %#v", limit, wantCols[i], got[0][i], want[i])
			}
		}
		for i, v := range got[1] {
			if i == 0 {
				if v != int64(2) {
					t.Errorf("second row id %v", v)
				}
			} else if v != nil {
				t.Errorf("second row %s = %#v, want nil", wantCols[i], v)
			}
		}
		types := map[string]string{"i8": "INT8", "num": "NUMERIC", "ch": "BPCHAR", "tstz": "TIMESTAMPTZ", "j": "JSON",
			"arr_i": "_INT4", "the_geom": "GEOMETRY", "geog": "GEOGRAPHY", "by": "BYTEA"}
		str, byt := reflect.TypeFor[string](), reflect.TypeFor[[]byte]()
		scan := map[string]reflect.Type{"i8": reflect.TypeFor[int64](), "f4": reflect.TypeFor[float64](), "num": str,
			"b": reflect.TypeFor[bool](), "d": reflect.TypeFor[time.Time](), "tm": str, "j": byt, "the_geom": byt,
			"iv": reflect.TypeFor[any]()}
		for i, c := range wantCols {
			if w, ok := types[c]; ok && r.ColumnTypeDatabaseTypeName(i) != w {
				t.Errorf("%s database type %q, want %q", c, r.ColumnTypeDatabaseTypeName(i), w)
			}
			if w, ok := scan[c]; ok && r.ColumnTypeScanType(i) != w {
				t.Errorf("%s scan type %v, want %v", c, r.ColumnTypeScanType(i), w)
			}
			if _, ok := r.ColumnTypeNullable(i); ok {
				t.Errorf("%s: nullable ok = true", c)
			}
		}
	}
}

func TestDecodeSampleMiscTypes(t *testing.T) {
	_, got, err := decodeAll(t, sampleBody(t, "44-misc-types"), 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	row := got[0]
	want := []driver.Value{"$12.50", "10.0.0.1", []byte(`{"x":1,"y":2}`), "[1,5)", "<a/>", "10:00:00+02", int64(5), "nm",
		nil /* NaN */, math.Inf(1), "1.2345678901234568e+29", []byte(`["a",null]`), []byte(`[true,false]`),
		[]byte(`[1.5,2.5]`), date(2019, 12, 31, 0, 0, 0)}
	for i := range want {
		if i == 8 {
			if f, ok := row[i].(float64); !ok || !math.IsNaN(f) {
				t.Errorf("nan = %#v", row[i])
			}
			continue
		}
		if !reflect.DeepEqual(row[i], want[i]) {
			t.Errorf("column %d = %#v, want %#v", i, row[i], want[i])
		}
	}
}

func TestDecodeSamples(t *testing.T) {
	tests := []struct {
		name string
		cols []string
		rows [][]driver.Value
	}{
		{"02-select-1-public", []string{"one"}, [][]driver.Value{{int64(1)}}},
		{"22-notices", []string{"one"}, [][]driver.Value{{int64(1)}}},
		{"23-insert", []string{}, nil},
		{"24-insert-returning", []string{"id", "v"}, [][]driver.Value{{int64(3), "c"}}},
		{"27-explicit-tx", []string{"count"}, [][]driver.Value{{int64(4)}}},
		{"43-empty-result", []string{"a"}, nil},
		{"49c-geometry-types", []string{"geometry_point_4326", "geometry_pointz_4326", "geometry_pointzm_4326",
			"geometry_multipolygon_3857", "geography_line_4326", "raster"}, nil},
		{"49d-expression-geometry", []string{"g", "g3"}, [][]driver.Value{{
			[]byte("0101000020E6100000000000000000F03F0000000000000040"),
			[]byte("0101000080000000000000F03F00000000000000400000000000000840")}}},
		{"95-update", []string{}, nil},
		{"96-ddl", []string{}, nil},
		{"97-duplicate-columns", []string{"a"}, [][]driver.Value{{int64(2)}}},
		{"99d-unknown-oid", []string{"m", "ma", "r2", "snap"}, [][]driver.Value{{"happy", "{happy}", "empty", "8312:8312:"}}},
	}
	for _, tt := range tests {
		r, got, err := decodeAll(t, sampleBody(t, tt.name), 1<<20)
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if len(r.Columns()) != len(tt.cols) || len(tt.cols) > 0 && !reflect.DeepEqual(r.Columns(), tt.cols) {
			t.Errorf("%s: columns %q, want %q", tt.name, r.Columns(), tt.cols)
		}
		if !reflect.DeepEqual(got, tt.rows) {
			t.Errorf("%s: rows %#v, want %#v", tt.name, got, tt.rows)
		}
	}
}

func TestDecodeSampleGeometry(t *testing.T) {
	r, got, err := decodeAll(t, sampleBody(t, "99b-geom-collection-3857"), 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	if r.ColumnTypeDatabaseTypeName(0) != "GEOMETRY" || r.ColumnTypeDatabaseTypeName(3) != "TEXT" {
		t.Errorf("types %q %q", r.ColumnTypeDatabaseTypeName(0), r.ColumnTypeDatabaseTypeName(3))
	}
	if string(got[0][0].([]byte)) != "0101000020110F0000310C4ADA772DFB4066F404ABE12E0B41" {
		t.Errorf("the_geom_webmercator = %q", got[0][0])
	}
	if got[0][4] != `{"type":"Point","coordinates":[1,2]}` {
		t.Errorf("gj = %#v", got[0][4])
	}
}

func TestDecodeMidstreamError(t *testing.T) {
	_, _, err := decodeAll(t, sampleBody(t, "28-midstream-error"), 1<<20)
	var ce *carto.Error
	if !errors.As(err, &ce) {
		t.Fatalf("err = %v, want a *carto.Error", err)
	}
	if ce.StatusCode != 200 || ce.Message() != "division by zero" || !ce.Sent {
		t.Errorf("err = %#v", ce)
	}
}

func TestDecodeMultiStatementRows(t *testing.T) {
	_, _, err := decodeAll(t, sampleBody(t, "08-multi-statement"), 1<<20)
	if err == nil || !strings.Contains(err.Error(), "several statements") {
		t.Fatalf("err = %v, want one about several statements", err)
	}
	// Same shape, same keys: only the count tells.
	_, _, err = decodeAll(t, []byte(`{"rows":[{"a":1},{"a":2}],"time":0,"fields":{"a":{"type":"number","pgtype":"int4"}},"total_rows":1}`), 1<<20)
	if err == nil || !strings.Contains(err.Error(), "total_rows says 1") {
		t.Fatalf("err = %v, want a row count error", err)
	}
	// The last statement returned no rows: total_rows falls back to the rows streamed (CARTO's
	// rowCount || rows), so the count agrees, but the rows are not the described columns'. That
	// is QueryContext's error, not one rows.Err would report after an empty (or half-filled)
	// iteration.
	for _, body := range []string{
		`{"rows":[{"a":1}],"time":0,"fields":{"b":{"type":"string","pgtype":"text"}},"total_rows":1}`,
		`{"rows":[{"a":1}],"time":0,"fields":{"a":{"type":"number","pgtype":"int4"},"b":{"type":"number","pgtype":"int4"}},"total_rows":1}`,
		`{"rows":[{"a":1,"b":2}],"time":0,"fields":{"a":{"type":"number","pgtype":"int4"}},"total_rows":1}`,
	} {
		_, _, err = decodeAll(t, []byte(body), 1<<20)
		if err == nil || !strings.Contains(err.Error(), "several statements") {
			t.Errorf("%s: err = %v, want one about several statements", body, err)
		}
	}
	// Duplicate names are one column, in the row as in fields.
	if _, _, err = decodeAll(t, []byte(`{"rows":[{"a":1,"a":2}],"time":0,"fields":{"a":{"type":"number","pgtype":"int4"}},"total_rows":1}`), 1<<20); err != nil {
		t.Errorf("duplicate names: %v", err)
	}
}

func TestDecodeTruncated(t *testing.T) {
	body := sampleBody(t, "01-select-types")
	for _, n := range []int{0, 1, 9, 100, len(body) / 2, len(body) - 30, len(body) - 1} {
		_, _, err := decodeAll(t, body[:n], 1<<20)
		if err == nil {
			t.Errorf("body cut at %d of %d: no error", n, len(body))
			continue
		}
		if !errors.Is(err, errTruncated) {
			t.Errorf("body cut at %d: %v, want errTruncated", n, err)
		}
	}
}

func TestDecodeMalformed(t *testing.T) {
	for _, body := range []string{
		`[]`,
		`"rows"`,
		`<html>502 Bad Gateway</html>`,
		`{"rows":{},"fields":{},"total_rows":0}`,
		`{"rows":[1],"fields":{},"total_rows":1}`,
		`{"rows":[],"fields":[],"total_rows":0}`,
		`{"fields":{},"total_rows":0}`,
		`{"rows":[],"fields":{},"total_rows":0} {}`,
		`{"rows":[{"a":"x"}],"fields":{"a":{"type":"number","pgtype":"int4"}},"total_rows":1}`,
		`{"rows":[{"a":1.5}],"fields":{"a":{"type":"number","pgtype":"int8"}},"total_rows":1}`,
		`{"rows":[{"a":{"type":"Buffer"}}],"fields":{"a":{"type":"bytea","pgtype":"bytea"}},"total_rows":1}`,
		`{"rows":[{"a":"\\xzz"}],"fields":{"a":{"type":"bytea","pgtype":"bytea"}},"total_rows":1}`,
	} {
		if _, _, err := decodeAll(t, []byte(body), 1<<20); err == nil {
			t.Errorf("%s: no error", body)
		}
	}
}

func TestDecodeValues(t *testing.T) {
	body := `{"rows":[{"ts":"2024-06-01T10:20:30.123456+0530","d":"2024-06-01","tz":"2024-06-01T10:20:30-03:30",
	"inf":"infinity","esc":"tab\there \u00e9 \ud83d\ude00","big":123456789012345678,"neg":-9223372036854775808,
	"e18":1e+18,"n":-12.5e-3,"js":"just a string","jn":3,"jt":true,"hex":"\\xdeadBEEF","f":"-Infinity"}],
	"fields":{"ts":{"type":"date","pgtype":"timestamptz"},"d":{"type":"date","pgtype":"date"},
	"tz":{"type":"date","pgtype":"timestamptz"},"inf":{"type":"date","pgtype":"timestamp"},
	"esc":{"type":"string","pgtype":"text"},"big":{"type":"number","pgtype":"int8"},"neg":{"type":"number","pgtype":"int8"},
	"e18":{"type":"number","pgtype":"int8"},"n":{"type":"number","pgtype":"numeric"},"js":{"type":"jsonb","pgtype":"jsonb"},
	"jn":{"type":"jsonb","pgtype":"jsonb"},"jt":{"type":"JSON","pgtype":"JSON"},"hex":{"type":"bytea","pgtype":"bytea"},
	"f":{"type":"number","pgtype":"float4"}},"total_rows":1}`
	_, got, err := decodeAll(t, []byte(body), 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	row := got[0]
	wantTS := time.Date(2024, 6, 1, 10, 20, 30, 123456000, time.FixedZone("", 5*3600+1800))
	if ts, ok := row[0].(time.Time); !ok || !ts.Equal(wantTS) {
		t.Errorf("ts = %#v, want %v", row[0], wantTS)
	} else if _, off := ts.Zone(); off != 5*3600+1800 {
		t.Errorf("ts zone offset %d", off)
	}
	if !reflect.DeepEqual(row[1], date(2024, 6, 1, 0, 0, 0)) {
		t.Errorf("d = %#v", row[1])
	}
	if ts := row[2].(time.Time); !ts.Equal(time.Date(2024, 6, 1, 13, 50, 30, 0, time.UTC)) {
		t.Errorf("tz = %v", ts)
	}
	want := []driver.Value{3: "infinity", 4: "tab\there é 😀", 5: int64(123456789012345678), 6: int64(math.MinInt64),
		7: int64(1e18), 8: "-12.5e-3", 9: []byte(`"just a string"`), 10: []byte(`3`), 11: []byte(`true`),
		12: []byte{0xde, 0xad, 0xbe, 0xef}, 13: math.Inf(-1)}
	for i := 3; i < len(want); i++ {
		if !reflect.DeepEqual(row[i], want[i]) {
			t.Errorf("column %d = %#v, want %#v", i, row[i], want[i])
		}
	}
}

// Values handed out must not share memory with the spool, which is reused row after row.
func TestDecodeFreshValues(t *testing.T) {
	body := `{"rows":[{"g":"0101","j":{"a":1}},{"g":"0202","j":{"b":2}}],"fields":{"g":{"type":"geometry"},"j":{"type":"jsonb","pgtype":"jsonb"}},"total_rows":2}`
	r, _, err := readRows(strings.NewReader(body), 1<<20, "POST", "/")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	first := make([]driver.Value, 2)
	second := make([]driver.Value, 2)
	if err := r.Next(first); err != nil {
		t.Fatal(err)
	}
	g := first[0].([]byte)
	g[0] = 'X'
	if err := r.Next(second); err != nil {
		t.Fatal(err)
	}
	if string(first[0].([]byte)) != "X101" || string(second[0].([]byte)) != "0202" || string(first[1].([]byte)) != `{"a":1}` {
		t.Errorf("values share memory: %q %q %q", first[0], second[0], first[1])
	}
}

func TestSpoolToFile(t *testing.T) {
	var b strings.Builder
	b.WriteString(`{"rows":[`)
	const n = 5000
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`{"i":` + itoa(i) + `,"s":"` + strings.Repeat("x", i%300) + `"}`)
	}
	b.WriteString(`],"time":1,"fields":{"i":{"type":"number","pgtype":"int4"},"s":{"type":"string","pgtype":"text"}},"total_rows":` + itoa(n) + `}`)
	r, _, err := readRows(strings.NewReader(b.String()), 4096, "POST", "/")
	if err != nil {
		t.Fatal(err)
	}
	if !r.sp.onDisk() {
		t.Fatal("the spool stayed in memory")
	}
	name := r.sp.file.Name()
	dest := make([]driver.Value, 2)
	for i := range n {
		if err := r.Next(dest); err != nil {
			t.Fatalf("row %d: %v", i, err)
		}
		if dest[0] != int64(i) || len(dest[1].(string)) != i%300 {
			t.Fatalf("row %d = %v", i, dest)
		}
	}
	if err := r.Next(dest); err != io.EOF {
		t.Fatalf("after the last row: %v", err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(name); !os.IsNotExist(err) {
		t.Errorf("temporary file %s still exists: %v", name, err)
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

// The same answers pretty-printed (whitespace everywhere, escapes) decode to the same rows.
func TestDecodePrettyPrinted(t *testing.T) {
	for _, name := range []string{"01-select-types", "44-misc-types"} {
		pretty, err := os.ReadFile(filepath.Join("testdata", "sqlapi", name+".json"))
		if err != nil {
			t.Fatal(err)
		}
		_, want, err := decodeAll(t, sampleBody(t, name), 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		_, got, err := decodeAll(t, pretty, 1<<20)
		if err != nil {
			t.Fatalf("%s pretty: %v", name, err)
		}
		// Raw JSON values keep the answer's whitespace: compact them. NaN never equals itself:
		// compare the text.
		for _, row := range got {
			for i, v := range row {
				if b, ok := v.([]byte); ok {
					if j := jsontext.Value(b); j.IsValid() {
						_ = j.Compact()
						row[i] = []byte(j)
					}
				}
			}
		}
		if fmt.Sprintf("%#v", got) != fmt.Sprintf("%#v", want) {
			t.Errorf("%s: pretty-printed answer decodes to\n%#v\nwant\n%#v", name, got, want)
		}
	}
}

// Members in another order than the fields, escaped names and nested strings with brackets.
func TestDecodeMemberOrder(t *testing.T) {
	body := `{"rows":[{"b":"x]}\"","a":1,"c\u0021":{"k":["}",{"z":"]"}]}}, {"c!":null,"a":2}],
	"fields":{"a":{"type":"number","pgtype":"int4"},"b":{"type":"string","pgtype":"text"},"c!":{"type":"jsonb","pgtype":"jsonb"}},"total_rows":2}`
	_, got, err := decodeAll(t, []byte(body), 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	want := [][]driver.Value{{int64(1), `x]}"`, []byte(`{"k":["}",{"z":"]"}]}`)}, {int64(2), nil, nil}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %#v\nwant %#v", got, want)
	}
}

// CARTO's Node server writes int8 as a double: the largest values (2^63-512 … 2^63-1, such as
// the common sentinel 9223372036854775807) round to 2^63, which it prints 9223372036854776000.
// That is the double nearest to MaxInt64, so it reads as MaxInt64, not as an error.
func TestDecodeInt8RoundedToTwoTo63(t *testing.T) {
	body := `{"rows":[{"max":9223372036854776000,"min":-9223372036854776000,"e":9.223372036854776e+18}],"time":0,
	"fields":{"max":{"type":"number","pgtype":"int8"},"min":{"type":"number","pgtype":"int8"},"e":{"type":"number","pgtype":"int8"}},"total_rows":1}`
	_, got, err := decodeAll(t, []byte(body), 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	if want := []driver.Value{int64(math.MaxInt64), int64(math.MinInt64), int64(math.MaxInt64)}; !reflect.DeepEqual(got[0], want) {
		t.Errorf("got %#v, want %#v", got[0], want)
	}
}

// Two rows members (duplicate names are allowed) give the rows of both, also when the second
// one starts in what the rows scanner read past the first one.
func TestDecodeTwoRowsMembers(t *testing.T) {
	var pad strings.Builder
	for i := range 20000 {
		fmt.Fprintf(&pad, `,"p%d":[%d]`, i, i)
	}
	body := `{"rows":[{"a":1}],"rows":[{"a":2},{"a":3}]` + pad.String() +
		`,"fields":{"a":{"type":"number","pgtype":"int4"}},"total_rows":3}`
	_, got, err := decodeAll(t, []byte(body), 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	want := [][]driver.Value{{int64(1)}, {int64(2)}, {int64(3)}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %#v, want %#v", got, want)
	}
}
