// Command instantiate_named_map instantiates a named map with placeholder values from a file and
// an auth token, and prints the layergroup, like carto-python's
// examples/instantiate_named_map.py:
//
//	instantiate_named_map python_sdk_test_map files/instantiate_map.json example_token
//
// The account comes from --base_url and --api_key, or $CARTO_API_URL and $CARTO_API_KEY. A named
// map's viewers need no API key, only its token; the key is used to read the template first, as
// the Python example does (NamedMapManager.get), which needs the master key.
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
		fmt.Fprintln(os.Stderr, "instantiate_named_map:", err)
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

const usage = "usage: instantiate_named_map [--base_url=URL] [--api_key=MASTER_KEY] NAME PARAMS.json TOKEN"

func run(ctx context.Context, args []string, w io.Writer) error {
	fs := flag.NewFlagSet("instantiate_named_map", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	version := fs.Bool("version", false, "print gocarto's version and exit")
	baseURL := fs.String("base_url", "", "the account's base URL, such as https://USER.carto.com/ (default $CARTO_API_URL)")
	apiKey := fs.String("api_key", "", "the account's master API key (default $CARTO_API_KEY)")
	if err := fs.Parse(args); err != nil {
		return usageError(err.Error() + "\n" + usage)
	}
	if *version {
		fmt.Fprintln(w, carto.Version)
		return nil
	}
	if fs.NArg() != 3 {
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
	name, token := fs.Arg(0), fs.Arg(2)
	raw, err := os.ReadFile(fs.Arg(1))
	if err != nil {
		return err
	}
	var params map[string]any
	if err := json.Unmarshal(raw, &params); err != nil {
		return fmt.Errorf("%s: %w", fs.Arg(1), err)
	}
	client, err := carto.NewClient(*baseURL, carto.WithAPIKey(*apiKey))
	if err != nil {
		return err
	}
	m := maps.New(client)
	tpl, err := m.GetNamed(ctx, name)
	if err != nil {
		return err
	}
	lg, err := m.Instantiate(ctx, tpl.Name, params, token)
	if err != nil {
		return err
	}
	fmt.Fprintln(w, "layergroupid:", lg.ID)
	fmt.Fprintln(w, "last_updated:", lg.LastUpdated.Format("2006-01-02T15:04:05.000Z07:00"))
	for _, l := range lg.Metadata.Layers {
		fmt.Fprintf(w, "layer %s (%s): %s\n", l.ID, l.Type, l.Meta)
	}
	// As carto-python's get_tile_url: the template's id and its first token.
	fmt.Fprintln(w, "template tile:", m.NamedTileURL(tpl.Name, "0", 0, 0, 0, "mvt", token))
	return nil
}
