package batch

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	"github.com/gocarto/carto/cartolocal/internal/httpapi"
	"github.com/gocarto/carto/cartolocal/internal/users"
	"github.com/jackc/pgx/v5"
)

// handleJobs serves /api/{version}/sql/job: POST creates a job (CARTO); GET lists the account's
// jobs, newest first (an extension: CARTO removed the list in SQL API 1.35).
func (js *Server) handleJobs(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodPost:
		js.serveCreate(w, r)
	case http.MethodGet:
		js.serveList(w, r)
	default:
		httpapi.WriteCannot(w, r)
	}
}

// handleJob serves /api/{version}/sql/job/{id}: GET reads, DELETE cancels (CARTO); PUT replaces
// the query of a pending job (an extension: CARTO removed it in SQL API 1.35).
func (js *Server) handleJob(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet:
		js.serveGet(w, r)
	case http.MethodDelete:
		js.serveCancel(w, r)
	case http.MethodPut:
		js.serveUpdate(w, r)
	default:
		httpapi.WriteCannot(w, r)
	}
}

// jobRequest is what a job request carries: its parameters, the query parameter as JSON (nil
// when absent), and the size CARTO checks, len(JSON.stringify(req.body)).
type jobRequest struct {
	params  httpapi.Params
	query   jsontext.Value
	payload int
}

// readJobRequest reads the parameters like readParams, and also keeps the query of a JSON body
// with its keys in order, which a fallback job's answer must repeat.
func readJobRequest(r *http.Request) (*jobRequest, *httpapi.Error) {
	var raw []byte
	if r.Body != nil && r.Method != http.MethodGet && r.Method != http.MethodHead {
		var err error
		raw, err = io.ReadAll(io.LimitReader(r.Body, httpapi.MaxBodyBytes+1))
		if err != nil {
			return nil, httpapi.BodyError(err)
		}
		if len(raw) > httpapi.MaxBodyBytes {
			return nil, &httpapi.Error{Status: http.StatusRequestEntityTooLarge, Message: fmt.Sprintf("request body too large: the limit is %d bytes", httpapi.MaxBodyBytes)}
		}
		r.Body = io.NopCloser(bytes.NewReader(raw))
	}
	p, aerr := httpapi.ReadParams(r)
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
		body := httpapi.Params{}
		httpapi.MergeValues(body, httpapi.ParseQS(string(raw)))
		jr.payload = paramsLength(body)
	case ct == "multipart/form-data" && r.MultipartForm != nil:
		body := httpapi.Params{}
		httpapi.MergeValues(body, r.MultipartForm.Value)
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

func paramsLength(p httpapi.Params) int {
	b, err := json.Marshal(map[string]any(p))
	if err != nil {
		return 0
	}
	return jsLength(b)
}

// jobUser authenticates a Batch request as CARTO's job controller does: Carto-User once the
// account is known, then only the master key may use the Batch API (samples 60, 61), then
// Vary: Authorization.
func (js *Server) jobUser(w http.ResponseWriter, r *http.Request, p httpapi.Params) (*users.User, *httpapi.Error) {
	h := w.Header()
	u, aerr := js.users.Resolve(r)
	if name := r.PathValue("user"); name != "" {
		h.Set("Carto-User", name)
	} else if u != nil {
		h.Set("Carto-User", u.Name)
	}
	if aerr != nil {
		return nil, aerr
	}
	pr, aerr := js.users.Authenticate(r, p)
	if aerr != nil {
		return nil, aerr
	}
	if !pr.Master {
		return nil, &httpapi.Error{Status: http.StatusForbidden, Message: "permission denied"}
	}
	h.Set("Vary", "Authorization")
	return pr.User, nil
}

// writeJobError turns a job service error into CARTO's answer.
func (js *Server) writeJobError(w http.ResponseWriter, r *http.Request, err error) {
	var aerr *httpapi.Error
	switch {
	case errors.As(err, &aerr):
		httpapi.WriteError(w, aerr)
	case errors.Is(err, errJobNotFound):
		httpapi.WriteError(w, httpapi.BadRequest(fmt.Sprintf("Job with id %s not found", r.PathValue("id"))))
	default:
		js.logf("cartolocal: batch: %s %s: %v", r.Method, r.URL.Path, err)
		httpapi.WriteError(w, &httpapi.Error{Status: http.StatusInternalServerError, Message: err.Error()})
	}
}

// readJobSubmission reads the job of a create or update request and who sends it, checking in
// CARTO's order: the payload's size before the user or the key, then the query.
func (js *Server) readJobSubmission(w http.ResponseWriter, r *http.Request) (*users.User, *job, *httpapi.Error) {
	jr, aerr := readJobRequest(r)
	if aerr != nil {
		return nil, nil, aerr
	}
	if jr.payload > maxJobPayload {
		return nil, nil, httpapi.BadRequest(fmt.Sprintf("Your payload is too large: %d bytes. Max size allowed is %d bytes (%dkb). "+
			"Are you trying to import data?. Please, check out import api http://docs.cartodb.com/cartodb-platform/import-api/",
			jr.payload, maxJobPayload, maxJobPayload/1024))
	}
	u, aerr := js.jobUser(w, r, jr.params)
	if aerr != nil {
		return nil, nil, aerr
	}
	if jr.query == nil {
		return nil, nil, httpapi.BadRequest(msgInvalidSQL)
	}
	j, err := parseJobQuery(jr.query)
	if err != nil {
		return nil, nil, httpapi.BadRequest(err.Error())
	}
	return u, j, nil
}

func (js *Server) serveCreate(w http.ResponseWriter, r *http.Request) {
	u, j, aerr := js.readJobSubmission(w, r)
	if aerr != nil {
		httpapi.WriteError(w, aerr)
		return
	}
	j.id, j.user = newJobID(), u.Name
	j.created = now()
	j.updated = j.created
	if err := js.insertJob(r.Context(), j); err != nil {
		js.writeJobError(w, r, err)
		return
	}
	js.wakeUp()
	httpapi.WriteJSON(w, http.StatusCreated, j.createdJSON())
}

func (js *Server) serveGet(w http.ResponseWriter, r *http.Request) {
	p, aerr := httpapi.ReadParams(r)
	if aerr != nil {
		httpapi.WriteError(w, aerr)
		return
	}
	u, aerr := js.jobUser(w, r, p)
	if aerr != nil {
		httpapi.WriteError(w, aerr)
		return
	}
	j, err := js.getJob(r.Context(), r.PathValue("id"), u.Name)
	if err != nil {
		js.writeJobError(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, j.appendStoredJSON(nil))
}

func (js *Server) serveList(w http.ResponseWriter, r *http.Request) {
	p, aerr := httpapi.ReadParams(r)
	if aerr != nil {
		httpapi.WriteError(w, aerr)
		return
	}
	u, aerr := js.jobUser(w, r, p)
	if aerr != nil {
		httpapi.WriteError(w, aerr)
		return
	}
	jobs, err := js.listJobs(r.Context(), u.Name)
	if err != nil {
		js.writeJobError(w, r, err)
		return
	}
	b := []byte{'['}
	for i, j := range jobs {
		if i > 0 {
			b = append(b, ',')
		}
		b = j.appendStoredJSON(b)
	}
	httpapi.WriteJSON(w, http.StatusOK, append(b, ']'))
}

// cancelJob is CARTO's JobService.cancel: the job becomes cancelled (or the move is refused with
// "Cannot set status from X to cancelled"), then a running query is stopped. The answer comes
// once the query has stopped and its backend is gone.
func (js *Server) serveCancel(w http.ResponseWriter, r *http.Request) {
	p, aerr := httpapi.ReadParams(r)
	if aerr != nil {
		httpapi.WriteError(w, aerr)
		return
	}
	u, aerr := js.jobUser(w, r, p)
	if aerr != nil {
		httpapi.WriteError(w, aerr)
		return
	}
	ctx := r.Context()
	var (
		out *job
		pid int32
	)
	err := pgx.BeginFunc(ctx, js.admin, func(tx pgx.Tx) error {
		j, runningOn, err := lockJob(ctx, tx, r.PathValue("id"), u.Name)
		if err != nil {
			return err
		}
		if err := j.setStatus(jobCancelled, ""); err != nil {
			return httpapi.BadRequest(err.Error())
		}
		out, pid = j, runningOn
		return js.saveJob(ctx, tx, j, runningOn) // the runner clears the backend when it stops
	})
	if err != nil {
		js.writeJobError(w, r, err)
		return
	}
	if pid != 0 && !js.stopRun(ctx, out.id) {
		// Run by another cartolocal on the same PostgreSQL: cancel the query as CARTO does. Only
		// while that backend still runs this job (the runner names it in a comment): the pid may
		// be a pooled connection that finished the job and moved on to other work meanwhile.
		if _, err := js.admin.Exec(ctx, `SELECT pg_cancel_backend(pid) FROM pg_stat_activity
			WHERE pid = $1 AND state = 'active' AND position($2 in query) > 0`, pid, "/* "+out.id+" */"); err != nil {
			js.logf("cartolocal: batch: cancelling backend %d of job %s: %v", pid, out.id, err)
		}
	}
	httpapi.WriteJSON(w, http.StatusOK, out.appendStoredJSON(nil))
}

// updateJob replaces the query of a job that has not started, as CARTO's PUT did before 1.35:
// a job that is not pending is refused with CARTO's message.
func (js *Server) serveUpdate(w http.ResponseWriter, r *http.Request) {
	u, nj, aerr := js.readJobSubmission(w, r)
	if aerr != nil {
		httpapi.WriteError(w, aerr)
		return
	}
	ctx := r.Context()
	err := pgx.BeginFunc(ctx, js.admin, func(tx pgx.Tx) error {
		j, pid, err := lockJob(ctx, tx, r.PathValue("id"), u.Name)
		if err != nil {
			return err
		}
		if j.status != jobPending || pid != 0 {
			return httpapi.BadRequest("Job is not pending, it cannot be updated")
		}
		nj.id, nj.user, nj.created, nj.updated = j.id, j.user, j.created, now()
		return js.saveJob(ctx, tx, nj, 0)
	})
	if err != nil {
		js.writeJobError(w, r, err)
		return
	}
	js.wakeUp()
	httpapi.WriteJSON(w, http.StatusOK, nj.appendStoredJSON(nil))
}
