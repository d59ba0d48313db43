package cartolocal

import (
	"fmt"
	"net/http"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/gocarto/carto/cartolocal/internal/httpapi"
)

// meta serves the SQL API's version and health endpoints, which belong to no one API: they say
// whether the server and its PostgreSQL answer.
type meta struct {
	admin *pgxpool.Pool
}

// Register mounts /api/v1/version and /api/v1/health.
func (m meta) Register(mux *http.ServeMux) {
	httpapi.Mount(mux, "/api/v1/version", m.handleVersion)
	httpapi.Mount(mux, "/api/v1/health", m.handleHealth)
}

func (m meta) handleVersion(w http.ResponseWriter, r *http.Request) {
	httpapi.WriteJSON(w, http.StatusOK, []byte(`{"cartodb_sql_api":"6.0.0"}`))
}

func (m meta) handleHealth(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	err := m.admin.Ping(r.Context())
	if err != nil {
		httpapi.WriteJSON(w, http.StatusServiceUnavailable, fmt.Appendf(nil, `{"enabled":true,"ok":false,"elapsed":%d}`, time.Since(start).Milliseconds()))
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, fmt.Appendf(nil, `{"enabled":true,"ok":true,"elapsed":%d}`, time.Since(start).Milliseconds()))
}
