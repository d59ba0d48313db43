// Command duplicate_table copies a table from one CARTO account into another, after
// carto-python's duplicate_table.py:
//
//	duplicate_table -base-url https://alice.carto.com -api-key KEY -to-base-url https://bob.carto.com -to-api-key KEY2 -table places
//
// It reads the table's columns on the source, creates the same table on the destination (types
// only: no defaults, no constraints), streams the rows with COPY ... TO STDOUT on the source piped
// straight into COPY ... FROM STDIN on the destination, with no temporary file and constant memory,
// then makes the copy a CARTO table (CDB_CartodbfyTable: cartodb_id's sequence, the_geom's
// indexes and triggers).
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
	"strings"

	"github.com/gocarto/carto/driver"
	"github.com/gocarto/carto/examples/internal/cli"
)

func main() {
	acct := cli.Register(flag.CommandLine, cli.WithDSN())
	table := flag.String("table", "", "the table to copy; the copy has the same name (required)")
	toURL := flag.String("to-base-url", "", "the destination account's base URL (default $CARTO_DEST_BASE_URL)")
	toKey := flag.String("to-api-key", "", "the destination account's API key (default $CARTO_DEST_API_KEY)")
	acct.Parse(os.Args[1:])
	// As for the source's, the defaults come from the environment after parsing, so that -help
	// never prints a key.
	if *toURL == "" {
		*toURL = os.Getenv("CARTO_DEST_BASE_URL")
	}
	if *toKey == "" {
		*toKey = os.Getenv("CARTO_DEST_API_KEY")
	}
	if *table == "" || *toURL == "" || flag.NArg() > 0 {
		acct.Fail(cli.Usagef("duplicate_table -table TABLE -to-base-url URL -to-api-key KEY (or $CARTO_DEST_BASE_URL, $CARTO_DEST_API_KEY)"))
	}
	src, err := acct.OpenDB()
	if err != nil {
		acct.Fail(err)
	}
	defer src.Close()
	cfg := driver.NewConfig()
	cfg.BaseURL, cfg.APIKey = *toURL, *toKey
	ctr, err := driver.NewConnector(cfg)
	if err != nil {
		acct.Fail(err)
	}
	dst := sql.OpenDB(ctr)
	defer dst.Close()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	n, err := run(ctx, src, dst, *table)
	if err != nil {
		acct.Fail(err)
	}
	fmt.Printf("copied %d rows of %s\n", n, *table)
}

// column is one column of the table: its name and its type as format_type writes it.
type column struct{ name, typ string }

// columnsSQL lists a table's columns in order, with their full types (varchar(20), geometry(Point,4326)).
const columnsSQL = `SELECT a.attname::text, format_type(a.atttypid, a.atttypmod)
  FROM pg_attribute a
 WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped
 ORDER BY a.attnum`

// run copies table from src to dst and returns the rows copied.
func run(ctx context.Context, src, dst *sql.DB, table string) (int64, error) {
	cols, err := columns(ctx, src, table)
	if err != nil {
		return 0, err
	}
	qt := quoteIdent(table)
	var def, list []string
	for _, c := range cols {
		def = append(def, quoteIdent(c.name)+" "+c.typ)
		list = append(list, quoteIdent(c.name))
	}
	if _, err := dst.ExecContext(ctx, "CREATE TABLE "+qt+" ("+strings.Join(def, ", ")+")"); err != nil {
		return 0, fmt.Errorf("creating the table on the destination: %w", err)
	}
	// Binary COPY: no text round trip of the values, the same types on both sides.
	with := " (" + strings.Join(list, ", ") + ")"
	pr, pw := io.Pipe()
	copied := make(chan error, 1)
	go func() {
		_, err := driver.CopyTo(ctx, src, "COPY "+qt+with+" TO STDOUT WITH (FORMAT binary)", pw)
		// The reading side sees the source's failure, so the destination's COPY fails too.
		pw.CloseWithError(err)
		copied <- err
	}()
	res, err := driver.CopyFrom(ctx, dst, "COPY "+qt+with+" FROM STDIN WITH (FORMAT binary)", pr)
	pr.CloseWithError(errors.New("the destination stopped reading"))
	srcErr := <-copied
	if err != nil {
		// When the destination fails first, the source's error is only the closed pipe.
		return 0, fmt.Errorf("writing the destination: %w", err)
	}
	if srcErr != nil {
		return 0, fmt.Errorf("reading the source: %w", srcErr)
	}
	if _, err := dst.ExecContext(ctx, "SELECT CDB_CartodbfyTable(current_schema, $1)", table); err != nil {
		return 0, fmt.Errorf("cartodbfying the copy: %w", err)
	}
	return res.Rows, nil
}

func columns(ctx context.Context, db *sql.DB, table string) ([]column, error) {
	rows, err := db.QueryContext(ctx, columnsSQL, table)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var cols []column
	for rows.Next() {
		var c column
		if err := rows.Scan(&c.name, &c.typ); err != nil {
			return nil, err
		}
		cols = append(cols, c)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(cols) == 0 {
		return nil, fmt.Errorf("no table %q on the source", table)
	}
	return cols, nil
}

func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }
