// Command export_map exports a map of a CARTO account to a .carto file (its definition and its
// tables' data), waits for the export and prints the file's URL; with -o it also downloads it.
//
//	export_map -o transit.carto "Transit map"
//
// The account comes from -base-url and -api-key, or $CARTO_BASE_URL and $CARTO_API_KEY (see
// examples/README.md).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"

	"github.com/gocarto/carto"
	"github.com/gocarto/carto/account"
	"github.com/gocarto/carto/examples/internal/cli"
)

// args are the program's options.
type args struct {
	Map    string // the map's name or id
	Output string // where to download the file; empty: only print its URL
}

func main() {
	var a args
	acct := cli.Register(flag.CommandLine)
	flag.StringVar(&a.Output, "o", "", "download the .carto file to this path")
	acct.Parse(os.Args[1:])
	if flag.NArg() != 1 {
		acct.Fail(cli.Usagef(`export_map [-o FILE] "MAP NAME"`))
	}
	a.Map = flag.Arg(0)
	client, err := acct.Client()
	if err != nil {
		acct.Fail(err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, client, a, os.Stdout, os.Stderr); err != nil {
		acct.Fail(err)
	}
}

// run exports the map, reporting each state on progress, prints the file's URL on w and
// downloads it when asked.
func run(ctx context.Context, c *carto.Client, a args, w, progress io.Writer) error {
	maps := account.NewVisualizations(c)
	e, err := maps.Export(ctx, a.Map)
	if err != nil {
		return err
	}
	e, err = maps.Wait(ctx, e.ID, func(e *account.Export) { fmt.Fprintf(progress, "export %s: %s\n", e.ID, e.State) })
	if err != nil {
		return err
	}
	if _, err := fmt.Fprintln(w, e.URL); err != nil {
		return err
	}
	if a.Output == "" {
		return nil
	}
	f, err := os.Create(a.Output)
	if err != nil {
		return err
	}
	n, err := maps.Download(ctx, e, f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return errors.Join(err, os.Remove(a.Output))
	}
	_, err = fmt.Fprintf(progress, "%s: %d bytes\n", a.Output, n)
	return err
}
