// Command instantiate_named_map instantiates a named map with placeholder values from a file and
// an auth token, and prints the layergroup, like carto-python's
// examples/instantiate_named_map.py:
//
//	instantiate_named_map python_sdk_test_map files/instantiate_map.json example_token
//
// A named map's viewers need only its token; the Python example reads the template first
// (NamedMapManager.get), which needs the master key, and so does this one. The account comes from
// -base-url and -api-key, or $CARTO_BASE_URL and $CARTO_API_KEY (examples/internal/cli).
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

const usage = "usage: instantiate_named_map [-base-url URL] [-api-key MASTER_KEY] NAME PARAMS.json TOKEN"

func main() {
	acct := cli.Register(flag.CommandLine)
	flag.Usage = func() {
		fmt.Fprintln(flag.CommandLine.Output(), usage)
		flag.PrintDefaults()
	}
	acct.Parse(os.Args[1:])
	if flag.NArg() != 3 {
		acct.Fail(cli.Usagef("want a template name, a parameters file and a token"))
	}
	client, err := acct.Client()
	if err != nil {
		acct.Fail(err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, maps.New(client), flag.Arg(0), flag.Arg(1), flag.Arg(2), os.Stdout); err != nil {
		acct.Fail(err)
	}
}

// run instantiates the named map name with the parameters in file and token.
func run(ctx context.Context, m *maps.Client, name, file, token string, w io.Writer) error {
	raw, err := os.ReadFile(file)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err // the path is not quoted: it may be a key typed in the wrong place
		}
		return fmt.Errorf("reading the parameters: %w", err)
	}
	var params map[string]any
	if err := json.Unmarshal(raw, &params); err != nil {
		return fmt.Errorf("reading the parameters: %w", err)
	}
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
	fmt.Fprintln(w, "preview (cartolocal):", m.PreviewURL(lg.ID)+"&auth_token=TOKEN")
	return nil
}
