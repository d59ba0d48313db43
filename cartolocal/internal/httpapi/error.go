package httpapi

import (
	"net/http"
	"strconv"

	"github.com/gocarto/carto/cartolocal/internal/jsjson"
)

// Error is an error answered in the SQL API's dialect (CartoDB-SQL-API's error middleware):
// {"error":["message"],"context":"…","detail":"…","hint":"…"}, the last three only when set.
// The Batch SQL API answers in it too; Rails and Windshaft have dialects of their own.
type Error struct {
	Status  int         // the HTTP status
	Message string      // the one message of the "error" array
	Context string      // CARTO's context ("limit" for timeouts), omitted when empty
	Detail  string      // PostgreSQL's DETAIL, or CARTO's detail ("datasource"), omitted when empty
	Hint    string      // PostgreSQL's HINT, omitted when empty
	Header  http.Header // extra headers, such as Retry-After
}

// Error returns the message.
func (e *Error) Error() string { return e.Message }

// BadRequest is a 400 with msg, the most common SQL API error.
func BadRequest(msg string) *Error { return &Error{Status: http.StatusBadRequest, Message: msg} }

// Body renders the JSON error body with CARTO's key order.
func (e *Error) Body() []byte {
	b := []byte(`{"error":[`)
	b = jsjson.AppendString(b, e.Message)
	b = append(b, ']')
	for _, kv := range [...][2]string{{"context", e.Context}, {"detail", e.Detail}, {"hint", e.Hint}} {
		if kv[1] != "" {
			b = append(b, `,"`+kv[0]+`":`...)
			b = jsjson.AppendString(b, kv[1])
		}
	}
	return append(b, '}')
}

// WriteError sends e as CARTO does: JSON, Content-Disposition inline.
func WriteError(w http.ResponseWriter, e *Error) {
	for k, v := range e.Header {
		w.Header()[k] = v
	}
	w.Header().Set("Content-Disposition", "inline")
	WriteJSON(w, e.Status, e.Body())
}

// WriteJSON sends a complete JSON body with its length, as Express's res.json does.
func WriteJSON(w http.ResponseWriter, status int, body []byte) {
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
