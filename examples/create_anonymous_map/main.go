// Command create_anonymous_map creates an anonymous map from a MapConfig file and prints its
// layergroup id, like carto-python's examples/create_anonymous_map.py:
//
//	create_anonymous_map files/anonymous_map.json
//
// The account comes from --base_url and --api_key, or $CARTO_API_URL and $CARTO_API_KEY. It also
// prints the layergroup's vector tile URL (which carries no key: send it as Basic auth) and, on
// cartolocal, the map preview page.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"

	"github.com/go-json-experiment/json"

	"github.com/gocarto/carto"
	"github.com/gocarto/carto/maps"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "create_anonymous_map:", err)
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

const usage = "usage: create_anonymous_map [--base_url=URL] [--api_key=KEY] MAPCONFIG.json"

func run(ctx context.Context, args []string, w io.Writer) error {
	fs := flag.NewFlagSet("create_anonymous_map", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	version := fs.Bool("version", false, "print gocarto's version and exit")
	// No flag default from the environment: usage would print the key.
	baseURL := fs.String("base_url", "", "the account's base URL, such as https://USER.carto.com/ (default $CARTO_API_URL)")
	apiKey := fs.String("api_key", "", "an API key that may read the map's tables (default $CARTO_API_KEY)")
	if err := fs.Parse(args); err != nil {
		return usageError(err.Error() + "\n" + usage)
	}
	if *version {
		fmt.Fprintln(w, carto.Version)
		return nil
	}
	if fs.NArg() != 1 {
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
	raw, err := os.ReadFile(fs.Arg(0))
	if err != nil {
		return err
	}
	var cfg maps.MapConfig
	if err := json.Unmarshal(raw, &cfg); err != nil {
		return fmt.Errorf("%s: %w", fs.Arg(0), err)
	}
	client, err := carto.NewClient(*baseURL, carto.WithAPIKey(*apiKey))
	if err != nil {
		return err
	}
	lg, err := maps.New(client).Anonymous(ctx, &cfg)
	if err != nil {
		return err
	}
	fmt.Fprintln(w, "layergroupid:", lg.ID)
	fmt.Fprintln(w, "last_updated:", lg.LastUpdated.Format("2006-01-02T15:04:05.000Z07:00"))
	fmt.Fprintln(w, "vector tiles:", lg.TileURL("", 0, 0, 0, "mvt"))
	fmt.Fprintln(w, "preview (cartolocal):", client.URL("maps/preview").String()+"?layergroup="+lg.ID)
	return nil
}
