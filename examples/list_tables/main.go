// Command list_tables lists the tables of a CARTO account by size, largest first, as an ASCII
// bar chart, saying of each whether it is cartodbfied (has cartodb_id, the_geom and
// the_geom_webmercator with their primary key and spatial indexes), as carto-python's
// list_tables.py does.
//
//	list_tables
//
// The account comes from -base-url and -api-key, or $CARTO_BASE_URL and $CARTO_API_KEY, or from
// -dsn or $CARTO_DSN (see examples/README.md).
package main

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"text/tabwriter"

	"github.com/gocarto/carto/examples/internal/cli"
)

func main() {
	acct := cli.Register(flag.CommandLine, cli.WithDSN())
	width := flag.Int("width", 40, "the longest bar, in characters")
	acct.Parse(os.Args[1:])
	if flag.NArg() > 0 || *width < 1 {
		acct.Fail(cli.Usagef("list_tables [-width N]"))
	}
	db, err := acct.OpenDB()
	if err != nil {
		acct.Fail(err)
	}
	defer db.Close()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, db, *width, os.Stdout); err != nil {
		acct.Fail(err)
	}
}

// tablesSQL finds the tables the key's role owns (the seed's pg_class/pg_roles/pg_namespace
// query), their total size, and what cartodbfying gives a table: the three columns and the
// primary key and spatial indexes on them, named as the seed looks for them.
const tablesSQL = `SELECT c.relname::text AS name,
       pg_total_relation_size(c.oid) AS size,
       pg_size_pretty(pg_total_relation_size(c.oid)) AS pretty,
       (SELECT count(*) FROM pg_attribute a WHERE a.attrelid = c.oid AND NOT a.attisdropped
           AND a.attname IN ('cartodb_id', 'the_geom', 'the_geom_webmercator')) = 3
       AND EXISTS (SELECT 1 FROM pg_indexes i WHERE i.schemaname = n.nspname AND i.tablename = c.relname AND i.indexname LIKE '%the\_geom\_webmercator\_idx')
       AND EXISTS (SELECT 1 FROM pg_indexes i WHERE i.schemaname = n.nspname AND i.tablename = c.relname AND i.indexname LIKE '%the\_geom\_idx')
       AND EXISTS (SELECT 1 FROM pg_indexes i WHERE i.schemaname = n.nspname AND i.tablename = c.relname AND i.indexname LIKE '%\_pkey') AS cartodbfied
  FROM pg_class c, pg_roles r, pg_namespace n
 WHERE r.oid = c.relowner AND r.rolname = current_user AND n.oid = c.relnamespace AND c.relkind = 'r'
 ORDER BY size DESC, name`

type table struct {
	name, pretty string
	size         int64
	cartodbfied  bool
}

// run prints the chart: one line per table with its size, YES or NO, and a bar as long, against
// the largest table's width characters, as the table is large.
func run(ctx context.Context, db *sql.DB, width int, w io.Writer) error {
	rows, err := db.QueryContext(ctx, tablesSQL)
	if err != nil {
		return err
	}
	defer rows.Close()
	var tables []table
	var total int64
	for rows.Next() {
		var t table
		if err := rows.Scan(&t.name, &t.size, &t.pretty, &t.cartodbfied); err != nil {
			return err
		}
		tables = append(tables, t)
		total += t.size
	}
	if err := rows.Err(); err != nil {
		return err
	}
	fmt.Fprintf(w, "%d tables, %s in all\n\n", len(tables), pretty(total))
	if len(tables) == 0 {
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "TABLE\tSIZE\tCARTODBFIED\t")
	largest := tables[0].size
	for _, t := range tables {
		bar := 0
		if largest > 0 {
			bar = int((t.size*int64(width) + largest - 1) / largest) // every non-empty table shows
		}
		yes := "NO"
		if t.cartodbfied {
			yes = "YES"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", t.name, t.pretty, yes, strings.Repeat("#", bar))
	}
	return tw.Flush()
}

// pretty writes a byte count as pg_size_pretty does.
func pretty(n int64) string {
	units := []string{"bytes", "kB", "MB", "GB", "TB"}
	v, u := n, 0
	for u < len(units)-1 && v >= 10*1024 {
		v = (v + 512) / 1024
		u++
	}
	return fmt.Sprintf("%d %s", v, units[u])
}
