package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/csv"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gocarto/carto/cartolocal/cartotest"
)

func TestMain(m *testing.M) { os.Exit(cartotest.Main(m)) }

// TestCopyExample runs the example's steps on its own CSV: the export holds the rows, cartodbfied
// (cartodb_id, the_geom, the_geom_webmercator, name, age), and the table ends empty.
func TestCopyExample(t *testing.T) {
	acct := cartotest.New(t)
	db, err := sql.Open("carto", acct.DSN())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out := filepath.Join(t.TempDir(), "copy_export.csv")
	var log bytes.Buffer
	if err := run(ctx, db, "files/copy_from.csv", out, &log); err != nil {
		t.Fatal(err)
	}
	t.Log("\n" + log.String())
	if !strings.Contains(log.String(), "copied 5 rows") {
		t.Fatalf("log:\n%s", log.String())
	}
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(recs[0], ","); got != "the_geom,name,age,cartodb_id,the_geom_webmercator" && got != "cartodb_id,the_geom,the_geom_webmercator,name,age" {
		t.Fatalf("header %s", got)
	}
	if len(recs) != 6 {
		t.Fatalf("%d records", len(recs))
	}
	var saw bool
	for _, r := range recs[1:] {
		if strings.Contains(strings.Join(r, ","), "0101000020E61000000000000000805FC00000000000004B40,North West,89") {
			saw = true
		}
	}
	if !saw {
		t.Fatalf("no North West row as hex EWKB: %v", recs)
	}
	var n int
	if err := db.QueryRowContext(ctx, "SELECT count(*) FROM copy_example").Scan(&n); err != nil || n != 0 {
		t.Fatalf("after the example: %d rows, %v", n, err)
	}
	// Run again: the table exists, the ids start over.
	log.Reset()
	if err := run(ctx, db, "files/copy_from.csv", out, &log); err != nil {
		t.Fatal(err)
	}
}
