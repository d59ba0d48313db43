package imports

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/gocarto/carto"
)

// Client starts and follows imports and sync tables of one account. CARTO requires the master
// key for every call.
type Client struct {
	c *carto.Client
}

// New returns a client that sends its requests through c.
func New(c *carto.Client) *Client { return &Client{c: c} }

const (
	importsPath = "api/v1/imports/"
	syncsPath   = "api/v1/synchronizations/"
)

// maxResponse bounds an answer: an import or sync is a few KiB, a list of syncs a few MiB.
const maxResponse = 16 << 20

// Options are an import's parameters; the zero value is CARTO's defaults.
type Options struct {
	// NoTypeGuessing keeps CSV columns as text and makes no point of lat/lon columns
	// (type_guessing=false).
	NoTypeGuessing bool
	// NoQuotedFieldsGuessing keeps quoted CSV fields as text (quoted_fields_guessing=false).
	NoQuotedFieldsGuessing bool
	// ContentGuessing asks for geocoding of countries, places and IP addresses.
	ContentGuessing bool
	// CreateVis also makes a map of the new datasets; for a .carto file (a map exported with
	// account's Visualizations.Export), the map it holds, on the tables as this import named
	// them. Without it a .carto gives only its tables, as on CARTO.
	CreateVis bool
	// Privacy of the new datasets; empty means the account's default.
	Privacy Privacy
	// Collision is what to do when a table's name is taken; empty picks a free name.
	Collision Collision
	// Progress, for Upload, is called with the bytes sent so far as the file streams.
	Progress func(sent int64)
}

// fields are the options as request parameters; only those that differ from CARTO's defaults
// are sent.
func (o *Options) fields() map[string]any {
	m := map[string]any{}
	if o == nil {
		return m
	}
	if o.NoTypeGuessing {
		m["type_guessing"] = false
	}
	if o.NoQuotedFieldsGuessing {
		m["quoted_fields_guessing"] = false
	}
	if o.ContentGuessing {
		m["content_guessing"] = true
	}
	if o.CreateVis {
		m["create_vis"] = true
	}
	if o.Privacy != "" {
		m["privacy"] = string(o.Privacy)
	}
	if o.Collision != "" {
		m["collision_strategy"] = string(o.Collision)
	}
	return m
}

// query is the options as a query string, for Upload.
func (o *Options) query() url.Values {
	q := url.Values{}
	for k, v := range o.fields() {
		q.Set(k, fmt.Sprint(v))
	}
	return q
}

// Import is an import as CARTO describes it (DataImportPresenter).
type Import struct {
	ID string
	// State is where the import is; Final tells whether it ended.
	State State
	// DataType is "file", "url", "datasource" (connector) or "query".
	DataType string
	// TableName is the first table the import created (its dataset has the same name) and
	// TableID its dataset's id; TablesCreated counts them all.
	TableName     string
	TableID       string
	TablesCreated int
	// ErrorCode is set on failure, and on a completed import that skipped every table (1022).
	ErrorCode int
	// Error is CARTO's description of ErrorCode.
	Error                *ImportError
	UserID               string
	SynchronizationID    string
	VisualizationID      string
	DisplayName          string
	OriginalURL          string
	TypeGuessing         bool
	QuotedFieldsGuessing bool
	ContentGuessing      bool
	CreateVisualization  bool
	// Success is true for a complete import, false for a failed one, and false while running.
	Success bool
	// Warnings is CARTO's warnings object, such as {"max_tables_per_import":26}; nil if none.
	Warnings map[string]any
	IsRaster bool
	// HTTPStatus is what the source URL answered, when it was not 2xx.
	HTTPStatus             int
	DerivedVisualizationID string
}

type wireImport struct {
	ID                   string `json:"id"`
	UserID               string `json:"user_id"`
	TableID              string `json:"table_id"`
	DataType             string `json:"data_type"`
	TableName            string `json:"table_name"`
	State                State  `json:"state"`
	ErrorCode            *int   `json:"error_code"`
	TablesCreated        int    `json:"tables_created_count"`
	SynchronizationID    string `json:"synchronization_id"`
	TypeGuessing         bool   `json:"type_guessing"`
	QuotedFieldsGuessing bool   `json:"quoted_fields_guessing"`
	ContentGuessing      bool   `json:"content_guessing"`
	CreateVisualization  bool   `json:"create_visualization"`
	VisualizationID      string `json:"visualization_id"`
	ErrorText            *struct {
		Title     string `json:"title"`
		WhatAbout string `json:"what_about"`
		Source    string `json:"source"`
	} `json:"get_error_text"`
	DisplayName            string         `json:"display_name"`
	Success                bool           `json:"success"`
	OriginalURL            string         `json:"original_url"`
	Warnings               map[string]any `json:"warnings"`
	IsRaster               bool           `json:"is_raster"`
	HTTPStatus             int            `json:"http_response_code"`
	DerivedVisualizationID string         `json:"derived_visualization_id"`
}

func (w *wireImport) imp() *Import {
	i := &Import{ID: w.ID, State: w.State, DataType: w.DataType, TableName: w.TableName, TableID: w.TableID,
		TablesCreated: w.TablesCreated, UserID: w.UserID, SynchronizationID: w.SynchronizationID,
		VisualizationID: w.VisualizationID, DisplayName: w.DisplayName, OriginalURL: w.OriginalURL,
		TypeGuessing: w.TypeGuessing, QuotedFieldsGuessing: w.QuotedFieldsGuessing, ContentGuessing: w.ContentGuessing,
		CreateVisualization: w.CreateVisualization, Success: w.Success, Warnings: w.Warnings, IsRaster: w.IsRaster,
		HTTPStatus: w.HTTPStatus, DerivedVisualizationID: w.DerivedVisualizationID}
	if w.ErrorCode != nil {
		i.ErrorCode = *w.ErrorCode
		i.Error = &ImportError{ID: w.ID, Code: *w.ErrorCode, HTTPStatus: w.HTTPStatus}
		if w.ErrorText != nil {
			i.Error.Title, i.Error.Advice, i.Error.Source = w.ErrorText.Title, w.ErrorText.WhatAbout, w.ErrorText.Source
		}
	}
	return i
}

// decode reads a JSON answer into v.
func decode(resp *http.Response, v any, what string) error {
	defer resp.Body.Close()
	if err := json.UnmarshalRead(io.LimitReader(resp.Body, maxResponse), v); err != nil {
		return fmt.Errorf("imports: %s: reading the answer: %w", what, err)
	}
	return nil
}

// created reads a create answer, {"item_queue_id":"…","success":true}.
func created(resp *http.Response) (*Import, error) {
	var w struct {
		ID      string `json:"item_queue_id"`
		Success bool   `json:"success"`
	}
	if err := decode(resp, &w, "create"); err != nil {
		return nil, err
	}
	if w.ID == "" || !w.Success {
		return nil, errors.New("imports: create: the answer has no import id")
	}
	return &Import{ID: w.ID, State: Pending}, nil
}

// postJSON creates an import from parameters sent as a JSON body (booleans stay booleans).
func (c *Client) postJSON(ctx context.Context, params map[string]any) (*Import, error) {
	body, err := json.Marshal(params, jsontext.EscapeForHTML(false))
	if err != nil {
		return nil, fmt.Errorf("imports: encoding the request: %w", err)
	}
	resp, err := c.c.Do(ctx, &carto.Request{Method: http.MethodPost, Path: importsPath, Body: body, ContentType: "application/json"})
	if err != nil {
		return nil, err
	}
	return created(resp)
}

// FromURL imports the file at rawURL, which CARTO downloads. The name of the table comes from
// the file's (Content-Disposition's, or the URL's).
func (c *Client) FromURL(ctx context.Context, rawURL string, opts *Options) (*Import, error) {
	p := opts.fields()
	p["url"] = rawURL
	return c.postJSON(ctx, p)
}

// FromQuery creates the table tableName from the result of sql, run as the account.
func (c *Client) FromQuery(ctx context.Context, sql, tableName string, opts *Options) (*Import, error) {
	p := opts.fields()
	p["sql"], p["table_name"] = sql, tableName
	return c.postJSON(ctx, p)
}

// FromConnector imports a table or a query of another database.
func (c *Client) FromConnector(ctx context.Context, conn Connector, opts *Options) (*Import, error) {
	p := opts.fields()
	p["connector"] = conn.wire()
	return c.postJSON(ctx, p)
}

// Get reads an import. An unknown id is an error for which carto.IsNotFound is true.
func (c *Client) Get(ctx context.Context, id string) (*Import, error) {
	resp, err := c.c.Do(ctx, &carto.Request{Method: http.MethodGet, Path: importsPath + url.PathEscape(id), Idempotent: true})
	if err != nil {
		return nil, err
	}
	var w wireImport
	if err := decode(resp, &w, "Get"); err != nil {
		return nil, err
	}
	return w.imp(), nil
}

// List returns the ids of the account's unfinished imports of the last 24 hours, newest first:
// CARTO lists no finished import.
func (c *Client) List(ctx context.Context) ([]string, error) {
	resp, err := c.c.Do(ctx, &carto.Request{Method: http.MethodGet, Path: importsPath, Idempotent: true})
	if err != nil {
		return nil, err
	}
	var w struct {
		Imports []string `json:"imports"`
	}
	if err := decode(resp, &w, "List"); err != nil {
		return nil, err
	}
	if w.Imports == nil {
		w.Imports = []string{}
	}
	return w.Imports, nil
}

// parseTime reads CARTO's Rails times, with Z or +00:00 and with or without milliseconds.
func parseTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("imports: time %s: %w", strconv.Quote(s), err)
	}
	return t, nil
}
