package main

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gocarto/carto/cartolocal/cartotest"
	_ "github.com/gocarto/carto/driver"
	"github.com/gocarto/carto/imports"
)

func TestMain(m *testing.M) { os.Exit(cartotest.Main(m)) }

func TestImportAndMerge(t *testing.T) {
	acct := cartotest.New(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	// Three parts of one CSV, made here (like carto-python's files/barris_barcelona_1_part_*.csv,
	// with made-up districts), the geometry as EWKB hex in the_geom.
	dir := t.TempDir()
	for part := 1; part <= 3; part++ {
		var b strings.Builder
		b.WriteString("the_geom,district,homes\n")
		for i := range 4 {
			fmt.Fprintf(&b, "SRID=4326;POINT(2.1%d%d 41.3%d),district %d-%d,%d\n", part, i, i, part, i, 100*part+i)
		}
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("barris_part_%d.csv", part)), []byte(b.String()), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	db, err := sql.Open("carto", acct.DSN())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var out strings.Builder
	if err := run(ctx, imports.New(acct.Client(t)), db, filepath.Join(dir, "barris_part_*.csv"), &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "merged into barris_part_1_merged: 12 rows\n") {
		t.Errorf("printed:\n%s", out.String())
	}
	var tables string
	if err := acct.Server.AdminPool().QueryRow(ctx, `SELECT string_agg(tablename::text, ',' ORDER BY tablename) FROM pg_tables WHERE schemaname = $1`, acct.User).Scan(&tables); err != nil {
		t.Fatal(err)
	}
	if tables != "barris_part_1_merged" {
		t.Errorf("tables: %s", tables)
	}
	var points int
	if err := acct.Server.AdminPool().QueryRow(ctx, `SELECT count(*) FROM "`+acct.User+`".barris_part_1_merged WHERE GeometryType(the_geom) = 'POINT' AND the_geom_webmercator IS NOT NULL`).Scan(&points); err != nil || points != 12 {
		t.Errorf("%d points, %v", points, err)
	}
}
