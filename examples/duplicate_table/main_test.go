package main

import (
	"context"
	"database/sql"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/gocarto/carto/cartolocal/cartotest"
)

func TestMain(m *testing.M) { os.Exit(cartotest.Main(m)) }

// TestDuplicateTable copies a table between two accounts: the same rows, value for value, and a
// CARTO table on the destination (new rows get the next cartodb_id).
func TestDuplicateTable(t *testing.T) {
	alice, bob := cartotest.New(t), cartotest.New(t)
	alice.Exec(t, `CREATE TABLE places (name varchar(40), pop bigint, seen timestamptz, tags text[], the_geom geometry(Point, 4326));
		INSERT INTO places SELECT 'place '||g||E'\t"x"', g*1000, '2024-01-01'::timestamptz + g * interval '1 hour', ARRAY['a', NULL, 'c'],
			CASE WHEN g % 3 = 0 THEN NULL ELSE ST_SetSRID(ST_MakePoint(g, -g), 4326) END FROM generate_series(1, 5000) g;
		SELECT CDB_CartodbfyTable(current_schema, 'places')`)
	src, err := sql.Open("carto", alice.DSN())
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dst, err := sql.Open("carto", bob.DSN())
	if err != nil {
		t.Fatal(err)
	}
	defer dst.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	n, err := run(ctx, src, dst, "places")
	if err != nil || n != 5000 {
		t.Fatalf("copied %d rows, %v", n, err)
	}
	const digest = `SELECT md5(string_agg(format('%s|%s|%s|%s|%s|%s', cartodb_id, name, pop, seen, tags, ST_AsEWKB(the_geom)), ',' ORDER BY cartodb_id)) FROM places`
	var a, b string
	if err := src.QueryRowContext(ctx, digest).Scan(&a); err != nil {
		t.Fatal(err)
	}
	if err := dst.QueryRowContext(ctx, digest).Scan(&b); err != nil {
		t.Fatal(err)
	}
	if a != b {
		t.Fatalf("the copy differs: %s, %s", a, b)
	}
	var id int64
	if err := dst.QueryRowContext(ctx, `INSERT INTO places (name) VALUES ('new') RETURNING cartodb_id`).Scan(&id); err != nil || id != 5001 {
		t.Fatalf("a new row on the copy: id %d, %v", id, err)
	}
	// A table that is not there, and one that is already there on the destination.
	if _, err := run(ctx, src, dst, "nope"); err == nil || !strings.Contains(err.Error(), "no table") {
		t.Fatalf("missing table: %v", err)
	}
	if _, err := run(ctx, src, dst, "places"); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Fatalf("existing table: %v", err)
	}
}
