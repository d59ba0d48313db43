// Package cartotest gives tests a fresh CARTO account on a cartolocal server backed by a real
// PostgreSQL + PostGIS.
//
// A package whose tests use it declares
//
//	func TestMain(m *testing.M) { os.Exit(cartotest.Main(m)) }
//
// and each test takes its own account:
//
//	acct := cartotest.New(t)
//	client := acct.Client(t)
//
// The first New of a test process starts one private PostgreSQL cluster (in a temporary
// directory, with the machine's initdb and postgres) and one HTTP server on 127.0.0.1; every
// later New only adds an account (a user, schema, role and keys) to them. Main stops both when
// the tests are done and then fails the run if goroutines leaked. Set CARTOLOCAL_PG_URL to a
// superuser URL to use an existing PostgreSQL with PostGIS instead of a private cluster.
package cartotest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/gocarto/carto"
	"github.com/gocarto/carto/cartolocal"
)

// EnvPGURL names the environment variable holding the superuser URL of an existing PostgreSQL
// to use instead of a private cluster.
const EnvPGURL = "CARTOLOCAL_PG_URL"

// env is the process's shared server.
type env struct {
	srv  *cartolocal.Server
	http *http.Server
	addr string // 127.0.0.1:PORT
	done chan struct{}
	err  error // why the server could not start; every New fails with it
}

var (
	mu          sync.Mutex
	mainRunning bool
	shared      *env
	accounts    atomic.Int64
)

// Main runs the tests of a package that uses New, then stops the shared server, then checks for
// goroutine leaks. Use it from TestMain: os.Exit(cartotest.Main(m)).
func Main(m *testing.M) int {
	ignore := goleak.IgnoreCurrent()
	mu.Lock()
	mainRunning = true
	mu.Unlock()

	code := m.Run()

	mu.Lock()
	e := shared
	shared = nil
	mainRunning = false
	mu.Unlock()
	if e != nil && e.err == nil {
		if err := e.close(); err != nil {
			fmt.Fprintf(os.Stderr, "cartotest: stopping the server: %v\n", err)
			if code == 0 {
				code = 1
			}
		}
	}
	if code == 0 {
		if err := goleak.Find(ignore); err != nil {
			fmt.Fprintf(os.Stderr, "cartotest: goroutines leaked: %v\n", err)
			code = 1
		}
	}
	return code
}

// getEnv returns the shared server, starting it on first use.
func getEnv() (*env, error) {
	mu.Lock()
	defer mu.Unlock()
	if !mainRunning {
		return nil, errors.New("cartotest: New needs cartotest.Main: add\n\tfunc TestMain(m *testing.M) { os.Exit(cartotest.Main(m)) }\nto this package's tests")
	}
	if shared == nil {
		shared = start()
	}
	return shared, shared.err
}

func start() *env {
	e := &env{done: make(chan struct{})}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	srv, err := cartolocal.New(ctx, cartolocal.Config{
		PGURL: os.Getenv(EnvPGURL),
		Logf:  log.Printf,
	})
	if err != nil {
		e.err = fmt.Errorf("cartotest: starting cartolocal: %w", err)
		return e
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		srv.Close()
		e.err = fmt.Errorf("cartotest: %w", err)
		return e
	}
	e.srv, e.addr = srv, ln.Addr().String()
	e.http = srv.HTTPServer()
	go func() {
		defer close(e.done)
		_ = e.http.Serve(ln)
	}()
	return e
}

func (e *env) close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := e.http.Shutdown(ctx)
	if err != nil {
		err = errors.Join(err, e.http.Close())
	}
	<-e.done
	return errors.Join(err, e.srv.Close())
}

// Account is a fresh CARTO account on the shared server.
type Account struct {
	// URL is the account's base URL, http://127.0.0.1:PORT/user/NAME/.
	URL string
	// User is the account's user name (and schema).
	User string
	// MasterKey and PublicKey are the account's API keys.
	MasterKey string
	PublicKey string
	// Server is the cartolocal server the account lives on.
	Server *cartolocal.Server
	// PGURL is the superuser URL of the PostgreSQL behind the server.
	PGURL string

	user *cartolocal.User
	addr string
}

// New creates a fresh account (its own user, schema, role and keys) for the test. The package's
// TestMain must use Main.
func New(t testing.TB) *Account {
	t.Helper()
	e, err := getEnv()
	if err != nil {
		t.Fatal(err)
	}
	var b [4]byte
	_, _ = rand.Read(b[:])
	name := fmt.Sprintf("t%d_%s", accounts.Add(1), hex.EncodeToString(b[:]))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	u, err := e.srv.AddUser(ctx, cartolocal.UserConfig{Name: name})
	if err != nil {
		t.Fatalf("cartotest: creating account: %v", err)
	}
	// The cluster dies with the process, so nothing is dropped; only the connections go.
	t.Cleanup(u.ResetConns)
	return &Account{
		URL:       "http://" + e.addr + "/user/" + name + "/",
		User:      name,
		MasterKey: u.MasterKey,
		PublicKey: u.PublicKey,
		Server:    e.srv,
		PGURL:     e.srv.PGURL(),
		user:      u,
		addr:      e.addr,
	}
}

// Client returns a client of the account with its master key; opts come after the key, so they
// may replace it.
func (a *Account) Client(t testing.TB, opts ...carto.Option) *carto.Client {
	t.Helper()
	c, err := carto.NewClient(a.URL, append([]carto.Option{carto.WithAPIKey(a.MasterKey)}, opts...)...)
	if err != nil {
		t.Fatalf("cartotest: %v", err)
	}
	return c
}

// PublicClient returns a client of the account without a key: its requests run as the public
// role, whatever $CARTO_API_KEY says.
func (a *Account) PublicClient(t testing.TB) *carto.Client {
	t.Helper()
	c, err := carto.NewClient(a.URL, carto.WithAPIKey(""))
	if err != nil {
		t.Fatalf("cartotest: %v", err)
	}
	return c
}

// DSN is the account's data source name for the carto database/sql driver, with the master key.
func (a *Account) DSN() string {
	return "carto://" + a.User + ":" + a.MasterKey + "@" + a.addr + "/user/" + a.User + "?sslmode=disable"
}

// Exec runs setup SQL (one or several statements) directly on PostgreSQL as the account's owner
// role, as its master key would, and fails the test on error.
func (a *Account) Exec(t testing.TB, sql string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	conn, err := a.user.Acquire(ctx, true)
	if err != nil {
		t.Fatalf("cartotest: Exec: %v", err)
	}
	defer conn.Release()
	if _, err := conn.Conn().PgConn().Exec(ctx, sql).ReadAll(); err != nil {
		t.Fatalf("cartotest: Exec %q: %v", sql, err)
	}
}
