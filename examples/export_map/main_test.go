package main

import (
	"archive/zip"
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gocarto/carto"
	"github.com/gocarto/carto/account"
	"github.com/gocarto/carto/cartolocal/cartotest"
)

func TestMain(m *testing.M) { os.Exit(cartotest.Main(m)) }

func TestExportMap(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	acct := cartotest.New(t)
	acct.Exec(t, "CREATE TABLE stops (name text); INSERT INTO stops VALUES ('Sol'); SELECT CDB_CartodbfyTable(current_schema(), 'stops'::regclass)")
	m, err := account.NewVisualizations(acct.Client(t)).Create(ctx, account.MapSpec{Name: "Transit map", Tables: []string{"stops"}})
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "transit.carto")
	var stdout, progress bytes.Buffer
	if err := run(ctx, acct.Client(t), args{Map: "Transit map", Output: out}, &stdout, &progress); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(stdout.String(), strings.TrimSuffix(acct.URL, "/")+"/api/v3/visualization_exports/") ||
		!strings.Contains(progress.String(), ": complete\n") || !strings.Contains(progress.String(), "transit.carto: ") {
		t.Fatalf("stdout %q progress %q", stdout.String(), progress.String())
	}
	zr, err := zip.OpenReader(out)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	var names []string
	for _, f := range zr.File {
		names = append(names, f.Name)
	}
	want := []string{m.ID + "/", m.ID + "/" + m.ID + ".carto.json", m.ID + "/stops.gpkg"}
	if strings.Join(names, " ") != strings.Join(want, " ") {
		t.Fatalf("files %v, want %v", names, want)
	}
	err = run(ctx, acct.Client(t), args{Map: "no such map"}, &stdout, &progress)
	if !carto.IsNotFound(err) {
		t.Fatalf("unknown map: %v", err)
	}
}
