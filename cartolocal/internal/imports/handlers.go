package imports

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

var uuidRE = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// head answers with a status and no body, as Rails' head does.
func head(w http.ResponseWriter, status int) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
}

// importsError is the imports controller's error body, {"errors":{"imports":"msg"}}.
func importsError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]map[string]string{"errors": {"imports": msg}})
}

func (s *Server) handleImports(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		s.listImports(w, r)
	case http.MethodPost:
		s.createImport(w, r)
	default:
		head(w, http.StatusNotFound)
	}
}

func (s *Server) handleImport(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		head(w, http.StatusNotFound)
		return
	}
	p := params{}
	p.merge(r.URL.Query())
	acct, status := s.cfg.Authenticate(r, p.str("api_key"))
	if status != 0 {
		head(w, status)
		return
	}
	id := r.PathValue("id")
	if !uuidRE.MatchString(id) {
		head(w, http.StatusNotFound)
		return
	}
	rec, err := s.get(r.Context(), s.admin, strings.ToLower(id), acct.Name)
	if errors.Is(err, errNoImport) {
		head(w, http.StatusNotFound)
		return
	}
	if err == nil {
		rec, err = s.failIfStuck(r.Context(), rec, stuckAfter, false)
	}
	if err != nil {
		s.logf("imports: reading import %s: %v", id, err)
		importsError(w, http.StatusInternalServerError, "Unexpected error")
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(present(rec, acct))
}

func (s *Server) listImports(w http.ResponseWriter, r *http.Request) {
	p := params{}
	p.merge(r.URL.Query())
	acct, status := s.cfg.Authenticate(r, p.str("api_key"))
	if status != 0 {
		head(w, status)
		return
	}
	ids, err := s.listUnfinished(r.Context(), acct.Name)
	if err != nil {
		s.logf("imports: listing: %v", err)
		importsError(w, http.StatusInternalServerError, "Unexpected error")
		return
	}
	if ids == nil {
		ids = []string{}
	}
	writeJSON(w, http.StatusOK, struct {
		Imports []string `json:"imports"`
		Success bool     `json:"success"`
	}{ids, true})
}

// createError is a create request refused: status and message of {"errors":{"imports":...}},
// or a bare status.
type createError struct {
	status int
	msg    string
	bare   bool
}

func (e *createError) Error() string { return e.msg }

// upload is a file of a create request, stored where its import will find it.
type upload struct {
	dir, path, name string
}

func (s *Server) createImport(w http.ResponseWriter, r *http.Request) {
	id := newUUID()
	p := params{}
	p.merge(r.URL.Query())
	var acct Account
	authed := false
	authenticate := func() *createError {
		if authed {
			return nil
		}
		a, status := s.cfg.Authenticate(r, p.str("api_key"))
		if status != 0 {
			return &createError{status: status, bare: true}
		}
		acct, authed = a, true
		n, err := s.running(r.Context(), s.admin, acct.Name)
		if err != nil {
			return &createError{status: 500, msg: err.Error()}
		}
		if n >= s.cfg.MaxConcurrent {
			return &createError{status: http.StatusTooManyRequests, msg: fmt.Sprintf("We're sorry but you're already using your allowed %d import slots", s.cfg.MaxConcurrent)}
		}
		return nil
	}
	var up *upload
	cerr := func() *createError {
		mt, _ := mediaType(r)
		switch {
		case mt == "multipart/form-data":
			mr, err := r.MultipartReader()
			if err != nil {
				return &createError{status: 400, msg: err.Error()}
			}
			for {
				part, err := mr.NextPart()
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					return &createError{status: 400, msg: "reading the upload: " + err.Error()}
				}
				if part.FileName() == "" {
					v, err := io.ReadAll(io.LimitReader(part, maxParamsBody))
					part.Close()
					if err != nil {
						return &createError{status: 400, msg: err.Error()}
					}
					p[part.FormName()] = string(v)
					continue
				}
				if part.FormName() != "file" || up != nil {
					part.Close()
					continue
				}
				if e := authenticate(); e != nil {
					return e
				}
				up, err = s.store(id, part.FileName(), part)
				part.Close()
				if err != nil {
					return &createError{status: 400, msg: err.Error()}
				}
			}
		case p.has("filename") && mt != "application/json" && mt != "application/x-www-form-urlencoded":
			if e := authenticate(); e != nil {
				return e
			}
			var err error
			if up, err = s.store(id, p.str("filename"), r.Body); err != nil {
				return &createError{status: 400, msg: err.Error()}
			}
			if fi, err := os.Stat(up.path); err == nil && fi.Size() == 0 {
				// Rails asks for a body that is present: without one there is no file.
				_ = os.RemoveAll(up.dir)
				up = nil
			}
		default:
			if err := readSmallBody(r, p); err != nil {
				return &createError{status: 400, msg: err.Error()}
			}
		}
		return authenticate()
	}()
	if cerr == nil {
		cerr = s.createRecord(r.Context(), id, acct, p, up)
	}
	if cerr != nil {
		if up != nil {
			_ = os.RemoveAll(up.dir)
		}
		if cerr.bare {
			head(w, cerr.status)
			return
		}
		if cerr.status >= 500 {
			s.logf("imports: create: %s", cerr.msg)
			cerr.msg = "Unexpected error"
		}
		importsError(w, cerr.status, cerr.msg)
		return
	}
	s.poke()
	writeJSON(w, http.StatusOK, struct {
		ItemQueueID string `json:"item_queue_id"`
		Success     bool   `json:"success"`
	}{id, true})
}

// store streams an uploaded file to Dir/uploads/ID/NAME (spaces in the name become '_', as
// CARTO's FileUpload does).
func (s *Server) store(id, name string, r io.Reader) (*upload, error) {
	name = strings.ReplaceAll(filepath.Base(filepath.Clean("/"+filepath.ToSlash(name))), " ", "_")
	if name == "/" || name == "." || name == "" {
		name = "file"
	}
	dir := filepath.Join(s.cfg.Dir, "uploads", id)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	up := &upload{dir: dir, path: filepath.Join(dir, name), name: name}
	f, err := os.OpenFile(up.path, os.O_CREATE|os.O_WRONLY|os.O_EXCL, 0o600)
	if err != nil {
		return nil, err
	}
	if _, err := io.Copy(f, r); err != nil {
		f.Close()
		_ = os.RemoveAll(dir)
		return nil, fmt.Errorf("reading the upload: %w", err)
	}
	if err := f.Close(); err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	return up, nil
}

// createRecord validates the parameters and stores the import (imports_controller#create).
func (s *Server) createRecord(ctx context.Context, id string, acct Account, p params, up *upload) *createError {
	rec := &record{ID: id, User: acct.Name, State: StatePending}
	rec.Opts = options{
		TypeGuessing:         p.trueUnlessFalse("type_guessing"),
		QuotedFieldsGuessing: p.trueUnlessFalse("quoted_fields_guessing"),
		ContentGuessing:      p.trueOnlyIfTrue("content_guessing"),
		CreateVis:            p.trueOnlyIfTrue("create_vis"),
		TableName:            p.str("table_name"),
	}
	if p.has("privacy") {
		pr := strings.ToLower(p.str("privacy"))
		if pr != "private" && pr != "public" && pr != "link" {
			return &createError{status: 400, msg: fmt.Sprintf("Unknown value '%s' for 'privacy'. Allowed values are: private, public and link", p.str("privacy"))}
		}
		rec.Opts.Privacy = pr
	}
	if p.has("collision_strategy") {
		cs := p.str("collision_strategy")
		if cs != "skip" && cs != "overwrite" {
			return &createError{status: 400, msg: "Validation failed: Collision strategy is not included in the list"}
		}
		rec.Opts.CollisionStrategy = cs
	}
	if v, ok := p["service_item_id"]; ok && v != nil {
		if _, isStr := v.(string); !isStr {
			return &createError{status: 400, msg: "service_item_id must be a string"}
		}
	}
	switch {
	case p.has("url"):
		rec.DataType, rec.DataSource, rec.OriginalURL = TypeURL, p.str("url"), p.str("url")
		rec.DisplayName = urlDisplayName(rec.DataSource, id)
	case p.has("connector"):
		rec.DataType = TypeDatasource
		rec.Opts.Connector = p.raw("connector")
		rec.DisplayName = id
	case up != nil:
		rec.DataType, rec.DataSource, rec.DisplayName = TypeFile, up.path, up.name
	case p.has("sql") || p.has("table_copy"):
		rec.DataType = TypeQuery
		rec.Opts.SQL, rec.Opts.TableCopy = p.str("sql"), p.str("table_copy")
		rec.DisplayName = id
	default:
		// Neither a file, a URL nor a connector: CARTO creates the import anyway and it fails
		// when it runs (carto-python's phantom POST).
		rec.DataType, rec.DisplayName = TypeDatasource, id
	}
	if err := s.insert(ctx, s.admin, rec); err != nil {
		return &createError{status: 500, msg: err.Error()}
	}
	return nil
}

// urlDisplayName is the URL path's last segment, unescaped, else the import id.
func urlDisplayName(raw, id string) string {
	i := strings.IndexAny(raw, "?#")
	if i >= 0 {
		raw = raw[:i]
	}
	if j := strings.Index(raw, "://"); j >= 0 {
		raw = raw[j+3:]
	}
	k := strings.Index(raw, "/")
	if k < 0 {
		return id
	}
	base := filepath.Base(raw[k:])
	if base == "/" || base == "." || base == "" {
		return id
	}
	if u, err := urlUnescape(base); err == nil {
		return u
	}
	return base
}
