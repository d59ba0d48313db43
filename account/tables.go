package account

import (
	"context"
	"net/http"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/gocarto/carto"
)

// Table is a table as api/v1/tables shows it.
type Table struct {
	ID            string    `json:"id"`
	Name          string    `json:"name"`
	Privacy       Privacy   `json:"privacy"`
	Columns       []Column  `json:"schema"`
	UpdatedAt     time.Time `json:"updated_at"`
	RowCount      int64     `json:"row_count"`
	Size          int64     `json:"table_size"`
	MapID         string    `json:"map_id"`
	Description   string    `json:"description"`
	GeometryTypes []string  `json:"geometry_types"`
	// Visualization is the table's dataset.
	Visualization *Visualization `json:"table_visualization"`
	// DependentVisualizations are the maps that use the table.
	DependentVisualizations []VisualizationSummary `json:"dependent_visualizations"`
}

// Column is one column of a table, with CARTO's type name (number, string, boolean, date,
// geometry, or PostgreSQL's for others).
type Column struct {
	Name string
	Type string
	// GeometryType is a geometry column's type, lower-case ("point", "multipolygon", "geometry").
	GeometryType string
}

// UnmarshalJSONFrom reads CARTO's ["name", "type"] or ["name", "geometry", "geometry", "point"].
func (c *Column) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	var parts []string
	if err := json.UnmarshalDecode(dec, &parts); err != nil {
		return err
	}
	if len(parts) > 0 {
		c.Name = parts[0]
	}
	if len(parts) > 1 {
		c.Type = parts[1]
	}
	if len(parts) > 3 {
		c.GeometryType = parts[3]
	}
	return nil
}

// Tables reads the account's tables.
type Tables struct{ c *carto.Client }

// NewTables returns the tables of c's account.
func NewTables(c *carto.Client) *Tables { return &Tables{c: c} }

// Get returns a table by its dataset's id or by name.
func (t *Tables) Get(ctx context.Context, idOrName string) (*Table, error) {
	out := new(Table)
	if err := do(ctx, t.c, http.MethodGet, "api/v1/tables/"+escape(idOrName), nil, nil, out); err != nil {
		return nil, err
	}
	return out, nil
}
