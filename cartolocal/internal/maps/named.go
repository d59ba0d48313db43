package maps

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/gocarto/carto/cartolocal/internal/httpapi"
	"github.com/gocarto/carto/cartolocal/internal/maptemplate"
)

// requireMaster lets only the master key administer templates, with Windshaft's errors.
func (s *Service) requireMaster(w http.ResponseWriter, r *http.Request, verb string, body []byte) (*Caller, bool) {
	caller, werr := s.authenticate(r, body)
	if werr != nil {
		writeError(w, r, werr)
		return nil, false
	}
	if !caller.Master {
		if !caller.Keyed {
			writeError(w, r, errorf(403, fmt.Sprintf("Only authenticated users can %s templated maps", verb)))
		} else {
			writeError(w, r, &wsError{Status: 403, Message: "Forbidden", Type: "auth", Subtype: "api-key-does-not-grant-access"})
		}
		return nil, false
	}
	return caller, true
}

// templateName accepts Windshaft's user@name and @name ids.
func templateName(id string) string {
	if i := strings.LastIndexByte(id, '@'); i >= 0 {
		return id[i+1:]
	}
	return id
}

// handleNamedCollection serves POST (create) and GET (list) on /map/named.
func (s *Service) handleNamedCollection(w http.ResponseWriter, r *http.Request) {
	if preflight(w, r) {
		return
	}
	switch r.Method {
	case http.MethodPost:
		body, werr := readBody(r)
		if werr != nil {
			writeError(w, r, werr)
			return
		}
		caller, ok := s.requireMaster(w, r, "create", body)
		if !ok {
			return
		}
		if !isJSON(r) {
			writeError(w, r, errorf(400, "POST template data must be of type application/json"))
			return
		}
		t, werr := parseTemplate(body)
		if werr != nil {
			writeError(w, r, werr)
			return
		}
		if err := s.store.createTemplate(r.Context(), caller.User, t.Name, t.Raw); err != nil {
			if err == errDuplicate {
				writeError(w, r, errorf(400, fmt.Sprintf("Template '%s' of user '%s' already exists", t.Name, caller.User)))
				return
			}
			s.deps.Logf("cartolocal: maps: creating template: %v", err)
			writeError(w, r, errorf(500, "Unexpected error"))
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"template_id": t.Name})
	case http.MethodGet:
		caller, ok := s.requireMaster(w, r, "list", nil)
		if !ok {
			return
		}
		names, err := s.store.listTemplates(r.Context(), caller.User)
		if err != nil {
			writeError(w, r, errorf(500, "Unexpected error"))
			return
		}
		writeJSON(w, http.StatusOK, map[string][]string{"template_ids": names})
	default:
		writeError(w, r, errorf(405, "Method not allowed"))
	}
}

// handleNamed serves GET, PUT and DELETE (master key) and POST (instantiate) on
// /map/named/:template_id.
func (s *Service) handleNamed(w http.ResponseWriter, r *http.Request) {
	if preflight(w, r) {
		return
	}
	name := templateName(r.PathValue("name"))
	ctx := r.Context()
	switch r.Method {
	case http.MethodGet:
		caller, ok := s.requireMaster(w, r, "get", nil)
		if !ok {
			return
		}
		body, err := s.store.getTemplate(ctx, caller.User, name)
		if err != nil {
			writeError(w, r, errorf(500, "Unexpected error"))
			return
		}
		if body == nil {
			writeError(w, r, errorf(404, fmt.Sprintf("Cannot find template '%s' of user '%s'", name, caller.User)))
			return
		}
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte(`{"template":`))
		_, _ = w.Write(body)
		_, _ = w.Write([]byte(`}`))
	case http.MethodPut:
		body, werr := readBody(r)
		if werr != nil {
			writeError(w, r, werr)
			return
		}
		caller, ok := s.requireMaster(w, r, "update", body)
		if !ok {
			return
		}
		if !isJSON(r) {
			writeError(w, r, errorf(400, "POST template data must be of type application/json"))
			return
		}
		t, werr := parseTemplate(body)
		if werr != nil {
			writeError(w, r, werr)
			return
		}
		if t.Name != name {
			writeError(w, r, errorf(400, fmt.Sprintf("Cannot update name of a map template ('%s' != '%s')", name, t.Name)))
			return
		}
		found, err := s.store.updateTemplate(ctx, caller.User, name, t.Raw)
		if err != nil {
			writeError(w, r, errorf(500, "Unexpected error"))
			return
		}
		if !found {
			writeError(w, r, errorf(404, fmt.Sprintf("Template '%s' of user '%s' does not exist", name, caller.User)))
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"template_id": name})
	case http.MethodDelete:
		caller, ok := s.requireMaster(w, r, "delete", nil)
		if !ok {
			return
		}
		found, err := s.store.deleteTemplate(ctx, caller.User, name)
		if err != nil {
			writeError(w, r, errorf(500, "Unexpected error"))
			return
		}
		if !found {
			writeError(w, r, errorf(404, fmt.Sprintf("Template '%s' of user '%s' does not exist", name, caller.User)))
			return
		}
		w.WriteHeader(http.StatusNoContent)
	case http.MethodPost:
		if !isJSON(r) {
			writeError(w, r, errorf(400, "template POST data must be of type application/json"))
			return
		}
		params, werr := readBody(r)
		if werr != nil {
			writeError(w, r, werr)
			return
		}
		s.instantiate(w, r, name, params, "")
	default:
		writeError(w, r, errorf(405, "Method not allowed"))
	}
}

// handleNamedJSONP serves GET /map/named/:id/jsonp?callback=&config=&auth_token=.
func (s *Service) handleNamedJSONP(w http.ResponseWriter, r *http.Request) {
	if preflight(w, r) {
		return
	}
	cb := httpapi.QueryCallback(r)
	if httpapi.JSONPCallback(cb) == "" {
		writeError(w, r, errorf(400, "Invalid or missing callback"))
		return
	}
	s.instantiate(w, r, templateName(r.PathValue("name")), []byte(r.URL.Query().Get("config")), cb)
}

// parseTemplate is maptemplate.Parse with its error in Windshaft's dialect.
func parseTemplate(body []byte) (*maptemplate.Template, *wsError) {
	t, err := maptemplate.Parse(body)
	if err != nil {
		return nil, templateError(err)
	}
	return t, nil
}

// instance is t.Instance with its error in Windshaft's dialect.
func instance(t *maptemplate.Template, params []byte) ([]byte, *wsError) {
	config, err := t.Instance(params)
	if err != nil {
		return nil, templateError(err)
	}
	return config, nil
}

// loadTemplate reads and checks a template and its auth for an instantiation or a tile.
func (s *Service) loadTemplate(r *http.Request, caller *Caller, name string) (*maptemplate.Template, *wsError) {
	body, err := s.store.getTemplate(r.Context(), caller.User, name)
	if err != nil {
		return nil, errorf(500, "Unexpected error")
	}
	if body == nil {
		return nil, errorf(404, fmt.Sprintf("Template '%s' of user '%s' not found", name, caller.User))
	}
	t, werr := parseTemplate(body)
	if werr != nil {
		return nil, werr
	}
	// A token template takes only its tokens: Windshaft ignores api_key here (sample 46c).
	if !t.Authorized(r.URL.Query().Get("auth_token")) {
		return nil, errorf(403, "Unauthorized template instantiation")
	}
	return t, nil
}

// instantiate makes a layergroup of a template with params.
func (s *Service) instantiate(w http.ResponseWriter, r *http.Request, name string, params []byte, jsonp string) {
	caller, werr := s.authenticate(r, params)
	if werr != nil {
		writeError(w, r, werr)
		return
	}
	t, werr := s.loadTemplate(r, caller, name)
	if werr != nil {
		writeError(w, r, werr)
		return
	}
	config, werr := instance(t, params)
	if werr != nil {
		writeError(w, r, werr)
		return
	}
	s.create(w, r, caller, config, t, jsonp)
}

// handleNamedTile serves a tile straight from a template: /map/named/:id/:layer/:z/:x/:y.:fmt,
// with placeholder values from ?config=.
func (s *Service) handleNamedTile(w http.ResponseWriter, r *http.Request) {
	if preflight(w, r) {
		return
	}
	caller, werr := s.authenticate(r)
	if werr != nil {
		writeError(w, r, werr)
		return
	}
	t, werr := s.loadTemplate(r, caller, templateName(r.PathValue("name")))
	if werr != nil {
		writeError(w, r, werr)
		return
	}
	config, werr := instance(t, []byte(r.URL.Query().Get("config")))
	if werr != nil {
		writeError(w, r, werr)
		return
	}
	cfg, werr := parseMapConfig(config)
	if werr != nil {
		writeError(w, r, werr)
		return
	}
	token := caller.User + "@" + t.Hash8() + "@" + hashConfig(cfg.raw, caller, true)
	lg, err := s.lookup(r.Context(), caller.User, token)
	if err != nil || lg == nil {
		// Not made before: validate and remember it as an instance would be.
		lg, werr = newLayergroup(caller.User, token, cfg.raw, t.Name, nil)
		if werr != nil {
			writeError(w, r, werr)
			return
		}
		metas, werr := s.validate(r.Context(), caller, true, lg)
		if werr != nil {
			writeError(w, r, werr)
			return
		}
		lg.tables = tablesOf(cfg, metas)
		if err := s.store.saveLayergroup(r.Context(), caller.User, token, string(cfg.raw), t.Name, lg.tables); err != nil {
			writeError(w, r, errorf(500, "Unexpected error"))
			return
		}
		s.remember(lg)
	}
	w.Header().Set("Carto-Template-Hash", t.Hash8())
	s.serveTile(w, r, caller, lg, true, r.PathValue("layer"), 0, "n:"+shortHash(caller.User+":"+t.Name))
}
