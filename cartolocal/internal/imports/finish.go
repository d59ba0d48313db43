package imports

import (
	"context"

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
	target := s.target(acct)
	err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		if err := target.LockNames(ctx, tx); err != nil {
			return err
		}
		for _, st := range res.tables {
			name, id, err := target.Place(ctx, tx, st, rec.Opts.CollisionStrategy, rec.Opts.Privacy)
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

// target is acct as the importer places tables in it: datasets are registered through
// Config.RegisterTable when there is one.
func (s *Server) target(acct Account) *importer.Target {
	t := &importer.Target{Name: acct.Name, Schema: acct.Schema, Role: acct.Role, PublicRole: acct.PublicRole}
	if s.cfg.RegisterTable != nil {
		t.Register = func(ctx context.Context, tx pgx.Tx, table, privacy string) (string, error) {
			return s.cfg.RegisterTable(ctx, tx, acct.Name, table, privacy)
		}
	}
	return t
}
