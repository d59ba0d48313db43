package maps

import (
	"bytes"
	"crypto/subtle"
	"encoding/json"
	"net/http"
	"strings"
)

// wsError is an error in Windshaft's dialect: {"errors":[msg],"errors_with_context":[{...}]}.
type wsError struct {
	Status  int // 0: derived from the message, as Windshaft's error middleware does
	Message string
	Type    string // errors_with_context type; "" is "unknown"
	Subtype string
	Layer   *layerRef
}

// layerRef is the layer an error is about, in errors_with_context.
type layerRef struct {
	ID    string `json:"id"`
	Index int    `json:"index"`
	Type  string `json:"type"`
}

func (e *wsError) Error() string { return e.Message }

func errorf(status int, msg string) *wsError { return &wsError{Status: status, Message: msg} }

// status is err.http_status if set, else what Windshaft-cartodb derives from the message.
func (e *wsError) status() int {
	if e.Status != 0 {
		return e.Status
	}
	return statusFromMessage(e.Message)
}

// statusFromMessage follows Windshaft-cartodb's error middleware: permission and authentication
// failures are 403, a missing relation 404, a missing column or function 400, the rest 400.
func statusFromMessage(msg string) int {
	switch {
	case strings.Contains(msg, "permission denied"), strings.Contains(msg, "authentication failed"):
		return http.StatusForbidden
	case strings.Contains(msg, "does not exist"):
		switch {
		case strings.Contains(msg, " role "):
			return http.StatusForbidden
		case strings.Contains(msg, "function "), strings.Contains(msg, "column "):
			return http.StatusBadRequest
		}
		return http.StatusNotFound
	}
	return http.StatusBadRequest
}

// writeError answers err in Windshaft's dialect; a ?callback= makes it JSONP with status 200.
func writeError(w http.ResponseWriter, r *http.Request, err *wsError) {
	typ := err.Type
	if typ == "" {
		typ = "unknown"
	}
	// errors_with_context members in Windshaft's order.
	type context struct {
		Type    string    `json:"type"`
		Message string    `json:"message"`
		Subtype string    `json:"subtype,omitempty"`
		Layer   *layerRef `json:"layer,omitempty"`
	}
	body := struct {
		Errors  []string  `json:"errors"`
		Context []context `json:"errors_with_context"`
	}{[]string{err.Message}, []context{{typ, err.Message, err.Subtype, err.Layer}}}
	status := err.status()
	if cb := r.URL.Query().Get("callback"); cb != "" && validCallback(cb) {
		writeJSONP(w, cb, body)
		return
	}
	writeJSON(w, status, body)
}

// writeJSON writes v as JSON with Windshaft's content type.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"errors":["Unexpected error"],"errors_with_context":[{"type":"unknown","message":"Unexpected error"}]}`)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// writeJSONP writes v wrapped in a call of cb, as Express's res.jsonp does, always with 200.
func writeJSONP(w http.ResponseWriter, cb string, v any) {
	b, _ := marshal(v)
	w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte("/**/ typeof " + cb + " === 'function' && " + cb + "("))
	_, _ = w.Write(b)
	_, _ = w.Write([]byte(");"))
}

// validCallback accepts JavaScript names and dotted paths only (Express strips anything else), so
// a callback cannot inject script.
func validCallback(cb string) bool {
	if len(cb) > 128 {
		return false
	}
	for i, r := range cb {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r == '_', r == '$':
		case i > 0 && (r >= '0' && r <= '9' || r == '.' || r == '[' || r == ']'):
		default:
			return false
		}
	}
	return true
}

// constEq compares secrets in constant time; an empty expected value matches nothing.
func constEq(a, b string) bool {
	return b != "" && subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// marshal writes JSON as JavaScript's JSON.stringify does: no HTML escaping of <, > and &
// (CartoCSS and SQL are full of them), no trailing newline.
func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}
