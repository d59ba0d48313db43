package sqlapi

import (
	"math"
	"net/url"
	"testing"

	"github.com/gocarto/carto/cartolocal/internal/httpapi"
)

func TestSanitizeFilename(t *testing.T) {
	for in, want := range map[string]string{
		"my export(1).csv":  "my_export_1_",
		"a/b/c.tar.gz":      "c.tar",
		"report":            "report",
		".profile":          ".profile",
		"x;y<z>[1]'q'\"\t.": "x_y_z__1__q___",
		"dir/":              "dir",
		"a\u00a0b\u3000c":   "a_b_c",
	} {
		if got := sanitizeFilename(in); got != want {
			t.Errorf("sanitizeFilename(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestJSParseInt(t *testing.T) {
	for in, want := range map[string]float64{"2": 2, " 3x": 3, "-1": -1, "+4": 4, "1e3": 1, "0": 0} {
		if got := jsParseInt(in); got != want {
			t.Errorf("jsParseInt(%q) = %v, want %v", in, got, want)
		}
	}
	for _, in := range []string{"", "x", "-", " "} {
		if got := jsParseInt(in); !math.IsNaN(got) {
			t.Errorf("jsParseInt(%q) = %v, want NaN", in, got)
		}
	}
}

func TestParseSQLParams(t *testing.T) {
	cases := []struct {
		p      httpapi.Params
		query  url.Values
		format string
		inline bool
		err    string
	}{
		{p: httpapi.Params{"q": "select 1"}, format: "json", inline: true},
		{p: httpapi.Params{"q": "select 1", "format": "GeoJSON"}, format: "geojson"},
		{p: httpapi.Params{"q": "select 1", "format": ""}, format: "json", inline: true},
		{p: httpapi.Params{"q": "select 1", "format": []string{"csv", "json"}}, format: "json"},
		{p: httpapi.Params{"q": "select 1", "filename": "x"}, format: "json"},
		{p: httpapi.Params{"q": "select 1", "format": "json"}, query: url.Values{"format": {"json"}}, format: "json"},
		{p: httpapi.Params{}, err: "You must indicate a sql query"},
		{p: httpapi.Params{"q": []string{"a", "b"}}, err: "You must indicate a sql query"},
		{p: httpapi.Params{"q": 5.0}, err: "You must indicate a sql query"},
		{p: httpapi.Params{"q": "x", "format": "xyz"}, err: "Invalid format: xyz"},
		{p: httpapi.Params{"q": "x", "format": 5.0}, err: "Invalid format: undefined"},
		{p: httpapi.Params{"q": "x", "format": "arraybuffer"}, err: "Format arraybuffer is not supported by cartolocal: use json, geojson, csv, shp, kml, svg, spatialite, gpkg or topojson"},
		{p: httpapi.Params{"q": "x", "format": "TopoJSON"}, format: "topojson"},
	}
	for i, tc := range cases {
		sp, aerr := parseSQLParams(tc.p, tc.query)
		if tc.err != "" {
			if aerr == nil || aerr.Message != tc.err || aerr.Status != 400 {
				t.Errorf("%d: got %v, want 400 %q", i, aerr, tc.err)
			}
			continue
		}
		if aerr != nil {
			t.Errorf("%d: %v", i, aerr)
			continue
		}
		if sp.format != tc.format || sp.inline != tc.inline {
			t.Errorf("%d: format %q inline %v, want %q %v", i, sp.format, sp.inline, tc.format, tc.inline)
		}
	}
	big := make([]byte, maxQueryBytes+1)
	for i := range big {
		big[i] = ' '
	}
	if _, aerr := parseSQLParams(httpapi.Params{"q": string(big)}, nil); aerr == nil || aerr.Status != 400 {
		t.Errorf("q over 1 MB: %v", aerr)
	}
	sp, _ := parseSQLParams(httpapi.Params{"q": "x", "skipfields": "t, the_geom,u", "dp": 0.0, "rows_per_page": "2", "page": "1"}, nil)
	if len(sp.skipfields) != 3 || sp.skipfields[1] != " the_geom" || sp.dp != "6" || sp.limit != 2 || sp.offset != 2 {
		t.Errorf("parsed %+v", sp)
	}
}
