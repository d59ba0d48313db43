// Command export_create_tables writes a SQL script that recreates the tables of a CARTO account:
// CREATE TABLE with columns, defaults and constraints, then the sequences, indexes, triggers,
// comments and foreign keys that go with them. Data is not exported.
//
//	export_create_tables > tables.sql
//	export_create_tables -tables places,routes -drop
//
// The account comes from -base-url and -api-key, or $CARTO_BASE_URL and $CARTO_API_KEY, or from
// -dsn or $CARTO_DSN (see examples/README.md).
//
// The tables are those of the account's schema (current_schema()), except tables that belong to
// extensions such as PostGIS's spatial_ref_sys. Names are written unqualified, so the script
// creates the tables in the first schema of the search_path where it runs, another account's
// included. Trigger functions are not exported: the script expects them to exist (CARTO's own,
// in the cartodb schema, do). A partitioned table is exported with its PARTITION BY clause but
// without its partitions.
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

	"github.com/gocarto/carto/examples/internal/cli"
)

// args are the program's options.
type args struct {
	Tables []string // only these tables (unquoted names); all when empty
	Drop   bool     // start with DROP TABLE IF EXISTS ... CASCADE
}

func main() {
	var a args
	acct := cli.Register(flag.CommandLine, cli.WithDSN())
	tables := flag.String("tables", "", "comma-separated table names to export (default: all)")
	flag.BoolVar(&a.Drop, "drop", false, "begin the script with DROP TABLE IF EXISTS for each table")
	acct.Parse(os.Args[1:])
	if flag.NArg() > 0 {
		acct.Fail(cli.Usagef("export_create_tables [-tables a,b] [-drop]"))
	}
	for _, t := range strings.Split(*tables, ",") {
		if t = strings.TrimSpace(t); t != "" {
			a.Tables = append(a.Tables, t)
		}
	}
	db, err := acct.OpenDB()
	if err != nil {
		acct.Fail(err)
	}
	defer db.Close()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, db, a, os.Stdout); err != nil {
		acct.Fail(err)
	}
}

// selected is the set of exported tables; $1 is a comma-separated list of names, or ”.
const selected = `WITH sel AS (
  SELECT c.oid FROM pg_class c
   WHERE c.relnamespace = current_schema()::regnamespace
     AND c.relkind IN ('r', 'p') AND NOT c.relispartition
     AND NOT EXISTS (SELECT 1 FROM pg_depend d
                      WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
     AND ($1 = '' OR c.relname = ANY (string_to_array($1, ',')))
) `

// The catalog queries, one request each for all tables. Every column is named (CARTO returns
// rows as JSON objects, where unnamed columns would collide) and cast to a plain type.
const (
	tablesSQL = selected + `SELECT c.oid::int8 AS id, quote_ident(c.relname) AS name,
       quote_ident(c.relnamespace::regnamespace::text) AS schema,
       c.relpersistence = 'u' AS unlogged, c.relkind = 'p' AS partitioned,
       CASE WHEN c.relkind = 'p' THEN pg_get_partkeydef(c.oid) ELSE '' END AS partition_key,
       coalesce(obj_description(c.oid, 'pg_class'), '') AS comment
  FROM pg_class c JOIN sel ON sel.oid = c.oid
 ORDER BY c.relname`

	columnsSQL = selected + `SELECT a.attrelid::int8 AS table_id, quote_ident(a.attname) AS name,
       format_type(a.atttypid, a.atttypmod) AS type,
       CASE WHEN a.attcollation <> t.typcollation THEN ' COLLATE ' || quote_ident(co.collname) ELSE '' END AS collation,
       a.attnotnull AS not_null,
       a.attidentity::text AS identity, a.attgenerated::text AS generated,
       coalesce(pg_get_expr(d.adbin, d.adrelid), '') AS default_expr,
       coalesce(col_description(a.attrelid, a.attnum), '') AS comment
  FROM pg_attribute a JOIN sel ON sel.oid = a.attrelid
  JOIN pg_type t ON t.oid = a.atttypid
  LEFT JOIN pg_collation co ON co.oid = a.attcollation
  LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
 WHERE a.attnum > 0 AND NOT a.attisdropped
 ORDER BY a.attrelid, a.attnum`

	constraintsSQL = selected + `SELECT c.conrelid::int8 AS table_id, quote_ident(c.conname) AS name,
       c.contype::text AS kind, pg_get_constraintdef(c.oid) AS definition
  FROM pg_constraint c JOIN sel ON sel.oid = c.conrelid
 WHERE c.contype IN ('p', 'u', 'c', 'x', 'f') AND c.conislocal
 ORDER BY c.conrelid, c.contype = 'f', c.contype <> 'p', c.conname`

	// Indexes that do not back a constraint (those come with the constraint).
	indexesSQL = selected + `SELECT x.indrelid::int8 AS table_id, pg_get_indexdef(x.indexrelid) AS definition
  FROM pg_index x JOIN sel ON sel.oid = x.indrelid
  JOIN pg_class i ON i.oid = x.indexrelid
 WHERE NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid AND c.conrelid = x.indrelid)
 ORDER BY x.indrelid, i.relname`

	triggersSQL = selected + `SELECT t.tgrelid::int8 AS table_id, pg_get_triggerdef(t.oid) AS definition
  FROM pg_trigger t JOIN sel ON sel.oid = t.tgrelid
 WHERE NOT t.tgisinternal
 ORDER BY t.tgrelid, t.tgname`

	// Sequences of serial columns: owned by a column (deptype 'a'); identity sequences
	// (deptype 'i') are created by the column itself.
	sequencesSQL = selected + `SELECT d.refobjid::int8 AS table_id, quote_ident(s.relname) AS name,
       quote_ident(a.attname) AS column_name
  FROM pg_depend d JOIN sel ON sel.oid = d.refobjid
  JOIN pg_class s ON s.oid = d.objid AND s.relkind = 'S'
  JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
 WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass AND d.deptype = 'a'
 ORDER BY d.refobjid, s.relname`
)

type table struct {
	id                       int64
	name, schema             string
	unlogged, partitioned    bool
	partitionKey, comment    string
	columns                  []string
	comments                 []string // COMMENT ON COLUMN statements
	constraints, foreignKeys []string
	indexes, triggers        []string
	sequences                [][2]string // name, column
}

// run writes the script to w.
func run(ctx context.Context, db *sql.DB, a args, w io.Writer) error {
	filter := strings.Join(a.Tables, ",")
	var tables []*table
	byID := map[int64]*table{}
	err := each(ctx, db, tablesSQL, filter, func(s scanner) error {
		t := new(table)
		if err := s.Scan(&t.id, &t.name, &t.schema, &t.unlogged, &t.partitioned, &t.partitionKey, &t.comment); err != nil {
			return err
		}
		tables = append(tables, t)
		byID[t.id] = t
		return nil
	})
	if err != nil {
		return err
	}
	if len(a.Tables) > 0 && len(tables) < len(a.Tables) {
		return fmt.Errorf("asked for %d tables, found %d: check the names in -tables", len(a.Tables), len(tables))
	}

	err = each(ctx, db, columnsSQL, filter, func(s scanner) error {
		var (
			id                                                   int64
			name, typ, collation, identity, generated, def, cmnt string
			notNull                                              bool
		)
		if err := s.Scan(&id, &name, &typ, &collation, &notNull, &identity, &generated, &def, &cmnt); err != nil {
			return err
		}
		t := byID[id]
		col := name + " " + typ + collation
		switch {
		case identity == "a":
			col += " GENERATED ALWAYS AS IDENTITY"
		case identity == "d":
			col += " GENERATED BY DEFAULT AS IDENTITY"
		case generated == "s":
			col += " GENERATED ALWAYS AS (" + def + ") STORED"
		case def != "":
			col += " DEFAULT " + def
		}
		if notNull && identity == "" {
			col += " NOT NULL"
		}
		t.columns = append(t.columns, col)
		if cmnt != "" {
			t.comments = append(t.comments, "COMMENT ON COLUMN "+t.name+"."+name+" IS "+literal(cmnt)+";")
		}
		return nil
	})
	if err != nil {
		return err
	}
	err = each(ctx, db, constraintsSQL, filter, func(s scanner) error {
		var id int64
		var name, kind, def string
		if err := s.Scan(&id, &name, &kind, &def); err != nil {
			return err
		}
		t := byID[id]
		if kind == "f" {
			// Added after every table exists, so the order of tables does not matter.
			t.foreignKeys = append(t.foreignKeys, "ALTER TABLE "+t.name+" ADD CONSTRAINT "+name+" "+def+";")
		} else {
			t.constraints = append(t.constraints, "CONSTRAINT "+name+" "+def)
		}
		return nil
	})
	if err != nil {
		return err
	}
	err = each(ctx, db, indexesSQL, filter, func(s scanner) error {
		var id int64
		var def string
		if err := s.Scan(&id, &def); err != nil {
			return err
		}
		byID[id].indexes = append(byID[id].indexes, byID[id].unqualify(def)+";")
		return nil
	})
	if err != nil {
		return err
	}
	err = each(ctx, db, triggersSQL, filter, func(s scanner) error {
		var id int64
		var def string
		if err := s.Scan(&id, &def); err != nil {
			return err
		}
		byID[id].triggers = append(byID[id].triggers, byID[id].unqualify(def)+";")
		return nil
	})
	if err != nil {
		return err
	}
	err = each(ctx, db, sequencesSQL, filter, func(s scanner) error {
		var id int64
		var name, col string
		if err := s.Scan(&id, &name, &col); err != nil {
			return err
		}
		byID[id].sequences = append(byID[id].sequences, [2]string{name, col})
		return nil
	})
	if err != nil {
		return err
	}
	return write(w, tables, a.Drop)
}

// write prints the script.
func write(w io.Writer, tables []*table, drop bool) error {
	var b strings.Builder
	fmt.Fprintf(&b, "-- %d %s, written by export_create_tables (structure only, no data)\n", len(tables), plural(len(tables), "table", "tables"))
	if drop && len(tables) > 0 {
		b.WriteString("\n")
		for _, t := range tables {
			fmt.Fprintf(&b, "DROP TABLE IF EXISTS %s CASCADE;\n", t.name)
		}
	}
	for _, t := range tables {
		fmt.Fprintf(&b, "\n-- %s\n", t.name)
		for _, s := range t.sequences {
			fmt.Fprintf(&b, "CREATE SEQUENCE IF NOT EXISTS %s;\n", s[0])
		}
		kind := "TABLE"
		if t.unlogged {
			kind = "UNLOGGED TABLE"
		}
		fmt.Fprintf(&b, "CREATE %s %s (\n", kind, t.name)
		lines := append(append([]string{}, t.columns...), t.constraints...)
		for i, l := range lines {
			b.WriteString("    " + l)
			if i < len(lines)-1 {
				b.WriteString(",")
			}
			b.WriteString("\n")
		}
		b.WriteString(")")
		if t.partitioned {
			b.WriteString(" PARTITION BY " + t.partitionKey)
		}
		b.WriteString(";\n")
		for _, s := range t.sequences {
			fmt.Fprintf(&b, "ALTER SEQUENCE %s OWNED BY %s.%s;\n", s[0], t.name, s[1])
		}
		for _, l := range t.indexes {
			b.WriteString(l + "\n")
		}
		for _, l := range t.triggers {
			b.WriteString(l + "\n")
		}
		if t.comment != "" {
			fmt.Fprintf(&b, "COMMENT ON TABLE %s IS %s;\n", t.name, literal(t.comment))
		}
		for _, l := range t.comments {
			b.WriteString(l + "\n")
		}
	}
	var fks []string
	for _, t := range tables {
		fks = append(fks, t.foreignKeys...)
	}
	if len(fks) > 0 {
		b.WriteString("\n-- foreign keys\n" + strings.Join(fks, "\n") + "\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// unqualify drops the schema that pg_get_indexdef and pg_get_triggerdef put before the table
// name ("ON alice.places") even when the schema is on the search_path.
func (t *table) unqualify(def string) string {
	for _, on := range []string{" ON ", " ON ONLY "} {
		def = strings.Replace(def, on+t.schema+"."+t.name+" ", on+t.name+" ", 1)
	}
	return def
}

type scanner interface{ Scan(dest ...any) error }

// each runs query with the table filter and calls row for every result row.
func each(ctx context.Context, db *sql.DB, query, filter string, row func(scanner) error) error {
	rows, err := db.QueryContext(ctx, query, filter)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := row(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

// literal quotes s as a SQL string literal. With standard_conforming_strings on (the default
// since PostgreSQL 9.1, and CARTO's setting) only quotes need doubling; a backslash makes it an
// E” literal, so the script reads the same under either setting.
func literal(s string) string {
	if strings.Contains(s, `\`) {
		return "E'" + strings.ReplaceAll(strings.ReplaceAll(s, `\`, `\\`), "'", "''") + "'"
	}
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
