package maps

import (
	"net/url"
	"strconv"
	"time"
)

// The layergroup response, with Windshaft's member order.
type lgResponse struct {
	LayergroupID string            `json:"layergroupid"`
	Metadata     lgMetadata        `json:"metadata"`
	CDNURL       map[string]string `json:"cdn_url"`
	LastUpdated  string            `json:"last_updated"`
}

type lgMetadata struct {
	Layers    []lgLayer `json:"layers"`
	Dataviews struct{}  `json:"dataviews"`
	Analyses  []any     `json:"analyses"`
	TileJSON  tileJSONs `json:"tilejson"`
	URL       lgURLs    `json:"url"`
}

type lgLayer struct {
	Type     string    `json:"type"`
	ID       string    `json:"id"`
	Meta     any       `json:"meta"`
	TileJSON tileJSONs `json:"tilejson"`
}

type tileJSONs struct {
	Vector *tileJSON `json:"vector,omitempty"`
	Raster *tileJSON `json:"raster,omitempty"`
}

type tileJSON struct {
	TileJSON string   `json:"tilejson"`
	Tiles    []string `json:"tiles"`
	Grids    []string `json:"grids,omitempty"`
}

type lgURLs struct {
	Vector *urlTemplate `json:"vector,omitempty"`
	Raster *urlTemplate `json:"raster,omitempty"`
}

type urlTemplate struct {
	URLTemplate string   `json:"urlTemplate"`
	Subdomains  []string `json:"subdomains"`
}

type mapnikMeta struct {
	CartoCSS    string         `json:"cartocss,omitempty"`
	Stats       map[string]any `json:"stats"`
	CartoCSSMet *struct {
		Rules []any `json:"rules"`
	} `json:"cartocss_meta,omitempty"`
	Aggregation *struct {
		PNG bool `json:"png"`
		MVT bool `json:"mvt"`
	} `json:"aggregation,omitempty"`
}

// layergroupResponse assembles Windshaft's answer to a created map.
func layergroupResponse(base, id string, cfg *mapConfig, metas map[int]layerMeta, key string, buster int64) *lgResponse {
	suffix := ""
	if key != "" {
		suffix = "?api_key=" + url.QueryEscape(key)
	}
	prefix := base + "/" + id
	tj := func(path, ext string) *tileJSON {
		return &tileJSON{TileJSON: "2.2.0", Tiles: []string{prefix + path + "/{z}/{x}/{y}." + ext + suffix}}
	}
	resp := &lgResponse{LayergroupID: id, CDNURL: map[string]string{},
		LastUpdated: time.UnixMilli(buster).UTC().Format("2006-01-02T15:04:05.000Z")}
	resp.Metadata.Analyses = []any{}
	hasMapnik := false
	for _, l := range cfg.Layers {
		ll := lgLayer{Type: l.Type, ID: l.ID, Meta: struct{}{}}
		if l.isMapnik() {
			hasMapnik = true
			m := &mapnikMeta{Stats: map[string]any{"estimatedFeatureCount": metas[l.Index].rows}}
			if cfg.vectorOnly {
				m.Aggregation = &struct {
					PNG bool `json:"png"`
					MVT bool `json:"mvt"`
				}{}
			} else {
				if l.Options.CartoCSS != nil {
					m.CartoCSS = *l.Options.CartoCSS
				}
				m.CartoCSSMet = &struct {
					Rules []any `json:"rules"`
				}{Rules: []any{}}
			}
			ll.Meta = m
			// Tile URLs by layer use the layer's id, as Windshaft writes them.
			ll.TileJSON.Vector = tj("/"+url.PathEscape(l.ID), "mvt")
			if !cfg.vectorOnly {
				ll.TileJSON.Raster = tj("/"+url.PathEscape(l.ID), "png")
				if len(l.interactivity()) > 0 {
					ll.TileJSON.Raster.Grids = []string{prefix + "/" + url.PathEscape(l.ID) + "/{z}/{x}/{y}.grid.json" + suffix}
				}
			}
		} else {
			ll.TileJSON.Raster = tj("/"+strconv.Itoa(l.Index), "png")
		}
		resp.Metadata.Layers = append(resp.Metadata.Layers, ll)
	}
	if hasMapnik {
		resp.Metadata.TileJSON.Vector = tj("", "mvt")
		resp.Metadata.URL.Vector = &urlTemplate{URLTemplate: prefix + "/{z}/{x}/{y}.mvt" + suffix, Subdomains: []string{}}
	}
	if !cfg.vectorOnly || !hasMapnik {
		resp.Metadata.TileJSON.Raster = tj("", "png")
		resp.Metadata.URL.Raster = &urlTemplate{URLTemplate: prefix + "/{z}/{x}/{y}.png" + suffix, Subdomains: []string{}}
	}
	return resp
}
