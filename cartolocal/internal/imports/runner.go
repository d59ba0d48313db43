package imports

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/gocarto/carto/cartolocal/internal/importer"
)

// lockClass is the first key of the advisory lock a runner holds on the import it runs ("imp").
const lockClass = 0x696d70

// pollEvery is how often an idle runner looks for imports it was not woken for: those left by
// a runner that died, or created by another process on the same database.
const pollEvery = time.Second

func (s *Server) runner() {
	defer s.wg.Done()
	t := time.NewTicker(pollEvery)
	defer t.Stop()
	for {
		for s.ctx.Err() == nil && s.runOne() {
		}
		select {
		case <-s.ctx.Done():
			return
		case <-s.wake:
		case <-t.C:
		}
	}
}

// runOne claims an unfinished import and runs it; it reports whether it ran one.
func (s *Server) runOne() bool {
	ctx := s.ctx
	rows, err := s.admin.Query(ctx, "SELECT id::text FROM cartolocal.imports WHERE state = ANY($1) AND runner_group = $2 ORDER BY created_at LIMIT 20", unfinished, s.cfg.Group)
	if err != nil {
		if ctx.Err() == nil {
			s.logf("imports: looking for imports: %v", err)
		}
		return false
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return false
	}
	for _, id := range ids {
		if s.claim(ctx, id) {
			return true
		}
	}
	return false
}

// claim runs the import id if no runner holds it.
func (s *Server) claim(ctx context.Context, id string) bool {
	conn, err := s.admin.Acquire(ctx)
	if err != nil {
		return false
	}
	var locked bool
	if err := conn.QueryRow(ctx, "SELECT pg_try_advisory_lock($1, hashtext($2))", lockClass, id).Scan(&locked); err != nil || !locked {
		conn.Release()
		return false
	}
	defer func() {
		// The lock must not stay with a pooled session; a session that cannot unlock goes.
		uctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if _, err := conn.Exec(uctx, "SELECT pg_advisory_unlock($1, hashtext($2))", lockClass, id); err != nil {
			_ = conn.Conn().Close(uctx)
		}
		conn.Release()
	}()
	rec, err := s.get(ctx, conn, id, "")
	if err != nil || rec.final() {
		return false
	}
	if _, ok := s.cfg.Accounts(rec.User); !ok {
		return false // an account this server does not serve (another server shares the database)
	}
	s.execute(ctx, conn, rec)
	return true
}

// execute runs one import to its end, unless the server closes first: then the import stays
// unfinished for the next runner.
func (s *Server) execute(ctx context.Context, conn *pgxpool.Conn, rec *record) {
	acct, ok := s.cfg.Accounts(rec.User)
	if !ok {
		_ = s.fail(ctx, conn, rec, importer.CodeUnknown, "unknown account", 0)
		return
	}
	work := filepath.Join(s.cfg.Dir, "work", rec.ID)
	_ = os.RemoveAll(work)
	defer os.RemoveAll(work)
	if err := os.MkdirAll(work, 0o700); err != nil {
		_ = s.fail(ctx, conn, rec, 1000, err.Error(), 0)
		return
	}
	prefix := stagingPrefix(rec.ID)
	defer s.dropStaging(conn, prefix)
	res, err := s.stage(ctx, conn, rec, acct, work, prefix)
	if err == nil {
		err = s.finish(ctx, conn, rec, acct, res)
	}
	if ctx.Err() != nil {
		return
	}
	if err != nil {
		code := importer.CodeOf(err)
		s.logf("imports: import %s of %s failed (%d): %v", rec.ID, rec.User, code, err)
		httpCode := 0
		if res != nil && res.download != nil {
			httpCode = res.download.StatusCode
		}
		if ferr := s.fail(ctx, conn, rec, code, err.Error(), httpCode); ferr != nil {
			s.logf("imports: recording the failure of %s: %v", rec.ID, ferr)
		}
		if rec.SyncID != nil {
			s.syncImportEnded(ctx, rec, nil, code)
		}
	}
	if rec.DataType == TypeFile {
		_ = os.RemoveAll(filepath.Dir(rec.DataSource))
	}
}

func stagingPrefix(id string) string { return "imp_" + strings.ReplaceAll(id, "-", "")[:20] }

// dropStaging removes what an import left in the staging schema.
func (s *Server) dropStaging(conn *pgxpool.Conn, prefix string) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	rows, err := conn.Query(ctx, `SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = $1 AND c.relkind = 'r' AND c.relname LIKE $2`, importer.StagingSchema, prefix+"\\_%")
	if err != nil {
		return
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return
	}
	for _, n := range names {
		_, _ = conn.Exec(ctx, "DROP TABLE IF EXISTS "+pgx.Identifier{importer.StagingSchema, n}.Sanitize()+" CASCADE")
	}
}

// staged is what an import loaded, ready to become the account's tables.
type staged struct {
	tables   []importer.Staged
	download *importer.Download
	warnings []byte
	// maps are the maps of .carto files, to make again with create_vis; mapsErr is a map that
	// could not be read (the import then ends with 99999, its tables imported all the same).
	maps    []*importer.CartoMap
	mapsErr error
}

// stage fetches, unpacks and loads an import's source into staging tables, and prepares them
// (names, types, geometry).
func (s *Server) stage(ctx context.Context, conn *pgxpool.Conn, rec *record, acct Account, work, prefix string) (*staged, error) {
	res := &staged{}
	opts := importer.Options{TypeGuessing: rec.Opts.TypeGuessing, QuotedFieldsGuessing: rec.Opts.QuotedFieldsGuessing}
	if err := s.track(ctx, rec, StateUploading); err != nil {
		return res, err
	}
	var path string
	switch rec.DataType {
	case TypeFile:
		path = rec.DataSource
	case TypeURL:
		d, err := importer.Fetch(ctx, s.hc, rec.DataSource, work)
		res.download = d
		if err != nil {
			return res, err
		}
		path = d.Path
	case TypeQuery:
		if err := s.track(ctx, rec, StateImporting); err != nil {
			return res, err
		}
		if err := s.fromQuery(ctx, conn, rec, acct, prefix+"_0"); err != nil {
			return res, err
		}
		base := rec.Opts.TableName
		if base == "" {
			base = rec.Opts.TableCopy
		}
		res.tables = []importer.Staged{{Table: prefix + "_0", Base: base}}
	case TypeDatasource:
		if len(rec.Opts.Connector) == 0 {
			// CARTO's empty import reaches its unpacker with the path "" and fails there
			// (Unp#without_unpacking raises NotAFileError: 1010, a code without texts).
			return res, importer.Failf(importer.CodeNotAFile, "nothing to import: no file, URL or connector")
		}
		c, err := importer.ParseConnector(rec.Opts.Connector)
		if err != nil {
			return res, err
		}
		if err := s.track(ctx, rec, StateImporting); err != nil {
			return res, err
		}
		if err := importer.LoadConnector(ctx, conn.Conn(), c, prefix+"_0"); err != nil {
			return res, err
		}
		res.tables = []importer.Staged{{Table: prefix + "_0", Base: c.Base()}}
	}
	if path != "" {
		if fi, err := os.Stat(path); err == nil {
			if err := s.checkQuota(ctx, conn, acct, fi.Size()); err != nil {
				return res, err
			}
		}
		if err := s.track(ctx, rec, StateUnpacking); err != nil {
			return res, err
		}
		files, skipped, err := importer.Unpack(path, work)
		if err != nil {
			return res, err
		}
		if skipped > 0 {
			res.warnings = fmt.Appendf(nil, `{"max_tables_per_import":%d}`, importer.MaxTablesPerImport)
		}
		if err := s.track(ctx, rec, StateImporting); err != nil {
			return res, err
		}
		files, res.maps, res.mapsErr = importer.CartoMaps(files)
		for i, f := range files {
			st, err := s.loader.Load(ctx, conn, f, fmt.Sprintf("%s_%d", prefix, i), opts)
			if err != nil {
				return res, err
			}
			res.tables = append(res.tables, st...)
		}
	}
	if err := s.checkStaged(ctx, conn, acct, res.tables); err != nil {
		return res, err
	}
	if err := s.track(ctx, rec, StateGuessing); err != nil {
		return res, err
	}
	for _, t := range res.tables {
		err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error { return importer.Prepare(ctx, tx, t, opts) })
		if err != nil {
			return res, err
		}
	}
	return res, nil
}

// fromQuery runs an sql or table_copy import: CREATE TABLE AS, as the account's role, so that it
// reads only what the account may read.
func (s *Server) fromQuery(ctx context.Context, conn *pgxpool.Conn, rec *record, acct Account, table string) error {
	query := rec.Opts.SQL
	if query == "" {
		query = "SELECT * FROM " + rec.Opts.TableCopy
	}
	role := pgx.Identifier{acct.Role}.Sanitize()
	qt := pgx.Identifier{importer.StagingSchema, table}.Sanitize()
	if _, err := conn.Exec(ctx, "CREATE SCHEMA IF NOT EXISTS "+importer.StagingSchema+"; GRANT USAGE, CREATE ON SCHEMA "+importer.StagingSchema+" TO "+role); err != nil {
		return err
	}
	err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SET LOCAL ROLE "+role+"; SET LOCAL search_path TO "+pgx.Identifier{acct.Schema}.Sanitize()+", cartodb, public"); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "CREATE TABLE "+qt+" AS "+query); err != nil {
			return importer.Fail(importer.CodeSQL, err)
		}
		_, err := tx.Exec(ctx, "RESET ROLE")
		return err
	})
	if err != nil && importer.CodeOf(err) == importer.CodeUnknown {
		return importer.Fail(importer.CodeSQL, err)
	}
	return err
}

// track moves the import to state; a sync's later runs have no import to move.
func (s *Server) track(ctx context.Context, rec *record, state string) error {
	if rec.syncRun {
		return nil
	}
	return s.setState(ctx, rec.ID, state)
}

// quota is an account's storage quota and what its tables take; limit 0 means none.
func (s *Server) quota(ctx context.Context, q querier, acct Account) (limit, used int64, err error) {
	err = q.QueryRow(ctx, "SELECT quota_bytes FROM cartolocal.storage_quotas WHERE user_name = $1", acct.Name).Scan(&limit)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, 0, nil
	}
	if err != nil {
		return 0, 0, err
	}
	err = q.QueryRow(ctx, `SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0)::bigint FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relkind IN ('r', 'm', 'p')`, acct.Schema).Scan(&used)
	return limit, used, err
}

// checkQuota refuses a source bigger than what is left of the quota (8001), as CARTO checks an
// upload against the user's remaining quota.
func (s *Server) checkQuota(ctx context.Context, q querier, acct Account, size int64) error {
	limit, used, err := s.quota(ctx, q, acct)
	if err != nil || limit == 0 {
		return err
	}
	if used+size > limit {
		return importer.Failf(importer.CodeQuota, "%d bytes do not fit: %d of %d used", size, used, limit)
	}
	return nil
}

// checkStaged refuses loaded tables that do not fit in the quota.
func (s *Server) checkStaged(ctx context.Context, q querier, acct Account, tables []importer.Staged) error {
	var size int64
	for _, t := range tables {
		var n int64
		if err := q.QueryRow(ctx, "SELECT pg_total_relation_size($1::regclass)", pgx.Identifier{importer.StagingSchema, t.Table}.Sanitize()).Scan(&n); err != nil {
			return err
		}
		size += n
	}
	return s.checkQuota(ctx, q, acct, size)
}
