// Package maps is a client for CARTO's Maps API (Windshaft, /api/v1/map): anonymous maps, named
// maps (stored templates with placeholders and auth tokens), and the tiles of the layergroups they
// make.
//
// An anonymous map is a MapConfig posted once; the answer is a LayerGroup whose tiles a web map
// loads:
//
//	m := maps.New(client) // client: a *carto.Client
//	lg, err := m.Anonymous(ctx, &maps.MapConfig{Layers: []maps.Layer{maps.VectorLayer("SELECT * FROM places")}})
//	tile, err := lg.Tile(ctx, "", 3, 4, 2) // Mapbox Vector Tile bytes; nil for an empty tile
//	layers, err := maps.DecodeTile(tile, 3, 4, 2) // orb geometries in lon/lat
//
// A named map is a Template created once with the master key and instantiated by viewers with
// placeholder values and, for token-protected templates, an auth token:
//
//	_, err = m.CreateNamed(ctx, tpl)
//	lg, err = m.Instantiate(ctx, "my_map", map[string]any{"color": "#ff6600"}, "token")
//
// The API key travels as HTTP Basic auth, never in a URL: tile URLs built here carry no key (an
// auth_token of a named map, which is no API key, does appear where CARTO's own clients put it).
// Errors are *carto.Error values with Windshaft's messages.
package maps
