// Package authapi serves CARTO's Auth API, /api/v3/api_keys (protocol/maps-imports.md §4.5), on
// cartolocal: the account's master and default public keys, and regular keys with grants, each
// owning a PostgreSQL role (internal/apikeys). Answers and errors are Rails'
// (app/controllers/carto/api/api_keys_controller.rb, api_key_presenter.rb).
package authapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/gocarto/carto/cartolocal/internal/apikeys"
	"github.com/gocarto/carto/cartolocal/internal/httpapi"
	"github.com/gocarto/carto/cartolocal/internal/users"
)

// Orgs tells the organization an account belongs to and its admin, for target_user.
type Orgs interface {
	AdminOf(ctx context.Context, user string) (org, admin string, err error)
}

// Deps are what the Auth API needs from the server.
type Deps struct {
	Users *users.Directory
	Keys  *apikeys.Store
	Orgs  Orgs // nil: no organizations
	Logf  func(string, ...any)
}

// Server serves the Auth API.
type Server struct{ d Deps }

// New returns the Auth API server.
func New(d Deps) *Server {
	if d.Logf == nil {
		d.Logf = func(string, ...any) {}
	}
	return &Server{d: d}
}

// Register mounts the Auth API under both of CARTO's URL forms.
func (s *Server) Register(mux *http.ServeMux) {
	httpapi.Mount(mux, "/api/v3/api_keys", s.handleCollection)
	httpapi.Mount(mux, "/api/v3/api_keys/{$}", s.handleCollection)
	httpapi.Mount(mux, "/api/v3/api_keys/{name}", s.handleKey)
	httpapi.Mount(mux, "/api/v3/api_keys/{name}/{$}", s.handleKey)
	httpapi.Mount(mux, "/api/v3/api_keys/{name}/token/regenerate", s.handleRegenerate)
}

// keyJSON is ApiKeyPresenter#to_poro (plus _links in the index).
type keyJSON struct {
	Name      string     `json:"name"`
	User      userRef    `json:"user"`
	Type      string     `json:"type"`
	Token     string     `json:"token"`
	Grants    []any      `json:"grants"`
	CreatedAt string     `json:"created_at"`
	UpdatedAt string     `json:"updated_at"`
	Links     *selfLinks `json:"_links,omitzero"`
}

type userRef struct {
	Username string `json:"username"`
}

type selfLinks struct {
	Self string `json:"self"`
}

type href struct {
	Href string `json:"href"`
}

// rubyTime is ActiveSupport's TimeWithZone#to_s in UTC, as the presenter writes times.
func rubyTime(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05") + " UTC" }

// key is one key of any type, as the index orders and the presenter shows them.
type key struct {
	typ, name, token string
	grants           apikeys.Grants
	created, updated time.Time
}

var (
	allAPIs     = []string{"sql", "maps"}
	allServices = []string{"geocoding", "routing", "isolines", "observatory"}
)

// accountKeys are the master and default public keys every account has, which cartolocal keeps
// with the account itself.
func accountKeys(u *users.User, created time.Time) []key {
	return []key{
		{typ: apikeys.TypeMaster, name: apikeys.NameMaster, token: u.MasterKey, created: created, updated: created,
			grants: apikeys.Grants{APIs: allAPIs, Services: allServices, UserData: []string{"profile"}}},
		{typ: apikeys.TypeDefault, name: apikeys.NameDefaultPublic, token: users.PublicToken, created: created, updated: created,
			grants: apikeys.Grants{APIs: allAPIs}},
	}
}

func regular(k apikeys.Key) key {
	return key{typ: apikeys.TypeRegular, name: k.Name, token: k.Token, grants: k.Grants, created: k.CreatedAt, updated: k.UpdatedAt}
}

// The grant sections, in the presenter's key order.
type (
	apisGrant struct {
		Type string   `json:"type"`
		APIs []string `json:"apis"`
	}
	databaseGrant struct {
		Type          string        `json:"type"`
		Tables        []tableGrant  `json:"tables"`
		Schemas       []schemaGrant `json:"schemas"`
		TableMetadata *[]any        `json:"table_metadata,omitzero"`
	}
	tableGrant struct {
		Schema      string   `json:"schema"`
		Name        string   `json:"name"`
		Owner       bool     `json:"owner"`
		Permissions []string `json:"permissions"`
	}
	schemaGrant struct {
		Name        string   `json:"name"`
		Permissions []string `json:"permissions"`
	}
	servicesGrant struct {
		Type     string   `json:"type"`
		Services []string `json:"services"`
	}
	datasetsGrant struct {
		Type     string   `json:"type"`
		Datasets []string `json:"datasets"`
	}
)

// present writes a key's grants as the presenter does: apis, then database (empty for the master
// and default keys), then dataservices and data-observatory when granted.
func present(user string, k key) keyJSON {
	db := databaseGrant{Type: "database", Tables: []tableGrant{}, Schemas: []schemaGrant{}}
	if k.typ == apikeys.TypeRegular {
		for _, t := range k.grants.Tables {
			db.Tables = append(db.Tables, tableGrant{Schema: t.Schema, Name: t.Name, Owner: t.Owner, Permissions: t.Permissions})
		}
		for _, sg := range k.grants.Schemas {
			db.Schemas = append(db.Schemas, schemaGrant{Name: sg.Name, Permissions: sg.Permissions})
		}
	}
	if k.grants.Metadata {
		db.TableMetadata = &[]any{}
	}
	apis := k.grants.APIs
	if apis == nil {
		apis = []string{}
	}
	grants := []any{apisGrant{Type: "apis", APIs: apis}, db}
	if len(k.grants.Services) > 0 {
		grants = append(grants, servicesGrant{Type: "dataservices", Services: k.grants.Services})
	}
	if len(k.grants.Datasets) > 0 {
		grants = append(grants, datasetsGrant{Type: "data-observatory", Datasets: k.grants.Datasets})
	}
	return keyJSON{Name: k.name, User: userRef{Username: user}, Type: k.typ, Token: k.token, Grants: grants,
		CreatedAt: rubyTime(k.created), UpdatedAt: rubyTime(k.updated)}
}

// caller is an authenticated Auth API request.
type caller struct {
	p      httpapi.Params
	who    *users.Principal
	target *users.User // the account whose keys are managed: the caller's, or target_user's
	token  string      // the key the request came with
}

// isMaster reports whether the caller holds the target account's master key (an organization
// admin's own master key for target_user).
func (c *caller) isMaster() bool { return c.who.Master }

// authenticate reads the key as Warden's AuthApiAuthentication does: Basic auth or api_key. No
// key, or a bad one, is Rails' empty 401.
func (s *Server) authenticate(w http.ResponseWriter, r *http.Request) (*caller, bool) {
	p, perr := httpapi.ReadParams(r)
	if perr != nil {
		writeErrors(w, perr.Status, perr.Message)
		return nil, false
	}
	who, aerr := s.d.Users.Authenticate(r, p)
	if aerr != nil {
		head(w, http.StatusUnauthorized)
		return nil, false
	}
	token := ""
	if _, bp, ok := r.BasicAuth(); ok {
		token = bp
	} else if v, ok := p.Str("api_key"); ok {
		token = v
	}
	if token == "" {
		head(w, http.StatusUnauthorized)
		return nil, false
	}
	c := &caller{p: p, who: who, target: who.User, token: token}
	if tu, ok := p.Str("target_user"); ok && tu != "" && tu != who.User.Name {
		// Organization admins manage other members' keys.
		if s.d.Orgs == nil || !who.Master {
			writeErrors(w, http.StatusForbidden, "You don't have permission to access that resource")
			return nil, false
		}
		org, admin, err := s.d.Orgs.AdminOf(r.Context(), who.User.Name)
		if err != nil || admin != who.User.Name {
			writeErrors(w, http.StatusForbidden, "You don't have permission to access that resource")
			return nil, false
		}
		tOrg, _, err := s.d.Orgs.AdminOf(r.Context(), tu)
		u, exists := s.d.Users.Get(tu)
		if err != nil || tOrg != org || !exists {
			writeErrors(w, http.StatusNotFound, fmt.Sprintf("User '%s' not found in the organization '%s'", tu, org))
			return nil, false
		}
		c.target = u
	}
	return c, true
}

func (s *Server) handleCollection(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		s.index(w, r)
	case http.MethodPost:
		s.create(w, r)
	default:
		head(w, http.StatusNotFound)
	}
}

func (s *Server) handleKey(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		s.show(w, r)
	case http.MethodDelete:
		s.destroy(w, r)
	default:
		head(w, http.StatusNotFound)
	}
}

func (s *Server) account(u *users.User) apikeys.Account {
	return apikeys.Account{Name: u.Name, Schema: u.Schema, OwnerRole: u.Role, PublicRole: users.PublicRole}
}

// create is POST /api/v3/api_keys {"name", "grants"}: 201 with the key, 422 with CARTO's
// validation messages.
func (s *Server) create(w http.ResponseWriter, r *http.Request) {
	c, ok := s.authenticate(w, r)
	if !ok {
		return
	}
	if !c.isMaster() {
		head(w, http.StatusUnauthorized)
		return
	}
	name, _ := c.p.Str("name")
	var grants jsontext.Value
	if g, ok := c.p["grants"]; ok && g != nil {
		b, err := json.Marshal(g)
		if err == nil {
			grants = b
		}
	}
	k, err := s.d.Keys.Create(r.Context(), s.account(c.target), name, grants)
	var ve *apikeys.ValidationError
	if errors.As(err, &ve) {
		writeErrors(w, http.StatusUnprocessableEntity, ve.Error())
		return
	}
	if err != nil {
		s.d.Logf("cartolocal: creating API key: %v", err)
		writeErrors(w, http.StatusUnprocessableEntity, "Unexpected error")
		return
	}
	writeJSON(w, http.StatusCreated, present(c.target.Name, regular(k)))
}

// load finds the key of the URL as load_api_key does: the master and default keys by their names,
// regular ones from the store; a non-master caller sees only its own key.
func (s *Server) load(w http.ResponseWriter, r *http.Request, c *caller) (key, bool) {
	name := httpapi.PathValue(r, "name")
	notFound := func() (key, bool) {
		writeErrors(w, http.StatusNotFound, "API key not found: "+name)
		return key{}, false
	}
	var k key
	switch name {
	case apikeys.NameMaster, apikeys.NameDefaultPublic:
		created, err := s.created(r.Context(), c.target)
		if err != nil {
			writeErrors(w, http.StatusInternalServerError, err.Error())
			return key{}, false
		}
		for _, ak := range accountKeys(c.target, created) {
			if ak.name == name {
				k = ak
			}
		}
	default:
		rk, err := s.d.Keys.Get(r.Context(), c.target.Name, name)
		if errors.Is(err, apikeys.ErrNotFound) {
			return notFound()
		}
		if err != nil {
			writeErrors(w, http.StatusInternalServerError, err.Error())
			return key{}, false
		}
		k = regular(rk)
	}
	if !c.isMaster() && k.token != c.token && !(k.typ == apikeys.TypeDefault && c.who.Key == nil) {
		return notFound()
	}
	return k, true
}

// created is when the account was made, which its own keys date from.
func (s *Server) created(ctx context.Context, u *users.User) (time.Time, error) {
	var t time.Time
	err := s.d.Keys.Admin().QueryRow(ctx, "SELECT created_at FROM cartolocal.users WHERE name = $1", u.Name).Scan(&t)
	return t, err
}

func (s *Server) show(w http.ResponseWriter, r *http.Request) {
	c, ok := s.authenticate(w, r)
	if !ok {
		return
	}
	if k, ok := s.load(w, r, c); ok {
		writeJSON(w, http.StatusOK, present(c.target.Name, k))
	}
}

// destroy deletes a regular key and its role: 204; the account's own keys cannot be deleted (403).
func (s *Server) destroy(w http.ResponseWriter, r *http.Request) {
	c, ok := s.authenticate(w, r)
	if !ok {
		return
	}
	if !c.isMaster() {
		head(w, http.StatusUnauthorized)
		return
	}
	k, ok := s.load(w, r, c)
	if !ok {
		return
	}
	if k.typ != apikeys.TypeRegular {
		writeErrors(w, http.StatusForbidden, "You don't have permission to access that resource")
		return
	}
	rk, err := s.d.Keys.Get(r.Context(), c.target.Name, k.name)
	if err == nil {
		err = s.d.Keys.Delete(r.Context(), s.account(c.target), k.name)
	}
	if err != nil {
		s.d.Logf("cartolocal: deleting API key: %v", err)
		writeErrors(w, http.StatusUnprocessableEntity, "Unexpected error")
		return
	}
	c.target.ForgetKey(rk.Role)
	w.WriteHeader(http.StatusNoContent)
}

// handleRegenerate is POST /api/v3/api_keys/:name/token/regenerate: the key with a new token. The
// master key's regeneration changes the account's master key, as CARTO's does.
func (s *Server) handleRegenerate(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		head(w, http.StatusNotFound)
		return
	}
	c, ok := s.authenticate(w, r)
	if !ok {
		return
	}
	if !c.isMaster() {
		head(w, http.StatusUnauthorized)
		return
	}
	k, ok := s.load(w, r, c)
	if !ok {
		return
	}
	switch k.typ {
	case apikeys.TypeDefault:
		writeErrors(w, http.StatusUnprocessableEntity, "Validation failed: Token must be default_public for default public keys")
		return
	case apikeys.TypeMaster:
		u, err := s.d.Users.Add(r.Context(), users.Config{Name: c.target.Name, MasterKey: apikeys.NewToken(), PublicKey: c.target.PublicKey})
		if err != nil {
			writeErrors(w, http.StatusInternalServerError, err.Error())
			return
		}
		k.token, k.updated = u.MasterKey, time.Now()
	default:
		rk, err := s.d.Keys.Regenerate(r.Context(), c.target.Name, k.name)
		if err != nil {
			writeErrors(w, http.StatusInternalServerError, err.Error())
			return
		}
		k = regular(rk)
	}
	writeJSON(w, http.StatusOK, present(c.target.Name, k))
}

var validTypes = []string{apikeys.TypeMaster, apikeys.TypeDefault, apikeys.TypeRegular}

// index lists the keys, master first, then default, then regular ones, paged, with _links; a
// non-master caller sees only its own key.
func (s *Server) index(w http.ResponseWriter, r *http.Request) {
	c, ok := s.authenticate(w, r)
	if !ok {
		return
	}
	page, perPage := 1, 20
	for _, pp := range []struct {
		name string
		v    *int
	}{{"page", &page}, {"per_page", &perPage}} {
		if v, ok := c.p.Str(pp.name); ok && v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n <= 0 {
				writeErrors(w, http.StatusBadRequest, "Wrong '"+pp.name+"' parameter value.")
				return
			}
			*pp.v = n
		}
	}
	order, _ := c.p.Str("order")
	if order == "" {
		order = "updated_at"
	}
	if !slices.Contains([]string{"type", "name", "updated_at"}, order) {
		writeErrors(w, http.StatusBadRequest, "Wrong 'order' parameter value. Valid values are one of [:type, :name, :updated_at]")
		return
	}
	desc := true
	if d, _ := c.p.Str("order_direction"); d == "asc" {
		desc = false
	} else if d != "" && d != "desc" {
		writeErrors(w, http.StatusBadRequest, "Wrong 'order_direction' parameter value. Valid values are one of [:asc, :desc]")
		return
	}
	var types []string
	if t, _ := c.p.Str("type"); t != "" {
		for _, v := range strings.Split(t, ",") {
			v = strings.TrimSpace(v)
			if !slices.Contains(validTypes, v) {
				writeErrors(w, http.StatusBadRequest, `Wrong 'type' parameter value. Valid values are one of ["master", "default", "regular"]`)
				return
			}
			types = append(types, v)
		}
	}
	created, err := s.created(r.Context(), c.target)
	if err != nil {
		writeErrors(w, http.StatusInternalServerError, err.Error())
		return
	}
	regulars, err := s.d.Keys.List(r.Context(), c.target.Name, order, desc)
	if err != nil {
		writeErrors(w, http.StatusInternalServerError, err.Error())
		return
	}
	all := accountKeys(c.target, created)
	for _, k := range regulars {
		all = append(all, regular(k))
	}
	var keys []key
	for _, k := range all {
		if len(types) > 0 && !slices.Contains(types, k.typ) {
			continue
		}
		if !c.isMaster() && k.token != c.token && !(k.typ == apikeys.TypeDefault && c.who.Key == nil && !c.who.Master) {
			continue
		}
		keys = append(keys, k)
	}
	base := baseURL(r, c.target.Name) + "/api/v3/api_keys"
	total := len(keys)
	from := min((page-1)*perPage, total)
	to := min(from+perPage, total)
	result := []keyJSON{}
	for _, k := range keys[from:to] {
		kj := present(c.target.Name, k)
		kj.Links = &selfLinks{Self: base + "/" + url.QueryEscape(k.name)}
		result = append(result, kj)
	}
	last := (total + perPage - 1) / perPage
	link := func(p int) href {
		q := url.Values{"page": {strconv.Itoa(p)}, "per_page": {strconv.Itoa(perPage)}}
		if len(types) > 0 {
			q.Set("type", strings.Join(types, ","))
		}
		if o, _ := c.p.Str("order"); o != "" {
			q.Set("order", o)
		}
		return href{Href: base + "?" + q.Encode()}
	}
	links := struct {
		First href  `json:"first"`
		Last  href  `json:"last"`
		Prev  *href `json:"prev,omitzero"`
		Next  *href `json:"next,omitzero"`
	}{First: link(1), Last: link(last)}
	if page > 1 {
		p := link(page - 1)
		links.Prev = &p
	}
	if last > page {
		n := link(page + 1)
		links.Next = &n
	}
	writeJSON(w, http.StatusOK, struct {
		Total  int       `json:"total"`
		Count  int       `json:"count"`
		Result []keyJSON `json:"result"`
		Links  any       `json:"_links"`
	}{Total: total, Count: len(result), Result: result, Links: links})
}

// The Rails dialect's answers, shorter to call.

func writeErrors(w http.ResponseWriter, status int, msg string) {
	httpapi.WriteRails(w, status, httpapi.RailsCartoError(msg))
}

func head(w http.ResponseWriter, status int) { httpapi.WriteRails(w, status, nil) }

func writeJSON(w http.ResponseWriter, status int, v any) { httpapi.WriteRailsValue(w, status, v) }

// baseURL is the account's URL as the request reached it.
func baseURL(r *http.Request, user string) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host + "/user/" + user
}
