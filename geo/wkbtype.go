package geo

// WKB geometry type codes (OGC simple features; PostGIS's liblwgeom uses the same numbers).
const (
	wkbPoint              = 1
	wkbLineString         = 2
	wkbPolygon            = 3
	wkbMultiPoint         = 4
	wkbMultiLineString    = 5
	wkbMultiPolygon       = 6
	wkbGeometryCollection = 7
	wkbTriangle           = 17 // last of the types PostGIS can write
)

// EWKB flags in the high bits of the type word (PostGIS's liblwgeom/lwin_wkb.c).
const (
	ewkbZ    = 0x80000000
	ewkbM    = 0x40000000
	ewkbSRID = 0x20000000
)

var wkbTypeNames = [...]string{
	1: "Point", 2: "LineString", 3: "Polygon", 4: "MultiPoint", 5: "MultiLineString",
	6: "MultiPolygon", 7: "GeometryCollection", 8: "CircularString", 9: "CompoundCurve",
	10: "CurvePolygon", 11: "MultiCurve", 12: "MultiSurface", 13: "Curve", 14: "Surface",
	15: "PolyhedralSurface", 16: "TIN", 17: "Triangle",
}

func wkbTypeName(t uint32) string {
	if t > 0 && int(t) < len(wkbTypeNames) {
		return wkbTypeNames[t]
	}
	return "unknown"
}

func dimsName(z, m bool) string {
	switch {
	case z && m:
		return "ZM"
	case z:
		return "Z"
	case m:
		return "M"
	}
	return ""
}
