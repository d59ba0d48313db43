// Command map_tile_features makes an anonymous vector map of a query, fetches one of its Mapbox
// Vector Tiles and prints the features in it: layer, geometry in longitude/latitude (WKT) and
// properties.
//
//	map_tile_features -sql "SELECT * FROM places" -z 5 -x 15 -y 12
//
// The query needs the_geom_webmercator (every cartodbfied table has it). The account comes from
// -base-url and -api-key, or $CARTO_BASE_URL and $CARTO_API_KEY (examples/internal/cli).
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"

	"github.com/paulmach/orb/encoding/wkt"

	"github.com/gocarto/carto/examples/internal/cli"
	"github.com/gocarto/carto/maps"
)

const usage = "usage: map_tile_features -sql QUERY [-z Z -x X -y Y] [-base-url URL] [-api-key KEY]"

func main() {
	acct := cli.Register(flag.CommandLine)
	sql := flag.String("sql", "", "the layer's query (required)")
	z := flag.Int("z", 0, "the tile's zoom")
	x := flag.Int("x", 0, "the tile's column")
	y := flag.Int("y", 0, "the tile's row, from the top")
	flag.Usage = func() {
		fmt.Fprintln(flag.CommandLine.Output(), usage)
		flag.PrintDefaults()
	}
	acct.Parse(os.Args[1:])
	if flag.NArg() != 0 {
		acct.Fail(cli.Usagef("unexpected arguments after the flags"))
	}
	if *sql == "" {
		acct.Fail(cli.Usagef("-sql is required"))
	}
	client, err := acct.Client()
	if err != nil {
		acct.Fail(err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, maps.New(client), *sql, *z, *x, *y, os.Stdout); err != nil {
		acct.Fail(err)
	}
}

// run maps sql, fetches tile z/x/y and prints its features.
func run(ctx context.Context, m *maps.Client, sql string, z, x, y int, w io.Writer) error {
	lg, err := m.Anonymous(ctx, &maps.MapConfig{Version: "1.7.0", Layers: []maps.Layer{maps.VectorLayer(sql)}})
	if err != nil {
		return err
	}
	data, err := lg.Tile(ctx, "", z, x, y)
	if err != nil {
		return err
	}
	layers, err := maps.DecodeTile(data, z, x, y)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "tile %d/%d/%d: %d bytes\n", z, x, y, len(data))
	for _, l := range layers {
		fmt.Fprintf(w, "layer %s: %d features\n", l.Name, len(l.Features))
		for _, f := range l.Features {
			keys := make([]string, 0, len(f.Properties))
			for k := range f.Properties {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			props := make([]string, len(keys))
			for i, k := range keys {
				props[i] = fmt.Sprintf("%s=%v", k, f.Properties[k])
			}
			fmt.Fprintf(w, "  %s  %s\n", wkt.MarshalString(f.Geometry), strings.Join(props, " "))
		}
	}
	return nil
}
