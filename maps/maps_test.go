package maps_test

import (
	"context"
	"errors"
	"math"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"github.com/gocarto/carto"
	"github.com/gocarto/carto/cartolocal/cartotest"
	"github.com/gocarto/carto/maps"
)

func TestMain(m *testing.M) { os.Exit(cartotest.Main(m)) }

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// places makes a private cartodbfied table of three points.
func places(t *testing.T, a *cartotest.Account) {
	a.Exec(t, `CREATE TABLE places (name text, pop int, the_geom geometry(Point,4326));
		INSERT INTO places VALUES ('Madrid', 3300000, CDB_LatLng(40.4168, -3.7038)),
		                          ('Bilbao', 345000, CDB_LatLng(43.2630, -2.9350)),
		                          ('Sevilla', 684000, CDB_LatLng(37.3891, -5.9845));
		SELECT CDB_CartodbfyTable('places')`)
}

func TestAnonymousAndTiles(t *testing.T) {
	a := cartotest.New(t)
	places(t, a)
	m := maps.New(a.Client(t))
	lg, err := m.Anonymous(ctxT(t), &maps.MapConfig{Version: "1.7.0", Layers: []maps.Layer{
		{Type: maps.LayerMapnik, ID: "cities", Options: maps.LayerOptions{SQL: "SELECT * FROM places"}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^[0-9a-f]{32}:\d+$`).MatchString(lg.ID) || lg.Token() != lg.ID[:32] {
		t.Errorf("id %q token %q", lg.ID, lg.Token())
	}
	if lg.LastUpdated.Year() != 1970 {
		t.Errorf("last_updated %v: cartodbfy alone writes no CDB_TableMetadata row", lg.LastUpdated)
	}
	if len(lg.Metadata.Layers) != 1 || lg.Metadata.Layers[0].ID != "cities" || lg.Metadata.TileJSON.Raster != nil {
		t.Errorf("metadata %+v", lg.Metadata)
	}
	tj := lg.TileJSON("cities", true)
	if tj == nil || len(tj.Tiles) != 1 || !strings.HasSuffix(tj.Tiles[0], "/cities/{z}/{x}/{y}.mvt") {
		t.Errorf("tilejson %+v", tj)
	}
	// The key travels as Basic auth: no URL here holds it.
	for _, u := range []string{tj.Tiles[0], lg.TileURL("cities", 3, 1, 2, "mvt"), lg.Metadata.URL.Vector.URLTemplate} {
		if strings.Contains(u, a.MasterKey) {
			t.Errorf("URL with the key: %s", u)
		}
	}
	if got, want := lg.TileURL("0", 3, 1, 2, "mvt"), a.URL+"api/v1/map/"+lg.ID+"/0/3/1/2.mvt"; got != want {
		t.Errorf("TileURL %s, want %s", got, want)
	}
	if got, want := lg.TileURL("", 0, 0, 0, ""), a.URL+"api/v1/map/"+lg.ID+"/0/0/0.png"; got != want {
		t.Errorf("TileURL %s, want %s", got, want)
	}

	data, err := lg.Tile(ctxT(t), "", 2, 1, 1)
	if err != nil {
		t.Fatal(err)
	}
	layers, err := maps.DecodeTile(data, 2, 1, 1)
	if err != nil || len(layers) != 1 || layers[0].Name != "cities" {
		t.Fatalf("%v %v", err, layers)
	}
	want := map[string]orb.Point{"Madrid": {-3.7038, 40.4168}, "Bilbao": {-2.9350, 43.2630}, "Sevilla": {-5.9845, 37.3891}}
	if len(layers[0].Features) != 3 {
		t.Fatalf("%d features", len(layers[0].Features))
	}
	for _, f := range layers[0].Features {
		p, ok := f.Geometry.(orb.Point)
		w := want[f.Properties.MustString("name")]
		// One tile unit at zoom 2 is 90° / 4096 of longitude.
		if !ok || math.Abs(p[0]-w[0]) > 0.03 || math.Abs(p[1]-w[1]) > 0.03 {
			t.Errorf("%v at %v, want %v", f.Properties, f.Geometry, w)
		}
		if f.Properties["pop"] == nil {
			t.Errorf("properties %v", f.Properties)
		}
	}
	empty, err := lg.Tile(ctxT(t), "", 5, 0, 0)
	if err != nil || empty != nil {
		t.Errorf("empty tile: %v %v", empty, err)
	}
	if layers, err := maps.DecodeTile(empty, 5, 0, 0); err != nil || layers != nil {
		t.Errorf("decoding nothing: %v %v", layers, err)
	}

	// Without the key, the private table is refused: tiles run as the caller's key.
	pub := maps.New(a.PublicClient(t))
	_, err = pub.Anonymous(ctxT(t), &maps.MapConfig{Layers: []maps.Layer{maps.VectorLayer("SELECT * FROM places")}})
	var ce *carto.Error
	if !errors.As(err, &ce) || ce.StatusCode != 403 || !strings.Contains(ce.Message(), "permission denied") {
		t.Errorf("public anonymous map: %v", err)
	}
	// A layer error comes back with Windshaft's message.
	_, err = m.Anonymous(ctxT(t), &maps.MapConfig{Layers: []maps.Layer{maps.VectorLayer("SELECT * FROM nowhere")}})
	if !carto.IsNotFound(err) || !strings.Contains(err.Error(), `relation "nowhere" does not exist`) {
		t.Errorf("missing table: %v", err)
	}
}

func TestURLs(t *testing.T) {
	a := cartotest.New(t)
	m := maps.New(a.Client(t))
	lg, err := m.Anonymous(ctxT(t), &maps.MapConfig{Layers: []maps.Layer{maps.VectorLayer("SELECT 1 AS cartodb_id, ST_SetSRID(ST_MakePoint(0, 0), 3857) AS the_geom_webmercator")}})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := lg.CDNTileURL(true, "0", 1, 2, 3, "mvt"); ok {
		t.Error("cartolocal has no CDN")
	}
	lg.CDNURL = map[string]string{"http": "api.cartocdn.com", "https": "cartocdn.global.ssl.fastly.net"}
	if got, ok := lg.CDNTileURL(true, "0", 1, 2, 3, "mvt"); !ok || got != "https://cartocdn.global.ssl.fastly.net/"+a.User+"/api/v1/map/"+lg.ID+"/0/1/2/3.mvt" {
		t.Errorf("CDN URL %s", got)
	}
	if got := lg.AttributesURL("0", 5); got != a.URL+"api/v1/map/"+lg.ID+"/0/attributes/5" {
		t.Errorf("attributes URL %s", got)
	}
	if got := lg.StaticCenterURL(4, 40.5, -3.5, 600, 400, ""); got != a.URL+"api/v1/map/static/center/"+lg.ID+"/4/40.5/-3.5/600/400.png" {
		t.Errorf("static URL %s", got)
	}
	if got := lg.StaticBBoxURL(maps.Bounds{West: -10, South: 35, East: 5, North: 44}, 600, 400, "jpg"); got != a.URL+"api/v1/map/static/bbox/"+lg.ID+"/-10,35,5,44/600/400.jpg" {
		t.Errorf("static URL %s", got)
	}
	// As carto-python's NamedMap.get_tile_url: the template's id and its first token.
	if got := m.NamedTileURL("tpl_a", "0", 3, 1, 2, "mvt", "tok1"); got != a.URL+"api/v1/map/named/tpl_a/0/3/1/2.mvt?auth_token=tok1" {
		t.Errorf("named tile URL %s", got)
	}
}

func TestNamedMaps(t *testing.T) {
	a := cartotest.New(t)
	places(t, a)
	ctx := ctxT(t)
	m := maps.New(a.Client(t))
	zoom := 4.0
	tpl := &maps.Template{
		Name: "big_places",
		Auth: maps.TemplateAuth{Method: maps.AuthToken, ValidTokens: []string{"tok1"}},
		Placeholders: map[string]maps.Placeholder{
			"color":   {Type: maps.PlaceholderCSSColor, Default: "red"},
			"min_pop": {Type: maps.PlaceholderNumber, Default: 0},
			"name":    {Type: maps.PlaceholderSQLLiteral, Default: "none"},
		},
		LayerGroup: maps.MapConfig{Version: "1.0.1", Layers: []maps.Layer{{Type: maps.LayerCartoDB, Options: maps.LayerOptions{
			SQL:      "SELECT * FROM places WHERE pop > <%= min_pop %> AND name <> '<%= name %>'",
			CartoCSS: "#layer { marker-fill: <%= color %>; }", CartoCSSVersion: "2.1.1",
		}}}},
		View: &maps.View{Zoom: &zoom, Center: &maps.LngLat{Lng: -3.7, Lat: 40.4}},
	}
	id, err := m.CreateNamed(ctx, tpl)
	if err != nil || id != "big_places" {
		t.Fatalf("%q %v", id, err)
	}
	_, err = m.CreateNamed(ctx, tpl)
	var ce *carto.Error
	if !errors.As(err, &ce) || ce.StatusCode != 400 || ce.Message() != "Template 'big_places' of user '"+a.User+"' already exists" {
		t.Errorf("duplicate: %v", err)
	}
	names, err := m.ListNamed(ctx)
	if err != nil || len(names) != 1 || names[0] != "big_places" {
		t.Errorf("list %v %v", names, err)
	}
	got, err := m.GetNamed(ctx, "big_places")
	if err != nil || got.Version != "0.0.1" || got.Auth.ValidTokens[0] != "tok1" || got.Placeholders["min_pop"].Type != "number" ||
		got.LayerGroup.Layers[0].Options.SQL != tpl.LayerGroup.Layers[0].Options.SQL || *got.View.Zoom != 4 {
		t.Errorf("get %+v %v", got, err)
	}
	if _, err := m.GetNamed(ctx, "nope"); !carto.IsNotFound(err) {
		t.Errorf("get missing: %v", err)
	}
	tpl.Placeholders["color"] = maps.Placeholder{Type: maps.PlaceholderCSSColor, Default: "blue"}
	if err := m.UpdateNamed(ctx, tpl); err != nil {
		t.Fatal(err)
	}

	lg, err := m.Instantiate(ctx, "big_places", map[string]any{"min_pop": 500000}, "tok1")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(lg.ID, a.User+"@") || !strings.Contains(string(lg.Metadata.Layers[0].Meta), "marker-fill: blue;") {
		t.Errorf("instance %s %s", lg.ID, lg.Metadata.Layers[0].Meta)
	}
	data, err := lg.Tile(ctx, "0", 0, 0, 0) // the instance sends its token
	if err != nil {
		t.Fatal(err)
	}
	layers, err := maps.DecodeTile(data, 0, 0, 0)
	if err != nil || len(layers) != 1 || len(layers[0].Features) != 2 {
		t.Errorf("instance tile: %v %v", err, layers)
	}
	direct, err := m.NamedTile(ctx, "big_places", "all", 0, 0, 0, "tok1")
	if err != nil {
		t.Fatal(err)
	}
	if layers, _ := maps.DecodeTile(direct, 0, 0, 0); len(layers) != 1 || len(layers[0].Features) != 3 {
		t.Errorf("template tile: %v", layers)
	}
	if _, err := m.Instantiate(ctx, "big_places", nil, "wrong"); !carto.IsPermissionDenied(err) {
		t.Errorf("wrong token: %v", err)
	}
	_, err = m.Instantiate(ctx, "big_places", map[string]any{"min_pop": "1; DROP TABLE places"}, "tok1")
	if !errors.As(err, &ce) || ce.StatusCode != 400 || ce.Message() != "Invalid number value for template parameter 'min_pop': 1; DROP TABLE places" {
		t.Errorf("bad number: %v", err)
	}
	// Administration needs the master key.
	if _, err := maps.New(a.PublicClient(t)).ListNamed(ctx); !carto.IsPermissionDenied(err) {
		t.Errorf("public list: %v", err)
	}
	if err := m.DeleteNamed(ctx, "big_places"); err != nil {
		t.Fatal(err)
	}
	if err := m.DeleteNamed(ctx, "big_places"); !carto.IsNotFound(err) {
		t.Errorf("delete again: %v", err)
	}
}
