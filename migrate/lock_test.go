package migrate_test

import (
	"errors"
	"testing"
	"time"

	gomigrate "github.com/golang-migrate/migrate/v4"

	"github.com/gocarto/carto/cartolocal/cartotest"
)

// golang-migrate gives up on Lock at its own Migrate.LockTimeout but leaves the driver's Lock
// running. These tests set the driver's timeout (5s) far above golang-migrate's (500ms), with the
// lease held by another migrator, as issue 9 reproduced it.

// lateLock returns a driver whose Lock golang-migrate has given up on (m.Up returned
// ErrLockTimeout) while the lease is held by holder, the other driver.
func lateLock(t *testing.T) (acct *cartotest.Account, holder func() error, m *gomigrate.Migrate) {
	t.Helper()
	acct = cartotest.New(t)
	h := openDriver(t, acct, "")
	if err := h.Lock(); err != nil {
		t.Fatal(err)
	}
	d := openDriver(t, acct, "x-lock-timeout=5s")
	_, src := writeMigrations(t, map[string]string{"1_a.up.sql": "CREATE TABLE late_a (id int);", "1_a.down.sql": "DROP TABLE late_a;"})
	m = newMigrate(t, src, d)
	m.LockTimeout = 500 * time.Millisecond
	if err := m.Up(); !errors.Is(err, gomigrate.ErrLockTimeout) {
		t.Fatalf("Up with the lease held elsewhere: %v, want ErrLockTimeout", err)
	}
	return acct, h.Unlock, m
}

// TestCloseWhileLockWaits: Close while the abandoned Lock still waits does not crash (it closed a
// nil channel), and the Lock does not win afterwards: nobody would ever release that lease.
func TestCloseWhileLockWaits(t *testing.T) {
	t.Parallel()
	acct, unlock, m := lateLock(t)
	if srcErr, dbErr := m.Close(); srcErr != nil || dbErr != nil {
		t.Fatalf("Close: %v, %v", srcErr, dbErr)
	}
	if err := unlock(); err != nil {
		t.Fatal(err)
	}
	// The abandoned Lock tried again at least once a second; give it two chances to win.
	time.Sleep(2 * time.Second)
	db := pg(t, acct)
	if n := scalar[int64](t, db, "SELECT count(*) FROM cartomigrate_lock"); n != 0 {
		t.Fatalf("%d lease rows after Close: the abandoned Lock won after Close", n)
	}
}

// TestCloseReleasesLateLock: a Lock that wins after golang-migrate gave up holds a lease nobody
// asked for; Close releases it instead of renewing it until the process exits.
func TestCloseReleasesLateLock(t *testing.T) {
	t.Parallel()
	acct, unlock, m := lateLock(t)
	if err := unlock(); err != nil {
		t.Fatal(err)
	}
	db := pg(t, acct)
	deadline := time.Now().Add(10 * time.Second)
	for scalar[int64](t, db, "SELECT count(*) FROM cartomigrate_lock") == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the abandoned Lock never took the released lease")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if srcErr, dbErr := m.Close(); srcErr != nil || dbErr != nil {
		t.Fatalf("Close: %v, %v", srcErr, dbErr)
	}
	if n := scalar[int64](t, db, "SELECT count(*) FROM cartomigrate_lock"); n != 0 {
		t.Fatalf("%d lease rows after Close: the late lease is still held", n)
	}
}
