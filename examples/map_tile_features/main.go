// Command map_tile_features makes an anonymous vector map of a query, fetches one of its Mapbox
// Vector Tiles and prints the features in it: layer, geometry in longitude/latitude (WKT) and
// properties.
//
//	map_tile_features --sql "SELECT * FROM places" --z 5 --x 15 --y 12
//
// The query needs the_geom_webmercator (every cartodbfied table has it). The account comes from
// --base_url and --api_key, or $CARTO_API_URL and $CARTO_API_KEY.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"

	"github.com/paulmach/orb/encoding/wkt"

	"github.com/gocarto/carto"
	"github.com/gocarto/carto/maps"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "map_tile_features:", err)
		var ue usageError
		if errors.As(err, &ue) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

// usageError is a mistake in the command line.
type usageError string

func (e usageError) Error() string { return string(e) }

const usage = "usage: map_tile_features --sql=QUERY [--z=Z --x=X --y=Y] [--base_url=URL] [--api_key=KEY]"

func run(ctx context.Context, args []string, w io.Writer) error {
	fs := flag.NewFlagSet("map_tile_features", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	version := fs.Bool("version", false, "print gocarto's version and exit")
	sql := fs.String("sql", "", "the layer's query (required)")
	z := fs.Int("z", 0, "tile zoom")
	x := fs.Int("x", 0, "tile column")
	y := fs.Int("y", 0, "tile row, from the top")
	baseURL := fs.String("base_url", "", "the account's base URL, such as https://USER.carto.com/ (default $CARTO_API_URL)")
	apiKey := fs.String("api_key", "", "an API key that may read the query's tables (default $CARTO_API_KEY)")
	if err := fs.Parse(args); err != nil {
		return usageError(err.Error() + "\n" + usage)
	}
	if *version {
		fmt.Fprintln(w, carto.Version)
		return nil
	}
	if fs.NArg() != 0 || *sql == "" {
		return usageError(usage)
	}
	if *baseURL == "" {
		*baseURL = os.Getenv("CARTO_API_URL")
	}
	if *apiKey == "" {
		*apiKey = os.Getenv("CARTO_API_KEY")
	}
	if *baseURL == "" {
		return usageError("no base URL: set --base_url or CARTO_API_URL\n" + usage)
	}
	client, err := carto.NewClient(*baseURL, carto.WithAPIKey(*apiKey))
	if err != nil {
		return err
	}
	m := maps.New(client)
	lg, err := m.Anonymous(ctx, &maps.MapConfig{Version: "1.7.0", Layers: []maps.Layer{maps.VectorLayer(*sql)}})
	if err != nil {
		return err
	}
	data, err := lg.Tile(ctx, "", *z, *x, *y)
	if err != nil {
		return err
	}
	layers, err := maps.DecodeTile(data, *z, *x, *y)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "tile %d/%d/%d: %d bytes\n", *z, *x, *y, len(data))
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
