package maps_test

import (
	"context"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"testing"
	"time"

	"github.com/paulmach/orb/encoding/mvt"

	"github.com/gocarto/carto/cartolocal/internal/maps"
)

// BenchmarkTiles measures vector tiles per second of a 1M-point table over zooms 10 to 14: through
// cartolocal's Maps API over HTTP (layergroup lookup, auth, pooled connection, pg-mvt's SQL, the
// answer), and, as the baseline beside it, the same ST_AsMVT SQL sent straight to PostgreSQL on
// one connection. The overhead is http's ns/tile over postgres's. Not a timed test: run it with
//
//	go test -run '^$' -bench Tiles -benchtime 400x ./cartolocal/internal/maps/
//
// Making the table takes a minute; it is made once per run.
func BenchmarkTiles(b *testing.B) {
	a := newAccount(b)
	start := time.Now()
	a.exec(b, `CREATE TABLE million (name text, value float8, the_geom geometry(Point,4326));
		INSERT INTO million SELECT 'p' || i, i % 1000, ST_SetSRID(ST_MakePoint(-3.7 + (random() - 0.5) * 2, 40.4 + (random() - 0.5) * 2), 4326)
		FROM generate_series(1, 1000000) i;
		SELECT CDB_CartodbfyTable('million'); ANALYZE million`)
	b.Logf("1M points made and cartodbfied in %v", time.Since(start).Round(time.Second))
	config := `{"version":"1.7.0","layers":[{"type":"mapnik","options":{"sql":"select * from million"}}]}`
	got := postJSON(b, a.url("api/v1/map?api_key="+a.master), config)
	if got.status != 200 {
		b.Fatalf("%d %s", got.status, got.body)
	}
	id := got.header.Get("X-Layergroup-Id")

	// 40 tiles per zoom from 10 to 14, picked at random where the points are.
	rng := rand.New(rand.NewPCG(1, 2))
	type tile struct{ z, x, y int }
	var tiles []tile
	for z := 10; z <= 14; z++ {
		n := math.Exp2(float64(z))
		for range 40 {
			lon := -4.7 + rng.Float64()*2
			lat := 39.4 + rng.Float64()*2
			x := int((lon + 180) / 360 * n)
			y := int((1 - math.Log(math.Tan(lat*math.Pi/180)+1/math.Cos(lat*math.Pi/180))/math.Pi) / 2 * n)
			tiles = append(tiles, tile{z, x, y})
		}
	}
	cols := [][]struct {
		Name string
		OID  uint32
	}{{{"cartodb_id", 23}, {"name", 25}, {"value", 701}}}
	sqls := make([]string, len(tiles))
	for i, t := range tiles {
		s, err := maps.TileSQL([]byte(config), cols, t.z, t.x, t.y)
		if err != nil {
			b.Fatal(err)
		}
		sqls[i] = s
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
	defer client.CloseIdleConnections()
	get := func(t tile) []byte {
		resp, err := client.Get(a.url(fmt.Sprintf("api/v1/map/%s/%d/%d/%d.mvt?api_key=%s", id, t.z, t.x, t.y, a.master)))
		if err != nil {
			b.Fatal(err)
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil || resp.StatusCode != 200 && resp.StatusCode != 204 {
			b.Fatalf("tile %v: %d %v", t, resp.StatusCode, err)
		}
		return body
	}
	// The baseline runs the server's SQL: the same tiles, feature for feature.
	ctx := context.Background()
	conn, err := a.u.Acquire(ctx, true)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Release()
	for i := 0; i < len(tiles); i += 20 {
		var tileBytes []byte
		if err := conn.QueryRow(ctx, sqls[i]).Scan(&tileBytes); err != nil {
			b.Fatal(err)
		}
		// Row order (hence the bytes) may differ between two runs of one query; the features may not.
		h := get(tiles[i])
		lh, err1 := mvt.Unmarshal(h)
		lp, err2 := mvt.Unmarshal(tileBytes)
		if err1 != nil || err2 != nil || len(lh) != len(lp) || len(lh) > 0 && len(lh[0].Features) != len(lp[0].Features) {
			b.Fatalf("tile %v: %d bytes over HTTP, %d from the SQL (%v %v)", tiles[i], len(h), len(tileBytes), err1, err2)
		}
	}

	b.Run("http", func(b *testing.B) {
		for i := range b.N {
			get(tiles[i%len(tiles)])
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "tiles/s")
	})
	b.Run("postgres", func(b *testing.B) {
		for i := range b.N {
			var mvt []byte
			if err := conn.QueryRow(ctx, sqls[i%len(sqls)]).Scan(&mvt); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "tiles/s")
	})
}
