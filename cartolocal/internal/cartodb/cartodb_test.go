package cartodb_test

import (
	"context"
	"errors"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/gocarto/carto/cartolocal/cartotest"
)

// acquire returns a connection of the account, as master or public role, released at cleanup.
func acquire(t *testing.T, a *cartotest.Account, master bool) *pgxpool.Conn {
	t.Helper()
	u, ok := a.Server.User(a.User)
	if !ok {
		t.Fatalf("no user %q", a.User)
	}
	conn, err := u.Acquire(context.Background(), master)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(conn.Release)
	return conn
}

func TestCDBLatLng(t *testing.T) {
	a := cartotest.New(t)
	for _, master := range []bool{true, false} {
		conn := acquire(t, a, master)
		var text string
		var srid int
		err := conn.QueryRow(context.Background(), "SELECT ST_AsText(CDB_LatLng(40.5, -3.25)), ST_SRID(CDB_LatLng(40.5, -3.25))").Scan(&text, &srid)
		if err != nil {
			t.Fatalf("master=%v: %v", master, err)
		}
		if text != "POINT(-3.25 40.5)" || srid != 4326 {
			t.Errorf("CDB_LatLng(40.5, -3.25) = %s SRID %d", text, srid)
		}
	}
	conn := acquire(t, a, true)
	var isNull bool
	if err := conn.QueryRow(context.Background(), "SELECT CDB_LatLng(NULL, 1) IS NULL").Scan(&isNull); err != nil || !isNull {
		t.Errorf("CDB_LatLng(NULL, 1): null %v, %v", isNull, err)
	}
}

func TestCDBTransformToWebmercator(t *testing.T) {
	a := cartotest.New(t)
	conn := acquire(t, a, true)
	ctx := context.Background()
	var x, y float64
	var srid int
	if err := conn.QueryRow(ctx, "SELECT ST_X(g), ST_Y(g), ST_SRID(g) FROM CDB_TransformToWebmercator(CDB_LatLng(45, 90)) AS g").Scan(&x, &y, &srid); err != nil {
		t.Fatal(err)
	}
	// 90° east is a quarter of the equator: 20037508.34 m / 2; 45° north is 5621521.49 m.
	if math.Abs(x-10018754.171394622) > 0.01 || math.Abs(y-5621521.486192066) > 0.01 || srid != 3857 {
		t.Errorf("45N 90E -> (%f, %f) SRID %d", x, y, srid)
	}
	// Beyond web mercator's latitude range: clipped, not an error.
	var empty bool
	var ymax float64
	err := conn.QueryRow(ctx, `SELECT ST_IsEmpty(CDB_TransformToWebmercator(CDB_LatLng(89, 0))),
		ST_YMax(CDB_TransformToWebmercator(ST_MakeEnvelope(-10, 0, 10, 90, 4326)))`).Scan(&empty, &ymax)
	if err != nil {
		t.Fatal(err)
	}
	if !empty || math.Abs(ymax-20037508.34) > 1 {
		t.Errorf("polar clipping: point empty %v, box top %f", empty, ymax)
	}
	// Another SRID goes through WGS 84; 3857 passes as is.
	if err := conn.QueryRow(ctx, "SELECT ST_X(CDB_TransformToWebmercator(ST_Transform(CDB_LatLng(10, 20), 32633)))").Scan(&x); err != nil || math.Abs(x-2226389.8158654715) > 0.01 {
		t.Errorf("from UTM: x %f, %v", x, err)
	}
}

// TestCDBTransformToWebmercatorFastPath checks the inlined SQL fast path against the general
// PL/pgSQL body, byte for byte, on the cases either side of its tests: inside, on and outside
// the square's edges, empty, without SRID, in another SRID or in 3857, with Z, NULL.
func TestCDBTransformToWebmercatorFastPath(t *testing.T) {
	a := cartotest.New(t)
	conn := acquire(t, a, true)
	ctx := context.Background()
	for _, g := range []string{
		"SRID=4326;POINT(2.35 48.85)", "SRID=4326;POINT(180 85.0511287798066)", "SRID=4326;POINT(-180 -85.0511287798066)",
		"SRID=4326;POINT(180.000001 0)", "SRID=4326;POINT(0 85.06)", "SRID=4326;POINT(0 -89)", "POINT(10 10)",
		"SRID=4326;POINT Z (1 2 3)", "SRID=4326;POINT EMPTY",
		"SRID=4326;MULTIPOINT((1 1),(2 2))", "SRID=4326;MULTIPOINT((1 1),(2 89))",
		"SRID=4326;LINESTRING(-179 -80,179 80)", "SRID=4326;POLYGON((-10 0,10 0,10 90,-10 90,-10 0))",
		"SRID=4326;MULTIPOLYGON(((0 0,1 0,1 1,0 0)))", "SRID=4326;POLYGON EMPTY", "SRID=4326;GEOMETRYCOLLECTION(POINT(1 1))",
		"SRID=32633;POINT(500000 4000000)", "SRID=3857;POINT(1 2)",
	} {
		var same bool
		err := conn.QueryRow(ctx, `SELECT CDB_TransformToWebmercator(g)::bytea IS NOT DISTINCT FROM cartodb._CDB_TransformToWebmercator(g)::bytea
			FROM (SELECT $1::geometry AS g) AS s`, g).Scan(&same)
		if err != nil || !same {
			t.Errorf("%s: same %v, %v", g, same, err)
		}
	}
	var isNull bool
	if err := conn.QueryRow(ctx, "SELECT CDB_TransformToWebmercator(NULL::geometry) IS NULL").Scan(&isNull); err != nil || !isNull {
		t.Errorf("NULL: null %v, %v", isNull, err)
	}
	// The point is that it inlines: no call of it shows in the plan of a query over a column.
	if _, err := conn.Exec(ctx, "CREATE TEMP TABLE pts (g geometry)"); err != nil {
		t.Fatal(err)
	}
	rows, err := conn.Query(ctx, "EXPLAIN (VERBOSE, COSTS OFF) SELECT CDB_TransformToWebmercator(g) FROM pts")
	if err != nil {
		t.Fatal(err)
	}
	lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	plan := strings.ToLower(strings.Join(lines, "\n"))
	if !strings.Contains(plan, "then st_transform(st_setsrid(g, 4326), 3857)") {
		t.Errorf("not inlined: %s", plan)
	}
}

// columns lists a table's columns as name:type.
func columns(t *testing.T, conn interface {
	Query(context.Context, string, ...any) (pgx.Rows, error)
}, table string) []string {
	t.Helper()
	rows, err := conn.Query(context.Background(), `SELECT attname || ':' || format_type(atttypid, atttypmod)
		FROM pg_attribute WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum`, table)
	if err != nil {
		t.Fatal(err)
	}
	cols, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	return cols
}

func TestCDBCartodbfyTable(t *testing.T) {
	a := cartotest.New(t)
	ctx := context.Background()
	a.Exec(t, `CREATE TABLE places (name text, the_geom geometry(Point, 4326));
		INSERT INTO places VALUES ('madrid', CDB_LatLng(40.4, -3.7)), ('nowhere', NULL)`)
	conn := acquire(t, a, true)
	var ret string
	if err := conn.QueryRow(ctx, "SELECT CDB_CartodbfyTable($1, 'places')::text", a.User).Scan(&ret); err != nil {
		t.Fatal(err)
	}
	if ret != "places" {
		t.Errorf("returned %q", ret)
	}
	// Again: nothing changes, nothing fails.
	if _, err := conn.Exec(ctx, "SELECT CDB_CartodbfyTable('places')"); err != nil {
		t.Fatal(err)
	}
	cols := columns(t, conn, "places")
	for _, want := range []string{"cartodb_id:bigint", "the_geom:geometry(Point,4326)", "the_geom_webmercator:geometry(Geometry,3857)"} {
		if !slices.Contains(cols, want) {
			t.Errorf("columns %v lack %s", cols, want)
		}
	}
	var pk string
	var gist int
	err := conn.QueryRow(ctx, `SELECT
		(SELECT string_agg(a.attname, ',') FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
		 WHERE i.indrelid = 'places'::regclass AND i.indisprimary),
		(SELECT count(*) FROM pg_indexes WHERE tablename = 'places' AND schemaname = current_schema() AND indexdef LIKE '%USING gist%')`).Scan(&pk, &gist)
	if err != nil {
		t.Fatal(err)
	}
	if pk != "cartodb_id" || gist != 2 {
		t.Errorf("primary key %q, %d GiST indexes", pk, gist)
	}

	// Existing rows got ids and web mercator geometries; new rows and updates stay in step.
	_, err = conn.Exec(ctx, `INSERT INTO places (name, the_geom) VALUES ('paris', CDB_LatLng(48.85, 2.35));
		UPDATE places SET the_geom = CDB_LatLng(41.4, 2.17), name = 'barcelona' WHERE name = 'madrid';
		UPDATE places SET the_geom_webmercator = NULL WHERE name = 'paris'`)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := conn.Query(ctx, `SELECT cartodb_id, name, coalesce(ST_Equals(the_geom_webmercator, ST_Transform(the_geom, 3857)), the_geom_webmercator IS NULL)
		FROM places ORDER BY cartodb_id`)
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		ID     int64
		Name   string
		InStep bool
	}
	got, err := pgx.CollectRows(rows, pgx.RowToStructByPos[row])
	if err != nil {
		t.Fatal(err)
	}
	want := []row{{1, "barcelona", true}, {2, "nowhere", true}, {3, "paris", true}}
	if !slices.Equal(got, want) {
		t.Errorf("rows %v, want %v", got, want)
	}
}

func TestCDBCartodbfyTableRepairs(t *testing.T) {
	a := cartotest.New(t)
	ctx := context.Background()
	// An id that is no integer, a geometry in text, another primary key, and a web mercator
	// column of the wrong type.
	a.Exec(t, `CREATE TABLE messy (code text PRIMARY KEY, cartodb_id text, the_geom text, the_geom_webmercator text);
		INSERT INTO messy VALUES ('a', 'x1', 'POINT(1 2)', 'junk'), ('b', 'x2', 'SRID=3857;POINT(0 0)', NULL);
		CREATE TABLE ids (cartodb_id int, the_geom geometry);
		INSERT INTO ids VALUES (7, 'SRID=4326;POINT(5 5)'), (NULL, NULL)`)
	conn := acquire(t, a, true)
	if _, err := conn.Exec(ctx, "SELECT CDB_CartodbfyTable('messy'); SELECT CDB_CartodbfyTable('ids')"); err != nil {
		t.Fatal(err)
	}
	cols := columns(t, conn, "messy")
	for _, want := range []string{"code:text", "cartodb_id_0:text", "cartodb_id:bigint", "the_geom:geometry(Geometry,4326)", "the_geom_webmercator:geometry(Geometry,3857)"} {
		if !slices.Contains(cols, want) {
			t.Errorf("messy columns %v lack %s", cols, want)
		}
	}
	var text string
	var unique bool
	err := conn.QueryRow(ctx, `SELECT string_agg(code || '=' || ST_AsText(the_geom, 3), ' ' ORDER BY code),
		EXISTS (SELECT 1 FROM pg_constraint WHERE conrelid = 'messy'::regclass AND contype = 'u')
		FROM messy`).Scan(&text, &unique)
	if err != nil {
		t.Fatal(err)
	}
	if text != "a=POINT(1 2) b=POINT(0 0)" || !unique {
		t.Errorf("messy: %s, old key kept unique %v", text, unique)
	}
	// Integer ids are kept, and the sequence continues after them.
	if _, err := conn.Exec(ctx, "INSERT INTO ids (the_geom) VALUES (CDB_LatLng(0, 0))"); err != nil {
		t.Fatal(err)
	}
	rows, err := conn.Query(ctx, "SELECT cartodb_id FROM ids ORDER BY 1")
	if err != nil {
		t.Fatal(err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ids, []int64{7, 8, 9}) {
		t.Errorf("ids %v, want [7 8 9]", ids)
	}
}

// TestCDBCartodbfyTableBadIDs checks the ids that cannot serve: repeated (found by making the
// key) or not positive (found first), with or without a key on them, are kept under another name
// and cartodb_id is made anew; a NULL id gets one after the largest.
func TestCDBCartodbfyTableBadIDs(t *testing.T) {
	a := cartotest.New(t)
	ctx := context.Background()
	a.Exec(t, `CREATE TABLE repeated (cartodb_id int, v text);
		INSERT INTO repeated VALUES (1, 'a'), (1, 'b'), (NULL, 'c');
		CREATE TABLE negative (cartodb_id int PRIMARY KEY, v text);
		INSERT INTO negative VALUES (-1, 'a'), (2, 'b');
		CREATE TABLE keyed (code text PRIMARY KEY, cartodb_id int);
		INSERT INTO keyed VALUES ('a', 1), ('b', 1);
		CREATE TABLE fine (cartodb_id int, v text);
		INSERT INTO fine VALUES (5, 'a'), (NULL, 'b')`)
	conn := acquire(t, a, true)
	for _, c := range []struct{ table, row, want string }{
		{"repeated", "cartodb_id, cartodb_id_0, v", "1:1:a 2:1:b 3::c"},
		{"negative", "cartodb_id, cartodb_id_0, v", "1:-1:a 2:2:b"},
		{"keyed", "cartodb_id, cartodb_id_0, code", "1:1:a 2:1:b"},
		{"fine", "cartodb_id, NULL, v", "5::a 6::b"},
	} {
		if _, err := conn.Exec(ctx, "SELECT CDB_CartodbfyTable($1::text::regclass)", c.table); err != nil {
			t.Fatalf("%s: %v", c.table, err)
		}
		var got, pk string
		err := conn.QueryRow(ctx, `SELECT string_agg(format('%s:%s:%s', `+c.row+`), ' ' ORDER BY cartodb_id),
			(SELECT string_agg(a.attname, ',') FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
			 WHERE i.indrelid = $1::text::regclass AND i.indisprimary)
			FROM `+c.table, c.table).Scan(&got, &pk)
		if err != nil {
			t.Fatalf("%s: %v", c.table, err)
		}
		if got != c.want || pk != "cartodb_id" {
			t.Errorf("%s: rows %q (want %q), primary key %q", c.table, got, c.want, pk)
		}
	}
}

func TestCDBUserTablesAndQueryTables(t *testing.T) {
	a := cartotest.New(t)
	ctx := context.Background()
	a.Exec(t, "CREATE TABLE pub (v int); CREATE TABLE prv (v int); GRANT SELECT ON pub TO publicuser")
	cartotest.New(t).Exec(t, "CREATE TABLE elsewhere (v int)") // another account's table is not listed
	list := func(master bool, perm string) []string {
		t.Helper()
		rows, err := acquire(t, a, master).Query(ctx, "SELECT t::text FROM CDB_UserTables($1) AS t", perm)
		if err != nil {
			t.Fatal(err)
		}
		names, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		return names
	}
	for _, c := range []struct {
		master bool
		perm   string
		want   []string
	}{
		{true, "all", []string{"prv", "pub"}},
		{true, "public", []string{"pub"}},
		{true, "private", []string{"prv"}},
		{true, "bogus", nil},
		{false, "all", []string{"pub"}},
		{false, "private", nil},
	} {
		if got := list(c.master, c.perm); !slices.Equal(got, c.want) {
			t.Errorf("master=%v CDB_UserTables(%q) = %v, want %v", c.master, c.perm, got, c.want)
		}
	}

	var tables []string
	err := acquire(t, a, true).QueryRow(ctx, "SELECT CDB_QueryTablesText('SELECT * FROM pub JOIN prv USING (v)')").Scan(&tables)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{a.User + ".prv", a.User + ".pub"}; !slices.Equal(tables, want) {
		t.Errorf("CDB_QueryTablesText = %v, want %v", tables, want)
	}
	// One statement only: a second one is refused before anything runs.
	conn := acquire(t, a, true)
	_, err = conn.Exec(ctx, "SELECT CDB_QueryTablesText('SELECT 1; CREATE TABLE injected (a int)')")
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != "42P11" {
		t.Errorf("two statements: %v, want 42P11", err)
	}
	var injected *string
	if err := conn.QueryRow(ctx, "SELECT to_regclass('injected')::text").Scan(&injected); err != nil || injected != nil {
		t.Errorf("the second statement ran: %v %v", injected, err)
	}
}
