package users_test

import (
	"context"
	"testing"
	"time"

	"github.com/gocarto/carto/cartolocal/cartotest"
)

// TestPublicRoleWritesNoLargeObjects (issue 9 item 5): without a key, lo_from_bytea stored a
// large object of any size, owned by the shared public role, that other accounts' anonymous
// callers could read or unlink. Every large-object writer is refused to the public role; an
// account's owner keeps them.
func TestPublicRoleWritesNoLargeObjects(t *testing.T) {
	a := cartotest.New(t)
	ctx := context.Background()
	public := acquire(t, a, false)
	for _, sql := range []string{
		"SELECT lo_from_bytea(0, 'x')",
		"SELECT lo_create(0)",
		"SELECT lo_creat(-1)",
		"SELECT lo_put(1, 0, 'x')",
		"SELECT lowrite(0, 'x')",
		"SELECT lo_unlink(1)",
		"SELECT lo_truncate(0, 0)",
		"SELECT lo_truncate64(0, 0)",
		"SELECT lo_import('/etc/hostname')",
		"SELECT lo_import('/etc/hostname', 0)",
	} {
		if _, err := public.Exec(ctx, sql); sqlState(err) != "42501" {
			t.Errorf("public role: %s: %v", sql, err)
		}
	}
	owner := acquire(t, a, true)
	var oid uint32
	if err := owner.QueryRow(ctx, "SELECT lo_from_bytea(0, 'mine')").Scan(&oid); err != nil {
		t.Fatalf("owner's lo_from_bytea: %v", err)
	}
	if _, err := owner.Exec(ctx, "SELECT lo_unlink($1)", oid); err != nil {
		t.Errorf("owner's lo_unlink: %v", err)
	}
}

// TestAccountsCannotCancelEachOther (issue 9 item 6): the public role is shared by every account,
// so one account's anonymous callers could cancel or terminate another's anonymous queries.
// Signalling backends is refused to the public role; an owner still cancels its own queries.
func TestAccountsCannotCancelEachOther(t *testing.T) {
	a, b := cartotest.New(t), cartotest.New(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	victim := acquire(t, b, false)
	pid := victim.Conn().PgConn().PID()
	attacker := acquire(t, a, false)
	for _, sql := range []string{"SELECT pg_cancel_backend($1)", "SELECT pg_terminate_backend($1)", "SELECT pg_terminate_backend($1, 1000)"} {
		if _, err := attacker.Exec(ctx, sql, pid); sqlState(err) != "42501" {
			t.Errorf("public role: %s on another account's public session: %v", sql, err)
		}
	}
	if err := victim.Ping(ctx); err != nil {
		t.Errorf("the victim's session: %v", err)
	}
	// An owner cancels its own sessions (examples/kill_query does).
	owner, other := acquire(t, a, true), acquire(t, a, true)
	var ok bool
	if err := owner.QueryRow(ctx, "SELECT pg_cancel_backend($1)", other.Conn().PgConn().PID()).Scan(&ok); err != nil || !ok {
		t.Errorf("owner's pg_cancel_backend of its own session: %v %v", ok, err)
	}
}

// TestPublicRoleTakesNoAdvisoryLocks (issue 9 item 6): advisory-lock keys are one space for the
// whole database, and cartolocal's own per-account locks are advisory (Batch job creation locks
// (72629783, hashtext(user))), so an anonymous caller of one account holding another account's
// key in a long statement stalled that account's job creation and the server connections waiting
// on it. Every locking advisory function is refused to the public role; an owner keeps them
// (migrations take them in Batch jobs).
func TestPublicRoleTakesNoAdvisoryLocks(t *testing.T) {
	a, b := cartotest.New(t), cartotest.New(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	public := acquire(t, a, false)
	for _, fn := range []string{"pg_advisory_lock", "pg_advisory_lock_shared", "pg_advisory_xact_lock",
		"pg_advisory_xact_lock_shared", "pg_try_advisory_lock", "pg_try_advisory_lock_shared",
		"pg_try_advisory_xact_lock", "pg_try_advisory_xact_lock_shared"} {
		for _, args := range []string{"(72629783, hashtext($1))", "(hashtextextended('cartolocal viz ' || $1, 0))"} {
			sql := "SELECT " + fn + args
			if _, err := public.Exec(ctx, sql, b.User); sqlState(err) != "42501" {
				t.Errorf("public role: %s: %v", sql, err)
			}
		}
	}
	owner := acquire(t, a, true)
	var got bool
	if err := owner.QueryRow(ctx, "SELECT pg_try_advisory_xact_lock(1, 2)").Scan(&got); err != nil || !got {
		t.Errorf("owner's pg_try_advisory_xact_lock: %v %v", got, err)
	}
	if _, err := owner.Exec(ctx, "SELECT pg_advisory_lock(7); SELECT pg_advisory_unlock(7)"); err != nil {
		t.Errorf("owner's pg_advisory_lock: %v", err)
	}
}
