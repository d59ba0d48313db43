package main

import (
	"bytes"
	"context"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gocarto/carto"
	"github.com/gocarto/carto/cartolocal/cartotest"
	"github.com/gocarto/carto/maps"
)

func TestMain(m *testing.M) { os.Exit(cartotest.Main(m)) }

func TestCreateAnonymousMap(t *testing.T) {
	a := cartotest.New(t)
	// The table the seed's MapConfig draws.
	a.Exec(t, `CREATE TABLE tornados_11 (name text, the_geom geometry(Polygon,4326));
		INSERT INTO tornados_11 VALUES ('t1', ST_GeomFromText('POLYGON((-97 35,-96 35,-96 36,-97 35))', 4326));
		SELECT CDB_CartodbfyTable('tornados_11')`)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var out bytes.Buffer
	err := run(ctx, maps.New(a.Client(t)), "files/anonymous_map.json", &out)
	if err != nil {
		t.Fatal(err)
	}
	s := out.String()
	if !regexp.MustCompile(`(?m)^layergroupid: [0-9a-f]{32}:\d+$`).MatchString(s) || !strings.Contains(s, "/maps/preview?layergroup=") ||
		strings.Contains(s, a.MasterKey) {
		t.Errorf("output:\n%s", s)
	}
	t.Log("\n" + s)
	// Without the key the private table is refused, with Windshaft's message.
	err = run(ctx, maps.New(a.PublicClient(t)), "files/anonymous_map.json", &out)
	if !carto.IsPermissionDenied(err) || !strings.Contains(err.Error(), "permission denied for table tornados_11") {
		t.Errorf("without a key: %v", err)
	}
	if err := run(ctx, maps.New(a.Client(t)), "no-such-file.json", &out); err == nil || strings.Contains(err.Error(), "no-such-file") {
		t.Errorf("a missing file: %v (the path is not quoted)", err)
	}
}
