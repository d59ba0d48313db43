package cartolocal

import (
	"bytes"
	"errors"
	"fmt"
	"html"
	"io"
	"mime"
	"net/http"
	"strconv"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	"github.com/jackc/pgx/v5"
)

// handleJobs serves /api/{version}/sql/job: POST creates a job (CARTO); GET lists the account's
// jobs, newest first (an extension: CARTO removed the list in SQL API 1.35).
func (s *Server) handleJobs(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodPost:
		s.createJob(w, r)
	case http.MethodGet:
		s.listJobs(w, r)
	default:
		writeCannot(w, r)
	}
}

// handleJob serves /api/{version}/sql/job/{id}: GET reads, DELETE cancels (CARTO); PUT replaces
// the query of a pending job (an extension: CARTO removed it in SQL API 1.35).
func (s *Server) handleJob(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet:
		s.getJob(w, r)
	case http.MethodDelete:
		s.cancelJob(w, r)
	case http.MethodPut:
		s.updateJob(w, r)
	default:
		writeCannot(w, r)
	}
}

// writeCannot answers as Express does for a route it does not have (samples 62, 63).
func writeCannot(w http.ResponseWriter, r *http.Request) {
	body := "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>Error</title>\n</head>\n<body>\n<pre>Cannot " +
		html.EscapeString(r.Method+" "+r.URL.Path) + "</pre>\n</body>\n</html>\n"
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusNotFound)
	_, _ = io.WriteString(w, body)
}

// jobRequest is what a job request carries: its parameters, the query parameter as JSON (nil
// when absent), and the size CARTO checks, len(JSON.stringify(req.body)).
type jobRequest struct {
	params  params
	query   jsontext.Value
	payload int
}

// readJobRequest reads the parameters like readParams, and also keeps the query of a JSON body
// with its keys in order, which a fallback job's answer must repeat.
func readJobRequest(r *http.Request) (*jobRequest, *apiError) {
	var raw []byte
	if r.Body != nil && r.Method != http.MethodGet && r.Method != http.MethodHead {
		var err error
		raw, err = io.ReadAll(io.LimitReader(r.Body, maxBodyBytes+1))
		if err != nil {
			return nil, bodyError(err)
		}
		if len(raw) > maxBodyBytes {
			return nil, &apiError{Status: http.StatusRequestEntityTooLarge, Message: fmt.Sprintf("request body too large: the limit is %d bytes", maxBodyBytes)}
		}
		r.Body = io.NopCloser(bytes.NewReader(raw))
	}
	p, aerr := readParams(r)
	if aerr != nil {
		return nil, aerr
	}
	jr := &jobRequest{params: p, payload: len("{}")}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch {
	case raw == nil:
	case ct == "application/json":
		jr.payload = jsLength(raw)
		if o, err := parseObject(raw); err == nil {
			if v, ok := o.get("query"); ok {
				jr.query = v
			}
		}
	case ct == "application/x-www-form-urlencoded":
		body := params{}
		mergeValues(body, parseQS(string(raw)))
		jr.payload = paramsLength(body)
	case ct == "multipart/form-data" && r.MultipartForm != nil:
		body := params{}
		mergeValues(body, r.MultipartForm.Value)
		jr.payload = paramsLength(body)
	}
	if jr.query == nil {
		switch v := p["query"].(type) {
		case string:
			jr.query = jsonString(v)
		case []string:
			b, _ := json.Marshal(v)
			jr.query = b
		case nil:
		default:
			b, err := json.Marshal(v)
			if err == nil {
				jr.query = b
			}
		}
	}
	return jr, nil
}

func paramsLength(p params) int {
	b, err := json.Marshal(map[string]any(p))
	if err != nil {
		return 0
	}
	return jsLength(b)
}

// jobUser authenticates a Batch request: only the master key may use the Batch API (samples 60,
// 61).
func (s *Server) jobUser(r *http.Request, p params) (*User, *apiError) {
	pr, aerr := s.authenticate(r, p)
	if aerr != nil {
		return nil, aerr
	}
	if !pr.Master {
		return nil, &apiError{Status: http.StatusForbidden, Message: "permission denied"}
	}
	return pr.User, nil
}

// writeJobError turns a job service error into CARTO's answer.
func (s *Server) writeJobError(w http.ResponseWriter, r *http.Request, err error) {
	var aerr *apiError
	switch {
	case errors.As(err, &aerr):
		writeError(w, aerr)
	case errors.Is(err, errJobNotFound):
		writeError(w, badRequest(fmt.Sprintf("Job with id %s not found", r.PathValue("id"))))
	default:
		s.logf("cartolocal: batch: %s %s: %v", r.Method, r.URL.Path, err)
		writeError(w, &apiError{Status: http.StatusInternalServerError, Message: err.Error()})
	}
}

// readJobSubmission reads the job of a create or update request and who sends it, checking in
// CARTO's order: the payload's size before the user or the key, then the query.
func (s *Server) readJobSubmission(r *http.Request) (*User, *job, *apiError) {
	jr, aerr := readJobRequest(r)
	if aerr != nil {
		return nil, nil, aerr
	}
	if jr.payload > maxJobPayload {
		return nil, nil, badRequest(fmt.Sprintf("Your payload is too large: %d bytes. Max size allowed is %d bytes (%dkb). "+
			"Are you trying to import data?. Please, check out import api http://docs.cartodb.com/cartodb-platform/import-api/",
			jr.payload, maxJobPayload, maxJobPayload/1024))
	}
	u, aerr := s.jobUser(r, jr.params)
	if aerr != nil {
		return nil, nil, aerr
	}
	if jr.query == nil {
		return nil, nil, badRequest(msgInvalidSQL)
	}
	j, err := parseJobQuery(jr.query)
	if err != nil {
		return nil, nil, badRequest(err.Error())
	}
	return u, j, nil
}

func (s *Server) createJob(w http.ResponseWriter, r *http.Request) {
	u, j, aerr := s.readJobSubmission(r)
	if aerr != nil {
		writeError(w, aerr)
		return
	}
	j.id, j.user = newJobID(), u.Name
	j.created = now()
	j.updated = j.created
	if err := s.jobs.insertJob(r.Context(), j); err != nil {
		s.writeJobError(w, r, err)
		return
	}
	s.jobs.wakeUp()
	writeJSON(w, http.StatusCreated, j.createdJSON())
}

func (s *Server) getJob(w http.ResponseWriter, r *http.Request) {
	p, aerr := readParams(r)
	if aerr != nil {
		writeError(w, aerr)
		return
	}
	u, aerr := s.jobUser(r, p)
	if aerr != nil {
		writeError(w, aerr)
		return
	}
	j, err := s.jobs.getJob(r.Context(), r.PathValue("id"), u.Name)
	if err != nil {
		s.writeJobError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, j.appendStoredJSON(nil))
}

func (s *Server) listJobs(w http.ResponseWriter, r *http.Request) {
	p, aerr := readParams(r)
	if aerr != nil {
		writeError(w, aerr)
		return
	}
	u, aerr := s.jobUser(r, p)
	if aerr != nil {
		writeError(w, aerr)
		return
	}
	jobs, err := s.jobs.listJobs(r.Context(), u.Name)
	if err != nil {
		s.writeJobError(w, r, err)
		return
	}
	b := []byte{'['}
	for i, j := range jobs {
		if i > 0 {
			b = append(b, ',')
		}
		b = j.appendStoredJSON(b)
	}
	writeJSON(w, http.StatusOK, append(b, ']'))
}

// cancelJob is CARTO's JobService.cancel: the job becomes cancelled (or the move is refused with
// "Cannot set status from X to cancelled"), then a running query is stopped. The answer comes
// once the query has stopped and its backend is gone.
func (s *Server) cancelJob(w http.ResponseWriter, r *http.Request) {
	p, aerr := readParams(r)
	if aerr != nil {
		writeError(w, aerr)
		return
	}
	u, aerr := s.jobUser(r, p)
	if aerr != nil {
		writeError(w, aerr)
		return
	}
	ctx := r.Context()
	var (
		out *job
		pid int32
	)
	err := pgx.BeginFunc(ctx, s.admin, func(tx pgx.Tx) error {
		j, runningOn, err := lockJob(ctx, tx, r.PathValue("id"), u.Name)
		if err != nil {
			return err
		}
		if err := j.setStatus(jobCancelled, ""); err != nil {
			return badRequest(err.Error())
		}
		out, pid = j, runningOn
		return s.jobs.saveJob(ctx, tx, j, runningOn) // the runner clears the backend when it stops
	})
	if err != nil {
		s.writeJobError(w, r, err)
		return
	}
	if pid != 0 && !s.jobs.stopRun(ctx, out.id) {
		// Run by another cartolocal on the same PostgreSQL: cancel the query as CARTO does. Only
		// while that backend still runs this job (the runner names it in a comment): the pid may
		// be a pooled connection that finished the job and moved on to other work meanwhile.
		if _, err := s.admin.Exec(ctx, `SELECT pg_cancel_backend(pid) FROM pg_stat_activity
			WHERE pid = $1 AND state = 'active' AND position($2 in query) > 0`, pid, "/* "+out.id+" */"); err != nil {
			s.logf("cartolocal: batch: cancelling backend %d of job %s: %v", pid, out.id, err)
		}
	}
	writeJSON(w, http.StatusOK, out.appendStoredJSON(nil))
}

// updateJob replaces the query of a job that has not started, as CARTO's PUT did before 1.35:
// a job that is not pending is refused with CARTO's message.
func (s *Server) updateJob(w http.ResponseWriter, r *http.Request) {
	u, nj, aerr := s.readJobSubmission(r)
	if aerr != nil {
		writeError(w, aerr)
		return
	}
	ctx := r.Context()
	err := pgx.BeginFunc(ctx, s.admin, func(tx pgx.Tx) error {
		j, pid, err := lockJob(ctx, tx, r.PathValue("id"), u.Name)
		if err != nil {
			return err
		}
		if j.status != jobPending || pid != 0 {
			return badRequest("Job is not pending, it cannot be updated")
		}
		nj.id, nj.user, nj.created, nj.updated = j.id, j.user, j.created, now()
		return s.jobs.saveJob(ctx, tx, nj, 0)
	})
	if err != nil {
		s.writeJobError(w, r, err)
		return
	}
	s.jobs.wakeUp()
	writeJSON(w, http.StatusOK, nj.appendStoredJSON(nil))
}
