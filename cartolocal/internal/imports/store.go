package imports

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// States of an import (app/models/data_import.rb).
const (
	StatePending   = "pending"
	StateUploading = "uploading"
	StateUnpacking = "unpacking"
	StateImporting = "importing"
	StateGuessing  = "guessing"
	StateComplete  = "complete"
	StateFailure   = "failure"
)

// unfinished are the states of an import that still has work; a runner that dies leaves its
// import in one of them, and another picks it up.
var unfinished = []string{StatePending, StateUploading, StateUnpacking, StateImporting, StateGuessing}

// Data types of an import (DataImport#data_type).
const (
	TypeFile       = "file"
	TypeURL        = "url"
	TypeDatasource = "datasource"
	TypeQuery      = "query"
)

// options are what the create request asked for; they are stored as JSON.
type options struct {
	TypeGuessing         bool            `json:"type_guessing"`
	QuotedFieldsGuessing bool            `json:"quoted_fields_guessing"`
	ContentGuessing      bool            `json:"content_guessing"`
	CreateVis            bool            `json:"create_vis"`
	Privacy              string          `json:"privacy,omitempty"`
	CollisionStrategy    string          `json:"collision_strategy,omitempty"`
	TableName            string          `json:"table_name,omitempty"`
	SQL                  string          `json:"sql,omitempty"`
	TableCopy            string          `json:"table_copy,omitempty"`
	Connector            json.RawMessage `json:"connector,omitempty"`
}

// record is one import, as stored.
type record struct {
	ID          string
	User        string
	State       string
	DataType    string
	DataSource  string // the stored upload's path, the URL, or ""
	DisplayName string
	OriginalURL string
	Opts        options
	ErrorCode   *int
	ErrorDetail string // why, for the log; never shown (it may name files of the server)
	TableName   *string
	TableID     *string
	Tables      *int
	SyncID      *string
	VizID       *string
	HTTPCode    *int
	Warnings    json.RawMessage
	CreatedAt   time.Time
	UpdatedAt   time.Time

	syncRun bool // a sync's later run: no import row stands for it
}

func (r *record) final() bool { return r.State == StateComplete || r.State == StateFailure }

// install creates the imports' tables in cartolocal's schema.
func install(ctx context.Context, q pgx.Tx) error {
	_, err := q.Exec(ctx, `
SELECT pg_advisory_xact_lock(hashtextextended('cartolocal imports install', 0));
CREATE SCHEMA IF NOT EXISTS cartolocal;
CREATE TABLE IF NOT EXISTS cartolocal.imports (
	id                   uuid PRIMARY KEY,
	user_name            text NOT NULL,
	state                text NOT NULL,
	data_type            text NOT NULL,
	data_source          text NOT NULL DEFAULT '',
	display_name         text NOT NULL DEFAULT '',
	original_url         text NOT NULL DEFAULT '',
	options              jsonb NOT NULL,
	error_code           integer,
	error_detail         text NOT NULL DEFAULT '',
	table_name           text,
	table_id             text,
	tables_created_count integer,
	synchronization_id   uuid,
	visualization_id     text,
	http_response_code   integer,
	warnings             jsonb,
	created_at           timestamptz NOT NULL DEFAULT now(),
	updated_at           timestamptz NOT NULL DEFAULT now(),
	runner_group         text NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS imports_user ON cartolocal.imports (user_name, created_at DESC);
CREATE INDEX IF NOT EXISTS imports_unfinished ON cartolocal.imports (created_at) WHERE state NOT IN ('complete', 'failure');
CREATE TABLE IF NOT EXISTS cartolocal.storage_quotas (
	user_name   text PRIMARY KEY,
	quota_bytes bigint NOT NULL
);
CREATE TABLE IF NOT EXISTS cartolocal.synchronizations (
	id                     uuid PRIMARY KEY,
	user_name              text NOT NULL,
	name                   text,
	interval               integer NOT NULL,
	url                    text,
	state                  text NOT NULL,
	created_at             timestamptz NOT NULL DEFAULT now(),
	updated_at             timestamptz NOT NULL DEFAULT now(),
	run_at                 timestamptz,
	retried_times          integer NOT NULL DEFAULT 0,
	log_id                 uuid NOT NULL,
	error_code             integer,
	error_message          text,
	ran_at                 timestamptz,
	modified_at            timestamptz,
	etag                   text,
	checksum               text NOT NULL DEFAULT '',
	service_name           text,
	service_item_id        text,
	type_guessing          boolean NOT NULL DEFAULT true,
	quoted_fields_guessing boolean NOT NULL DEFAULT true,
	content_guessing       boolean NOT NULL DEFAULT false,
	visualization_id       text,
	runner_group           text NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS synchronizations_user ON cartolocal.synchronizations (user_name, created_at);
REVOKE ALL ON cartolocal.imports, cartolocal.storage_quotas, cartolocal.synchronizations FROM PUBLIC;
`)
	return err
}

const recordColumns = `id::text, user_name, state, data_type, data_source, display_name, original_url, options,
	error_code, error_detail, table_name, table_id, tables_created_count, synchronization_id::text,
	visualization_id, http_response_code, warnings, created_at, updated_at`

func scanRecord(row pgx.Row) (*record, error) {
	var r record
	var opts []byte
	var warnings []byte
	err := row.Scan(&r.ID, &r.User, &r.State, &r.DataType, &r.DataSource, &r.DisplayName, &r.OriginalURL, &opts,
		&r.ErrorCode, &r.ErrorDetail, &r.TableName, &r.TableID, &r.Tables, &r.SyncID,
		&r.VizID, &r.HTTPCode, &warnings, &r.CreatedAt, &r.UpdatedAt)
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(opts, &r.Opts); err != nil {
		return nil, fmt.Errorf("import %s: options: %w", r.ID, err)
	}
	if len(warnings) > 0 {
		r.Warnings = warnings
	}
	return &r, nil
}

// errNoImport is an import that does not exist (for that user).
var errNoImport = errors.New("no such import")

func (s *Server) insert(ctx context.Context, q querier, r *record) error {
	opts, err := json.Marshal(r.Opts)
	if err != nil {
		return err
	}
	return q.QueryRow(ctx, `
INSERT INTO cartolocal.imports (id, user_name, state, data_type, data_source, display_name, original_url, options, synchronization_id, runner_group)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::uuid, $10) RETURNING created_at, updated_at`,
		r.ID, r.User, r.State, r.DataType, r.DataSource, r.DisplayName, r.OriginalURL, opts, r.SyncID, s.cfg.Group).Scan(&r.CreatedAt, &r.UpdatedAt)
}

func (s *Server) get(ctx context.Context, q querier, id, user string) (*record, error) {
	r, err := scanRecord(q.QueryRow(ctx, "SELECT "+recordColumns+" FROM cartolocal.imports WHERE id = $1::uuid AND ($2 = '' OR user_name = $2)", id, user))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, errNoImport
	}
	return r, err
}

// setState moves an unfinished import to state.
func (s *Server) setState(ctx context.Context, id, state string) error {
	_, err := s.admin.Exec(ctx, "UPDATE cartolocal.imports SET state = $2, updated_at = now() WHERE id = $1 AND state NOT IN ('complete', 'failure')", id, state)
	return err
}

// fail ends an import with an error code.
func (s *Server) fail(ctx context.Context, q querier, r *record, code int, detail string, httpCode int) error {
	var hc *int
	if httpCode != 0 && (httpCode < 200 || httpCode > 299) {
		hc = &httpCode
	}
	_, err := q.Exec(ctx, `UPDATE cartolocal.imports SET state = 'failure', error_code = $2, error_detail = $3,
	http_response_code = $4, updated_at = now() WHERE id = $1`, r.ID, code, detail, hc)
	return err
}

// listUnfinished is the user's unfinished imports of the last 24 hours, newest first
// (DataImportsService#process_recent_user_imports); those of them older than an hour that no
// runner runs are failed as stuck and left out.
func (s *Server) listUnfinished(ctx context.Context, user string) ([]string, error) {
	rows, err := s.admin.Query(ctx, `SELECT `+recordColumns+` FROM cartolocal.imports
WHERE user_name = $1 AND state NOT IN ('complete', 'failure') AND created_at > now() - interval '24 hours'
ORDER BY created_at DESC`, user)
	if err != nil {
		return nil, err
	}
	recs, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (*record, error) { return scanRecord(row) })
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, rec := range recs {
		if rec, err = s.failIfStuck(ctx, rec, staleAfter, true); err != nil {
			return nil, err
		}
		if !rec.final() {
			ids = append(ids, rec.ID)
		}
	}
	return ids, nil
}

// running counts the user's unfinished imports, for the concurrent-import limit.
func (s *Server) running(ctx context.Context, q querier, user string) (int, error) {
	var n int
	err := q.QueryRow(ctx, "SELECT count(*) FROM cartolocal.imports WHERE user_name = $1 AND state NOT IN ('complete', 'failure')", user).Scan(&n)
	return n, err
}
