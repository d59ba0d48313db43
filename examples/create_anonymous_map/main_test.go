package main

import (
	"bytes"
	"context"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gocarto/carto/cartolocal/cartotest"
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
	err := run(ctx, []string{"--base_url", a.URL, "--api_key", a.MasterKey, "files/anonymous_map.json"}, &out)
	if err != nil {
		t.Fatal(err)
	}
	s := out.String()
	if !regexp.MustCompile(`(?m)^layergroupid: [0-9a-f]{32}:\d+$`).MatchString(s) || !strings.Contains(s, "/maps/preview?layergroup=") ||
		strings.Contains(s, a.MasterKey) {
		t.Errorf("output:\n%s", s)
	}
	t.Log("\n" + s)
	if err := run(ctx, []string{"files/anonymous_map.json"}, &out); err == nil || !strings.Contains(err.Error(), "no base URL") {
		t.Errorf("without a base URL: %v", err)
	}
}
