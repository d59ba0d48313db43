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

	"github.com/gocarto/carto/examples/internal/cli"
	"github.com/gocarto/carto/imports"
)

func main() {
	acct := cli.Register(flag.CommandLine)
	privacy := flag.String("privacy", "", "the dataset's privacy: private, public or link (default: the account's)")
	acct.Parse(os.Args[1:])
	if flag.NArg() != 1 {
		acct.Fail(cli.Usagef("import_standard_table [-privacy private|public|link] PATH_OR_URL"))
	}
	client, err := acct.Client()
	if err != nil {
		acct.Fail(err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, imports.New(client), flag.Arg(0), imports.Privacy(*privacy), os.Stdout); err != nil {
		acct.Fail(err)
	}
}

// run imports src, a path or an http(s) URL, and prints the states, the table and the dataset.
func run(ctx context.Context, c *imports.Client, src string, privacy imports.Privacy, w io.Writer) error {
	opts := &imports.Options{Privacy: privacy}
	var (
		imp *imports.Import
		err error
	)
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
