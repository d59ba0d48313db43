package maps

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// mapConfig is a validated MapConfig, as Windshaft's lib/models/mapconfig.js reads it.
type mapConfig struct {
	raw        json.RawMessage // the config as posted, compacted: what the layergroup id hashes
	Version    string
	BufferMVT  int // buffersize.mvt, 64 px by default
	Layers     []*layer
	vectorOnly bool // no mapnik layer has cartocss: only MVT tiles
}

// layer is one validated layer.
type layer struct {
	Index    int
	Type     string // mapnik, http, plain, torque (cartodb is mapnik)
	ID       string // the explicit id, or Windshaft's generated one
	Explicit bool   // ID was given in the config (only those work as a tile URL's layer)
	Options  layerOptions
}

// layerOptions are the options of a layer that cartolocal uses.
type layerOptions struct {
	SQL             string          `json:"sql"`
	CartoCSS        *string         `json:"cartocss"`
	CartoCSSVersion *string         `json:"cartocss_version"`
	Interactivity   json.RawMessage `json:"interactivity"`
	Attributes      *struct {
		ID      string   `json:"id"`
		Columns []string `json:"columns"`
	} `json:"attributes"`
	GeomColumn           string   `json:"geom_column"`
	MinZoom              *float64 `json:"minzoom"`
	MaxZoom              *float64 `json:"maxzoom"`
	VectorExtent         int      `json:"vector_extent"`
	VectorSimplifyExtent int      `json:"vector_simplify_extent"`
	SQLWrap              string   `json:"sql_wrap"`
	DatesAsNumbers       bool     `json:"dates_as_numbers"`
}

// isMapnik reports whether l is a mapnik (SQL) layer.
func (l *layer) isMapnik() bool { return l.Type == "mapnik" }

func (l *layer) ref() *layerRef { return &layerRef{ID: l.ID, Index: l.Index, Type: l.Type} }

// geomColumn is the layer's geometry column, the_geom_webmercator by default.
func (l *layer) geomColumn() string {
	if l.Options.GeomColumn != "" {
		return l.Options.GeomColumn
	}
	return "the_geom_webmercator"
}

// visibleAt reports whether the layer's own minzoom/maxzoom (0 and 30 by default) include z.
func (l *layer) visibleAt(z int) bool {
	minz, maxz := 0.0, 30.0
	if l.Options.MinZoom != nil {
		minz = *l.Options.MinZoom
	}
	if l.Options.MaxZoom != nil {
		maxz = *l.Options.MaxZoom
	}
	return float64(z) >= minz && float64(z) <= maxz
}

// interactivity returns the interactivity columns, given as an array or a comma-separated string.
func (l *layer) interactivity() []string {
	raw := l.Options.Interactivity
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	var list []string
	if json.Unmarshal(raw, &list) == nil {
		return list
	}
	var s string
	if json.Unmarshal(raw, &s) == nil && s != "" {
		return strings.Split(s, ",")
	}
	return nil
}

// parseMapConfig validates a MapConfig with Windshaft's messages.
func parseMapConfig(body []byte) (*mapConfig, *wsError) {
	var doc struct {
		Version    *string         `json:"version"`
		Layers     json.RawMessage `json:"layers"`
		BufferSize json.RawMessage `json:"buffersize"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, errorf(400, "Invalid JSON: "+err.Error())
	}
	cfg := &mapConfig{Version: "1.0.0", BufferMVT: 64}
	if doc.Version != nil {
		cfg.Version = *doc.Version
	}
	if !versionSupported(cfg.Version) {
		return nil, errorf(400, "Unsupported layergroup configuration version "+cfg.Version)
	}
	var rawLayers []json.RawMessage
	if len(doc.Layers) == 0 || json.Unmarshal(doc.Layers, &rawLayers) != nil {
		return nil, errorf(400, "Missing layers array from layergroup config")
	}
	if len(rawLayers) == 0 {
		return nil, errorf(400, "Missing layers array from layergroup config")
	}
	if len(doc.BufferSize) > 0 {
		var per map[string]float64
		var all float64
		if json.Unmarshal(doc.BufferSize, &per) == nil {
			if v, ok := per["mvt"]; ok {
				cfg.BufferMVT = int(v)
			}
		} else if json.Unmarshal(doc.BufferSize, &all) == nil {
			cfg.BufferMVT = int(all)
		}
		if cfg.BufferMVT < 0 {
			cfg.BufferMVT = 0
		}
	}
	counts := map[string]int{}
	for i, raw := range rawLayers {
		var l struct {
			Type    *string         `json:"type"`
			ID      *string         `json:"id"`
			Options json.RawMessage `json:"options"`
		}
		if err := json.Unmarshal(raw, &l); err != nil {
			return nil, errorf(400, fmt.Sprintf("Invalid layer %d of layergroup config", i))
		}
		if len(l.Options) == 0 || string(l.Options) == "null" {
			return nil, errorf(400, fmt.Sprintf("Missing options from layer %d of layergroup config", i))
		}
		lay := &layer{Index: i, Type: "mapnik"}
		if l.Type != nil {
			switch t := strings.ToLower(*l.Type); t {
			case "mapnik", "cartodb", "mvt":
			case "http", "plain", "torque":
				lay.Type = t
			default:
				return nil, errorf(400, fmt.Sprintf("Unsupported layer type: %s", *l.Type))
			}
		}
		if err := json.Unmarshal(l.Options, &lay.Options); err != nil {
			return nil, &wsError{Status: 400, Message: fmt.Sprintf("Invalid options of layer %d: %v", i, err), Type: "layer"}
		}
		// Windshaft's MapConfig.getLayerId: an explicit id, else layerK counting mapnik layers
		// and TYPE-layerK for the others.
		k := counts[lay.Type]
		counts[lay.Type]++
		if l.ID != nil && *l.ID != "" {
			lay.ID, lay.Explicit = *l.ID, true
		} else if lay.isMapnik() {
			lay.ID = "layer" + strconv.Itoa(k)
		} else {
			lay.ID = lay.Type + "-layer" + strconv.Itoa(k)
		}
		cfg.Layers = append(cfg.Layers, lay)
	}
	withCSS, without := 0, 0
	for _, l := range cfg.Layers {
		if !l.isMapnik() {
			continue
		}
		if strings.TrimSpace(l.Options.SQL) == "" {
			return nil, &wsError{Status: 400, Message: "Missing sql for layer", Type: "layer", Layer: l.ref()}
		}
		if l.Options.CartoCSS != nil || l.Options.CartoCSSVersion != nil {
			withCSS++
		} else {
			without++
		}
	}
	if withCSS > 0 && without > 0 {
		return nil, &wsError{Status: 400, Type: "mapconfig", Message: "The `mapnik` or `cartodb` layers must be consistent: `cartocss` option is either present or voided in all layers. Mixing is not allowed."}
	}
	cfg.vectorOnly = withCSS == 0
	var buf bytes.Buffer
	if err := json.Compact(&buf, body); err != nil {
		return nil, errorf(400, "Invalid JSON: "+err.Error())
	}
	cfg.raw = buf.Bytes()
	return cfg, nil
}

// versionSupported checks Windshaft's ">= 1.0.0 <= 1.8.0".
func versionSupported(v string) bool {
	parts := strings.Split(v, ".")
	if len(parts) != 3 {
		return false
	}
	var n [3]int
	for i, p := range parts {
		x, err := strconv.Atoi(p)
		if err != nil || x < 0 {
			return false
		}
		n[i] = x
	}
	return n[0] == 1 && (n[1] < 8 || n[1] == 8 && n[2] == 0)
}

// filterLayers resolves a tile URL's layer filter: "" or "mapnik" is every mapnik layer, "all"
// every layer, "0,2" indexes, and layer ids. Windshaft answers an
// unknown index with "Layer 'N' not found in layergroup" and an unknown name as an unknown
// format (its route then reads the name as a format), which the samples record.
func (c *mapConfig) filterLayers(filter, format string) ([]*layer, *wsError) {
	switch filter {
	case "", "mapnik":
		var out []*layer
		for _, l := range c.Layers {
			if l.isMapnik() {
				out = append(out, l)
			}
		}
		return out, nil
	case "all":
		return c.Layers, nil
	}
	var out []*layer
	seen := map[int]bool{}
	for part := range strings.SplitSeq(filter, ",") {
		var found *layer
		if i, err := strconv.Atoi(part); err == nil && part == strconv.Itoa(i) {
			if i < 0 || i >= len(c.Layers) {
				return nil, errorf(400, fmt.Sprintf("Layer '%s' not found in layergroup", part))
			}
			found = c.Layers[i]
		} else {
			for _, l := range c.Layers {
				// Windshaft 9 refuses generated ids (layer0) here although its own tilejson
				// URLs use them (sample 23); cartolocal serves them, so those URLs work.
				if l.ID == part {
					found = l
					break
				}
			}
			if found == nil {
				return nil, errorf(400, "Unsupported format "+format)
			}
		}
		if !seen[found.Index] {
			seen[found.Index] = true
			out = append(out, found)
		}
	}
	return out, nil
}
