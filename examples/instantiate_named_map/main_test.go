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

// namedMap is the seed's files/named_map.json (examples/create_named_map).
const namedMap = `{"version":"0.0.1","name":"python_sdk_test_map","auth":{"method":"token","valid_tokens":["example_token"]},
"placeholders":{"color":{"type":"css_color","default":"red"}},
"layergroup":{"version":"1.0.1","layers":[{"type":"cartodb","options":{"cartocss_version":"2.1.1","cartocss":"#layer { marker-fill: <%= color %>; }","sql":"select * from tornados_11"}}]},
"view":{"zoom":4,"center":{"lng":0,"lat":0},"bounds":{"west":-45,"south":-45,"east":45,"north":45}}}`

func TestInstantiateNamedMap(t *testing.T) {
	a := cartotest.New(t)
	a.Exec(t, `CREATE TABLE tornados_11 (name text, the_geom geometry(Point,4326));
		INSERT INTO tornados_11 VALUES ('t1', CDB_LatLng(35, -97));
		SELECT CDB_CartodbfyTable('tornados_11')`)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	resp, err := a.Client(t).Do(ctx, &carto.Request{Method: "POST", Path: "api/v1/map/named/", ContentType: "application/json", Body: []byte(namedMap)})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()

	var out bytes.Buffer
	m := maps.New(a.Client(t))
	err = run(ctx, m, "python_sdk_test_map", "files/instantiate_map.json", "example_token", &out)
	if err != nil {
		t.Fatal(err)
	}
	s := out.String()
	if !regexp.MustCompile(`(?m)^layergroupid: `+a.User+`@[0-9a-f]{8}@[0-9a-f]{32}:\d+$`).MatchString(s) ||
		!strings.Contains(s, "marker-fill: #ff6600;") || !strings.Contains(s, "api/v1/map/named/python_sdk_test_map/0/0/0/0.mvt?auth_token=example_token") {
		t.Errorf("output:\n%s", s)
	}
	t.Log("\n" + s)
	err = run(ctx, m, "python_sdk_test_map", "files/instantiate_map.json", "wrong_token", &out)
	if !carto.IsPermissionDenied(err) || !strings.Contains(err.Error(), "Unauthorized template instantiation") {
		t.Errorf("wrong token: %v", err)
	}
}
