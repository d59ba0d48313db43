package maps

import (
	"context"
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/gocarto/carto/cartolocal/internal/maptemplate"
)

// layergroup is a created map: its validated config and what tiles need to know.
type layergroup struct {
	user     string
	token    string // md5, or user@hash8@md5 for a named map's instance
	md5      string
	cfg      *mapConfig
	template string // the named map instantiated, or ""
	auth     templateAuth
	tables   []string // schema.table the layers read
	params   mvtParams

	// Filled when loaded, per request of tiles: cache headers.
	mu        sync.Mutex
	cols      map[colKey][]column
	lastStamp tableStamp
	stampAt   time.Time
}

// colKey keys a layer's columns by the role that asked: a role that may not read a table must
// fail on the schema query (PgMvtFactory), as on a fresh Windshaft renderer.
type colKey struct {
	layer int
	role  string
}

type templateAuth struct {
	Method      string   `json:"method"`
	ValidTokens []string `json:"valid_tokens"`
}

// newLayergroup parses a stored or posted config into a layergroup.
func newLayergroup(user, token string, config []byte, tmpl string, tables []string) (*layergroup, *wsError) {
	cfg, werr := parseMapConfig(config)
	if werr != nil {
		return nil, werr
	}
	lg := &layergroup{user: user, token: token, cfg: cfg, template: tmpl, tables: tables,
		params: paramsFor(cfg), cols: map[colKey][]column{}}
	lg.md5 = token
	if i := strings.LastIndexByte(token, '@'); i >= 0 {
		lg.md5 = token[i+1:]
	}
	var t struct {
		Template *struct {
			Auth templateAuth `json:"auth"`
		} `json:"template"`
	}
	if json.Unmarshal(config, &t) == nil && t.Template != nil {
		lg.auth = t.Template.Auth
	}
	return lg, nil
}

// layerMeta is what creating a layergroup learns of each mapnik layer.
type layerMeta struct {
	rows   float64
	tables []string
}

// validate runs what Windshaft's map validator runs: per mapnik layer, the tables it reads
// (as the owner, like CDB_QueryTablesText), its columns (pg-mvt's schema query) and one tile at
// zoom 30, as conn's role. Errors name the layer for CartoCSS maps, as Windshaft's do.
func (s *Service) validate(ctx context.Context, caller *Caller, owner bool, lg *layergroup) (map[int]layerMeta, *wsError) {
	oconn, err := caller.Acquire(ctx, true)
	if err != nil {
		return nil, errorf(500, "Unexpected error: "+err.Error())
	}
	defer oconn.Release()
	metas := map[int]layerMeta{}
	for _, l := range lg.cfg.Layers {
		if !l.isMapnik() {
			continue
		}
		m, err := explainLayer(ctx, oconn, l, lg.params.BufferPx)
		if err != nil {
			var pe *pgconn.PgError
			if errors.As(err, &pe) && pe.Code == "42P01" {
				return nil, errorf(0, pe.Message)
			}
			if ctx.Err() != nil {
				return nil, errorf(500, "Unexpected error: "+err.Error())
			}
		}
		metas[l.Index] = m
	}
	conn := oconn
	if !owner {
		c, err := caller.Acquire(ctx, false)
		if err != nil {
			return nil, errorf(500, "Unexpected error: "+err.Error())
		}
		defer c.Release()
		conn = c
	}
	layerErr := func(l *layer, prefix string, err error) *wsError {
		msg := prefix + pgMessage(err)
		we := errorf(0, msg)
		if strings.Contains(msg, "the_geom_webmercator") && strings.Contains(msg, "does not exist") {
			we.Status = 400
		}
		if !lg.cfg.vectorOnly {
			we.Type, we.Layer = "layer", l.ref()
		}
		return we
	}
	for _, l := range lg.cfg.Layers {
		if !l.isMapnik() {
			continue
		}
		cols, err := s.columns(ctx, conn, lg, l, roleOf(caller, owner))
		if err != nil {
			return nil, layerErr(l, "PgMvtFactory: ", err)
		}
		b := newTileBox(30, 0, 0)
		var tile []byte
		if err := conn.QueryRow(ctx, tileSQL([]string{tileLayerSQL(l, cols, b, lg.params)})).Scan(&tile); err != nil {
			return nil, layerErr(l, "PgMvtRenderer: ", err)
		}
	}
	return metas, nil
}

// pgMessage is PostgreSQL's message of err without pgx's decoration.
func pgMessage(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Message
	}
	return err.Error()
}

// explainLayer plans a layer's SQL: the estimated rows (Windshaft's layer stats) and the tables
// it reads (cartodb's CDB_QueryTables reads the same plan).
func explainLayer(ctx context.Context, conn *pgxpool.Conn, l *layer, bufferPx int) (layerMeta, error) {
	var plan []byte
	sql := "EXPLAIN (FORMAT JSON, VERBOSE) " + substituteTokens(layerSQL(l), newTileBox(0, 0, 0), bufferPx)
	if err := conn.QueryRow(ctx, sql).Scan(&plan); err != nil {
		return layerMeta{}, err
	}
	var doc []struct {
		Plan map[string]any `json:"Plan"`
	}
	if err := json.Unmarshal(plan, &doc); err != nil || len(doc) == 0 {
		return layerMeta{}, fmt.Errorf("reading the plan: %v", err)
	}
	m := layerMeta{}
	if r, ok := doc[0].Plan["Plan Rows"].(float64); ok {
		m.rows = r
	}
	seen := map[string]bool{}
	var walk func(n map[string]any)
	walk = func(n map[string]any) {
		rel, _ := n["Relation Name"].(string)
		schema, _ := n["Schema"].(string)
		if rel != "" && schema != "" {
			t := quoteIdent(schema) + "." + quoteIdent(rel)
			if !seen[t] {
				seen[t] = true
				m.tables = append(m.tables, t)
			}
		}
		if kids, ok := n["Plans"].([]any); ok {
			for _, k := range kids {
				if km, ok := k.(map[string]any); ok {
					walk(km)
				}
			}
		}
	}
	walk(doc[0].Plan)
	return m, nil
}

// columns returns a layer's columns, asked once per layergroup and role.
func (s *Service) columns(ctx context.Context, conn *pgxpool.Conn, lg *layergroup, l *layer, role string) ([]column, error) {
	key := colKey{l.Index, role}
	lg.mu.Lock()
	cols, ok := lg.cols[key]
	lg.mu.Unlock()
	if ok {
		return cols, nil
	}
	rows, err := conn.Query(ctx, columnsSQL(l, lg.params.BufferPx))
	if err != nil {
		return nil, err
	}
	for _, f := range rows.FieldDescriptions() {
		cols = append(cols, column{Name: f.Name, OID: f.DataTypeOID})
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	lg.mu.Lock()
	lg.cols[key] = cols
	lg.mu.Unlock()
	return cols, nil
}

// tableStamp is what CDB_TableMetadata says of a layergroup's tables.
type tableStamp struct {
	updated time.Time // newest updated_at; zero if none
	all     bool      // every table has a row
}

// stampTables reads CDB_TableMetadata for tables (quoted schema.table names).
func stampTables(ctx context.Context, conn *pgxpool.Conn, tables []string) (tableStamp, error) {
	if len(tables) == 0 {
		return tableStamp{}, nil
	}
	var st tableStamp
	var updated *time.Time
	err := conn.QueryRow(ctx, `SELECT max(m.updated_at), count(m.updated_at) = cardinality($1::text[])
FROM unnest($1::text[]) t(name) LEFT JOIN cartodb.cdb_tablemetadata m ON m.tabname = to_regclass(t.name)`, tables).Scan(&updated, &st.all)
	var pe *pgconn.PgError
	if errors.As(err, &pe) && (pe.Code == "42P01" || pe.Code == "42501") {
		return tableStamp{}, nil // no CDB_TableMetadata (or not readable): nothing known
	}
	if err != nil {
		return tableStamp{}, err
	}
	if updated != nil {
		st.updated = *updated
	}
	return st, nil
}

// built is a created layergroup with what its response needs.
type built struct {
	lg     *layergroup
	id     string // token:cachebuster
	buster int64
	metas  map[int]layerMeta
	fresh  bool // not made before by this server
}

// build validates a MapConfig and stores its layergroup. tmpl is the named map it instantiates
// (nil for an anonymous map), whose layers run as the account's owner; an anonymous map's run as
// the caller's key.
func (s *Service) build(ctx context.Context, caller *Caller, config []byte, tmpl *maptemplate.Template) (*built, *wsError) {
	cfg, werr := parseMapConfig(config)
	if werr != nil {
		return nil, werr
	}
	owner := caller.Master || tmpl != nil
	md5hex := hashConfig(cfg.raw, caller, owner)
	token, tmplName := md5hex, ""
	if tmpl != nil {
		token = caller.User + "@" + tmpl.Hash8() + "@" + md5hex
		tmplName = tmpl.Name
	}
	lg, werr := newLayergroup(caller.User, token, cfg.raw, tmplName, nil)
	if werr != nil {
		return nil, werr
	}
	metas, werr := s.validate(ctx, caller, owner, lg)
	if werr != nil {
		return nil, werr
	}
	lg.tables = tablesOf(cfg, metas)
	conn, err := caller.Acquire(ctx, true)
	if err != nil {
		return nil, errorf(500, "Unexpected error")
	}
	stamp, err := stampTables(ctx, conn, lg.tables)
	conn.Release()
	if err != nil {
		s.deps.Logf("cartolocal: maps: reading CDB_TableMetadata: %v", err)
	}
	if err := s.store.saveLayergroup(ctx, caller.User, token, string(cfg.raw), tmplName, lg.tables); err != nil {
		s.deps.Logf("cartolocal: maps: saving layergroup: %v", err)
		return nil, errorf(500, "Unexpected error")
	}
	b := &built{lg: lg, metas: metas, fresh: s.remember(lg)}
	if !stamp.updated.IsZero() {
		b.buster = stamp.updated.UnixMilli()
	}
	b.id = token + ":" + strconv.FormatInt(b.buster, 10)
	return b, nil
}

// create builds a layergroup and answers Windshaft's layergroup response.
func (s *Service) create(w http.ResponseWriter, r *http.Request, caller *Caller, config []byte, tmpl *maptemplate.Template, jsonp string) {
	b, werr := s.build(r.Context(), caller, config, tmpl)
	if werr != nil {
		writeError(w, r, werr)
		return
	}
	h := w.Header()
	h.Set("X-Layergroup-Id", b.id)
	h.Set("Carto-Map-Id", b.lg.md5)
	h.Set("Carto-Cache-Buster", strconv.FormatInt(b.buster, 10))
	if tmpl != nil {
		h.Set("Carto-Template-Hash", tmpl.Hash8())
		h.Set("Surrogate-Key", "n:"+shortHash(caller.User+":"+tmpl.Name))
	}
	var key string
	if caller.Keyed && tmpl == nil {
		key = apiKeyOf(r)
	}
	base := mapsBaseURL(r, caller.User)
	if b.fresh {
		// cmd/cartolocal's log then says where to look at each new map (without any key: a
		// private table's map needs &api_key=).
		s.deps.Logf("cartolocal: new map %s of %s; preview: %s", b.id, caller.User,
			strings.TrimSuffix(base, "api/v1/map")+PreviewPath+"?layergroup="+b.id)
	}
	resp := layergroupResponse(base, b.id, b.lg.cfg, b.metas, key, b.buster)
	if jsonp != "" {
		writeJSONP(w, jsonp, resp)
		return
	}
	writeJSON(w, http.StatusOK, resp)
}

// remember caches a layergroup for its tiles; it reports whether the cache did not have it.
// An entry already there is kept, with the columns it learnt.
func (s *Service) remember(lg *layergroup) bool {
	s.lgMu.Lock()
	defer s.lgMu.Unlock()
	key := lg.user + "/" + lg.token
	if _, ok := s.lgs[key]; ok {
		return false
	}
	if len(s.lgs) > 10000 {
		clear(s.lgs) // stored in PostgreSQL: the cache only saves a round trip
	}
	s.lgs[key] = lg
	return true
}

// lookup finds a layergroup by its token (the id without the cache buster).
func (s *Service) lookup(ctx context.Context, user, token string) (*layergroup, error) {
	s.lgMu.Lock()
	lg := s.lgs[user+"/"+token]
	s.lgMu.Unlock()
	if lg != nil {
		return lg, nil
	}
	config, tmpl, tables, ok, err := s.store.loadLayergroup(ctx, user, token)
	if err != nil || !ok {
		return nil, err
	}
	lg, werr := newLayergroup(user, token, []byte(config), tmpl, tables)
	if werr != nil {
		return nil, werr
	}
	s.remember(lg)
	return lg, nil
}

// shortHash is CARTO's short cache key: 6 characters of a base64 md5.
func shortHash(s string) string {
	sum := md5.Sum([]byte(s))
	return base64.StdEncoding.EncodeToString(sum[:])[:6]
}

// apiKeyOf returns the key a request carried in its query string, which
// Windshaft repeats in the layergroup's tile URLs so a browser can load them.
func apiKeyOf(r *http.Request) string {
	q := r.URL.Query()
	for _, k := range []string{"api_key", "map_key"} {
		if v := q.Get(k); v != "" {
			return v
		}
	}
	// A key sent as Basic auth stays out of URLs: the client chose to keep it out of them.
	return ""
}

// hashConfig is a layergroup's md5: Windshaft hashes the config with the database parameters
// (database and login), so the same config made by another role is another map.
func hashConfig(raw []byte, caller *Caller, owner bool) string {
	role := caller.Role
	if owner {
		role = "owner"
	}
	h := md5.New()
	h.Write(raw)
	h.Write([]byte("\x00" + caller.DB + "\x00" + caller.User + "\x00" + role))
	return hex.EncodeToString(h.Sum(nil))
}

// tablesOf merges the tables the layers read, in layer order.
func tablesOf(cfg *mapConfig, metas map[int]layerMeta) []string {
	var out []string
	seen := map[string]bool{}
	for _, l := range cfg.Layers {
		for _, t := range metas[l.Index].tables {
			if !seen[t] {
				seen[t] = true
				out = append(out, t)
			}
		}
	}
	return out
}

// roleOf names the role a query runs as: the owner, or the caller's key's.
func roleOf(caller *Caller, owner bool) string {
	if owner || caller.Master {
		return "owner"
	}
	return caller.Role
}
