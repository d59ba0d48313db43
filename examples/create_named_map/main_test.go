package main

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/gocarto/carto"
	"github.com/gocarto/carto/cartolocal/cartotest"
	"github.com/gocarto/carto/maps"
)

func TestMain(m *testing.M) { os.Exit(cartotest.Main(m)) }

func TestCreateNamedMap(t *testing.T) {
	a := cartotest.New(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var out bytes.Buffer
	m := maps.New(a.Client(t))
	if err := run(ctx, m, "files/named_map.json", &out); err != nil {
		t.Fatal(err)
	}
	if out.String() != "template_id: python_sdk_test_map\n" {
		t.Errorf("output %q", out.String())
	}
	// Again: the template exists, and CARTO says so.
	err := run(ctx, m, "files/named_map.json", &out)
	if err == nil || !strings.Contains(err.Error(), "Template 'python_sdk_test_map' of user '"+a.User+"' already exists") {
		t.Errorf("second create: %v", err)
	}
	// Only the master key administers templates.
	err = run(ctx, maps.New(a.PublicClient(t)), "files/named_map.json", &out)
	if !carto.IsPermissionDenied(err) {
		t.Errorf("public key: %v", err)
	}
}
