package pgvalue

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/gocarto/carto/cartolocal/internal/jsjson"
)

func TestScalarValues(t *testing.T) {
	var e Encoder
	for _, tc := range []struct {
		oid  uint32
		in   string
		want string
	}{
		{23, "42", "42"},
		{20, "9007199254740993", "9007199254740993"}, // all the digits
		{1700, "12345.6789", "12345.6789"},
		{1700, "123456789012345678901234567890.123", "123456789012345678901234567890.123"},
		{1700, "NaN", `"NaN"`},
		{1700, "1.50", "1.5"},
		{1700, "0.0000001", "1e-7"},
		{1700, "100000000000000000000000", "1e+23"},
		{1700, "123456789012345.0", "123456789012345"},
		{1700, "1234567890123456", "1234567890123456"},
		{1700, "-0.10", "-0.1"},
		{1700, "1" + strings.Repeat("0", 400), "1" + strings.Repeat("0", 400)},
		{1700, "0." + strings.Repeat("0", 400) + "1", "0." + strings.Repeat("0", 400) + "1"},
		{1700, "0.00", "0"},
		{1231, "{1.50,NULL,12345678901234567890}", "[1.5,null,12345678901234567890]"},
		{701, "NaN", `"NaN"`},
		{701, "-Infinity", `"-Infinity"`},
		{700, "1.1", "1.1"},
		{701, "1e+100", "1e+100"},
		{16, "t", "true"},
		{16, "f", "false"},
		{25, `hello "world"`, `"hello \"world\""`},
		{25, "tab\there\nnl\u0001", `"tab\there\nnl\u0001"`},
		{25, "ünï\u2028", "\"ünï\u2028\""},
		{1082, "2020-02-29", `"2020-02-29T00:00:00Z"`},
		{1082, "2019-12-31", `"2019-12-31T00:00:00Z"`},
		{1082, "0005-01-01", `"5-01-01T00:00:00Z"`},
		{1082, "0001-01-01 BC", `"0-01-01T00:00:00Z"`},
		{1082, "infinity", `"Infinity"`},
		{1114, "2020-02-29 13:14:15.123456", `"2020-02-29T13:14:15Z"`},
		{1114, "-infinity", `"-Infinity"`},
		{1184, "2020-02-29 11:14:15.123456+00", `"2020-02-29T11:14:15Z"`},
		{1184, "2020-02-29 13:14:15+02", `"2020-02-29T11:14:15Z"`},
		{1184, "2020-02-29 13:14:15-03:30", `"2020-02-29T16:44:15Z"`},
		{1184, "1900-01-01 00:00:00+00:09:21", `"1899-12-31T23:50:39Z"`},
		{1083, "13:14:15", `"13:14:15"`},
		{1266, "10:00:00+02", `"10:00:00+02"`},
		{1186, "1 day 02:03:04", `{"days":1,"hours":2,"minutes":3,"seconds":4}`},
		{1186, "1 year 2 mons", `{"years":1,"months":2}`},
		{1186, "-00:00:01.5", `{"seconds":-1,"milliseconds":-500}`},
		{1186, "00:00:00.000123", `{"milliseconds":0.123}`},
		{1186, "00:00:00", `{}`},
		{1186, "-1 days +02:03:00", `{"days":-1,"hours":2,"minutes":3}`},
		{114, `{"a": 1, "b": [1, 2]}`, `{"a":1,"b":[1,2]}`},
		{3802, `{"s": "a b", "t": "q\" x"}`, `{"s":"a b","t":"q\" x"}`},
		{17, `\xdeadbeef`, `{"type":"Buffer","data":[222,173,190,239]}`},
		{17, `\x`, `{"type":"Buffer","data":[]}`},
		{17, `a\\b\001`, `{"type":"Buffer","data":[97,92,98,1]}`},
		{600, "(1,2)", `{"x":1,"y":2}`},
		{718, "<(1,2),3>", `{"x":1,"y":2,"radius":3}`},
		{2950, "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", `"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"`},
		{3904, "[1,5)", `"[1,5)"`},
		{1007, "{1,2,3}", "[1,2,3]"},
		{1009, `{x,"y z"}`, `["x","y z"]`},
		{1009, "{a,NULL}", `["a",null]`},
		{1009, `{"NULL","\"q\"","b\\s"}`, `["NULL","\"q\"","b\\s"]`},
		{1009, "{}", "[]"},
		{1007, "{{1,2},{3,4}}", "[[1,2],[3,4]]"},
		{1007, "[0:1]={7,8}", "[7,8]"},
		{1000, "{t,f}", "[true,false]"},
		{1022, "{1.5,2.5,NaN}", `[1.5,2.5,"NaN"]`},
		{1016, "{9007199254740993}", "[9007199254740993]"},
		{1182, "{2020-01-01,NULL}", `["2020-01-01T00:00:00Z",null]`},
		{1185, `{"2020-01-01 10:00:00+00"}`, `["2020-01-01T10:00:00Z"]`},
		{1001, `{"\\xdead"}`, `[{"type":"Buffer","data":[222,173]}]`},
		{3807, `{"{\"a\": 1}"}`, `[{"a":1}]`},
		{1017, `{"(1,2)"}`, `[{"x":1,"y":2}]`},
		{3905, "{\"[1,3)\"}", `"{\"[1,3)\"}"`}, // unknown element type: the literal
		{99999, "{happy}", `"{happy}"`},
	} {
		got := string(e.AppendValue(nil, CodecFor(tc.oid), []byte(tc.in)))
		if got != tc.want {
			t.Errorf("oid %d %q: got %s, want %s", tc.oid, tc.in, got, tc.want)
		}
	}
	if got := string(e.AppendValue(nil, CodecFor(23), nil)); got != "null" {
		t.Errorf("NULL: got %s", got)
	}
}

func TestIsPlainShortest(t *testing.T) {
	// Whenever the fast path takes a text, it must be what parse-and-format gives.
	for _, in := range []string{"1.5", "3.141592653589793", "0.0001", "-2.25", "100", "0", "-0", "1e-05", "0.10000000000000001",
		"1.50", "123456789012345", "1234567890123456", "0.0000001", "0.000001", "0.0000012", "1.", ".5", "NaN", "-Infinity", "0.1", "-0.000", "12345678.5"} {
		slow := string(jsjson.AppendFloat(nil, parseJSFloat([]byte(in))))
		if isPlainShortest([]byte(in)) && slow != in {
			t.Errorf("fast path takes %q but JavaScript prints %s", in, slow)
		}
		var e Encoder
		if got := string(e.AppendValue(nil, CodecFor(701), []byte(in))); got != slow {
			t.Errorf("float8 %q: got %s, want %s", in, got, slow)
		}
	}
}

func TestGeoJSONEncoderNaNIsNull(t *testing.T) {
	e := Encoder{NaNNull: true}
	for _, tc := range []struct {
		oid      uint32
		in, want string
	}{
		{701, "NaN", "null"}, {701, "Infinity", "null"}, {1700, "NaN", "null"}, {1082, "infinity", "null"},
		{1022, "{1,NaN}", "[1,null]"}, {701, "2.5", "2.5"},
	} {
		if got := string(e.AppendValue(nil, CodecFor(tc.oid), []byte(tc.in))); got != tc.want {
			t.Errorf("oid %d %q: got %s, want %s", tc.oid, tc.in, got, tc.want)
		}
	}
}

// FuzzAppendValue: whatever text arrives for whatever type, the output is one valid JSON value.
func FuzzAppendValue(f *testing.F) {
	for _, seed := range []string{"{1,2}", `{"a\\"b",NULL}`, "2020-01-01 10:00:00+05:30", "1 year -2 mons +3 days -04:05:06.7",
		`\x0a`, "<(1,2),3>", "(1,2)", `{"a": [1, "x y"]}`, "NaN", "1e-7", "[1:2]={1,2}", "{{a},{b}}", "0001-01-01 00:00:00+00 BC"} {
		for _, oid := range []uint32{23, 701, 1700, 16, 1082, 1184, 1186, 3802, 17, 600, 718, 1007, 1009, 1022, 1182, 1001, 1017, 3807, 25} {
			f.Add(oid, []byte(seed))
		}
	}
	f.Fuzz(func(t *testing.T, oid uint32, in []byte) {
		c := CodecFor(oid)
		if c.kind == kindInt || c.kind == kindNumeric || c.kind == kindJSON || (c.kind == kindArray && (c.elem == kindInt || c.elem == kindNumeric || c.elem == kindJSON)) {
			// Passed through as PostgreSQL wrote them: only PostgreSQL's own texts are valid input.
			return
		}
		for _, NaNNull := range []bool{false, true} {
			e := Encoder{NaNNull: NaNNull}
			out := e.AppendValue(nil, c, in)
			if !json.Valid(out) {
				t.Fatalf("oid %d %q -> invalid JSON %s", oid, in, out)
			}
		}
	})
}
