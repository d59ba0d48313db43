package maps

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/gocarto/carto/cartolocal/internal/httpapi"
	"github.com/gocarto/carto/cartolocal/internal/users"
)

// Caller is who a request runs as, as the key lookup resolved it.
type Caller struct {
	// User is the account the request is for.
	User string
	// Master is true for the account's master key.
	Master bool
	// Keyed is true when the request carried a key: Windshaft tells "Only authenticated users"
	// from "Forbidden" by it.
	Keyed bool
	// Acquire returns a connection as the account's owner role (owner true) or as the role of
	// the caller's key (owner false: the public role, a regular key's role, or the owner for the
	// master key).
	Acquire func(ctx context.Context, owner bool) (*pgxpool.Conn, error)
	// DB is the database name, for X-Cache-Channel.
	DB string
	// Role names the role the caller's key runs as ("owner", "public" or a regular key's role):
	// a layergroup's id hashes it, as Windshaft's hashes its dbparams.
	Role string
}

// Deps are the Maps API's dependencies.
type Deps struct {
	// Admin is a superuser pool, for cartolocal's own tables.
	Admin *pgxpool.Pool
	// Users looks accounts and keys up.
	Users *users.Directory
	// Logf receives one line per notable event.
	Logf func(format string, args ...any)
}

// Service serves the Maps API.
type Service struct {
	deps  Deps
	db    string
	store *store
	lgMu  sync.Mutex
	lgs   map[string]*layergroup // by user + "/" + token: layergroups are immutable once made
}

// New prepares the Maps API: cartolocal's tables for layergroups and templates.
func New(ctx context.Context, deps Deps) (*Service, error) {
	if deps.Admin == nil || deps.Users == nil {
		return nil, errors.New("maps: Deps needs Admin and Users")
	}
	if deps.Logf == nil {
		deps.Logf = func(string, ...any) {}
	}
	st := &store{admin: deps.Admin}
	if err := st.install(ctx); err != nil {
		return nil, fmt.Errorf("maps: install: %w", err)
	}
	var db string
	if err := deps.Admin.QueryRow(ctx, "SELECT current_database()").Scan(&db); err != nil {
		return nil, fmt.Errorf("maps: %w", err)
	}
	return &Service{deps: deps, db: db, store: st, lgs: map[string]*layergroup{}}, nil
}

// Register mounts the Maps API and the preview page on mux, with and without /user/{user}.
func (s *Service) Register(mux *http.ServeMux) {
	for _, prefix := range httpapi.Prefixes {
		s.register(mux, prefix)
	}
}

func (s *Service) register(mux *http.ServeMux, prefix string) {
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
	mux.HandleFunc(prefix+"/"+PreviewPath, s.handlePreview)
	mux.HandleFunc(prefix+"/"+PreviewPath+"/{$}", s.handlePreview)
	mux.HandleFunc(prefix+"/"+PreviewPath+"/assets/{file}", s.handlePreviewAsset)
}

// authenticate looks the account and the key up as Windshaft-cartodb's credentials middleware
// does: Basic auth, then api_key or map_key in the query string, then in a JSON body (body, when
// the request had one: carto-python puts its key there).
func (s *Service) authenticate(r *http.Request, body ...[]byte) (*Caller, *wsError) {
	p := httpapi.Params{}
	keyed := false
	if _, pw, ok := r.BasicAuth(); ok && pw != "" {
		keyed = true
	}
	q := r.URL.Query()
	if q.Get("api_key") != "" || q.Get("map_key") != "" {
		keyed = true
	}
	if len(body) > 0 && len(body[0]) > 0 {
		var doc struct {
			APIKey string `json:"api_key"`
			MapKey string `json:"map_key"`
		}
		if json.Unmarshal(body[0], &doc) == nil {
			if doc.APIKey != "" {
				p["api_key"], keyed = doc.APIKey, true
			}
			if doc.MapKey != "" {
				p["map_key"], keyed = doc.MapKey, true
			}
		}
	}
	pr, herr := s.deps.Users.Authenticate(r, p)
	if herr != nil {
		we := &wsError{Status: herr.Status, Message: herr.Message}
		switch herr.Status {
		case http.StatusUnauthorized:
			we.Type, we.Subtype = "auth", "api-key-not-found"
		case http.StatusForbidden:
			we.Type, we.Subtype = "auth", "api-key-username-mismatch"
		}
		return nil, we
	}
	if !pr.Allows("maps") {
		// A regular API key without the maps grant (Windshaft-cartodb's authorization).
		return nil, &wsError{Status: http.StatusForbidden, Message: "Forbidden", Type: "auth", Subtype: "api-key-does-not-grant-access"}
	}
	u, master := pr.User, pr.Master
	role := "public"
	switch {
	case master:
		role = "owner"
	case pr.Key != nil:
		role = "key:" + pr.Key.Role
	}
	return &Caller{User: u.Name, Master: master, Keyed: keyed, DB: s.db, Role: role,
		Acquire: func(ctx context.Context, owner bool) (*pgxpool.Conn, error) {
			if owner || master {
				return u.Acquire(ctx, true)
			}
			return pr.Acquire(ctx) // the public role, or a regular key's own role
		}}, nil
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
