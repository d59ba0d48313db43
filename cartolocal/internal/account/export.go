package account

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/gocarto/carto/cartolocal/internal/httpapi"
	"github.com/gocarto/carto/cartolocal/internal/registry"
)

// Export states (models/carto/visualization_export.rb).
const (
	statePending   = "pending"
	stateExporting = "exporting"
	stateUploading = "uploading"
	stateComplete  = "complete"
	stateFailure   = "failure"
)

// exportJSON is VisualizationExportPresenter#to_poro.
type exportJSON struct {
	ID              string    `json:"id"`
	VisualizationID string    `json:"visualization_id"`
	UserID          string    `json:"user_id"`
	State           string    `json:"state"`
	URL             *string   `json:"url"`
	CreatedAt       railsTime `json:"created_at"`
	UpdatedAt       railsTime `json:"updated_at"`
}

type exportRow struct {
	id, user, vizID, state string
	tableIDs               []string
	file                   *string
	createdAt, updatedAt   time.Time
}

const exportColumns = `id::text, user_name, visualization_id::text, state, user_tables_ids, file, created_at, updated_at`

func scanExport(row pgx.Row) (exportRow, error) {
	var e exportRow
	err := row.Scan(&e.id, &e.user, &e.vizID, &e.state, &e.tableIDs, &e.file, &e.createdAt, &e.updatedAt)
	return e, err
}

func (s *Server) exportPresent(r *http.Request, e exportRow) exportJSON {
	out := exportJSON{ID: e.id, VisualizationID: e.vizID, UserID: UserID(e.user), State: e.state,
		CreatedAt: railsTime(e.createdAt), UpdatedAt: railsTime(e.updatedAt)}
	if e.state == stateComplete {
		u := baseURL(r, e.user) + "/api/v3/visualization_exports/" + e.id + "/download"
		out.URL = &u
	}
	return out
}

// handleExports serves POST /api/v3/visualization_exports?visualization_id=ID[&user_tables_ids=a,b]:
// 201 with a pending export, which then runs in the background.
func (s *Server) handleExports(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
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
	vizID, _ := q.p.Str("visualization_id")
	v, err := s.d.Registry.Get(r.Context(), q.who.User.Name, vizID)
	if err != nil || !registry.IsUUID(vizID) {
		writeErrors(w, http.StatusNotFound, "Visualization not found: "+vizID)
		return
	}
	if v.Type != registry.TypeDerived {
		writeErrors(w, http.StatusUnprocessableEntity, `Errors: ["Visualization Only derived visualizations can be exported"]`)
		return
	}
	var tableIDs []string
	if ids, _ := q.p.Str("user_tables_ids"); ids != "" {
		tableIDs = strings.Split(ids, ",")
		related := map[string]bool{}
		for _, t := range v.Tables {
			if ds, err := s.d.Registry.TableByName(r.Context(), q.who.User.Name, t); err == nil {
				related[ds.ID] = true
			}
		}
		var msgs []string
		for _, id := range tableIDs {
			if !related[id] {
				msgs = append(msgs, fmt.Sprintf("%q", "User tables ids User table "+id+" is not related to visualization "+v.ID))
			}
		}
		if len(msgs) > 0 {
			writeErrors(w, http.StatusUnprocessableEntity, "Errors: ["+strings.Join(msgs, ", ")+"]")
			return
		}
	}
	e, err := scanExport(s.d.Admin.QueryRow(r.Context(), `
INSERT INTO cartolocal.visualization_exports (user_name, visualization_id, user_tables_ids) VALUES ($1, $2, $3)
RETURNING `+exportColumns, q.who.User.Name, v.ID, tableIDs))
	if err != nil {
		writeErrors(w, http.StatusInternalServerError, err.Error())
		return
	}
	s.startExport(e)
	writeJSON(w, http.StatusCreated, s.exportPresent(r, e))
}

// loadExport finds the export of the URL: 404 "Visualization export not found: ID", and one of
// another user is 403.
func (s *Server) loadExport(w http.ResponseWriter, r *http.Request, q *request) (exportRow, bool) {
	id := httpapi.PathValue(r, "id")
	if !registry.IsUUID(id) {
		writeErrors(w, http.StatusBadRequest, "Parameter id has invalid format: "+id)
		return exportRow{}, false
	}
	e, err := scanExport(s.d.Admin.QueryRow(r.Context(), `SELECT `+exportColumns+` FROM cartolocal.visualization_exports WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		writeErrors(w, http.StatusNotFound, "Visualization export not found: "+id)
		return e, false
	}
	if err != nil {
		writeErrors(w, http.StatusInternalServerError, err.Error())
		return e, false
	}
	if !q.master() || e.user != q.who.User.Name {
		writeErrors(w, http.StatusForbidden, "You don't have permission to access that resource")
		return e, false
	}
	return e, true
}

// handleExport serves GET /api/v3/visualization_exports/:id.
func (s *Server) handleExport(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		methodNotAllowed(w)
		return
	}
	q, ok := s.authenticate(w, r)
	if !ok {
		return
	}
	if e, ok := s.loadExport(w, r, q); ok {
		writeJSON(w, http.StatusOK, s.exportPresent(r, e))
	}
}

// handleExportDownload serves the finished .carto file (a zip), streamed from disk.
func (s *Server) handleExportDownload(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		methodNotAllowed(w)
		return
	}
	q, ok := s.authenticate(w, r)
	if !ok {
		return
	}
	e, ok := s.loadExport(w, r, q)
	if !ok {
		return
	}
	if e.state != stateComplete || e.file == nil {
		writeErrors(w, http.StatusNotFound, "Visualization export not found: "+e.id)
		return
	}
	f, err := os.Open(*e.file)
	if err != nil {
		writeErrors(w, http.StatusNotFound, "Visualization export not found: "+e.id)
		return
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		writeErrors(w, http.StatusInternalServerError, err.Error())
		return
	}
	name := strings.TrimPrefix((*e.file)[strings.LastIndexByte(*e.file, '/')+1:], e.id+"-")
	w.Header().Set("Content-Type", "application/zip")
	w.Header().Set("Content-Disposition", `attachment; filename=`+strconv.Quote(name))
	http.ServeContent(w, r, "", st.ModTime(), f)
}

// startExport runs an export in the background.
func (s *Server) startExport(e exportRow) {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		if err := s.runExport(s.ctx, e); err != nil {
			if s.ctx.Err() != nil {
				return // stopping: the export resumes at the next start
			}
			s.d.Logf("cartolocal: export %s: %v", e.id, err)
			_ = s.setExportState(context.WithoutCancel(s.ctx), e.id, stateFailure, nil, err.Error())
		}
	}()
}

// resumeExports restarts the exports a previous run left unfinished.
func (s *Server) resumeExports(ctx context.Context) error {
	rows, err := s.d.Admin.Query(ctx, `SELECT `+exportColumns+` FROM cartolocal.visualization_exports WHERE state NOT IN ('complete', 'failure')`)
	if err != nil {
		return fmt.Errorf("account: exports: %w", err)
	}
	var todo []exportRow
	for rows.Next() {
		e, err := scanExport(rows)
		if err != nil {
			rows.Close()
			return err
		}
		todo = append(todo, e)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, e := range todo {
		s.startExport(e)
	}
	return nil
}

func (s *Server) setExportState(ctx context.Context, id, state string, file *string, log string) error {
	_, err := s.d.Admin.Exec(ctx, `
UPDATE cartolocal.visualization_exports SET state = $2, file = coalesce($3, file), log = log || $4 || E'\n', updated_at = now()
WHERE id = $1`, id, state, file, log)
	return err
}

// runExport moves an export through CARTO's states: exporting (the map's JSON and its tables'
// data written to a temporary zip), uploading (the zip moved where downloads are served from),
// complete.
func (s *Server) runExport(ctx context.Context, e exportRow) error {
	if err := s.setExportState(ctx, e.id, stateExporting, nil, "Exporting"); err != nil {
		return err
	}
	u, ok := s.d.Users.Get(e.user)
	if !ok {
		return fmt.Errorf("user %q is gone", e.user)
	}
	v, err := s.d.Registry.Get(ctx, e.user, e.vizID)
	if err != nil {
		return err
	}
	tmp, name, err := s.writeCarto(ctx, u, v, e.tableIDs)
	if err != nil {
		return err
	}
	if err := s.setExportState(ctx, e.id, stateUploading, nil, "Uploading"); err != nil {
		os.Remove(tmp)
		return err
	}
	final := s.dir + "/" + e.id + "-" + name
	if err := os.Rename(tmp, final); err != nil {
		os.Remove(tmp)
		return err
	}
	return s.setExportState(ctx, e.id, stateComplete, &final, "Finishing. State: complete")
}
