package pgvalue

import (
	"context"
	"strconv"
	"strings"

	"github.com/gocarto/carto/cartolocal/internal/jsjson"
	"github.com/jackc/pgx/v5/pgxpool"
)

// stdTypeNames is cartodb-psql's static OID-to-name table (lib/oid-to-name.js), which decides the
// "fields" metadata of CARTO's JSON answers. It is copied as CARTO has it, oddities included: OID 114
// is "JSON" in upper case, and types PostgreSQL added later (e.g. jsonpath, multiranges) are absent,
// so they come out as unknown(OID).
var stdTypeNames = map[uint32]string{
	16: "bool", 17: "bytea", 18: "char", 19: "name", 20: "int8", 21: "int2", 22: "int2vector",
	23: "int4", 24: "regproc", 25: "text", 26: "oid", 27: "tid", 28: "xid", 29: "cid", 30: "oidvector",
	71: "pg_type", 75: "pg_attribute", 81: "pg_proc", 83: "pg_class", 114: "JSON", 142: "xml",
	143: "_xml", 199: "_json", 194: "pg_node_tree", 32: "pg_ddl_command", 210: "smgr", 600: "point",
	601: "lseg", 602: "path", 603: "box", 604: "polygon", 628: "line", 629: "_line", 700: "float4",
	701: "float8", 702: "abstime", 703: "reltime", 704: "tinterval", 705: "unknown", 718: "circle",
	719: "_circle", 790: "money", 791: "_money", 829: "macaddr", 869: "inet", 650: "cidr",
	1000: "_bool", 1001: "_bytea", 1002: "_char", 1003: "_name", 1005: "_int2", 1006: "_int2vector",
	1007: "_int4", 1008: "_regproc", 1009: "_text", 1028: "_oid", 1010: "_tid", 1011: "_xid",
	1012: "_cid", 1013: "_oidvector", 1014: "_bpchar", 1015: "_varchar", 1016: "_int8",
	1017: "_point", 1018: "_lseg", 1019: "_path", 1020: "_box", 1021: "_float4", 1022: "_float8",
	1023: "_abstime", 1024: "_reltime", 1025: "_tinterval", 1027: "_polygon", 1033: "aclitem",
	1034: "_aclitem", 1040: "_macaddr", 1041: "_inet", 1263: "_cstring", 1042: "bpchar",
	1043: "varchar", 1082: "date", 1083: "time", 1114: "timestamp", 1115: "_timestamp",
	1182: "_date", 1183: "_time", 1184: "timestamptz", 1185: "_timestamptz", 1186: "interval",
	1187: "_interval", 1231: "_numeric", 1266: "timetz", 1270: "_timetz", 1560: "bit", 1561: "_bit",
	1562: "varbit", 1563: "_varbit", 1700: "numeric", 1790: "refcursor", 2201: "_refcursor",
	2202: "regprocedure", 2203: "regoper", 2204: "regoperator", 2205: "regclass", 2206: "regtype",
	4096: "regrole", 4089: "regnamespace", 2207: "_regprocedure", 2208: "_regoper",
	2209: "_regoperator", 2210: "_regclass", 2211: "_regtype", 4097: "_regrole",
	4090: "_regnamespace", 2950: "uuid", 2951: "_uuid", 3220: "pg_lsn", 3221: "_pg_lsn",
	3614: "tsvector", 3642: "gtsvector", 3615: "tsquery", 3734: "regconfig", 3769: "regdictionary",
	3643: "_tsvector", 3644: "_gtsvector", 3645: "_tsquery", 3735: "_regconfig",
	3770: "_regdictionary", 3802: "jsonb", 3807: "_jsonb", 2970: "txid_snapshot",
	2949: "_txid_snapshot", 3904: "int4range", 3905: "_int4range", 3906: "numrange",
	3907: "_numrange", 3908: "tsrange", 3909: "_tsrange", 3910: "tstzrange", 3911: "_tstzrange",
	3912: "daterange", 3913: "_daterange", 3926: "int8range", 3927: "_int8range", 2249: "record",
	2287: "_record", 2275: "cstring", 2276: "any", 2277: "anyarray", 2278: "void", 2279: "trigger",
	3838: "event_trigger", 2280: "language_handler", 2281: "internal", 2282: "opaque",
	2283: "anyelement", 2776: "anynonarray", 3500: "anyenum", 3115: "fdw_handler",
	3310: "tsm_handler", 3831: "anyrange",
}

// wkbTypeNames are the geometry types of a PostGIS typmod, as cartodb-psql lists them.
var wkbTypeNames = [...]string{
	"Unknown", "Point", "LineString", "Polygon", "MultiPoint", "MultiLineString", "MultiPolygon",
	"GeometryCollection", "CircularString", "CompoundCurve", "CurvePolygon", "MultiCurvePolygon",
	"PolyhedralSurface", "Triangle", "TIN",
}

// LoadExtTypes reads the OIDs of the PostGIS types (geometry, geography, raster) of pool's
// database, which differ from database to database; CARTO caches them once per process and
// database, and so do cartolocal's API servers.
func LoadExtTypes(ctx context.Context, pool *pgxpool.Pool) (map[uint32]string, error) {
	rows, err := pool.Query(ctx, "SELECT oid, typname FROM pg_type WHERE typname IN ('geometry','raster','geography')")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	m := map[uint32]string{}
	for rows.Next() {
		var oid uint32
		var name string
		if err := rows.Scan(&oid, &name); err != nil {
			return nil, err
		}
		m[oid] = name
	}
	return m, rows.Err()
}

// TypeNames resolves type OIDs to cartodb-psql's names: the static table first, then the PostGIS
// types of the database. An empty name means unknown.
type TypeNames struct {
	Ext map[uint32]string // the PostGIS types, from LoadExtTypes
}

// Name returns the name cartodb-psql gives a type OID, "" when unknown.
func (t TypeNames) Name(oid uint32) string {
	if n, ok := stdTypeNames[oid]; ok {
		return n
	}
	return t.Ext[oid]
}

// isGeoType reports whether a type name is one whose fields entry carries typmod facts.
func isGeoType(name string) bool {
	return name == "geometry" || name == "geography" || name == "raster"
}

// fieldTypeClass is CARTO's coarse "type" of a field (json.js formatResultFields): a series of
// substring matches on the type name, in this order, so interval, point and int4range are "number"
// (they contain "int") and tsrange is "date".
func fieldTypeClass(name string) string {
	var t string
	switch {
	case strings.Contains(name, "bool"):
		t = "boolean"
	case strings.Contains(name, "int"), strings.Contains(name, "float"), strings.Contains(name, "numeric"):
		t = "number"
	case strings.Contains(name, "text"), strings.Contains(name, "char"), strings.Contains(name, "unknown"):
		t = "string"
	case strings.Contains(name, "date"), strings.Contains(name, "time"):
		t = "date"
	default:
		t = name
	}
	if len(name) > 0 && name[0] == '_' {
		t += "[]"
	}
	return t
}

// geoTypmod is what cartodb-psql reads out of a PostGIS column typmod.
type geoTypmod struct {
	wkbType string // "" when the type code is out of the table (typmod -1): the key is then omitted
	dims    int
	srid    int32
}

// decodeGeoTypmod decodes a PostGIS typmod with cartodb-psql's 32-bit arithmetic, so a column
// without typmod (-1, an expression) gives dims 4 and srid -1 with no wkbtype, as CARTO answers.
func decodeGeoTypmod(typmod int32) geoTypmod {
	t := int64(typmod)
	srid := int32(int64(int32(t&0x0FFFFF00))-int64(int32(t&0x10000000))) >> 8
	lw := (t & 0xFC) >> 2
	g := geoTypmod{dims: 2 + int((t&2)>>1) + int(t&1), srid: srid}
	if lw >= 0 && lw < int64(len(wkbTypeNames)) {
		g.wkbType = wkbTypeNames[lw]
	}
	return g
}

// AppendFieldInfo appends the value of one "fields" entry: {"type":..,"pgtype":..}, or for
// geometry, geography and raster {"type":..,"wkbtype":..,"dims":..,"srid":..}, or
// {"type":"unknown(OID)"} for a type cartodb-psql does not know.
func AppendFieldInfo(b []byte, name string, oid uint32, typmod int32) []byte {
	if name == "" {
		b = append(b, `{"type":"unknown(`...)
		b = strconv.AppendUint(b, uint64(oid), 10)
		return append(b, `)"}`...)
	}
	b = append(b, `{"type":`...)
	b = jsjson.AppendString(b, fieldTypeClass(name))
	if isGeoType(name) {
		g := decodeGeoTypmod(typmod)
		if g.wkbType != "" {
			b = append(b, `,"wkbtype":`...)
			b = jsjson.AppendString(b, g.wkbType)
		}
		b = append(b, `,"dims":`...)
		b = strconv.AppendInt(b, int64(g.dims), 10)
		b = append(b, `,"srid":`...)
		b = strconv.AppendInt(b, int64(g.srid), 10)
		return append(b, '}')
	}
	b = append(b, `,"pgtype":`...)
	b = jsjson.AppendString(b, name)
	return append(b, '}')
}
