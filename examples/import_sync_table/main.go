// Command import_sync_table creates a sync table from a URL, waits for its first import, then
// asks for a sync now, like carto-python's examples/import_sync_table.py:
//
//	import_sync_table https://example.com/data/places.csv 900
//
// The interval is in seconds, at least 900. The account comes from --base_url and --api_key, or
// $CARTO_BASE_URL and $CARTO_API_KEY (the master key). CARTO runs a forced sync only 15 minutes
// after the last run, so right after creating a sync "enqueued: false" is what it says.
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
		fmt.Fprintln(os.Stderr, "import_sync_table:", err)
		os.Exit(1)
	}
}

const usage = "usage: import_sync_table [--base_url=URL] [--api_key=KEY] URL INTERVAL_SECONDS"

func run(ctx context.Context, args []string, w io.Writer) error {
	fs := flag.NewFlagSet("import_sync_table", flag.ContinueOnError)
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
	fmt.Fprintln(w, "sync:", s.ID)
	s, err = c.WaitSync(ctx, s.ID, imports.OnSyncChange(func(s *imports.Sync) { fmt.Fprintln(w, "state:", s.State) }))
	var ie *imports.ImportError
	if errors.As(err, &ie) {
		fmt.Fprintln(w, "error_code:", s.ErrorCode)
		fmt.Fprintln(w, "error_message:", s.ErrorMessage)
		return err
	}
	if err != nil {
		return err
	}
	fmt.Fprintln(w, "table:", s.Name)
	enqueued, err := c.ForceSync(ctx, s.ID)
	if err != nil {
		return err
	}
	fmt.Fprintln(w, "enqueued:", enqueued)
	return nil
}
