package maps

import (
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/go-json-experiment/json/jsontext"
)

// LayerGroup is what creating an anonymous map or instantiating a named one returns: the id its
// tiles are fetched by, and the server's metadata.
type LayerGroup struct {
	// ID is the layergroupid: "md5:cachebuster" for anonymous maps, "user@hash@md5:cachebuster"
	// for instances of named maps. The cache buster changes when the data changes.
	ID       string   `json:"layergroupid"`
	Metadata Metadata `json:"metadata"`
	// CDNURL holds CARTO's CDN hosts by scheme ("http", "https"); empty on servers without a CDN.
	CDNURL map[string]string `json:"cdn_url,omitempty"`
	// LastUpdated is when the newest table the layers read last changed (the Unix epoch when
	// none is known).
	LastUpdated time.Time `json:"last_updated"`

	client    *Client
	authToken string // the auth_token of a named map's instance, sent with each tile
}

// Metadata describes a layergroup's layers and where their tiles are.
type Metadata struct {
	Layers   []LayerMetadata `json:"layers"`
	TileJSON TileJSONs       `json:"tilejson"`
	URL      struct {
		Vector *URLTemplate `json:"vector,omitempty"`
		Raster *URLTemplate `json:"raster,omitempty"`
	} `json:"url"`
}

// LayerMetadata describes one layer of a layergroup.
type LayerMetadata struct {
	Type string `json:"type"`
	ID   string `json:"id"`
	// Meta is the layer's metadata as the server sent it (cartocss, stats, ...).
	Meta     jsontext.Value `json:"meta,omitempty"`
	TileJSON TileJSONs      `json:"tilejson"`
}

// TileJSONs are the TileJSON documents of a layer or of the whole layergroup; Raster is nil for
// vector-only maps.
type TileJSONs struct {
	Vector *TileJSON `json:"vector,omitempty"`
	Raster *TileJSON `json:"raster,omitempty"`
}

// TileJSON is a TileJSON 2.2.0 document as Windshaft writes it.
type TileJSON struct {
	TileJSON string   `json:"tilejson"`
	Tiles    []string `json:"tiles"`
	Grids    []string `json:"grids,omitempty"`
}

// URLTemplate is a Leaflet-style tile URL with its subdomains.
type URLTemplate struct {
	URLTemplate string   `json:"urlTemplate"`
	Subdomains  []string `json:"subdomains"`
}

// Token is the map configuration token: ID without the cache buster.
func (lg *LayerGroup) Token() string {
	tok, _, _ := strings.Cut(lg.ID, ":")
	return tok
}

// TileURL is the URL of one tile, as carto-python's get_tile_url builds it: layer is a layer
// index ("0"), a layer id, a filter ("0,1", "all", "mapnik") or "" for the default (every mapnik
// layer); format is "mvt", "png", "grid.json", ... ("png" if empty). The URL carries no API key;
// Tile sends the key as Basic auth.
func (lg *LayerGroup) TileURL(layer string, z, x, y int, format string) string {
	return lg.client.c.URL(anonymousPath + tilePath(lg.ID, layer, z, x, y, format)).String()
}

// CDNTileURL is TileURL on CARTO's CDN (https when secure), as CARTO's resource templates build
// it: https://CDN_HOST/USER/api/v1/map/... It reports false when the server named no CDN.
func (lg *LayerGroup) CDNTileURL(secure bool, layer string, z, x, y int, format string) (string, bool) {
	scheme := "http"
	if secure {
		scheme = "https"
	}
	host := lg.CDNURL[scheme]
	if host == "" {
		return "", false
	}
	u := url.URL{Scheme: scheme, Host: host, Path: "/" + lg.client.c.User() + "/" + anonymousPath}
	return u.String() + tilePath(lg.ID, layer, z, x, y, format), true
}

// AttributesURL is the URL of a feature's attributes in a layer that exposes them.
func (lg *LayerGroup) AttributesURL(layer string, featureID int64) string {
	return lg.client.c.URL(fmt.Sprintf("%s%s/%s/attributes/%d", anonymousPath, url.PathEscape(lg.ID), url.PathEscape(layer), featureID)).String()
}

// TileJSON returns the TileJSON of one layer (by id, or by index as "0") or, for layer "", of the
// whole layergroup; vector selects the MVT one, else the raster one. nil if the server gave none.
func (lg *LayerGroup) TileJSON(layer string, vector bool) *TileJSON {
	pick := func(t TileJSONs) *TileJSON {
		if vector {
			return t.Vector
		}
		return t.Raster
	}
	if layer == "" {
		return pick(lg.Metadata.TileJSON)
	}
	for i, l := range lg.Metadata.Layers {
		if l.ID == layer || fmt.Sprint(i) == layer {
			return pick(l.TileJSON)
		}
	}
	return nil
}

// StaticCenterURL is the URL of a static image of the map centred on lat/lng at zoom z (note
// CARTO's order: latitude first), width×height pixels, format "png" or "jpg".
func (lg *LayerGroup) StaticCenterURL(z int, lat, lng float64, width, height int, format string) string {
	return lg.client.c.URL(fmt.Sprintf("%sstatic/center/%s/%d/%s/%s/%d/%d.%s", anonymousPath, url.PathEscape(lg.ID), z,
		formatFloat(lat), formatFloat(lng), width, height, orDefault(format, "png"))).String()
}

// StaticBBoxURL is the URL of a static image of the box west,south,east,north (degrees).
func (lg *LayerGroup) StaticBBoxURL(b Bounds, width, height int, format string) string {
	return lg.client.c.URL(fmt.Sprintf("%sstatic/bbox/%s/%s,%s,%s,%s/%d/%d.%s", anonymousPath, url.PathEscape(lg.ID),
		formatFloat(b.West), formatFloat(b.South), formatFloat(b.East), formatFloat(b.North), width, height, orDefault(format, "png"))).String()
}

// NamedTileURL is the URL of a tile straight from a named map, without instantiating it, as
// carto-python's NamedMap.get_tile_url: layer is required by the server ("all", "0", ...), and
// token, if not empty, is appended as auth_token.
func (m *Client) NamedTileURL(name, layer string, z, x, y int, format string, token string) string {
	s := m.c.URL(namedPath + tilePath(name, layer, z, x, y, format)).String()
	if token != "" {
		s += "?auth_token=" + url.QueryEscape(token)
	}
	return s
}

// tilePath is ID[/LAYER]/Z/X/Y.FORMAT.
func tilePath(id, layer string, z, x, y int, format string) string {
	var b strings.Builder
	b.WriteString(url.PathEscape(id))
	if layer != "" {
		b.WriteString("/")
		b.WriteString(url.PathEscape(layer))
	}
	fmt.Fprintf(&b, "/%d/%d/%d.%s", z, x, y, orDefault(format, "png"))
	return b.String()
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func formatFloat(f float64) string { return fmt.Sprint(f) }

// PreviewURL is the map preview page of a layergroup on cartolocal (/user/USER/maps/preview),
// which draws its vector tiles in a browser. It carries no key: add &api_key= for a map of
// private tables, or &auth_token= for a named map's instance. CARTO itself has no such page.
func (m *Client) PreviewURL(layergroupID string) string {
	return m.c.URL("maps/preview").String() + "?layergroup=" + url.QueryEscape(layergroupID)
}
