package batch

import (
	"errors"
	"fmt"
)

// ErrNotSupported is wrapped by the error of Update and List against a server without those
// endpoints: CARTO removed them in SQL API 1.35 and answers 404 "Cannot PUT ...".
var ErrNotSupported = errors.New("not supported by this server")

// JobError is what Wait and Run return when a job ended without succeeding: it failed, was
// cancelled, or ended unknown.
type JobError struct {
	Job    *Job
	Status Status
	// FailedReason is PostgreSQL's message for the query that failed.
	FailedReason string
	// Query is the SQL of the query that failed (for a single-query job, the whole job).
	Query string
}

func (e *JobError) Error() string {
	switch e.Status {
	case Failed:
		return fmt.Sprintf("batch: job %s failed: %s (query: %s)", e.Job.ID, e.FailedReason, shorten(e.Query))
	default:
		return fmt.Sprintf("batch: job %s ended %s", e.Job.ID, e.Status)
	}
}

func shorten(s string) string {
	if r := []rune(s); len(r) > 200 {
		return string(r[:200]) + "…"
	}
	return s
}

// jobError builds the JobError of a finished job, or nil when it is done.
func jobError(j *Job) error {
	if j.Status == Done {
		return nil
	}
	e := &JobError{Job: j, Status: j.Status, FailedReason: j.FailedReason, Query: j.Query}
	if j.Status != Failed {
		return e
	}
	for _, q := range j.Queries {
		if q.Status == Failed {
			e.Query = q.Query
			if e.FailedReason == "" {
				e.FailedReason = q.FailedReason
			}
			break
		}
	}
	return e
}
