package users_test

import (
	"context"
	"testing"

	"github.com/gocarto/carto/cartolocal/cartotest"
)

// TestLookupIsReadOnlyOwner: look-up connections run as the owner role, read-only, and stay so
// after a session reset (DISCARD ALL on release comes back to the connection's start values).
func TestLookupIsReadOnlyOwner(t *testing.T) {
	a := cartotest.New(t)
	u, ok := a.Server.User(a.User)
	if !ok {
		t.Fatalf("no user %q", a.User)
	}
	ctx := context.Background()
	for i := range 3 {
		conn, err := u.AcquireLookup(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var user, ro, lock string
		err = conn.QueryRow(ctx, "SELECT current_user, current_setting('transaction_read_only'), current_setting('lock_timeout')").Scan(&user, &ro, &lock)
		if err != nil || user != "cartodb_user_"+a.User || ro != "on" || lock != "1s" {
			t.Errorf("look-up %d: %q read-only %q lock_timeout %q, %v", i, user, ro, lock, err)
		}
		_, err = conn.Exec(ctx, "SET default_transaction_read_only = off")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := conn.Exec(ctx, "CREATE TABLE written (a int)"); err == nil {
			// The SET above lasts for this session only: it must not outlive the release.
			if _, err := conn.Exec(ctx, "DROP TABLE written"); err != nil {
				t.Fatal(err)
			}
		}
		conn.Release()
	}
	conn, err := u.AcquireLookup(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, "CREATE TABLE written (a int)"); sqlState(err) != "25006" {
		t.Errorf("a write on a look-up connection after a reset: %v, want 25006", err)
	}
}
