package maptemplate_test

import (
	"os"
	"testing"

	"github.com/gocarto/carto/cartolocal"
	"github.com/gocarto/carto/cartolocal/cartotest"
)

// TestMain is the one TestMain of this package's tests: FuzzPlaceholders runs its SQL on an
// account of cartotest's cartolocal.
func TestMain(m *testing.M) { os.Exit(cartotest.Main(m)) }

// newUser is a fresh account's user, whose roles run the substituted SQL.
func newUser(t testing.TB) *cartolocal.User {
	t.Helper()
	a := cartotest.New(t)
	u, ok := a.Server.User(a.User)
	if !ok {
		t.Fatalf("no user %s", a.User)
	}
	return u
}
