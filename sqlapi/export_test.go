package sqlapi_test

import (
	"archive/zip"
	"bytes"
	"encoding/xml"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/gocarto/carto/cartolocal/cartotest"
	"github.com/gocarto/carto/sqlapi"
)

// exportTables makes the two points of CARTO's samples (untitle_table_4) and a table of polygons.
func exportTables(t *testing.T, acct *cartotest.Account) {
	t.Helper()
	acct.Exec(t, `CREATE TABLE untitle_table_4 (cartodb_id int PRIMARY KEY, name text, the_geom geometry(Point, 4326));
		INSERT INTO untitle_table_4 VALUES (1, 'Hawai', 'SRID=4326;POINT(-3.699732 40.423012)'), (2, 'El Estocolmo', 'SRID=4326;POINT(-3.708969 40.426949)');
		CREATE TABLE areas (cartodb_id int PRIMARY KEY, name text, pop int, the_geom geometry(MultiPolygon, 4326));
		INSERT INTO areas SELECT g, 'area '||g, g*1000, ST_Multi(ST_Buffer(ST_SetSRID(ST_MakePoint(g, g), 4326), 0.4, 2)) FROM generate_series(1, 25) g`)
}

// ogrinfo summarises path's layer with GDAL's ogrinfo: the feature count and geometry type.
func ogrinfo(t *testing.T, path string) (count, geomType string) {
	t.Helper()
	out, err := exec.Command("ogrinfo", "-ro", "-al", "-so", path).CombinedOutput()
	if err != nil {
		t.Fatalf("ogrinfo %s: %v\n%s", path, err, out)
	}
	m := regexp.MustCompile(`(?m)^Feature Count: (\d+)`).FindSubmatch(out)
	g := regexp.MustCompile(`(?m)^Geometry: (.+)$`).FindSubmatch(out)
	if m == nil || g == nil {
		t.Fatalf("ogrinfo %s:\n%s", path, out)
	}
	return string(m[1]), strings.TrimSpace(string(g[1]))
}

// TestExportFormats saves each export format to a file and opens it with ogrinfo: the right rows,
// the right geometry type; the Shapefile zip holds CARTO's five files.
func TestExportFormats(t *testing.T) {
	if _, err := exec.LookPath("ogrinfo"); err != nil {
		t.Fatal("ogrinfo (gdal-bin) is needed: scripts/prereqs.sh installs it")
	}
	acct := cartotest.New(t)
	api := sqlapi.New(acct.Client(t))
	exportTables(t, acct)
	dir := t.TempDir()
	cases := []struct {
		format   sqlapi.Format
		table    string
		count    string
		geomType string
	}{
		{sqlapi.Shapefile, "areas", "25", "Polygon"}, // the Shapefile driver reports multi as Polygon
		{sqlapi.KML, "areas", "25", "Unknown (any)"}, // GDAL's KML reader types no layer
		{sqlapi.GeoPackage, "areas", "25", "Multi Polygon"},
		{sqlapi.SpatiaLite, "areas", "25", "Multi Polygon"},
		{sqlapi.CSV, "areas", "25", "None"},
		{sqlapi.GeoJSON, "areas", "25", "Multi Polygon"},
		{sqlapi.TopoJSON, "areas", "25", "Multi Polygon"},
		{sqlapi.Shapefile, "untitle_table_4", "2", "Point"},
		{sqlapi.GeoPackage, "untitle_table_4", "2", "Point"},
		{sqlapi.SpatiaLite, "untitle_table_4", "2", "Point"},
		{sqlapi.KML, "untitle_table_4", "2", "Unknown (any)"},
		{sqlapi.TopoJSON, "untitle_table_4", "2", "Point"},
	}
	for _, tc := range cases {
		path := filepath.Join(dir, tc.table+"."+tc.format.Extension())
		f, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		res, err := api.Query(testCtx(t), "SELECT * FROM "+tc.table+" ORDER BY cartodb_id", f, sqlapi.WithFormat(tc.format), sqlapi.WithFilename(tc.table))
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			t.Fatalf("%s %s: %v", tc.format, tc.table, err)
		}
		if res.Filename != tc.table+"."+tc.format.Extension() {
			t.Errorf("%s: filename %q", tc.format, res.Filename)
		}
		open := path
		if tc.format == sqlapi.Shapefile {
			zr, err := zip.OpenReader(path)
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, zf := range zr.File {
				names = append(names, zf.Name)
			}
			zr.Close()
			slices.Sort(names)
			want := []string{tc.table + ".cpg", tc.table + ".dbf", tc.table + ".prj", tc.table + ".shp", tc.table + ".shx"}
			if !slices.Equal(names, want) {
				t.Fatalf("zip holds %v, want %v", names, want)
			}
			open = "/vsizip/" + path + "/" + tc.table + ".shp"
		}
		count, geomType := ogrinfo(t, open)
		if count != tc.count || geomType != tc.geomType {
			t.Errorf("%s %s: ogrinfo says %s features of %s, want %s of %s", tc.format, tc.table, count, geomType, tc.count, tc.geomType)
		}
	}
}

// TestExportSamples compares the text formats with CARTO's own answers for the same two points
// (sqlapi-samples 40-format-svg, 40-format-kml and, apart from CARTO's "arcs":[undefined],
// 40-format-topojson).
func TestExportSamples(t *testing.T) {
	acct := cartotest.New(t)
	api := sqlapi.New(acct.PublicClient(t))
	exportTables(t, acct)
	acct.Exec(t, `GRANT SELECT ON untitle_table_4 TO PUBLIC`)
	const q = "select cartodb_id, name, the_geom from untitle_table_4 where cartodb_id in (1,2) order by 1"
	want := map[sqlapi.Format]string{
		sqlapi.SVG: `<?xml version="1.0" standalone="no"?>
<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd">
<svg viewBox="-6 -6 1036 448.44992963038385" style="fill-opacity:0.5; stroke:black; stroke-width:1; fill:none" xmlns="http://www.w3.org/2000/svg" version="1.1">
<circle r="5" cx="1024" cy="436.44993" />
<circle r="5" cx="0" cy="0" />
</svg>
`,
		sqlapi.TopoJSON: `{"type":"Topology","transform":{"scale":[9.2379237923794e-7,3.937393739374461e-7],"translate":[-3.708969,40.423012]},"objects":{"0":{"type":"Point","coordinates":[9999,0],"properties":{"cartodb_id":1,"name":"Hawai"}},"1":{"type":"Point","coordinates":[0,9999],"properties":{"cartodb_id":2,"name":"El Estocolmo"}}},"arcs":[]}`,
		sqlapi.KML: `<?xml version="1.0" encoding="utf-8" ?>
<kml xmlns="http://www.opengis.net/kml/2.2">
<Document id="root_doc">
<Schema name="cartodb_query" id="cartodb_query">
	<SimpleField name="cartodb_id" type="int"></SimpleField>
</Schema>
<Folder><name>cartodb_query</name>
  <Placemark>
	<name>Hawai</name>
	<ExtendedData><SchemaData schemaUrl="#cartodb_query">
		<SimpleData name="cartodb_id">1</SimpleData>
	</SchemaData></ExtendedData>
      <Point><coordinates>-3.699732,40.423012</coordinates></Point>
  </Placemark>
  <Placemark>
	<name>El Estocolmo</name>
	<ExtendedData><SchemaData schemaUrl="#cartodb_query">
		<SimpleData name="cartodb_id">2</SimpleData>
	</SchemaData></ExtendedData>
      <Point><coordinates>-3.708969,40.426949</coordinates></Point>
  </Placemark>
</Folder>
</Document></kml>
`,
	}
	for format, body := range want {
		var buf bytes.Buffer
		res, err := api.Query(testCtx(t), q, &buf, sqlapi.WithFormat(format))
		if err != nil {
			t.Fatalf("%s: %v", format, err)
		}
		if buf.String() != body {
			t.Errorf("%s:\n%s\nwant\n%s", format, buf.String(), body)
		}
		if format == sqlapi.SVG {
			// SVG is not a format GDAL reads: parse it as XML instead.
			d := xml.NewDecoder(&buf)
			circles := 0
			for {
				tok, err := d.Token()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatalf("svg: %v", err)
				}
				if se, ok := tok.(xml.StartElement); ok && se.Name.Local == "circle" {
					circles++
				}
			}
			if circles != 2 || res.ContentType != "image/svg+xml; charset=utf-8" {
				t.Errorf("svg: %d circles, %s", circles, res.ContentType)
			}
		}
	}
}

// TestExportErrors: an export that fails answers 400 before any byte, as on CARTO.
func TestExportErrors(t *testing.T) {
	acct := cartotest.New(t)
	api := sqlapi.New(acct.Client(t))
	for _, f := range []sqlapi.Format{sqlapi.Shapefile, sqlapi.KML, sqlapi.GeoPackage, sqlapi.SpatiaLite, sqlapi.TopoJSON, sqlapi.SVG} {
		var buf bytes.Buffer
		_, err := api.Query(testCtx(t), "SELECT * FROM nope", &buf, sqlapi.WithFormat(f))
		wantCartoError(t, err, 400, `relation "nope" does not exist`)
		if buf.Len() != 0 {
			t.Fatalf("%s: %d bytes written", f, buf.Len())
		}
	}
}
