// Package geo carries PostGIS geometries between CARTO and Go as github.com/paulmach/orb values.
//
// [Geometry] is an orb geometry with its SRID. It scans what CARTO's SQL API and the carto
// database/sql driver hand out for geometry and geography columns (hex EWKB text, in either case),
// raw EWKB or WKB bytes, and GeoJSON geometry text; as a query argument it becomes hex EWKB, which
// the carto driver writes as '<hex>'::geometry. A nil Geom is SQL NULL, so Geometry needs no Null
// twin. [Typed] (with the aliases [Point], [LineString], [Polygon], [MultiPolygon] and the rest)
// scans only one geometry type and says clearly when a column holds another.
//
// # Z and M
//
// orb geometries are two-dimensional. A geometry with Z or M coordinates (POINT Z, LINESTRING ZM,
// ...) is refused with a [*DimensionError] rather than flattened behind the caller's back, since
// writing it back would silently lose data. Either drop the extra ordinates in SQL with
// ST_Force2D(col), or opt in per column with [Force2D], which decodes X and Y and discards Z and M.
//
// # Inputs are never modified
//
// orb's own sql.Scanner implementations hex-decode into the caller's buffer, accept only []byte,
// and ignore the EWKB Z/M flags, so a LINESTRING Z decodes to wrong coordinates. This package has
// its own decoder: it reads hex and binary input in place without writing to it, accepts strings
// and byte slices alike, and honours every dimension flag (EWKB's high bits and ISO WKB's
// 1000/2000/3000 type codes).
//
// # A pure value package
//
// geo holds values only and imports nothing of the HTTP client: reading a format=geojson answer of
// CARTO's SQL API one feature at a time is sqlapi.FeatureReader's job.
package geo
