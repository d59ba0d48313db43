package httpapi

import (
	"net/http"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// RailsValue renders v (a presenter's output: structs in Rails' key order, maps, slices) as
// Rails 4.2 writes JSON: <, > and & escaped as \u003c, \u003e and \u0026, as AppendRailsString
// does for a single string.
func RailsValue(v any) ([]byte, error) {
	return json.Marshal(v, json.Deterministic(true), jsontext.EscapeForHTML(true), jsontext.EscapeForJS(true))
}

// WriteRailsValue sends v as render_jsonp sends a presenter's hash; a value that cannot be
// rendered is Rails' 500.
func WriteRailsValue(w http.ResponseWriter, status int, v any) {
	b, err := RailsValue(v)
	if err != nil {
		WriteRails(w, http.StatusInternalServerError, RailsCartoError("Unexpected error"))
		return
	}
	WriteRails(w, status, b)
}
