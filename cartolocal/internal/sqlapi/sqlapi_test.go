package sqlapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gocarto/carto/cartolocal/cartotest"
)

// sqlResp is one raw answer of the SQL API.
type sqlResp struct {
	status int
	header http.Header
	body   string
}

func sqlURL(acct *cartotest.Account) string { return acct.URL + "api/v2/sql" }

// sqlGet sends GET /api/v2/sql with the given parameters (key included by the caller).
func sqlGet(t *testing.T, acct *cartotest.Account, kv ...string) sqlResp {
	t.Helper()
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Add(kv[i], kv[i+1])
	}
	req, err := http.NewRequest(http.MethodGet, sqlURL(acct)+"?"+v.Encode(), nil)
	if err != nil {
		t.Fatal(err)
	}
	return doSQL(t, req)
}

// sqlMaster is sqlGet with the master key.
func sqlMaster(t *testing.T, acct *cartotest.Account, q string, kv ...string) sqlResp {
	t.Helper()
	return sqlGet(t, acct, append([]string{"q", q, "api_key", acct.MasterKey}, kv...)...)
}

func doSQL(t *testing.T, req *http.Request) sqlResp {
	t.Helper()
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("reading the body: %v", err)
	}
	return sqlResp{status: res.StatusCode, header: res.Header, body: string(b)}
}

var timeRE = regexp.MustCompile(`"time":[0-9.e+-]+`)

// maskTime replaces the "time" value, the one part of a body that varies from run to run.
func maskTime(s string) string { return timeRE.ReplaceAllString(s, `"time":0`) }

// expect checks status and body (time masked).
func expect(t *testing.T, r sqlResp, status int, body string) {
	t.Helper()
	if r.status != status || maskTime(r.body) != maskTime(body) {
		t.Errorf("got %d\n%s\nwant %d\n%s", r.status, r.body, status, body)
	}
}

// The carto_types table of CARTO's samples (01, 03, 04, 30, 99c).
const cartoTypesDDL = `
CREATE TABLE carto_types (
	cartodb_id int4 PRIMARY KEY, i2 int2, i4 int4, i8 int8, f4 float4, f8 float8, num numeric,
	t text, vc varchar, ch char(3), b bool, d date, ts timestamp, tstz timestamptz, tm time,
	iv interval, j json, jb jsonb, arr_i int4[], arr_t text[], u uuid, by bytea,
	the_geom geometry(Geometry,4326), poly geometry(Polygon,4326), geog geography(Point,4326));
INSERT INTO carto_types VALUES
	(1, 1, 42, 9007199254740993, 1.5, pi(), 12345.6789, 'hello "world"', 'vc', 'abc', true,
	 '2020-02-29', '2020-02-29 13:14:15.123456', '2020-02-29 13:14:15.123456+02', '13:14:15',
	 '1 day 2 hours 3 minutes 4 seconds', '{"a":1,"b":[1,2]}', '{"z": true}', '{1,2,3}', '{x,"y z"}',
	 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '\xdeadbeef', 'SRID=4326;POINT(-3.7 40.4)',
	 'SRID=4326;POLYGON((0 0,1 0,1 1,0 1,0 0))', 'SRID=4326;POINT(2.17 41.38)'),
	(2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
	 NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);`

// Sample 01 byte for byte, but for int8: cartolocal keeps its digits (9007199254740993) where
// CARTO's Node server rounds to a double.
const sample01 = `{"rows":[{"cartodb_id":1,"i2":1,"i4":42,"i8":9007199254740993,"f4":1.5,"f8":3.141592653589793,"num":12345.6789,"t":"hello \"world\"","vc":"vc","ch":"abc","b":true,"d":"2020-02-29T00:00:00Z","ts":"2020-02-29T13:14:15Z","tstz":"2020-02-29T11:14:15Z","tm":"13:14:15","iv":{"days":1,"hours":2,"minutes":3,"seconds":4},"j":{"a":1,"b":[1,2]},"jb":{"z":true},"arr_i":[1,2,3],"arr_t":["x","y z"],"u":"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11","by":{"type":"Buffer","data":[222,173,190,239]},"the_geom":"0101000020E61000009A99999999990DC03333333333334440","poly":"0103000020E6100000010000000500000000000000000000000000000000000000000000000000F03F0000000000000000000000000000F03F000000000000F03F0000000000000000000000000000F03F00000000000000000000000000000000","geog":"0101000020E61000005C8FC2F5285C0140713D0AD7A3B04440"},{"cartodb_id":2,"i2":null,"i4":null,"i8":null,"f4":null,"f8":null,"num":null,"t":null,"vc":null,"ch":null,"b":null,"d":null,"ts":null,"tstz":null,"tm":null,"iv":null,"j":null,"jb":null,"arr_i":null,"arr_t":null,"u":null,"by":null,"the_geom":null,"poly":null,"geog":null}],"time":0.002,"fields":{"cartodb_id":{"type":"number","pgtype":"int4"},"i2":{"type":"number","pgtype":"int2"},"i4":{"type":"number","pgtype":"int4"},"i8":{"type":"number","pgtype":"int8"},"f4":{"type":"number","pgtype":"float4"},"f8":{"type":"number","pgtype":"float8"},"num":{"type":"number","pgtype":"numeric"},"t":{"type":"string","pgtype":"text"},"vc":{"type":"string","pgtype":"varchar"},"ch":{"type":"string","pgtype":"bpchar"},"b":{"type":"boolean","pgtype":"bool"},"d":{"type":"date","pgtype":"date"},"ts":{"type":"date","pgtype":"timestamp"},"tstz":{"type":"date","pgtype":"timestamptz"},"tm":{"type":"date","pgtype":"time"},"iv":{"type":"number","pgtype":"interval"},"j":{"type":"JSON","pgtype":"JSON"},"jb":{"type":"jsonb","pgtype":"jsonb"},"arr_i":{"type":"number[]","pgtype":"_int4"},"arr_t":{"type":"string[]","pgtype":"_text"},"u":{"type":"uuid","pgtype":"uuid"},"by":{"type":"bytea","pgtype":"bytea"},"the_geom":{"type":"geometry","wkbtype":"Unknown","dims":2,"srid":4326},"poly":{"type":"geometry","wkbtype":"Polygon","dims":2,"srid":4326},"geog":{"type":"geography","wkbtype":"Point","dims":2,"srid":4326}},"total_rows":2}`

func TestSQLTypesSample01(t *testing.T) {
	acct := cartotest.New(t)
	acct.Exec(t, cartoTypesDDL)
	r := sqlMaster(t, acct, "SELECT * FROM carto_types ORDER BY cartodb_id")
	expect(t, r, 200, sample01)
	for k, want := range map[string]string{
		"Content-Type":                  "application/json; charset=utf-8",
		"Access-Control-Allow-Origin":   "*",
		"Access-Control-Allow-Headers":  "*",
		"Access-Control-Expose-Headers": "*",
		"Carto-User":                    acct.User,
	} {
		if got := r.header.Get(k); got != want {
			t.Errorf("%s: %q, want %q", k, got, want)
		}
	}
	// carto_types has no CDB_TableMetadata row: max-age runs to the next 5-minute boundary.
	fallbackControl(t, "sample 01", r.header.Get("Cache-Control"))
	if cd := r.header.Get("Content-Disposition"); !regexp.MustCompile(`^inline; filename=cartodb-query\.json; modification-date="[A-Z][a-z]{2}, \d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d GMT";$`).MatchString(cd) {
		t.Errorf("Content-Disposition %q", cd)
	}
	if te := r.header.Get("Content-Length"); te != "" {
		t.Errorf("a streamed answer has no Content-Length, got %s", te)
	}

	// Sample 03 (geojson), 99c (geojson property types), 30 (skipfields), 04 (csv).
	expect(t, sqlMaster(t, acct, "SELECT cartodb_id, t, b, d, the_geom FROM carto_types ORDER BY cartodb_id", "format", "geojson"), 200,
		`{"type": "FeatureCollection", "features": [{"type":"Feature","geometry":{"type":"Point","coordinates":[-3.7,40.4]},"properties":{"cartodb_id":1,"t":"hello \"world\"","b":true,"d":"2020-02-29T00:00:00Z"}},{"type":"Feature","geometry":null,"properties":{"cartodb_id":2,"t":null,"b":null,"d":null}}]}`)
	expect(t, sqlMaster(t, acct, "SELECT cartodb_id, i8, num, ts, tstz, j, arr_t, by, the_geom, poly FROM carto_types ORDER BY cartodb_id", "format", "geojson"), 200,
		`{"type": "FeatureCollection", "features": [{"type":"Feature","geometry":{"type":"Point","coordinates":[-3.7,40.4]},"properties":{"cartodb_id":1,"i8":9007199254740993,"num":12345.6789,"ts":"2020-02-29T13:14:15Z","tstz":"2020-02-29T11:14:15Z","j":{"a":1,"b":[1,2]},"arr_t":["x","y z"],"by":{"type":"Buffer","data":[222,173,190,239]},"poly":"0103000020E6100000010000000500000000000000000000000000000000000000000000000000F03F0000000000000000000000000000F03F000000000000F03F0000000000000000000000000000F03F00000000000000000000000000000000"}},{"type":"Feature","geometry":null,"properties":{"cartodb_id":2,"i8":null,"num":null,"ts":null,"tstz":null,"j":null,"arr_t":null,"by":null,"poly":null}}]}`)
	expect(t, sqlMaster(t, acct, "select cartodb_id, t, b, the_geom from carto_types order by 1", "skipfields", "t,the_geom"), 200,
		`{"rows":[{"cartodb_id":1,"b":true},{"cartodb_id":2,"b":null}],"time":0.01,"fields":{"cartodb_id":{"type":"number","pgtype":"int4"},"b":{"type":"boolean","pgtype":"bool"}},"total_rows":2}`)
	r = sqlMaster(t, acct, "SELECT cartodb_id, i8, num, t, b, d, ts, tstz, j, arr_i, the_geom FROM carto_types ORDER BY cartodb_id", "format", "csv")
	expect(t, r, 200, "the_geom,cartodb_id,i8,num,t,b,d,ts,tstz,j,arr_i\r\n"+
		"0101000020E61000009A99999999990DC03333333333334440,1,9007199254740993,12345.6789,\"hello \"\"world\"\"\",true,2020-02-29,2020-02-29 13:14:15.123456,2020-02-29 11:14:15.123456+00,\"{\"\"a\"\":1,\"\"b\"\":[1,2]}\",\"{1,2,3}\"\r\n"+
		",2,,,,,,,,,\r\n")
	if got := r.header.Get("Content-Type"); got != "text/csv; charset=utf-8; header=present" {
		t.Errorf("csv Content-Type %q", got)
	}
	if got := r.header.Get("Content-Disposition"); !strings.HasPrefix(got, "attachment; filename=cartodb-query.csv; ") {
		t.Errorf("csv Content-Disposition %q", got)
	}
}

func TestSQLSamples(t *testing.T) {
	acct := cartotest.New(t)
	acct.Exec(t, `CREATE TABLE txtest (id int PRIMARY KEY, v text); CREATE TYPE mood AS ENUM ('happy', 'sad');
		CREATE TABLE pgtypes_table (geometry_point_4326 geometry(Point,4326), geometry_pointz_4326 geometry(PointZ,4326),
			geometry_pointzm_4326 geometry(PointZM,4326), geometry_multipolygon_3857 geometry(MultiPolygon,3857),
			geography_line_4326 geography(LineString,4326), raster raster)`)
	cases := []struct {
		name   string
		q      string
		kv     []string
		status int
		body   string
	}{
		{"02 select 1", "select 1 as one", nil, 200, `{"rows":[{"one":1}],"time":0.005,"fields":{"one":{"type":"number","pgtype":"int4"}},"total_rows":1}`},
		{"05 syntax error", "selec 1", nil, 400, `{"error":["syntax error at or near \"selec\""]}`},
		{"06 missing table", "select * from no_such_table", nil, 400, `{"error":["relation \"no_such_table\" does not exist"]}`},
		{"08 multi-statement", "select 1 as a; select 2 as b, 'x' as c", nil, 200, `{"rows":[{"a":1},{"b":2,"c":"x"}],"time":0,"fields":{"b":{"type":"number","pgtype":"int4"},"c":{"type":"string","pgtype":"text"}},"total_rows":1}`},
		{"09 hint", "select no_such_fn(1)", nil, 400, `{"error":["function no_such_fn(integer) does not exist"],"hint":"No function matches the given name and argument types. You might need to add explicit type casts."}`},
		{"22 notices", "DO $$ BEGIN RAISE NOTICE 'n1'; RAISE WARNING 'w1'; RAISE INFO 'i1'; RAISE NOTICE 'n2'; END $$; select 1 as one", nil, 200, `{"rows":[{"one":1}],"time":0.002,"fields":{"one":{"type":"number","pgtype":"int4"}},"total_rows":1,"notices":["n1","n2"],"warnings":["w1"],"infos":["i1"]}`},
		{"23 insert", "insert into txtest values (1,'a'),(2,'b')", nil, 200, `{"rows":[],"time":0.004,"fields":{},"total_rows":2}`},
		{"24 insert returning", "insert into txtest values (3,'c') returning *", nil, 200, `{"rows":[{"id":3,"v":"c"}],"time":0.004,"fields":{"id":{"type":"number","pgtype":"int4"},"v":{"type":"string","pgtype":"text"}},"total_rows":1}`},
		{"10 detail", "insert into txtest (id) values (1)", nil, 400, `{"error":["duplicate key value violates unique constraint \"txtest_pkey\""],"detail":"Key (id)=(1) already exists."}`},
		{"25 atomic", "insert into txtest values (10,'x'); select 1/0", nil, 400, `{"error":["division by zero"]}`},
		{"26 after atomic", "select count(*) from txtest where id = 10", nil, 200, `{"rows":[{"count":0}],"time":0,"fields":{"count":{"type":"number","pgtype":"int8"}},"total_rows":1}`},
		{"27 explicit tx", "BEGIN; insert into txtest values (20,'t'); COMMIT; select count(*) from txtest", nil, 200, `{"rows":[{"count":4}],"time":0.001,"fields":{"count":{"type":"number","pgtype":"int8"}},"total_rows":1}`},
		{"28 midstream error", "select 1/(3-i) as r from generate_series(1,5) i", nil, 200, `{"rows":[{"r":0},{"r":1}],"time":0.005,"fields":{"r":{"type":"number","pgtype":"int4"}},"total_rows":2,"error":["division by zero"]}`},
		{"29 paging", "select i from generate_series(1,10) i", []string{"rows_per_page", "2", "page", "1"}, 200, `{"rows":[{"i":3},{"i":4}],"time":0.006,"fields":{"i":{"type":"number","pgtype":"int4"}},"total_rows":2}`},
		{"31 geojson dp", "select 1 as id, ST_SetSRID(ST_MakePoint(1.23456789, 2.3456789),4326) as the_geom", []string{"format", "geojson", "dp", "2"}, 200, `{"type": "FeatureCollection", "features": [{"type":"Feature","geometry":{"type":"Point","coordinates":[1.23,2.35]},"properties":{"id":1}}]}`},
		{"32 geojson no the_geom", "select 1 as id, ST_MakePoint(1,2) as geom", []string{"format", "geojson"}, 400, `{"error":["column \"the_geom\" does not exist"]}`},
		{"33 csv filename", "select 1 as a", []string{"format", "csv", "filename", "my export(1).csv"}, 200, "a,\r\n1\r\n"},
		{"42 order by", "select i from generate_series(1,3) i", []string{"order_by", "i", "sort_order", "desc"}, 200, `{"rows":[{"i":3},{"i":2},{"i":1}],"time":0.001,"fields":{"i":{"type":"number","pgtype":"int4"}},"total_rows":3}`},
		{"43 empty result", "select 1 as a where false", nil, 200, `{"rows":[],"time":0,"fields":{"a":{"type":"number","pgtype":"int4"}},"total_rows":0}`},
		{"44 misc types (bignum keeps its digits)", `select 12.5::money as m, '10.0.0.1'::inet as ip, point(1,2) as pt, int4range(1,5) as r, '<a/>'::xml as x, '10:00+02'::timetz as ttz, 5::oid as o, 'nm'::name as nm, 'NaN'::float8 as nan, 'Infinity'::float8 as inf, 123456789012345678901234567890.123::numeric as bignum, ARRAY['a',NULL]::text[] as ta, ARRAY[true,false] as ba, ARRAY[1.5,2.5]::float8[] as fa, '2020-01-01'::date - 1 as dm`, nil, 200,
			`{"rows":[{"m":"$12.50","ip":"10.0.0.1","pt":{"x":1,"y":2},"r":"[1,5)","x":"<a/>","ttz":"10:00:00+02","o":5,"nm":"nm","nan":"NaN","inf":"Infinity","bignum":123456789012345678901234567890.123,"ta":["a",null],"ba":[true,false],"fa":[1.5,2.5],"dm":"2019-12-31T00:00:00Z"}],"time":0.001,"fields":{"m":{"type":"money","pgtype":"money"},"ip":{"type":"inet","pgtype":"inet"},"pt":{"type":"number","pgtype":"point"},"r":{"type":"number","pgtype":"int4range"},"x":{"type":"xml","pgtype":"xml"},"ttz":{"type":"date","pgtype":"timetz"},"o":{"type":"oid","pgtype":"oid"},"nm":{"type":"name","pgtype":"name"},"nan":{"type":"number","pgtype":"float8"},"inf":{"type":"number","pgtype":"float8"},"bignum":{"type":"number","pgtype":"numeric"},"ta":{"type":"string[]","pgtype":"_text"},"ba":{"type":"boolean[]","pgtype":"_bool"},"fa":{"type":"number[]","pgtype":"_float8"},"dm":{"type":"date","pgtype":"date"}},"total_rows":1}`},
		// Issue 9 item 10: raster columns work, as on CARTO (postgis_raster is installed).
		{"49c typmods", "select geometry_point_4326, geometry_pointz_4326, geometry_pointzm_4326, geometry_multipolygon_3857, geography_line_4326, raster from pgtypes_table", nil, 200,
			`{"rows":[],"time":0.001,"fields":{"geometry_point_4326":{"type":"geometry","wkbtype":"Point","dims":2,"srid":4326},"geometry_pointz_4326":{"type":"geometry","wkbtype":"Point","dims":3,"srid":4326},"geometry_pointzm_4326":{"type":"geometry","wkbtype":"Point","dims":4,"srid":4326},"geometry_multipolygon_3857":{"type":"geometry","wkbtype":"MultiPolygon","dims":2,"srid":3857},"geography_line_4326":{"type":"geography","wkbtype":"LineString","dims":2,"srid":4326},"raster":{"type":"raster","dims":4,"srid":-1}},"total_rows":0}`},
		{"raster value", "select ST_Width(ST_MakeEmptyRaster(3, 2, 0, 0, 1)) as w", nil, 200, `{"rows":[{"w":3}],"time":0,"fields":{"w":{"type":"number","pgtype":"int4"}},"total_rows":1}`},
		{"49d expression geometry", "select ST_SetSRID(ST_MakePoint(1,2),4326) as g, ST_MakePoint(1,2,3) as g3", nil, 200, `{"rows":[{"g":"0101000020E6100000000000000000F03F0000000000000040","g3":"0101000080000000000000F03F00000000000000400000000000000840"}],"time":0.016,"fields":{"g":{"type":"geometry","dims":4,"srid":-1},"g3":{"type":"geometry","dims":4,"srid":-1}},"total_rows":1}`},
		{"49 empty q", "", nil, 200, `{"rows":[],"time":0,"fields":{},"total_rows":0}`},
		{"95 update", "update txtest set v = v || '!' where id < 10", nil, 200, `{"rows":[],"time":0.007,"fields":{},"total_rows":3}`},
		{"96 ddl", "create table ddltest (a int); drop table ddltest", nil, 200, `{"rows":[],"time":0.004,"fields":{},"total_rows":0}`},
		{"97 duplicate columns", "select 1 as a, 2 as a", nil, 200, `{"rows":[{"a":2}],"time":0,"fields":{"a":{"type":"number","pgtype":"int4"}},"total_rows":1}`},
		{"98 delete", "delete from txtest where id = 3", nil, 200, `{"rows":[],"time":0.004,"fields":{},"total_rows":1}`},
		{"99b srids", `select ST_Transform(ST_SetSRID(ST_MakePoint(1,2),4326),3857) as the_geom_webmercator, 'SRID=4326;MULTIPOLYGON(((0 0,1 0,1 1,0 0)))'::geometry as mp, 'SRID=4326;POINT(1 2 3)'::geometry as pz, ST_AsText('SRID=4326;POINT(1 2)'::geometry) as wkt, ST_AsGeoJSON('SRID=4326;POINT(1 2)'::geometry) as gj`, nil, 200,
			`{"rows":[{"the_geom_webmercator":"0101000020110F0000310C4ADA772DFB4066F404ABE12E0B41","mp":"0106000020E6100000010000000103000000010000000400000000000000000000000000000000000000000000000000F03F0000000000000000000000000000F03F000000000000F03F00000000000000000000000000000000","pz":"01010000A0E6100000000000000000F03F00000000000000400000000000000840","wkt":"POINT(1 2)","gj":"{\"type\":\"Point\",\"coordinates\":[1,2]}"}],"time":0.018,"fields":{"the_geom_webmercator":{"type":"geometry","dims":4,"srid":-1},"mp":{"type":"geometry","dims":4,"srid":-1},"pz":{"type":"geometry","dims":4,"srid":-1},"wkt":{"type":"string","pgtype":"text"},"gj":{"type":"string","pgtype":"text"}},"total_rows":1}`},
		{"3857", "select 'SRID=3857;POINT(1 2)'::geometry(Point,3857) as pt, 'SRID=3857;POLYGON((0 0,1 0,1 1,0 0))'::geometry(Polygon,3857) as p, 'SRID=4326;POINT(1 2)'::geography as g", nil, 200,
			`{"rows":[{"pt":"0101000020110F0000000000000000F03F0000000000000040","p":"0103000020110F0000010000000400000000000000000000000000000000000000000000000000F03F0000000000000000000000000000F03F000000000000F03F00000000000000000000000000000000","g":"0101000020E6100000000000000000F03F0000000000000040"}],"time":0,"fields":{"pt":{"type":"geometry","wkbtype":"Point","dims":2,"srid":3857},"p":{"type":"geometry","wkbtype":"Polygon","dims":2,"srid":3857},"g":{"type":"geography","dims":4,"srid":-1}},"total_rows":1}`},
		{"plpgsql error: detail and hint, no context", "DO $$ BEGIN RAISE EXCEPTION 'boom' USING DETAIL = 'd', HINT = 'h'; END $$", nil, 400, `{"error":["boom"],"detail":"d","hint":"h"}`},
		{"late error keeps notices", "DO $$ BEGIN RAISE NOTICE 'n'; END $$; select 1/(2-i) as r from generate_series(1,3) i", nil, 200, `{"rows":[{"r":1}],"time":0,"fields":{"r":{"type":"number","pgtype":"int4"}},"total_rows":1,"error":["division by zero"],"notices":["n"]}`},
		{"geojson skipfields and webmercator", "select 1 as a, 2 as b, ST_SetSRID(ST_MakePoint(1,2),4326) as the_geom, ST_MakePoint(0,0) as the_geom_webmercator", []string{"format", "GeoJSON", "skipfields", "b", "callback", "cb"}, 200,
			`cb({"type": "FeatureCollection", "features": [{"type":"Feature","geometry":{"type":"Point","coordinates":[1,2]},"properties":{"a":1}}]})`},
		{"geojson NaN is null", "select 'NaN'::float8 as n, null::geometry as the_geom", []string{"format", "geojson"}, 200,
			`{"type": "FeatureCollection", "features": [{"type":"Feature","geometry":null,"properties":{"n":null}}]}`},
		{"csv quoting, NULL single column, skipfields", "select 'a;b' as x, null::text as y, 1 as z", []string{"format", "csv", "skipfields", "x,z"}, 200, "y,\r\n,\r\n"},
		{"csv zero rows", "select 1 as a, 2 as the_geom where false", []string{"format", "csv"}, 200, "the_geom,a\r\n"},
		{"csv error before rows", "select * from nowhere", []string{"format", "csv"}, 400, `{"error":["relation \"nowhere\" does not exist"]}`},
		{"select into", "select * into selinto from generate_series(1,3) g", nil, 200, `{"rows":[],"time":0,"fields":{},"total_rows":3}`},
		{"numbers", `select 1e-7::float8 as a, 1e21::float8 as b, '-0'::float8 as c, 0.1::float4 as d, '1.50'::numeric as e, 9223372036854775807::int8 as f, 1234567890.1234567890::numeric as g`, nil, 200,
			`{"rows":[{"a":1e-7,"b":1e+21,"c":0,"d":0.1,"e":1.5,"f":9223372036854775807,"g":1234567890.1234567890}],"time":0,"fields":{"a":{"type":"number","pgtype":"float8"},"b":{"type":"number","pgtype":"float8"},"c":{"type":"number","pgtype":"float8"},"d":{"type":"number","pgtype":"float4"},"e":{"type":"number","pgtype":"numeric"},"f":{"type":"number","pgtype":"int8"},"g":{"type":"number","pgtype":"numeric"}},"total_rows":1}`},
		{"last row description wins", "select 1 as a; insert into txtest values (50, 'z')", nil, 200, `{"rows":[{"a":1}],"time":0,"fields":{"a":{"type":"number","pgtype":"int4"}},"total_rows":1}`},
		{"zero count falls back to rows streamed", "select 1 as a; select 2 as b where false", nil, 200, `{"rows":[{"a":1}],"time":0,"fields":{"b":{"type":"number","pgtype":"int4"}},"total_rows":1}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			expect(t, sqlMaster(t, acct, tc.q, tc.kv...), tc.status, tc.body)
		})
	}

	// 99d: a type cartodb-psql does not know is unknown(OID), without pgtype.
	var oids struct{ Rows []struct{ M, Ma int } }
	decodeJSON(t, sqlMaster(t, acct, "select 'mood'::regtype::oid as m, '_mood'::regtype::oid as ma").body, &oids)
	expect(t, sqlMaster(t, acct, `select 'happy'::mood as m, ARRAY['happy']::mood[] as ma, '(1,2)'::int4range as r2`), 200,
		`{"rows":[{"m":"happy","ma":"{happy}","r2":"empty"}],"time":0.001,"fields":{"m":{"type":"unknown(`+itoa(oids.Rows[0].M)+`)"},"ma":{"type":"unknown(`+itoa(oids.Rows[0].Ma)+`)"},"r2":{"type":"number","pgtype":"int4range"}},"total_rows":1}`)
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

func decodeJSON(t *testing.T, s string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(s), v); err != nil {
		t.Fatalf("%v in %s", err, s)
	}
}

func TestSQLTimeout(t *testing.T) {
	acct := cartotest.New(t)
	r := sqlMaster(t, acct, "SET statement_timeout = 200; select pg_sleep(3)")
	expect(t, r, 429, `{"error":["You are over platform's limits: SQL query timeout error. Refactor your query before running again or contact CARTO support for more details."],"context":"limit","detail":"datasource"}`)
	if r.header.Get("Content-Disposition") != "inline" {
		t.Errorf("error Content-Disposition %q", r.header.Get("Content-Disposition"))
	}
}

func TestSQLKeys(t *testing.T) {
	acct := cartotest.New(t)
	other := cartotest.New(t)
	acct.Exec(t, "CREATE TABLE private_table (a int); INSERT INTO private_table VALUES (1); CREATE TABLE public_table (a int); INSERT INTO public_table VALUES (7); GRANT SELECT ON public_table TO publicuser")
	ok := `{"rows":[{"a":7}],"time":0,"fields":{"a":{"type":"number","pgtype":"int4"}},"total_rows":1}`
	q := "select a from public_table"
	expect(t, sqlGet(t, acct, "q", q), 200, ok)
	expect(t, sqlGet(t, acct, "q", q, "api_key", acct.PublicKey), 200, ok)
	expect(t, sqlGet(t, acct, "q", q, "api_key", "default_public"), 200, ok)
	expect(t, sqlGet(t, acct, "q", q, "api_key", acct.MasterKey), 200, ok)
	expect(t, sqlGet(t, acct, "q", q, "api_key", "nope"), 401, `{"error":["Unauthorized"]}`)
	// Issue 9 item 9: another account's valid key is as unknown as a made-up one (CARTO looks keys
	// up per user), for either of its keys.
	expect(t, sqlGet(t, acct, "q", q, "api_key", other.MasterKey), 401, `{"error":["Unauthorized"]}`)
	expect(t, sqlGet(t, acct, "q", q, "api_key", other.PublicKey), 401, `{"error":["Unauthorized"]}`)
	// 07, 39: the public role reads only what is granted and writes nothing.
	expect(t, sqlGet(t, acct, "q", "select * from private_table"), 403, `{"error":["permission denied for table private_table"]}`)
	expect(t, sqlGet(t, acct, "q", "insert into public_table values (99)"), 403, `{"error":["permission denied for table public_table"]}`)
	expect(t, sqlGet(t, acct, "q", "select * from private_table", "api_key", acct.MasterKey), 200, `{"rows":[{"a":1}],"time":0,"fields":{"a":{"type":"number","pgtype":"int4"}},"total_rows":1}`)

	// 13, 14: Basic auth.
	req, _ := http.NewRequest(http.MethodGet, sqlURL(acct)+"?q=select+current_user+%3D+session_user+as+me", nil)
	req.SetBasicAuth(acct.User, acct.MasterKey)
	expect(t, doSQL(t, req), 200, `{"rows":[{"me":true}],"time":0,"fields":{"me":{"type":"boolean","pgtype":"bool"}},"total_rows":1}`)
	req, _ = http.NewRequest(http.MethodGet, sqlURL(acct)+"?q=select+1", nil)
	req.SetBasicAuth("other", acct.MasterKey)
	r := doSQL(t, req)
	expect(t, r, 403, `{"error":["permission denied"]}`)
	if r.header.Get("Carto-User") != acct.User {
		t.Errorf("Carto-User %q", r.header.Get("Carto-User"))
	}

	// 15: unknown user.
	r = doSQL(t, mustRequest(t, http.MethodGet, strings.Replace(sqlURL(acct), "/user/"+acct.User+"/", "/user/nobody/", 1)+"?q=select+1", nil))
	expect(t, r, 404, `{"error":["Sorry, we can't find CARTO user 'nobody'. Please check that you have entered the correct domain."]}`)
	if r.header.Get("Carto-User") != "nobody" {
		t.Errorf("Carto-User %q", r.header.Get("Carto-User"))
	}
}

func mustRequest(t *testing.T, method, u string, body io.Reader) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

func TestSQLMethodsAndParams(t *testing.T) {
	acct := cartotest.New(t)
	one := `{"rows":[{"three":3}],"time":0,"fields":{"three":{"type":"number","pgtype":"int4"}},"total_rows":1}`

	// 18: form.
	form := url.Values{"q": {"select 3 as three"}, "api_key": {acct.MasterKey}}
	req := mustRequest(t, http.MethodPost, sqlURL(acct), strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	expect(t, doSQL(t, req), 200, one)
	// 19: JSON.
	body, _ := json.Marshal(map[string]string{"q": "select 3 as three", "api_key": acct.MasterKey})
	req = mustRequest(t, http.MethodPost, sqlURL(acct), bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	expect(t, doSQL(t, req), 200, one)
	// 49b: multipart.
	var mp bytes.Buffer
	mw := multipart.NewWriter(&mp)
	_ = mw.WriteField("q", "select 3 as three")
	_ = mw.WriteField("api_key", acct.MasterKey)
	_ = mw.Close()
	req = mustRequest(t, http.MethodPost, sqlURL(acct), &mp)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	expect(t, doSQL(t, req), 200, one)
	// 92: the body wins over the query string.
	req = mustRequest(t, http.MethodPost, sqlURL(acct)+"?q=select+1+as+from_query", strings.NewReader("q=select+3+as+three"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	expect(t, doSQL(t, req), 200, one)
	// 93, 94: other content types are ignored.
	req = mustRequest(t, http.MethodPost, sqlURL(acct), strings.NewReader("q=select 1"))
	req.Header.Set("Content-Type", "text/plain")
	expect(t, doSQL(t, req), 400, `{"error":["You must indicate a sql query"]}`)
	// A malformed JSON body.
	req = mustRequest(t, http.MethodPost, sqlURL(acct), strings.NewReader(`{"q": "select`))
	req.Header.Set("Content-Type", "application/json")
	r := doSQL(t, req)
	if r.status != 400 || !strings.HasPrefix(r.body, `{"error":["`) {
		t.Errorf("malformed JSON: %d %s", r.status, r.body)
	}

	// 16, 17, bad input: CARTO-style errors, and the server keeps serving.
	expect(t, sqlGet(t, acct, "api_key", acct.MasterKey), 400, `{"error":["You must indicate a sql query"]}`)
	expect(t, sqlGet(t, acct, "q", "select 1", "format", "xyz"), 400, `{"error":["Invalid format: xyz"]}`)
	expect(t, sqlGet(t, acct, "q", "select 1", "format", "arraybuffer"), 400, `{"error":["Format arraybuffer is not supported by cartolocal: use json, geojson, csv, shp, kml, svg, spatialite, gpkg or topojson"]}`)
	big := "select 1 as one --" + strings.Repeat("x", 1<<20)
	req = mustRequest(t, http.MethodPost, sqlURL(acct), strings.NewReader(url.Values{"q": {big}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r = doSQL(t, req)
	if r.status != 400 || !strings.HasPrefix(r.body, `{"error":["Your query is too large: `) {
		t.Errorf("q over 1 MB: %d %.200s", r.status, r.body)
	}
	r = doSQL(t, mustRequest(t, http.MethodGet, sqlURL(acct)+"?q=select+%27%ff%27", nil))
	if r.status != 400 || !strings.HasPrefix(r.body, `{"error":["`) {
		t.Errorf("invalid UTF-8: %d %s", r.status, r.body)
	}
	r = doSQL(t, mustRequest(t, http.MethodGet, sqlURL(acct)+"?q=select+%27a%00b%27", nil))
	expect(t, r, 400, `{"error":["invalid byte sequence for encoding \"UTF8\": 0x00"]}`)
	expect(t, sqlGet(t, acct, "q", "select 1 as one"), 200, `{"rows":[{"one":1}],"time":0,"fields":{"one":{"type":"number","pgtype":"int4"}},"total_rows":1}`)

	// 20, 21: JSONP.
	expect(t, sqlGet(t, acct, "q", "select 1 as one", "callback", "cb"), 200, `cb({"rows":[{"one":1}],"time":0.004,"fields":{"one":{"type":"number","pgtype":"int4"}},"total_rows":1})`)
	r = sqlGet(t, acct, "q", "selec 1", "callback", "cb")
	expect(t, r, 200, `/**/ typeof cb === 'function' && cb({"error":["syntax error at or near \"selec\""]});`)
	if r.header.Get("Content-Type") != "text/javascript; charset=utf-8" || r.header.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("JSONP error headers %v", r.header)
	}

	// 36, 41: cache policy, client echo, explicit format is an attachment.
	r = sqlGet(t, acct, "q", "select 1 as one", "cache_policy", "persist", "client", "carto-go")
	if r.header.Get("Cache-Control") != "public,max-age=31536000" || r.header.Get("Carto-Client") != "carto-go" {
		t.Errorf("headers %v", r.header)
	}
	r = sqlGet(t, acct, "q", "select 1 as one", "format", "json")
	if !strings.HasPrefix(r.header.Get("Content-Disposition"), "attachment; filename=cartodb-query.json; ") {
		t.Errorf("Content-Disposition %q", r.header.Get("Content-Disposition"))
	}
	r = sqlMaster(t, acct, "create table w (a int)")
	if r.header.Get("Cache-Control") != "no-cache,max-age=0,must-revalidate,public" {
		t.Errorf("write Cache-Control %q", r.header.Get("Cache-Control"))
	}
	r = sqlGet(t, acct, "q", "select 1 as a", "format", "csv", "filename", "my export(1).csv")
	if !strings.HasPrefix(r.header.Get("Content-Disposition"), "attachment; filename=my_export_1_.csv; modification-date=") {
		t.Errorf("Content-Disposition %q", r.header.Get("Content-Disposition"))
	}

	// 46: OPTIONS preflight.
	res, err := http.DefaultClient.Do(mustRequest(t, http.MethodOptions, sqlURL(acct), nil))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 || res.ContentLength != 0 || res.Header.Get("Access-Control-Allow-Origin") != "*" {
		t.Errorf("OPTIONS: %d %d %v", res.StatusCode, res.ContentLength, res.Header)
	}
	// 34: any version reaches the same handler.
	expect(t, doSQL(t, mustRequest(t, http.MethodGet, acct.URL+"api/v1/sql?q=select+1+as+one", nil)), 200, `{"rows":[{"one":1}],"time":0,"fields":{"one":{"type":"number","pgtype":"int4"}},"total_rows":1}`)
}

// TestSQLErrorAfter1000Rows: an error once rows went out keeps the 200 and lands in the trailer.
func TestSQLErrorAfter1000Rows(t *testing.T) {
	acct := cartotest.New(t)
	r := sqlMaster(t, acct, "select 1/(1001-i) as r from generate_series(1,2000) i")
	if r.status != 200 {
		t.Fatalf("status %d: %.300s", r.status, r.body)
	}
	var out struct {
		Rows      []map[string]int
		TotalRows int `json:"total_rows"`
		Error     []string
	}
	decodeJSON(t, r.body, &out)
	if len(out.Rows) != 1000 || out.TotalRows != 1000 || len(out.Error) != 1 || out.Error[0] != "division by zero" {
		t.Errorf("rows %d total %d error %v", len(out.Rows), out.TotalRows, out.Error)
	}
	if !strings.HasSuffix(r.body, `,"total_rows":1000,"error":["division by zero"]}`) {
		t.Errorf("trailer: %s", r.body[max(0, len(r.body)-120):])
	}
	// geojson carries it too; CSV has no place for it and is cut.
	r = sqlMaster(t, acct, "select i, 1/(1001-i) as r, null::geometry as the_geom from generate_series(1,2000) i", "format", "geojson")
	if r.status != 200 || !strings.HasSuffix(r.body, `}],"error":["division by zero"]}`) {
		t.Errorf("geojson: %d ...%s", r.status, r.body[max(0, len(r.body)-120):])
	}
	res, err := http.Get(sqlURL(acct) + "?" + url.Values{"q": {"select 1/(1001-i) as r from generate_series(1,2000) i"}, "format": {"csv"}, "api_key": {acct.MasterKey}}.Encode())
	if err != nil {
		t.Fatal(err)
	}
	_, err = io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || err == nil {
		t.Errorf("csv with a late error: status %d, read error %v (want a cut body)", res.StatusCode, err)
	}
}

// TestSQLClientAbort: a client that goes away gets its query cancelled on the server.
func TestSQLClientAbort(t *testing.T) {
	acct := cartotest.New(t)
	for i, q := range []string{
		"select pg_sleep(60) as marker_sleep_a1",
		"select i as marker_stream_a2, repeat('x', 100) from generate_series(1, 100000000) i",
		"select pg_sleep(60) as marker_sleep_a3", // POST JSON
	} {
		ctx, cancel := context.WithCancel(context.Background())
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, sqlURL(acct)+"?"+url.Values{"q": {q}, "api_key": {acct.MasterKey}}.Encode(), nil)
		if i == 2 {
			body, _ := json.Marshal(map[string]string{"q": q, "api_key": acct.MasterKey})
			req, _ = http.NewRequestWithContext(ctx, http.MethodPost, sqlURL(acct), bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
		}
		done := make(chan struct{})
		go func() {
			defer close(done)
			res, err := http.DefaultClient.Do(req)
			if err == nil {
				_, _ = io.CopyN(io.Discard, res.Body, 1<<20)
				res.Body.Close()
			}
		}()
		marker := q[strings.Index(q, "marker_"):][:15]
		waitActivity(t, acct, marker, true)
		cancel()
		<-done
		waitActivity(t, acct, marker, false)
	}
	expect(t, sqlMaster(t, acct, "select 1 as one"), 200, `{"rows":[{"one":1}],"time":0,"fields":{"one":{"type":"number","pgtype":"int4"}},"total_rows":1}`)
}

// waitActivity waits until a query containing marker runs (running) or is gone (!running).
func waitActivity(t *testing.T, acct *cartotest.Account, marker string, running bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	pool := acct.Server.AdminPool()
	for {
		var n int
		err := pool.QueryRow(ctx, "SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND query LIKE '%' || $1 || '%' AND pid <> pg_backend_pid()", marker).Scan(&n)
		if err != nil {
			t.Fatalf("pg_stat_activity: %v", err)
		}
		if (n > 0) == running {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("query %s: running=%v never came", marker, running)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// TestSQLConcurrentNotices: requests running at once each get their own rows and notices.
func TestSQLConcurrentNotices(t *testing.T) {
	acct := cartotest.New(t)
	const n = 16
	errs := make(chan string, n)
	for i := range n {
		go func() {
			id := itoa(i)
			q := "DO $$ BEGIN RAISE NOTICE 'from " + id + "'; PERFORM pg_sleep(0.05); END $$; select " + id + " as id"
			u := sqlURL(acct) + "?" + url.Values{"q": {q}, "api_key": {acct.MasterKey}}.Encode()
			res, err := http.Get(u)
			if err != nil {
				errs <- err.Error()
				return
			}
			b, _ := io.ReadAll(res.Body)
			res.Body.Close()
			want := `{"rows":[{"id":` + id + `}],"time":0,"fields":{"id":{"type":"number","pgtype":"int4"}},"total_rows":1,"notices":["from ` + id + `"]}`
			if maskTime(string(b)) != want {
				errs <- string(b)
				return
			}
			errs <- ""
		}()
	}
	for range n {
		if e := <-errs; e != "" {
			t.Error(e)
		}
	}
}

// TestSQLCopyFromStdin: COPY ... FROM STDIN has no data to read through the SQL API. CARTO's
// node-postgres answers the server's CopyInResponse with CopyFail("No source stream defined"),
// so the request fails at once; it must not wait for data that never comes.
func TestSQLCopyFromStdin(t *testing.T) {
	acct := cartotest.New(t)
	acct.Exec(t, "CREATE TABLE copytest (a int)")
	for _, tc := range []struct{ q, body string }{
		{"COPY copytest FROM STDIN", `{"error":["COPY from stdin failed: No source stream defined"]}`},
		{"insert into copytest values (1); copy copytest from stdin; insert into copytest values (2)", `{"error":["COPY from stdin failed: No source stream defined"]}`},
		{"select count(*) as n from copytest", `{"rows":[{"n":0}],"time":0,"fields":{"n":{"type":"number","pgtype":"int8"}},"total_rows":1}`},
		// A CopyFail outside COPY is ignored by the server: the next statements are unaffected.
		{"insert into copytest values (3) returning a", `{"rows":[{"a":3}],"time":0,"fields":{"a":{"type":"number","pgtype":"int4"}},"total_rows":1}`},
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		form := url.Values{"q": {tc.q}, "api_key": {acct.MasterKey}}.Encode()
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, sqlURL(acct), strings.NewReader(form))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			cancel()
			t.Fatalf("%s: %v", tc.q, err)
		}
		b, err := io.ReadAll(res.Body)
		res.Body.Close()
		cancel()
		if err != nil {
			t.Fatalf("%s: %v", tc.q, err)
		}
		status := 200
		if strings.HasPrefix(tc.body, `{"error"`) {
			status = 400
		}
		expect(t, sqlResp{status: res.StatusCode, body: string(b)}, status, tc.body)
	}
}
