package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/gocarto/carto/cartolocal/cartotest"
	"github.com/gocarto/carto/imports"
)

func TestMain(m *testing.M) { os.Exit(cartotest.Main(m)) }

func TestSyncTable(t *testing.T) {
	acct := cartotest.New(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	// Made here: two capitals, coordinates rounded from OpenStreetMap.
	src := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "name,lat,lon\nMadrid,40.4168,-3.7038\nParis,48.8566,2.3522\n")
	}))
	defer src.Close()
	c := imports.New(acct.Client(t))
	var out strings.Builder
	if err := run(ctx, c, src.URL+"/capitals.csv", 900*time.Second, &out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"state: success\n", "table: capitals\n", "enqueued: false\n"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("no %q in:\n%s", want, out.String())
		}
	}
	out.Reset()
	err := run(ctx, c, src.URL+"/capitals.csv", 600*time.Second, &out)
	if err == nil || !strings.Contains(err.Error(), "Sync interval must be at least 15 minutes") {
		t.Errorf("600 s: %v", err)
	}
	out.Reset()
	gone := httptest.NewServer(http.NotFoundHandler())
	defer gone.Close()
	err = run(ctx, c, gone.URL+"/missing.csv", 900*time.Second, &out)
	if err == nil || !strings.Contains(out.String(), "error_code: 1100\n") || !strings.Contains(out.String(), "error_message: Download file not found ") {
		t.Errorf("missing source: %v\n%s", err, out.String())
	}
}
