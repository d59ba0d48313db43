package jsjson

import (
	"math"
	"testing"
)

func TestAppendJSFloat(t *testing.T) {
	for _, tc := range []struct {
		in   float64
		want string
	}{
		{1.5, "1.5"}, {3.141592653589793, "3.141592653589793"}, {42, "42"}, {math.Copysign(0, -1), "0"}, {0, "0"},
		{1e21, "1e+21"}, {1e20, "100000000000000000000"}, {1e-7, "1e-7"}, {1.5e-7, "1.5e-7"},
		{0.000001, "0.000001"}, {1.2345678901234568e+29, "1.2345678901234568e+29"},
		{math.NaN(), `"NaN"`}, {math.Inf(1), `"Infinity"`}, {math.Inf(-1), `"-Infinity"`},
		{point3(), "0.30000000000000004"}, {-2.5e-300, "-2.5e-300"},
	} {
		if got := string(AppendFloat(nil, tc.in)); got != tc.want {
			t.Errorf("AppendFloat(%v) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

func TestAppendJSBytesInvalidUTF8(t *testing.T) {
	got := string(AppendBytes(nil, []byte("a\xffb")))
	if got != "\"a\uFFFDb\"" {
		t.Errorf("got %q", got)
	}
}

// point3 is 0.1+0.2 computed at run time (constants would fold to 0.3 exactly).
func point3() float64 {
	a, b := 0.1, 0.2
	return a + b
}
