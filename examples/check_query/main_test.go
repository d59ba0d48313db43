package main

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/gocarto/carto"
	"github.com/gocarto/carto/cartolocal/cartotest"
)

func TestMain(m *testing.M) { os.Exit(cartotest.Main(m)) }

func openDB(t *testing.T) (*cartotest.Account, *sql.DB) {
	t.Helper()
	acct := cartotest.New(t)
	db, err := sql.Open("carto", acct.DSN())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return acct, db
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return c
}

func TestCheckQuery(t *testing.T) {
	acct, db := openDB(t)
	acct.Exec(t, `CREATE TABLE places (id int PRIMARY KEY, name text);
		INSERT INTO places SELECT i, 'place ' || i FROM generate_series(1, 2000) i;
		ANALYZE places`)
	var out bytes.Buffer
	err := run(ctx(t), db, args{Query: "SELECT name FROM places WHERE id = 42;", Analyze: true, Buffers: true}, &out)
	if err != nil {
		t.Fatal(err)
	}
	s := out.String()
	for _, want := range []string{"QUERY PLAN\n", "Index Scan using places_pkey on places", "actual time=", "Buffers:",
		"Execution Time:", "on the server; round trip "} {
		if !strings.Contains(s, want) {
			t.Errorf("output lacks %q:\n%s", want, s)
		}
	}
	if strings.Contains(s, "unknown") {
		t.Errorf("timings not found:\n%s", s)
	}
	if n := strings.Count(s, "\ntip: "); n != 1 || !strings.Contains(s, "tip: the query filters with WHERE") {
		t.Errorf("want the WHERE tip alone:\n%s", s)
	}
	t.Log("\n" + s)
}

func TestTips(t *testing.T) {
	for q, want := range map[string]string{
		"SELECT 1":                                   "",
		"select * from t":                            "SELECT *",
		"SELECT DISTINCT p.* FROM places p":          "SELECT *",
		"SELECT count(*) FROM t":                     "",
		"select name from t where x = 1":             "WHERE",
		"SELECT ST_Area(the_geom) FROM t":            "geometries",
		"SELECT THE_GEOM_WEBMERCATOR FROM t":         "geometries",
		"SELECT the_geometry_column FROM t":          "",
		"SELECT\n  *\nFROM t WHERE the_geom IS NULL": "SELECT *|WHERE|geometries",
	} {
		var got []string
		for _, tip := range tips(q) {
			switch {
			case strings.HasPrefix(tip, "SELECT *"):
				got = append(got, "SELECT *")
			case strings.Contains(tip, "WHERE"):
				got = append(got, "WHERE")
			case strings.Contains(tip, "geometries"):
				got = append(got, "geometries")
			}
		}
		if strings.Join(got, "|") != want {
			t.Errorf("tips(%q) = %q, want %q", q, got, want)
		}
	}
}

func TestCheckQueryPlanOnly(t *testing.T) {
	acct, db := openDB(t)
	acct.Exec(t, `CREATE TABLE t (i int)`)
	var out bytes.Buffer
	// Without ANALYZE a write is only planned, so -write is not needed, and nothing is inserted.
	if err := run(ctx(t), db, args{Query: "INSERT INTO t VALUES (1)"}, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "Insert on t") || strings.Contains(out.String(), "actual time") {
		t.Fatalf("output:\n%s", out.String())
	}
	var n int
	if err := db.QueryRowContext(ctx(t), "SELECT count(*) FROM t").Scan(&n); err != nil || n != 0 {
		t.Fatalf("count = %d, %v", n, err)
	}
}

func TestCheckQueryRefusesWrites(t *testing.T) {
	acct, db := openDB(t)
	acct.Exec(t, `CREATE TABLE t (i int)`)
	for _, q := range []string{
		"INSERT INTO t VALUES (1)",
		"  /* c */ -- x\n DELETE FROM t",
		"WITH x AS (DELETE FROM t RETURNING *) SELECT * FROM x",
		"SELECT * INTO t2 FROM t",
	} {
		err := run(ctx(t), db, args{Query: q, Analyze: true}, &bytes.Buffer{})
		if !errors.Is(err, errMayWrite) {
			t.Errorf("%q: err = %v", q, err)
		}
	}
	// With -write it runs.
	var out bytes.Buffer
	if err := run(ctx(t), db, args{Query: "INSERT INTO t VALUES (1)", Analyze: true, Write: true}, &out); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := db.QueryRowContext(ctx(t), "SELECT count(*) FROM t").Scan(&n); err != nil || n != 1 {
		t.Fatalf("count = %d, %v", n, err)
	}
}

func TestCheckQueryError(t *testing.T) {
	_, db := openDB(t)
	err := run(ctx(t), db, args{Query: "SELECT * FROM missing_table", Analyze: true}, &bytes.Buffer{})
	var ce *carto.Error
	if !errors.As(err, &ce) || !strings.Contains(ce.Message(), `relation "missing_table" does not exist`) {
		t.Fatalf("err = %v", err)
	}
}

func TestFirstWord(t *testing.T) {
	for q, want := range map[string]string{
		"select 1":                   "select",
		"  ((SELECT 1))":             "SELECT",
		"-- hi\n/* x */ WITH a AS (": "WITH",
		"/* unterminated":            "",
		"VALUES(1)":                  "VALUES",
	} {
		if got := firstWord(q); got != want {
			t.Errorf("firstWord(%q) = %q, want %q", q, got, want)
		}
	}
}
