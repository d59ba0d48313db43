// Command import_and_merge imports CSV files of one structure and merges them into the first,
// like carto-python's examples/import_and_merge.py:
//
//	import_and_merge 'files/barris_*.csv'
//
// Each file becomes a dataset; the rows of the others are then inserted into the first, which
// is renamed <first>_merged, and the others are deleted. The account comes from --base_url and
// --api_key, or $CARTO_BASE_URL and $CARTO_API_KEY (the master key).
package main

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"

	"github.com/gocarto/carto/examples/internal/cli"
	"github.com/gocarto/carto/imports"
)

func main() {
	acct := cli.Register(flag.CommandLine)
	acct.Parse(os.Args[1:])
	if flag.NArg() != 1 {
		acct.Fail(cli.Usagef("import_and_merge 'GLOB'"))
	}
	client, err := acct.Client()
	if err != nil {
		acct.Fail(err)
	}
	db, err := acct.OpenDB()
	if err != nil {
		acct.Fail(err)
	}
	defer db.Close()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, imports.New(client), db, flag.Arg(0), os.Stdout); err != nil {
		acct.Fail(err)
	}
}

// run imports the files glob matches and merges them into the first.
func run(ctx context.Context, c *imports.Client, db *sql.DB, glob string, w io.Writer) error {
	files, err := filepath.Glob(glob)
	if err != nil {
		return err
	}
	sort.Strings(files)
	if len(files) < 2 {
		return fmt.Errorf("%q matches %d files; merging needs two or more", glob, len(files))
	}
	var tables []string
	for _, f := range files {
		name, err := importFile(ctx, c, f)
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "imported %s as %s\n", filepath.Base(f), name)
		tables = append(tables, name)
	}

	base := tables[0]
	cols, err := columns(ctx, db, base)
	if err != nil {
		return err
	}
	for _, t := range tables[1:] {
		q := fmt.Sprintf("INSERT INTO %s (%s) SELECT %[2]s FROM %s", quote(base), cols, quote(t))
		if _, err := db.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("merging %s: %w", t, err)
		}
	}
	merged := base + "_merged"
	if _, err := db.ExecContext(ctx, fmt.Sprintf("ALTER TABLE %s RENAME TO %s", quote(base), quote(merged))); err != nil {
		return err
	}
	for _, t := range tables[1:] {
		if _, err := db.ExecContext(ctx, "DROP TABLE "+quote(t)); err != nil {
			return err
		}
	}
	var n int64
	if err := db.QueryRowContext(ctx, "SELECT count(*) FROM "+quote(merged)).Scan(&n); err != nil {
		return err
	}
	fmt.Fprintf(w, "merged into %s: %d rows\n", merged, n)
	return nil
}

// importFile uploads a file and waits for its table.
func importFile(ctx context.Context, c *imports.Client, path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	imp, err := c.Upload(ctx, filepath.Base(path), f, nil)
	if err != nil {
		return "", err
	}
	if imp, err = c.Wait(ctx, imp.ID); err != nil {
		return "", err
	}
	return imp.TableName, nil
}

// columns lists the table's columns but cartodb_id (the merged rows get new ids) and
// the_geom_webmercator (a trigger keeps it), quoted, as carto-python's example does.
func columns(ctx context.Context, db *sql.DB, table string) (string, error) {
	rows, err := db.QueryContext(ctx, `SELECT column_name::text FROM information_schema.columns
WHERE table_schema = current_schema() AND table_name = $1 AND column_name NOT IN ('cartodb_id', 'the_geom_webmercator')
ORDER BY ordinal_position`, table)
	if err != nil {
		return "", err
	}
	defer rows.Close()
	var cols []string
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			return "", err
		}
		cols = append(cols, quote(c))
	}
	if err := rows.Err(); err != nil {
		return "", err
	}
	if len(cols) == 0 {
		return "", fmt.Errorf("table %s has no columns to merge", table)
	}
	return strings.Join(cols, ", "), nil
}

func quote(id string) string { return `"` + strings.ReplaceAll(id, `"`, `""`) + `"` }
