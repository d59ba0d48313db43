package column

import (
	"reflect"
	"strings"
	"time"
)

// kind is how the values of a column are turned into Go values; it is chosen from the column's
// entry in the answer's fields.
type kind uint8

const (
	kindOther     kind = iota // strings as string, numbers as int64 or exact text, objects as raw JSON
	kindText                  // string
	kindInt                   // int64
	kindFloat                 // float64, with "NaN", "Infinity" and "-Infinity" strings
	kindNumeric               // exact decimal text, as string
	kindBool                  // bool
	kindTimestamp             // time.Time (date, timestamp, timestamptz)
	kindJSON                  // raw JSON []byte (json, jsonb)
	kindBytea                 // []byte from {"type":"Buffer","data":[…]}
	kindArray                 // the array's JSON text, []byte
	kindGeometry              // hex EWKB, a fresh []byte per value
)

// Field is one column as the answer's fields object describes it.
type Field struct {
	Name     string
	typ      string // CARTO's type: number, string, date, geometry, number[], unknown(OID), …
	pgtype   string // PostgreSQL's type name; empty for geometry, geography, raster and unknown OIDs
	wkbtype  string // geometry columns: Point, Polygon, Unknown, …
	dims     int
	srid     int
	kind     kind
	TypeName string // what ColumnTypeDatabaseTypeName reports
}

// FieldJSON is a value of the fields object.
type FieldJSON struct {
	Type    string `json:"type"`
	PGType  string `json:"pgtype"`
	WKBType string `json:"wkbtype"`
	Dims    int    `json:"dims"`
	SRID    int    `json:"srid"`
}

// NewField is the column named name, as its entry f of the fields object describes it.
func NewField(name string, f FieldJSON) Field {
	fl := Field{Name: name, typ: f.Type, pgtype: f.PGType, wkbtype: f.WKBType, dims: f.Dims, srid: f.SRID}
	fl.kind = kindOf(f.Type, f.PGType)
	switch {
	case f.PGType != "":
		fl.TypeName = strings.ToUpper(f.PGType)
	case f.Type == "geometry" || f.Type == "geography" || f.Type == "raster":
		fl.TypeName = strings.ToUpper(f.Type)
	}
	return fl
}

func kindOf(typ, pgtype string) kind {
	switch typ {
	case "geometry", "geography", "raster":
		return kindGeometry
	}
	switch strings.ToLower(pgtype) {
	case "int2", "int4", "int8", "oid":
		return kindInt
	case "float4", "float8":
		return kindFloat
	case "numeric":
		return kindNumeric
	case "bool":
		return kindBool
	case "date", "timestamp", "timestamptz":
		return kindTimestamp
	case "json", "jsonb":
		return kindJSON
	case "bytea":
		return kindBytea
	case "text", "varchar", "bpchar", "char", "name", "uuid", "time", "timetz", "unknown",
		"inet", "cidr", "macaddr", "money", "xml", "citext":
		return kindText
	}
	if strings.HasPrefix(pgtype, "_") || strings.HasSuffix(typ, "[]") {
		return kindArray
	}
	if pgtype == "" && typ == "string" {
		return kindText
	}
	return kindOther
}

var (
	typeInt64   = reflect.TypeFor[int64]()
	typeFloat64 = reflect.TypeFor[float64]()
	typeString  = reflect.TypeFor[string]()
	typeBool    = reflect.TypeFor[bool]()
	typeTime    = reflect.TypeFor[time.Time]()
	typeBytes   = reflect.TypeFor[[]byte]()
	typeAny     = reflect.TypeFor[any]()
)

// ScanType is the Go type of the column's non-NULL values.
func (f *Field) ScanType() reflect.Type {
	switch f.kind {
	case kindInt:
		return typeInt64
	case kindFloat:
		return typeFloat64
	case kindNumeric, kindText:
		return typeString
	case kindBool:
		return typeBool
	case kindTimestamp:
		return typeTime
	case kindJSON, kindBytea, kindArray, kindGeometry:
		return typeBytes
	}
	return typeAny
}
