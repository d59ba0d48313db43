package cartolocal

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/gocarto/carto/cartolocal/internal/account"
	"github.com/gocarto/carto/cartolocal/internal/batch"
	"github.com/gocarto/carto/cartolocal/internal/httpapi"
	"github.com/gocarto/carto/cartolocal/internal/imports"
	"github.com/gocarto/carto/cartolocal/internal/maps"
	"github.com/gocarto/carto/cartolocal/internal/registry"
	"github.com/gocarto/carto/cartolocal/internal/sqlapi"
	"github.com/gocarto/carto/cartolocal/internal/users"
	"github.com/gocarto/carto/cartolocal/pgcluster"
)

// Config describes a cartolocal server.
type Config struct {
	// PGURL is a superuser connection URL of an existing PostgreSQL with PostGIS available. When it
	// is empty, New starts a private cluster (see package pgcluster) with the machine's initdb and
	// postgres.
	PGURL string
	// DataDir is where a private cluster lives; empty means a temporary directory removed by Close.
	DataDir string
	// Users are created (or taken over, if they exist) at start.
	Users []UserConfig
	// StatementTimeout is set on every user role, as CARTO sets it per plan; a statement that runs
	// longer is answered with CARTO's 429 timeout error. Zero means no limit.
	StatementTimeout time.Duration
	// Logf receives one line per notable event; nil means log.Printf.
	Logf func(format string, args ...any)
	// ImportsDir holds uploaded files until their imports end; it must survive a restart for
	// the imports to. Empty means beside DataDir, or a directory of the system's temporary one
	// named after the database.
	ImportsDir string
}

// UserConfig describes one account. Empty keys keep the ones stored by an earlier run on the same
// database, or are generated.
type UserConfig = users.Config

// User is one account: a schema, an owner role used by the master key, and keys. Its Acquire
// gives a connection as either of its roles, as the API servers use them.
type User = users.User

// Server is a running cartolocal: an http.Handler plus the PostgreSQL behind it.
//
// It is a composition: the account directory (internal/users) and one package per CARTO API
// (internal/sqlapi, internal/batch, ...), each built with what it needs and mounted on one mux.
type Server struct {
	cfg     Config
	logf    func(string, ...any)
	cluster *pgcluster.Cluster // nil when Config.PGURL was given
	admin   *pgxpool.Pool      // superuser pool, for provisioning and the server's own tables
	pgURL   string

	users       *users.Directory
	batch       *batch.Server
	registry    *registry.Registry // datasets and maps, shared by the APIs that make and show them
	account     *account.Server
	imports     *imports.Server
	importsTemp string // a temporary ImportsDir, removed by Close

	handler http.Handler

	closeOnce sync.Once
	closeErr  error
}

// api is what every API server package offers the Server: its routes, registered by Mount under
// both of CARTO's URL forms.
type api interface {
	Register(mux *http.ServeMux)
}

// New starts a server: the PostgreSQL cluster if Config.PGURL is empty, the cartodb schema of CARTO
// functions, and the configured users. Close stops all of it.
func New(ctx context.Context, cfg Config) (*Server, error) {
	s := &Server{cfg: cfg, logf: cfg.Logf}
	if s.logf == nil {
		s.logf = log.Printf
	}
	// A bad name is known before a cluster is started for nothing.
	for _, u := range cfg.Users {
		if err := users.ValidateName(u.Name); err != nil {
			return nil, fmt.Errorf("cartolocal: %w", err)
		}
	}
	if err := s.start(ctx); err != nil {
		s.Close()
		return nil, err
	}
	for _, u := range cfg.Users {
		// AddUser's errors name the user already.
		if _, err := s.AddUser(ctx, u); err != nil {
			s.Close()
			return nil, err
		}
	}
	var err error
	s.batch, err = batch.New(ctx, batch.Deps{Admin: s.admin, Users: s.users, Logf: s.logf})
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("cartolocal: batch runner: %w", err)
	}
	accountAPIs, err := s.startAccountAPIs(ctx)
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("cartolocal: account APIs: %w", err)
	}
	if err := s.startImports(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("cartolocal: imports: %w", err)
	}
	mapsAPI, err := maps.New(ctx, maps.Deps{Admin: s.admin, Users: s.users, Logf: s.logf})
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("cartolocal: maps: %w", err)
	}
	mux := http.NewServeMux()
	for _, a := range append([]api{
		sqlapi.New(sqlapi.Deps{Admin: s.admin, Users: s.users, Logf: s.logf}),
		s.batch,
		s.imports,
		mapsAPI,
		meta{admin: s.admin},
	}, accountAPIs...) {
		a.Register(mux)
	}
	s.handler = httpapi.Recover(s.logf, httpapi.SQLRouterCORS(mux))
	return s, nil
}

// AddUser creates an account, or takes over an existing one of that name: its schema (owned by
// the account's role, readable by the public role only where granted), its owner role, and its
// keys. Keys left empty keep the ones stored by an earlier run, or are generated.
func (s *Server) AddUser(ctx context.Context, cfg UserConfig) (*User, error) {
	return s.users.Add(ctx, cfg)
}

// PGURL is the superuser URL of the PostgreSQL behind the server, for tests and tools that need to
// look underneath (pg_stat_activity, a pgx baseline).
func (s *Server) PGURL() string { return s.pgURL }

// AdminPool is a superuser pool on the PostgreSQL behind the server.
func (s *Server) AdminPool() *pgxpool.Pool { return s.admin }

// User returns the account named name.
func (s *Server) User(name string) (*User, bool) { return s.users.Get(name) }

// Users returns every account, in no particular order.
func (s *Server) Users() []*User { return s.users.All() }

// ServeHTTP serves CARTO's APIs. A request body that stops arriving for a minute ends its
// request (see HTTPServer): a stalled client must not hold a connection for ever.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Body != nil && r.Body != http.NoBody {
		r.Body = newIdleBody(w, r.Body, bodyIdleTimeout)
	}
	s.handler.ServeHTTP(w, r)
}

// HTTPServer returns an http.Server that serves s with the timeouts a server facing clients it
// does not control needs: 30 s to send the request headers, a minute between two reads of a body
// (ReadTimeout, which ServeHTTP extends while the body keeps arriving, so an upload of any size
// passes as long as it moves), and two minutes for an idle keep-alive connection. Set Addr (or
// call Serve with a listener) and, if wanted, ErrorLog.
func (s *Server) HTTPServer() *http.Server {
	return &http.Server{
		Handler:           s,
		ReadHeaderTimeout: 30 * time.Second,
		ReadTimeout:       bodyIdleTimeout,
		IdleTimeout:       2 * time.Minute,
	}
}

// Close stops the batch runner, closes the pools and stops a private cluster.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		var errs []error
		if s.batch != nil {
			errs = append(errs, s.batch.Close())
		}
		if s.account != nil {
			errs = append(errs, s.account.Close())
		}
		if s.imports != nil {
			errs = append(errs, s.imports.Close())
		}
		if s.importsTemp != "" {
			errs = append(errs, os.RemoveAll(s.importsTemp))
		}
		if s.users != nil {
			s.users.Close()
		}
		if s.admin != nil {
			s.admin.Close()
		}
		if s.cluster != nil {
			errs = append(errs, s.cluster.Stop())
		}
		s.closeErr = errors.Join(errs...)
	})
	return s.closeErr
}
