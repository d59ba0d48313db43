package batch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/gocarto/carto"
)

// Client creates, reads and cancels Batch SQL jobs of one account. It needs the master key: CARTO
// refuses any other key on the Batch API with 403 "permission denied".
type Client struct {
	c *carto.Client
}

// New returns a Batch SQL client that sends its requests through c.
func New(c *carto.Client) *Client { return &Client{c: c} }

// JobSpec describes a job with fallback queries (CARTO's "fallback" form).
type JobSpec struct {
	Queries []Query
	// OnSuccess runs after every query succeeded; OnError after one failed. CARTO does not
	// substitute templates in these two.
	OnSuccess string
	OnError   string
}

// Query is one query of a JobSpec.
type Query struct {
	SQL string
	// OnSuccess runs after SQL succeeded, OnError after it failed; in both <%= job_id %> becomes
	// the job's id, and in OnError <%= error_message %> becomes PostgreSQL's message, inserted as
	// is (quote it yourself if the query needs a literal).
	OnSuccess string
	OnError   string
	// Timeout caps this query below the account's batch timeout; 0 leaves the account's.
	Timeout time.Duration
}

// maxResponse bounds a Batch answer: a job is at most 16 KiB of query plus statuses, and a list
// holds at most a few hundred jobs.
const maxResponse = 64 << 20

const jobsPath = "api/v2/sql/job"

func jobPath(id string) string { return jobsPath + "/" + url.PathEscape(id) }

// Create creates a job: one SQL string makes a single-query job (one implicit transaction),
// several make a multi-query job run one after another, each in its own transaction.
func (b *Client) Create(ctx context.Context, sql ...string) (*Job, error) {
	var query any
	switch len(sql) {
	case 0:
		return nil, errors.New("batch: Create: no SQL")
	case 1:
		query = sql[0]
	default:
		query = sql
	}
	return b.create(ctx, query)
}

// CreateJob creates a job with fallback queries.
func (b *Client) CreateJob(ctx context.Context, spec JobSpec) (*Job, error) {
	if len(spec.Queries) == 0 {
		return nil, errors.New("batch: CreateJob: no queries")
	}
	type item struct {
		Query     string `json:"query"`
		OnSuccess string `json:"onsuccess,omitempty"`
		OnError   string `json:"onerror,omitempty"`
		Timeout   int64  `json:"timeout,omitempty"`
	}
	main := struct {
		Query     []item `json:"query"`
		OnSuccess string `json:"onsuccess,omitempty"`
		OnError   string `json:"onerror,omitempty"`
	}{OnSuccess: spec.OnSuccess, OnError: spec.OnError}
	for _, q := range spec.Queries {
		it := item{Query: q.SQL, OnSuccess: q.OnSuccess, OnError: q.OnError}
		if q.Timeout > 0 {
			it.Timeout = max(1, q.Timeout.Milliseconds())
		}
		main.Query = append(main.Query, it)
	}
	return b.create(ctx, main)
}

func (b *Client) create(ctx context.Context, query any) (*Job, error) {
	body, err := json.Marshal(struct {
		Query any `json:"query"`
	}{query}, jsontext.EscapeForHTML(false))
	if err != nil {
		return nil, fmt.Errorf("batch: encoding the job: %w", err)
	}
	return b.doJob(ctx, &carto.Request{Method: http.MethodPost, Path: jobsPath, Body: body, ContentType: "application/json"})
}

// Get reads a job. A job unknown to the server, or finished more than 2 hours ago, is an error
// for which carto.IsNotFound is true (CARTO answers it with a 400).
func (b *Client) Get(ctx context.Context, id string) (*Job, error) {
	return b.doJob(ctx, &carto.Request{Method: http.MethodGet, Path: jobPath(id), Idempotent: true})
}

// Update replaces the query of a job that has not started yet. CARTO removed this endpoint in SQL
// API 1.35; against such a server the error wraps ErrNotSupported.
func (b *Client) Update(ctx context.Context, id, sql string) (*Job, error) {
	body, err := json.Marshal(map[string]string{"query": sql}, jsontext.EscapeForHTML(false))
	if err != nil {
		return nil, fmt.Errorf("batch: encoding the job: %w", err)
	}
	j, err := b.doJob(ctx, &carto.Request{Method: http.MethodPut, Path: jobPath(id), Body: body, ContentType: "application/json"})
	return j, notSupported("Update", err)
}

// Cancel cancels a job: a pending one never runs, a running one has its query cancelled. Like
// carto-python 1.3.1, cancelling a job that already finished is not an error: Cancel returns the
// job as it is.
func (b *Client) Cancel(ctx context.Context, id string) (*Job, error) {
	j, err := b.doJob(ctx, &carto.Request{Method: http.MethodDelete, Path: jobPath(id), Idempotent: true})
	var e *carto.Error
	if errors.As(err, &e) && e.StatusCode == http.StatusBadRequest && strings.HasPrefix(e.Message(), "Cannot set status ") {
		return b.Get(ctx, id)
	}
	return j, err
}

// List returns the account's jobs, newest first. CARTO removed this endpoint in SQL API 1.35;
// against such a server the error wraps ErrNotSupported.
func (b *Client) List(ctx context.Context) ([]*Job, error) {
	resp, err := b.c.Do(ctx, &carto.Request{Method: http.MethodGet, Path: jobsPath, Idempotent: true})
	if err != nil {
		return nil, notSupported("List", err)
	}
	defer resp.Body.Close()
	var wire []wireJob
	if err := json.UnmarshalRead(io.LimitReader(resp.Body, maxResponse), &wire); err != nil {
		return nil, fmt.Errorf("batch: List: reading the answer: %w", err)
	}
	out := make([]*Job, 0, len(wire))
	for i := range wire {
		j, err := wire[i].job()
		if err != nil {
			return nil, err
		}
		out = append(out, j)
	}
	return out, nil
}

func (b *Client) doJob(ctx context.Context, req *carto.Request) (*Job, error) {
	resp, err := b.c.Do(ctx, req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var w wireJob
	if err := json.UnmarshalRead(io.LimitReader(resp.Body, maxResponse), &w); err != nil {
		return nil, fmt.Errorf("batch: %s %s: reading the answer: %w", req.Method, req.Path, err)
	}
	return w.job()
}

// notSupported recognizes Express's 404 for a route CARTO no longer has ("Cannot PUT /api/v2/...").
func notSupported(op string, err error) error {
	var e *carto.Error
	if errors.As(err, &e) && e.StatusCode == http.StatusNotFound && strings.Contains(e.Message(), "Cannot ") {
		return fmt.Errorf("batch: %s: %w (CARTO removed it in SQL API 1.35): %w", op, ErrNotSupported, err)
	}
	return err
}
