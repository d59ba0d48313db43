package sqlapi

import (
	"compress/gzip"
	"strconv"
	"strings"
)

// Format is one of the answer formats of CARTO's SQL API (its format parameter).
type Format string

// The formats CARTO's SQL API answers in.
const (
	JSON       Format = "json"       // rows first, then fields and total_rows (the default)
	GeoJSON    Format = "geojson"    // a FeatureCollection built from the_geom
	CSV        Format = "csv"        // a header row, the_geom first as hex EWKB, CRLF line ends
	Shapefile  Format = "shp"        // a zip of the .shp, .shx, .dbf, .prj and .cpg files
	KML        Format = "kml"        // KML 2.2, the name column as each Placemark's name
	GeoPackage Format = "gpkg"       // an OGC GeoPackage (SQLite), cartodb_id as the FID
	SpatiaLite Format = "spatialite" // an SQLite database written by GDAL's SQLite driver
	SVG        Format = "svg"        // the geometries fitted to 1024x768
	TopoJSON   Format = "topojson"   // a Topology quantized to 1e4
)

// Extension is the file name extension CARTO gives an answer in this format: "zip" for
// Shapefile, "sqlite" for SpatiaLite, the format's name otherwise.
func (f Format) Extension() string {
	switch f {
	case Shapefile:
		return "zip"
	case SpatiaLite:
		return "sqlite"
	case "":
		return "json"
	}
	return string(f)
}

// Option sets a parameter of a request. Each option names the calls it applies to; the others
// ignore it.
type Option func(*settings)

type settings struct {
	format     Format
	filename   string
	skipfields []string
	dp         string
	readOnly   bool
	noGzip     bool
	gzipLevel  int
	progress   func(Progress)
}

func collect(opts []Option) settings {
	s := settings{gzipLevel: gzip.BestSpeed}
	for _, o := range opts {
		if o != nil {
			o(&s)
		}
	}
	return s
}

// WithFormat asks for the answer in format f (Query and Open; json by default).
func WithFormat(f Format) Option { return func(s *settings) { s.format = f } }

// WithFilename sets CARTO's filename parameter (Query and Open): the name in the answer's
// Content-Disposition and, for the file formats, the layer's name inside the file.
func WithFilename(name string) Option { return func(s *settings) { s.filename = name } }

// WithSkipFields drops the named columns from the answer, in every format (Query and Open).
func WithSkipFields(names ...string) Option {
	return func(s *settings) { s.skipfields = append(s.skipfields, names...) }
}

// WithDP sets the decimal places of coordinates in geojson, topojson and svg answers (Query and
// Open; CARTO's default is 6).
func WithDP(places int) Option { return func(s *settings) { s.dp = strconv.Itoa(places) } }

// WithReadOnly marks the statement as one that writes nothing (Query and Open), so that a 502,
// 503 or 504 answer may be retried: the statement may or may not have run.
func WithReadOnly() Option { return func(s *settings) { s.readOnly = true } }

// WithoutGzip sends CopyFrom's data as is instead of gzip-compressed.
func WithoutGzip() Option { return func(s *settings) { s.noGzip = true } }

// WithGzipLevel sets CopyFrom's compression level (compress/gzip's levels; gzip.BestSpeed by
// default, as carto-python's level 1).
func WithGzipLevel(level int) Option { return func(s *settings) { s.gzipLevel = level } }

// WithProgress has CopyFrom and CopyTo call fn as data moves (about every MiB) and once at the end
// with Done set. fn runs on the goroutine that moves the data: keep it short.
func WithProgress(fn func(Progress)) Option { return func(s *settings) { s.progress = fn } }

// Progress is how far a COPY has come.
type Progress struct {
	// Bytes is the data read from the reader (CopyFrom) or written to the writer (CopyTo).
	Bytes int64
	// WireBytes is what went over the network: the compressed size when gzip is on.
	WireBytes int64
	// Rows is the rows copied, known when the server's answer comes (CopyFrom); -1 before that
	// and for CopyTo, whose answer carries no count.
	Rows int64
	// Done is set on the last call, after the answer.
	Done bool
}

// form appends the query parameters of s, form-encoded, to b.
func (s *settings) form(b []byte) []byte {
	add := func(k, v string) {
		if len(b) > 0 {
			b = append(b, '&')
		}
		b = append(b, k...)
		b = append(b, '=')
		b = append(b, escape(v)...)
	}
	if s.format != "" {
		add("format", string(s.format))
	}
	if s.filename != "" {
		add("filename", s.filename)
	}
	if len(s.skipfields) > 0 {
		add("skipfields", strings.Join(s.skipfields, ","))
	}
	if s.dp != "" {
		add("dp", s.dp)
	}
	return b
}
