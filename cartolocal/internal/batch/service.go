// Package batch is cartolocal's server of CARTO's Batch SQL API (/api/v2/sql/job): the job model
// and CARTO's state machine (simple, multiple and fallback jobs), their store in PostgreSQL (jobs
// survive a restart), the runner (one query at a time per account, a few accounts at once), and
// the HTTP handlers.
package batch

import (
	"cmp"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/gocarto/carto/cartolocal/internal/httpapi"
	"github.com/gocarto/carto/cartolocal/internal/users"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// CARTO's Batch SQL limits (protocol §7.5).
const (
	maxQueuedJobs   = 64               // batch_max_queued_jobs
	maxJobPayload   = 16 * 1024        // JSON.stringify(req.body).length
	finishedJobTTL  = 2 * time.Hour    // finished_jobs_ttl_in_seconds
	batchTimeout    = 12 * time.Hour   // batch_query_timeout
	concurrentUsers = 4                // batch_capacity_fixed_amount: users running at once
	defaultRescan   = 5 * time.Second  // Deps.Rescan's default
	sweepEvery      = time.Minute      // how often expired jobs are deleted
	drainTimeout    = 10 * time.Second // bound on the bookkeeping after a query ends
	cancelWait      = 10 * time.Second // how long a DELETE waits for the query to stop
)

// Server runs Batch SQL jobs: one goroutine per user with queued jobs (at most
// concurrentUsers at once), each running that user's jobs one at a time in creation order. It
// also serves the Batch API's routes (Register).
type Server struct {
	admin   *pgxpool.Pool
	users   *users.Directory
	logf    func(string, ...any)
	ctx     context.Context
	stop    context.CancelFunc
	wake    chan struct{}
	wg      sync.WaitGroup
	rescan  time.Duration
	ttl     time.Duration
	timeout time.Duration

	mu   sync.Mutex
	busy map[string]bool    // users that have a worker
	runs map[string]*jobRun // job id → the query running for it
}

// jobRun is one query of a job in flight: cancel stops it; done is closed once the job's row
// says what became of it.
type jobRun struct {
	cancel context.CancelFunc
	done   chan struct{}
}

// Deps are what the Batch API needs from the server.
type Deps struct {
	// Admin is a superuser pool: jobs live in cartolocal's own schema.
	Admin *pgxpool.Pool
	// Users finds the caller of a request, and gives the connections jobs run on.
	Users *users.Directory
	// Logf receives notable events; nil discards them.
	Logf func(format string, args ...any)
	// Rescan is how often the runner looks for queued jobs it was not woken for (accounts added
	// after their jobs were queued) and retries an account it could not connect as; zero means 5 s.
	Rescan time.Duration
}

// New creates the job tables if missing, puts back in the queue the jobs that a previous
// cartolocal left running when it died, and starts the runner. Close stops it.
func New(ctx context.Context, d Deps) (*Server, error) {
	if d.Logf == nil {
		// Jobs another server left running are settled, and said so, from the first moment.
		d.Logf = func(string, ...any) {}
	}
	if _, err := d.Admin.Exec(ctx, "BEGIN;"+jobSchemaSQL+markSchemaSQL+"COMMIT;"); err != nil {
		return nil, fmt.Errorf("creating the job tables: %w", err)
	}
	runCtx, stop := context.WithCancel(context.WithoutCancel(ctx))
	js := &Server{
		admin: d.Admin, users: d.Users, logf: d.Logf,
		ctx: runCtx, stop: stop, rescan: cmp.Or(d.Rescan, defaultRescan),
		wake:    make(chan struct{}, 1),
		ttl:     finishedJobTTL,
		timeout: batchTimeout,
		busy:    map[string]bool{},
		runs:    map[string]*jobRun{},
	}
	if err := js.requeueOrphans(ctx); err != nil {
		stop()
		return nil, err
	}
	js.wg.Add(1)
	go js.loop()
	return js, nil
}

// Register mounts the Batch API's routes: /api/{version}/sql/job (POST creates, GET lists) and
// /api/{version}/sql/job/{id} (GET, DELETE cancels, PUT updates).
func (js *Server) Register(mux *http.ServeMux) {
	httpapi.Mount(mux, "/api/{version}/sql/job", js.handleJobs)
	httpapi.Mount(mux, "/api/{version}/sql/job/{$}", js.handleJobs)
	httpapi.Mount(mux, "/api/{version}/sql/job/{id}", js.handleJob)
}

// requeueOrphans finds jobs marked as running on a backend that no longer exists (their cartolocal
// died) and settles them: a query whose mark is there committed, and is recorded done (the job
// moves on to its next query, if any); any other goes back to pending (running→pending, which
// CARTO's state machine allows and uses when it drains on shutdown) and runs again, since its
// transaction did not commit. A job running in another live cartolocal on the same PostgreSQL
// keeps its backend and is left alone, and so is a backend still finishing the query of a dead
// cartolocal (an external PostgreSQL notices a dead client only when it next talks to it): the
// loop looks again at every rescan, until the backend is gone and the mark tells.
func (js *Server) requeueOrphans(ctx context.Context) error {
	rows, err := js.admin.Query(ctx, `SELECT job_id::text, username FROM cartolocal.batch_jobs
		WHERE backend_pid IS NOT NULL AND backend_pid NOT IN (SELECT pid FROM pg_stat_activity)`)
	if err != nil {
		return fmt.Errorf("finding interrupted jobs: %w", err)
	}
	type ref struct{ id, user string }
	refs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (ref, error) {
		var x ref
		return x, r.Scan(&x.id, &x.user)
	})
	if err != nil {
		return fmt.Errorf("finding interrupted jobs: %w", err)
	}
	settled := 0
	for _, r := range refs {
		js.mu.Lock()
		_, ours := js.runs[r.id]
		js.mu.Unlock()
		if ours {
			continue // this server runs it: its connection just closed, and step settles it
		}
		var done bool
		err := pgx.BeginFunc(ctx, js.admin, func(tx pgx.Tx) error {
			j, pid, err := lockJob(ctx, tx, r.id, r.user)
			if err != nil || pid == 0 {
				return err
			}
			if done, err = committed(ctx, tx, j.runToken); err != nil {
				return err
			}
			j.runToken = ""
			to := jobPending
			if done {
				to = jobDone
			}
			if err := j.setStatus(to, ""); err != nil {
				js.logf("cartolocal: batch: job %s: cannot settle as %s: %v", j.id, to, err)
			}
			return js.saveJob(ctx, tx, j, 0)
		})
		if errors.Is(err, errJobNotFound) {
			continue // expired or deleted meanwhile
		}
		if err != nil {
			return fmt.Errorf("settling interrupted job %s: %w", r.id, err)
		}
		settled++
		if done {
			js.logf("cartolocal: batch: job %s: its query committed before cartolocal stopped; recorded done", r.id)
		} else {
			js.logf("cartolocal: batch: job %s was running when cartolocal stopped; queued again", r.id)
		}
	}
	if settled > 0 {
		js.wakeUp() // their next queries may run now
	}
	return nil
}

// Close stops the runner: running queries are cancelled and their jobs go back to pending (to
// run again at the next start), then every goroutine has returned.
func (js *Server) Close() error {
	js.stop()
	js.wg.Wait()
	return nil
}

// wakeUp tells the dispatcher to look for work now.
func (js *Server) wakeUp() {
	select {
	case js.wake <- struct{}{}:
	default:
	}
}

// loop starts a worker for each user with queued jobs, whenever woken.
func (js *Server) loop() {
	defer js.wg.Done()
	tick := time.NewTicker(js.rescan)
	defer tick.Stop()
	var lastSweep time.Time
	for {
		if err := js.requeueOrphans(js.ctx); err != nil && js.ctx.Err() == nil {
			js.logf("cartolocal: batch: %v", err)
		}
		if time.Since(lastSweep) > sweepEvery {
			if err := js.sweepExpired(js.ctx); err != nil && js.ctx.Err() == nil {
				js.logf("cartolocal: batch: deleting expired jobs: %v", err)
			}
			lastSweep = time.Now()
		}
		js.dispatch()
		select {
		case <-js.ctx.Done():
			return
		case <-js.wake:
		case <-tick.C:
		}
	}
}

func (js *Server) dispatch() {
	rows, err := js.admin.Query(js.ctx, `SELECT username FROM cartolocal.batch_jobs
		WHERE queued AND backend_pid IS NULL GROUP BY username ORDER BY min(seq)`)
	if err != nil {
		if js.ctx.Err() == nil {
			js.logf("cartolocal: batch: reading the queues: %v", err)
		}
		return
	}
	users, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		if js.ctx.Err() == nil {
			js.logf("cartolocal: batch: reading the queues: %v", err)
		}
		return
	}
	js.mu.Lock()
	defer js.mu.Unlock()
	for _, name := range users {
		if len(js.busy) >= concurrentUsers || js.ctx.Err() != nil {
			return
		}
		if js.busy[name] {
			continue
		}
		if _, ok := js.users.Get(name); !ok {
			continue // not (yet) an account of this server
		}
		js.busy[name] = true
		js.wg.Add(1)
		go js.work(name)
	}
}

// work runs a user's queued jobs one query at a time until none is left.
func (js *Server) work(user string) {
	defer js.wg.Done()
	failed := false
	defer func() {
		js.mu.Lock()
		delete(js.busy, user)
		js.mu.Unlock()
		// A job queued while this worker was finding none would otherwise wait for the tick.
		// After a failure (no connection for the user) the tick is the retry: waking the
		// dispatcher now would spin on the failure.
		if !failed {
			js.wakeUp()
		}
	}()
	for js.ctx.Err() == nil {
		ran, err := js.step(user)
		if err != nil {
			failed = true
			if js.ctx.Err() == nil {
				js.logf("cartolocal: batch: user %s: %v", user, err)
			}
			return
		}
		if !ran {
			return
		}
	}
}

// newJobID is a version 4 UUID, as CARTO's job ids are.
func newJobID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
