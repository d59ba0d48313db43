package batch

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gocarto/carto/cartolocal/internal/users"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// step runs the next query of the user's oldest queued job, as CARTO's JobRunner.run does: mark
// it running, run it, record done or failed. It reports whether there was a job to run.
func (js *Server) step(user string) (bool, error) {
	u, ok := js.users.Get(user)
	if !ok {
		return false, nil
	}
	// The connection comes first so that its backend PID is recorded with the running job: a
	// later cartolocal knows the job was orphaned when that backend is gone.
	conn, err := u.Acquire(js.ctx, true)
	if err != nil {
		return false, fmt.Errorf("connecting as the master role: %w", err)
	}
	pid := int32(conn.Conn().PgConn().PID())

	var (
		j        *job
		sql      string
		timeout  time.Duration
		run      *jobRun
		runCtx   context.Context
		runStop  context.CancelFunc
		runnable bool
	)
	err = pgx.BeginFunc(js.ctx, js.admin, func(tx pgx.Tx) error {
		var err error
		j, _, err = scanJob(tx.QueryRow(js.ctx, `SELECT `+jobColumns+` FROM cartolocal.batch_jobs
			WHERE username = $1 AND queued AND backend_pid IS NULL
			ORDER BY seq LIMIT 1 FOR UPDATE SKIP LOCKED`, user))
		if errors.Is(err, pgx.ErrNoRows) {
			j = nil
			return nil
		}
		if err != nil {
			return err
		}
		q, queryTimeout, _ := j.nextQuery()
		if !j.canRun() {
			return js.saveJob(js.ctx, tx, j, 0) // recomputes queued
		}
		if err := j.setStatus(jobRunning, ""); err != nil {
			js.logf("cartolocal: batch: job %s: %v", j.id, err)
			return js.saveJob(js.ctx, tx, j, 0)
		}
		sql, timeout = q, js.timeout
		if d := time.Duration(queryTimeout) * time.Millisecond; queryTimeout > 0 && d < timeout {
			timeout = d
		}
		runCtx, runStop = context.WithCancel(js.ctx)
		run = &jobRun{cancel: runStop, done: make(chan struct{})}
		js.mu.Lock()
		js.runs[j.id] = run
		js.mu.Unlock()
		runnable = true
		j.runToken = newRunToken()
		return js.saveJob(js.ctx, tx, j, pid)
	})
	if err != nil || !runnable {
		conn.Release()
		if run != nil {
			js.forget(j.id, run)
			runStop()
		}
		return j != nil && err == nil, err
	}
	defer js.forget(j.id, run)
	defer runStop()
	myRev := j.rev

	// CARTO sends the job as one simple-query message: a multi-statement string is one implicit
	// transaction. The timeout goes first, in a message of its own, so that SQL which must run
	// alone (VACUUM, CREATE INDEX CONCURRENTLY) still does. The comment names the job in
	// pg_stat_activity.
	execErr := execDiscard(runCtx, conn.Conn().PgConn(), fmt.Sprintf("SET statement_timeout=%d", timeout.Milliseconds()))
	if execErr == nil {
		stmt := fmt.Sprintf("/* %s */ %s", j.id, sql)
		if markable(sql) {
			stmt = withMark(stmt, j.id, j.runToken)
		}
		execErr = execDiscard(runCtx, conn.Conn().PgConn(), stmt)
	}

	// After a cancel the connection is closed, so that its backend leaves pg_stat_activity at
	// once. Otherwise it goes back to the pool, which resets what the job left in the session
	// (statement_timeout, an open transaction) before any reuse.
	closeCtx, closeStop := context.WithTimeout(context.WithoutCancel(js.ctx), drainTimeout)
	defer closeStop()
	if runCtx.Err() != nil || conn.Conn().PgConn().IsBusy() {
		_ = conn.Hijack().Close(closeCtx)
	} else {
		conn.Release()
	}

	err = pgx.BeginFunc(closeCtx, js.admin, func(tx pgx.Tx) error {
		cur, _, err := lockJob(closeCtx, tx, j.id, j.user)
		if err != nil {
			return err
		}
		// The mark, not the error, says whether the query committed: a connection can break
		// after the commit, and a shutdown's cancel can arrive just after it.
		done, err := committed(closeCtx, tx, j.runToken)
		if err != nil {
			return err
		}
		if cur.rev != myRev {
			// Cancelled meanwhile: the canceller already wrote what the job became.
			_, err := tx.Exec(closeCtx, `UPDATE cartolocal.batch_jobs SET backend_pid = NULL, run_token = NULL WHERE job_id = $1`, j.id)
			return err
		}
		cur.runToken = ""
		switch {
		case done:
			err = cur.setStatus(jobDone, "")
		case execErr != nil && js.ctx.Err() != nil:
			// Shutting down: back to the queue, as CARTO's drain does.
			err = cur.setStatus(jobPending, "")
			js.logf("cartolocal: batch: job %s interrupted by shutdown; it runs again at the next start", j.id)
		case execErr != nil:
			err = cur.setStatus(jobFailed, statementError(execErr))
		default:
			err = cur.setStatus(jobDone, "")
		}
		if err != nil {
			js.logf("cartolocal: batch: job %s: %v", j.id, err)
		}
		return js.saveJob(closeCtx, tx, cur, 0)
	})
	if errors.Is(err, errJobNotFound) {
		err = nil // expired or deleted meanwhile
	}
	return true, err
}

// execDiscard runs a simple-query message and throws its rows away as they come: a job's results
// are never returned, so memory stays flat whatever the query selects.
func execDiscard(ctx context.Context, pc *pgconn.PgConn, sql string) error {
	mrr := pc.Exec(ctx, sql)
	// A COPY ... FROM STDIN would wait for data forever (and ignore cancels meanwhile): fail it at
	// once, as the SQL API does.
	users.FailCopyIn(pc, sql)
	for mrr.NextResult() {
		rr := mrr.ResultReader()
		for rr.NextRow() {
		}
		if _, err := rr.Close(); err != nil {
			_ = mrr.Close()
			return err
		}
	}
	return mrr.Close()
}

// forget removes a finished run and wakes whoever waits for it.
func (js *Server) forget(id string, run *jobRun) {
	js.mu.Lock()
	if js.runs[id] == run {
		delete(js.runs, id)
	}
	js.mu.Unlock()
	select {
	case <-run.done:
	default:
		close(run.done)
	}
}

// stopRun cancels the query running for a job, if this server runs it, and waits until it has
// stopped and its connection is closed. It reports whether it found the run.
func (js *Server) stopRun(ctx context.Context, id string) bool {
	js.mu.Lock()
	run := js.runs[id]
	js.mu.Unlock()
	if run == nil {
		return false
	}
	run.cancel()
	t := time.NewTimer(cancelWait)
	defer t.Stop()
	select {
	case <-run.done:
	case <-t.C:
	case <-ctx.Done():
	}
	return true
}
