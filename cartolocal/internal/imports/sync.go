package imports

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/gocarto/carto/cartolocal/internal/importer"
)

// States of a sync table (Synchronization::Member::STATE_*).
const (
	SyncCreated = "created"
	SyncQueued  = "queued"
	SyncSyncing = "syncing"
	SyncSuccess = "success"
	SyncFailure = "failure"
)

// MinSyncInterval is the shortest interval CARTO accepts, and how long sync_now waits after a
// run (Member#can_manually_sync?).
const MinSyncInterval = 900 * time.Second

// syncLockClass is the first key of the advisory lock held on a sync while it runs ("syn").
const syncLockClass = 0x73796e

// syncRec is one sync table, as stored.
type syncRec struct {
	ID                   string
	User                 string
	Name                 *string
	Interval             int
	URL                  *string
	State                string
	CreatedAt, UpdatedAt time.Time
	RunAt                *time.Time
	RetriedTimes         int
	LogID                string
	ErrorCode            *int
	ErrorMessage         *string
	RanAt, ModifiedAt    *time.Time
	ETag                 *string
	Checksum             string
	ServiceName          *string
	ServiceItemID        *string
	TypeGuessing         bool
	QuotedFieldsGuessing bool
	ContentGuessing      bool
	VizID                *string
}

const syncColumns = `id::text, user_name, name, interval, url, state, created_at, updated_at, run_at, retried_times,
	log_id::text, error_code, error_message, ran_at, modified_at, etag, checksum, service_name, service_item_id,
	type_guessing, quoted_fields_guessing, content_guessing, visualization_id`

func scanSync(row pgx.Row) (*syncRec, error) {
	var r syncRec
	err := row.Scan(&r.ID, &r.User, &r.Name, &r.Interval, &r.URL, &r.State, &r.CreatedAt, &r.UpdatedAt, &r.RunAt,
		&r.RetriedTimes, &r.LogID, &r.ErrorCode, &r.ErrorMessage, &r.RanAt, &r.ModifiedAt, &r.ETag, &r.Checksum,
		&r.ServiceName, &r.ServiceItemID, &r.TypeGuessing, &r.QuotedFieldsGuessing, &r.ContentGuessing, &r.VizID)
	return &r, err
}

var errNoSync = errors.New("no such synchronization")

func (s *Server) getSync(ctx context.Context, q querier, id string) (*syncRec, error) {
	r, err := scanSync(q.QueryRow(ctx, "SELECT "+syncColumns+" FROM cartolocal.synchronizations WHERE id = $1::uuid", id))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, errNoSync
	}
	return r, err
}

// syncImportEnded records the end of a sync's import (DataImport#update_synchronization):
// the table's name and dataset on success, the error otherwise.
func (s *Server) syncImportEnded(ctx context.Context, rec *record, names []string, code int) {
	now := s.now()
	var err error
	if code == 0 && len(names) > 0 {
		var vizID *string
		_ = s.admin.QueryRow(ctx, "SELECT table_id FROM cartolocal.imports WHERE id = $1", rec.ID).Scan(&vizID)
		_, err = s.admin.Exec(ctx, `UPDATE cartolocal.synchronizations SET name = $2, visualization_id = $3, state = 'success',
	error_code = NULL, error_message = NULL, modified_at = $4, updated_at = $4, run_at = $4::timestamptz + make_interval(secs => "interval")
	WHERE id = $1`, *rec.SyncID, names[0], vizID, now)
	} else {
		if code == 0 {
			code = 9999
		}
		t := importer.Text(code)
		_, err = s.admin.Exec(ctx, `UPDATE cartolocal.synchronizations SET state = 'failure', error_code = $2, error_message = $3,
	updated_at = $4, run_at = $4::timestamptz + make_interval(secs => "interval") WHERE id = $1`, *rec.SyncID, code, t.Title+" "+t.WhatAbout, now)
	}
	if err != nil {
		s.logf("imports: sync %s: recording its import: %v", *rec.SyncID, err)
	}
}

// scheduler runs the syncs that are due (state success and run_at passed), the ones sync_now
// queued, and the ones a dead process left syncing.
func (s *Server) scheduler() {
	defer s.wg.Done()
	t := time.NewTicker(s.cfg.Tick)
	defer t.Stop()
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-t.C:
		case <-s.syncWake:
		}
		for s.ctx.Err() == nil && s.syncOne() {
		}
	}
}

// syncOne runs one due sync; it reports whether it ran one.
func (s *Server) syncOne() bool {
	ctx := s.ctx
	rows, err := s.admin.Query(ctx, `SELECT id::text FROM cartolocal.synchronizations
WHERE name IS NOT NULL AND runner_group = $2 AND (state = 'syncing' OR state = 'queued' OR (state = 'success' AND run_at < $1))
ORDER BY run_at LIMIT 20`, s.now(), s.cfg.Group)
	if err != nil {
		return false
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return false
	}
	for _, id := range ids {
		if s.claimSync(ctx, id) {
			return true
		}
	}
	return false
}

func (s *Server) claimSync(ctx context.Context, id string) bool {
	conn, err := s.admin.Acquire(ctx)
	if err != nil {
		return false
	}
	var locked bool
	if err := conn.QueryRow(ctx, "SELECT pg_try_advisory_lock($1, hashtext($2))", syncLockClass, id).Scan(&locked); err != nil || !locked {
		conn.Release()
		return false
	}
	defer func() {
		uctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if _, err := conn.Exec(uctx, "SELECT pg_advisory_unlock($1, hashtext($2))", syncLockClass, id); err != nil {
			_ = conn.Conn().Close(uctx)
		}
		conn.Release()
	}()
	sr, err := s.getSync(ctx, conn, id)
	if err != nil || sr.Name == nil {
		return false
	}
	if _, ok := s.cfg.Accounts(sr.User); !ok {
		return false
	}
	due := sr.State == SyncSyncing || sr.State == SyncQueued || (sr.State == SyncSuccess && sr.RunAt != nil && sr.RunAt.Before(s.now()))
	if !due {
		return false
	}
	s.runSync(ctx, conn, sr)
	return true
}

// runSync re-imports a sync table's source and replaces the table's rows in one transaction; a
// source that fails leaves the rows as they were and records the error (Member#run).
func (s *Server) runSync(ctx context.Context, conn *pgxpool.Conn, sr *syncRec) {
	now := s.now()
	if _, err := conn.Exec(ctx, "UPDATE cartolocal.synchronizations SET state = 'syncing', updated_at = $2 WHERE id = $1", sr.ID, now); err != nil {
		return
	}
	acct, ok := s.cfg.Accounts(sr.User)
	if !ok {
		return
	}
	rec := &record{ID: sr.ID, User: sr.User, syncRun: true, Opts: options{TypeGuessing: sr.TypeGuessing, QuotedFieldsGuessing: sr.QuotedFieldsGuessing}}
	if sr.URL != nil {
		rec.DataType, rec.DataSource = TypeURL, *sr.URL
	} else if sr.ServiceItemID != nil {
		rec.DataType, rec.Opts.Connector = TypeDatasource, json.RawMessage(*sr.ServiceItemID)
	}
	work := filepath.Join(s.cfg.Dir, "work", "sync-"+sr.ID)
	_ = os.RemoveAll(work)
	defer os.RemoveAll(work)
	prefix := "syn_" + stagingPrefix(sr.ID)[4:]
	defer s.dropStaging(conn, prefix)
	err := os.MkdirAll(work, 0o700)
	var res *staged
	var sum string
	unchanged := false
	if err == nil {
		res, err = s.stage(ctx, conn, rec, acct, work, prefix)
	}
	if err == nil && res.download != nil {
		sum, err = fileMD5(res.download.Path)
		unchanged = err == nil && sum == sr.Checksum
	}
	if err == nil && !unchanged {
		if len(res.tables) == 0 {
			err = importer.Failf(importer.CodeUnsupported, "the source holds no table")
		} else {
			target := s.target(acct)
			err = pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
				if err := target.LockNames(ctx, tx); err != nil {
					return err
				}
				return target.ReplaceRows(ctx, tx, res.tables[0].Table, *sr.Name)
			})
		}
	}
	if ctx.Err() != nil {
		return // the server closes: the sync stays syncing, for the next one to run
	}
	done := s.now()
	if err != nil {
		code := importer.CodeOf(err)
		if code == importer.CodeNotFound {
			code = 1017
		}
		msg := "Unknown error, please try again"
		if code != importer.CodeUnknown {
			t := importer.Text(code)
			msg = t.Title + " " + t.WhatAbout
		}
		s.logf("imports: sync %s of %s failed (%d): %v", sr.ID, sr.User, code, err)
		_, err = conn.Exec(context.WithoutCancel(ctx), `UPDATE cartolocal.synchronizations SET state = 'failure', error_code = $2,
	error_message = $3, retried_times = retried_times + 1, ran_at = $4, run_at = $4::timestamptz + make_interval(secs => "interval"), updated_at = $4
	WHERE id = $1`, sr.ID, code, msg, done)
	} else {
		var etag *string
		if res.download != nil && res.download.ETag != "" {
			etag = &res.download.ETag
		}
		_, err = conn.Exec(context.WithoutCancel(ctx), `UPDATE cartolocal.synchronizations SET state = 'success', error_code = NULL,
	error_message = NULL, retried_times = 0, ran_at = $2, run_at = $2::timestamptz + make_interval(secs => "interval"), updated_at = $2,
	modified_at = CASE WHEN $3 THEN modified_at ELSE $2 END, etag = coalesce($4, etag), checksum = coalesce(nullif($5, ''), checksum)
	WHERE id = $1`, sr.ID, done, unchanged, etag, sum)
	}
	if err != nil {
		s.logf("imports: sync %s: recording its run: %v", sr.ID, err)
	}
}

func fileMD5(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := md5.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// syncTime is how CARTO's sync Member (Virtus) writes times.
func syncTime(t *time.Time) any {
	if t == nil {
		return nil
	}
	return t.UTC().Format("2006-01-02T15:04:05.000+00:00")
}

// presentSync writes a sync as index and show do: every column, then from_external_source.
func presentSync(r *syncRec, acct Account) json.RawMessage {
	var o object
	o.add("id", r.ID)
	o.add("name", r.Name)
	o.add("interval", r.Interval)
	o.add("url", r.URL)
	o.add("state", r.State)
	o.add("created_at", syncTime(&r.CreatedAt))
	o.add("updated_at", syncTime(&r.UpdatedAt))
	o.add("run_at", syncTime(r.RunAt))
	o.add("retried_times", r.RetriedTimes)
	o.add("log_id", r.LogID)
	o.add("error_code", r.ErrorCode)
	o.add("error_message", r.ErrorMessage)
	o.add("ran_at", syncTime(r.RanAt))
	o.add("modified_at", syncTime(r.ModifiedAt))
	o.add("etag", r.ETag)
	o.add("checksum", r.Checksum)
	o.add("user_id", acct.ID)
	o.add("service_name", r.ServiceName)
	o.add("service_item_id", r.ServiceItemID)
	o.add("type_guessing", r.TypeGuessing)
	o.add("quoted_fields_guessing", r.QuotedFieldsGuessing)
	o.add("content_guessing", r.ContentGuessing)
	o.add("visualization_id", r.VizID)
	o.add("from_external_source", false)
	return o.bytes()
}

// presentCreatedSync writes a new sync as create does: its import first, then the member.
func presentCreatedSync(r *syncRec, importID string, acct Account) []byte {
	var di object
	di.add("endpoint", "/api/v1/imports")
	di.add("item_queue_id", importID)
	var o object
	o.add("data_import", json.RawMessage(di.bytes()))
	o.add("id", r.ID)
	o.add("name", r.Name)
	o.add("interval", r.Interval)
	o.add("url", r.URL)
	o.add("state", r.State)
	o.add("user_id", acct.ID)
	o.add("created_at", syncTime(&r.CreatedAt))
	o.add("updated_at", syncTime(&r.UpdatedAt))
	o.add("run_at", syncTime(r.RunAt))
	o.add("ran_at", syncTime(r.RanAt))
	o.add("modified_at", syncTime(r.ModifiedAt))
	o.add("etag", r.ETag)
	o.add("checksum", r.Checksum)
	o.add("log_id", r.LogID)
	o.add("error_code", r.ErrorCode)
	o.add("error_message", r.ErrorMessage)
	o.add("retried_times", r.RetriedTimes)
	o.add("service_name", r.ServiceName)
	o.add("service_item_id", r.ServiceItemID)
	o.add("type_guessing", r.TypeGuessing)
	o.add("quoted_fields_guessing", r.QuotedFieldsGuessing)
	o.add("content_guessing", r.ContentGuessing)
	o.add("visualization_id", r.VizID)
	o.add("from_external_source", false)
	return o.bytes()
}
