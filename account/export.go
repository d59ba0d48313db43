package account

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gocarto/carto"
)

// Export states, as api/v3/visualization_exports reports them.
const (
	ExportPending   = "pending"
	ExportExporting = "exporting"
	ExportUploading = "uploading"
	ExportComplete  = "complete"
	ExportFailure   = "failure"
)

// Export is a map's export to a .carto file.
type Export struct {
	ID              string    `json:"id"`
	VisualizationID string    `json:"visualization_id"`
	UserID          string    `json:"user_id"`
	State           string    `json:"state"`
	URL             string    `json:"url"`
	CreatedAt       time.Time `json:"created_at"`
	UpdatedAt       time.Time `json:"updated_at"`
}

// Done reports whether the export ended (complete or failure).
func (e *Export) Done() bool { return e.State == ExportComplete || e.State == ExportFailure }

// ExportError is an export that ended in failure.
type ExportError struct{ Export *Export }

func (e *ExportError) Error() string {
	return fmt.Sprintf("account: export %s of map %s failed", e.Export.ID, e.Export.VisualizationID)
}

const exportsPath = "api/v3/visualization_exports"

// Export starts exporting a map (by id or name) to a .carto file: its definition and the data of
// its tables, or of only those datasets whose ids are given. Wait for it, then Download it.
func (m *Visualizations) Export(ctx context.Context, idOrName string, tableIDs ...string) (*Export, error) {
	v, err := m.Get(ctx, idOrName)
	if err != nil {
		return nil, err
	}
	q := url.Values{"visualization_id": {v.ID}}
	if len(tableIDs) > 0 {
		q.Set("user_tables_ids", strings.Join(tableIDs, ","))
	}
	e := new(Export)
	if err := do(ctx, m.a.c, http.MethodPost, exportsPath, q, nil, e); err != nil {
		return nil, err
	}
	return e, nil
}

// GetExport returns an export's state.
func (m *Visualizations) GetExport(ctx context.Context, id string) (*Export, error) {
	e := new(Export)
	if err := do(ctx, m.a.c, http.MethodGet, exportsPath+"/"+escape(id), nil, nil, e); err != nil {
		return nil, err
	}
	return e, nil
}

// Wait polls an export until it ends, backing off from 250 ms to 5 s and calling onChange (when
// not nil) with each new state, the first included. A failed export returns an *ExportError.
// When ctx ends first, Wait returns the last state seen with ctx's error.
func (m *Visualizations) Wait(ctx context.Context, id string, onChange func(*Export)) (*Export, error) {
	delay, last := 250*time.Millisecond, ""
	var e *Export
	for {
		got, err := m.GetExport(ctx, id)
		if err != nil {
			if ctx.Err() != nil && e != nil {
				return e, ctx.Err()
			}
			return e, err
		}
		e = got
		if e.State != last {
			last, delay = e.State, 250*time.Millisecond
			if onChange != nil {
				onChange(e)
			}
		}
		if e.State == ExportFailure {
			return e, &ExportError{Export: e}
		}
		if e.Done() {
			return e, nil
		}
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return e, ctx.Err()
		case <-t.C:
		}
		delay = min(delay*3/2, 5*time.Second)
	}
}

// downloadClient fetches export files kept outside the account (CARTO's presigned storage URLs),
// which take no credentials: the key is never sent there.
var downloadClient = &http.Client{Timeout: 30 * time.Minute}

// Download streams a complete export's .carto file (a zip) into w and returns its size. A file
// served by the account itself is fetched with the client's key; one kept in storage elsewhere
// through its presigned URL, without it.
func (m *Visualizations) Download(ctx context.Context, e *Export, w io.Writer) (int64, error) {
	if e.State != ExportComplete || e.URL == "" {
		return 0, fmt.Errorf("account: export %s is %s, not complete", e.ID, e.State)
	}
	base := strings.TrimSuffix(m.a.c.BaseURL(), "/") + "/"
	var body io.ReadCloser
	if rel, ok := strings.CutPrefix(e.URL, base); ok {
		resp, err := m.a.c.Do(ctx, &carto.Request{Method: http.MethodGet, Path: rel, Idempotent: true,
			Header: http.Header{"Accept": {"application/zip, */*"}}})
		if err != nil {
			return 0, err
		}
		body = resp.Body
	} else {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, e.URL, nil)
		if err != nil {
			return 0, fmt.Errorf("account: export %s: bad download URL", e.ID)
		}
		resp, err := downloadClient.Do(req)
		if err != nil {
			return 0, &carto.Error{Method: http.MethodGet, Path: req.URL.Path, Err: fmt.Errorf("downloading the export: %w", errWithoutURL(err))}
		}
		if resp.StatusCode != http.StatusOK {
			resp.Body.Close()
			return 0, &carto.Error{StatusCode: resp.StatusCode, Method: http.MethodGet, Path: req.URL.Path, Sent: true, Messages: []string{resp.Status}}
		}
		body = resp.Body
	}
	defer body.Close()
	n, err := io.Copy(w, body)
	if err != nil {
		return n, fmt.Errorf("account: downloading export %s: %w", e.ID, err)
	}
	return n, nil
}

// errWithoutURL drops the URL net/http puts in its errors: a presigned URL is a credential.
func errWithoutURL(err error) error {
	if ue, ok := err.(*url.Error); ok {
		return ue.Err
	}
	return err
}
