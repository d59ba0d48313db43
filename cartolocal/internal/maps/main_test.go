package maps_test

import (
	"context"
	"crypto/subtle"

	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"go.uber.org/goleak"

	"github.com/gocarto/carto/cartolocal"
	"github.com/gocarto/carto/cartolocal/internal/maps"
)

// env is one cartolocal with the Maps API mounted, shared by the package's tests.
type env struct {
	srv   *cartolocal.Server
	svc   *maps.Service
	ts    *httptest.Server
	tiles atomic.Int64 // .mvt requests served
}

var shared *env

func TestMain(m *testing.M) {
	ignore := goleak.IgnoreCurrent()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	e, err := start(ctx)
	cancel()
	if err != nil {
		fmt.Fprintln(os.Stderr, "maps tests:", err)
		os.Exit(1)
	}
	shared = e
	code := m.Run()
	e.ts.Close()
	if err := e.srv.Close(); err != nil && code == 0 {
		fmt.Fprintln(os.Stderr, err)
		code = 1
	}
	if code == 0 {
		if err := goleak.Find(ignore); err != nil {
			fmt.Fprintln(os.Stderr, "goroutines leaked:", err)
			code = 1
		}
	}
	os.Exit(code)
}

func start(ctx context.Context) (*env, error) {
	srv, err := cartolocal.New(ctx, cartolocal.Config{PGURL: os.Getenv("CARTOLOCAL_PG_URL"), Logf: log.Printf})
	if err != nil {
		return nil, err
	}
	e := &env{srv: srv}
	if _, err := srv.AdminPool().Exec(ctx, metadataSQL); err != nil {
		srv.Close()
		return nil, err
	}
	var db string
	if err := srv.AdminPool().QueryRow(ctx, "SELECT current_database()").Scan(&db); err != nil {
		srv.Close()
		return nil, err
	}
	svc, err := maps.New(ctx, maps.Config{Admin: srv.AdminPool(), Logf: log.Printf, Authenticate: func(r *http.Request) (*maps.Caller, error) {
		return e.authenticate(r, db)
	}})
	if err != nil {
		srv.Close()
		return nil, err
	}
	e.svc = svc
	mux := http.NewServeMux()
	svc.Register(mux, "")
	svc.Register(mux, "/user/{user}")
	mux.Handle("/", srv)
	e.ts = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, ".mvt") {
			e.tiles.Add(1)
		}
		mux.ServeHTTP(w, r)
	}))
	return e, nil
}

// authenticate is Windshaft's key lookup on the server's accounts: Basic auth, then api_key or
// map_key in the query string.
func (e *env) authenticate(r *http.Request, db string) (*maps.Caller, error) {
	name := r.PathValue("user")
	u, ok := e.srv.User(name)
	if !ok {
		return nil, &maps.Error{Status: 404, Message: "Sorry, we can't find CARTO user '" + name + "'"}
	}
	key := ""
	if bu, bp, ok := r.BasicAuth(); ok {
		if bu != u.Name {
			return nil, &maps.Error{Status: 403, Message: "Forbidden", Subtype: "api-key-username-mismatch"}
		}
		key = bp
	}
	if key == "" {
		key = r.URL.Query().Get("api_key")
	}
	if key == "" {
		key = r.URL.Query().Get("map_key")
	}
	c := &maps.Caller{User: u.Name, DB: db, Acquire: func(ctx context.Context, owner bool) (*pgxpool.Conn, error) {
		return u.Acquire(ctx, owner)
	}}
	switch {
	case key == "" || key == "default_public" || eq(key, u.PublicKey):
	case eq(key, u.MasterKey):
		c.Master, c.Keyed = true, true
	default:
		return nil, &maps.Error{Status: 401, Message: "Unauthorized", Subtype: "api-key-not-found"}
	}
	acq := c.Acquire
	c.Acquire = func(ctx context.Context, owner bool) (*pgxpool.Conn, error) {
		return acq(ctx, owner || c.Master)
	}
	return c, nil
}

func eq(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }

var accounts atomic.Int64

// account is a fresh account of the shared server.
type account struct {
	name, master string
	u            *cartolocal.User
}

func newAccount(t testing.TB) *account {
	t.Helper()
	n := accounts.Add(1)
	name := fmt.Sprintf("m%d", n)
	u, err := shared.srv.AddUser(ctxT(t), cartolocal.UserConfig{Name: name, MasterKey: "master-" + name})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(u.ResetConns)
	return &account{name: name, master: u.MasterKey, u: u}
}

// exec runs SQL as the account's owner.
func (a *account) exec(t testing.TB, sql string) {
	t.Helper()
	conn, err := a.u.Acquire(ctxT(t), true)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctxT(t), sql); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

// url is the account's URL of path (below /user/NAME/).
func (a *account) url(path string) string { return shared.ts.URL + "/user/" + a.name + "/" + path }

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}
