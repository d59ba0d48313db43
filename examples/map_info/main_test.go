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

	"github.com/gocarto/carto/account"
	"github.com/gocarto/carto/cartolocal/cartotest"
)

func TestMain(m *testing.M) { os.Exit(cartotest.Main(m)) }

func TestMapInfo(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	acct := cartotest.New(t)
	acct.Exec(t, `CREATE TABLE parks (name text); SELECT CDB_CartodbfyTable(current_schema(), 'parks'::regclass);
		CREATE TABLE rivers (name text); SELECT CDB_CartodbfyTable(current_schema(), 'rivers'::regclass)`)
	maps := account.NewVisualizations(acct.Client(t))
	for _, s := range []account.MapSpec{
		{Name: "Green", Description: "parks of the city", Tags: []string{"nature"}, Tables: []string{"parks"}},
		{Name: "Blue", Tables: []string{"rivers", "parks"}},
	} {
		if _, err := maps.Create(ctx, s); err != nil {
			t.Fatal(err)
		}
	}

	var out bytes.Buffer
	if err := run(ctx, acct.Client(t), args{}, &out); err != nil {
		t.Fatal(err)
	}
	if out.String() != "Blue\nGreen\n" {
		t.Fatalf("list %q", out.String())
	}

	out.Reset()
	if err := run(ctx, acct.Client(t), args{Map: "Green"}, &out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"name         Green\n", "description  parks of the city\n", "privacy      PUBLIC\n", "tags         nature\n", "tables       parks\n", "owner        " + acct.User + "\n"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("show lacks %q:\n%s", want, out.String())
		}
	}

	out.Reset()
	file := filepath.Join(t.TempDir(), "downloaded_file.carto")
	if err := run(ctx, acct.Client(t), args{Export: "Blue", Output: file}, &out); err != nil {
		t.Fatal(err)
	}
	zr, err := zip.OpenReader(file)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	var gpkgs int
	for _, f := range zr.File {
		if strings.HasSuffix(f.Name, ".gpkg") {
			gpkgs++
		}
	}
	if gpkgs != 2 || !strings.HasPrefix(out.String(), file+": ") {
		t.Fatalf("export: %d tables, %q", gpkgs, out.String())
	}
}
