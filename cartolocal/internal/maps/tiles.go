package maps

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

var (
	zRE = regexp.MustCompile(`^\d+$`)
	xRE = regexp.MustCompile(`^-?\d+$`)
)

// tileRequest is a parsed tile URL.
type tileRequest struct {
	z, x, y int
	format  string
}

// parseTile validates z, x and y.FORMAT with Windshaft's messages (its misspelling included).
func parseTile(zs, xs, yfmt string) (tileRequest, *wsError) {
	ys, format, _ := strings.Cut(yfmt, ".")
	if i := strings.IndexByte(ys, '@'); i >= 0 { // retina: 1@2x.png
		ys = ys[:i]
	}
	if !zRE.MatchString(zs) {
		return tileRequest{}, errorf(400, fmt.Sprintf("Invalid zoom value (%s). It should be an integer number greather than or equal to 0", zs))
	}
	if !xRE.MatchString(xs) {
		return tileRequest{}, errorf(400, fmt.Sprintf("Invalid coodinate 'x' value (%s). It should be an integer number", xs))
	}
	if !zRE.MatchString(ys) {
		return tileRequest{}, errorf(400, fmt.Sprintf("Invalid coodinate 'y' value (%s). It should be an integer number greather than or equal to 0", ys))
	}
	z, err := strconv.Atoi(zs)
	if err != nil || z > maxZoom {
		return tileRequest{}, errorf(400, fmt.Sprintf("Invalid zoom value (%s). It should be an integer number greather than or equal to 0", zs))
	}
	x, errx := strconv.ParseInt(xs, 10, 64)
	y, erry := strconv.ParseInt(ys, 10, 64)
	if errx != nil || erry != nil {
		return tileRequest{}, errorf(400, "Invalid tile coordinates")
	}
	n := int64(1) << z
	x = ((x % n) + n) % n // Windshaft wraps x around the world
	return tileRequest{z: z, x: int(x), y: int(y), format: format}, nil
}

// rasterError answers the formats that need Mapnik.
func rasterError(cfg *mapConfig, format string) *wsError {
	switch format {
	case "png", "png32", "jpg", "jpeg", "grid.json", "torque.json", "json.torque", "torque.bin", "torque.png", "tif", "tiff":
		if cfg.vectorOnly {
			return &wsError{Status: 400, Type: "tile", Message: fmt.Sprintf("Unsupported format: 'cartocss' option is missing for %s", format)}
		}
		return &wsError{Status: 400, Type: "tile", Message: fmt.Sprintf("Unsupported format %s: cartolocal serves vector tiles (mvt) only; raster formats need Mapnik and CartoCSS", format)}
	}
	return errorf(400, "Unsupported format "+format)
}

// handleTile serves /map/:token[/:layer]/:z/:x/:y.:format.
func (s *Service) handleTile(w http.ResponseWriter, r *http.Request) {
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
	owner, werr := s.tileRole(r, caller, lg)
	if werr != nil {
		writeError(w, r, werr)
		return
	}
	s.serveTile(w, r, caller, lg, owner, r.PathValue("layer"), buster, "")
}

// layergroupOf finds the layergroup of a URL's token; it sets Carto-Map-Id and
// Carto-Cache-Buster as Windshaft-cartodb does.
func (s *Service) layergroupOf(r *http.Request, caller *Caller, id string) (*layergroup, int64, *wsError) {
	token, bs, _ := strings.Cut(id, ":")
	buster, _ := strconv.ParseInt(bs, 10, 64)
	md5 := token
	if i := strings.LastIndexByte(token, '@'); i >= 0 {
		md5 = token[i+1:]
	}
	lg, err := s.lookup(r.Context(), caller.User, token)
	if err != nil {
		if we, ok := err.(*wsError); ok {
			return nil, 0, we
		}
		s.deps.Logf("cartolocal: maps: layergroup %s: %v", token, err)
		return nil, 0, errorf(500, "Unexpected error")
	}
	if lg == nil {
		if signer, _, ok := strings.Cut(token, "@"); ok && signer != caller.User {
			return nil, 0, errorf(403, fmt.Sprintf("Cannot use map signature of user \"%s\" on db of user \"%s\"", signer, caller.User))
		}
		return nil, 0, errorf(400, fmt.Sprintf("Invalid or nonexistent map configuration token '%s'", md5))
	}
	return lg, buster, nil
}

// tileRole decides who a layergroup's tiles run as: a named map's instance as the owner, for a
// valid auth_token (or the master key); an anonymous map as the caller's key.
func (s *Service) tileRole(r *http.Request, caller *Caller, lg *layergroup) (bool, *wsError) {
	if lg.template == "" {
		return caller.Master, nil
	}
	if lg.auth.Method == "token" && !caller.Master {
		tok := r.URL.Query().Get("auth_token")
		ok := false
		for _, v := range lg.auth.ValidTokens {
			if constEq(tok, v) {
				ok = true
			}
		}
		if !ok {
			return false, errorf(403, "Sorry, you are unauthorized (permission denied)")
		}
	}
	return true, nil
}

// serveTile renders and answers one tile.
func (s *Service) serveTile(w http.ResponseWriter, r *http.Request, caller *Caller, lg *layergroup, owner bool, filter string, buster int64, surrogate string) {
	h := w.Header()
	h.Set("Carto-Map-Id", lg.md5)
	h.Set("Carto-Cache-Buster", strconv.FormatInt(buster, 10))
	tr, werr := parseTile(r.PathValue("z"), r.PathValue("x"), r.PathValue("yfmt"))
	if werr != nil {
		writeError(w, r, werr)
		return
	}
	layers, werr := lg.cfg.filterLayers(filter, tr.format)
	if werr != nil {
		writeError(w, r, werr)
		return
	}
	if tr.format != "mvt" {
		writeError(w, r, rasterError(lg.cfg, tr.format))
		return
	}
	// Windshaft's renderer factory hands a filter with any other layer than mapnik ones (an http
	// or plain layer's index, "all" over them) to the http, plain or blend renderer, none of
	// which draws mvt.
	if slices.ContainsFunc(layers, func(l *layer) bool { return !l.isMapnik() }) {
		writeError(w, r, errorf(400, "Unsupported format mvt"))
		return
	}
	tile, werr := s.renderTile(r.Context(), caller, lg, owner, layers, tr)
	if werr != nil {
		writeError(w, r, werr)
		return
	}
	s.cacheHeaders(r.Context(), w, caller, lg, surrogate)
	if len(tile) == 0 {
		h.Set("x-tilelive-contains-data", "false")
		w.WriteHeader(http.StatusNoContent)
		return
	}
	h.Set("Content-Type", "application/x-protobuf")
	h.Set("x-tilelive-contains-data", "true")
	h.Set("Content-Length", strconv.Itoa(len(tile)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(tile)
}

// renderTile runs pg-mvt's SQL for the visible mapnik layers of a tile.
func (s *Service) renderTile(ctx context.Context, caller *Caller, lg *layergroup, owner bool, layers []*layer, tr tileRequest) ([]byte, *wsError) {
	var visible []*layer
	for _, l := range layers {
		if l.isMapnik() && l.visibleAt(tr.z) {
			visible = append(visible, l)
		}
	}
	if len(visible) == 0 {
		return nil, nil
	}
	if n := 1 << tr.z; tr.y >= n {
		return nil, nil // below the world: nothing there
	}
	conn, err := caller.Acquire(ctx, owner)
	if err != nil {
		return nil, errorf(500, "Unexpected error")
	}
	defer conn.Release()
	b := newTileBox(tr.z, tr.x, tr.y)
	parts := make([]string, 0, len(visible))
	for _, l := range visible {
		cols, err := s.columns(ctx, conn, lg, l, roleOf(caller, owner))
		if err != nil {
			return nil, errorf(0, "PgMvtFactory: "+pgMessage(err))
		}
		parts = append(parts, tileLayerSQL(l, cols, b, lg.params))
	}
	tile, err := queryTile(ctx, conn, tileSQL(parts), lg.template != "")
	if err != nil {
		return nil, errorf(0, "PgMvtRenderer: "+pgMessage(err))
	}
	return tile, nil
}

// queryTile runs a tile's SQL. A named map's SQL holds placeholder values quoted for
// standard_conforming_strings on, which is set first in the same round trip (a role could have
// turned it off for itself).
func queryTile(ctx context.Context, conn *pgxpool.Conn, sql string, strict bool) ([]byte, error) {
	var tile []byte
	if !strict {
		err := conn.QueryRow(ctx, sql).Scan(&tile)
		return tile, err
	}
	batch := &pgx.Batch{}
	batch.Queue("SET standard_conforming_strings = on")
	batch.Queue(sql).QueryRow(func(row pgx.Row) error { return row.Scan(&tile) })
	err := conn.SendBatch(ctx, batch).Close()
	return tile, err
}

// cacheHeaders sends CARTO's cache headers of a tile: X-Cache-Channel and Surrogate-Key name
// the tables, Last-Modified is their newest change, and Cache-Control lasts a year when every
// table's changes are tracked (the layergroup id changes with them), else until the next five
// minutes.
func (s *Service) cacheHeaders(ctx context.Context, w http.ResponseWriter, caller *Caller, lg *layergroup, surrogate string) {
	h := w.Header()
	stamp := lg.stamp(ctx, caller)
	maxAge := int64(31536000)
	if !stamp.all {
		now := time.Now()
		maxAge = int64(300 - (now.Unix() % 300))
	}
	h.Set("Cache-Control", "public,max-age="+strconv.FormatInt(maxAge, 10))
	if len(lg.tables) > 0 {
		channel := make([]string, len(lg.tables))
		keys := []string{}
		if surrogate != "" {
			keys = append(keys, surrogate)
		}
		for i, t := range lg.tables {
			channel[i] = unquoteTable(t)
			keys = append(keys, "t:"+shortHash(caller.DB+":"+channel[i]))
		}
		h.Set("X-Cache-Channel", caller.DB+":"+strings.Join(channel, ","))
		h.Set("Surrogate-Key", strings.Join(keys, " "))
	}
	lm := stamp.updated
	if lm.IsZero() {
		lm = time.Unix(0, 0)
	}
	h.Set("Last-Modified", lm.UTC().Format(http.TimeFormat))
}

// stamp reads the layergroup's tables' metadata once a second at most.
func (lg *layergroup) stamp(ctx context.Context, caller *Caller) tableStamp {
	lg.mu.Lock()
	if time.Since(lg.stampAt) < time.Second {
		st := lg.lastStamp
		lg.mu.Unlock()
		return st
	}
	lg.mu.Unlock()
	st := tableStamp{}
	if conn, err := caller.Acquire(ctx, true); err == nil {
		st, _ = stampTables(ctx, conn, lg.tables)
		conn.Release()
	}
	lg.mu.Lock()
	lg.lastStamp, lg.stampAt = st, time.Now()
	lg.mu.Unlock()
	return st
}

// unquoteTable turns "schema"."table" into schema.table for X-Cache-Channel.
func unquoteTable(t string) string {
	return strings.ReplaceAll(strings.ReplaceAll(t, `"."`, "."), `"`, "")
}

// queryBounds runs the preview's extent query, as queryTile runs a tile's.
func queryBounds(ctx context.Context, conn *pgxpool.Conn, sql string, strict bool, dest ...any) error {
	if !strict {
		return conn.QueryRow(ctx, sql).Scan(dest...)
	}
	batch := &pgx.Batch{}
	batch.Queue("SET standard_conforming_strings = on")
	batch.Queue(sql).QueryRow(func(row pgx.Row) error { return row.Scan(dest...) })
	return conn.SendBatch(ctx, batch).Close()
}
