package importer

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
)

// StagingSchema is where ogr2ogr loads, as in CARTO's importer (Ogr2ogr::SCHEMA).
const StagingSchema = "cdb_importer"

// The column names GDAL turns into a point, as CARTO passes them (Ogr2ogr LONGITUDE_POSSIBLE_NAMES
// and LATITUDE_POSSIBLE_NAMES).
var (
	LongitudeNames = []string{"longitude", "lon", "lng", "longitudedecimal", "longitud", "long", "decimallongitude", "decimallong", "point_longitude"}
	LatitudeNames  = []string{"latitude", "lat", "latitudedecimal", "latitud", "lati", "decimallatitude", "decimallat", "point_latitude"}
)

// Options are an import's guessing switches.
type Options struct {
	// TypeGuessing detects CSV column types and makes a point of lat/lon columns.
	TypeGuessing bool
	// QuotedFieldsGuessing detects the types of quoted CSV fields too.
	QuotedFieldsGuessing bool
}

// Loader runs ogr2ogr into the staging schema of a PostgreSQL.
type Loader struct {
	// PGURL is a superuser URL of the database to load into.
	PGURL string
	// Ogr2ogr and Ogrinfo are the programs; empty means "ogr2ogr" and "ogrinfo" on the PATH.
	Ogr2ogr, Ogrinfo string
}

// Staged is one loaded layer.
type Staged struct {
	Table string // its table in StagingSchema
	Base  string // the name its final table is proposed from: the file's name, or file_layer
	Layer string // its layer in the source ("" when the source has one)
	// Header is a CSV's header as written, which GDAL changes (a repeated name gets "2"), so
	// that the columns are named from it as CARTO names them.
	Header []string
}

// conninfo turns the URL into what GDAL's PostgreSQL driver takes, and the password, which
// goes through the environment so that it never shows in a process list.
func (l *Loader) conninfo() (string, string, error) {
	cfg, err := pgx.ParseConfig(l.PGURL)
	if err != nil {
		return "", "", fmt.Errorf("importer: the PostgreSQL URL: %w", err)
	}
	q := func(s string) string {
		return "'" + strings.ReplaceAll(strings.ReplaceAll(s, `\`, `\\`), "'", `\'`) + "'"
	}
	ci := fmt.Sprintf("PG:host=%s port=%d user=%s dbname=%s", q(cfg.Host), cfg.Port, q(cfg.User), q(cfg.Database))
	return ci, cfg.Password, nil
}

func (l *Loader) prog(name string) string {
	switch {
	case name == "ogr2ogr" && l.Ogr2ogr != "":
		return l.Ogr2ogr
	case name == "ogrinfo" && l.Ogrinfo != "":
		return l.Ogrinfo
	}
	return name
}

// isText reports the formats GDAL's CSV driver reads.
func isText(ext string) bool { return ext == ".csv" || ext == ".tsv" || ext == ".txt" }

// source is how GDAL is told to open file: text formats through the CSV driver whatever their
// extension, JSON through the GeoJSON driver.
func source(file string) string {
	switch ext := Ext(file); {
	case isText(ext):
		return "CSV:" + file
	case ext == ".json" || ext == ".js":
		return "GeoJSON:" + file
	}
	return file
}

// csvHeader reads the first record of a text file with the separator GDAL would find (comma,
// semicolon or tab, whichever the first line has most of); nil when it cannot.
func csvHeader(file string) []string {
	f, err := os.Open(file)
	if err != nil {
		return nil
	}
	defer f.Close()
	br := bufio.NewReader(f)
	line, _ := br.Peek(64 << 10)
	if i := bytes.IndexByte(line, '\n'); i >= 0 {
		line = line[:i]
	}
	sep, best := ',', bytes.Count(line, []byte(","))
	for _, c := range []rune{';', '\t'} {
		if n := bytes.Count(line, []byte(string(c))); n > best {
			sep, best = c, n
		}
	}
	r := csv.NewReader(br)
	r.Comma = sep
	r.LazyQuotes = true
	r.FieldsPerRecord = -1
	rec, err := r.Read()
	if err != nil {
		return nil
	}
	if len(rec) > 0 {
		rec[0] = strings.TrimPrefix(rec[0], "\ufeff")
	}
	return rec
}

var layerLine = regexp.MustCompile(`^\d+: (.*?)(?: \([^()]*\))?$`)

// Layers lists file's layers (ogrinfo).
func (l *Loader) Layers(ctx context.Context, file string) ([]string, error) {
	cmd := exec.CommandContext(ctx, l.prog("ogrinfo"), "-ro", "-q", source(file))
	out, err := cmd.CombinedOutput()
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, classify(file, string(out), err)
	}
	var layers []string
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		if m := layerLine.FindStringSubmatch(sc.Text()); m != nil {
			layers = append(layers, m[1])
		}
	}
	return layers, nil
}

// multiLayer are the formats whose layers become tables of their own (CARTO's splitters).
func multiLayer(ext string) bool {
	switch ext {
	case ".gpkg", ".gpx", ".kml", ".kmz", ".xlsx", ".xls", ".ods":
		return true
	}
	return false
}

// Load loads file into staging tables named prefix_0, prefix_1, ..., one per layer, with
// CARTO's ogr2ogr flags. Empty layers of multi-layer formats are dropped.
func (l *Loader) Load(ctx context.Context, q Querier, file, prefix string, opts Options) ([]Staged, error) {
	if st, err := os.Stat(file); err != nil {
		return nil, Fail(1000, err)
	} else if st.Size() == 0 {
		return nil, Failf(CodeEmptyFile, "%s is empty", filepath.Base(file))
	}
	if _, err := q.Exec(ctx, "CREATE SCHEMA IF NOT EXISTS "+StagingSchema); err != nil {
		return nil, fmt.Errorf("importer: staging schema: %w", err)
	}
	ext := Ext(file)
	base := strings.TrimSuffix(filepath.Base(file), filepath.Ext(file))
	layers := []string{""}
	if multiLayer(ext) {
		var err error
		if layers, err = l.Layers(ctx, file); err != nil {
			return nil, err
		}
		if len(layers) == 0 {
			return nil, Failf(CodeUnsupported, "%s has no layer", filepath.Base(file))
		}
		if len(layers) > 50 {
			return nil, Failf(1019, "%s has %d layers", filepath.Base(file), len(layers))
		}
	}
	var staged []Staged
	for i, layer := range layers {
		table := prefix + "_" + strconv.Itoa(i)
		if _, err := q.Exec(ctx, "DROP TABLE IF EXISTS "+pgx.Identifier{StagingSchema, table}.Sanitize()+" CASCADE"); err != nil {
			return nil, err
		}
		if err := l.run(ctx, file, layer, table, opts); err != nil {
			return nil, err
		}
		st := Staged{Table: table, Base: base, Layer: layer}
		if isText(ext) {
			st.Header = csvHeader(file)
		}
		staged = append(staged, st)
	}
	if len(layers) > 1 {
		// Empty layers (a GPX without routes) make no table; the rest are named after the layer.
		kept := staged[:0]
		for _, s := range staged {
			var n int64
			if err := q.QueryRow(ctx, "SELECT count(*) FROM "+pgx.Identifier{StagingSchema, s.Table}.Sanitize()).Scan(&n); err != nil {
				return nil, err
			}
			if n == 0 {
				if _, err := q.Exec(ctx, "DROP TABLE "+pgx.Identifier{StagingSchema, s.Table}.Sanitize()); err != nil {
					return nil, err
				}
				continue
			}
			kept = append(kept, s)
		}
		staged = kept
		if len(staged) == 0 {
			return nil, Failf(CodeEmptyFile, "every layer of %s is empty", filepath.Base(file))
		}
		if len(staged) > 1 {
			for i := range staged {
				staged[i].Base = base + "_" + staged[i].Layer
			}
		}
	}
	return staged, nil
}

// run is one ogr2ogr.
func (l *Loader) run(ctx context.Context, file, layer, table string, opts Options) error {
	ci, password, err := l.conninfo()
	if err != nil {
		return err
	}
	ext := Ext(file)
	args := []string{"-f", "PostgreSQL"}
	if isText(ext) {
		// CARTO's CSV normalizer takes the first line as the header; GDAL would guess, and take
		// a header of numbers for data.
		args = append(args, "-oo", "HEADERS=YES")
	}
	guessed := isText(ext) && opts.TypeGuessing
	if guessed {
		quoted := "YES"
		if opts.QuotedFieldsGuessing {
			quoted = "NO"
		}
		args = append(args,
			"-oo", "AUTODETECT_TYPE=YES", "-oo", "AUTODETECT_SIZE_LIMIT=20000000",
			"-oo", "QUOTED_FIELDS_AS_STRING="+quoted,
			"-oo", "X_POSSIBLE_NAMES="+strings.Join(LongitudeNames, ","),
			"-oo", "Y_POSSIBLE_NAMES="+strings.Join(LatitudeNames, ","),
			"-s_srs", "EPSG:4326", "-t_srs", "EPSG:4326")
	}
	args = append(args, ci,
		"-lco", "DIM=2", "-lco", "PRECISION=NO", "-lco", "LAUNDER=NO",
		"-lco", "GEOMETRY_NAME=wkb_geometry", "-lco", "FID=ogc_fid", "-lco", "SPATIAL_INDEX=NONE",
		// Staging is unlogged: its rows are written to the WAL once, when Prepare's rewrite
		// makes the table logged, instead of once by COPY and again by that rewrite. A crash
		// empties it, and the import, unfinished, loads again.
		"-lco", "UNLOGGED=ON")
	if !isText(ext) && ext != ".ods" && ext != ".xlsx" && ext != ".xls" {
		args = append(args, "-t_srs", "EPSG:4326")
	}
	args = append(args, source(file))
	if layer != "" {
		args = append(args, layer)
	}
	args = append(args, "-nln", StagingSchema+"."+table)
	if !guessed {
		args = append(args, "-nlt", "PROMOTE_TO_MULTI")
	}
	cmd := exec.CommandContext(ctx, l.prog("ogr2ogr"), args...)
	cmd.Env = append(os.Environ(), "PG_USE_COPY=YES", "PGCLIENTENCODING=UTF-8", "OSM_USE_CUSTOM_INDEXING=NO",
		"PGPASSWORD="+password, "CPL_LOG_ERRORS=ON")
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		return ctx.Err()
	}
	// ogr2ogr can exit 0 after an error that cost rows (a failed COPY batch).
	if err == nil && !bytes.Contains(out, []byte("ERROR 1:")) {
		return nil
	}
	return classify(file, string(out), err)
}

// classify maps ogr2ogr's output to CARTO's error code for it (Ogr2ogr's *_error? checks and
// the loader's handling of them).
func classify(file, out string, err error) error {
	msg := strings.TrimSpace(out)
	if i := strings.Index(msg, "\n  ->"); i >= 0 {
		msg = msg[:i] // the list of drivers tried says nothing
	}
	if len(msg) > 2000 {
		msg = msg[:2000]
	}
	cause := fmt.Errorf("ogr2ogr: %s", msg)
	if msg == "" && err != nil {
		cause = fmt.Errorf("ogr2ogr: %w", err)
	}
	ext := Ext(file)
	switch {
	case strings.Contains(out, "nrecognized GeoJSON"):
		return Fail(CodeInvalidGeoJSON, cause)
	case strings.Contains(out, "Unable to open datasource") || strings.Contains(out, "not recognized as a supported file format"):
		if ext == ".json" || ext == ".geojson" || ext == ".js" {
			return Fail(CodeInvalidGeoJSON, cause)
		}
		return Fail(CodeUnsupported, cause)
	case strings.Contains(out, "tables can have at most 1600 columns"):
		return Fail(CodeTooManyColumns, cause)
	case strings.Contains(out, "specified more than once") || regexp.MustCompile(`column .* of relation .* already exists`).MatchString(out):
		return Fail(CodeDuplicatedColumn, cause)
	case strings.Contains(out, "has no equivalent in encoding") || strings.Contains(out, "invalid byte sequence for encoding"):
		return Fail(CodeEncoding, cause)
	case strings.Contains(strings.ToLower(out), "canceling statement due to statement timeout"):
		return Fail(CodeTimeout, cause)
	case strings.Contains(out, "source layer has no coordinate system"):
		return Fail(3101, cause)
	}
	var ee *exec.Error
	if errors.As(err, &ee) {
		return Fail(1, fmt.Errorf("GDAL's ogr2ogr is not installed (Debian: apt-get install gdal-bin): %w", err))
	}
	return Fail(CodeLoad, cause)
}
