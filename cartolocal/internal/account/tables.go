package account

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/gocarto/carto/cartolocal/internal/httpapi"
	"github.com/gocarto/carto/cartolocal/internal/registry"
	"github.com/gocarto/carto/cartolocal/internal/users"
)

// tableDetail is TablePresenter's full view (GET /api/v1/tables/:id).
type tableDetail struct {
	ID                         string     `json:"id"`
	Name                       string     `json:"name"`
	Privacy                    string     `json:"privacy"`
	Schema                     [][]string `json:"schema"`
	UpdatedAt                  railsTime  `json:"updated_at"`
	RowsCounted                int64      `json:"rows_counted"`
	RowCount                   int64      `json:"row_count"`
	TableSize                  int64      `json:"table_size"`
	Size                       int64      `json:"size"`
	MapID                      string     `json:"map_id"`
	Description                string     `json:"description"`
	GeometryTypes              []string   `json:"geometry_types"`
	TableVisualization         vizJSON    `json:"table_visualization"`
	DependentVisualizations    []depJSON  `json:"dependent_visualizations"`
	NonDependentVisualizations []depJSON  `json:"non_dependent_visualizations"`
	Synchronization            *struct{}  `json:"synchronization"`
}

// handleTable serves GET /api/v1/tables/:id (a dataset's id, or its table's name).
func (s *Server) handleTable(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		methodNotAllowed(w)
		return
	}
	q, ok := s.authenticate(w, r)
	if !ok {
		return
	}
	if !q.master() {
		head(w, http.StatusUnauthorized)
		return
	}
	u := q.who.User
	v, err := s.d.Registry.Get(r.Context(), u.Name, httpapi.PathValue(r, "id"), registry.TypeTable)
	if errors.Is(err, registry.ErrNotFound) {
		head(w, http.StatusNotFound)
		return
	}
	if err != nil {
		writeErrors(w, http.StatusInternalServerError, err.Error())
		return
	}
	d, err := s.tableDetail(r.Context(), r, u, v)
	if err != nil {
		writeErrors(w, http.StatusInternalServerError, err.Error())
		return
	}
	writeJSON(w, http.StatusOK, d)
}

func (s *Server) tableDetail(ctx context.Context, r *http.Request, u *users.User, v registry.Visualization) (tableDetail, error) {
	vj, err := s.present(ctx, r, u, v, presentOptions{})
	if err != nil {
		return tableDetail{}, err
	}
	st, err := s.stats(ctx, u.Schema, v.Table)
	if err != nil {
		return tableDetail{}, err
	}
	cols, err := s.tableSchema(ctx, u.Schema, v.Table, st.geomTypes)
	if err != nil {
		return tableDetail{}, err
	}
	deps, err := s.d.Registry.Dependents(ctx, u.Name, v.Table)
	if err != nil {
		return tableDetail{}, err
	}
	owner := s.owner(r, u)
	dj := []depJSON{}
	for _, d := range deps {
		dj = append(dj, depJSON{ID: d.ID, Name: d.Name, UpdatedAt: railsTime(d.UpdatedAt), Permission: permission(owner, d), AuthTokens: []string{}})
	}
	return tableDetail{
		ID: v.ID, Name: v.Table, Privacy: strings.ToUpper(v.Privacy), Schema: cols, UpdatedAt: railsTime(v.UpdatedAt),
		RowsCounted: st.rows, RowCount: st.rows, TableSize: st.size, Size: st.size, MapID: vj.MapID,
		Description: v.Description, GeometryTypes: st.geomTypes, TableVisualization: vj,
		DependentVisualizations: dj, NonDependentVisualizations: []depJSON{},
	}, nil
}

// tableSchema lists a table's columns as CARTO's table presenter does: CARTO type names,
// cartodb_id and the_geom first, created_at and updated_at last, the_geom_webmercator left out;
// a geometry column carries "geometry" and its lower-case type ("point").
func (s *Server) tableSchema(ctx context.Context, schema, table string, geomTypes []string) ([][]string, error) {
	rows, err := s.d.Admin.Query(ctx, `
SELECT a.attname::text, format_type(a.atttypid, a.atttypmod), t.typname::text,
	coalesce(lower((SELECT g.type FROM geometry_columns g WHERE g.f_table_schema = $1 AND g.f_table_name = $2 AND g.f_geometry_column = a.attname)), '')
FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
WHERE a.attrelid = format('%I.%I', $1::text, $2::text)::regclass AND a.attnum > 0 AND NOT a.attisdropped
	AND a.attname <> 'the_geom_webmercator'
ORDER BY CASE a.attname WHEN 'cartodb_id' THEN 0 WHEN 'the_geom' THEN 1 WHEN 'created_at' THEN 3 WHEN 'updated_at' THEN 4 ELSE 2 END, a.attnum`, schema, table)
	if err != nil {
		return nil, fmt.Errorf("account: columns of %s.%s: %w", schema, table, err)
	}
	defer rows.Close()
	out := [][]string{}
	for rows.Next() {
		var name, full, typ, geom string
		if err := rows.Scan(&name, &full, &typ, &geom); err != nil {
			return nil, err
		}
		if typ == "geometry" || typ == "geography" {
			if geom == "" || geom == "geometry" {
				// A column of any geometry: named after what it holds, as CARTO's presenter does.
				geom = "geometry"
				if len(geomTypes) == 1 {
					geom = strings.ToLower(strings.TrimPrefix(geomTypes[0], "ST_"))
				}
			}
			out = append(out, []string{name, "geometry", "geometry", geom})
			continue
		}
		out = append(out, []string{name, cartoType(typ)})
	}
	return out, rows.Err()
}

// cartoType names a PostgreSQL type as CARTO's schema presenter does.
func cartoType(pg string) string {
	switch pg {
	case "int2", "int4", "int8", "float4", "float8", "numeric":
		return "number"
	case "text", "varchar", "bpchar", "char", "name", "unknown":
		return "string"
	case "bool":
		return "boolean"
	case "date", "timestamp", "timestamptz", "time", "timetz":
		return "date"
	}
	return pg
}
