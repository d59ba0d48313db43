// Command create_anonymous_map creates an anonymous map from a MapConfig file and prints its
// layergroup id, like carto-python's examples/create_anonymous_map.py:
//
//	create_anonymous_map files/anonymous_map.json
//
// It also prints when the map's data last changed, the layergroup's vector tile URL (which
// carries no key: send it as Basic auth, or ?api_key= in a browser) and, on cartolocal, the map
// preview page. The account comes from -base-url and -api-key, or $CARTO_BASE_URL and
// $CARTO_API_KEY (examples/internal/cli).
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

const usage = "usage: create_anonymous_map [-base-url URL] [-api-key KEY] MAPCONFIG.json"

func main() {
	acct := cli.Register(flag.CommandLine)
	flag.Usage = func() {
		fmt.Fprintln(flag.CommandLine.Output(), usage)
		flag.PrintDefaults()
	}
	acct.Parse(os.Args[1:])
	if flag.NArg() != 1 {
		acct.Fail(cli.Usagef("want one MapConfig file"))
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

// readJSON decodes a JSON file into v. Its errors do not quote the path: a key typed in the
// wrong place must not be printed back.
func readJSON(path string, v any) error {
	raw, err := os.ReadFile(path)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return fmt.Errorf("reading the file: %w", err)
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("reading the file: %w", err)
	}
	return nil
}

// run creates the map of the MapConfig in file and prints its layergroup.
func run(ctx context.Context, m *maps.Client, file string, w io.Writer) error {
	var cfg maps.MapConfig
	if err := readJSON(file, &cfg); err != nil {
		return err
	}
	lg, err := m.Anonymous(ctx, &cfg)
	if err != nil {
		return err
	}
	fmt.Fprintln(w, "layergroupid:", lg.ID)
	fmt.Fprintln(w, "last_updated:", lg.LastUpdated.Format("2006-01-02T15:04:05.000Z07:00"))
	fmt.Fprintln(w, "vector tiles:", lg.TileURL("", 0, 0, 0, "mvt"))
	fmt.Fprintln(w, "preview (cartolocal):", m.PreviewURL(lg.ID))
	return nil
}
