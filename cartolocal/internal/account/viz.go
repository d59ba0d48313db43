package account

import (
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/go-json-experiment/json"

	"github.com/gocarto/carto/cartolocal/internal/httpapi"
	"github.com/gocarto/carto/cartolocal/internal/registry"
)

// vizOrders are the index's valid orders, as Rails lists them in its error message.
var vizOrders = []string{"name", "updated_at", "size", "mapviews", "favorited", "estimated_row_count", "privacy", "dependent_visualizations"}

// handleVizCollection serves GET (index) and POST (create a map from tables) /api/v1/viz.
func (s *Server) handleVizCollection(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		s.listViz(w, r)
	case http.MethodPost:
		s.createMap(w, r)
	default:
		methodNotAllowed(w)
	}
}

// handleViz serves GET, PUT and DELETE /api/v1/viz/:id.
func (s *Server) handleViz(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		s.showViz(w, r)
	case http.MethodPut, http.MethodPatch:
		s.updateViz(w, r)
	case http.MethodDelete:
		s.deleteViz(w, r)
	default:
		methodNotAllowed(w)
	}
}

func rubySymbols(list []string) string {
	q := make([]string, len(list))
	for i, v := range list {
		q[i] = ":" + v
	}
	return "[" + strings.Join(q, ", ") + "]"
}

// listViz is the index: CARTO's filters, orders and paging. Without the master key only the
// account's public visualizations are listed, as Rails lists them to a visitor.
func (s *Server) listViz(w http.ResponseWriter, r *http.Request) {
	q, ok := s.authenticate(w, r)
	if !ok {
		return
	}
	page, ok := intParam(q, "page", 1)
	if !ok {
		writeError(w, http.StatusBadRequest, "Wrong 'page' parameter value.")
		return
	}
	perPage, ok := intParam(q, "per_page", 20)
	if !ok {
		writeError(w, http.StatusBadRequest, "Wrong 'per_page' parameter value.")
		return
	}
	order, _ := q.p.Str("order")
	if order == "" {
		order = "updated_at"
	}
	if !slices.Contains(vizOrders, order) {
		writeError(w, http.StatusBadRequest, "Wrong 'order' parameter value. Valid values are one of "+rubySymbols(vizOrders))
		return
	}
	dir, _ := q.p.Str("order_direction")
	if dir == "" {
		dir = "desc"
	}
	if dir != "asc" && dir != "desc" {
		writeError(w, http.StatusBadRequest, "Wrong 'order_direction' parameter value. Valid values are one of [:asc, :desc]")
		return
	}
	f := registry.Filter{Order: order, Asc: dir == "asc", Page: page, PerPage: perPage}
	types := q.p.List("types")
	if len(types) == 0 {
		types = q.p.List("type")
	}
	if len(types) == 0 {
		types = []string{registry.TypeDerived}
	}
	for _, t := range types {
		if t == registry.TypeTable || t == registry.TypeDerived {
			f.Types = append(f.Types, t)
		}
	}
	f.Q, _ = q.p.Str("q")
	f.Tags = q.p.List("tags")
	for _, p := range q.p.List("privacy") {
		f.Privacy = append(f.Privacy, strings.ToLower(p))
	}
	if !q.master() {
		f.Privacy = intersectOrPublic(f.Privacy)
	}
	// Visualizations of other users shared with this one, likes and locks are CARTO features
	// cartolocal has none of: asking only for them finds nothing.
	for _, none := range []string{"only_shared", "only_liked", "locked"} {
		if v, _ := q.p.Str(none); v == "true" {
			f.Types = nil
		}
	}
	if v, _ := q.p.Str("shared"); v == "only" {
		f.Types = nil
	}
	var (
		list  []registry.Visualization
		total int
		err   error
	)
	if len(f.Types) > 0 {
		list, total, err = s.d.Registry.List(r.Context(), q.who.User.Name, f)
		if err != nil {
			writeError(w, http.StatusInternalServerError, err.Error())
			return
		}
	}
	opts := presentOptionsOf(q)
	out := struct {
		Visualizations   []vizJSON `json:"visualizations"`
		TotalEntries     int       `json:"total_entries"`
		TotalUserEntries *int      `json:"total_user_entries,omitzero"`
		TotalLikes       *int      `json:"total_likes,omitzero"`
		TotalShared      *int      `json:"total_shared,omitzero"`
		TotalLocked      *int      `json:"total_locked,omitzero"`
	}{Visualizations: []vizJSON{}, TotalEntries: total}
	for _, v := range list {
		vj, err := s.present(r.Context(), r, q.who.User, v, opts)
		if err != nil {
			writeError(w, http.StatusInternalServerError, err.Error())
			return
		}
		out.Visualizations = append(out.Visualizations, vj)
	}
	if lt, _ := q.p.Str("load_totals"); q.master() && lt != "false" {
		userTotal := 0
		if len(f.Types) > 0 {
			_, userTotal, err = s.d.Registry.List(r.Context(), q.who.User.Name, registry.Filter{Types: f.Types, PerPage: 1})
			if err != nil {
				writeError(w, http.StatusInternalServerError, err.Error())
				return
			}
		}
		zero := 0
		out.TotalUserEntries, out.TotalLikes, out.TotalShared, out.TotalLocked = &userTotal, &zero, &zero, &zero
	}
	writeJSON(w, http.StatusOK, out)
}

// intersectOrPublic restricts a privacy filter to public visualizations.
func intersectOrPublic(asked []string) []string {
	if len(asked) == 0 || slices.Contains(asked, registry.PrivacyPublic) {
		return []string{registry.PrivacyPublic}
	}
	return []string{"none"} // asked only for what a visitor cannot see
}

func presentOptionsOf(q *request) presentOptions {
	n, _ := intParam(q, "with_dependent_visualizations", 0)
	fu, _ := q.p.Str("fetch_user")
	return presentOptions{dependents: n, fetchUser: fu == "true"}
}

// loadViz finds the visualization of the URL, as load_visualization does: by id or name (or
// "schema.name"), 404 "Visualization does not exist" when there is none, and one a visitor may
// not see (private, password) is 403 "Visualization not viewable".
func (s *Server) loadViz(w http.ResponseWriter, r *http.Request, q *request) (registry.Visualization, bool) {
	id := httpapi.PathValue(r, "id")
	v, err := s.d.Registry.Get(r.Context(), q.who.User.Name, id)
	if errors.Is(err, registry.ErrNotFound) {
		writeErrors(w, http.StatusNotFound, "Visualization does not exist")
		return v, false
	}
	if err != nil {
		writeErrors(w, http.StatusInternalServerError, err.Error())
		return v, false
	}
	if !q.master() && v.Privacy != registry.PrivacyPublic && v.Privacy != registry.PrivacyLink {
		writeErrors(w, http.StatusForbidden, "Visualization not viewable")
		return v, false
	}
	return v, true
}

func (s *Server) showViz(w http.ResponseWriter, r *http.Request) {
	q, ok := s.authenticate(w, r)
	if !ok {
		return
	}
	v, ok := s.loadViz(w, r, q)
	if !ok {
		return
	}
	vj, err := s.present(r.Context(), r, q.who.User, v, presentOptionsOf(q))
	if err != nil {
		head(w, http.StatusNotFound) // show answers any presenter failure with 404
		return
	}
	writeJSON(w, http.StatusOK, vj)
}

// updateViz applies the attributes Rails lets through (name, privacy, description, tags); the
// body's id must be the URL's.
func (s *Server) updateViz(w http.ResponseWriter, r *http.Request) {
	q, ok := s.authenticate(w, r)
	if !ok {
		return
	}
	if !q.master() {
		head(w, http.StatusUnauthorized)
		return
	}
	v, ok := s.loadViz(w, r, q)
	if !ok {
		return
	}
	if id, _ := q.p.Str("id"); id != v.ID {
		head(w, http.StatusForbidden)
		return
	}
	var p registry.Patch
	if name, ok := q.p.Str("name"); ok {
		p.Name = &name
	}
	if priv, ok := q.p.Str("privacy"); ok {
		p.Privacy = &priv
	}
	if d, ok := q.p["description"]; ok {
		desc, _ := d.(string) // null clears it
		p.Description = &desc
	}
	if t, ok := q.p["tags"]; ok {
		tags := []string{}
		if list, ok := t.([]any); ok {
			for _, e := range list {
				if s, ok := e.(string); ok {
					tags = append(tags, s)
				}
			}
		}
		p.Tags = &tags
	}
	nv, err := s.d.Registry.Update(r.Context(), q.who.User.Name, v.ID, p)
	switch {
	case errors.Is(err, registry.ErrBadPrivacy):
		writeErrorList(w, http.StatusForbidden, "Privacy is not included in the list")
		return
	case errors.Is(err, registry.ErrNameTaken):
		writeErrorList(w, http.StatusBadRequest, "Name has already been taken")
		return
	case errors.Is(err, registry.ErrInvalidName):
		writeErrorList(w, http.StatusBadRequest, "Name is invalid")
		return
	case err != nil:
		s.d.Logf("cartolocal: updating visualization %s: %v", v.ID, err)
		writeErrorList(w, http.StatusBadRequest, "Error updating")
		return
	}
	vj, err := s.present(r.Context(), r, q.who.User, nv, presentOptionsOf(q))
	if err != nil {
		writeErrorList(w, http.StatusBadRequest, "Error updating")
		return
	}
	writeJSON(w, http.StatusOK, vj)
}

// deleteViz deletes a map, or a dataset with its table and its fully dependent maps: 204.
func (s *Server) deleteViz(w http.ResponseWriter, r *http.Request) {
	q, ok := s.authenticate(w, r)
	if !ok {
		return
	}
	if !q.master() {
		head(w, http.StatusUnauthorized)
		return
	}
	v, ok := s.loadViz(w, r, q)
	if !ok {
		return
	}
	if err := s.d.Registry.Delete(r.Context(), q.who.User.Name, v.ID); err != nil {
		s.d.Logf("cartolocal: deleting visualization %s: %v", v.ID, err)
		writeErrorList(w, http.StatusBadRequest, err.Error())
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// createMap is POST /api/v1/viz with {"name", "tables": [names or ids], "description", "tags",
// "privacy"} (Rails' "create from tables"), or {"source_visualization_id"} to copy one. The answer
// is the new map, 200 as Rails renders it.
func (s *Server) createMap(w http.ResponseWriter, r *http.Request) {
	q, ok := s.authenticate(w, r)
	if !ok {
		return
	}
	if !q.master() {
		head(w, http.StatusUnauthorized)
		return
	}
	spec := registry.MapSpec{}
	spec.Name, _ = q.p.Str("name")
	spec.Description, _ = q.p.Str("description")
	spec.Privacy, _ = q.p.Str("privacy")
	spec.Tags = q.p.List("tags")
	spec.Tables = q.p.List("tables")
	if src, ok := q.p.Str("source_visualization_id"); ok && src != "" {
		orig, err := s.d.Registry.Get(r.Context(), q.who.User.Name, src)
		if err != nil {
			writeErrors(w, http.StatusNotFound, "Visualization does not exist")
			return
		}
		spec.Tables = orig.Tables
		if orig.Type == registry.TypeDerived {
			spec.Definition = orig.Definition
		}
		if spec.Name == "" {
			spec.Name = orig.Name + " (copy)"
		}
	}
	if def, ok := q.p["definition"]; ok {
		b, err := json.Marshal(def)
		if err == nil {
			spec.Definition = b
		}
	}
	if len(spec.Tables) == 0 {
		writeErrorList(w, http.StatusBadRequest, "Tables can't be blank")
		return
	}
	v, err := s.d.Registry.CreateMap(r.Context(), q.who.User.Name, spec)
	switch {
	case errors.Is(err, registry.ErrNoTable):
		writeErrors(w, http.StatusNotFound, strings.TrimPrefix(err.Error(), "registry: create map: "))
		return
	case errors.Is(err, registry.ErrBadPrivacy):
		writeErrorList(w, http.StatusBadRequest, "Privacy is not included in the list")
		return
	case err != nil:
		writeErrorList(w, http.StatusBadRequest, err.Error())
		return
	}
	vj, err := s.present(r.Context(), r, q.who.User, v, presentOptionsOf(q))
	if err != nil {
		writeErrorList(w, http.StatusBadRequest, err.Error())
		return
	}
	writeJSON(w, http.StatusOK, vj)
}
