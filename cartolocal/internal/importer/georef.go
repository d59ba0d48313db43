package importer

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Querier is what the importer needs of a connection, pool or transaction.
type Querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// geometryNames are the columns read as geometry, first match wins (Georeferencer).
var geometryNames = []string{"geometry", "the_geom", "wkb_geometry", "geom", "geojson", "wkt"}

var (
	geojsonRE = regexp.MustCompile(`(?s)\{.*"type".*"coordinates"`)
	wkbRE     = regexp.MustCompile(`^\d{2}`)
	wktRE     = regexp.MustCompile(`(?i)POINT|LINESTRING|POLYGON|GEOMETRYCOLLECTION`)
)

type column struct {
	name string
	typ  string // format_type
}

func columns(ctx context.Context, q Querier, qtable string) ([]column, error) {
	rows, err := q.Query(ctx, `SELECT a.attname, format_type(a.atttypid, a.atttypmod) FROM pg_attribute a
WHERE a.attrelid = $1::regclass AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum`, qtable)
	if err != nil {
		return nil, err
	}
	var cols []column
	for rows.Next() {
		var c column
		if err := rows.Scan(&c.name, &c.typ); err != nil {
			rows.Close()
			return nil, err
		}
		cols = append(cols, c)
	}
	return cols, rows.Err()
}

// Prepare turns a staged table into what cartodbfy takes, as CARTO's importer does after
// ogr2ogr: column names sanitized, varchar made text, a geometry column found and made the_geom
// (WKT, GeoJSON or hex WKB text parsed; points kept POINT, lines and polygons MULTI; 2D), or
// made from lat/lon columns, or added empty; ogc_fid kept as cartodb_id.
func Prepare(ctx context.Context, q Querier, st Staged, opts Options) error {
	qt := pgx.Identifier{StagingSchema, st.Table}.Sanitize()
	cols, err := columns(ctx, q, qt)
	if err != nil {
		return err
	}
	if err := sanitizeColumns(ctx, q, qt, cols, st.Header); err != nil {
		return err
	}
	if cols, err = columns(ctx, q, qt); err != nil {
		return err
	}
	for _, c := range cols {
		if strings.HasPrefix(c.typ, "character varying") || strings.HasPrefix(c.typ, "character(") {
			if _, err := q.Exec(ctx, fmt.Sprintf("ALTER TABLE %s ALTER COLUMN %s TYPE text", qt, ident(c.name))); err != nil {
				return err
			}
		}
	}
	// The key goes before the rewrite georeference may do, which would rebuild it for nothing.
	if err := dropPrimaryKey(ctx, q, qt); err != nil {
		return err
	}
	if err := georeference(ctx, q, qt, opts); err != nil {
		return err
	}
	if err := fidToCartodbID(ctx, q, qt); err != nil {
		return err
	}
	// ogr2ogr loads into an unlogged table; the table the account gets must survive a crash.
	// georeference's rewrite made it logged already when there was one.
	if unlogged, err := isUnlogged(ctx, q, qt); err != nil || !unlogged {
		return err
	}
	_, err = q.Exec(ctx, "ALTER TABLE "+qt+" SET LOGGED")
	return err
}

// isUnlogged reports whether the table is unlogged, as ogr2ogr creates staging tables.
func isUnlogged(ctx context.Context, q Querier, qt string) (bool, error) {
	var unlogged bool
	err := q.QueryRow(ctx, "SELECT relpersistence = 'u' FROM pg_class WHERE oid = $1::regclass", qt).Scan(&unlogged)
	return unlogged, err
}

// dropPrimaryKey drops the table's primary key (ogr2ogr's, on ogc_fid): cartodbfy makes its own
// on cartodb_id.
func dropPrimaryKey(ctx context.Context, q Querier, qt string) error {
	var pk string
	err := q.QueryRow(ctx, "SELECT conname FROM pg_constraint WHERE conrelid = $1::regclass AND contype = 'p'", qt).Scan(&pk)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil
	}
	if err != nil {
		return err
	}
	_, err = q.Exec(ctx, fmt.Sprintf("ALTER TABLE %s DROP CONSTRAINT %s", qt, ident(pk)))
	return err
}

func ident(s string) string { return pgx.Identifier{s}.Sanitize() }

// sanitizeColumns renames the source's columns to CARTO's names (ogr2ogr's own columns stay).
func sanitizeColumns(ctx context.Context, q Querier, qt string, cols []column, header []string) error {
	var names []string
	for _, c := range cols {
		if c.name != "ogc_fid" && c.name != "wkb_geometry" {
			names = append(names, c.name)
		}
	}
	source := names
	if len(header) == len(names) {
		source = header // the names as the file has them, in the same order
	}
	clean := SanitizeColumnNames(source)
	var from, to []string
	for i, n := range names {
		if n != clean[i] {
			from, to = append(from, n), append(to, clean[i])
		}
	}
	// Two steps, so that a rename never meets a name that is renamed after it.
	for i, n := range from {
		if _, err := q.Exec(ctx, fmt.Sprintf("ALTER TABLE %s RENAME COLUMN %s TO %s", qt, ident(n), ident(fmt.Sprintf("__cdb_tmp_%d", i)))); err != nil {
			return Fail(CodeDuplicatedColumn, err)
		}
	}
	for i, n := range to {
		if _, err := q.Exec(ctx, fmt.Sprintf("ALTER TABLE %s RENAME COLUMN %s TO %s", qt, ident(fmt.Sprintf("__cdb_tmp_%d", i)), ident(n))); err != nil {
			return Fail(CodeDuplicatedColumn, err)
		}
	}
	return nil
}

// georeference leaves the table with a the_geom geometry column in EPSG:4326.
func georeference(ctx context.Context, q Querier, qt string, opts Options) error {
	cols, err := columns(ctx, q, qt)
	if err != nil {
		return err
	}
	has := func(n string) (column, bool) {
		for _, c := range cols {
			if c.name == n {
				return c, true
			}
		}
		return column{}, false
	}
	if _, ok := has("the_geom_webmercator"); ok {
		if _, err := q.Exec(ctx, fmt.Sprintf("ALTER TABLE %s DROP COLUMN the_geom_webmercator", qt)); err != nil {
			return err
		}
	}
	var geom *column
	for _, want := range geometryNames {
		for i := range cols {
			if strings.ToLower(cols[i].name) == want {
				geom = &cols[i]
				break
			}
		}
		if geom != nil {
			break
		}
	}
	if geom == nil {
		for i := range cols {
			if strings.HasPrefix(cols[i].typ, "geometry") {
				geom = &cols[i]
				break
			}
		}
	}
	if geom != nil && !strings.HasPrefix(geom.typ, "geometry") {
		ok, err := geometrify(ctx, q, qt, geom.name)
		if err != nil {
			return err
		}
		if !ok {
			geom = nil
		}
	}
	if geom == nil {
		if _, ok := has("the_geom"); ok {
			// A the_geom that does not parse keeps its values under another name.
			if _, err := q.Exec(ctx, fmt.Sprintf("ALTER TABLE %s RENAME COLUMN the_geom TO invalid_the_geom", qt)); err != nil {
				return err
			}
		}
		if _, err := q.Exec(ctx, fmt.Sprintf("ALTER TABLE %s ADD COLUMN the_geom geometry(Geometry,4326), ADD COLUMN the_geom_webmercator geometry(Geometry,3857)", qt)); err != nil {
			return err
		}
		if opts.TypeGuessing {
			return fromLatLon(ctx, q, qt, cols)
		}
		return nil
	}
	if geom.name != "the_geom" {
		if _, ok := has("the_geom"); ok {
			if _, err := q.Exec(ctx, fmt.Sprintf("ALTER TABLE %s RENAME COLUMN the_geom TO invalid_the_geom", qt)); err != nil {
				return err
			}
		}
		if _, err := q.Exec(ctx, fmt.Sprintf("ALTER TABLE %s RENAME COLUMN %s TO the_geom", qt, ident(geom.name))); err != nil {
			return err
		}
	}
	return normalizeGeometry(ctx, q, qt)
}

// geometrify parses a text column of geometries in place, after its first value: GeoJSON, hex
// WKB or WKT (Column#geometrify). It reports false, leaving the column, when it holds none.
func geometrify(ctx context.Context, q Querier, qt, col string) (bool, error) {
	c := ident(col)
	var sample string
	err := q.QueryRow(ctx, fmt.Sprintf("SELECT %s::text FROM %s WHERE %[1]s IS NOT NULL AND %[1]s::text <> '' LIMIT 1", c, qt)).Scan(&sample)
	if errors.Is(err, pgx.ErrNoRows) {
		_, err = q.Exec(ctx, fmt.Sprintf("ALTER TABLE %s ALTER COLUMN %s TYPE geometry USING NULL::geometry", qt, c))
		return err == nil, err
	}
	if err != nil {
		return false, err
	}
	var expr string
	v := fmt.Sprintf("nullif(%s::text, '')", c)
	switch {
	case geojsonRE.MatchString(sample):
		expr = "ST_SetSRID(ST_GeomFromGeoJSON(" + v + "), 4326)"
	case wkbRE.MatchString(sample):
		expr = v + "::geometry"
	case wktRE.MatchString(sample):
		expr = v + "::geometry" // WKT and EWKT both
	default:
		return false, nil
	}
	if _, err := q.Exec(ctx, "SAVEPOINT geometrify"); err != nil {
		return false, err
	}
	_, err = q.Exec(ctx, fmt.Sprintf("ALTER TABLE %s ALTER COLUMN %s TYPE geometry USING %s", qt, c, expr))
	if err != nil {
		if _, rerr := q.Exec(ctx, "ROLLBACK TO SAVEPOINT geometrify"); rerr != nil {
			return false, rerr
		}
		return false, nil
	}
	_, err = q.Exec(ctx, "RELEASE SAVEPOINT geometrify")
	return err == nil, err
}

// normalizeGeometry makes the_geom 2D in EPSG:4326, points POINT (when every multipoint has one
// point), lines and polygons MULTI; a geometry collection is refused (3201).
func normalizeGeometry(ctx context.Context, q Querier, qt string) error {
	var first string
	err := q.QueryRow(ctx, fmt.Sprintf("SELECT GeometryType(the_geom) FROM %s WHERE the_geom IS NOT NULL LIMIT 1", qt)).Scan(&first)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return err
	}
	if first == "GEOMETRYCOLLECTION" {
		return Failf(CodeCollection, "the first geometry is a GEOMETRYCOLLECTION")
	}
	single := false
	if first == "MULTIPOINT" {
		err := q.QueryRow(ctx, fmt.Sprintf("SELECT NOT EXISTS (SELECT 1 FROM %s WHERE ST_NumGeometries(the_geom) > 1)", qt)).Scan(&single)
		if err != nil {
			return err
		}
	}
	identity, err := normalized(ctx, q, qt)
	if err != nil {
		return err
	}
	expr := `CASE WHEN the_geom IS NULL THEN NULL ELSE ST_Force2D(CASE WHEN ST_SRID(the_geom) = 0 THEN ST_SetSRID(the_geom, 4326) WHEN ST_SRID(the_geom) <> 4326 THEN ST_Transform(the_geom, 4326) ELSE the_geom END) END`
	switch {
	case identity:
		// The column's type already says what the expression would make (GDAL's points from
		// lat/lon): per row, it would only copy. A bare column also lets the web mercator
		// function inline.
		expr = "the_geom"
	case single:
		expr = "ST_GeometryN(" + expr + ", 1)"
	default:
		expr = "CASE WHEN GeometryType(the_geom) IN ('LINESTRING', 'POLYGON') THEN ST_Multi(" + expr + ") ELSE " + expr + " END"
	}
	// CDB_TransformToWebmercator is SQL that PostgreSQL inlines when its argument is a column;
	// given an expression, it would be called per row as a SQL function, slower than its
	// PL/pgSQL body, which is then called directly (same result).
	mercator := "cartodb.CDB_TransformToWebmercator"
	if !identity {
		mercator = "cartodb._CDB_TransformToWebmercator"
	}
	if err := rewrite(ctx, q, qt, map[string]string{
		"the_geom": "(" + expr + ")::geometry(Geometry,4326)",
		"ogc_fid":  "ogc_fid::bigint",
	}, "the_geom_webmercator", mercator+"("+expr+")::geometry(Geometry,3857)"); err != nil {
		return Fail(2014, err)
	}
	return nil
}

// rewrite replaces the staging table by a copy made with CREATE TABLE AS, in one pass: the
// columns named in exprs are computed, the others copied, and column add, computed, is added
// last. This makes the_geom, the_geom_webmercator (which cartodbfy then finds right and leaves)
// and the bigint cartodb_id to be at once, instead of one rewrite each; and unlike ALTER TABLE's
// rewrite, the SELECT of CREATE TABLE AS runs in PostgreSQL's parallel workers, which compute the
// geometries while one process writes. The copy is logged, whatever the staging table was. It
// has no defaults or constraints: ogc_fid's serial default, its sequence and its key are what
// fidToCartodbID and dropPrimaryKey remove anyway.
func rewrite(ctx context.Context, q Querier, qt string, exprs map[string]string, add, computed string) error {
	cols, err := columns(ctx, q, qt)
	if err != nil {
		return err
	}
	var name string
	if err := q.QueryRow(ctx, "SELECT relname FROM pg_class WHERE oid = $1::regclass", qt).Scan(&name); err != nil {
		return err
	}
	var list []string
	for _, c := range cols {
		if e, ok := exprs[c.name]; ok {
			list = append(list, e+" AS "+ident(c.name))
		} else {
			list = append(list, ident(c.name))
		}
	}
	list = append(list, computed+" AS "+ident(add))
	tmp := pgx.Identifier{StagingSchema, name + "_r"}.Sanitize()
	_, err = q.Exec(ctx, fmt.Sprintf("CREATE TABLE %s AS SELECT %s FROM %s; DROP TABLE %s; ALTER TABLE %s RENAME TO %s",
		tmp, strings.Join(list, ", "), qt, qt, tmp, ident(name)))
	return err
}

// normalized reports whether the_geom's declared type leaves normalizeGeometry nothing to do
// per row: 2D, in EPSG:4326, and a POINT, MULTILINESTRING or MULTIPOLYGON, which the typmod
// enforces on every value.
func normalized(ctx context.Context, q Querier, qt string) (bool, error) {
	var typ string
	var srid, dims int
	err := q.QueryRow(ctx, `SELECT postgis_typmod_type(atttypmod), postgis_typmod_srid(atttypmod), postgis_typmod_dims(atttypmod)
FROM pg_attribute WHERE attrelid = $1::regclass AND attname = 'the_geom' AND NOT attisdropped AND atttypmod <> -1`, qt).Scan(&typ, &srid, &dims)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return srid == 4326 && dims == 2 && (typ == "Point" || typ == "MultiLineString" || typ == "MultiPolygon"), nil
}

// fromLatLon makes points of numeric latitude and longitude columns, for the formats GDAL does
// not georeference itself (spreadsheets, connectors).
func fromLatLon(ctx context.Context, q Querier, qt string, cols []column) error {
	find := func(names []string) string {
		for _, c := range cols {
			if slices.Contains(names, strings.ToLower(c.name)) && (c.typ == "double precision" || c.typ == "integer" || c.typ == "bigint" || c.typ == "numeric" || c.typ == "real") {
				return c.name
			}
		}
		return ""
	}
	lat, lon := find(LatitudeNames), find(LongitudeNames)
	if lat == "" || lon == "" {
		return nil
	}
	_, err := q.Exec(ctx, fmt.Sprintf(`UPDATE %s SET the_geom = ST_SetSRID(ST_MakePoint(%s, %s), 4326)
WHERE %[2]s BETWEEN -180 AND 180 AND %[3]s BETWEEN -90 AND 90`, qt, ident(lon), ident(lat)))
	return err
}

// fidToCartodbID keeps ogr2ogr's feature ids as cartodb_id (Table#import_cleanup); a source
// with its own cartodb_id keeps that one. The sequence goes (the key went before): cartodbfy
// makes its own.
func fidToCartodbID(ctx context.Context, q Querier, qt string) error {
	cols, err := columns(ctx, q, qt)
	if err != nil {
		return err
	}
	hasFid, hasID := false, false
	for _, c := range cols {
		hasFid = hasFid || c.name == "ogc_fid"
		hasID = hasID || c.name == "cartodb_id"
	}
	if !hasFid {
		return nil
	}
	if hasID {
		_, err := q.Exec(ctx, fmt.Sprintf("ALTER TABLE %s DROP COLUMN ogc_fid", qt))
		return err
	}
	_, err = q.Exec(ctx, fmt.Sprintf("ALTER TABLE %s ALTER COLUMN ogc_fid DROP DEFAULT, ALTER COLUMN ogc_fid TYPE bigint", qt))
	if err != nil {
		return err
	}
	// The serial's sequence is owned by the column; unowned first, it can go alone.
	var seq *string
	if err := q.QueryRow(ctx, "SELECT pg_get_serial_sequence($1, 'ogc_fid')", qt).Scan(&seq); err != nil {
		return err
	}
	if seq != nil {
		if _, err := q.Exec(ctx, "DROP SEQUENCE "+*seq); err != nil {
			return err
		}
	}
	_, err = q.Exec(ctx, fmt.Sprintf("ALTER TABLE %s RENAME COLUMN ogc_fid TO cartodb_id", qt))
	return err
}
