package account

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gocarto/carto"
)

// Privacy is who may see a dataset or a map.
type Privacy string

// The privacy values, as CARTO writes them.
const (
	Public   Privacy = "PUBLIC"   // anyone; a public dataset is readable with no key or the public key
	Link     Privacy = "LINK"     // anyone with the link; readable as a public dataset is
	Private  Privacy = "PRIVATE"  // the owner and the keys granted it
	Password Privacy = "PASSWORD" // a map behind a password
)

// Visualization is a dataset (Type "table") or a map (Type "derived"), as api/v1/viz shows it.
type Visualization struct {
	ID          string    `json:"id"`
	Name        string    `json:"name"`
	Type        string    `json:"type"`
	Privacy     Privacy   `json:"privacy"`
	Description string    `json:"description"`
	Tags        []string  `json:"tags"`
	MapID       string    `json:"map_id"`
	URL         string    `json:"url"`
	Kind        string    `json:"kind"`
	Locked      bool      `json:"locked"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
	// Table is a dataset's table.
	Table *TableSummary `json:"table"`
	// RelatedTables are the tables a map (or a dataset) shows.
	RelatedTables []TableSummary `json:"related_tables"`
	// DependentVisualizationsCount is how many maps use a dataset; List and Get ask for it.
	DependentVisualizationsCount int `json:"dependent_visualizations_count"`
	// DependentVisualizations summarizes those maps.
	DependentVisualizations []VisualizationSummary `json:"dependent_visualizations"`
	Permission              Permission             `json:"permission"`
}

// TableSummary is a table as a visualization shows it.
type TableSummary struct {
	ID            string    `json:"id"`
	Name          string    `json:"name"`
	Privacy       Privacy   `json:"privacy"`
	GeometryTypes []string  `json:"geometry_types"`
	Size          int64     `json:"size"`
	RowCount      int64     `json:"row_count"`
	UpdatedAt     time.Time `json:"updated_at"`
}

// VisualizationSummary names a map that depends on a dataset.
type VisualizationSummary struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Permission is who owns a visualization.
type Permission struct {
	ID    string    `json:"id"`
	Owner UserShort `json:"owner"`
}

// UserShort identifies a user.
type UserShort struct {
	ID       string `json:"id"`
	Username string `json:"username"`
	BaseURL  string `json:"base_url"`
}

// ListOptions filter and order a list of datasets or maps. The zero value lists everything,
// most recently updated first.
type ListOptions struct {
	Query   string    // matches names, descriptions and tags
	Tags    []string  // keeps those with any of the tags
	Privacy []Privacy // keeps those with one of these privacies
	// Order is one of name, updated_at (the default), size, mapviews, favorited,
	// estimated_row_count, privacy, dependent_visualizations.
	Order     string
	Ascending bool
	// PerPage is the page size of the requests (CARTO's default, 20, when 0).
	PerPage int
}

// vizAPI is what Datasets and Visualizations share: api/v1/viz for one type.
type vizAPI struct {
	c   *carto.Client
	typ string
}

const vizPath = "api/v1/viz"

// query is what carto-python's managers add to every request, with_dependent_visualizations
// asked so that a dataset knows its maps.
func (a vizAPI) query() url.Values {
	return url.Values{"type": {a.typ}, "exclude_shared": {"true"}, "with_dependent_visualizations": {"10"}}
}

func (a vizAPI) list(ctx context.Context, o *ListOptions) iter.Seq2[*Visualization, error] {
	if o == nil {
		o = &ListOptions{}
	}
	return pages(ctx, func(ctx context.Context, page int) ([]*Visualization, int, error) {
		q := a.query()
		q.Set("page", strconv.Itoa(page))
		if o.PerPage > 0 {
			q.Set("per_page", strconv.Itoa(o.PerPage))
		}
		if o.Query != "" {
			q.Set("q", o.Query)
		}
		if len(o.Tags) > 0 {
			q.Set("tags", strings.Join(o.Tags, ","))
		}
		for _, p := range o.Privacy {
			q.Add("privacy", strings.ToLower(string(p)))
		}
		if o.Order != "" {
			q.Set("order", o.Order)
		}
		if o.Ascending {
			q.Set("order_direction", "asc")
		}
		var out struct {
			Visualizations []*Visualization `json:"visualizations"`
			TotalEntries   int              `json:"total_entries"`
		}
		if err := do(ctx, a.c, http.MethodGet, vizPath, q, nil, &out); err != nil {
			return nil, 0, err
		}
		return out.Visualizations, out.TotalEntries, nil
	})
}

func (a vizAPI) get(ctx context.Context, idOrName string) (*Visualization, error) {
	v := new(Visualization)
	if err := do(ctx, a.c, http.MethodGet, vizPath+"/"+escape(idOrName), a.query(), nil, v); err != nil {
		return nil, err
	}
	if v.Type != a.typ {
		// CARTO finds by id whatever the type; a dataset asked as a map is not one.
		return nil, &carto.Error{StatusCode: http.StatusNotFound, Method: http.MethodGet, Path: vizPath + "/" + idOrName, Sent: true,
			Messages: []string{"Visualization does not exist"}}
	}
	return v, nil
}

// update sends PUT api/v1/viz/ID with the fields to change (Rails requires the id in the body).
func (a vizAPI) update(ctx context.Context, idOrName string, fields map[string]any) (*Visualization, error) {
	v, err := a.get(ctx, idOrName)
	if err != nil {
		return nil, err
	}
	fields["id"] = v.ID
	out := new(Visualization)
	if err := do(ctx, a.c, http.MethodPut, vizPath+"/"+escape(v.ID), nil, fields, out); err != nil {
		return nil, err
	}
	return out, nil
}

func (a vizAPI) delete(ctx context.Context, idOrName string) error {
	v, err := a.get(ctx, idOrName)
	if err != nil {
		return err
	}
	return do(ctx, a.c, http.MethodDelete, vizPath+"/"+escape(v.ID), nil, nil, nil)
}

// Datasets manages the account's datasets: its tables, as api/v1/viz shows them.
type Datasets struct{ a vizAPI }

// NewDatasets returns the datasets of c's account.
func NewDatasets(c *carto.Client) *Datasets { return &Datasets{vizAPI{c: c, typ: "table"}} }

// List iterates over the account's datasets (only the public ones without the master key).
func (d *Datasets) List(ctx context.Context, o *ListOptions) iter.Seq2[*Visualization, error] {
	return d.a.list(ctx, o)
}

// Get returns a dataset by id or by table name.
func (d *Datasets) Get(ctx context.Context, idOrName string) (*Visualization, error) {
	return d.a.get(ctx, idOrName)
}

// Rename renames a dataset, and so its table.
func (d *Datasets) Rename(ctx context.Context, idOrName, name string) (*Visualization, error) {
	return d.a.update(ctx, idOrName, map[string]any{"name": name})
}

// SetPrivacy changes who may read a dataset: PUBLIC and LINK datasets are readable with no key or
// the public key, PRIVATE ones only with the master key or a key granted them.
func (d *Datasets) SetPrivacy(ctx context.Context, idOrName string, p Privacy) (*Visualization, error) {
	return d.a.update(ctx, idOrName, map[string]any{"privacy": string(p)})
}

// Update sets a dataset's description and tags.
func (d *Datasets) Update(ctx context.Context, idOrName, description string, tags []string) (*Visualization, error) {
	if tags == nil {
		tags = []string{}
	}
	return d.a.update(ctx, idOrName, map[string]any{"description": description, "tags": tags})
}

// ErrHasDependents is Delete refusing a dataset that maps use (carto-python's Dataset.delete
// refuses too); ForceDelete deletes it and the maps that use only it.
var ErrHasDependents = errors.New("account: the dataset is used by maps; use ForceDelete to delete it and them")

// Delete deletes a dataset and its table, unless maps use it.
func (d *Datasets) Delete(ctx context.Context, idOrName string) error {
	v, err := d.a.get(ctx, idOrName)
	if err != nil {
		return err
	}
	if v.DependentVisualizationsCount > 0 {
		return fmt.Errorf("%w (%d maps)", ErrHasDependents, v.DependentVisualizationsCount)
	}
	return do(ctx, d.a.c, http.MethodDelete, vizPath+"/"+escape(v.ID), nil, nil, nil)
}

// ForceDelete deletes a dataset and its table, and the maps that use only it; maps that also
// use other datasets lose it.
func (d *Datasets) ForceDelete(ctx context.Context, idOrName string) error {
	return d.a.delete(ctx, idOrName)
}

// Visualizations manages the account's maps.
type Visualizations struct{ a vizAPI }

// NewVisualizations returns the maps of c's account.
func NewVisualizations(c *carto.Client) *Visualizations {
	return &Visualizations{vizAPI{c: c, typ: "derived"}}
}

// List iterates over the account's maps (only the public ones without the master key).
func (m *Visualizations) List(ctx context.Context, o *ListOptions) iter.Seq2[*Visualization, error] {
	return m.a.list(ctx, o)
}

// Get returns a map by id or by name.
func (m *Visualizations) Get(ctx context.Context, idOrName string) (*Visualization, error) {
	return m.a.get(ctx, idOrName)
}

// MapSpec describes a map to create from datasets.
type MapSpec struct {
	Name        string   `json:"name,omitempty"`
	Description string   `json:"description,omitempty"`
	Tags        []string `json:"tags,omitempty"`
	Privacy     Privacy  `json:"privacy,omitempty"`
	// Tables are the datasets the map shows, by table name or dataset id.
	Tables []string `json:"tables"`
}

// Create makes a map showing datasets (POST api/v1/viz).
func (m *Visualizations) Create(ctx context.Context, spec MapSpec) (*Visualization, error) {
	out := new(Visualization)
	if err := do(ctx, m.a.c, http.MethodPost, vizPath, nil, spec, out); err != nil {
		return nil, err
	}
	return out, nil
}

// Rename renames a map.
func (m *Visualizations) Rename(ctx context.Context, idOrName, name string) (*Visualization, error) {
	return m.a.update(ctx, idOrName, map[string]any{"name": name})
}

// SetPrivacy changes who may see a map.
func (m *Visualizations) SetPrivacy(ctx context.Context, idOrName string, p Privacy) (*Visualization, error) {
	return m.a.update(ctx, idOrName, map[string]any{"privacy": string(p)})
}

// Delete deletes a map; its datasets stay.
func (m *Visualizations) Delete(ctx context.Context, idOrName string) error {
	return m.a.delete(ctx, idOrName)
}
