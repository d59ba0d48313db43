package sqlapi

import (
	"context"
	"errors"
	"io"
	"net/http"
	"os"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/gocarto/carto/cartolocal/internal/httpapi"
	"github.com/gocarto/carto/cartolocal/internal/sqlexport"
)

// ogrFormats are the formats written by ogr2ogr (package sqlexport), by format parameter.
var ogrFormats = sqlexport.Formats

// serveExport builds an export of sql in format f and sends it: the status line goes out only
// once the file is complete, so every failure is an ordinary error answer, as on CARTO.
func (srv *Server) serveExport(ctx context.Context, w http.ResponseWriter, conn *pgxpool.Conn, f *sqlexport.Format, sql, layer string, skip func(string) bool, fail func(*httpapi.Error)) {
	ext, err := srv.extTypeNames(ctx)
	if err != nil {
		if ctx.Err() == nil {
			fail(sqlError(err))
		}
		return
	}
	e := sqlexport.New(f, sql, layer, skip, ext)
	dir, err := os.MkdirTemp("", "cartolocal-export-*")
	if err != nil {
		fail(&httpapi.Error{Status: http.StatusInternalServerError, Message: "Unexpected error: " + err.Error()})
		return
	}
	defer os.RemoveAll(dir)
	path, err := e.Build(ctx, conn, dir)
	if ctx.Err() != nil {
		return // the client is gone
	}
	if err != nil {
		var he *httpapi.Error
		if errors.Is(err, sqlexport.ErrTimeout) {
			fail(&httpapi.Error{Status: http.StatusTooManyRequests, Message: timeoutMessage, Context: "limit", Detail: "datasource"})
		} else if errors.As(err, &he) {
			fail(he)
		} else if _, ok := errors.AsType[*pgconn.PgError](err); ok {
			fail(sqlError(err))
		} else {
			fail(&httpapi.Error{Status: http.StatusBadRequest, Message: err.Error()})
		}
		return
	}
	file, err := os.Open(path)
	if err != nil {
		fail(&httpapi.Error{Status: http.StatusInternalServerError, Message: "Unexpected error: " + err.Error()})
		return
	}
	defer file.Close()
	w.WriteHeader(http.StatusOK)
	_, _ = io.Copy(w, file)
}
