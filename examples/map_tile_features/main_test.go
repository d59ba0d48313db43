package main

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/gocarto/carto/cartolocal/cartotest"
	"github.com/gocarto/carto/maps"
)

func TestMain(m *testing.M) { os.Exit(cartotest.Main(m)) }

func TestMapTileFeatures(t *testing.T) {
	a := cartotest.New(t)
	a.Exec(t, `CREATE TABLE places (name text, the_geom geometry(Geometry,4326));
		INSERT INTO places VALUES ('Madrid', CDB_LatLng(40.4168, -3.7038)),
		  ('Gran Vía', ST_GeomFromText('LINESTRING(-3.7124 40.4240, -3.6893 40.4189)', 4326)),
		  ('Tokyo', CDB_LatLng(35.6762, 139.6503));
		SELECT CDB_CartodbfyTable('places')`)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var out bytes.Buffer
	err := run(ctx, maps.New(a.Client(t)), "SELECT * FROM places", 5, 15, 12, &out)
	if err != nil {
		t.Fatal(err)
	}
	s := out.String()
	for _, want := range []string{"tile 5/15/12: ", "layer layer0: 2 features\n", "  POINT(-3.70", " name=Madrid", "  LINESTRING(-3.71", "name=Gran Vía"} {
		if !strings.Contains(s, want) {
			t.Errorf("output lacks %q:\n%s", want, s)
		}
	}
	if strings.Contains(s, "Tokyo") {
		t.Errorf("Tokyo is not in tile 5/15/12:\n%s", s)
	}
	t.Log("\n" + s)
}
