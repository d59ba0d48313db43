package maps

import (
	"bytes"
	"crypto/subtle"
	"encoding/json"
	"net/http"

	"github.com/gocarto/carto/cartolocal/internal/httpapi"
	"github.com/gocarto/carto/cartolocal/internal/maptemplate"
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

// templateError is a named map's refusal in this package's error type.
func templateError(err *maptemplate.Error) *wsError {
	return &wsError{Status: err.Status, Message: err.Message, Type: err.Type}
}

// writeError answers err in Windshaft's dialect (httpapi's); a ?callback= makes it JSONP with
// status 200.
func writeError(w http.ResponseWriter, r *http.Request, err *wsError) {
	we := &httpapi.WindshaftError{Status: err.Status, Message: err.Message, Type: err.Type, Subtype: err.Subtype}
	if err.Layer != nil {
		we.Layer, _ = json.Marshal(err.Layer)
	}
	httpapi.WriteWindshaftError(w, r, we)
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
	b, err := marshal(v)
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, map[string]any{"errors": []string{"Unexpected error"}})
		return
	}
	httpapi.WriteJSONP(w, http.StatusOK, cb, b)
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
