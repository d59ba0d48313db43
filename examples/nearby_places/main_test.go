package main

import (
	"context"
	"database/sql"
	"os"
	"strings"
	"testing"

	"github.com/gocarto/carto/cartolocal/cartotest"
)

func TestMain(m *testing.M) { os.Exit(cartotest.Main(m)) }

func TestNearbyPlaces(t *testing.T) {
	acct := cartotest.New(t)
	acct.Exec(t, `CREATE TABLE places (name text, country text);
		SELECT CDB_CartodbfyTable(current_schema(), 'places');
		INSERT INTO places (name, country, the_geom) VALUES
		  ('Madrid', 'Spain', CDB_LatLng(40.4168, -3.7038)),
		  ('Toledo', 'Spain', CDB_LatLng(39.8628, -4.0273)),
		  ('Paris', 'France', CDB_LatLng(48.8566, 2.3522)),
		  ('Nowhere', 'None', NULL);`)
	db, err := sql.Open("carto", acct.DSN())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var out strings.Builder
	if err := run(context.Background(), db, args{Lat: 40.4168, Lng: -3.7038, Limit: 2}, &out); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 4 {
		t.Fatalf("output:\n%s", out.String())
	}
	if f := strings.Fields(lines[1]); f[0] != "Madrid" || f[2] != "POINT(-3.7038" || f[4] != "0.0" {
		t.Errorf("first row %q", lines[1])
	}
	// Madrid to Toledo is about 67 km on the sphere.
	if f := strings.Fields(lines[2]); f[0] != "Toledo" || f[4] < "66" || f[4] > "68" {
		t.Errorf("second row %q", lines[2])
	}
	if lines[3] != "2 places nearest to (40.4168, -3.7038)" {
		t.Errorf("summary %q", lines[3])
	}
	if err := run(context.Background(), db, args{Limit: 0}, &out); err == nil {
		t.Error("a zero limit was accepted")
	}
}
