package account_test

import (
	"archive/zip"
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-json-experiment/json"

	"github.com/gocarto/carto"
	"github.com/gocarto/carto/account"
	"github.com/gocarto/carto/cartolocal/cartotest"
	_ "github.com/gocarto/carto/driver"
	"github.com/gocarto/carto/maps"
)

func TestMain(m *testing.M) { os.Exit(cartotest.Main(m)) }

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// cartodbfied creates cartodbfied tables with a few points each, as a user of the SQL API would.
func cartodbfied(t *testing.T, acct *cartotest.Account, names ...string) {
	t.Helper()
	var b strings.Builder
	for _, n := range names {
		fmt.Fprintf(&b, "CREATE TABLE %[1]s (name text); INSERT INTO %[1]s (name) VALUES ('a'), ('b'); SELECT CDB_CartodbfyTable(current_schema(), '%[1]s'::regclass); UPDATE %[1]s SET the_geom = CDB_LatLng(40, -3);", n)
	}
	acct.Exec(t, b.String())
}

// dbWithKey opens the database/sql driver on the account with key.
func dbWithKey(t *testing.T, acct *cartotest.Account, key string) *sql.DB {
	t.Helper()
	dsn := strings.Replace(acct.DSN(), ":"+acct.MasterKey+"@", ":"+key+"@", 1)
	db, err := sql.Open("carto", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func clientWithKey(t *testing.T, acct *cartotest.Account, key string) *carto.Client {
	t.Helper()
	c, err := carto.NewClient(acct.URL, carto.WithAPIKey(key))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func count(t *testing.T, db *sql.DB, table string) (int, error) {
	t.Helper()
	var n int
	err := db.QueryRow("SELECT count(*) FROM " + table).Scan(&n)
	return n, err
}

func status(err error) int {
	var ce *carto.Error
	if errors.As(err, &ce) {
		return ce.StatusCode
	}
	return -1
}

// Privacy is real: what a dataset's privacy allows, the public key reads through the driver (SQL
// API) and maps through the Maps API, both ways.
func TestPrivacyChangesWhatThePublicKeyReads(t *testing.T) {
	ctx := ctxT(t)
	acct := cartotest.New(t)
	cartodbfied(t, acct, "places")
	ds := account.NewDatasets(acct.Client(t))
	pub := dbWithKey(t, acct, acct.PublicKey)
	pubMaps := maps.New(acct.PublicClient(t))

	v, err := ds.Get(ctx, "places")
	if err != nil {
		t.Fatal(err)
	}
	if v.Privacy != account.Private || v.Type != "table" || v.Table == nil || v.Table.RowCount != 2 || !slices.Equal(v.Table.GeometryTypes, []string{"ST_Point"}) {
		t.Fatalf("dataset %+v table %+v", v, v.Table)
	}
	if _, err := count(t, pub, "places"); status(err) != 403 {
		t.Fatalf("private dataset through the public key: %v", err)
	}
	for _, c := range []struct {
		p    account.Privacy
		read bool
	}{{account.Public, true}, {account.Private, false}, {account.Link, true}, {account.Private, false}} {
		got, err := ds.SetPrivacy(ctx, v.ID, c.p)
		if err != nil {
			t.Fatal(err)
		}
		if got.Privacy != c.p {
			t.Fatalf("privacy %s: %s", c.p, got.Privacy)
		}
		n, err := count(t, pub, "places")
		if c.read && (err != nil || n != 2) || !c.read && status(err) != 403 {
			t.Fatalf("%s: %d %v", c.p, n, err)
		}
		// The Maps API sees the same: a map of the dataset with no key, and its tile.
		lg, err := pubMaps.Anonymous(ctx, &maps.MapConfig{Layers: []maps.Layer{maps.VectorLayer("SELECT * FROM places")}})
		if !c.read {
			if !carto.IsPermissionDenied(err) {
				t.Fatalf("%s: a map of it with no key: %v", c.p, err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: a map of it with no key: %v", c.p, err)
		}
		// The points are at 40N 3W: tile 0/0/0 holds them.
		tile, err := lg.Tile(ctx, "", 0, 0, 0)
		if err != nil {
			t.Fatalf("%s: tile: %v", c.p, err)
		}
		if layers, err := maps.DecodeTile(tile, 0, 0, 0); err != nil || len(layers) != 1 || len(layers[0].Features) != 2 {
			t.Fatalf("%s: tile: %v %v", c.p, layers, err)
		}
	}
	// Without a key the list shows only public datasets.
	if _, err := ds.SetPrivacy(ctx, "places", account.Public); err != nil {
		t.Fatal(err)
	}
	cartodbfied(t, acct, "secret")
	var names []string
	for v, err := range account.NewDatasets(acct.PublicClient(t)).List(ctx, nil) {
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, v.Name)
	}
	if !slices.Equal(names, []string{"places"}) {
		t.Fatalf("public list: %v", names)
	}
}

func TestRegularKeyGrants(t *testing.T) {
	ctx := ctxT(t)
	acct := cartotest.New(t)
	cartodbfied(t, acct, "t1", "t2")
	keys := account.NewAPIKeys(acct.Client(t))
	k, err := keys.Create(ctx, "reader", account.Grants{
		APIs:   []account.API{account.SQLAPI},
		Tables: []account.TableGrant{{Schema: acct.User, Name: "t1", Permissions: []account.TablePermission{account.Select}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if k.Type != account.RegularKey || k.Token == "" || len(k.Grants.Tables) != 1 || k.Grants.Tables[0].Name != "t1" ||
		!slices.Equal(k.Grants.Tables[0].Permissions, []account.TablePermission{account.Select}) || k.CreatedAt.IsZero() {
		t.Fatalf("key %+v", k)
	}
	db := dbWithKey(t, acct, k.Token)
	if n, err := count(t, db, "t1"); err != nil || n != 2 {
		t.Fatalf("t1: %d %v", n, err)
	}
	if _, err := count(t, db, "t2"); status(err) != 403 {
		t.Fatalf("t2 must be 403: %v", err)
	}
	if _, err := db.Exec("DELETE FROM t1"); status(err) != 403 {
		t.Fatalf("delete was not granted: %v", err)
	}
	// The key sees itself, and only itself, through the Auth API.
	own := account.NewAPIKeys(clientWithKey(t, acct, k.Token))
	var seen []string
	for key, err := range own.List(ctx, nil) {
		if err != nil {
			t.Fatal(err)
		}
		seen = append(seen, key.Name)
	}
	if !slices.Equal(seen, []string{"reader"}) {
		t.Fatalf("a regular key lists %v", seen)
	}
	if _, err := own.Create(ctx, "other", account.Grants{APIs: []account.API{account.SQLAPI}}); status(err) != 401 {
		t.Fatalf("only the master key creates keys: %v", err)
	}

	// A key without the sql API cannot use the SQL API.
	mapsOnly, err := keys.Create(ctx, "maps-only", account.Grants{APIs: []account.API{account.MapsAPI},
		Tables: []account.TableGrant{{Schema: acct.User, Name: "t1", Permissions: []account.TablePermission{account.Select}}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := count(t, dbWithKey(t, acct, mapsOnly.Token), "t1"); status(err) != 403 {
		t.Fatalf("a key without sql: %v", err)
	}
	// And a key without the maps API cannot create a map, of a table it may read or not; the
	// maps-only key maps t1.
	cfg := &maps.MapConfig{Layers: []maps.Layer{maps.VectorLayer("SELECT * FROM t1")}}
	if _, err := maps.New(clientWithKey(t, acct, k.Token)).Anonymous(ctx, cfg); !carto.IsPermissionDenied(err) {
		t.Fatalf("a key without maps made a map: %v", err)
	}
	if _, err := maps.New(clientWithKey(t, acct, mapsOnly.Token)).Anonymous(ctx, cfg); err != nil {
		t.Fatalf("the maps-only key: %v", err)
	}

	re, err := keys.Regenerate(ctx, "reader")
	if err != nil || re.Token == k.Token {
		t.Fatalf("regenerate: %+v %v", re, err)
	}
	if _, err := count(t, db, "t1"); status(err) != 401 {
		t.Fatalf("the old token after regenerate: %v", err)
	}
	if n, err := count(t, dbWithKey(t, acct, re.Token), "t1"); err != nil || n != 2 {
		t.Fatalf("the new token: %d %v", n, err)
	}
	if err := keys.Delete(ctx, "reader"); err != nil {
		t.Fatal(err)
	}
	if _, err := count(t, dbWithKey(t, acct, re.Token), "t1"); status(err) != 401 {
		t.Fatalf("a deleted key must answer 401: %v", err)
	}
	if _, err := keys.Get(ctx, "reader"); status(err) != 404 || !strings.Contains(err.Error(), "API key not found: reader") {
		t.Fatalf("get deleted: %v", err)
	}
	if err := keys.Delete(ctx, "Master"); status(err) != 403 {
		t.Fatalf("the master key cannot be deleted: %v", err)
	}
}

// rawCreate posts an Auth API create body as is, to check the server's own validation.
func rawCreate(ctx context.Context, c *carto.Client, body string) error {
	resp, err := c.Do(ctx, &carto.Request{Method: http.MethodPost, Path: "api/v3/api_keys", Body: []byte(body), ContentType: "application/json"})
	if err == nil {
		resp.Body.Close()
	}
	return err
}

func TestAuthAPIValidation(t *testing.T) {
	ctx := ctxT(t)
	acct := cartotest.New(t)
	cartodbfied(t, acct, "mine")
	c := acct.Client(t)
	keys := account.NewAPIKeys(c)
	if _, err := keys.Create(ctx, "dup", account.Grants{APIs: []account.API{account.SQLAPI}}); err != nil {
		t.Fatal(err)
	}
	sqlOnly := account.Grants{APIs: []account.API{account.SQLAPI}}
	for _, tc := range []struct {
		name string
		err  error
		want string
	}{
		{"duplicate name", func() error { _, err := keys.Create(ctx, "dup", sqlOnly); return err }(), "Validation failed: Name has already been taken"},
		{"reserved name", func() error { _, err := keys.Create(ctx, "Master", sqlOnly); return err }(),
			"Validation failed: Name has already been taken, Name api_key name cannot be Master nor Default public"},
		{"missing apis", rawCreate(ctx, c, `{"name":"k","grants":[{"type":"database","tables":[]}]}`), "Validation failed: Grants only one apis section is allowed"},
		{"grants not a list", rawCreate(ctx, c, `{"name":"k"}`), "Validation failed: Grants grants has to be an array"},
		{"bad permission", rawCreate(ctx, c, `{"name":"k","grants":[{"type":"apis","apis":["sql"]},{"type":"database","tables":[{"schema":"`+acct.User+`","name":"mine","permissions":["truncate"]}]}]}`),
			`Validation failed: Grants The property '#/1/tables/0/permissions/0' value "truncate" did not match one of the following values: insert, select, update, delete`},
		{"table the owner lacks", func() error {
			_, err := keys.Create(ctx, "k", account.Grants{APIs: []account.API{account.SQLAPI},
				Tables: []account.TableGrant{{Schema: "pg_catalog", Name: "pg_authid", Permissions: []account.TablePermission{account.Select}}}})
			return err
		}(), "Validation failed: Grants can only grant table permissions you have"},
		{"table that does not exist", func() error {
			_, err := keys.Create(ctx, "k", account.Grants{APIs: []account.API{account.SQLAPI},
				Tables: []account.TableGrant{{Schema: acct.User, Name: "nope", Permissions: []account.TablePermission{account.Select}}}})
			return err
		}(), "Validation failed: Grants can only grant table permissions you have"},
	} {
		var ce *carto.Error
		if !errors.As(tc.err, &ce) || ce.StatusCode != 422 || ce.Message() != tc.want {
			t.Errorf("%s: got %v, want 422 %q", tc.name, tc.err, tc.want)
		}
	}
	if _, err := keys.Create(ctx, "k", account.Grants{}); !errors.Is(err, account.ErrNoAPIs) {
		t.Errorf("no APIs: %v", err)
	}
}

func TestAPIKeyListPagesWithLinks(t *testing.T) {
	ctx := ctxT(t)
	acct := cartotest.New(t)
	c := acct.Client(t)
	keys := account.NewAPIKeys(c)
	for i := range 5 {
		if _, err := keys.Create(ctx, fmt.Sprintf("k%d", i), account.Grants{APIs: []account.API{account.SQLAPI}}); err != nil {
			t.Fatal(err)
		}
	}
	var names []string
	var types []account.KeyType
	for k, err := range keys.List(ctx, &account.KeyListOptions{PerPage: 2}) {
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, k.Name)
		types = append(types, k.Type)
	}
	if len(names) != 7 || names[0] != "Master" || names[1] != "Default public" || types[2] != account.RegularKey {
		t.Fatalf("keys %v %v", names, types)
	}
	master, err := keys.Get(ctx, "Master")
	if err != nil || master.Token != acct.MasterKey || master.Type != account.MasterKey || !slices.Contains(master.Grants.APIs, account.MapsAPI) {
		t.Fatalf("master %+v %v", master, err)
	}
	def, err := keys.Get(ctx, "Default public")
	if err != nil || def.Token != "default_public" {
		t.Fatalf("default %+v %v", def, err)
	}
	var regular []string
	for k, err := range keys.List(ctx, &account.KeyListOptions{Types: []account.KeyType{account.RegularKey}}) {
		if err != nil {
			t.Fatal(err)
		}
		regular = append(regular, k.Name)
	}
	if len(regular) != 5 {
		t.Fatalf("regular %v", regular)
	}

	// The page's _links, as CARTO's paged_result writes them.
	resp, err := c.Do(ctx, &carto.Request{Path: "api/v3/api_keys", Query: map[string][]string{"page": {"2"}, "per_page": {"2"}}})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var page struct {
		Total  int `json:"total"`
		Count  int `json:"count"`
		Result []struct {
			Links struct {
				Self string `json:"self"`
			} `json:"_links"`
		} `json:"result"`
		Links map[string]struct {
			Href string `json:"href"`
		} `json:"_links"`
	}
	if err := json.UnmarshalRead(resp.Body, &page); err != nil {
		t.Fatal(err)
	}
	base := strings.TrimSuffix(acct.URL, "/") + "/api/v3/api_keys"
	if page.Total != 7 || page.Count != 2 || page.Result[0].Links.Self != base+"/k0" && !strings.HasPrefix(page.Result[0].Links.Self, base+"/k") {
		t.Fatalf("page %+v", page)
	}
	for rel, want := range map[string]string{"first": "page=1", "last": "page=4", "prev": "page=1", "next": "page=3"} {
		if !strings.Contains(page.Links[rel].Href, want) || !strings.HasPrefix(page.Links[rel].Href, base+"?") {
			t.Errorf("%s: %q", rel, page.Links[rel].Href)
		}
	}
	if resp, err := c.Do(ctx, &carto.Request{Path: "api/v3/api_keys", Query: map[string][]string{"type": {"bogus"}}}); status(err) != 400 {
		if resp != nil {
			resp.Body.Close()
		}
		t.Fatalf("bad type: %v", err)
	}
	if _, err := account.NewAPIKeys(acct.PublicClient(t)).Get(ctx, "Master"); status(err) != 401 {
		t.Fatalf("no key: %v", err)
	}

	// Regenerating the master key changes the account's master key, as CARTO's does; the
	// default public key's token cannot change.
	if _, err := keys.Regenerate(ctx, "Default public"); status(err) != 422 {
		t.Fatalf("regenerate the default key: %v", err)
	}
	m2, err := keys.Regenerate(ctx, "Master")
	if err != nil || m2.Token == acct.MasterKey || len(m2.Token) != 40 {
		t.Fatalf("regenerate master: %+v %v", m2, err)
	}
	if _, err := keys.Get(ctx, "Master"); status(err) != 401 {
		t.Fatalf("the old master key: %v", err)
	}
	again, err := account.NewAPIKeys(clientWithKey(t, acct, m2.Token)).Get(ctx, "Master")
	if err != nil || again.Token != m2.Token {
		t.Fatalf("the new master key: %+v %v", again, err)
	}
}

func TestVizListGetUpdateDelete(t *testing.T) {
	ctx := ctxT(t)
	acct := cartotest.New(t)
	cartodbfied(t, acct, "roads", "rivers")
	c := acct.Client(t)
	ds, maps := account.NewDatasets(c), account.NewVisualizations(c)
	m, err := maps.Create(ctx, account.MapSpec{Name: "Water", Tables: []string{"rivers"}, Tags: []string{"blue"}})
	if err != nil {
		t.Fatal(err)
	}
	if m.Type != "derived" || m.Name != "Water" || len(m.RelatedTables) != 1 || m.RelatedTables[0].Name != "rivers" || m.Privacy != account.Public {
		t.Fatalf("map %+v", m)
	}
	if _, err := maps.Create(ctx, account.MapSpec{Tables: []string{"nope"}}); status(err) != 404 {
		t.Fatalf("map on an unknown table: %v", err)
	}
	rivers, err := ds.Get(ctx, "rivers")
	if err != nil || rivers.DependentVisualizationsCount != 1 || len(rivers.DependentVisualizations) != 1 {
		t.Fatalf("rivers %+v %v", rivers, err)
	}
	if err := ds.Delete(ctx, "rivers"); !errors.Is(err, account.ErrHasDependents) {
		t.Fatalf("delete with dependents: %v", err)
	}
	if _, err := ds.Get(ctx, m.ID); status(err) != 404 {
		t.Fatalf("a map is not a dataset: %v", err)
	}

	renamed, err := ds.Rename(ctx, "roads", "streets")
	if err != nil || renamed.Name != "streets" {
		t.Fatalf("rename %+v %v", renamed, err)
	}
	if n, err := count(t, dbWithKey(t, acct, acct.MasterKey), "streets"); err != nil || n != 2 {
		t.Fatalf("the table is renamed: %d %v", n, err)
	}
	if _, err := ds.Rename(ctx, "streets", "rivers"); status(err) != 400 || !strings.Contains(err.Error(), "Name has already been taken") {
		t.Fatalf("rename to a taken name: %v", err)
	}
	if _, err := ds.Update(ctx, "streets", "all the streets", []string{"urban"}); err != nil {
		t.Fatal(err)
	}
	var found []string
	for v, err := range ds.List(ctx, &account.ListOptions{Query: "streets"}) {
		if err != nil {
			t.Fatal(err)
		}
		found = append(found, v.Name)
	}
	if !slices.Equal(found, []string{"streets"}) {
		t.Fatalf("q: %v", found)
	}
	found = nil
	for v, err := range maps.List(ctx, &account.ListOptions{Tags: []string{"blue"}}) {
		if err != nil {
			t.Fatal(err)
		}
		found = append(found, v.Name)
	}
	if !slices.Equal(found, []string{"Water"}) {
		t.Fatalf("tags: %v", found)
	}
	for _, err := range ds.List(ctx, &account.ListOptions{Order: "bogus"}) {
		if status(err) != 400 || !strings.Contains(err.Error(), "Wrong 'order' parameter value. Valid values are one of [:name, :updated_at") {
			t.Fatalf("bad order: %v", err)
		}
	}

	// The table API, as carto-python reads an import's table.
	tbl, err := account.NewTables(c).Get(ctx, rivers.ID)
	if err != nil {
		t.Fatal(err)
	}
	if tbl.Name != "rivers" || tbl.Visualization == nil || tbl.Visualization.ID != rivers.ID || len(tbl.Columns) < 3 ||
		tbl.Columns[0].Name != "cartodb_id" || tbl.Columns[1].Type != "geometry" || tbl.Columns[1].GeometryType != "point" || tbl.RowCount != 2 {
		t.Fatalf("table %+v", tbl)
	}
	for _, col := range tbl.Columns {
		if col.Name == "the_geom_webmercator" {
			t.Fatal("the schema leaves the_geom_webmercator out")
		}
	}

	if err := ds.ForceDelete(ctx, "rivers"); err != nil {
		t.Fatal(err)
	}
	if _, err := maps.Get(ctx, m.ID); status(err) != 404 || !strings.Contains(err.Error(), "Visualization does not exist") {
		t.Fatalf("the map of only a deleted dataset goes: %v", err)
	}
	if _, err := count(t, dbWithKey(t, acct, acct.MasterKey), "rivers"); err == nil {
		t.Fatal("the table must be dropped")
	}
	if _, err := account.NewDatasets(acct.PublicClient(t)).Rename(ctx, "streets", "x"); status(err) != 403 {
		// Without a key a private dataset cannot even be seen.
		t.Fatalf("rename without a key: %v", err)
	}
}

func TestListing250DatasetsPagesEachOnce(t *testing.T) {
	ctx := ctxT(t)
	acct := cartotest.New(t)
	var b strings.Builder
	for i := range 250 {
		fmt.Fprintf(&b, "CREATE TABLE d%03d (v int); SELECT CDB_CartodbfyTable(current_schema(), 'd%03d'::regclass);", i, i)
	}
	acct.Exec(t, b.String())
	seen := map[string]int{}
	for v, err := range account.NewDatasets(acct.Client(t)).List(ctx, nil) {
		if err != nil {
			t.Fatal(err)
		}
		seen[v.Name]++
	}
	if len(seen) != 250 {
		t.Fatalf("%d datasets seen", len(seen))
	}
	for n, c := range seen {
		if c != 1 {
			t.Fatalf("%s seen %d times", n, c)
		}
	}
	// Stopping early stops paging.
	n := 0
	for _, err := range account.NewDatasets(acct.Client(t)).List(ctx, &account.ListOptions{PerPage: 7}) {
		if err != nil {
			t.Fatal(err)
		}
		if n++; n == 10 {
			break
		}
	}
}

func TestExportToCartoFile(t *testing.T) {
	ctx := ctxT(t)
	acct := cartotest.New(t)
	cartodbfied(t, acct, "stations", "lines")
	c := acct.Client(t)
	maps := account.NewVisualizations(c)
	m, err := maps.Create(ctx, account.MapSpec{Name: "Transit", Description: "how to move", Tables: []string{"stations", "lines"}})
	if err != nil {
		t.Fatal(err)
	}
	stations, err := account.NewDatasets(c).Get(ctx, "stations")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := maps.Export(ctx, stations.ID); status(err) != 404 {
		t.Fatalf("exporting a dataset: %v", err) // Get of a map by a dataset's id
	}

	e, err := maps.Export(ctx, "Transit", stations.ID)
	if err != nil {
		t.Fatal(err)
	}
	if e.State != account.ExportPending || e.VisualizationID != m.ID || e.URL != "" {
		t.Fatalf("created %+v", e)
	}
	var states []string
	done, err := maps.Wait(ctx, e.ID, func(x *account.Export) { states = append(states, x.State) })
	if err != nil {
		t.Fatal(err)
	}
	if done.State != account.ExportComplete || states[len(states)-1] != account.ExportComplete || !strings.HasSuffix(done.URL, "/api/v3/visualization_exports/"+e.ID+"/download") {
		t.Fatalf("done %+v, states %v", done, states)
	}
	var buf bytes.Buffer
	n, err := maps.Download(ctx, done, &buf)
	if err != nil || n != int64(buf.Len()) {
		t.Fatal(n, err)
	}
	zr, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]*zip.File{}
	for _, f := range zr.File {
		files[f.Name] = f
	}
	jf := files[m.ID+"/"+m.ID+".carto.json"]
	gf := files[m.ID+"/stations.gpkg"]
	if jf == nil || gf == nil || files[m.ID+"/lines.gpkg"] != nil {
		t.Fatalf("files %v", zr.File)
	}
	rc, err := jf.Open()
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Version       string `json:"version"`
		Visualization struct {
			Name        string `json:"name"`
			Description string `json:"description"`
			Type        string `json:"type"`
			Layers      []struct {
				Options struct {
					TableName string `json:"table_name"`
				} `json:"options"`
			} `json:"layers"`
			MapConfig struct {
				Layers []struct {
					Options struct {
						SQL string `json:"sql"`
					} `json:"options"`
				} `json:"layers"`
			} `json:"mapconfig"`
		} `json:"visualization"`
	}
	err = json.UnmarshalRead(rc, &doc)
	rc.Close()
	if err != nil {
		t.Fatal(err)
	}
	v := doc.Visualization
	if doc.Version != "2.0.0" || v.Name != "Transit" || v.Description != "how to move" || v.Type != "derived" ||
		len(v.Layers) != 2 || v.Layers[0].Options.TableName != "stations" || len(v.MapConfig.Layers) != 2 ||
		!strings.Contains(v.MapConfig.Layers[1].Options.SQL, `"lines"`) {
		t.Fatalf("carto.json %+v", doc)
	}
	g, err := gf.Open()
	if err != nil {
		t.Fatal(err)
	}
	head := make([]byte, 16)
	_, err = io.ReadFull(g, head)
	g.Close()
	if err != nil || string(head) != "SQLite format 3\x00" {
		t.Fatalf("stations.gpkg is not a GeoPackage: %q %v", head, err)
	}

	// Another account's key sees nothing of it.
	other := cartotest.New(t)
	if _, err := account.NewVisualizations(clientWithKey(t, acct, other.MasterKey)).GetExport(ctx, e.ID); !carto.IsPermissionDenied(err) {
		t.Fatalf("another account's key: %v", err)
	}
}

func TestUsers(t *testing.T) {
	ctx := ctxT(t)
	admin, member, outsider := cartotest.New(t), cartotest.New(t), cartotest.New(t)
	cartodbfied(t, member, "m1")
	u, err := account.NewUsers(member.Client(t), "").Get(ctx, member.User)
	if err != nil {
		t.Fatal(err)
	}
	if u.Username != member.User || u.TableCount != 1 || u.DBSizeInBytes <= 0 || u.OrgUser || u.QuotaInBytes-u.DBSizeInBytes != u.RemainingByteQuota {
		t.Fatalf("user %+v", u)
	}
	if err := admin.Server.AddOrganization(ctx, "org-"+admin.User, admin.User, member.User); err != nil {
		t.Fatal(err)
	}
	org := "org-" + admin.User
	got, err := account.NewUsers(admin.Client(t), org).Get(ctx, member.User)
	if err != nil {
		t.Fatal(err)
	}
	if got.Username != member.User || !got.OrgUser || got.OrgAdmin || got.TableCount != 1 || got.ID != "" {
		t.Fatalf("org user %+v", got)
	}
	self, err := account.NewUsers(admin.Client(t), org).Get(ctx, admin.User)
	if err != nil || !self.OrgAdmin {
		t.Fatalf("admin %+v %v", self, err)
	}
	if _, err := account.NewUsers(admin.Client(t), org).Get(ctx, outsider.User); status(err) != 404 ||
		!strings.Contains(err.Error(), fmt.Sprintf("No user with username '%s' in '%s'", outsider.User, org)) {
		t.Fatalf("not a member: %v", err)
	}
	if _, err := account.NewUsers(member.Client(t), org).Get(ctx, admin.User); status(err) != 401 {
		t.Fatalf("a member is not the admin: %v", err)
	}
	if _, err := account.NewUsers(admin.Client(t), "no-such-org").Get(ctx, member.User); status(err) != 401 {
		t.Fatalf("unknown org: %v", err)
	}
}

func TestDataServicesQuota(t *testing.T) {
	acct := cartotest.New(t)
	rows, err := dbWithKey(t, acct, acct.MasterKey).Query("SELECT service, monthly_quota, used_quota, soft_limit, provider FROM cdb_dataservices_client.cdb_service_quota_info()")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var services []string
	for rows.Next() {
		var (
			service       string
			monthly, used float64
			soft          bool
			provider      sql.NullString
		)
		if err := rows.Scan(&service, &monthly, &used, &soft, &provider); err != nil {
			t.Fatal(err)
		}
		if monthly != 0 || used != 0 || soft {
			t.Fatalf("%s: %v %v %v", service, monthly, used, soft)
		}
		services = append(services, service)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(services, []string{"isolines", "hires_geocoder", "routing", "observatory"}) {
		t.Fatalf("services %v", services)
	}
}

// An organization's admin manages its members' keys with target_user (CARTO's Auth API); members
// cannot, and accounts outside the organization are not found.
func TestOrgAdminManagesMembersKeys(t *testing.T) {
	ctx := ctxT(t)
	admin, member, outsider := cartotest.New(t), cartotest.New(t), cartotest.New(t)
	cartodbfied(t, member, "mt")
	org := "org-" + admin.User
	if err := admin.Server.AddOrganization(ctx, org, admin.User, member.User); err != nil {
		t.Fatal(err)
	}
	create := func(c *carto.Client, target, body string) (string, error) {
		resp, err := c.Do(ctx, &carto.Request{Method: http.MethodPost, Path: "api/v3/api_keys",
			Query: url.Values{"target_user": {target}}, Body: []byte(body), ContentType: "application/json"})
		if err != nil {
			return "", err
		}
		defer resp.Body.Close()
		var k struct {
			Token string `json:"token"`
			User  struct {
				Username string `json:"username"`
			} `json:"user"`
		}
		if err := json.UnmarshalRead(resp.Body, &k); err != nil || k.User.Username != target {
			t.Fatalf("created %+v %v", k, err)
		}
		return k.Token, nil
	}
	body := `{"name":"for-member","grants":[{"type":"apis","apis":["sql"]},{"type":"database","tables":[{"schema":"` + member.User + `","name":"mt","permissions":["select"]}]}]}`
	token, err := create(admin.Client(t), member.User, body)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := count(t, dbWithKey(t, member, token), "mt"); err != nil || n != 2 {
		t.Fatalf("the member's new key: %d %v", n, err)
	}
	if _, err := create(member.Client(t), admin.User, `{"name":"x","grants":[{"type":"apis","apis":["sql"]}]}`); status(err) != 403 {
		t.Fatalf("a member managing the admin's keys: %v", err)
	}
	_, err = create(admin.Client(t), outsider.User, `{"name":"x","grants":[{"type":"apis","apis":["sql"]}]}`)
	if status(err) != 404 || !strings.Contains(err.Error(), fmt.Sprintf("User '%s' not found in the organization '%s'", outsider.User, org)) {
		t.Fatalf("an account outside the organization: %v", err)
	}
}
