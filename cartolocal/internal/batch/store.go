package batch

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/gocarto/carto/cartolocal/internal/httpapi"
	"github.com/jackc/pgx/v5"
)

// Jobs live in PostgreSQL, in a schema only the superuser can see, so a restart of cartolocal on the
// same data directory loses none. The query keeps CARTO's JSON (statuses included) as text, since
// jsonb would reorder its keys.
//
// The index and the column are made only when missing: CREATE INDEX IF NOT EXISTS and ALTER TABLE
// ... IF NOT EXISTS lock the table even when they change nothing, and the first one's share lock,
// raised to the second one's exclusive lock while a runner of a cartolocal already serving the
// database held a job row and went on to update it, was a deadlock.
const jobSchemaSQL = `
SELECT pg_advisory_xact_lock(7262978311549411);
CREATE SCHEMA IF NOT EXISTS cartolocal;
CREATE TABLE IF NOT EXISTS cartolocal.batch_jobs (
	job_id          uuid PRIMARY KEY,
	seq             bigserial NOT NULL,
	username        text NOT NULL,
	query           text NOT NULL,
	status          text NOT NULL,
	fallback_status text,
	failed_reason   text,
	created_at      timestamptz NOT NULL,
	updated_at      timestamptz NOT NULL,
	queued          boolean NOT NULL,
	expires_at      timestamptz,
	backend_pid     integer,
	rev             bigint NOT NULL DEFAULT 0
);
DO $$
BEGIN
	IF to_regclass('cartolocal.batch_jobs_queue') IS NULL THEN
		CREATE INDEX batch_jobs_queue ON cartolocal.batch_jobs (username, seq) WHERE queued;
	END IF;
	IF to_regclass('cartolocal.batch_jobs_user') IS NULL THEN
		CREATE INDEX batch_jobs_user ON cartolocal.batch_jobs (username, seq);
	END IF;
	IF NOT EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = 'cartolocal.batch_jobs'::regclass
			AND attname = 'run_token' AND NOT attisdropped) THEN
		ALTER TABLE cartolocal.batch_jobs ADD COLUMN run_token text;
	END IF;
END
$$;
`

// markSchemaSQL is what makes a query's completion part of the query's own transaction (see
// marker.go): the marks, and the function that writes one, which a job's role may call but which
// writes only for the token of the query that runs now.
const markSchemaSQL = `
CREATE TABLE IF NOT EXISTS cartolocal.batch_marks (
	token     text PRIMARY KEY,
	job_id    uuid NOT NULL,
	marked_at timestamptz NOT NULL DEFAULT now()
);
REVOKE ALL ON cartolocal.batch_marks FROM PUBLIC;
CREATE OR REPLACE FUNCTION cartodb._cdb_cartolocal_batch_done(p_job uuid, p_token text)
RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF NOT EXISTS (SELECT 1 FROM cartolocal.batch_jobs WHERE job_id = p_job AND run_token = p_token) THEN
		RETURN false;
	END IF;
	INSERT INTO cartolocal.batch_marks (token, job_id) VALUES (p_token, p_job) ON CONFLICT DO NOTHING;
	RETURN true;
END
$$;
REVOKE ALL ON FUNCTION cartodb._cdb_cartolocal_batch_done(uuid, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION cartodb._cdb_cartolocal_batch_done(uuid, text) TO PUBLIC;
`

const jobColumns = `job_id::text, username, query, status, coalesce(fallback_status, ''),
	coalesce(failed_reason, ''), created_at, updated_at, rev, backend_pid, coalesce(run_token, '')`

// errJobNotFound becomes CARTO's 400 "Job with id X not found".
var errJobNotFound = errors.New("job not found")

var uuidPattern = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// scanJob reads one row of jobColumns; pid is the backend running the job, 0 if none.
func scanJob(row pgx.Row) (j *job, pid int32, err error) {
	j = &job{}
	var query string
	var bp *int32
	if err := row.Scan(&j.id, &j.user, &query, &j.status, &j.fallbackStatus, &j.failedReason,
		&j.created, &j.updated, &j.rev, &bp, &j.runToken); err != nil {
		return nil, 0, err
	}
	j.created, j.updated = j.created.UTC(), j.updated.UTC()
	if err := loadJobQuery(j, query); err != nil {
		return nil, 0, fmt.Errorf("job %s: %w", j.id, err)
	}
	if bp != nil {
		pid = *bp
	}
	return j, pid, nil
}

// lockJob reads a user's job and locks its row until tx ends. An expired job is not found: the
// 2-hour expiry is applied lazily.
func lockJob(ctx context.Context, tx pgx.Tx, id, user string) (*job, int32, error) {
	if !uuidPattern.MatchString(id) {
		return nil, 0, errJobNotFound
	}
	j, pid, err := scanJob(tx.QueryRow(ctx, `SELECT `+jobColumns+` FROM cartolocal.batch_jobs
		WHERE job_id = $1 AND username = $2 AND (expires_at IS NULL OR expires_at > now()) FOR UPDATE`, id, user))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, 0, errJobNotFound
	}
	return j, pid, err
}

// insertJob stores a new job unless the user already has CARTO's maximum of queued jobs. The
// count and the insert run under a per-user lock so concurrent creates cannot pass the limit.
func (js *Server) insertJob(ctx context.Context, j *job) error {
	return pgx.BeginFunc(ctx, js.admin, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(72629783, hashtext($1))`, j.user); err != nil {
			return err
		}
		var queued int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM cartolocal.batch_jobs WHERE username = $1 AND queued`, j.user).Scan(&queued); err != nil {
			return err
		}
		if queued >= maxQueuedJobs {
			return httpapi.BadRequest(fmt.Sprintf("Failed to create job. Max number of jobs (%d) queued reached", maxQueuedJobs))
		}
		_, err := tx.Exec(ctx, `INSERT INTO cartolocal.batch_jobs
			(job_id, username, query, status, fallback_status, failed_reason, created_at, updated_at, queued)
			VALUES ($1, $2, $3, $4, nullif($5, ''), nullif($6, ''), $7, $8, true)`,
			j.id, j.user, string(j.appendQuery(nil)), j.status, j.fallbackStatus, j.failedReason, j.created, j.updated)
		return err
	})
}

// saveJob writes the job back; pid records the backend now running it (0: none). queued and the
// expiry follow from the job's state.
func (js *Server) saveJob(ctx context.Context, tx pgx.Tx, j *job, pid int32) error {
	var expires *time.Time
	if j.finished() {
		t := time.Now().Add(js.ttl)
		expires = &t
	}
	var bp *int32
	if pid != 0 {
		bp = &pid
	}
	return tx.QueryRow(ctx, `UPDATE cartolocal.batch_jobs SET query = $2, status = $3,
		fallback_status = nullif($4, ''), failed_reason = nullif($5, ''), updated_at = $6, queued = $7,
		expires_at = $8, backend_pid = $9, run_token = nullif($10, ''), rev = rev + 1
		WHERE job_id = $1 RETURNING rev`,
		j.id, string(j.appendQuery(nil)), j.status, j.fallbackStatus, j.failedReason, j.updated,
		j.canRun(), expires, bp, j.runToken).Scan(&j.rev)
}

// listJobs returns a user's jobs, newest first.
func (js *Server) listJobs(ctx context.Context, user string) ([]*job, error) {
	rows, err := js.admin.Query(ctx, `SELECT `+jobColumns+` FROM cartolocal.batch_jobs
		WHERE username = $1 AND (expires_at IS NULL OR expires_at > now()) ORDER BY seq DESC`, user)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*job
	for rows.Next() {
		j, _, err := scanJob(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, j)
	}
	return out, rows.Err()
}

// getJob reads a user's job without locking it.
func (js *Server) getJob(ctx context.Context, id, user string) (*job, error) {
	if !uuidPattern.MatchString(id) {
		return nil, errJobNotFound
	}
	j, _, err := scanJob(js.admin.QueryRow(ctx, `SELECT `+jobColumns+` FROM cartolocal.batch_jobs
		WHERE job_id = $1 AND username = $2 AND (expires_at IS NULL OR expires_at > now())`, id, user))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, errJobNotFound
	}
	return j, err
}

// sweepExpired deletes finished jobs past their 2 hours, and marks no job refers to any more.
func (js *Server) sweepExpired(ctx context.Context) error {
	_, err := js.admin.Exec(ctx, `DELETE FROM cartolocal.batch_jobs WHERE expires_at < now();
		DELETE FROM cartolocal.batch_marks m WHERE NOT EXISTS
			(SELECT 1 FROM cartolocal.batch_jobs j WHERE j.job_id = m.job_id AND j.run_token = m.token)`)
	return err
}
