package maps_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gocarto/carto/cartolocal"
	"github.com/gocarto/carto/cartolocal/cartotest"
)

// TestMain is the one TestMain of this package's tests: accounts come from cartotest, whose
// cartolocal mounts the Maps API.
func TestMain(m *testing.M) { os.Exit(cartotest.Main(m)) }

// account is a fresh account, with the helpers the tests here use.
type account struct {
	*cartotest.Account
	name, master string
	u            *cartolocal.User
	base         string // http://HOST:PORT, maybe of a counting front (see countTiles)
}

func newAccount(t testing.TB) *account {
	t.Helper()
	a := cartotest.New(t)
	u, ok := a.Server.User(a.User)
	if !ok {
		t.Fatalf("no user %s", a.User)
	}
	base := strings.TrimSuffix(a.URL, "/user/"+a.User+"/")
	return &account{Account: a, name: a.User, master: a.MasterKey, u: u, base: base}
}

// countTiles puts a front before the server that counts .mvt requests, and makes the account's
// URLs go through it.
func (a *account) countTiles(t testing.TB) *atomic.Int64 {
	var n atomic.Int64
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, ".mvt") {
			n.Add(1)
		}
		a.Server.ServeHTTP(w, r)
	}))
	t.Cleanup(ts.Close)
	a.base = ts.URL
	return &n
}

// exec runs SQL as the account's owner.
func (a *account) exec(t testing.TB, sql string) { t.Helper(); a.Exec(t, sql) }

// url is the account's URL of path (below /user/NAME/).
func (a *account) url(path string) string { return a.base + "/user/" + a.name + "/" + path }

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}
