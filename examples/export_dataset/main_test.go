package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gocarto/carto/cartolocal/cartotest"
)

func TestMain(m *testing.M) { os.Exit(cartotest.Main(m)) }

// TestExportDataset exports a table in three formats and opens each file with ogrinfo; a failed
// export leaves no file.
func TestExportDataset(t *testing.T) {
	acct := cartotest.New(t)
	acct.Exec(t, `CREATE TABLE places (cartodb_id int PRIMARY KEY, name text, the_geom geometry(Point, 4326));
		INSERT INTO places SELECT g, 'place '||g, ST_SetSRID(ST_MakePoint(g, g/2.0), 4326) FROM generate_series(1, 40) g`)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	dir := t.TempDir()
	for _, format := range []string{"csv", "gpkg", "shp"} {
		path, err := run(ctx, acct.Client(t), args{Dataset: "places", Format: format, Dir: dir})
		if err != nil {
			t.Fatalf("%s: %v", format, err)
		}
		if path != filepath.Join(dir, "places."+format) {
			t.Fatalf("%s: wrote %s", format, path)
		}
		open := path
		if format == "shp" {
			open = "/vsizip/{" + path + "}/places.shp" // a zip, named places.shp as carto-python names it
		}
		out, err := exec.Command("ogrinfo", "-ro", "-al", "-so", open).CombinedOutput()
		if err != nil || !strings.Contains(string(out), "Feature Count: 40") {
			t.Fatalf("%s: ogrinfo: %v\n%s", format, err, out)
		}
	}
	if _, err := run(ctx, acct.Client(t), args{Dataset: "nope", Format: "kml", Dir: dir}); err == nil || !strings.Contains(err.Error(), `relation "nope" does not exist`) {
		t.Fatalf("missing table: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "nope.kml")); !os.IsNotExist(err) {
		t.Fatalf("a failed export left a file: %v", err)
	}
	if _, err := run(ctx, acct.Client(t), args{Dataset: "places; DROP TABLE places", Format: "csv", Dir: dir}); err == nil {
		t.Fatal("a statement passed as a dataset name")
	}
}
