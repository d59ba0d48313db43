package maps

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5/pgxpool"
)

// Caller is who a request runs as, as the server's key lookup resolved it.
type Caller struct {
	// User is the account the request is for.
	User string
	// Master is true for the account's master key; other keys run with Acquire(ctx, false).
	Master bool
	// Keyed is true when the request carried a key other than the public one: the layergroup's
	// tile URLs then ask for it too (?api_key= in Windshaft's metadata).
	Keyed bool
	// Acquire returns a connection as the account's owner role (owner true) or as the role of
	// the caller's key (owner false: the public role, or a regular key's role).
	Acquire func(ctx context.Context, owner bool) (*pgxpool.Conn, error)
	// DB is the database name, for X-Cache-Channel.
	DB string
}

// Config holds the Maps API's dependencies.
type Config struct {
	// Admin is a superuser pool, for cartolocal's own tables.
	Admin *pgxpool.Pool
	// Authenticate resolves a request's account and key. Its error, if any, is answered as is:
	// an *Error carries the status and message (401 Unauthorized, 404 unknown user, ...).
	Authenticate func(r *http.Request) (*Caller, error)
	// Logf receives one line per notable event.
	Logf func(format string, args ...any)
}

// Error is an authentication failure Authenticate returns: Windshaft answers it with Status, its
// Message, and errors_with_context type "auth" with Subtype when set.
type Error struct {
	Status  int
	Message string
	Subtype string
}

func (e *Error) Error() string { return e.Message }

// Service serves the Maps API.
type Service struct {
	cfg   Config
	store *store
	lgMu  sync.Mutex
	lgs   map[string]*layergroup // by user + "/" + token: layergroups are immutable once made
}

// New prepares the Maps API: cartolocal's tables for layergroups and templates.
func New(ctx context.Context, cfg Config) (*Service, error) {
	if cfg.Admin == nil || cfg.Authenticate == nil {
		return nil, errors.New("maps: Config needs Admin and Authenticate")
	}
	if cfg.Logf == nil {
		cfg.Logf = func(string, ...any) {}
	}
	st := &store{admin: cfg.Admin}
	if err := st.install(ctx); err != nil {
		return nil, fmt.Errorf("maps: install: %w", err)
	}
	return &Service{cfg: cfg, store: st, lgs: map[string]*layergroup{}}, nil
}

// Register mounts the Maps API and the preview page on mux, below prefix ("" or "/user/{user}").
func (s *Service) Register(mux *http.ServeMux, prefix string) {
	base := prefix + "/api/v1/map"
	mux.HandleFunc(base, s.handleAnonymous)
	mux.HandleFunc(base+"/{$}", s.handleAnonymous)
	mux.HandleFunc(base+"/named", s.handleNamedCollection)
	mux.HandleFunc(base+"/named/{$}", s.handleNamedCollection)
	mux.HandleFunc(base+"/named/{name}", s.handleNamed)
	mux.HandleFunc(base+"/named/{name}/{$}", s.handleNamed)
	mux.HandleFunc(base+"/named/{name}/jsonp", s.handleNamedJSONP)
	mux.HandleFunc(base+"/named/{name}/{layer}/{z}/{x}/{yfmt}", s.handleNamedTile)
	mux.HandleFunc(base+"/static/center/{token}/{z}/{lat}/{lng}/{w}/{hfmt}", s.handleStatic)
	mux.HandleFunc(base+"/static/bbox/{token}/{bbox}/{w}/{hfmt}", s.handleStatic)
	mux.HandleFunc(base+"/static/named/{name}/{w}/{hfmt}", s.handleStatic)
	mux.HandleFunc(base+"/{token}/{z}/{x}/{yfmt}", s.handleTile)
	mux.HandleFunc(base+"/{token}/{layer}/{z}/{x}/{yfmt}", s.handleTile)
	mux.HandleFunc(base+"/{token}/{layer}/attributes/{fid}", s.handleAttributes)
	mux.HandleFunc(prefix+"/maps/preview", s.handlePreview)
	mux.HandleFunc(prefix+"/maps/preview/{$}", s.handlePreview)
	mux.HandleFunc(prefix+"/maps/preview/assets/{file}", s.handlePreviewAsset)
}

// authenticate runs Config.Authenticate and turns its error into Windshaft's dialect.
func (s *Service) authenticate(r *http.Request) (*Caller, *wsError) {
	c, err := s.cfg.Authenticate(r)
	if err == nil {
		return c, nil
	}
	var e *Error
	if errors.As(err, &e) {
		we := &wsError{Status: e.Status, Message: e.Message}
		if e.Subtype != "" {
			we.Type, we.Subtype = "auth", e.Subtype
		}
		return nil, we
	}
	return nil, errorf(http.StatusInternalServerError, "Unexpected error")
}

// setCORS sends Windshaft-cartodb's CORS headers.
func setCORS(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set("Access-Control-Allow-Headers", "X-Requested-With, X-Prototype-Version, X-CSRF-Token, Authorization, Carto-Event, Carto-Event-Source, Carto-Event-Group-Id")
}

// preflight answers an OPTIONS request; it reports whether it did.
func preflight(w http.ResponseWriter, r *http.Request) bool {
	setCORS(w)
	if r.Method != http.MethodOptions {
		return false
	}
	w.WriteHeader(http.StatusOK)
	return true
}

// mapsBaseURL is the URL tile URLs hang from: http://HOST/user/USER/api/v1/map.
func mapsBaseURL(r *http.Request, user string) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	if p := r.Header.Get("X-Forwarded-Proto"); p == "https" || p == "http" {
		scheme = p
	}
	return scheme + "://" + r.Host + "/user/" + user + "/api/v1/map"
}

// isJSON reports whether a request's Content-Type is application/json.
func isJSON(r *http.Request) bool {
	ct := r.Header.Get("Content-Type")
	ct, _, _ = strings.Cut(ct, ";")
	return strings.EqualFold(strings.TrimSpace(ct), "application/json")
}
