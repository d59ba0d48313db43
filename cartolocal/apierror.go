package cartolocal

import (
	"net/http"
	"strconv"
)

// apiError is an error answered in CARTO's shape:
// {"error":["message"],"context":"…","detail":"…","hint":"…"}, the last three only when set.
type apiError struct {
	Status  int
	Message string
	Context string
	Detail  string
	Hint    string
	Header  http.Header // extra headers, such as Retry-After
}

func (e *apiError) Error() string { return e.Message }

func badRequest(msg string) *apiError { return &apiError{Status: http.StatusBadRequest, Message: msg} }

// body renders the JSON error body with CARTO's key order.
func (e *apiError) body() []byte {
	b := []byte(`{"error":[`)
	b = appendJSString(b, e.Message)
	b = append(b, ']')
	for _, kv := range [...][2]string{{"context", e.Context}, {"detail", e.Detail}, {"hint", e.Hint}} {
		if kv[1] != "" {
			b = append(b, `,"`+kv[0]+`":`...)
			b = appendJSString(b, kv[1])
		}
	}
	return append(b, '}')
}

// writeError sends e as CARTO does: JSON, Content-Disposition inline.
func writeError(w http.ResponseWriter, e *apiError) {
	for k, v := range e.Header {
		w.Header()[k] = v
	}
	w.Header().Set("Content-Disposition", "inline")
	writeJSON(w, e.Status, e.body())
}

func writeJSON(w http.ResponseWriter, status int, body []byte) {
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
