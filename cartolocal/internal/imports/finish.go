package imports

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/gocarto/carto/cartolocal/internal/importer"
)

// finish makes the staged tables the account's, in one transaction with the import's success:
// each gets its name (by the collision strategy), moves into the account's schema, is
// cartodbfied as the account's role, gets its privacy and becomes a dataset.
func (s *Server) finish(ctx context.Context, conn *pgxpool.Conn, rec *record, acct Account, res *staged) error {
	var names, ids []string
	// renamed maps a source's name to the table it became, for the maps of .carto files.
	renamed := map[string]string{}
	mapToMake := rec.Opts.CreateVis && s.cfg.CreateMap != nil
	err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		if err := lockNames(ctx, tx, acct); err != nil {
			return err
		}
		for _, st := range res.tables {
			name, id, err := s.place(ctx, tx, acct, st, rec.Opts)
			if err != nil {
				return err
			}
			if name != "" {
				names, ids = append(names, name), append(ids, id)
				renamed[st.Base] = name
			}
		}
		var code *int
		setCode := func(c int) { code = &c }
		mapToMake = mapToMake && (len(names) > 0 || len(res.maps) > 0)
		switch {
		case len(names) == 0 && rec.Opts.CollisionStrategy == "skip":
			setCode(importer.CodeAllSkipped)
		case len(names) == 0 && len(res.maps) > 0:
			// A .carto without data: CARTO's import has no table (1002) but its runner
			// succeeded on the map, so it completes with the code.
			setCode(importer.CodeUnsupported)
		case len(names) == 0 && res.mapsErr != nil:
			return res.mapsErr
		case len(names) == 0:
			return importer.Failf(importer.CodeUnsupported, "nothing was imported")
		case res.mapsErr != nil:
			// The tables are in and the map is not: CARTO completes with the map's error.
			s.logf("imports: import %s: %v", rec.ID, res.mapsErr)
			setCode(importer.CodeOf(res.mapsErr))
		}
		var first, firstID *string
		if len(names) > 0 {
			first = &names[0]
			if ids[0] != "" {
				firstID = &ids[0]
			}
		}
		n := len(names)
		var warnings []byte
		if res.warnings != nil {
			warnings = res.warnings
		}
		// With a map to make, the import completes once it is made (it needs the tables
		// committed), so that no one sees it complete without its visualization_id.
		state := StateComplete
		if mapToMake {
			state = StateGuessing
		}
		_, err := tx.Exec(ctx, `UPDATE cartolocal.imports SET state = $7, error_code = $2, table_name = $3,
	table_id = $4, tables_created_count = $5, warnings = $6, updated_at = now() WHERE id = $1`,
			rec.ID, code, first, firstID, n, warnings, state)
		return err
	})
	if err != nil {
		return err
	}
	if rec.SyncID != nil {
		s.syncImportEnded(ctx, rec, names, 0)
	}
	if mapToMake {
		var vizID *string
		specs := []MapSpec{{Tables: names, Privacy: rec.Opts.Privacy}}
		if len(res.maps) > 0 {
			specs = specs[:0]
			for _, m := range res.maps {
				if m.Type != "derived" && m.Type != "" {
					s.logf("imports: import %s: a %q visualization is not imported", rec.ID, m.Type)
					continue
				}
				spec, ok, err := m.Imported(ctx, conn, acct.Schema, acct.Role, renamed)
				if err != nil {
					s.logf("imports: import %s: its map %q: %v", rec.ID, m.Name, err)
				} else if !ok {
					s.logf("imports: import %s: its map %q: none of its tables is in the account", rec.ID, m.Name)
				} else {
					specs = append(specs, spec)
				}
			}
		}
		for _, spec := range specs {
			id, err := s.cfg.CreateMap(ctx, acct.Name, spec)
			if err != nil {
				// The datasets are there; only the map is missing, as when CARTO's fails.
				s.logf("imports: import %s: creating its map: %v", rec.ID, err)
				continue
			}
			vizID = &id // CARTO binds each map to the import in turn: the last one stays
		}
		if _, err := s.admin.Exec(context.WithoutCancel(ctx), "UPDATE cartolocal.imports SET visualization_id = $2, state = 'complete', updated_at = now() WHERE id = $1", rec.ID, vizID); err != nil {
			return err
		}
	}
	return nil
}

// lockNames serializes the choice of table names in an account.
func lockNames(ctx context.Context, tx pgx.Tx, acct Account) error {
	_, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock(hashtextextended('cartolocal imports names ' || $1, 0))", acct.Name)
	return err
}

// taken reports whether a relation of that name is in the account's schema.
func taken(ctx context.Context, tx pgx.Tx, acct Account) func(string) bool {
	return func(name string) bool {
		var ok bool
		err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = $1 AND c.relname = $2)`, acct.Schema, name).Scan(&ok)
		return err != nil || ok
	}
}

// place gives one staged table its place in the account; an empty name means it was skipped.
func (s *Server) place(ctx context.Context, tx pgx.Tx, acct Account, st importer.Staged, opts options) (name, id string, err error) {
	exists := taken(ctx, tx, acct)
	switch opts.CollisionStrategy {
	case "skip", "overwrite":
		name = importer.SanitizeTableName(st.Base)
		if name == "" {
			name = importer.DefaultTableName
		}
		if exists(name) {
			if opts.CollisionStrategy == "skip" {
				return "", "", nil
			}
			id, err := s.overwrite(ctx, tx, acct, st.Table, name, opts.Privacy)
			return name, id, err
		}
	default:
		if name, err = importer.ProposeTableName(st.Base, exists); err != nil {
			return "", "", err
		}
	}
	if err := s.adopt(ctx, tx, acct, st.Table, name); err != nil {
		return "", "", err
	}
	id, err = s.register(ctx, tx, acct, name, opts.Privacy)
	return name, id, err
}

// adopt moves a prepared staging table into the account as name, owned by the account's role,
// and cartodbfies it as that role.
func (s *Server) adopt(ctx context.Context, tx pgx.Tx, acct Account, staging, name string) error {
	schema := pgx.Identifier{acct.Schema}.Sanitize()
	role := pgx.Identifier{acct.Role}.Sanitize()
	qt := pgx.Identifier{acct.Schema, name}.Sanitize()
	// A temporary name first: the staging name may clash in the schema, the final one not.
	if _, err := tx.Exec(ctx, fmt.Sprintf("ALTER TABLE %s SET SCHEMA %s; ALTER TABLE %s.%s RENAME TO %s; ALTER TABLE %s OWNER TO %s",
		pgx.Identifier{importer.StagingSchema, staging}.Sanitize(), schema, schema, pgx.Identifier{staging}.Sanitize(), pgx.Identifier{name}.Sanitize(), qt, role)); err != nil {
		return fmt.Errorf("moving the table: %w", err)
	}
	if _, err := tx.Exec(ctx, "SAVEPOINT cartodbfy; SET LOCAL ROLE "+role); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, "SELECT cartodb.CDB_CartodbfyTable($1::text, $2::regclass)", acct.Schema, qt); err != nil {
		return importer.Fail(importer.CodeCartodbfy, err)
	}
	_, err := tx.Exec(ctx, "RESET ROLE; RELEASE SAVEPOINT cartodbfy; ANALYZE "+qt)
	return err
}

// register makes the table a dataset with its privacy.
func (s *Server) register(ctx context.Context, tx pgx.Tx, acct Account, name, privacy string) (string, error) {
	if s.cfg.RegisterTable != nil {
		id, err := s.cfg.RegisterTable(ctx, tx, acct.Name, name, privacy)
		if err != nil {
			return "", fmt.Errorf("registering %s: %w", name, err)
		}
		return id, nil
	}
	qt := pgx.Identifier{acct.Schema, name}.Sanitize()
	pub := pgx.Identifier{acct.PublicRole}.Sanitize()
	sql := "REVOKE ALL ON " + qt + " FROM " + pub
	if privacy == "public" || privacy == "link" {
		sql = "GRANT SELECT ON " + qt + " TO " + pub
	}
	_, err := tx.Exec(ctx, sql)
	return "", err
}

// overwrite replaces the account's table name by the staged one (collision_strategy=overwrite):
// the new table takes the name, the old one's grants and, unless the import gives one, its
// privacy. A table others depend on cannot be replaced (2013).
func (s *Server) overwrite(ctx context.Context, tx pgx.Tx, acct Account, staging, name, privacy string) (string, error) {
	grants, err := tableGrants(ctx, tx, acct, name)
	if err != nil {
		return "", err
	}
	if privacy == "" {
		privacy = "private"
		for _, g := range grants {
			if g.grantee == acct.PublicRole && g.privilege == "SELECT" {
				privacy = "public"
			}
		}
	}
	if _, err := tx.Exec(ctx, "SAVEPOINT overwrite"); err != nil {
		return "", err
	}
	if _, err := tx.Exec(ctx, "DROP TABLE "+pgx.Identifier{acct.Schema, name}.Sanitize()); err != nil {
		return "", importer.Fail(importer.CodeCannotOverwrite, err)
	}
	if err := s.adopt(ctx, tx, acct, staging, name); err != nil {
		return "", err
	}
	if err := restoreGrants(ctx, tx, acct, name, grants); err != nil {
		return "", err
	}
	return s.register(ctx, tx, acct, name, privacy)
}

type grant struct{ grantee, privilege string }

// tableGrants are the privileges others hold on the account's table.
func tableGrants(ctx context.Context, tx pgx.Tx, acct Account, name string) ([]grant, error) {
	rows, err := tx.Query(ctx, `SELECT grantee, privilege_type FROM information_schema.role_table_grants
WHERE table_schema = $1 AND table_name = $2 AND grantee <> $3`, acct.Schema, name, acct.Role)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (grant, error) {
		var g grant
		err := r.Scan(&g.grantee, &g.privilege)
		return g, err
	})
}

func restoreGrants(ctx context.Context, tx pgx.Tx, acct Account, name string, grants []grant) error {
	for _, g := range grants {
		if g.grantee == "PUBLIC" {
			continue
		}
		if _, err := tx.Exec(ctx, fmt.Sprintf("GRANT %s ON %s TO %s", g.privilege, pgx.Identifier{acct.Schema, name}.Sanitize(), pgx.Identifier{g.grantee}.Sanitize())); err != nil {
			return err
		}
	}
	return nil
}

// replaceRows puts the staged rows in place of the account's table's rows, in tx: the table
// keeps its identity (name, grants, privacy, dataset, triggers, indexes). When the staged columns
// differ from the table's, the table is replaced as overwrite does.
func (s *Server) replaceRows(ctx context.Context, tx pgx.Tx, acct Account, staging, name string) error {
	qt := pgx.Identifier{acct.Schema, name}.Sanitize()
	st := pgx.Identifier{importer.StagingSchema, staging}.Sanitize()
	oldCols, err := columnTypes(ctx, tx, qt)
	if err != nil {
		return importer.Fail(importer.CodeCannotOverwrite, err)
	}
	newCols, err := columnTypes(ctx, tx, st)
	if err != nil {
		return err
	}
	// The trigger computes the_geom_webmercator of the inserted rows.
	delete(oldCols, "the_geom_webmercator")
	delete(newCols, "the_geom_webmercator")
	same := len(oldCols) == len(newCols)
	var cols []string
	for n, t := range newCols {
		if oldCols[n] != t && !(n == "cartodb_id" && oldCols[n] != "") && !(n == "the_geom" && oldCols[n] != "") {
			same = false
		}
		cols = append(cols, n)
	}
	if !same {
		_, err := s.overwrite(ctx, tx, acct, staging, name, "")
		return err
	}
	slices.Sort(cols)
	list := ""
	for i, c := range cols {
		if i > 0 {
			list += ", "
		}
		list += pgx.Identifier{c}.Sanitize()
	}
	if _, err := tx.Exec(ctx, "SAVEPOINT replace_rows"); err != nil {
		return err
	}
	_, err = tx.Exec(ctx, fmt.Sprintf(`DELETE FROM %s; INSERT INTO %[1]s (%s) SELECT %[2]s FROM %s;
SELECT setval(pg_get_serial_sequence('%[1]s', 'cartodb_id'), GREATEST(1, (SELECT max(cartodb_id) FROM %[1]s)))`, qt, list, st))
	if err != nil {
		var code = importer.CodeCannotOverwrite
		if errors.Is(err, context.Canceled) {
			return err
		}
		return importer.Fail(code, err)
	}
	return nil
}

// columnTypes maps a table's columns to their types.
func columnTypes(ctx context.Context, q querier, qtable string) (map[string]string, error) {
	rows, err := q.Query(ctx, `SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute
WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped`, qtable)
	if err != nil {
		return nil, err
	}
	m := map[string]string{}
	for rows.Next() {
		var n, t string
		if err := rows.Scan(&n, &t); err != nil {
			rows.Close()
			return nil, err
		}
		m[n] = t
	}
	return m, rows.Err()
}
