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

	"github.com/gocarto/carto/examples/internal/cli"
	"github.com/gocarto/carto/imports"
)

func main() {
	acct := cli.Register(flag.CommandLine)
	acct.Parse(os.Args[1:])
	if flag.NArg() != 2 {
		acct.Fail(cli.Usagef("import_sync_table URL INTERVAL_SECONDS"))
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
