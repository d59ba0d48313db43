package maps

// Template is a named map: a MapConfig with placeholders, stored on the server under Name.
type Template struct {
	// Version is the template format; CARTO accepts only "0.0.1", which Create fills in if empty.
	Version string `json:"version"`
	// Name is the template's id: letters, digits, '_' and '-', starting with a letter or digit.
	Name string       `json:"name"`
	Auth TemplateAuth `json:"auth"`
	// Placeholders are replaced in the layers' sql and cartocss where they say <%= name %>.
	Placeholders map[string]Placeholder `json:"placeholders,omitempty"`
	LayerGroup   MapConfig              `json:"layergroup"`
	View         *View                  `json:"view,omitempty"`
}

// Authentication methods of a template.
const (
	AuthOpen  = "open"  // anyone may instantiate it and load its tiles
	AuthToken = "token" // only with one of ValidTokens as auth_token
)

// TemplateAuth says who may instantiate a template.
type TemplateAuth struct {
	Method      string   `json:"method"`
	ValidTokens []string `json:"valid_tokens,omitempty"`
}

// Placeholder types. The server checks values against them and quotes sql_literal and sql_ident
// values, so a viewer's value cannot change a template's SQL.
const (
	PlaceholderNumber     = "number"      // a decimal number
	PlaceholderCSSColor   = "css_color"   // a color name or #rgb / #rrggbb
	PlaceholderSQLLiteral = "sql_literal" // text inside a SQL string literal
	PlaceholderSQLIdent   = "sql_ident"   // a SQL identifier
)

// Placeholder declares one placeholder: its type and the value used when an instantiation does
// not give one (a number or a string).
type Placeholder struct {
	Type    string `json:"type"`
	Default any    `json:"default"`
}

// View is where a template's map starts: Zoom and Center, or Bounds.
type View struct {
	Zoom          *float64        `json:"zoom,omitempty"`
	Center        *LngLat         `json:"center,omitempty"`
	Bounds        *Bounds         `json:"bounds,omitempty"`
	PreviewLayers map[string]bool `json:"preview_layers,omitempty"`
}

// LngLat is a position in degrees.
type LngLat struct {
	Lng float64 `json:"lng"`
	Lat float64 `json:"lat"`
}

// Bounds is a box in degrees.
type Bounds struct {
	West  float64 `json:"west"`
	South float64 `json:"south"`
	East  float64 `json:"east"`
	North float64 `json:"north"`
}
