package importer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/gocarto/carto/cartolocal/internal/registry"
	"github.com/gocarto/carto/internal/pgscan"
)

// A .carto file is a map export (cartolocal's account server writes them as CARTO's
// VisualizationExporter does): a zip of one directory holding <map id>.carto.json, the map, and
// a <table>.gpkg of each table exported with its data. The importer unpacks it like any zip; its
// tables are imported like any file, and the .carto.json is set apart and read here
// (Runner#visualization_files, VisualizationsExportService2#build_visualization_from_json_export).
// When the import has create_vis, the import server makes the map again in the importing account
// (VisualizationsExportPersistenceService#save_import) from CartoMap.Imported: its layers follow
// the tables the import renamed, and its queries the importing account's schema. Without
// create_vis CARTO keeps only the tables, and so do we.

// cartoJSONExt ends the name of the map's file in a .carto (VisualizationExporter's
// EXPORT_EXTENSION).
const cartoJSONExt = ".carto.json"

// cartoVersionMajor is the export version CARTO's importer reads: a file whose version's major
// part differs is refused ("Wrong export version").
const cartoVersionMajor = 2

// maxCartoJSON bounds the map's JSON; CARTO's are some KiB.
const maxCartoJSON = 16 << 20

// isCartoJSON reports whether an unpacked file is a map (it is not imported as a table).
func isCartoJSON(path string) bool {
	return strings.HasSuffix(strings.ToLower(filepath.Base(path)), cartoJSONExt)
}

// CartoMap is the map of a .carto file, as the import needs it.
type CartoMap struct {
	Name        string   // the map's name
	Description string   // its description
	Type        string   // CARTO's visualization type: "derived" for a map
	Privacy     string   // public, link, private or password, lower case
	Tags        []string // its tags
	// User is the exporting user: its schema qualifies the tables in the map's queries.
	User   string
	Layers []CartoLayer // its data layers, in order
	// MapConfig is cartolocal's definition of the map (a Maps API MapConfig); a file written by
	// CARTO has none, and the definition is made from the layers.
	MapConfig json.RawMessage
}

// CartoLayer is a data layer of a .carto map (kind "carto": CARTO's layer on a table).
type CartoLayer struct {
	Table        string // the exported table it draws
	Query        string // its SQL; "" draws the whole table
	Style        string // its CartoCSS
	StyleVersion string // the CartoCSS version
}

// readCartoJSON reads a .carto.json. A file that is not JSON, of another export version, or
// without its visualization and layers fails as CARTO's importer fails on it: 99999 (the
// exception it raises is in no table of codes).
func readCartoJSON(path string) (*CartoMap, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, Fail(1000, err)
	}
	defer f.Close()
	var doc struct {
		Version       json.RawMessage `json:"version"`
		Visualization *struct {
			Name        string   `json:"name"`
			Description *string  `json:"description"`
			Type        string   `json:"type"`
			Tags        []string `json:"tags"`
			Privacy     string   `json:"privacy"`
			User        *struct {
				Username string `json:"username"`
			} `json:"user"`
			Layers *[]struct {
				Kind    string          `json:"kind"`
				Options json.RawMessage `json:"options"`
			} `json:"layers"`
			MapConfig json.RawMessage `json:"mapconfig"`
		} `json:"visualization"`
	}
	name := filepath.Base(path)
	dec := json.NewDecoder(io.LimitReader(f, maxCartoJSON))
	if err := dec.Decode(&doc); err != nil {
		return nil, Failf(CodeUnknown, "%s: %v", name, err)
	}
	if !compatibleVersion(doc.Version) {
		return nil, Failf(CodeUnknown, "%s: Wrong export version", name)
	}
	v := doc.Visualization
	if v == nil || v.Layers == nil {
		return nil, Failf(CodeUnknown, "%s: no visualization with layers", name)
	}
	m := &CartoMap{Name: v.Name, Type: v.Type, Privacy: strings.ToLower(v.Privacy), Tags: v.Tags}
	if v.Description != nil {
		m.Description = *v.Description
	}
	if v.User != nil {
		m.User = v.User.Username
	}
	if len(v.MapConfig) > 0 && string(v.MapConfig) != "null" {
		m.MapConfig = v.MapConfig
	}
	for _, l := range *v.Layers {
		if l.Kind != "carto" {
			continue // base maps, labels: no table
		}
		var o struct {
			TableName    string `json:"table_name"`
			Query        string `json:"query"`
			TileStyle    string `json:"tile_style"`
			StyleVersion string `json:"style_version"`
			UserName     string `json:"user_name"`
		}
		if err := json.Unmarshal(l.Options, &o); err != nil {
			return nil, Failf(CodeUnknown, "%s: a layer's options: %v", name, err)
		}
		if o.TableName == "" {
			continue
		}
		if m.User == "" {
			m.User = o.UserName
		}
		m.Layers = append(m.Layers, CartoLayer{Table: o.TableName, Query: o.Query, Style: o.TileStyle, StyleVersion: o.StyleVersion})
	}
	return m, nil
}

// compatibleVersion is CARTO's check, version.to_i == 2: Ruby's to_i reads the leading digits
// of "2.1.4" (and a bare number is itself).
func compatibleVersion(raw json.RawMessage) bool {
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		var n float64
		if err := json.Unmarshal(raw, &n); err != nil {
			return false
		}
		return int(n) == cartoVersionMajor
	}
	s = strings.TrimSpace(s)
	end := 0
	for end < len(s) && s[end] >= '0' && s[end] <= '9' {
		end++
	}
	n, err := strconv.Atoi(s[:end])
	return err == nil && n == cartoVersionMajor
}

// MapSpec is a map for the account's registry to make (the import server's Config.CreateMap).
type MapSpec struct {
	// Name is the map's name; empty means CARTO's default for a new map.
	Name        string
	Description string
	Tags        []string
	// Privacy is public, link, private or password; empty means the registry's default.
	Privacy string
	// Tables are the account's tables the map shows.
	Tables []string
	// Definition is the map's MapConfig; nil means one layer per table.
	Definition json.RawMessage
	// Imported names the map as an imported one: a taken name gets " Import", then
	// " Import 2", " Import 3", ... (VisualizationsExportPersistenceService#ensure_unique_name).
	Imported bool
}

// Imported turns a .carto's map into the map to make in the account whose tables are in schema
// and owned by role: tables renamed by the import (renamed maps the exported name to the new
// one) and queries pointed at schema. Tables of the map that are not in the account (a .carto
// exported without that table's data) are left out, as their layers would draw nothing; with
// none left there is no map to make, and the bool is false.
func (m *CartoMap) Imported(ctx context.Context, q Querier, schema, role string, renamed map[string]string) (MapSpec, bool, error) {
	privacy := m.Privacy
	if privacy == "password" {
		// The password is not exported: CARTO falls back to private (apply_user_limits).
		privacy = "private"
	}
	spec := MapSpec{Name: m.Name, Description: m.Description, Tags: m.Tags, Privacy: privacy, Imported: true}
	newName := func(t string) string {
		if n, ok := renamed[t]; ok {
			return n
		}
		return t
	}
	for _, l := range m.Layers {
		t := newName(l.Table)
		if contains(spec.Tables, t) {
			continue
		}
		var ok bool
		if err := q.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r', 'v', 'm', 'p'))`, schema, t).Scan(&ok); err != nil {
			return spec, false, err
		}
		if ok {
			spec.Tables = append(spec.Tables, t)
		}
	}
	if len(spec.Tables) == 0 {
		return spec, false, nil
	}
	rewrite := func(sql string) string {
		out := rewriteSQL(sql, m.User, schema, renamed)
		if out != sql && !validQuery(ctx, q, schema, role, out) && validQuery(ctx, q, schema, role, sql) {
			// As Carto::QueryRewriter: a rewrite that does not run leaves the query as it was.
			// (CARTO keeps it even when neither runs; a query with Windshaft's tokens, such as
			// !bbox!, runs in neither form, and the rewritten one is the one to keep.)
			return sql
		}
		return out
	}
	if m.MapConfig != nil {
		var cfg any
		if err := json.Unmarshal(m.MapConfig, &cfg); err != nil {
			return spec, false, Failf(CodeUnknown, "the map's mapconfig: %v", err)
		}
		b, err := json.Marshal(rewriteQueries(cfg, rewrite))
		if err != nil {
			return spec, false, err
		}
		spec.Definition = b
		return spec, true, nil
	}
	spec.Definition = definitionFromLayers(schema, m.Layers, newName, rewrite)
	return spec, true, nil
}

// definitionFromLayers makes a MapConfig of a map CARTO exported: one layer per data layer, with
// its query (or all of its table) and its CartoCSS.
func definitionFromLayers(schema string, layers []CartoLayer, newName func(string) string, rewrite func(string) string) json.RawMessage {
	def := make([]registry.Layer, len(layers))
	for i, l := range layers {
		def[i] = registry.Layer{SQL: "SELECT * FROM " + pgx.Identifier{schema, newName(l.Table)}.Sanitize(),
			CartoCSS: l.Style, CartoCSSVersion: l.StyleVersion}
		if strings.TrimSpace(l.Query) != "" {
			def[i].SQL = rewrite(l.Query)
		}
	}
	return registry.Definition(def)
}

// rewriteQueries rewrites every "sql" and "query" string of a MapConfig (layers' options,
// analyses' parameters) with f.
func rewriteQueries(v any, f func(string) string) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if s, ok := e.(string); ok && (k == "sql" || k == "query") {
				x[k] = f(s)
				continue
			}
			x[k] = rewriteQueries(e, f)
		}
	case []any:
		for i, e := range x {
			x[i] = rewriteQueries(e, f)
		}
	}
	return v
}

// rewriteSQL points a query of an exported map at the importing account, as
// Carto::QueryRewriter does: a name qualified by the exporting user's schema gets newSchema, and
// every identifier naming a table the import renamed gets the new name. It goes token by token
// (internal/pgscan), so strings and comments stay as they are. A query the scanner cannot read
// is returned unchanged.
func rewriteSQL(sql, oldSchema, newSchema string, renamed map[string]string) string {
	type tok struct {
		pgscan.Token
		name string // the identifier's name; "" for other tokens
	}
	var toks []tok
	for i := 0; i < len(sql); {
		t, err := pgscan.Next(sql, i)
		if err != nil {
			return sql
		}
		x := tok{Token: t}
		switch text := sql[t.Start:t.End]; t.Kind {
		case pgscan.Ident:
			x.name = strings.ToLower(text) // PostgreSQL folds unquoted names (ASCII only)
		case pgscan.QuotedIdent:
			if strings.HasPrefix(text, `"`) { // U&"..." stays as written
				x.name = strings.ReplaceAll(text[1:len(text)-1], `""`, `"`)
			}
		}
		toks = append(toks, x)
		i = t.End
	}
	next := func(i int) int { // the next token that is not space or comment
		for i++; i < len(toks) && (toks[i].Kind == pgscan.Space || toks[i].Kind == pgscan.Comment); i++ {
		}
		return i
	}
	var b strings.Builder
	last := 0
	changed := false
	for i, t := range toks {
		if t.name == "" {
			continue
		}
		var to string
		if j := next(i); oldSchema != "" && t.name == oldSchema && j < len(toks) && sql[toks[j].Start:toks[j].End] == "." {
			to = newSchema
		} else if n, ok := renamed[t.name]; ok && n != t.name {
			to = n
		}
		if to == "" || to == t.name {
			continue
		}
		b.WriteString(sql[last:t.Start])
		b.WriteString(pgscan.QuoteIdent(to))
		last, changed = t.End, true
	}
	if !changed {
		return sql
	}
	b.WriteString(sql[last:])
	return b.String()
}

// validQuery reports whether sql runs in the account of schema and role: EXPLAIN as the role,
// one statement (the extended protocol takes no more), rolled back.
func validQuery(ctx context.Context, q Querier, schema, role, sql string) bool {
	db, ok := q.(interface {
		Begin(context.Context) (pgx.Tx, error)
	})
	if !ok {
		return false
	}
	err := pgx.BeginFunc(ctx, db, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SET LOCAL ROLE "+pgx.Identifier{role}.Sanitize()+"; SET LOCAL search_path TO "+pgx.Identifier{schema}.Sanitize()+", cartodb, public"); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "EXPLAIN "+sql, pgx.QueryExecModeExec); err != nil {
			return err
		}
		return errRollback
	})
	return errors.Is(err, errRollback)
}

// errRollback ends a transaction that only checked something.
var errRollback = errors.New("rollback")

func contains(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}

// CartoMaps reads the maps among an import's unpacked files and returns the other files. A map
// that cannot be read is err, which the import reports once its tables are in (CARTO reads the
// maps after loading the tables, and its import then completes with 99999).
func CartoMaps(files []string) (tables []string, maps []*CartoMap, err error) {
	for _, f := range files {
		if !isCartoJSON(f) {
			tables = append(tables, f)
			continue
		}
		m, rerr := readCartoJSON(f)
		if rerr != nil {
			if err == nil {
				err = fmt.Errorf("reading %s: %w", filepath.Base(f), rerr)
			}
			continue
		}
		maps = append(maps, m)
	}
	return tables, maps, err
}
