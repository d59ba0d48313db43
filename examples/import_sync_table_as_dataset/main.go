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
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"time"

	"github.com/gocarto/carto/examples/internal/cli"
	"github.com/gocarto/carto/imports"
)

func main() {
	acct := cli.Register(flag.CommandLine)
	acct.Parse(os.Args[1:])
	if flag.NArg() != 2 {
		acct.Fail(cli.Usagef("import_sync_table_as_dataset URL INTERVAL_SECONDS"))
	}
	seconds, err := strconv.Atoi(flag.Arg(1))
	if err != nil {
		acct.Fail(cli.Usagef("the interval is a number of seconds, not %q", flag.Arg(1)))
	}
	client, err := acct.Client()
	if err != nil {
		acct.Fail(err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, imports.New(client), flag.Arg(0), time.Duration(seconds)*time.Second, os.Stdout); err != nil {
		acct.Fail(err)
	}
}

// run creates the sync table and reports on it.
func run(ctx context.Context, c *imports.Client, source string, interval time.Duration, w io.Writer) error {
	s, err := c.CreateSync(ctx, imports.SyncSpec{URL: source, Interval: interval})
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
