// Command create_named_map stores a named map from a template file and prints its template id,
// like carto-python's examples/create_named_map.py:
//
//	create_named_map files/named_map.json
//
// Named maps are administered with the master key. The account comes from -base-url and
// -api-key, or $CARTO_BASE_URL and $CARTO_API_KEY (examples/internal/cli).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/signal"

	"github.com/go-json-experiment/json"

	"github.com/gocarto/carto/examples/internal/cli"
	"github.com/gocarto/carto/maps"
)

const usage = "usage: create_named_map [-base-url URL] [-api-key MASTER_KEY] TEMPLATE.json"

func main() {
	acct := cli.Register(flag.CommandLine)
	flag.Usage = func() {
		fmt.Fprintln(flag.CommandLine.Output(), usage)
		flag.PrintDefaults()
	}
	acct.Parse(os.Args[1:])
	if flag.NArg() != 1 {
		acct.Fail(cli.Usagef("want one template file"))
	}
	client, err := acct.Client()
	if err != nil {
		acct.Fail(err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, maps.New(client), flag.Arg(0), os.Stdout); err != nil {
		acct.Fail(err)
	}
}

// run stores the template in file as a named map.
func run(ctx context.Context, m *maps.Client, file string, w io.Writer) error {
	raw, err := os.ReadFile(file)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err // the path is not quoted: it may be a key typed in the wrong place
		}
		return fmt.Errorf("reading the template: %w", err)
	}
	var tpl maps.Template
	if err := json.Unmarshal(raw, &tpl); err != nil {
		return fmt.Errorf("reading the template: %w", err)
	}
	id, err := m.CreateNamed(ctx, &tpl)
	if err != nil {
		return err
	}
	fmt.Fprintln(w, "template_id:", id)
	return nil
}
