package maps_test

import (
	"encoding/json"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// sampleTemplate is the samples' named map: token auth and one placeholder of each type.
const sampleTemplate = `{"version":"0.0.1","name":"sample_tpl","auth":{"method":"token","valid_tokens":["tok1"]},"placeholders":{"color":{"type":"css_color","default":"red"},"nm":{"type":"sql_literal","default":"none"},"minv":{"type":"number","default":0},"tbl":{"type":"sql_ident","default":"maps_sample_pts"}},"layergroup":{"version":"1.0.1","layers":[{"type":"cartodb","options":{"cartocss_version":"2.1.1","cartocss":"#layer { marker-fill: <%= color %>; }","sql":"select cartodb_id, name, value, the_geom_webmercator from \"<%= tbl %>\" where name <> '<%= nm %>' and value > <%= minv %>"}}]},"view":{"zoom":4,"center":{"lng":0,"lat":0}}}`

func TestNamedMaps(t *testing.T) {
	a := newAccount(t)
	samplePts(t, a)
	named := func(path string) string { return a.url("api/v1/map/named" + path) }
	mk := "?api_key=" + a.master

	expect := func(name string, got answer, status int, msg string) {
		t.Helper()
		if status >= 400 {
			m, _ := errorsOf(t, got)
			if got.status != status || m != msg {
				t.Errorf("%s: %d %s", name, got.status, got.body)
			}
			return
		}
		if got.status != status || msg != "" && string(got.body) != msg {
			t.Errorf("%s: %d %s", name, got.status, got.body)
		}
	}
	expect("create", postJSON(t, named(mk), sampleTemplate), 200, `{"template_id":"sample_tpl"}`)
	expect("duplicate", postJSON(t, named("/"+mk), sampleTemplate), 400, "Template 'sample_tpl' of user '"+a.name+"' already exists")
	expect("create without key", postJSON(t, named(""), sampleTemplate), 403, "Only authenticated users can create templated maps")
	expect("create with the public key", postJSON(t, named("?api_key="+a.u.PublicKey), sampleTemplate), 403, "Forbidden")
	expect("create with a wrong key", postJSON(t, named("?api_key=nope"), sampleTemplate), 401, "Unauthorized")
	expect("list", do(t, "GET", named(mk), "", ""), 200, `{"template_ids":["sample_tpl"]}`)
	expect("list without key", do(t, "GET", named(""), "", ""), 403, "Only authenticated users can list templated maps")
	got := do(t, "GET", named("/sample_tpl"+mk), "", "")
	if got.status != 200 || !strings.HasPrefix(string(got.body), `{"template":{"version":"0.0.1","name":"sample_tpl","auth":{"method":"token","valid_tokens":["tok1"]},`) ||
		!strings.Contains(string(got.body), `where name <> '<%= nm %>' and value > <%= minv %>`) {
		t.Errorf("get: %d %s", got.status, got.body)
	}
	expect("get missing", do(t, "GET", named("/nope_tpl"+mk), "", ""), 404, "Cannot find template 'nope_tpl' of user '"+a.name+"'")
	expect("get without key", do(t, "GET", named("/sample_tpl"), "", ""), 403, "Only authenticated users can get templated maps")
	expect("update", do(t, "PUT", named("/sample_tpl"+mk), "application/json", strings.Replace(sampleTemplate, `"default":"red"`, `"default":"blue"`, 1)), 200, `{"template_id":"sample_tpl"}`)
	expect("rename", do(t, "PUT", named("/sample_tpl"+mk), "application/json", strings.Replace(sampleTemplate, `"name":"sample_tpl"`, `"name":"other_name"`, 1)),
		400, "Cannot update name of a map template ('sample_tpl' != 'other_name')")
	expect("update missing", do(t, "PUT", named("/other_name"+mk), "application/json", strings.Replace(sampleTemplate, `"name":"sample_tpl"`, `"name":"other_name"`, 1)),
		404, "Template 'other_name' of user '"+a.name+"' does not exist")

	inst := postJSON(t, named("/sample_tpl?auth_token=tok1"), `{"color":"#00ff00","nm":"Madrid","minv":5,"tbl":"maps_sample_pts"}`)
	id := inst.header.Get("X-Layergroup-Id")
	if inst.status != 200 || !regexp.MustCompile(`^`+a.name+`@[0-9a-f]{8}@[0-9a-f]{32}:\d+$`).MatchString(id) ||
		!strings.Contains(string(inst.body), `"cartocss":"#layer { marker-fill: #00ff00; }"`) || strings.Contains(string(inst.body), "auth_token") {
		t.Fatalf("instantiate: %d %s", inst.status, inst.body)
	}
	if h := inst.header.Get("Carto-Template-Hash"); !strings.Contains(id, "@"+h+"@") {
		t.Errorf("Carto-Template-Hash %q", h)
	}
	defaults := postJSON(t, named("/sample_tpl?auth_token=tok1"), `{}`)
	if defaults.status != 200 || !strings.Contains(string(defaults.body), `marker-fill: blue;`) {
		t.Errorf("defaults: %d %s", defaults.status, defaults.body)
	}
	expect("no token", postJSON(t, named("/sample_tpl"), `{"color":"#00ff00"}`), 403, "Unauthorized template instantiation")
	expect("wrong token", postJSON(t, named("/sample_tpl?auth_token=wrong"), `{}`), 403, "Unauthorized template instantiation")
	expect("master key instead of a token", postJSON(t, named("/sample_tpl"+mk), `{}`), 403, "Unauthorized template instantiation")
	expect("missing template", postJSON(t, named("/nope_tpl?auth_token=tok1"), `{}`), 404, "Template 'nope_tpl' of user '"+a.name+"' not found")

	// Tiles of the instance: with the token; Madrid filtered out.
	tile := do(t, "GET", a.url("api/v1/map/"+id+"/0/0/0/0.mvt?auth_token=tok1"), "", "")
	if tile.status != 200 || layerNames(t, tile.body)["layer0"] != 3 {
		t.Errorf("instance tile: %d %s", tile.status, tile.body)
	}
	expect("instance tile without token", do(t, "GET", a.url("api/v1/map/"+id+"/0/0/0/0.mvt"), "", ""), 403, "Sorry, you are unauthorized (permission denied)")
	// Tiles straight from the template.
	direct := do(t, "GET", named("/sample_tpl/0/0/0/0.mvt?auth_token=tok1"), "", "")
	if direct.status != 200 || layerNames(t, direct.body)["layer0"] != 4 || !strings.HasPrefix(direct.header.Get("Surrogate-Key"), "n:") {
		t.Errorf("template tile: %d %v", direct.status, direct.header)
	}
	cfg := do(t, "GET", named("/sample_tpl/all/0/0/0.mvt?auth_token=tok1&config="+url.QueryEscape(`{"minv":25}`)), "", "")
	if cfg.status != 200 || layerNames(t, cfg.body)["layer0"] != 2 {
		t.Errorf("template tile with config: %d %s", cfg.status, cfg.body)
	}
	expect("template tile without token", do(t, "GET", named("/sample_tpl/0/0/0/0.mvt"), "", ""), 403, "Unauthorized template instantiation")
	expect("template tile without layer", do(t, "GET", named("/sample_tpl/0/0/0.mvt?auth_token=tok1"), "", ""), 400, "Invalid or nonexistent map configuration token 'named'")
	// JSONP.
	jsonp := do(t, "GET", named("/sample_tpl/jsonp?callback=cb&auth_token=tok1&config="+url.QueryEscape(`{"color":"#0000ff"}`)), "", "")
	if jsonp.status != 200 || !strings.HasPrefix(string(jsonp.body), "/**/ typeof cb === 'function' && cb({\"layergroupid\":\"") ||
		!strings.Contains(string(jsonp.body), "marker-fill: #0000ff;") || jsonp.header.Get("Content-Type") != "text/javascript; charset=utf-8" {
		t.Errorf("jsonp: %d %s", jsonp.status, jsonp.body)
	}

	expect("delete", do(t, "DELETE", named("/sample_tpl"+mk), "", ""), 204, "")
	expect("delete again", do(t, "DELETE", named("/sample_tpl"+mk), "", ""), 404, "Template 'sample_tpl' of user '"+a.name+"' does not exist")
	expect("get after delete", do(t, "GET", named("/sample_tpl"+mk), "", ""), 404, "Cannot find template 'sample_tpl' of user '"+a.name+"'")
	expect("delete without key", do(t, "DELETE", named("/sample_tpl"), "", ""), 403, "Only authenticated users can delete templated maps")

	// An open template runs as the owner: its private table is readable without any key.
	expect("open create", postJSON(t, named(mk), `{"version":"0.0.1","name":"sample_open","auth":{"method":"open"},"layergroup":{"version":"1.0.1","layers":[{"type":"mapnik","id":"pts","options":{"sql":"select * from maps_sample_pts"}}]}}`),
		200, `{"template_id":"sample_open"}`)
	open := postJSON(t, named("/sample_open"), `{}`)
	if open.status != 200 {
		t.Fatalf("open instantiate: %d %s", open.status, open.body)
	}
	otile := do(t, "GET", a.url("api/v1/map/"+open.header.Get("X-Layergroup-Id")+"/pts/0/0/0.mvt"), "", "")
	if otile.status != 200 || layerNames(t, otile.body)["pts"] != 4 {
		t.Errorf("open tile: %d %s", otile.status, otile.body)
	}
	// Another account's signature.
	b := newAccount(t)
	expect("foreign signature", do(t, "GET", b.url("api/v1/map/"+open.header.Get("X-Layergroup-Id")+"/pts/0/0/0.mvt"), "", ""), 403,
		`Cannot use map signature of user "`+a.name+`" on db of user "`+b.name+`"`)
}

func TestNamedValidation(t *testing.T) {
	a := newAccount(t)
	mk := "?api_key=" + a.master
	for _, c := range []struct{ body, msg string }{
		{`{"version":"0.0.2","name":"x","layergroup":{"layers":[{"options":{}}]}}`, "Unsupported template version 0.0.2"},
		{`{"version":"0.0.1","layergroup":{"layers":[{"options":{}}]}}`, "Missing template name"},
		{`{"version":"0.0.1","name":"a b","layergroup":{"layers":[{"options":{}}]}}`, "Invalid characters in template name 'a b'"},
		{`{"version":"0.0.1","name":"x"}`, "Missing layergroup"},
		{`{"version":"0.0.1","name":"x","layergroup":{"layers":[]}}`, "Missing or empty layers array from layergroup config"},
		{`{"version":"0.0.1","name":"x","layergroup":{"layers":[{"options":{}},{},{"type":"cartodb"}]}}`, "Missing `options` in layergroup config for layers: 1, 2"},
		{`{"version":"0.0.1","name":"x","placeholders":{"1x":{"type":"number","default":1}},"layergroup":{"layers":[{"options":{}}]}}`, "Invalid characters in placeholder name '1x'"},
		{`{"version":"0.0.1","name":"x","placeholders":{"n":{"type":"number"}},"layergroup":{"layers":[{"options":{}}]}}`, "Missing default for placeholder 'n'"},
		{`{"version":"0.0.1","name":"x","placeholders":{"n":{"default":1}},"layergroup":{"layers":[{"options":{}}]}}`, "Missing type for placeholder 'n'"},
		{`{"version":"0.0.1","name":"x","auth":{"method":"token"},"layergroup":{"layers":[{"options":{}}]}}`, "Invalid 'token' authentication: missing valid_tokens"},
		{`{"version":"0.0.1","name":"x","auth":{"method":"token","valid_tokens":[]},"layergroup":{"layers":[{"options":{}}]}}`, "Invalid 'token' authentication: no valid_tokens"},
		{`{"version":"0.0.1","name":"x","auth":{"method":"magic"},"layergroup":{"layers":[{"options":{}}]}}`, "Unsupported authentication method: magic"},
	} {
		got := postJSON(t, a.url("api/v1/map/named"+mk), c.body)
		if m, _ := errorsOf(t, got); got.status != 400 || m != c.msg {
			t.Errorf("%s: %d %s", c.body, got.status, got.body)
		}
	}
	form := do(t, "POST", a.url("api/v1/map/named"+mk), "text/plain", sampleTemplate)
	if m, _ := errorsOf(t, form); form.status != 400 || m != "POST template data must be of type application/json" {
		t.Errorf("form: %d %s", form.status, form.body)
	}
	// Defaults are stored: auth open, no placeholders.
	if got := postJSON(t, a.url("api/v1/map/named"+mk), `{"version":"0.0.1","name":"bare","layergroup":{"layers":[{"options":{"sql":"select 1"}}]}}`); got.status != 200 {
		t.Fatalf("%d %s", got.status, got.body)
	}
	got := do(t, "GET", a.url("api/v1/map/named/bare"+mk), "", "")
	var tpl struct {
		Template map[string]json.RawMessage `json:"template"`
	}
	if json.Unmarshal(got.body, &tpl) != nil || string(tpl.Template["auth"]) != `{"method":"open"}` || string(tpl.Template["placeholders"]) != `{}` {
		t.Errorf("stored: %s", got.body)
	}
}

// TestHostilePlaceholders: values that try to leave their place in the SQL never change its
// structure: they end up as one literal, one identifier, or a Windshaft error.
func TestHostilePlaceholders(t *testing.T) {
	a := newAccount(t)
	samplePts(t, a)
	if got := postJSON(t, a.url("api/v1/map/named?api_key="+a.master), sampleTemplate); got.status != 200 {
		t.Fatalf("%d %s", got.status, got.body)
	}
	inst := func(params string) answer {
		return postJSON(t, a.url("api/v1/map/named/sample_tpl?auth_token=tok1"), params)
	}
	// A quote, a semicolon and a comment in sql_literal stay one literal: every row differs.
	lit := inst(`{"nm":"x'; drop table maps_sample_pts; --"}`)
	if lit.status != 200 {
		t.Fatalf("literal: %d %s", lit.status, lit.body)
	}
	tile := do(t, "GET", a.url("api/v1/map/"+lit.header.Get("X-Layergroup-Id")+"/0/0/0/0.mvt?auth_token=tok1"), "", "")
	if tile.status != 200 || layerNames(t, tile.body)["layer0"] != 4 {
		t.Errorf("literal tile: %d", tile.status)
	}
	for _, c := range []struct {
		params string
		status int
		msg    string
	}{
		{`{"minv":"1; drop table maps_sample_pts"}`, 400, "Invalid number value for template parameter 'minv': 1; drop table maps_sample_pts"},
		{`{"minv":"1 or 1=1"}`, 400, "Invalid number value for template parameter 'minv': 1 or 1=1"},
		{`{"minv":"-1--"}`, 400, "Invalid number value for template parameter 'minv': -1--"},
		{`{"color":"red; } #x {"}`, 400, "Invalid css_color value for template parameter 'color': red; } #x {"},
		{`{"tbl":"maps_sample_pts\"; drop table x; --"}`, 404, `relation "maps_sample_pts"; drop table x; --" does not exist`},
		{`{"nm":"\u0000"}`, 400, "Invalid sql_literal value for template parameter 'nm': it contains a NUL character"},
	} {
		got := inst(c.params)
		if m, _ := errorsOf(t, got); got.status != c.status || m != c.msg {
			t.Errorf("%s: %d %s", c.params, got.status, got.body)
		}
	}
	// The table is still there.
	a.exec(t, "SELECT 1 FROM maps_sample_pts")
}
