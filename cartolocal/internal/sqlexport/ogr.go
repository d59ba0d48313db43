package sqlexport

// The file formats CARTO's SQL API writes with ogr2ogr (lib/models/formats/ogr.js and ogr/*.js):
// shp (zipped), kml, gpkg and spatialite. They are written the same way here, by the same tool
// (Debian's gdal-bin) with the same arguments, into a temporary directory, then sent. Where
// cartolocal differs, on purpose:
//   - the role's password goes to ogr2ogr in PGPASSWORD rather than in the PG: string of its
//     command line, where any process listing shows it;
//   - the Shapefile's files are zipped by archive/zip (deflate, no directories, as zip -qrj);
//   - the request's context kills ogr2ogr when the client goes away.

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gocarto/carto/cartolocal/internal/httpapi"
	"github.com/gocarto/carto/internal/pgscan"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Format is one of the formats ogr2ogr writes.
type Format struct {
	driver  string   // ogr2ogr -f
	ctype   string   // Content-Type
	ext     string   // the file's extension (Content-Disposition's, and the file's)
	needSRS bool     // pass -a_srs and -nlt from the first geometry (every ogr format but CSV)
	extra   []string // format-specific arguments, before -nln
	zipped  bool     // a directory of files sent as one zip (Shapefile)
}

// Formats are CARTO's, by format parameter. spatialite passes no SPATIALITE=yes: CARTO's
// spatialite.js sets that option after the export has started, so it never reaches ogr2ogr, and
// its files are GDAL's plain SQLite flavour.
var Formats = map[string]*Format{
	"shp":        {driver: "ESRI Shapefile", ctype: "application/zip; charset=utf-8", ext: "zip", needSRS: true, zipped: true},
	"kml":        {driver: "KML", ctype: "application/kml; charset=utf-8", ext: "kml", needSRS: true},
	"gpkg":       {driver: "GPKG", ctype: "application/x-sqlite3; charset=utf-8", ext: "gpkg", needSRS: true, extra: []string{"-lco", "FID=cartodb_id"}},
	"spatialite": {driver: "SQLite", ctype: "application/x-sqlite3; charset=utf-8", ext: "sqlite", needSRS: true},
}

// csvOGR is CARTO's CSV export through ogr2ogr. cartolocal streams CSV itself (format_csv.go,
// which says why); this is kept for the benchmark that compares the two.
var csvOGR = &Format{driver: "CSV", ctype: "text/csv; charset=utf-8; header=present", ext: "csv"}

// ContentType is the format's Content-Type.
func (f *Format) ContentType() string { return f.ctype }

// Ext is the extension of the format's file, for Content-Disposition.
func (f *Format) Ext() string { return f.ext }

// geomColumn is CARTO's geometry column, which ogr2ogr gets first.
const geomColumn = "the_geom"

// exportTimeout is CARTO's export_command_timeout: ogr2ogr is killed after it.
const exportTimeout = 5 * time.Minute

// Export is one export being built.
type Export struct {
	f        *Format
	sql      string // the user's query, trailing semicolon dropped
	layer    string // the sanitized filename: the layer's name (-nln) and the files' base name
	skip     func(string) bool
	geometry map[uint32]bool // OIDs of PostGIS geometry
}

// New is the export of sql (the wrapped query, trailing semicolon dropped) in format f, as layer
// (the sanitized filename: the layer's name and the files' base name), without the columns skip
// names (nil skips none). ext are the database's PostGIS type names by OID
// (pgvalue.LoadExtTypes), from which the geometry columns are known.
func New(f *Format, sql, layer string, skip func(string) bool, ext map[uint32]string) *Export {
	return &Export{f: f, sql: sql, layer: layer, skip: skip, geometry: geometryOIDs(ext)}
}

// ogrColumns runs CARTO's LIMIT 0 query and returns the columns ogr2ogr gets, in CARTO's order
// (skipfields dropped, the_geom first), and the first geometry column, if any.
func (e *Export) ogrColumns(ctx context.Context, pgc *pgconn.PgConn) (cols []string, geocol string, err error) {
	mrr := pgc.Exec(ctx, "SELECT * FROM ("+e.sql+") as _cartodbsqlapi LIMIT 0")
	var fds []pgconn.FieldDescription
	for mrr.NextResult() {
		rr := mrr.ResultReader()
		if d := rr.FieldDescriptions(); d != nil {
			fds = slices.Clone(d)
		}
		if _, err := rr.Close(); err != nil {
			break
		}
	}
	if err := mrr.Close(); err != nil {
		return nil, "", err
	}
	fds = slices.DeleteFunc(fds, func(fd pgconn.FieldDescription) bool { return e.skip != nil && e.skip(fd.Name) })
	slices.SortStableFunc(fds, func(a, b pgconn.FieldDescription) int {
		switch {
		case a.Name == geomColumn && b.Name != geomColumn:
			return -1
		case b.Name == geomColumn && a.Name != geomColumn:
			return 1
		}
		return 0
	})
	for _, fd := range fds {
		if e.f.needSRS && geocol == "" && e.geometry[fd.DataTypeOID] {
			geocol = fd.Name
		}
		col := pgscan.QuoteIdent(fd.Name)
		if e.f == csvOGR {
			col += "::text"
		}
		cols = append(cols, col)
	}
	return cols, geocol, nil
}

// srsOf runs CARTO's query for the SRID and type of the first non-null geometry.
func (e *Export) srsOf(ctx context.Context, pgc *pgconn.PgConn, geocol string) (srid, typ string, err error) {
	q := pgscan.QuoteIdent(geocol)
	rr := pgc.ExecParams(ctx, "SELECT ST_Srid("+q+") as srid, GeometryType("+q+") as type FROM ("+e.sql+") as _cartodbsqlapi WHERE "+
		q+" is not null limit 1", nil, nil, nil, nil)
	for rr.NextRow() {
		v := rr.Values()
		srid, typ = string(v[0]), string(v[1])
	}
	_, err = rr.Close()
	return srid, typ, err
}

// args is ogr2ogr's command line, as CARTO's toOGR builds it (the password aside).
func (e *Export) args(out string, cfg *pgconn.Config, cols []string, srid, typ string) []string {
	args := []string{
		"-f", e.f.driver,
		"-lco", "RESIZE=YES",
		"-lco", "ENCODING=UTF-8",
		"-lco", "STRING_QUOTING=IF_NEEDED",
		"-lco", "LINEFORMAT=CRLF",
		out,
		"PG:host=" + cfg.Host + " port=" + strconv.Itoa(int(cfg.Port)) + " user=" + cfg.User + " dbname=" + cfg.Database,
		"-sql", "SELECT " + strings.Join(cols, ",") + " FROM (" + e.sql + ") as _cartodbsqlapi",
	}
	if srid != "" && srid != "0" {
		args = append(args, "-a_srs", "EPSG:"+srid)
	}
	if typ != "" {
		args = append(args, "-nlt", typ)
	}
	args = append(args, e.f.extra...)
	return append(args, "-nln", e.layer)
}

// Build writes the export into dir and returns the file to send. Errors are CARTO's: the
// database's for the two queries, "ogr2ogr command return code N, Error: ..." for ogr2ogr (an
// *httpapi.Error), ErrTimeout when it ran out of time.
func (e *Export) Build(ctx context.Context, conn *pgxpool.Conn, dir string) (string, error) {
	pgc := conn.Conn().PgConn()
	cols, geocol, err := e.ogrColumns(ctx, pgc)
	if err != nil {
		return "", err
	}
	var srid, typ string
	if geocol != "" {
		if srid, typ, err = e.srsOf(ctx, pgc, geocol); err != nil {
			return "", err
		}
	}
	out := filepath.Join(dir, "cartodb-query."+e.f.ext)
	if e.f.zipped {
		out = filepath.Join(dir, "shp", e.layer+".shp")
		if err := os.Mkdir(filepath.Dir(out), 0o700); err != nil {
			return "", err
		}
	}
	cfg := &conn.Conn().Config().Config
	ctx, cancel := context.WithTimeout(ctx, exportTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "ogr2ogr", e.args(out, cfg, cols, srid, typ)...)
	cmd.Env = append(os.Environ(), "PGPASSWORD="+cfg.Password, "PGSSLMODE=disable", "PGOPTIONS="+pgOptions(cfg.RuntimeParams))
	var stderr bytes.Buffer
	cmd.Stderr = &limitedBuffer{b: &stderr, max: 64 << 10}
	if err := cmd.Run(); err != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return "", ErrTimeout
		}
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			return "", fmt.Errorf("running ogr2ogr: %w", err)
		}
		msg := "ogr2ogr command return code " + strconv.Itoa(ee.ExitCode())
		if stderr.Len() > 0 {
			msg += ", Error: " + stderr.String()
		}
		return "", httpapi.BadRequest(msg)
	}
	if !e.f.zipped {
		return out, nil
	}
	zipPath := filepath.Join(dir, "cartodb-query.zip")
	return zipPath, zipDir(filepath.Dir(out), zipPath)
}

// ErrTimeout is an export that ogr2ogr did not finish in CARTO's export_command_timeout: the SQL
// API answers it as a statement timeout.
var ErrTimeout = errors.New("sqlexport: ogr2ogr ran out of time")

// pgOptions passes the session settings of the account's pools (search_path, TimeZone,
// statement_timeout) to ogr2ogr's own connection, as libpq's PGOPTIONS: CARTO's roles carry them
// with ALTER ROLE, cartolocal's pools set them per connection.
func pgOptions(params map[string]string) string {
	var b strings.Builder
	for _, k := range slices.Sorted(maps.Keys(params)) {
		if k == "application_name" {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString("-c ")
		b.WriteString(k)
		b.WriteByte('=')
		for _, r := range params[k] {
			if r == ' ' || r == '\\' {
				b.WriteByte('\\')
			}
			b.WriteRune(r)
		}
	}
	return b.String()
}

// zipDir zips the files of dir, without their directory, as zip -qrj does.
func zipDir(dir, zipPath string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	f, err := os.Create(zipPath)
	if err != nil {
		return err
	}
	defer f.Close()
	zw := zip.NewWriter(f)
	for _, ent := range entries {
		if err := addToZip(zw, filepath.Join(dir, ent.Name())); err != nil {
			return err
		}
	}
	if err := zw.Close(); err != nil {
		return err
	}
	return f.Close()
}

func addToZip(zw *zip.Writer, path string) error {
	info, err := os.Stat(path)
	if err != nil {
		return err
	}
	hdr, err := zip.FileInfoHeader(info)
	if err != nil {
		return err
	}
	hdr.Method = zip.Deflate
	w, err := zw.CreateHeader(hdr)
	if err != nil {
		return err
	}
	src, err := os.Open(path)
	if err != nil {
		return err
	}
	defer src.Close()
	_, err = io.Copy(w, src)
	return err
}

// limitedBuffer keeps the first max bytes written to it and drops the rest, so a chatty ogr2ogr
// costs bounded memory.
type limitedBuffer struct {
	b   *bytes.Buffer
	max int
}

func (l *limitedBuffer) Write(p []byte) (int, error) {
	if room := l.max - l.b.Len(); room > 0 {
		l.b.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

// geometryOIDs picks the OIDs of PostGIS's geometry type out of the database's extension types.
func geometryOIDs(ext map[uint32]string) map[uint32]bool {
	m := map[uint32]bool{}
	for oid, name := range ext {
		if name == "geometry" {
			m[oid] = true
		}
	}
	return m
}
