// Command map_info lists the maps of a CARTO account, shows one map's attributes, or downloads
// one map's .carto export, as carto-python's map_info.py does.
//
//	map_info                    # the maps' names
//	map_info -map "Transit"     # one map's attributes
//	map_info -export "Transit"  # its .carto file, to downloaded_file.carto
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
	"strings"
	"text/tabwriter"
	"time"

	"github.com/gocarto/carto"
	"github.com/gocarto/carto/account"
	"github.com/gocarto/carto/examples/internal/cli"
)

// args are the program's options.
type args struct {
	Map    string // show this map's attributes
	Export string // download this map's .carto file
	Output string // where the download goes
}

func main() {
	var a args
	acct := cli.Register(flag.CommandLine)
	flag.StringVar(&a.Map, "map", "", "show the attributes of the map of this name")
	flag.StringVar(&a.Export, "export", "", "download the .carto export of the map of this name")
	flag.StringVar(&a.Output, "o", "downloaded_file.carto", "where -export writes the file")
	acct.Parse(os.Args[1:])
	if flag.NArg() > 0 || a.Map != "" && a.Export != "" {
		acct.Fail(cli.Usagef("map_info [-map NAME | -export NAME [-o FILE]]"))
	}
	client, err := acct.Client()
	if err != nil {
		acct.Fail(err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, client, a, os.Stdout); err != nil {
		acct.Fail(err)
	}
}

func run(ctx context.Context, c *carto.Client, a args, w io.Writer) error {
	maps := account.NewVisualizations(c)
	switch {
	case a.Map != "":
		m, err := maps.Get(ctx, a.Map)
		if err != nil {
			return err
		}
		return show(m, w)
	case a.Export != "":
		return download(ctx, maps, a, w)
	}
	for m, err := range maps.List(ctx, &account.ListOptions{Order: "name", Ascending: true}) {
		if err != nil {
			return err
		}
		if _, err := fmt.Fprintln(w, m.Name); err != nil {
			return err
		}
	}
	return nil
}

// show prints a map's attributes, one per line.
func show(m *account.Visualization, w io.Writer) error {
	var tables []string
	for _, t := range m.RelatedTables {
		tables = append(tables, t.Name)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, kv := range [][2]string{
		{"id", m.ID}, {"name", m.Name}, {"description", m.Description}, {"privacy", string(m.Privacy)},
		{"tags", strings.Join(m.Tags, ", ")}, {"tables", strings.Join(tables, ", ")}, {"url", m.URL},
		{"owner", m.Permission.Owner.Username},
		{"created_at", m.CreatedAt.Format(time.RFC3339)}, {"updated_at", m.UpdatedAt.Format(time.RFC3339)},
	} {
		fmt.Fprintf(tw, "%s\t%s\n", kv[0], kv[1])
	}
	return tw.Flush()
}

// download exports the map and writes its .carto file to a.Output.
func download(ctx context.Context, maps *account.Visualizations, a args, w io.Writer) error {
	e, err := maps.Export(ctx, a.Export)
	if err != nil {
		return err
	}
	if e, err = maps.Wait(ctx, e.ID, nil); err != nil {
		return err
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
	_, err = fmt.Fprintf(w, "%s: %d bytes\n", a.Output, n)
	return err
}
