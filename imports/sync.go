package imports

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/gocarto/carto"
)

// MinInterval is the shortest interval CARTO syncs a table at.
const MinInterval = 15 * time.Minute

// Sync is a sync table as CARTO describes it (Synchronization::Member).
type Sync struct {
	ID string
	// Name is the table's name, known once the first import succeeded.
	Name     string
	Interval time.Duration
	// URL is the source; empty for a connector sync (ServiceName "connector").
	URL          string
	State        SyncState
	CreatedAt    time.Time
	UpdatedAt    time.Time
	RunAt        time.Time // the next run
	RanAt        time.Time // the last run
	ModifiedAt   time.Time // the last run that changed the table
	RetriedTimes int
	LogID        string
	// ErrorCode and ErrorMessage tell why the last run failed.
	ErrorCode     int
	ErrorMessage  string
	ETag          string
	Checksum      string
	UserID        string
	ServiceName   string
	ServiceItemID string
	// VisualizationID is the table's dataset.
	VisualizationID      string
	TypeGuessing         bool
	QuotedFieldsGuessing bool
	ContentGuessing      bool
	FromExternalSource   bool
	// ImportID is the first import's id (CreateSync's answer only).
	ImportID string
}

type wireSync struct {
	DataImport *struct {
		ID string `json:"item_queue_id"`
	} `json:"data_import"`
	ID                   string    `json:"id"`
	Name                 string    `json:"name"`
	Interval             int64     `json:"interval"`
	URL                  string    `json:"url"`
	State                SyncState `json:"state"`
	CreatedAt            string    `json:"created_at"`
	UpdatedAt            string    `json:"updated_at"`
	RunAt                string    `json:"run_at"`
	RanAt                string    `json:"ran_at"`
	ModifiedAt           string    `json:"modified_at"`
	RetriedTimes         int       `json:"retried_times"`
	LogID                string    `json:"log_id"`
	ErrorCode            int       `json:"error_code"`
	ErrorMessage         string    `json:"error_message"`
	ETag                 string    `json:"etag"`
	Checksum             string    `json:"checksum"`
	UserID               string    `json:"user_id"`
	ServiceName          string    `json:"service_name"`
	ServiceItemID        string    `json:"service_item_id"`
	TypeGuessing         bool      `json:"type_guessing"`
	QuotedFieldsGuessing bool      `json:"quoted_fields_guessing"`
	ContentGuessing      bool      `json:"content_guessing"`
	VisualizationID      string    `json:"visualization_id"`
	FromExternalSource   bool      `json:"from_external_source"`
}

func (w *wireSync) sync() (*Sync, error) {
	s := &Sync{ID: w.ID, Name: w.Name, Interval: time.Duration(w.Interval) * time.Second, URL: w.URL, State: w.State,
		RetriedTimes: w.RetriedTimes, LogID: w.LogID, ErrorCode: w.ErrorCode, ErrorMessage: w.ErrorMessage, ETag: w.ETag,
		Checksum: w.Checksum, UserID: w.UserID, ServiceName: w.ServiceName, ServiceItemID: w.ServiceItemID,
		VisualizationID: w.VisualizationID, TypeGuessing: w.TypeGuessing, QuotedFieldsGuessing: w.QuotedFieldsGuessing,
		ContentGuessing: w.ContentGuessing, FromExternalSource: w.FromExternalSource}
	if w.DataImport != nil {
		s.ImportID = w.DataImport.ID
	}
	for _, f := range []struct {
		dst *time.Time
		src string
	}{{&s.CreatedAt, w.CreatedAt}, {&s.UpdatedAt, w.UpdatedAt}, {&s.RunAt, w.RunAt}, {&s.RanAt, w.RanAt}, {&s.ModifiedAt, w.ModifiedAt}} {
		t, err := parseTime(f.src)
		if err != nil {
			return nil, err
		}
		*f.dst = t
	}
	return s, nil
}

// SyncSpec describes a sync table: a URL or a connector, re-imported every Interval.
type SyncSpec struct {
	URL       string
	Connector *Connector
	// Interval is at least MinInterval; zero means CARTO's default, an hour.
	Interval time.Duration
	// Options apply to every run (Progress and Collision do not).
	Options *Options
}

func syncPath(id string) string { return syncsPath + url.PathEscape(id) }

func (c *Client) doSync(ctx context.Context, req *carto.Request, what string) (*Sync, error) {
	resp, err := c.c.Do(ctx, req)
	if err != nil {
		return nil, err
	}
	var w wireSync
	if err := decode(resp, &w, what); err != nil {
		return nil, err
	}
	return w.sync()
}

// CreateSync creates a sync table: its first import starts at once (Sync.ImportID), and the
// table is re-imported every interval. An interval under 15 minutes is refused by CARTO (a
// *carto.Error with status 400).
func (c *Client) CreateSync(ctx context.Context, spec SyncSpec) (*Sync, error) {
	p := spec.Options.fields()
	delete(p, "collision_strategy")
	switch {
	case spec.URL != "" && spec.Connector == nil:
		p["url"] = spec.URL
	case spec.Connector != nil && spec.URL == "":
		p["connector"] = spec.Connector.wire()
	default:
		return nil, errors.New("imports: CreateSync: give a URL or a connector")
	}
	if spec.Interval != 0 {
		p["interval"] = int64(spec.Interval / time.Second)
	}
	body, err := json.Marshal(p, jsontext.EscapeForHTML(false))
	if err != nil {
		return nil, fmt.Errorf("imports: encoding the request: %w", err)
	}
	return c.doSync(ctx, &carto.Request{Method: http.MethodPost, Path: syncsPath, Body: body, ContentType: "application/json"}, "CreateSync")
}

// GetSync reads a sync table.
func (c *Client) GetSync(ctx context.Context, id string) (*Sync, error) {
	return c.doSync(ctx, &carto.Request{Method: http.MethodGet, Path: syncPath(id), Idempotent: true}, "GetSync")
}

// ListSyncs returns every sync table of the account.
func (c *Client) ListSyncs(ctx context.Context) ([]*Sync, error) {
	resp, err := c.c.Do(ctx, &carto.Request{Method: http.MethodGet, Path: syncsPath, Idempotent: true})
	if err != nil {
		return nil, err
	}
	var w struct {
		Syncs []wireSync `json:"synchronizations"`
	}
	if err := decode(resp, &w, "ListSyncs"); err != nil {
		return nil, err
	}
	out := make([]*Sync, 0, len(w.Syncs))
	for i := range w.Syncs {
		s, err := w.Syncs[i].sync()
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// ForceSync asks for a run now (sync_now). CARTO runs it only when the sync is not running and
// its last run is at least 15 minutes old; enqueued says whether it will.
func (c *Client) ForceSync(ctx context.Context, id string) (enqueued bool, err error) {
	resp, err := c.c.Do(ctx, &carto.Request{Method: http.MethodPut, Path: syncPath(id) + "/sync_now"})
	if err != nil {
		return false, err
	}
	var w struct {
		Enqueued bool `json:"enqueued"`
	}
	if err := decode(resp, &w, "ForceSync"); err != nil {
		return false, err
	}
	return w.Enqueued, nil
}

// DeleteSync stops syncing a table; the table stays, as a plain dataset.
func (c *Client) DeleteSync(ctx context.Context, id string) error {
	resp, err := c.c.Do(ctx, &carto.Request{Method: http.MethodDelete, Path: syncPath(id), Idempotent: true})
	if err != nil {
		return err
	}
	return resp.Body.Close()
}
