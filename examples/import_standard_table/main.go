// Command import_standard_table imports a file, or the file behind a URL, as a dataset of a CARTO
// account, like carto-python's examples/import_standard_table.py:
//
//	import_standard_table places.csv
//	import_standard_table https://example.com/data/places.geojson
//
// The account comes from --base_url and --api_key, or $CARTO_BASE_URL and $CARTO_API_KEY (the
// master key). A local file streams to CARTO, never read whole; the program prints the import's
// states as they change, then the table's name and the dataset's id.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"

	"github.com/gocarto/carto"
	"github.com/gocarto/carto/imports"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "import_standard_table:", err)
		os.Exit(1)
	}
}

const usage = "usage: import_standard_table [--base_url=URL] [--api_key=KEY] [--privacy=private|public|link] PATH_OR_URL"

func run(ctx context.Context, args []string, w io.Writer) error {
	fs := flag.NewFlagSet("import_standard_table", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	baseURL := fs.String("base_url", os.Getenv("CARTO_BASE_URL"), "the account's base URL (default $CARTO_BASE_URL)")
	apiKey := fs.String("api_key", os.Getenv("CARTO_API_KEY"), "the account's master API key (default $CARTO_API_KEY)")
	version := fs.Bool("version", false, "print the version and exit")
	privacy := fs.String("privacy", "", "the dataset's privacy: private, public or link")
	perr := fs.Parse(args)
	if perr == nil && *version {
		fmt.Fprintln(w, carto.Version)
		return nil
	}
	if perr != nil || fs.NArg() != 1 || *baseURL == "" {
		return errors.New(usage)
	}
	client, err := carto.NewClient(*baseURL, carto.WithAPIKey(*apiKey))
	if err != nil {
		return err
	}
	c := imports.New(client)
	opts := &imports.Options{Privacy: imports.Privacy(*privacy)}
	src := fs.Arg(0)
	var imp *imports.Import
	if strings.HasPrefix(src, "http://") || strings.HasPrefix(src, "https://") {
		imp, err = c.FromURL(ctx, src, opts)
	} else {
		f, ferr := os.Open(src)
		if ferr != nil {
			return ferr
		}
		defer f.Close()
		imp, err = c.Upload(ctx, filepath.Base(src), f, opts)
	}
	if err != nil {
		return err
	}
	imp, err = c.Wait(ctx, imp.ID, imports.OnChange(func(i *imports.Import) { fmt.Fprintln(w, "state:", i.State) }))
	if err != nil {
		var ie *imports.ImportError
		if errors.As(err, &ie) {
			return fmt.Errorf("%w (%s)", err, ie.Advice)
		}
		return err
	}
	fmt.Fprintln(w, "table:", imp.TableName)
	fmt.Fprintln(w, "dataset_id:", imp.TableID)
	return nil
}
