package batch

import (
	"fmt"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// Job is a Batch SQL job as the server describes it.
type Job struct {
	ID     string
	User   string
	Status Status
	// Query is the SQL of a single-query job; empty for the other two kinds.
	Query string
	// Queries are the queries of a multi-query or fallback job, with their own statuses.
	Queries []QueryStatus
	// OnSuccess and OnError are a fallback job's job-level fallback queries.
	OnSuccess string
	OnError   string
	// FailedReason is PostgreSQL's message when the job failed (multi-query and single jobs; a
	// fallback job keeps it on the query that failed).
	FailedReason string
	// FallbackStatus is the status of the job-level fallback, "" when the job has none.
	FallbackStatus Status
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// QueryStatus is one query of a multi-query or fallback job.
type QueryStatus struct {
	Query     string
	OnSuccess string
	OnError   string
	// Timeout is the query's own statement timeout; 0 means the account's batch timeout.
	Timeout        time.Duration
	Status         Status
	FallbackStatus Status // "" when the query has no fallback
	StartedAt      time.Time
	EndedAt        time.Time
	FailedReason   string
}

// Finished reports whether nothing of the job is left to run: its status is final and so is its
// job-level fallback, if it has one. A fallback job already reports "failed" while its onerror
// query is still pending or running.
func (j *Job) Finished() bool {
	return j.Status.Final() && j.FallbackStatus != Pending && j.FallbackStatus != Running
}

// wireJob is a job on the wire.
type wireJob struct {
	JobID          string         `json:"job_id"`
	User           string         `json:"user"`
	Status         Status         `json:"status"`
	Query          jsontext.Value `json:"query"`
	FailedReason   string         `json:"failed_reason"`
	FallbackStatus Status         `json:"fallback_status"`
	CreatedAt      string         `json:"created_at"`
	UpdatedAt      string         `json:"updated_at"`
}

type wireQuery struct {
	Query          string   `json:"query"`
	OnSuccess      string   `json:"onsuccess"`
	OnError        string   `json:"onerror"`
	Timeout        *float64 `json:"timeout"`
	Status         Status   `json:"status"`
	FallbackStatus Status   `json:"fallback_status"`
	StartedAt      string   `json:"started_at"`
	EndedAt        string   `json:"ended_at"`
	FailedReason   string   `json:"failed_reason"`
}

func (w *wireJob) job() (*Job, error) {
	j := &Job{ID: w.JobID, User: w.User, Status: w.Status, FailedReason: w.FailedReason, FallbackStatus: w.FallbackStatus}
	var err error
	if j.CreatedAt, err = parseTime(w.CreatedAt); err != nil {
		return nil, err
	}
	if j.UpdatedAt, err = parseTime(w.UpdatedAt); err != nil {
		return nil, err
	}
	switch w.Query.Kind() {
	case '"':
		err = json.Unmarshal(w.Query, &j.Query)
	case '[':
		j.Queries, err = decodeQueries(w.Query)
	case '{':
		var main struct {
			Query     jsontext.Value `json:"query"`
			OnSuccess string         `json:"onsuccess"`
			OnError   string         `json:"onerror"`
		}
		if err = json.Unmarshal(w.Query, &main); err == nil {
			j.OnSuccess, j.OnError = main.OnSuccess, main.OnError
			j.Queries, err = decodeQueries(main.Query)
		}
	case 0:
	default:
		err = fmt.Errorf("unexpected query %s", w.Query)
	}
	if err != nil {
		return nil, fmt.Errorf("batch: decoding job %s: %w", w.JobID, err)
	}
	return j, nil
}

func decodeQueries(v jsontext.Value) ([]QueryStatus, error) {
	var items []wireQuery
	if err := json.Unmarshal(v, &items); err != nil {
		return nil, err
	}
	out := make([]QueryStatus, len(items))
	for i, it := range items {
		q := QueryStatus{Query: it.Query, OnSuccess: it.OnSuccess, OnError: it.OnError, Status: it.Status,
			FallbackStatus: it.FallbackStatus, FailedReason: it.FailedReason}
		if it.Timeout != nil {
			q.Timeout = time.Duration(*it.Timeout * float64(time.Millisecond))
		}
		var err error
		if q.StartedAt, err = parseTime(it.StartedAt); err != nil {
			return nil, err
		}
		if q.EndedAt, err = parseTime(it.EndedAt); err != nil {
			return nil, err
		}
		out[i] = q
	}
	return out, nil
}

// parseTime reads JavaScript's toISOString; "" is the zero time.
func parseTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	return time.Parse(time.RFC3339Nano, s)
}
