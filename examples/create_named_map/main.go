// Command create_named_map stores a named map from a template file and prints its template id,
// like carto-python's examples/create_named_map.py:
//
//	create_named_map files/named_map.json
//
// The account comes from --base_url and --api_key, or $CARTO_API_URL and $CARTO_API_KEY; named
// maps are administered with the master key.
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
		fmt.Fprintln(os.Stderr, "create_named_map:", err)
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

const usage = "usage: create_named_map [--base_url=URL] [--api_key=MASTER_KEY] TEMPLATE.json"

func run(ctx context.Context, args []string, w io.Writer) error {
	fs := flag.NewFlagSet("create_named_map", flag.ContinueOnError)
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
	var tpl maps.Template
	if err := json.Unmarshal(raw, &tpl); err != nil {
		return fmt.Errorf("%s: %w", fs.Arg(0), err)
	}
	client, err := carto.NewClient(*baseURL, carto.WithAPIKey(*apiKey))
	if err != nil {
		return err
	}
	id, err := maps.New(client).CreateNamed(ctx, &tpl)
	if err != nil {
		return err
	}
	fmt.Fprintln(w, "template_id:", id)
	return nil
}
