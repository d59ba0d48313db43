package maps

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"

	"github.com/paulmach/orb/encoding/mvt"
	"github.com/paulmach/orb/maptile"

	"github.com/gocarto/carto"
)

// maxTile bounds a tile's bytes: Windshaft's tiles are kilobytes, a few megabytes at worst.
const maxTile = 64 << 20

// Tile fetches one Mapbox Vector Tile of the layergroup: layer as in TileURL ("" for every
// layer). An empty tile (the server's 204) is nil with no error.
func (lg *LayerGroup) Tile(ctx context.Context, layer string, z, x, y int) ([]byte, error) {
	return lg.client.fetchTile(ctx, anonymousPath+tilePath(lg.ID, layer, z, x, y, "mvt"), lg.authToken)
}

// NamedTile fetches a Mapbox Vector Tile straight from a named map; layer is required ("all").
func (m *Client) NamedTile(ctx context.Context, name, layer string, z, x, y int, token string) ([]byte, error) {
	return m.fetchTile(ctx, namedPath+tilePath(name, layer, z, x, y, "mvt"), token)
}

func (m *Client) fetchTile(ctx context.Context, path, token string) ([]byte, error) {
	var q url.Values
	if token != "" {
		q = url.Values{"auth_token": {token}}
	}
	resp, err := m.c.Do(ctx, &carto.Request{Method: http.MethodGet, Path: path, Query: q, Idempotent: true,
		Header: http.Header{"Accept": {"application/x-protobuf"}}})
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusNoContent {
		return nil, nil
	}
	var b bytes.Buffer
	n, err := b.ReadFrom(io.LimitReader(resp.Body, maxTile+1))
	if err != nil {
		return nil, fmt.Errorf("maps: reading tile: %w", err)
	}
	if n > maxTile {
		return nil, fmt.Errorf("maps: tile larger than %d bytes", maxTile)
	}
	return b.Bytes(), nil
}

// DecodeTile decodes a Mapbox Vector Tile of tile z/x/y into orb geometries in longitude and
// latitude (WGS84). A nil or empty tile decodes to no layers.
func DecodeTile(data []byte, z, x, y int) (mvt.Layers, error) {
	if len(data) == 0 {
		return nil, nil
	}
	layers, err := mvt.Unmarshal(data)
	if err != nil {
		return nil, fmt.Errorf("maps: decoding tile %d/%d/%d: %w", z, x, y, err)
	}
	layers.ProjectToWGS84(maptile.New(uint32(x), uint32(y), maptile.Zoom(z)))
	return layers, nil
}
