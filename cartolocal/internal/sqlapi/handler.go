// Package sqlapi is cartolocal's server of CARTO's SQL API (/api/v2/sql): request parameters as
// CARTO reads them, the query wrapped as cartodb-psql wraps it, and the rows streamed in the json,
// geojson and csv formats.
package sqlapi

// The SQL API follows CARTO's SQL API 6.0.0 byte for byte where a client can tell (statuses,
// bodies, Content-Type, Content-Disposition, CORS, Carto-User, Carto-Client, Cache-Control), from
// its source (CartoDB-SQL-API, cartodb-psql 0.14, node-postgres 6.4.2-cdb2, pg-types 1.13) and the
// captured answers. Where cartolocal differs, on purpose:
//   - int8 and numeric values (and arrays) with more than 15 significant digits keep all their
//     digits, where CARTO's Node server rounds them to doubles (shorter ones print as CARTO prints
//     them: "1.50" is 1.5); json/jsonb keep PostgreSQL's numbers and escapes (only the whitespace
//     goes).
//   - Format arraybuffer answers 400 "not supported". The others are built as CARTO builds them
//     (package sqlexport, format_svg.go, format_topojson.go say where they differ).
//   - q is limited to 1 MB; a NUL byte in the SQL is a 400.
//   - Carto-User-Id and X-Served-By-* are not sent. Cache-Control, X-Cache-Channel,
//     Surrogate-Key and Last-Modified follow CARTO's rules (package sqlcache says where they differ).
//   - CSV is streamed rather than written by ogr2ogr: an error after the first row cuts the
//     response (the client sees a truncated chunked body) instead of a 400, and errors carry
//     PostgreSQL's message rather than ogr2ogr's.
//   - JSONP callback names are sanitized as Express sanitizes them, for successes too.
//   - geojson with the_geom in skipfields writes "geometry":null (CARTO writes undefined).
//   - The "system tables are forbidden" 403 CARTO gives non-master keys for any name matching
//     \bpg_ is not given: the public role's grants alone decide.

import (
	"cmp"
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/gocarto/carto/cartolocal/internal/httpapi"
	"github.com/gocarto/carto/cartolocal/internal/pgvalue"
	"github.com/gocarto/carto/cartolocal/internal/sqlcache"
	"github.com/gocarto/carto/cartolocal/internal/sqlexport"
	"github.com/gocarto/carto/cartolocal/internal/users"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Server serves CARTO's SQL API: /api/{version}/sql.
type Server struct {
	admin *pgxpool.Pool
	users *users.Directory
	logf  func(string, ...any)

	poolWait time.Duration

	extMu sync.Mutex
	ext   map[uint32]string // the PostGIS type OIDs, loaded on first use
}

// Deps are what the SQL API needs from the server.
type Deps struct {
	// Admin is a superuser pool, to read the database's PostGIS type OIDs.
	Admin *pgxpool.Pool
	// Users finds the caller of a request, and gives the connection its query runs on.
	Users *users.Directory
	// Logf receives notable events; nil discards them.
	Logf func(format string, args ...any)
	// PoolWait bounds the wait for a connection of the caller's role; zero means 5 s.
	PoolWait time.Duration
}

// poolBusyError is the answer to a request that found every connection of its role busy: CARTO's
// 429 for limits, with a Retry-After that gocarto's client (and carto-python's) honours.
func poolBusyError() *httpapi.Error {
	return &httpapi.Error{
		Status:  http.StatusTooManyRequests,
		Message: "You are over platform's limits. Please contact us to know more details",
		Context: "limit", Detail: "rate-limit",
		Header: http.Header{"Retry-After": {"1"}},
	}
}

// New returns the SQL API's server; Register mounts it.
func New(d Deps) *Server {
	if d.Logf == nil {
		d.Logf = func(string, ...any) {}
	}
	return &Server{admin: d.Admin, users: d.Users, logf: d.Logf, poolWait: cmp.Or(d.PoolWait, 5*time.Second)}
}

// Register mounts /api/{version}/sql, with or without a trailing slash.
func (srv *Server) Register(mux *http.ServeMux) {
	httpapi.Mount(mux, "/api/{version}/sql", srv.handleSQL)
	httpapi.Mount(mux, "/api/{version}/sql/{$}", srv.handleSQL)
	httpapi.Mount(mux, "/api/{version}/sql/copyfrom", srv.handleCopyFrom)
	httpapi.Mount(mux, "/api/{version}/sql/copyto", srv.handleCopyTo)
}

// extTypeNames returns the PostGIS type OIDs of the database, loading them on first use; CARTO
// builds the same cache once per process and database. A failed load is tried again next time.
func (srv *Server) extTypeNames(ctx context.Context) (map[uint32]string, error) {
	srv.extMu.Lock()
	defer srv.extMu.Unlock()
	if srv.ext != nil {
		return srv.ext, nil
	}
	m, err := pgvalue.LoadExtTypes(ctx, srv.admin)
	if err != nil {
		return nil, err
	}
	srv.ext = m
	return m, nil
}

// handleSQL answers GET/POST /api/:version/sql as CARTO's SQL API 6.0.0 does
// (lib/api/sql/query-controller.js): user, body, key, parameters, then the query streamed in
// the asked format, rows first, with the status line held back until the first row is ready so
// that an error before it is a normal error answer.
func (srv *Server) handleSQL(w http.ResponseWriter, r *http.Request) {
	// CORS, and the answer to OPTIONS, come from the router (httpapi.SQLRouterCORS).
	h := w.Header()
	query, _ := url.ParseQuery(r.URL.RawQuery)
	if c := query["client"]; len(c) > 0 && c[0] != "" && utf8.ValidString(c[0]) {
		h["Carto-Client"] = c[:1]
	}
	cb := httpapi.QueryCallback(r)
	fail := func(e *httpapi.Error) { writeSQLError(w, cb, e) }

	u, aerr := srv.users.Resolve(r)
	if name := r.PathValue("user"); name != "" {
		h.Set("Carto-User", name)
	} else if u != nil {
		h.Set("Carto-User", u.Name)
	}
	if aerr != nil {
		fail(aerr)
		return
	}
	p, aerr := httpapi.ReadParams(r)
	if aerr != nil {
		fail(aerr)
		return
	}
	// Read the body to its end: only then does net/http watch the connection, and cancel the
	// request's context (hence the query) when the client goes away.
	if r.Body != nil {
		_, _ = io.Copy(io.Discard, io.LimitReader(r.Body, httpapi.MaxBodyBytes))
	}
	who, aerr := srv.users.Authenticate(r, p)
	if aerr != nil {
		fail(aerr)
		return
	}
	if !who.Allows("sql") {
		// A regular API key without the sql grant: CARTO's lib/auth/apikey.js answers so.
		fail(&httpapi.Error{Status: http.StatusForbidden, Message: "forbidden"})
		return
	}
	h.Set("Vary", "Authorization")
	sp, aerr := parseSQLParams(p, query)
	if aerr != nil {
		fail(aerr)
		return
	}
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	// The streamed formats call apply before their first byte; the others decide now.
	streamed := ogrFormats[sp.format] == nil && sp.format != "topojson"
	cache := sqlcache.Decide(ctx, who.User, sp.q, h, sp.cachePolicy == "persist", streamed, srv.logf)
	defer func() {
		cancel()
		cache.Wait()
	}()
	if ctx.Err() != nil {
		return
	}
	fail = func(e *httpapi.Error) {
		cache.Apply(true)
		writeSQLError(w, cb, e)
	}
	now := time.Now()
	modified := now.UTC().Format(http.TimeFormat)

	run := &sqlRun{w: w, rc: http.NewResponseController(w), ctx: ctx, cancel: cancel, beforeBegin: cache.Apply}

	sql := wrapQuery(sp.q, sp.orderBy, sp.sortOrder, sp.limit, sp.offset)
	skip := skipper(sp.skipfields)
	callback := httpapi.JSONPCallback(sp.callback)
	var f rowFormat
	var ctype, ext string
	var csv *csvFormat
	var ogr *sqlexport.Format
	var topo bool
	switch sp.format {
	case "geojson":
		sql = geojsonQuery(sql, sp.dp)
		f = &geojsonFormat{enc: pgvalue.Encoder{NaNNull: true}, skip: skip, callback: callback}
		ctype, ext = "application/json; charset=utf-8", "geojson"
	case "svg":
		sql = svgQuery(sql, sp.dp)
		f = &svgFormat{}
		ctype, ext = "image/svg+xml; charset=utf-8", "svg"
	case "topojson":
		sql = topojsonQuery(sql, sp.dp)
		topo = true
		// CARTO's TopoJsonFormat has no content type: Express sends the word undefined (sample 40).
		ctype, ext = "undefined", "topojson"
	case "shp", "kml", "gpkg", "spatialite":
		ogr = ogrFormats[sp.format]
		ctype, ext = ogr.ContentType(), ogr.Ext()
	case "csv":
		csv = &csvFormat{}
		f = csv
		ctype, ext = "text/csv; charset=utf-8; header=present", "csv"
	default:
		postgis, err := srv.extTypeNames(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			// Geometry columns then show as unknown(OID); the rows are still right.
			srv.logf("cartolocal: reading PostGIS type OIDs: %v", err)
		}
		f = &jsonFormat{names: pgvalue.TypeNames{Ext: postgis}, skip: skip, callback: callback}
		ctype, ext = "application/json; charset=utf-8", "json"
	}
	if strings.IndexByte(sql, 0) >= 0 {
		fail(httpapi.BadRequest(`invalid byte sequence for encoding "UTF8": 0x00`))
		return
	}
	disposition := "attachment"
	if sp.inline {
		disposition = "inline"
	}
	h.Set("Content-Disposition", disposition+"; filename="+sp.filename+"."+ext+`; modification-date="`+modified+`";`)
	h.Set("Content-Type", ctype)

	// A caller waits a bounded time for one of its role's few connections: when they are all
	// busy (four anonymous pg_sleep calls fill a public pool), later requests get a 429 to retry
	// instead of hanging.
	acquireCtx, acquireStop := context.WithTimeout(ctx, srv.poolWait)
	conn, err := who.Acquire(acquireCtx)
	acquireStop()
	if err != nil {
		if ctx.Err() != nil {
			return
		}
		if acquireCtx.Err() != nil {
			fail(poolBusyError())
			return
		}
		srv.logf("cartolocal: user %s: acquiring a connection: %v", who.User.Name, err)
		fail(&httpapi.Error{Status: http.StatusInternalServerError, Message: "cannot connect to the database"})
		return
	}
	defer conn.Release()

	switch {
	case ogr != nil:
		srv.serveExport(ctx, w, conn, ogr, stripTrailingSemicolon(sql), sp.filename, skip, fail)
		return
	case topo:
		srv.serveTopoJSON(ctx, w, conn.Conn().PgConn(), sql, skip, callback, fail)
		return
	}
	if csv != nil {
		names, err := csvColumnNames(run, conn, sql, skip)
		if err != nil {
			if ctx.Err() == nil {
				fail(sqlError(err))
			}
			return
		}
		csv.header = names
		sql = csvQuery(stripTrailingSemicolon(sql), names)
	}
	err = run.exec(conn, sql, f)
	if err != nil && !errors.Is(err, errClientGone) {
		fail(sqlError(err))
	}
}

// writeSQLError answers an error as CARTO's error middleware does: JSON with Content-Disposition
// inline, or, when the URL has a callback, Express's res.jsonp wrapper with status 200.
func writeSQLError(w http.ResponseWriter, callback string, e *httpapi.Error) {
	if callback == "" {
		httpapi.WriteError(w, e)
		return
	}
	h := w.Header()
	for k, v := range e.Header {
		h[k] = v
	}
	h.Set("Content-Disposition", "inline")
	httpapi.WriteJSONP(w, http.StatusOK, callback, e.Body())
}
