package registry

import (
	"context"
	"fmt"
)

// sync brings an account's datasets in step with the catalog, as CARTO's ghost-tables manager
// does: a registered table that was dropped through SQL leaves the registry (with the maps that
// used only it), one renamed through SQL is renamed (in the maps that use it too), and a table of
// the account's schema that was cartodbfied through SQL becomes a dataset, private unless the
// public role can already read it. The caller holds the account's lock.
func sync(ctx context.Context, q Querier, a Account) error {
	// Dropped tables, or tables moved out of the schema.
	rows, err := q.Query(ctx, `
DELETE FROM cartolocal.visualizations v
WHERE v.user_name = $1 AND v.type = 'table' AND NOT EXISTS (
	SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
	WHERE c.oid = v.table_oid AND n.nspname = $2)
RETURNING v.name`, a.Name, a.Schema)
	if err != nil {
		return fmt.Errorf("registry: sync: %w", err)
	}
	var gone []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			rows.Close()
			return err
		}
		gone = append(gone, n)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("registry: sync: %w", err)
	}
	for _, n := range gone {
		if err := forgetTable(ctx, q, a, n); err != nil {
			return err
		}
	}

	// Renamed tables.
	rows, err = q.Query(ctx, `
SELECT v.name, c.relname::text FROM cartolocal.visualizations v JOIN pg_class c ON c.oid = v.table_oid
WHERE v.user_name = $1 AND v.type = 'table' AND v.name <> c.relname::text`, a.Name)
	if err != nil {
		return fmt.Errorf("registry: sync: %w", err)
	}
	var renames [][2]string
	for rows.Next() {
		var from, to string
		if err := rows.Scan(&from, &to); err != nil {
			rows.Close()
			return err
		}
		renames = append(renames, [2]string{from, to})
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("registry: sync: %w", err)
	}
	for _, rn := range renames {
		if err := renamed(ctx, q, a, rn[0], rn[1]); err != nil {
			return err
		}
	}

	// Tables cartodbfied through SQL: the three columns CDB_CartodbfyTable guarantees.
	_, err = q.Exec(ctx, `
INSERT INTO cartolocal.visualizations (user_name, name, type, privacy, table_oid, tables)
SELECT $1, c.relname::text, 'table',
	CASE WHEN has_table_privilege($3, c.oid, 'SELECT') THEN 'public' ELSE 'private' END,
	c.oid, ARRAY[c.relname::text]
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = $2 AND c.relkind IN ('r', 'p')
	AND (SELECT count(*) FROM pg_attribute a WHERE a.attrelid = c.oid AND NOT a.attisdropped
		AND a.attname IN ('cartodb_id', 'the_geom', 'the_geom_webmercator')) = 3
	AND NOT EXISTS (SELECT 1 FROM cartolocal.visualizations v WHERE v.type = 'table' AND v.table_oid = c.oid)
ON CONFLICT DO NOTHING`, a.Name, a.Schema, a.PublicRole)
	if err != nil {
		return fmt.Errorf("registry: sync: %w", err)
	}
	return nil
}

// renamed records that a dataset's table is now called to: the dataset's name, and the maps that
// use it (their table lists and the SQL of their definitions).
func renamed(ctx context.Context, q Querier, a Account, from, to string) error {
	_, err := q.Exec(ctx, `
UPDATE cartolocal.visualizations SET name = $3, tables = ARRAY[$3], updated_at = now()
WHERE user_name = $1 AND type = 'table' AND name = $2`, a.Name, from, to)
	if err != nil {
		return fmt.Errorf("registry: rename %q: %w", from, err)
	}
	// Definitions name tables as "schema"."table" (qualifiedJSON), so a plain text replace is
	// exact: no other text can hold that quoted sequence by accident.
	_, err = q.Exec(ctx, `
UPDATE cartolocal.visualizations
SET tables = array_replace(tables, $2, $3),
	definition = replace(definition::text, $4, $5)::jsonb, updated_at = now()
WHERE user_name = $1 AND type = 'derived' AND $2 = ANY (tables)`,
		a.Name, from, to, qualifiedJSON(a.Schema, from), qualifiedJSON(a.Schema, to))
	if err != nil {
		return fmt.Errorf("registry: rename %q in maps: %w", from, err)
	}
	return nil
}

// forgetTable removes a gone table from the maps that used it: a map that used only gone tables
// goes too (CARTO deletes a table's fully dependent maps), the others keep their other tables.
func forgetTable(ctx context.Context, q Querier, a Account, table string) error {
	_, err := q.Exec(ctx, `
DELETE FROM cartolocal.visualizations
WHERE user_name = $1 AND type = 'derived' AND tables <@ ARRAY[$2]::text[]`, a.Name, table)
	if err == nil {
		_, err = q.Exec(ctx, `
UPDATE cartolocal.visualizations SET tables = array_remove(tables, $2), updated_at = now()
WHERE user_name = $1 AND type = 'derived' AND $2 = ANY (tables)`, a.Name, table)
	}
	if err != nil {
		return fmt.Errorf("registry: maps of %q: %w", table, err)
	}
	return nil
}
