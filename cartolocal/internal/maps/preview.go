package maps

import (
	"context"
	"embed"
	"encoding/json"
	htmltemplate "html/template"
	"net/http"
	"net/url"
	"strings"
)

// The preview page's MapLibre GL JS, from npm's maplibre-gl (third_party/maplibre-gl/README.md).
//
//go:embed third_party/maplibre-gl/maplibre-gl.mjs third_party/maplibre-gl/maplibre-gl-worker.mjs
//go:embed third_party/maplibre-gl/maplibre-gl.css third_party/maplibre-gl/LICENSE
var maplibre embed.FS

//go:embed preview.html
var previewHTML string

var previewPage = htmltemplate.Must(htmltemplate.New("preview").Parse(previewHTML))

// previewData is what the page is given: the layergroup's tile URL, its layers and the data's
// bounds (west, south, east, north), to fit the map to.
type previewData struct {
	Title  string
	Assets string
	Config htmltemplate.JS
}

type previewConfig struct {
	Tiles  string    `json:"tiles"`
	Layers []string  `json:"layers"`
	Bounds []float64 `json:"bounds,omitempty"`
	MinZ   float64   `json:"minzoom"`
	MaxZ   float64   `json:"maxzoom"`
}

// PreviewPath is the path of the preview page below an account's URL, for printing.
const PreviewPath = "maps/preview"

// handlePreview serves the map preview: ?layergroup=ID (with the api_key its tiles need) or
// ?named=NAME (with its auth_token, instantiated with the template's defaults).
func (s *Service) handlePreview(w http.ResponseWriter, r *http.Request) {
	caller, werr := s.authenticate(r)
	if werr != nil {
		writeError(w, r, werr)
		return
	}
	q := r.URL.Query()
	var lg *layergroup
	var id string
	switch {
	case q.Get("named") != "":
		t, werr := s.loadTemplate(r, caller, templateName(q.Get("named")))
		if werr != nil {
			writeError(w, r, werr)
			return
		}
		config, werr := instance(t, []byte(q.Get("config")))
		if werr != nil {
			writeError(w, r, werr)
			return
		}
		b, werr := s.build(r.Context(), caller, config, t)
		if werr != nil {
			writeError(w, r, werr)
			return
		}
		lg, id = b.lg, b.id
	case q.Get("layergroup") != "":
		id = q.Get("layergroup")
		var werr *wsError
		lg, _, werr = s.layergroupOf(r, caller, id)
		if werr != nil {
			writeError(w, r, werr)
			return
		}
	default:
		writeError(w, r, errorf(400, "The preview needs ?layergroup=ID or ?named=NAME"))
		return
	}
	owner, werr := s.tileRole(r, caller, lg)
	if werr != nil {
		writeError(w, r, werr)
		return
	}
	// The tiles ask for what the page was given: the key or the auth token.
	tq := url.Values{}
	for _, k := range []string{"api_key", "auth_token"} {
		if v := q.Get(k); v != "" {
			tq.Set(k, v)
		}
	}
	tiles := mapsBaseURL(r, caller.User) + "/" + id + "/{z}/{x}/{y}.mvt"
	if len(tq) > 0 {
		tiles += "?" + tq.Encode()
	}
	cfg := previewConfig{Tiles: tiles, MinZ: 0, MaxZ: 22}
	for _, l := range lg.cfg.Layers {
		if l.isMapnik() {
			cfg.Layers = append(cfg.Layers, l.ID)
		}
	}
	cfg.Bounds = s.bounds(r.Context(), caller, lg, owner)
	js, _ := json.Marshal(cfg)
	assets := strings.TrimSuffix(r.URL.Path, "/") + "/assets/"
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	// No network but this server: the page loads its script, style and tiles from here.
	w.Header().Set("Content-Security-Policy", "default-src 'self' blob: data:; script-src 'self' 'unsafe-inline' blob:; style-src 'self' 'unsafe-inline'; worker-src 'self' blob:")
	err := previewPage.Execute(w, previewData{Title: "cartolocal map preview: " + id, Assets: assets, Config: htmltemplate.JS(js)})
	if err != nil {
		s.deps.Logf("cartolocal: maps: preview: %v", err)
	}
}

// bounds is the extent of the layers' geometries in degrees, or nil when there is none.
func (s *Service) bounds(ctx context.Context, caller *Caller, lg *layergroup, owner bool) []float64 {
	var parts []string
	for _, l := range lg.cfg.Layers {
		if l.isMapnik() {
			parts = append(parts, "SELECT ST_Transform("+quoteIdent(l.geomColumn())+", 4326) AS g FROM ("+
				substituteTokens(layerSQL(l), newTileBox(0, 0, 0), lg.params.BufferPx)+") AS q"+
				" WHERE "+quoteIdent(l.geomColumn())+" IS NOT NULL")
		}
	}
	if len(parts) == 0 {
		return nil
	}
	conn, err := caller.Acquire(ctx, owner)
	if err != nil {
		return nil
	}
	defer conn.Release()
	var w, so, e, n *float64
	sql := "SELECT ST_XMin(x), ST_YMin(x), ST_XMax(x), ST_YMax(x) FROM (SELECT ST_Extent(g) AS x FROM (" +
		strings.Join(parts, " UNION ALL ") + ") u) b"
	if err := queryBounds(ctx, conn, sql, lg.template != "", &w, &so, &e, &n); err != nil || w == nil {
		return nil
	}
	return []float64{*w, *so, *e, *n}
}

// handlePreviewAsset serves the embedded MapLibre files.
func (s *Service) handlePreviewAsset(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("file")
	types := map[string]string{
		"maplibre-gl.mjs":        "text/javascript; charset=utf-8",
		"maplibre-gl-worker.mjs": "text/javascript; charset=utf-8",
		"maplibre-gl.css":        "text/css; charset=utf-8",
		"LICENSE":                "text/plain; charset=utf-8",
	}
	ct, ok := types[name]
	if !ok {
		http.NotFound(w, r)
		return
	}
	b, err := maplibre.ReadFile("third_party/maplibre-gl/" + name)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Cache-Control", "public,max-age=86400")
	_, _ = w.Write(b)
}
