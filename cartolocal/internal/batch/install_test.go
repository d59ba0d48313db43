package batch_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/gocarto/carto/cartolocal/cartotest"
	"github.com/gocarto/carto/cartolocal/internal/batch"
	"github.com/gocarto/carto/cartolocal/internal/users"
)

// TestInstallBesideARunningServer: a Batch server starting on a database another one already
// serves locks none of the job table while it is up to date. Its CREATE INDEX IF NOT EXISTS took
// a share lock that waited for any job being written, then ALTER TABLE ... IF NOT EXISTS an
// exclusive one, which deadlocked with a runner holding a job row it went on to update (seen in
// TestRunnerBacksOffWhenItCannotConnect). Here a transaction of the running server holds what a
// runner does; the install must not wait for it (the lock timeout would end it).
func TestInstallBesideARunningServer(t *testing.T) {
	acct := cartotest.New(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	running := acct.Server.AdminPool()
	tx, err := running.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if _, err := tx.Exec(ctx, "LOCK TABLE cartolocal.batch_jobs IN ROW EXCLUSIVE MODE"); err != nil {
		t.Fatal(err)
	}

	cfg, err := pgxpool.ParseConfig(acct.PGURL)
	if err != nil {
		t.Fatal(err)
	}
	cfg.ConnConfig.RuntimeParams["lock_timeout"] = "2s"
	admin, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	dir := users.New(users.Options{Admin: admin})
	defer dir.Close()
	srv, err := batch.New(ctx, batch.Deps{Admin: admin, Users: dir})
	if err != nil {
		t.Fatalf("installing beside a running server: %v", err)
	}
	srv.Close()
}

// TestNewWithoutLogf: a server made without Logf that finds a job another server left running
// (its backend gone) settles it and says nothing. It called a nil Logf and panicked (seen when
// TestInstallBesideARunningServer's server started while another test's job had just ended).
func TestNewWithoutLogf(t *testing.T) {
	acct := cartotest.New(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	admin, err := pgxpool.New(ctx, acct.PGURL)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	var id string
	if err := admin.QueryRow(ctx, `INSERT INTO cartolocal.batch_jobs
		(job_id, username, query, status, created_at, updated_at, queued, backend_pid)
		VALUES (gen_random_uuid(), $1, '"select 1"', 'running', now(), now(), false, 2147483001)
		RETURNING job_id::text`, acct.User).Scan(&id); err != nil {
		t.Fatal(err)
	}
	dir := users.New(users.Options{Admin: admin})
	defer dir.Close()
	srv, err := batch.New(ctx, batch.Deps{Admin: admin, Users: dir})
	if err != nil {
		t.Fatal(err)
	}
	srv.Close()
	var pid *int32
	if err := admin.QueryRow(ctx, `SELECT backend_pid FROM cartolocal.batch_jobs WHERE job_id = $1`, id).Scan(&pid); err != nil {
		t.Fatal(err)
	}
	if pid != nil {
		t.Errorf("the orphaned job still has backend %d", *pid)
	}
}
