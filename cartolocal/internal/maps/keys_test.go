package maps_test

import (
	"encoding/json"
	"fmt"
	"testing"
)

var keyNames int

// regularKey creates a regular API key through the Auth API and returns its token.
func regularKey(t *testing.T, a *account, grants string) string {
	t.Helper()
	keyNames++
	got := postJSON(t, a.url("api/v3/api_keys?api_key="+a.master), fmt.Sprintf(`{"name":"key%d","grants":%s}`, keyNames, grants))
	var k struct {
		Token string `json:"token"`
	}
	if got.status != 201 || json.Unmarshal(got.body, &k) != nil || k.Token == "" {
		t.Fatalf("creating a key: %d %s", got.status, got.body)
	}
	return k.Token
}

// TestRegularKeys: layers run as the key's own role. A key granted the table maps it; a key
// without the table gets PostgreSQL's permission error (sample 13b); a key without the maps API
// is refused.
func TestRegularKeys(t *testing.T) {
	a := newAccount(t)
	samplePts(t, a)
	reader := regularKey(t, a, `[{"type":"apis","apis":["maps"]},{"type":"database","tables":[{"schema":"`+a.name+`","name":"maps_sample_pts","permissions":["select"]}]}]`)
	other := regularKey(t, a, `[{"type":"apis","apis":["maps","sql"]}]`)
	sqlOnly := regularKey(t, a, `[{"type":"apis","apis":["sql"]},{"type":"database","tables":[{"schema":"`+a.name+`","name":"maps_sample_pts","permissions":["select"]}]}]`)

	ok := postJSON(t, a.url("api/v1/map?api_key="+reader), cartoCSSMap)
	if ok.status != 200 {
		t.Fatalf("granted key: %d %s", ok.status, ok.body)
	}
	id := ok.header.Get("X-Layergroup-Id")
	if master := postJSON(t, a.url("api/v1/map?api_key="+a.master), cartoCSSMap); master.header.Get("X-Layergroup-Id") == id {
		t.Errorf("the master key's map and the regular key's share an id: %s", id)
	}
	tile := do(t, "GET", a.url("api/v1/map/"+id+"/0/0/0/0.mvt?api_key="+reader), "", "")
	if tile.status != 200 || layerNames(t, tile.body)["layer0"] != 4 {
		t.Errorf("granted key's tile: %d", tile.status)
	}
	denied := postJSON(t, a.url("api/v1/map?api_key="+other), cartoCSSMap)
	if m, _ := errorsOf(t, denied); denied.status != 403 || m != "PgMvtFactory: permission denied for table maps_sample_pts" {
		t.Errorf("key without the table: %d %s", denied.status, denied.body)
	}
	// The granted key's layergroup, asked with a key that may not read the table: tiles are
	// authorized per request (sample 30).
	got := do(t, "GET", a.url("api/v1/map/"+id+"/0/0/0/0.mvt?api_key="+other), "", "")
	if m, _ := errorsOf(t, got); got.status != 403 || m != "PgMvtFactory: permission denied for table maps_sample_pts" {
		t.Errorf("another key's layergroup: %d %s", got.status, got.body)
	}
	noMaps := postJSON(t, a.url("api/v1/map?api_key="+sqlOnly), cartoCSSMap)
	if m, ctx := errorsOf(t, noMaps); noMaps.status != 403 || m != "Forbidden" || ctx["subtype"] != "api-key-does-not-grant-access" {
		t.Errorf("key without maps: %d %s", noMaps.status, noMaps.body)
	}
	if got := postJSON(t, a.url("api/v1/map/named?api_key="+reader), sampleTemplate); got.status != 403 {
		t.Errorf("regular key creating a template: %d %s", got.status, got.body)
	}
}
