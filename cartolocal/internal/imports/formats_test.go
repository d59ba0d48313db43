package imports_test

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// The fixtures are made here, by hand or by GDAL's ogr2ogr from these: four European capitals
// (coordinates rounded from OpenStreetMap), two polygons and a line drawn around them.

const capitalsCSV = "name,lat,lon,population,founded\n" +
	"Madrid,40.4168,-3.7038,3223000,1561-05-08\n" +
	"Paris,48.8566,2.3522,2161000,0508-01-01\n" +
	"Lisbon,38.7223,-9.1393,545000,1255-01-01\n"

const areasGeoJSON = `{"type":"FeatureCollection","features":[
{"type":"Feature","properties":{"Area Name":"Iberia","rank":1},"geometry":{"type":"Polygon","coordinates":[[[-9.5,36],[3.3,36],[3.3,43.8],[-9.5,43.8],[-9.5,36]]]}},
{"type":"Feature","properties":{"Area Name":"France","rank":2},"geometry":{"type":"Polygon","coordinates":[[[-4.8,42.3],[8.2,42.3],[8.2,51.1],[-4.8,51.1],[-4.8,42.3]]]}}]}`

const pointsJSON = `{"type":"FeatureCollection","features":[
{"type":"Feature","properties":{"city":"Madrid"},"geometry":{"type":"Point","coordinates":[-3.7038,40.4168]}},
{"type":"Feature","properties":{"city":"Paris"},"geometry":{"type":"Point","coordinates":[2.3522,48.8566]}}]}`

const routeKML = `<?xml version="1.0" encoding="UTF-8"?>
<kml xmlns="http://www.opengis.net/kml/2.2"><Document><name>route</name>
<Placemark><name>Madrid-Paris</name><LineString><coordinates>-3.7038,40.4168 2.3522,48.8566</coordinates></LineString></Placemark>
<Placemark><name>Paris-Lisbon</name><LineString><coordinates>2.3522,48.8566 -9.1393,38.7223</coordinates></LineString></Placemark>
</Document></kml>`

const tripGPX = `<?xml version="1.0" encoding="UTF-8"?>
<gpx version="1.1" creator="gocarto test" xmlns="http://www.topografix.com/GPX/1/1">
<wpt lat="40.4168" lon="-3.7038"><name>Madrid</name></wpt>
<wpt lat="48.8566" lon="2.3522"><name>Paris</name></wpt>
<trk><name>drive</name><trkseg><trkpt lat="40.4168" lon="-3.7038"/><trkpt lat="44.0" lon="-1.0"/><trkpt lat="48.8566" lon="2.3522"/></trkseg></trk>
</gpx>`

// ogr converts src (written to a temporary file named srcName) with ogr2ogr's args into dst
// and returns the directory holding dst.
func ogr(t *testing.T, srcName, src string, args ...string) string {
	t.Helper()
	// Not t.TempDir: its name holds the test's, and GDAL reads "x.xlsx123/..." as inside a zip.
	dir, err := os.MkdirTemp("", "ogr")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	in := filepath.Join(dir, srcName)
	if err := os.WriteFile(in, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	full := append([]string{}, args...)
	for i, a := range full {
		full[i] = strings.ReplaceAll(strings.ReplaceAll(a, "$IN", in), "$DIR", dir)
	}
	if out, err := exec.Command("ogr2ogr", full...).CombinedOutput(); err != nil {
		t.Fatalf("ogr2ogr %v: %v\n%s", full, err, out)
	}
	return dir
}

func zipFiles(t *testing.T, files map[string][]byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		w, err := zw.Create(n)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(files[n])
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func gzipped(t *testing.T, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func tarFiles(t *testing.T, files map[string][]byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for n, b := range files {
		if err := tw.WriteHeader(&tar.Header{Name: n, Mode: 0o644, Size: int64(len(b)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		tw.Write(b)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func read(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// kmlColumns are the columns GDAL's LIBKML driver gives a placemark; "end" is reserved, so
// it becomes "_end".
const kmlColumns = "_end timestamp with time zone, altitudemode text, begin timestamp with time zone, description text, draworder integer, extrude integer, icon text, name text, tessellate integer, timestamp timestamp with time zone, visibility integer"

type formatCase struct {
	file    string
	content func(t *testing.T) []byte
	query   string
	tables  []formatTable
}

type formatTable struct {
	name    string
	columns string // sorted "name type" of the columns besides cartodb_id and the geometries
	geom    string // GeometryType of the_geom, "" for none
	rows    int
}

func TestFormats(t *testing.T) {
	e, acct := newEnv(t, nil)
	cases := []formatCase{
		{file: "capitals.csv", content: func(*testing.T) []byte { return []byte(capitalsCSV) }, tables: []formatTable{
			{"capitals", "founded date, lat double precision, lon double precision, name text, population integer", "POINT", 3}}},
		{file: "capitals tab.tsv", content: func(*testing.T) []byte { return []byte(strings.ReplaceAll(capitalsCSV, ",", "\t")) }, tables: []formatTable{
			{"capitals_tab", "founded date, lat double precision, lon double precision, name text, population integer", "POINT", 3}}},
		{file: "capitals.txt", content: func(*testing.T) []byte { return []byte(strings.ReplaceAll(capitalsCSV, ",", ";")) }, tables: []formatTable{
			{"capitals", "founded date, lat double precision, lon double precision, name text, population integer", "POINT", 3}}},
		{file: "areas.geojson", content: func(*testing.T) []byte { return []byte(areasGeoJSON) }, tables: []formatTable{
			{"areas", "area_name text, rank integer", "MULTIPOLYGON", 2}}},
		{file: "points.json", content: func(*testing.T) []byte { return []byte(pointsJSON) }, tables: []formatTable{
			{"points", "city text", "POINT", 2}}},
		{file: "route.kml", content: func(*testing.T) []byte { return []byte(routeKML) }, tables: []formatTable{
			{"route", kmlColumns, "MULTILINESTRING", 2}}},
		// A kmz is unpacked as the zip it is (Unp::COMPRESSED_EXTENSIONS): its table is named
		// after the KML inside, doc.kml as Google Earth writes it.
		{file: "route.kmz", content: func(t *testing.T) []byte { return zipFiles(t, map[string][]byte{"doc.kml": []byte(routeKML)}) }, tables: []formatTable{
			{"doc", kmlColumns, "MULTILINESTRING", 2}}},
		// gz, tgz (tar.gz) and tar are unpacked; the table is named after the file inside.
		{file: "capitals.csv.gz", content: func(t *testing.T) []byte { return gzipped(t, []byte(capitalsCSV)) }, tables: []formatTable{
			{"capitals", "founded date, lat double precision, lon double precision, name text, population integer", "POINT", 3}}},
		{file: "cities.tgz", content: func(t *testing.T) []byte {
			return gzipped(t, tarFiles(t, map[string][]byte{"data/capitals.csv": []byte(capitalsCSV)}))
		}, tables: []formatTable{
			{"capitals", "founded date, lat double precision, lon double precision, name text, population integer", "POINT", 3}}},
		{file: "cities.tar.gz", content: func(t *testing.T) []byte {
			return gzipped(t, tarFiles(t, map[string][]byte{"areas.geojson": []byte(areasGeoJSON)}))
		}, tables: []formatTable{
			{"areas", "area_name text, rank integer", "MULTIPOLYGON", 2}}},
		{file: "cities.tar", content: func(t *testing.T) []byte { return tarFiles(t, map[string][]byte{"points.json": []byte(pointsJSON)}) }, tables: []formatTable{
			{"points", "city text", "POINT", 2}}},
		// In a zip, a kmz is a file GDAL reads as it is, named after itself.
		{file: "routes.zip", content: func(t *testing.T) []byte {
			return zipFiles(t, map[string][]byte{"madrid/route.kmz": zipFiles(t, map[string][]byte{"doc.kml": []byte(routeKML)})})
		}, tables: []formatTable{{"route", kmlColumns, "MULTILINESTRING", 2}}},
		{file: "areas_shp.zip", content: func(t *testing.T) []byte {
			dir := ogr(t, "areas.geojson", areasGeoJSON, "-f", "ESRI Shapefile", "$DIR/areas.shp", "$IN")
			files := map[string][]byte{}
			for _, ext := range []string{".shp", ".shx", ".dbf", ".prj"} {
				files["areas"+ext] = read(t, filepath.Join(dir, "areas"+ext))
			}
			return zipFiles(t, files)
		}, tables: []formatTable{{"areas", "area_name text, rank integer", "MULTIPOLYGON", 2}}},
		{file: "places.gpkg", content: func(t *testing.T) []byte {
			dir := ogr(t, "areas.geojson", areasGeoJSON, "-f", "GPKG", "$DIR/places.gpkg", "$IN", "-nln", "areas")
			ogr(t, "points.geojson", pointsJSON, "-update", "-f", "GPKG", filepath.Join(dir, "places.gpkg"), "$IN", "-nln", "cities")
			return read(t, filepath.Join(dir, "places.gpkg"))
		}, tables: []formatTable{
			{"places_areas", "area_name text, rank integer", "MULTIPOLYGON", 2},
			{"places_cities", "city text", "POINT", 2}}},
		{file: "trip.gpx", content: func(*testing.T) []byte { return []byte(tripGPX) }, tables: []formatTable{
			{"trip_waypoints", "+ele double precision, name text, time timestamp with time zone", "POINT", 2},
			{"trip_tracks", "+name text, number integer", "MULTILINESTRING", 1},
			{"trip_track_points", "+ele double precision, time timestamp with time zone, track_fid integer, track_seg_id integer, track_seg_point_id integer", "POINT", 3}}},
		{file: "capitals.xlsx", content: func(t *testing.T) []byte {
			dir := ogr(t, "capitals.csv", capitalsCSV, "-f", "XLSX", "$DIR/capitals.xlsx", "$IN", "-oo", "AUTODETECT_TYPE=YES", "-nln", "capitals")
			return read(t, filepath.Join(dir, "capitals.xlsx"))
		}, tables: []formatTable{{"capitals", "founded date, lat double precision, lon double precision, name text, population integer", "POINT", 3}}},
		{file: "capitals.ods", content: func(t *testing.T) []byte {
			dir := ogr(t, "capitals.csv", capitalsCSV, "-f", "ODS", "$DIR/capitals.ods", "$IN", "-oo", "AUTODETECT_TYPE=YES", "-nln", "capitals")
			return read(t, filepath.Join(dir, "capitals.ods"))
		}, tables: []formatTable{{"capitals", "founded date, lat double precision, lon double precision, name text, population integer", "POINT", 3}}},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			m := e.importFile(t, acct, c.file, c.content(t), c.query)
			if int(m["tables_created_count"].(float64)) != len(c.tables) {
				t.Errorf("tables_created_count %v, want %d", m["tables_created_count"], len(c.tables))
			}
			if m["display_name"] != strings.ReplaceAll(c.file, " ", "_") {
				t.Errorf("display_name %v", m["display_name"])
			}
			for i, want := range c.tables {
				if i == 0 && m["table_name"] != want.name {
					t.Errorf("table_name %v, want %s", m["table_name"], want.name)
				}
				e.checkTable(t, acct.User, want)
				// The next case may import a file of the same name: it would get name_1.
				defer e.query(t, `DROP TABLE "`+acct.User+`"."`+want.name+`"`)
			}
		})
	}
}

// checkTable checks an imported table's columns, geometry and rows.
func (e *env) checkTable(t *testing.T, schema string, want formatTable) {
	t.Helper()
	e.checkCartodbfied(t, schema, want.name)
	var rest []string
	for _, c := range strings.Split(e.columnsOf(t, schema, want.name), ", ") {
		switch c {
		case "cartodb_id bigint", "the_geom geometry(Geometry,4326)", "the_geom_webmercator geometry(Geometry,3857)":
		default:
			rest = append(rest, c)
		}
	}
	sort.Strings(rest)
	if sub, ok := strings.CutPrefix(want.columns, "+"); ok {
		// Some of the columns: a GPX layer has two dozen.
		for _, c := range strings.Split(sub, ", ") {
			if !slices.Contains(rest, c) {
				t.Errorf("%s: no column %q (all: %s)", want.name, c, e.columnsOf(t, schema, want.name))
			}
		}
	} else if got := strings.Join(rest, ", "); got != want.columns {
		t.Errorf("%s: columns %q, want %q (all: %s)", want.name, got, want.columns, e.columnsOf(t, schema, want.name))
	}
	qt := `"` + schema + `"."` + want.name + `"`
	if got := e.scalar(t, "SELECT count(*) FROM "+qt); got != itoa(want.rows) {
		t.Errorf("%s: %s rows, want %d", want.name, got, want.rows)
	}
	if want.geom != "" {
		if got := e.scalar(t, "SELECT string_agg(DISTINCT GeometryType(the_geom) || ' ' || ST_SRID(the_geom), ',') FROM "+qt); got != want.geom+" 4326" {
			t.Errorf("%s: geometries %s, want %s 4326", want.name, got, want.geom)
		}
		if got := e.scalar(t, "SELECT count(*) FROM "+qt+" WHERE the_geom IS NULL"); got != "0" {
			t.Errorf("%s: %s rows without geometry", want.name, got)
		}
	}
	if got := e.scalar(t, "SELECT string_agg(cartodb_id::text, ',' ORDER BY cartodb_id) = string_agg(g::text, ',' ORDER BY g) FROM "+qt+", generate_series(1, (SELECT count(*) FROM "+qt+")) g WHERE g = cartodb_id"); got != "true" {
		t.Errorf("%s: cartodb_id is not 1..n", want.name)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
