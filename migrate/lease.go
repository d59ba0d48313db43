package migrate

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/golang-migrate/migrate/v4/database"

	"github.com/gocarto/carto/internal/pgscan"
)

// lease is a held row of the lock table and the goroutine that keeps it alive.
type lease struct {
	stop chan struct{}
	done chan struct{}

	mu      sync.Mutex
	expires time.Time // as the server last set it
	lost    error     // why the lease is gone, once it is
}

func (l *lease) lostErr() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.lost
}

// LeaseInfo describes who holds a migrations table's lease.
type LeaseInfo struct {
	Holder     string
	AcquiredAt time.Time
	ExpiresAt  time.Time
}

// defaultHolder names this process in the lease row, so that a waiting migrator can say who
// holds the lock.
func defaultHolder() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "unknown-host"
	}
	var b [4]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%s:%d:%s", host, os.Getpid(), hex.EncodeToString(b[:]))
}

// Lock takes the migrations table's lease. A second Lock on the same Driver while it holds the
// lease fails at once with database.ErrLocked, as golang-migrate's tests expect. Otherwise it
// tries to take the lease row with one INSERT ... ON CONFLICT DO UPDATE ... WHERE expires_at <
// now(), so that a lease is only ever taken over after it expired, and retries until the lock
// timeout. While held, the lease is renewed in the background, including during long Batch jobs.
//
// golang-migrate gives up on Lock at its own Migrate.LockTimeout and leaves the call running. A
// Lock called while an earlier one still waits joins it rather than starting a second attempt, and
// Close (or Unlock) stops a waiting Lock and releases a lease it took after its caller gave up.
func (d *Driver) Lock() error {
	d.lockMu.Lock()
	if d.lease != nil {
		d.lockMu.Unlock()
		return database.ErrLocked
	}
	a := d.acquiring
	if a == nil {
		ctx, cancel := context.WithCancel(d.ctx)
		a = &acquisition{cancel: cancel, done: make(chan struct{})}
		d.acquiring = a
		go d.runAcquisition(ctx, a)
	}
	d.lockMu.Unlock()
	<-a.done
	return a.err
}

// acquisition is a Lock in progress; done closes when it has ended, with err set.
type acquisition struct {
	cancel context.CancelFunc
	done   chan struct{}
	err    error
}

// runAcquisition takes the lease for a, and installs it unless a was cancelled meanwhile (by
// Close or Unlock): then nobody waits for it any more, and it is released at once.
func (d *Driver) runAcquisition(ctx context.Context, a *acquisition) {
	defer a.cancel()
	l, err := d.acquire(ctx)
	d.lockMu.Lock()
	d.acquiring = nil
	if err == nil && ctx.Err() != nil {
		d.lockMu.Unlock()
		err = errors.Join(fmt.Errorf("migrate: the lock was given up while it was being taken: %w", database.ErrLocked), d.deleteLease())
		a.err = err
		close(a.done)
		return
	}
	if err == nil {
		d.lease = l
		// Whatever this driver saw of the version before may be stale now: another migrator
		// may have worked in between.
		d.setState(versionState{})
		go d.renew(l)
	}
	a.err = err
	d.lockMu.Unlock()
	close(a.done)
}

// heldLease is the lease this driver holds, or nil.
func (d *Driver) heldLease() *lease {
	d.lockMu.Lock()
	defer d.lockMu.Unlock()
	return d.lease
}

func (d *Driver) acquire(ctx context.Context) (*lease, error) {
	deadline := time.Now().Add(d.cfg.LockTimeout)
	wait := 100 * time.Millisecond
	for {
		expires, ok, err := d.tryAcquire()
		if err != nil {
			return nil, fmt.Errorf("migrate: taking the lock in %s: %w", d.cfg.LockTable, err)
		}
		if ok {
			return &lease{stop: make(chan struct{}), done: make(chan struct{}), expires: expires}, nil
		}
		left := time.Until(deadline)
		if left <= 0 {
			return nil, d.lockedError()
		}
		// The last try comes at the deadline itself.
		t := time.NewTimer(min(wait, left))
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("migrate: interrupted while waiting for the lock: %w", database.ErrLocked)
		case <-t.C:
		}
		wait = min(wait*2, time.Second)
	}
}

// tryAcquire makes one attempt at the lease row.
func (d *Driver) tryAcquire() (expires time.Time, ok bool, err error) {
	ctx, cancel := d.metaContext()
	defer cancel()
	q := fmt.Sprintf(`INSERT INTO %[1]s AS l (name, holder, acquired_at, expires_at)
VALUES (%[2]s, %[3]s, now(), now() + %[4]s)
ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, acquired_at = excluded.acquired_at, expires_at = excluded.expires_at
WHERE l.expires_at < now()
RETURNING expires_at`, d.lockTable, pgscan.QuoteLiteral(d.cfg.MigrationsTable), pgscan.QuoteLiteral(d.cfg.Holder), intervalLiteral(d.cfg.LockLease))
	err = d.db.QueryRowContext(ctx, q).Scan(&expires)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return time.Time{}, false, nil
	case err != nil:
		return time.Time{}, false, err
	}
	return expires, true, nil
}

// lockedError says who holds the lease that could not be taken.
func (d *Driver) lockedError() error {
	info, err := d.LeaseHolder()
	if err != nil || info == nil {
		return fmt.Errorf("migrate: no lock after %s: %w", d.cfg.LockTimeout, database.ErrLocked)
	}
	return fmt.Errorf("migrate: no lock after %s: %s holds it since %s, its lease runs until %s unless renewed: %w",
		d.cfg.LockTimeout, info.Holder, info.AcquiredAt.UTC().Format(time.RFC3339), info.ExpiresAt.UTC().Format(time.RFC3339), database.ErrLocked)
}

// LeaseHolder reports who holds the migrations table's lease, or nil when nobody does.
func (d *Driver) LeaseHolder() (*LeaseInfo, error) {
	ctx, cancel := d.metaContext()
	defer cancel()
	var info LeaseInfo
	err := d.db.QueryRowContext(ctx, fmt.Sprintf(`SELECT holder, acquired_at, expires_at FROM %s WHERE name = %s AND expires_at >= now()`,
		d.lockTable, pgscan.QuoteLiteral(d.cfg.MigrationsTable))).Scan(&info.Holder, &info.AcquiredAt, &info.ExpiresAt)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("migrate: reading %s: %w", d.cfg.LockTable, err)
	}
	return &info, nil
}

// renew extends the lease every third of its length (or every d.renewEvery, which tests set)
// until Unlock. A renewal that finds the row
// taken by someone else marks the lease lost; the guards in SetVersion and in every Batch job
// then refuse to go on. A renewal that fails for another reason (the network) is tried again at
// the next tick: the lease has two more thirds to live.
func (d *Driver) renew(l *lease) {
	defer close(l.done)
	every := d.cfg.LockLease / 3
	if d.renewEvery > 0 {
		every = d.renewEvery
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-t.C:
		}
		ctx, cancel := d.metaContext()
		var expires time.Time
		err := d.db.QueryRowContext(ctx, fmt.Sprintf(`UPDATE %s SET expires_at = now() + %s WHERE name = %s AND holder = %s RETURNING expires_at`,
			d.lockTable, intervalLiteral(d.cfg.LockLease), pgscan.QuoteLiteral(d.cfg.MigrationsTable), pgscan.QuoteLiteral(d.cfg.Holder))).Scan(&expires)
		cancel()
		switch {
		case errors.Is(err, sql.ErrNoRows):
			l.mu.Lock()
			l.lost = fmt.Errorf("migrate: the lease on %s was taken over by another migrator (it expired at %s)",
				d.cfg.MigrationsTable, l.expires.UTC().Format(time.RFC3339))
			l.mu.Unlock()
			return
		case err == nil:
			l.mu.Lock()
			l.expires = expires
			l.mu.Unlock()
		}
	}
}

// Unlock stops renewing the lease and deletes the row, if it is still this driver's. It works
// after Interrupt. A Lock still waiting is stopped, and a lease it takes meanwhile released; with
// no lease held, Unlock then returns database.ErrNotLocked.
func (d *Driver) Unlock() error {
	d.lockMu.Lock()
	a, l := d.acquiring, d.lease
	d.lease = nil
	d.lockMu.Unlock()
	if a != nil {
		a.cancel()
		<-a.done
	}
	if l == nil {
		return database.ErrNotLocked
	}
	close(l.stop)
	<-l.done
	if err := d.deleteLease(); err != nil {
		// The lease will expire by itself; say when, so nobody waits in vain.
		return fmt.Errorf("migrate: releasing the lock (it expires by itself within %s): %w", d.cfg.LockLease, err)
	}
	return nil
}

// deleteLease deletes the lease row if this driver holds it.
func (d *Driver) deleteLease() error {
	ctx, cancel := d.metaContext()
	defer cancel()
	_, err := d.db.ExecContext(ctx, fmt.Sprintf(`DELETE FROM %s WHERE name = %s AND holder = %s`,
		d.lockTable, pgscan.QuoteLiteral(d.cfg.MigrationsTable), pgscan.QuoteLiteral(d.cfg.Holder)))
	return err
}

// intervalLiteral writes d as a PostgreSQL interval in milliseconds.
func intervalLiteral(d time.Duration) string {
	return fmt.Sprintf("interval '%d milliseconds'", d.Milliseconds())
}
