package maps

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"

	"github.com/gocarto/carto/cartolocal/internal/httpapi"
)

// maxConfig bounds a posted MapConfig or template.
const maxConfig = 4 << 20

// handleAnonymous serves POST /map (JSON MapConfig) and GET /map?config=.
func (s *Service) handleAnonymous(w http.ResponseWriter, r *http.Request) {
	if preflight(w, r) {
		return
	}
	var config []byte
	switch r.Method {
	case http.MethodPost:
		if !isJSON(r) {
			writeError(w, r, errorf(400, "POST data must be of type application/json"))
			return
		}
		b, werr := readBody(r)
		if werr != nil {
			writeError(w, r, werr)
			return
		}
		config = b
	case http.MethodGet:
		c := r.URL.Query().Get("config")
		if c == "" {
			writeError(w, r, errorf(400, "Missing layers array from layergroup config"))
			return
		}
		config = []byte(c)
	default:
		w.Header().Set("Allow", "GET, POST, OPTIONS")
		writeError(w, r, errorf(405, "Method not allowed"))
		return
	}
	caller, werr := s.authenticate(r, config)
	if werr != nil {
		writeError(w, r, werr)
		return
	}
	s.create(w, r, caller, config, nil, jsonpCallback(r))
}

// jsonpCallback is a valid ?callback= of a GET, or "".
func jsonpCallback(r *http.Request) string {
	if r.Method != http.MethodGet {
		return ""
	}
	return httpapi.QueryCallback(r)
}

// readBody reads a bounded JSON body.
func readBody(r *http.Request) ([]byte, *wsError) {
	b, err := io.ReadAll(io.LimitReader(r.Body, maxConfig+1))
	if err != nil {
		return nil, errorf(400, "Cannot read the request body")
	}
	if len(b) > maxConfig {
		return nil, errorf(413, fmt.Sprintf("The request body is larger than %d bytes", maxConfig))
	}
	return b, nil
}

// handleAttributes serves /map/:token/:layer/attributes/:fid.
func (s *Service) handleAttributes(w http.ResponseWriter, r *http.Request) {
	if preflight(w, r) {
		return
	}
	caller, werr := s.authenticate(r)
	if werr != nil {
		writeError(w, r, werr)
		return
	}
	lg, buster, werr := s.layergroupOf(r, caller, r.PathValue("token"))
	if werr != nil {
		writeError(w, r, werr)
		return
	}
	w.Header().Set("Carto-Map-Id", lg.md5)
	w.Header().Set("Carto-Cache-Buster", strconv.FormatInt(buster, 10))
	owner, werr := s.tileRole(r, caller, lg)
	if werr != nil {
		writeError(w, r, werr)
		return
	}
	layerName := r.PathValue("layer")
	layers, werr := lg.cfg.filterLayers(layerName, "attributes")
	if werr != nil || len(layers) != 1 {
		if werr == nil {
			werr = errorf(400, fmt.Sprintf("Layer '%s' not found in layergroup", layerName))
		}
		writeError(w, r, werr)
		return
	}
	l := layers[0]
	a := l.Options.Attributes
	if a == nil || a.ID == "" {
		writeError(w, r, errorf(400, fmt.Sprintf("Layer %s has no exposed attributes", layerName)))
		return
	}
	fid := r.PathValue("fid")
	cols := "*"
	if len(a.Columns) > 0 {
		cols = ""
		for i, c := range a.Columns {
			if i > 0 {
				cols += ", "
			}
			cols += quoteIdent(c)
		}
	}
	sql := "SELECT " + cols + " FROM (" + layerSQL(l) + ") AS _windshaft_subquery WHERE " + quoteIdent(a.ID) + " = $1"
	conn, err := caller.Acquire(r.Context(), owner)
	if err != nil {
		writeError(w, r, errorf(500, "Unexpected error"))
		return
	}
	defer conn.Release()
	rows, err := conn.Query(r.Context(), sql, fid)
	if err != nil {
		writeError(w, r, errorf(0, pgMessage(err)))
		return
	}
	var found []map[string]any
	for rows.Next() {
		vals, err := rows.Values()
		if err != nil {
			break
		}
		row := map[string]any{}
		for i, f := range rows.FieldDescriptions() {
			row[f.Name] = vals[i]
		}
		found = append(found, row)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		writeError(w, r, errorf(0, pgMessage(err)))
		return
	}
	if len(found) != 1 {
		writeError(w, r, errorf(404, fmt.Sprintf("Multiple features (%d) identified by '%s' = %s in layer %s", len(found), a.ID, fid, layerName)))
		return
	}
	s.cacheHeaders(r.Context(), w, caller, lg, "")
	// Members in the order the attributes name them.
	var body []byte
	body = append(body, '{')
	names := a.Columns
	if len(names) == 0 {
		for n := range found[0] {
			names = append(names, n)
		}
	}
	for i, n := range names {
		if i > 0 {
			body = append(body, ',')
		}
		k, _ := json.Marshal(n)
		v, err := marshal(found[0][n])
		if err != nil {
			v = []byte("null")
		}
		body = append(append(append(body, k...), ':'), v...)
	}
	body = append(body, '}')
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}

// handleStatic answers static map images: they need Mapnik.
func (s *Service) handleStatic(w http.ResponseWriter, r *http.Request) {
	if preflight(w, r) {
		return
	}
	writeError(w, r, &wsError{Status: 400, Type: "tile", Message: "Static map images need Mapnik and CartoCSS: cartolocal serves vector tiles (mvt) only"})
}
