// Package imports is cartolocal's Import API (/api/v1/imports) and sync tables
// (/api/v1/synchronizations), as CARTO's Rails app and its importer serve them.
//
// An import is stored in PostgreSQL when it is created and run by a pool of runners: the file is
// unpacked, each file loaded by GDAL's ogr2ogr into a staging schema with CARTO's flags, its
// columns named and its geometry found as CARTO's importer does (package importer), then moved
// into the account's schema under a free name, cartodbfied, given its privacy and registered as a
// dataset, all in one transaction. A runner holds an advisory lock on the import it runs; when
// its process dies the lock goes with its session, and any runner (of this process after a
// restart, or of another sharing the database) takes the import up again from the start. The
// uploaded file waits on disk until its import is final.
package imports

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/gocarto/carto/cartolocal/internal/httpapi"
	"github.com/gocarto/carto/cartolocal/internal/importer"
)

// Account is what the Import API needs to know of an account.
type Account struct {
	Name       string // the user name
	ID         string // the user's UUID, user_id in the answers
	Schema     string // the account's schema
	Role       string // the role owning the account's tables
	PublicRole string // the role reading public datasets
}

// Config holds a Server's dependencies.
type Config struct {
	// Admin is a superuser pool on the accounts' database.
	Admin *pgxpool.Pool
	// PGURL is a superuser URL of the same database, for ogr2ogr.
	PGURL string
	// Dir holds uploads and work files; uploads must survive a restart, so it must too.
	Dir string
	// Authenticate resolves the request's account and checks that it carries the account's
	// master key (apiKey is the api_key parameter, which may come from the body). A non-zero
	// status is CARTO's answer (401, 404), sent with an empty body.
	Authenticate func(r *http.Request, apiKey string) (Account, int)
	// Accounts resolves a user name, for the runners.
	Accounts func(user string) (Account, bool)
	// RegisterTable makes a created table a dataset with its privacy, inside tx, and returns
	// the dataset's id. When nil, the server grants the public role itself and makes up no id.
	RegisterTable func(ctx context.Context, tx pgx.Tx, user, table, privacy string) (string, error)
	// CreateMap makes a map for create_vis, returning its id; nil means none is made. The map is
	// of the imported tables, or the map of an imported .carto file.
	CreateMap func(ctx context.Context, user string, spec MapSpec) (string, error)
	// Logf receives one line per notable event.
	Logf func(format string, args ...any)
	// Runners is how many imports run at once (2 by default).
	Runners int
	// MaxConcurrent is an account's import slots (CARTO's default, 3).
	MaxConcurrent int
	// HTTPClient fetches URLs; nil means a client with a 30 minute limit.
	HTTPClient *http.Client
	// Ogr2ogr and Ogrinfo override the programs' paths.
	Ogr2ogr, Ogrinfo string
	// Group names the servers that run this server's imports and syncs: only servers of the
	// same group (the same server after a restart) take them up. cartolocal's is empty; a test
	// running a server of its own beside cartolocal's gives another.
	Group string
	// Now and Tick drive the sync scheduler; tests set them to move time without waiting.
	Now  func() time.Time
	Tick time.Duration
}

// Server serves the Import API and sync tables.
type Server struct {
	cfg    Config
	admin  *pgxpool.Pool
	logf   func(string, ...any)
	loader *importer.Loader
	hc     *http.Client
	now    func() time.Time

	ctx    context.Context // ends at Close: runners stop, their imports stay unfinished
	cancel context.CancelFunc
	wake   chan struct{}
	// syncWake wakes the scheduler (sync_now).
	syncWake chan struct{}
	wg       sync.WaitGroup
	// groupConn holds the shared lock that tells the server's runner group is alive.
	groupConn *pgx.Conn
}

// querier is a pool, connection or transaction.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// MapSpec is a map for the account's registry to make: the map of an import's tables, or the
// map of an imported .carto file (importer.CartoMap.Imported).
type MapSpec = importer.MapSpec

// New installs the server's tables and starts its runners and sync scheduler.
func New(ctx context.Context, cfg Config) (*Server, error) {
	if cfg.Admin == nil || cfg.Authenticate == nil || cfg.Accounts == nil || cfg.Dir == "" {
		return nil, errors.New("imports: New needs Admin, Authenticate, Accounts and Dir")
	}
	if cfg.Runners <= 0 {
		cfg.Runners = 2
	}
	if cfg.MaxConcurrent <= 0 {
		cfg.MaxConcurrent = 3
	}
	if cfg.Logf == nil {
		cfg.Logf = log.Printf
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Tick <= 0 {
		cfg.Tick = 10 * time.Second
	}
	hc := cfg.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Minute}
	}
	if err := os.MkdirAll(filepath.Join(cfg.Dir, "uploads"), 0o700); err != nil {
		return nil, fmt.Errorf("imports: %w", err)
	}
	if err := pgx.BeginFunc(ctx, cfg.Admin, func(tx pgx.Tx) error { return install(ctx, tx) }); err != nil {
		return nil, fmt.Errorf("imports: install: %w", err)
	}
	s := &Server{
		cfg: cfg, admin: cfg.Admin, logf: cfg.Logf, hc: hc, now: cfg.Now,
		loader:   &importer.Loader{PGURL: cfg.PGURL, Ogr2ogr: cfg.Ogr2ogr, Ogrinfo: cfg.Ogrinfo},
		wake:     make(chan struct{}, 1),
		syncWake: make(chan struct{}, 1),
	}
	if err := s.holdGroup(ctx); err != nil {
		return nil, err
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	for range cfg.Runners {
		s.wg.Add(1)
		go s.runner()
	}
	s.wg.Add(1)
	go s.scheduler()
	return s, nil
}

// Close stops the runners and the scheduler; imports they were running stay unfinished, for the
// next server on the database to take up.
func (s *Server) Close() error {
	s.cancel()
	s.wg.Wait()
	s.releaseGroup()
	return nil
}

// Register mounts the Import API and sync tables on mux, with and without trailing slashes.
func (s *Server) Register(mux *http.ServeMux) {
	for pattern, h := range map[string]http.HandlerFunc{
		"/api/v1/imports":                            s.handleImports,
		"/api/v1/imports/{$}":                        s.handleImports,
		"/api/v1/imports/{id}":                       s.handleImport,
		"/api/v1/imports/{id}/{$}":                   s.handleImport,
		"/api/v1/synchronizations":                   s.handleSyncs,
		"/api/v1/synchronizations/{$}":               s.handleSyncs,
		"/api/v1/synchronizations/{id}":              s.handleSync,
		"/api/v1/synchronizations/{id}/{$}":          s.handleSync,
		"/api/v1/synchronizations/{id}/sync_now":     s.handleSyncNow,
		"/api/v1/synchronizations/{id}/sync_now/{$}": s.handleSyncNow,
	} {
		httpapi.Mount(mux, pattern, h)
	}
}

// SetStorageQuota sets an account's storage quota in bytes; 0 removes it. Imports past it
// fail with 8001.
func (s *Server) SetStorageQuota(ctx context.Context, user string, bytes int64) error {
	var err error
	if bytes <= 0 {
		_, err = s.admin.Exec(ctx, "DELETE FROM cartolocal.storage_quotas WHERE user_name = $1", user)
	} else {
		_, err = s.admin.Exec(ctx, `INSERT INTO cartolocal.storage_quotas VALUES ($1, $2)
ON CONFLICT (user_name) DO UPDATE SET quota_bytes = EXCLUDED.quota_bytes`, user, bytes)
	}
	return err
}

// poke wakes a runner.
func (s *Server) poke() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}
