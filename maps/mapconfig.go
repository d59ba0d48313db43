package maps

// MapConfig is Windshaft's layergroup configuration: what an anonymous map posts and what a named
// map's template holds under "layergroup". JSON names are Windshaft's.
type MapConfig struct {
	// Version of the MapConfig format, "1.0.0" to "1.8.0"; empty means the server's default.
	Version string `json:"version,omitempty"`
	// Extent and SRID describe the map's projection; CARTO only serves web mercator (3857).
	Extent []float64 `json:"extent,omitempty"`
	SRID   int       `json:"srid,omitempty"`
	// MinZoom and MaxZoom bound the map (Windshaft applies them to raster tiles, not to MVT).
	MinZoom *int `json:"minzoom,omitempty"`
	MaxZoom *int `json:"maxzoom,omitempty"`
	// BufferSize is the tile buffer in pixels per format, such as {"mvt": 64, "png": 64}.
	BufferSize map[string]int `json:"buffersize,omitempty"`
	// StatTag labels the map in CARTO's statistics.
	StatTag string  `json:"stat_tag,omitempty"`
	Layers  []Layer `json:"layers"`
}

// Layer types Windshaft knows. LayerCartoDB is an alias of LayerMapnik.
const (
	LayerMapnik  = "mapnik"
	LayerCartoDB = "cartodb"
	LayerHTTP    = "http"
	LayerPlain   = "plain"
	LayerTorque  = "torque"
)

// Layer is one layer of a MapConfig.
type Layer struct {
	// Type is one of the Layer* constants; empty means mapnik.
	Type string `json:"type,omitempty"`
	// ID names the layer in tile URLs and in the MVT; empty means Windshaft's layer0, layer1, ...
	ID      string       `json:"id,omitempty"`
	Options LayerOptions `json:"options"`
}

// LayerOptions are a layer's options. Which apply depends on the layer's type: SQL and styling
// for mapnik/cartodb layers, URLTemplate for http layers, Color or ImageURL for plain ones.
type LayerOptions struct {
	// SQL selects the layer's rows; they need a geometry column, the_geom_webmercator (EPSG:3857)
	// unless GeomColumn names another.
	SQL string `json:"sql,omitempty"`
	// CartoCSS and CartoCSSVersion style raster tiles. A layer without them is a vector layer;
	// Windshaft refuses maps that mix both kinds of mapnik layers.
	CartoCSS        string `json:"cartocss,omitempty"`
	CartoCSSVersion string `json:"cartocss_version,omitempty"`
	// Interactivity lists the columns of UTFGrid tiles.
	Interactivity []string `json:"interactivity,omitempty"`
	// Attributes exposes columns through /:layer/attributes/:id.
	Attributes *Attributes `json:"attributes,omitempty"`
	GeomColumn string      `json:"geom_column,omitempty"`
	GeomType   string      `json:"geom_type,omitempty"`
	SRID       int         `json:"srid,omitempty"`
	// AffectedTables names the tables SQL reads, for cache invalidation.
	AffectedTables []string `json:"affected_tables,omitempty"`
	MinZoom        *int     `json:"minzoom,omitempty"`
	MaxZoom        *int     `json:"maxzoom,omitempty"`
	// VectorExtent is the MVT extent (4096 by default); VectorSimplifyExtent the grid geometries
	// are simplified to (256 by default).
	VectorExtent         int    `json:"vector_extent,omitempty"`
	VectorSimplifyExtent int    `json:"vector_simplify_extent,omitempty"`
	SQLWrap              string `json:"sql_wrap,omitempty"`

	// URLTemplate and Subdomains describe an http layer's tiles; TMS flips y.
	URLTemplate string   `json:"urlTemplate,omitempty"`
	Subdomains  []string `json:"subdomains,omitempty"`
	TMS         bool     `json:"tms,omitempty"`
	// Color or ImageURL fill a plain layer.
	Color    string `json:"color,omitempty"`
	ImageURL string `json:"imageUrl,omitempty"`
}

// Attributes says which feature attributes a layer exposes: ID is the column features are looked
// up by, Columns the ones returned.
type Attributes struct {
	ID      string   `json:"id"`
	Columns []string `json:"columns"`
}

// VectorLayer is a mapnik layer without CartoCSS: Windshaft serves it as Mapbox Vector Tiles only.
func VectorLayer(sql string) Layer {
	return Layer{Type: LayerMapnik, Options: LayerOptions{SQL: sql}}
}
