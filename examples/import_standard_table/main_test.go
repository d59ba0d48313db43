package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gocarto/carto/cartolocal/cartotest"
	"github.com/gocarto/carto/imports"
)

func TestMain(m *testing.M) { os.Exit(cartotest.Main(m)) }

// The test data is made here: two capitals, coordinates rounded from OpenStreetMap.
const places = `{"type":"FeatureCollection","features":[
{"type":"Feature","properties":{"name":"Madrid"},"geometry":{"type":"Point","coordinates":[-3.7038,40.4168]}},
{"type":"Feature","properties":{"name":"Paris"},"geometry":{"type":"Point","coordinates":[2.3522,48.8566]}}]}`

func TestImportPathAndURL(t *testing.T) {
	acct := cartotest.New(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	path := filepath.Join(t.TempDir(), "places.geojson")
	if err := os.WriteFile(path, []byte(places), 0o600); err != nil {
		t.Fatal(err)
	}
	c := imports.New(acct.Client(t))
	var out strings.Builder
	if err := run(ctx, c, path, imports.Public, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "state: complete\n") || !strings.Contains(out.String(), "table: places\n") || !strings.Contains(out.String(), "dataset_id: ") {
		t.Errorf("printed:\n%s", out.String())
	}

	src := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/vnd.geo+json")
		io.WriteString(w, places)
	}))
	defer src.Close()
	out.Reset()
	if err := run(ctx, c, src.URL+"/data/places.geojson", "", &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "table: places_1\n") {
		t.Errorf("printed:\n%s", out.String())
	}

	out.Reset()
	empty := filepath.Join(t.TempDir(), "empty.csv")
	os.WriteFile(empty, nil, 0o600)
	err := run(ctx, c, empty, "", &out)
	if err == nil || !strings.Contains(err.Error(), "error 1005: Empty file") {
		t.Errorf("empty file: %v", err)
	}
}
