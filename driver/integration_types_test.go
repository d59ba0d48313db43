package driver

import (
	"context"
	"database/sql"
	"encoding/json"
	"math"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"github.com/gocarto/carto/geo"
)

func TestQueryTypesCartolocal(t *testing.T) {
	db, acct := openDB(t)
	acct.Exec(t, `CREATE TABLE typed (
		id serial PRIMARY KEY, i2 int2, i4 int4, i8 int8, f4 float4, f8 float8, num numeric, t text,
		vc varchar(10), ch char(3), b bool, d date, ts timestamp, tstz timestamptz, tm time, j json,
		jb jsonb, ai int4[], at text[], u uuid, by bytea, iv interval,
		the_geom geometry(Point, 4326), poly geometry(Polygon, 4326), geog geography(Point, 4326))`)
	acct.Exec(t, `INSERT INTO typed (i2, i4, i8, f4, f8, num, t, vc, ch, b, d, ts, tstz, tm, j, jb, ai, at, u, by, iv, the_geom, poly, geog)
		VALUES (1, 42, 9007199254740993, 1.5, 'NaN', 12345678901234567890.123456789, 'hello "world"', 'vc', 'abc', true,
		'2020-02-29', '2020-02-29 13:14:15.5', '2020-02-29 13:14:15+02', '13:14:15', '{"a":1,"b":[1,2]}', '{"z":true}',
		'{1,2,3}', '{"x","y z",NULL}', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '\xdeadbeef', '1 day 02:03:04',
		'SRID=4326;POINT(-3.7 40.4)', 'SRID=4326;POLYGON((0 0,1 0,1 1,0 0))', 'SRID=4326;POINT(2.17 41.38)'),
		(NULL, NULL, NULL, NULL, '-Infinity', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)`)

	rows, err := db.QueryContext(context.Background(), "SELECT * FROM typed ORDER BY id")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, _ := rows.ColumnTypes()
	wantTypes := []string{"INT4", "INT2", "INT4", "INT8", "FLOAT4", "FLOAT8", "NUMERIC", "TEXT", "VARCHAR", "BPCHAR", "BOOL",
		"DATE", "TIMESTAMP", "TIMESTAMPTZ", "TIME", "JSON", "JSONB", "_INT4", "_TEXT", "UUID", "BYTEA", "INTERVAL",
		"GEOMETRY", "GEOMETRY", "GEOGRAPHY"}
	for i, c := range cols {
		if i < len(wantTypes) && c.DatabaseTypeName() != wantTypes[i] {
			t.Errorf("column %s: type %q, want %q", c.Name(), c.DatabaseTypeName(), wantTypes[i])
		}
	}
	var (
		id, i2, i4, i8   int64
		f4, f8           float64
		num, txt, vc, ch string
		b                bool
		d, ts, tstz      time.Time
		tm               string
		j, jb            json.RawMessage
		ai, at           []byte
		u                string
		by               []byte
		iv               string
		pt, poly         geo.Geometry
		geog             geo.Geometry
	)
	if !rows.Next() {
		t.Fatal(rows.Err())
	}
	if err := rows.Scan(&id, &i2, &i4, &i8, &f4, &f8, &num, &txt, &vc, &ch, &b, &d, &ts, &tstz, &tm, &j, &jb, &ai, &at, &u, &by, &iv, &pt, &poly, &geog); err != nil {
		t.Fatal(err)
	}
	t.Logf("i8=%d num=%s ts=%v tstz=%v iv=%s ai=%s at=%s", i8, num, ts, tstz, iv, ai, at)
	if i2 != 1 || i4 != 42 || i8 != 9007199254740993 {
		t.Errorf("ints %d %d %d", i2, i4, i8)
	}
	if f4 != 1.5 || !math.IsNaN(f8) {
		t.Errorf("floats %v %v", f4, f8)
	}
	if num != "12345678901234567890.123456789" {
		t.Errorf("numeric %q", num)
	}
	if txt != `hello "world"` || vc != "vc" || ch != "abc" || !b || u != "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11" || tm != "13:14:15" {
		t.Errorf("text %q %q %q %v %q %q", txt, vc, ch, b, u, tm)
	}
	if !d.Equal(time.Date(2020, 2, 29, 0, 0, 0, 0, time.UTC)) || !tstz.Equal(time.Date(2020, 2, 29, 11, 14, 15, 0, time.UTC)) {
		t.Errorf("dates %v %v", d, tstz)
	}
	if string(j) != `{"a":1,"b":[1,2]}` || string(jb) != `{"z": true}` && string(jb) != `{"z":true}` {
		t.Errorf("json %s %s", j, jb)
	}
	var ints []int
	var texts []*string
	if err := json.Unmarshal(ai, &ints); err != nil || len(ints) != 3 {
		t.Errorf("int4[] %s: %v", ai, err)
	}
	if err := json.Unmarshal(at, &texts); err != nil || len(texts) != 3 || texts[2] != nil {
		t.Errorf("text[] %s: %v", at, err)
	}
	if string(by) != "\xde\xad\xbe\xef" {
		t.Errorf("bytea %x", by)
	}
	if p, ok := pt.Geom.(orb.Point); !ok || pt.SRID != 4326 || p != (orb.Point{-3.7, 40.4}) {
		t.Errorf("point %#v", pt)
	}
	if _, ok := poly.Geom.(orb.Polygon); !ok {
		t.Errorf("polygon %#v", poly)
	}
	if _, ok := geog.Geom.(orb.Point); !ok || geog.SRID != 4326 {
		t.Errorf("geography %#v", geog)
	}

	// The NULL row.
	if !rows.Next() {
		t.Fatal(rows.Err())
	}
	var (
		ni8  sql.NullInt64
		nf8  sql.NullFloat64
		ns   sql.NullString
		nb   sql.NullBool
		nt   sql.NullTime
		ng   geo.Geometry
		nby  []byte
		skip any
	)
	dest := make([]any, len(cols))
	for i := range dest {
		dest[i] = &skip
	}
	dest[3], dest[5], dest[7], dest[10], dest[13], dest[20], dest[22] = &ni8, &nf8, &ns, &nb, &nt, &nby, &ng
	if err := rows.Scan(dest...); err != nil {
		t.Fatal(err)
	}
	if ni8.Valid || !nf8.Valid || !math.IsInf(nf8.Float64, -1) || ns.Valid || nb.Valid || nt.Valid || ng.Geom != nil || nby != nil {
		t.Errorf("NULLs: %v %v %v %v %v %v %v", ni8, nf8, ns, nb, nt, ng, nby)
	}
	if rows.Next() {
		t.Error("a third row")
	}
	if err := rows.Err(); err != nil {
		t.Error(err)
	}
}

// Dates whose year is not four digits come back as times too: Go's zero time is a common
// sentinel, and CARTO writes the year unpadded (1-01-01T00:00:00Z).
func TestQueryYearsOutsideFourDigits(t *testing.T) {
	db, _ := openDB(t)
	for _, want := range []time.Time{{}, time.Date(999, 7, 1, 10, 0, 0, 0, time.UTC), time.Date(12345, 1, 2, 3, 4, 5, 0, time.UTC), time.Date(-99, 1, 1, 0, 0, 0, 0, time.UTC)} {
		var ts, tsz, d time.Time
		err := db.QueryRowContext(context.Background(), "SELECT $1::timestamptz AS tsz, ($1::timestamptz AT TIME ZONE 'UTC') AS ts, ($1::timestamptz AT TIME ZONE 'UTC')::date AS d", want).Scan(&tsz, &ts, &d)
		if err != nil {
			t.Errorf("%v: %v", want, err)
			continue
		}
		if !tsz.Equal(want) || !ts.Equal(want) || !d.Equal(want.Truncate(24*time.Hour)) {
			t.Errorf("%v: timestamptz %v, timestamp %v, date %v", want, tsz, ts, d)
		}
	}
}
