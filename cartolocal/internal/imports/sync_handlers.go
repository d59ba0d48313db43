package imports

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// syncsError is the synchronizations controller's error body, {"errors":"msg"}.
func syncsError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"errors": msg})
}

// syncBody reads a synchronizations request's JSON body, which the controller parses itself
// (JSON.parse(request.body)): no body, or one that is not JSON, fails.
func syncBody(r *http.Request) (params, error) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxParamsBody))
	if err != nil {
		return nil, err
	}
	p := params{}
	if err := json.Unmarshal(bytes.TrimSpace(body), (*map[string]any)(&p)); err != nil {
		return nil, errBadJSON
	}
	if p == nil {
		return nil, errBadJSON
	}
	return p, nil
}

func (s *Server) syncAuth(w http.ResponseWriter, r *http.Request, p params) (Account, bool) {
	key := p.str("api_key")
	if key == "" {
		key = r.URL.Query().Get("api_key")
	}
	acct, status := s.cfg.Authenticate(r, key)
	if status != 0 {
		head(w, status)
		return acct, false
	}
	return acct, true
}

func (s *Server) handleSyncs(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		acct, ok := s.syncAuth(w, r, params{})
		if !ok {
			return
		}
		rows, err := s.admin.Query(r.Context(), "SELECT "+syncColumns+" FROM cartolocal.synchronizations WHERE user_name = $1 ORDER BY created_at", acct.Name)
		if err != nil {
			syncsError(w, 500, "Unexpected error")
			return
		}
		list, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (*syncRec, error) { return scanSync(row) })
		if err != nil {
			syncsError(w, 500, "Unexpected error")
			return
		}
		var o object
		items := []json.RawMessage{}
		for _, sr := range list {
			items = append(items, presentSync(sr, acct))
		}
		o.add("synchronizations", items)
		o.add("total_entries", len(items))
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		_, _ = w.Write(o.bytes())
	case http.MethodPost:
		s.createSync(w, r)
	default:
		head(w, http.StatusNotFound)
	}
}

// intervalParam is Integer(interval) as the controller coerces it; absent means 3600.
func intervalParam(p params) (int, bool) {
	v, ok := p["interval"]
	if !ok || v == nil {
		return 3600, true
	}
	switch x := v.(type) {
	case float64:
		if x != math.Trunc(x) {
			return 0, false
		}
		return int(x), true
	case string:
		n, err := strconv.Atoi(strings.TrimSpace(x))
		return n, err == nil
	}
	return 0, false
}

func (s *Server) createSync(w http.ResponseWriter, r *http.Request) {
	p, err := syncBody(r)
	if err != nil {
		q := params{}
		q.merge(r.URL.Query())
		if _, ok := s.syncAuth(w, r, q); !ok {
			return
		}
		syncsError(w, http.StatusInternalServerError, "unexpected token in JSON body")
		return
	}
	acct, ok := s.syncAuth(w, r, p)
	if !ok {
		return
	}
	interval, ok := intervalParam(p)
	if !ok {
		syncsError(w, http.StatusBadRequest, "Invalid interval: invalid value for Integer(): "+strconv.Quote(p.str("interval")))
		return
	}
	if time.Duration(interval)*time.Second < MinSyncInterval {
		syncsError(w, http.StatusBadRequest, "Invalid interval: Sync interval must be at least 15 minutes")
		return
	}
	now := s.now()
	sr := &syncRec{
		ID: newUUID(), User: acct.Name, Interval: interval, State: SyncCreated, LogID: newUUID(),
		CreatedAt: now, UpdatedAt: now, TypeGuessing: p.trueUnlessFalse("type_guessing"),
		QuotedFieldsGuessing: p.trueUnlessFalse("quoted_fields_guessing"), ContentGuessing: p.trueOnlyIfTrue("content_guessing"),
	}
	runAt := now.Add(time.Duration(interval) * time.Second)
	sr.RunAt, sr.RanAt = &runAt, &now
	rec := &record{ID: newUUID(), User: acct.Name, State: StatePending, SyncID: &sr.ID}
	rec.Opts = options{TypeGuessing: sr.TypeGuessing, QuotedFieldsGuessing: sr.QuotedFieldsGuessing,
		ContentGuessing: sr.ContentGuessing, CreateVis: p.trueOnlyIfTrue("create_vis"), TableName: p.str("table_name")}
	switch {
	case p.has("url"):
		u := p.str("url")
		if pu, err := url.Parse(u); err != nil || (pu.Scheme != "http" && pu.Scheme != "https") || pu.Host == "" {
			syncsError(w, http.StatusBadRequest, "Invalid URL, cannot connect dataset: "+u)
			return
		}
		sr.URL = &u
		rec.DataType, rec.DataSource, rec.OriginalURL, rec.DisplayName = TypeURL, u, u, urlDisplayName(u, rec.ID)
	case p.has("connector"):
		conn := string(p.raw("connector"))
		svc := "connector"
		sr.ServiceName, sr.ServiceItemID = &svc, &conn
		rec.DataType, rec.Opts.Connector, rec.DisplayName = TypeDatasource, json.RawMessage(conn), rec.ID
	default:
		syncsError(w, http.StatusBadRequest, "Invalid URL, cannot connect dataset: ")
		return
	}
	ctx := r.Context()
	err = pgx.BeginFunc(ctx, s.admin, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO cartolocal.synchronizations (id, user_name, interval, url, state, created_at, updated_at,
	run_at, log_id, ran_at, service_name, service_item_id, type_guessing, quoted_fields_guessing, content_guessing, runner_group)
VALUES ($1, $2, $3, $4, 'created', $5, $5, $6, $7, $5, $8, $9, $10, $11, $12, $13)`,
			sr.ID, sr.User, sr.Interval, sr.URL, now, runAt, sr.LogID, sr.ServiceName, sr.ServiceItemID,
			sr.TypeGuessing, sr.QuotedFieldsGuessing, sr.ContentGuessing, s.cfg.Group); err != nil {
			return err
		}
		if err := s.insert(ctx, tx, rec); err != nil {
			return err
		}
		sr.State = SyncQueued
		_, err := tx.Exec(ctx, "UPDATE cartolocal.synchronizations SET state = 'queued' WHERE id = $1", sr.ID)
		return err
	})
	if err != nil {
		s.logf("imports: creating a sync: %v", err)
		syncsError(w, http.StatusInternalServerError, "Unexpected error")
		return
	}
	s.poke()
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_, _ = w.Write(presentCreatedSync(sr, rec.ID, acct))
}

// userSync reads the sync of the request's id: unknown is 404, another account's 401, both with
// no body.
func (s *Server) userSync(w http.ResponseWriter, r *http.Request, acct Account) (*syncRec, bool) {
	id := r.PathValue("id")
	if !uuidRE.MatchString(id) {
		head(w, http.StatusNotFound)
		return nil, false
	}
	sr, err := s.getSync(r.Context(), s.admin, strings.ToLower(id))
	if errors.Is(err, errNoSync) {
		head(w, http.StatusNotFound)
		return nil, false
	}
	if err != nil {
		syncsError(w, 500, "Unexpected error")
		return nil, false
	}
	if sr.User != acct.Name {
		head(w, http.StatusUnauthorized)
		return nil, false
	}
	return sr, true
}

func (s *Server) handleSync(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		acct, ok := s.syncAuth(w, r, params{})
		if !ok {
			return
		}
		if sr, ok := s.userSync(w, r, acct); ok {
			w.Header().Set("Content-Type", "application/json; charset=utf-8")
			_, _ = w.Write(presentSync(sr, acct))
		}
	case http.MethodPut:
		p, perr := syncBody(r)
		q := p
		if perr != nil {
			q = params{}
		}
		acct, ok := s.syncAuth(w, r, q)
		if !ok {
			return
		}
		sr, ok := s.userSync(w, r, acct)
		if !ok {
			return
		}
		if perr != nil {
			// CARTO parses the body itself and fails without one (carto-python's force_sync).
			syncsError(w, http.StatusInternalServerError, "unexpected token in JSON body")
			return
		}
		if _, has := p["interval"]; has {
			n, ok := intervalParam(p)
			if !ok || time.Duration(n)*time.Second < MinSyncInterval {
				syncsError(w, http.StatusBadRequest, "Invalid interval: Sync interval must be at least 15 minutes")
				return
			}
			now := s.now()
			if _, err := s.admin.Exec(ctx, `UPDATE cartolocal.synchronizations SET "interval" = $2::int, updated_at = $3,
	run_at = coalesce(ran_at, $3::timestamptz) + make_interval(secs => $2::int) WHERE id = $1`, sr.ID, n, now); err != nil {
				syncsError(w, 500, "Unexpected error")
				return
			}
		}
		sr, _ = s.getSync(ctx, s.admin, sr.ID)
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		_, _ = w.Write(presentSync(sr, acct))
	case http.MethodDelete:
		acct, ok := s.syncAuth(w, r, params{})
		if !ok {
			return
		}
		sr, ok := s.userSync(w, r, acct)
		if !ok {
			return
		}
		if _, err := s.admin.Exec(ctx, "DELETE FROM cartolocal.synchronizations WHERE id = $1", sr.ID); err != nil {
			syncsError(w, 500, "Unexpected error")
			return
		}
		w.WriteHeader(http.StatusNoContent)
	default:
		head(w, http.StatusNotFound)
	}
}

// handleSyncNow is PUT (enqueue) and GET (state) of .../sync_now. PUT enqueues only when the
// sync is not running and its last run is 15 minutes old (Member#can_manually_sync?).
func (s *Server) handleSyncNow(w http.ResponseWriter, r *http.Request) {
	acct, ok := s.syncAuth(w, r, params{})
	if !ok {
		return
	}
	sr, ok := s.userSync(w, r, acct)
	if !ok {
		return
	}
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		writeJSON(w, http.StatusOK, map[string]string{"state": sr.State})
	case http.MethodPut:
		enqueued, err := s.syncNow(r.Context(), sr)
		if err != nil {
			s.logf("imports: sync_now %s: %v", sr.ID, err)
			head(w, http.StatusNotFound)
			return
		}
		var o object
		o.add("enqueued", enqueued)
		o.add("synchronization_id", sr.ID)
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		_, _ = w.Write(o.bytes())
	default:
		head(w, http.StatusNotFound)
	}
}

func (s *Server) syncNow(ctx context.Context, sr *syncRec) (bool, error) {
	now := s.now()
	stale := func(t *time.Time) bool { return t == nil || now.Sub(*t) >= MinSyncInterval }
	can := (sr.State == SyncSuccess || sr.State == SyncFailure || (sr.State == SyncQueued && stale(&sr.UpdatedAt))) && stale(sr.RanAt)
	if !can {
		return false, nil
	}
	err := pgx.BeginFunc(ctx, s.admin, func(tx pgx.Tx) error {
		if sr.Name == nil {
			// The first import failed: import again, as creating the sync did.
			rec := &record{ID: newUUID(), User: sr.User, State: StatePending, SyncID: &sr.ID}
			rec.Opts = options{TypeGuessing: sr.TypeGuessing, QuotedFieldsGuessing: sr.QuotedFieldsGuessing, ContentGuessing: sr.ContentGuessing}
			if sr.URL != nil {
				rec.DataType, rec.DataSource, rec.OriginalURL, rec.DisplayName = TypeURL, *sr.URL, *sr.URL, urlDisplayName(*sr.URL, rec.ID)
			} else if sr.ServiceItemID != nil {
				rec.DataType, rec.Opts.Connector, rec.DisplayName = TypeDatasource, json.RawMessage(*sr.ServiceItemID), rec.ID
			}
			if err := s.insert(ctx, tx, rec); err != nil {
				return err
			}
		}
		_, err := tx.Exec(ctx, "UPDATE cartolocal.synchronizations SET state = 'queued', updated_at = $2 WHERE id = $1", sr.ID, now)
		return err
	})
	if err != nil {
		return false, err
	}
	s.poke()
	select {
	case s.syncWake <- struct{}{}:
	default:
	}
	return true, nil
}
