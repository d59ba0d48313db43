// Command copy_example loads a CSV into a CARTO table with COPY and exports it again, after
// carto-python's copy_example.py:
//
//	copy_example -base-url https://alice.carto.com -api-key KEY -in files/copy_from.csv -out files/copy_export.csv
//
// It creates the table copy_example (the_geom, name, age) if it does not exist, makes it a CARTO
// table (CDB_CartodbfyTable), streams the CSV into it through the SQL API's copyfrom endpoint
// (gzip-compressed), streams the whole table back out through copyto into -out, and truncates it.
// Neither file is ever held in memory.
package main

import (
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"

	"github.com/gocarto/carto/driver"
	"github.com/gocarto/carto/examples/internal/cli"
	"github.com/gocarto/carto/sqlapi"
)

func main() {
	acct := cli.Register(flag.CommandLine, cli.WithDSN())
	in := flag.String("in", "files/copy_from.csv", "the CSV to load: the_geom,name,age with a header")
	out := flag.String("out", "files/copy_export.csv", "where to write the table's export")
	acct.Parse(os.Args[1:])
	if flag.NArg() > 0 {
		acct.Fail(cli.Usagef("copy_example [-in FILE] [-out FILE]"))
	}
	db, err := acct.OpenDB()
	if err != nil {
		acct.Fail(err)
	}
	defer db.Close()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, db, *in, *out, os.Stdout); err != nil {
		acct.Fail(err)
	}
}

// run is copy_example.py's steps, each reported on w.
func run(ctx context.Context, db *sql.DB, in, out string, w io.Writer) error {
	if _, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS copy_example (the_geom geometry(Geometry,4326), name text, age integer)`); err != nil {
		return err
	}
	if _, err := db.ExecContext(ctx, `SELECT CDB_CartodbfyTable(current_schema, 'copy_example')`); err != nil {
		return err
	}
	fmt.Fprintln(w, "table copy_example ready")

	src, err := os.Open(in)
	if err != nil {
		return err
	}
	defer src.Close()
	res, err := driver.CopyFrom(ctx, db, `COPY copy_example (the_geom, name, age) FROM stdin WITH (FORMAT csv, HEADER true)`, src)
	if err != nil {
		return fmt.Errorf("copy from %s: %w", in, err)
	}
	fmt.Fprintf(w, "copied %d rows from %s (%d bytes, %d on the wire) in %gs\n", res.Rows, in, res.Bytes, res.WireBytes, res.Time)

	dst, err := os.Create(out)
	if err != nil {
		return err
	}
	res, err = driver.CopyTo(ctx, db, `COPY copy_example TO stdout WITH (FORMAT csv, HEADER true)`, dst, sqlapi.WithProgress(func(p sqlapi.Progress) {
		if p.Done {
			fmt.Fprintf(w, "exported %d bytes to %s\n", p.Bytes, out)
		}
	}))
	if cerr := dst.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return errors.Join(fmt.Errorf("copy to %s: %w", out, err), os.Remove(out))
	}

	if _, err := db.ExecContext(ctx, `TRUNCATE TABLE copy_example RESTART IDENTITY`); err != nil {
		return err
	}
	fmt.Fprintln(w, "table copy_example truncated")
	return nil
}
