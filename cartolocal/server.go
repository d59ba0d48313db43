package cartolocal

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/http"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// Config describes a cartolocal server.
type Config struct {
	// PGURL is a superuser connection URL of an existing PostgreSQL with PostGIS available. When it
	// is empty, New starts a private cluster with the machine's initdb and pg_ctl.
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
}

// UserConfig describes one account. Empty keys are generated.
type UserConfig struct {
	Name      string
	MasterKey string
	PublicKey string
}

// Server is a running cartolocal: an http.Handler plus the PostgreSQL behind it.
type Server struct {
	cfg     Config
	logf    func(string, ...any)
	cluster *Cluster      // nil when Config.PGURL was given
	admin   *pgxpool.Pool // superuser pool, for provisioning and the server's own tables
	pgURL   string

	postgisSchema  string // quoted schema holding PostGIS, set by install
	publicPassword string // password of the shared public role, set by install

	mu    sync.RWMutex
	users map[string]*User

	mux  *http.ServeMux
	jobs *jobService

	closeOnce sync.Once
	closeErr  error
}

// New starts a server: the PostgreSQL cluster if Config.PGURL is empty, the cartodb schema of CARTO
// functions, and the configured users. Close stops all of it.
func New(ctx context.Context, cfg Config) (*Server, error) {
	s := &Server{cfg: cfg, logf: cfg.Logf, users: map[string]*User{}}
	if s.logf == nil {
		s.logf = log.Printf
	}
	if err := s.start(ctx); err != nil {
		s.Close()
		return nil, err
	}
	for _, u := range cfg.Users {
		if _, err := s.AddUser(ctx, u); err != nil {
			s.Close()
			return nil, fmt.Errorf("cartolocal: user %q: %w", u.Name, err)
		}
	}
	if err := s.startJobs(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("cartolocal: batch runner: %w", err)
	}
	s.routes()
	return s, nil
}

// PGURL is the superuser URL of the PostgreSQL behind the server, for tests and tools that need to
// look underneath (pg_stat_activity, a pgx baseline).
func (s *Server) PGURL() string { return s.pgURL }

// AdminPool is a superuser pool on the PostgreSQL behind the server.
func (s *Server) AdminPool() *pgxpool.Pool { return s.admin }

// User returns the account named name.
func (s *Server) User(name string) (*User, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	u, ok := s.users[name]
	return u, ok
}

// Users returns every account, in no particular order.
func (s *Server) Users() []*User {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]*User, 0, len(s.users))
	for _, u := range s.users {
		out = append(out, u)
	}
	return out
}

// ServeHTTP serves CARTO's APIs.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	defer func() {
		// A handler bug must cost one request, never the server.
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			s.logf("cartolocal: panic serving %s %s: %v", r.Method, r.URL.Path, v)
			writeError(w, &apiError{Status: 500, Message: "Unexpected error"})
		}
	}()
	s.mux.ServeHTTP(w, r)
}

func (s *Server) routes() {
	m := http.NewServeMux()
	for _, prefix := range []string{"", "/user/{user}"} {
		m.HandleFunc(prefix+"/api/{version}/sql", s.handleSQL)
		m.HandleFunc(prefix+"/api/{version}/sql/{$}", s.handleSQL)
		m.HandleFunc(prefix+"/api/{version}/sql/job", s.handleJobs)
		m.HandleFunc(prefix+"/api/{version}/sql/job/{$}", s.handleJobs)
		m.HandleFunc(prefix+"/api/{version}/sql/job/{id}", s.handleJob)
		m.HandleFunc(prefix+"/api/v1/version", s.handleVersion)
		m.HandleFunc(prefix+"/api/v1/health", s.handleHealth)
	}
	s.mux = m
}

func (s *Server) handleVersion(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, []byte(`{"cartodb_sql_api":"6.0.0"}`))
}

func (s *Server) handleHealth(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	err := s.admin.Ping(r.Context())
	if err != nil {
		writeJSON(w, http.StatusServiceUnavailable, fmt.Appendf(nil, `{"enabled":true,"ok":false,"elapsed":%d}`, time.Since(start).Milliseconds()))
		return
	}
	writeJSON(w, http.StatusOK, fmt.Appendf(nil, `{"enabled":true,"ok":true,"elapsed":%d}`, time.Since(start).Milliseconds()))
}

// Close stops the batch runner, closes the pools and stops a private cluster.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		var errs []error
		if s.jobs != nil {
			errs = append(errs, s.jobs.close())
		}
		// Close the pools outside the lock: closing waits for connections in use, whose
		// holders may still look accounts up.
		for _, u := range s.Users() {
			u.close()
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
