// Command import_sync_table_as_dataset creates a sync table from a URL and prints the dataset it
// becomes once its first import is done, like carto-python's
// examples/import_sync_table_as_dataset.py (DatasetManager.create(url, interval)):
//
//	import_sync_table_as_dataset https://example.com/data/places.csv 900
//
// The interval is in seconds, at least 900. The account comes from --base_url and --api_key, or
// $CARTO_BASE_URL and $CARTO_API_KEY (the master key).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"time"

	"github.com/gocarto/carto"
	"github.com/gocarto/carto/imports"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "import_sync_table_as_dataset:", err)
		os.Exit(1)
	}
}

const usage = "usage: import_sync_table_as_dataset [--base_url=URL] [--api_key=KEY] URL INTERVAL_SECONDS"

func run(ctx context.Context, args []string, w io.Writer) error {
	fs := flag.NewFlagSet("import_sync_table_as_dataset", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	baseURL := fs.String("base_url", os.Getenv("CARTO_BASE_URL"), "the account's base URL (default $CARTO_BASE_URL)")
	apiKey := fs.String("api_key", os.Getenv("CARTO_API_KEY"), "the account's master API key (default $CARTO_API_KEY)")
	version := fs.Bool("version", false, "print the version and exit")
	perr := fs.Parse(args)
	if perr == nil && *version {
		fmt.Fprintln(w, carto.Version)
		return nil
	}
	if perr != nil || fs.NArg() != 2 || *baseURL == "" {
		return errors.New(usage)
	}
	seconds, err := strconv.Atoi(fs.Arg(1))
	if err != nil {
		return errors.New(usage)
	}
	client, err := carto.NewClient(*baseURL, carto.WithAPIKey(*apiKey))
	if err != nil {
		return err
	}
	c := imports.New(client)
	s, err := c.CreateSync(ctx, imports.SyncSpec{URL: fs.Arg(0), Interval: time.Duration(seconds) * time.Second})
	if err != nil {
		return err
	}
	// The first import makes the table; WaitSync returns once the sync has settled after it.
	if _, err := c.Wait(ctx, s.ImportID); err != nil {
		return err
	}
	if s, err = c.WaitSync(ctx, s.ID); err != nil {
		return err
	}
	fmt.Fprintln(w, "dataset:", s.Name)
	fmt.Fprintln(w, "dataset_id:", s.VisualizationID)
	fmt.Fprintln(w, "interval:", s.Interval)
	fmt.Fprintln(w, "next_sync:", s.RunAt.UTC().Format(time.RFC3339))
	return nil
}
