package account

import (
	"archive/zip"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/gocarto/carto/cartolocal/internal/registry"
	"github.com/gocarto/carto/cartolocal/internal/users"
)

// The .carto file, as CARTO's VisualizationExporter writes it and its importer reads it back
// (lib/carto/visualization_exporter.rb; services/importer/spec/fixtures/*.carto):
//
//	<viz id>/                    one directory, named after the map's id
//	<viz id>/<viz id>.carto.json the map: {"version": "2.0.0", "visualization": {...}}
//	<viz id>/<table>.gpkg        each exported table's rows (SELECT * without
//	                             the_geom_webmercator), one GeoPackage layer named as the table
//
// The visualization object carries CARTO's keys (name, description, type "derived", tags,
// privacy, map, layers with one "carto" layer per table naming it in options.table_name, user,
// permission, ...). cartolocal adds "mapconfig": the map's stored definition (a Maps API
// MapConfig), so that an import can re-create the very same map; CARTO's importer ignores keys it
// does not know. To re-import (the Import API's job): create each table from its .gpkg with
// ogr2ogr, cartodbfy and register it, then registry.CreateMap with the JSON's name, description,
// tags, privacy, the tables of its layers and its mapconfig.

// CartoVersion is the version of the .carto JSON cartolocal writes.
const CartoVersion = "2.0.0"

// CartoFile is the JSON of a .carto file.
type CartoFile struct {
	Version       string         `json:"version"`
	Visualization CartoVizExport `json:"visualization"`
}

// CartoVizExport is the map inside a .carto file.
type CartoVizExport struct {
	ID              string         `json:"id"`
	Name            string         `json:"name"`
	Description     string         `json:"description"`
	Type            string         `json:"type"`
	Tags            []string       `json:"tags"`
	Privacy         string         `json:"privacy"`
	Source          *string        `json:"source"`
	License         *string        `json:"license"`
	Title           *string        `json:"title"`
	Kind            string         `json:"kind"`
	Attributions    *string        `json:"attributions"`
	BBox            *string        `json:"bbox"`
	DisplayName     *string        `json:"display_name"`
	Map             map[string]any `json:"map"`
	Layers          []CartoLayer   `json:"layers"`
	Overlays        []any          `json:"overlays"`
	Analyses        []any          `json:"analyses"`
	User            map[string]any `json:"user"`
	Permission      map[string]any `json:"permission"`
	Synchronization *struct{}      `json:"synchronization"`
	CreatedAt       railsTime      `json:"created_at"`
	UpdatedAt       railsTime      `json:"updated_at"`
	Locked          bool           `json:"locked"`
	Version         int            `json:"version"`
	MapConfig       jsontext.Value `json:"mapconfig,omitzero"`
	State           map[string]any `json:"state"`
	ExternalSource  *string        `json:"external_source"`
	Extra           map[string]any `json:",unknown"`
}

// CartoLayer is one layer of an exported map.
type CartoLayer struct {
	Options    map[string]any `json:"options"`
	Kind       string         `json:"kind"`
	Infowindow *struct{}      `json:"infowindow"`
	Tooltip    *struct{}      `json:"tooltip"`
	Widgets    []any          `json:"widgets"`
}

// safeName turns a map name into a file name as Carto::FileSystem::Sanitize does, roughly: no
// path separators or characters file systems refuse.
func safeName(name string) string {
	s := strings.Map(func(r rune) rune {
		if strings.ContainsRune(`/\:*?"<>|`, r) || r < 32 {
			return '_'
		}
		return r
	}, name)
	if strings.TrimSpace(s) == "" {
		return "map"
	}
	return s
}

// writeCarto writes the export of v to a temporary zip and returns its path and the name the
// download gives it.
func (s *Server) writeCarto(ctx context.Context, u *users.User, v registry.Visualization, tableIDs []string) (string, string, error) {
	work, err := os.MkdirTemp(s.dir, "export-")
	if err != nil {
		return "", "", err
	}
	defer os.RemoveAll(work)

	file := CartoFile{Version: CartoVersion, Visualization: CartoVizExport{
		ID: v.ID, Name: v.Name, Description: v.Description, Type: v.Type, Tags: v.Tags, Privacy: v.Privacy,
		Kind: "geom", Overlays: []any{}, Analyses: []any{}, Layers: []CartoLayer{},
		Map:        map[string]any{"provider": "leaflet", "bounding_box_sw": "[-85.0511, -179]", "bounding_box_ne": "[85.0511, 179]", "center": "[30, 0]", "zoom": 3},
		User:       map[string]any{"username": u.Name},
		Permission: map[string]any{"owner": map[string]any{"username": u.Name}, "acl": []any{}},
		CreatedAt:  railsTime(v.CreatedAt), UpdatedAt: railsTime(v.UpdatedAt), Version: 3,
		MapConfig: jsontext.Value(v.Definition), State: map[string]any{"json": map[string]any{}},
	}}
	var tables []string
	for _, t := range v.Tables {
		ds, err := s.d.Registry.TableByName(ctx, u.Name, t)
		if err != nil {
			return "", "", fmt.Errorf("table %q: %w", t, err)
		}
		file.Visualization.Layers = append(file.Visualization.Layers, CartoLayer{
			Kind: "carto", Widgets: []any{},
			Options: map[string]any{"type": "CartoDB", "table_name": t, "user_name": u.Name, "query": "",
				"tile_style": "#" + t + " { marker-fill: #FF6600; line-color: #FF6600; polygon-fill: #FF6600; }"},
		})
		if len(tableIDs) == 0 || contains(tableIDs, ds.ID) {
			tables = append(tables, t)
		}
	}
	for _, t := range tables {
		if err := s.exportTable(ctx, u, t, filepath.Join(work, t+".gpkg")); err != nil {
			return "", "", err
		}
	}
	name := fmt.Sprintf("%s (on %s).carto", safeName(v.Name), time.Now().UTC().Format("2006-01-02 at 15.04.05"))
	out, err := os.CreateTemp(s.dir, "carto-*.zip")
	if err != nil {
		return "", "", err
	}
	zw := zip.NewWriter(out)
	err = func() error {
		if _, err := zw.Create(v.ID + "/"); err != nil {
			return err
		}
		jw, err := zw.Create(v.ID + "/" + v.ID + ".carto.json")
		if err != nil {
			return err
		}
		if err := json.MarshalWrite(jw, file, jsontext.WithIndent("  ")); err != nil {
			return err
		}
		for _, t := range tables {
			if err := addFile(zw, v.ID+"/"+t+".gpkg", filepath.Join(work, t+".gpkg")); err != nil {
				return err
			}
		}
		return zw.Close()
	}()
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(out.Name())
		return "", "", err
	}
	return out.Name(), name, nil
}

// addFile streams a file into the zip.
func addFile(zw *zip.Writer, name, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	w, err := zw.Create(name)
	if err != nil {
		return err
	}
	_, err = io.Copy(w, f)
	return err
}

// exportTable writes a table's rows to a GeoPackage with ogr2ogr, as CARTO's exporter fetches
// each table in its default format (gpkg) from the SQL API; the_geom_webmercator stays out, as
// the SQL API's exports leave it out.
func (s *Server) exportTable(ctx context.Context, u *users.User, table, path string) error {
	var cols []string
	rows, err := s.d.Admin.Query(ctx, `
SELECT attname::text FROM pg_attribute WHERE attrelid = format('%I.%I', $1::text, $2::text)::regclass
	AND attnum > 0 AND NOT attisdropped AND attname <> 'the_geom_webmercator' ORDER BY attnum`, u.Schema, table)
	if err != nil {
		return fmt.Errorf("columns of %q: %w", table, err)
	}
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			rows.Close()
			return err
		}
		cols = append(cols, pgx.Identifier{c}.Sanitize())
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	sql := "SELECT " + strings.Join(cols, ", ") + " FROM " + pgx.Identifier{u.Schema, table}.Sanitize()
	conninfo, err := s.conninfo()
	if err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, "ogr2ogr", "-f", "GPKG", path, "PG:"+conninfo, "-sql", sql, "-nln", table)
	cmd.Env = append(os.Environ(), "PGCLIENTENCODING=UTF8")
	if out, err := cmd.CombinedOutput(); err != nil {
		// ogr2ogr's message can quote the connection string: keep its first line, without it.
		msg, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
		msg = strings.ReplaceAll(msg, conninfo, "…")
		return fmt.Errorf("ogr2ogr %s: %w: %s", table, err, msg)
	}
	return nil
}

// conninfo is the superuser's libpq connection string for ogr2ogr, whose PostgreSQL driver takes
// key=value pairs, not URLs.
func (s *Server) conninfo() (string, error) {
	cfg, err := pgconn.ParseConfig(s.d.PGURL)
	if err != nil {
		return "", fmt.Errorf("account: the database URL: %w", err)
	}
	q := func(v string) string { return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(v) + "'" }
	parts := []string{"host=" + q(cfg.Host), "port=" + fmt.Sprint(cfg.Port), "dbname=" + q(cfg.Database), "user=" + q(cfg.User)}
	if cfg.Password != "" {
		parts = append(parts, "password="+q(cfg.Password))
	}
	return strings.Join(parts, " "), nil
}

func contains(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}
