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

func TestSyncTableAsDataset(t *testing.T) {
	acct := cartotest.New(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	// Made here: two capitals, coordinates rounded from OpenStreetMap.
	src := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Disposition", `attachment; filename="capital cities.csv"`)
		io.WriteString(w, "name,lat,lon\nMadrid,40.4168,-3.7038\nParis,48.8566,2.3522\n")
	}))
	defer src.Close()
	var out strings.Builder
	if err := run(ctx, imports.New(acct.Client(t)), src.URL+"/export?id=7", time.Hour, &out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"dataset: capital_cities\n", "interval: 1h0m0s\n", "next_sync: "} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("no %q in:\n%s", want, out.String())
		}
	}
	if strings.Contains(out.String(), "dataset_id: \n") {
		t.Errorf("no dataset id:\n%s", out.String())
	}
}
