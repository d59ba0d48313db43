// Package account serves the account APIs of CARTO's Rails app on cartolocal: datasets and maps
// (/api/v1/viz), tables (/api/v1/tables/:id), users (/api/v1/users/:id and the organization
// users of /api/v1/organization/:org/users/:username) and map exports
// (/api/v3/visualization_exports). It answers in Rails' shapes and error dialect
// (protocol/maps-imports.md §0.3, §4), on the dataset registry (internal/registry).
package account

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"sync"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/gocarto/carto/cartolocal/internal/httpapi"
	"github.com/gocarto/carto/cartolocal/internal/registry"
	"github.com/gocarto/carto/cartolocal/internal/users"
)

// Deps are what the account APIs need from the server.
type Deps struct {
	Admin    *pgxpool.Pool // superuser pool
	Users    *users.Directory
	Registry *registry.Registry
	// PGURL is the superuser URL of the database, for ogr2ogr when an export writes tables.
	PGURL string
	// ExportDir holds finished .carto files; empty means a temporary directory removed by Close
	// (exports then do not outlive the server).
	ExportDir string
	Logf      func(string, ...any)
}

// Server serves the account APIs.
type Server struct {
	d       Deps
	orgs    *Orgs
	dir     string
	tempDir bool            // dir is ours to remove at Close
	ctx     context.Context // ends exports in flight at Close
	cancel  context.CancelFunc
	wg      sync.WaitGroup
}

// New installs what the account APIs keep in the database (organizations, exports, the
// cdb_dataservices_client functions) and returns their server. Close stops exports in flight.
func New(ctx context.Context, d Deps) (*Server, error) {
	if d.Logf == nil {
		d.Logf = func(string, ...any) {}
	}
	if err := install(ctx, d.Admin); err != nil {
		return nil, err
	}
	dir, temp := d.ExportDir, false
	if dir == "" {
		var err error
		if dir, err = os.MkdirTemp("", "cartolocal-exports-"); err != nil {
			return nil, fmt.Errorf("account: export directory: %w", err)
		}
		temp = true
	} else if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("account: export directory: %w", err)
	}
	s := &Server{d: d, orgs: &Orgs{admin: d.Admin}, dir: dir, tempDir: temp}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	if err := s.resumeExports(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// Orgs returns the organizations store, through which accounts are grouped.
func (s *Server) Orgs() *Orgs { return s.orgs }

// Close stops the exports in flight (they stay pending and resume at the next start).
func (s *Server) Close() error {
	s.cancel()
	s.wg.Wait()
	if s.tempDir {
		return os.RemoveAll(s.dir)
	}
	return nil
}

// Register mounts the account APIs under both of CARTO's URL forms.
func (s *Server) Register(mux *http.ServeMux) {
	for _, p := range []struct {
		pattern string
		h       http.HandlerFunc
	}{
		{"/api/v1/viz", s.handleVizCollection},
		{"/api/v1/viz/{$}", s.handleVizCollection},
		{"/api/v1/viz/{id}", s.handleViz},
		{"/api/v1/viz/{id}/{$}", s.handleViz},
		{"/api/v1/tables/{id}", s.handleTable},
		{"/api/v1/tables/{id}/{$}", s.handleTable},
		{"/api/{version}/users/{id}", s.handleUser},
		{"/api/{version}/users/{id}/{$}", s.handleUser},
		{"/api/{version}/organization/{org}/users/{username}", s.handleOrgUser},
		{"/api/{version}/organization/{org}/users/{username}/{$}", s.handleOrgUser},
		{"/api/v3/visualization_exports", s.handleExports},
		{"/api/v3/visualization_exports/{$}", s.handleExports},
		{"/api/v3/visualization_exports/{id}", s.handleExport},
		{"/api/v3/visualization_exports/{id}/{$}", s.handleExport},
		{"/api/v3/visualization_exports/{id}/download", s.handleExportDownload},
	} {
		httpapi.Mount(mux, p.pattern, p.h)
	}
}

// request is an authenticated Rails request: its parameters and who makes it.
type request struct {
	p   httpapi.Params
	who *users.Principal
}

// master reports whether the request carries the account's master key.
func (q *request) master() bool { return q.who.Master && q.who.User != nil }

// authenticate reads the parameters and the key as Rails' Warden strategies do. A bad key is
// Rails' empty 401, an unknown user a 404.
func (s *Server) authenticate(w http.ResponseWriter, r *http.Request) (*request, bool) {
	p, perr := httpapi.ReadParams(r)
	if perr != nil {
		writeErrors(w, perr.Status, perr.Message)
		return nil, false
	}
	who, aerr := s.d.Users.Authenticate(r, p)
	if aerr != nil {
		head(w, aerr.Status)
		return nil, false
	}
	return &request{p: p, who: who}, true
}
