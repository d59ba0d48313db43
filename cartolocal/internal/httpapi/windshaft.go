package httpapi

import (
	"net/http"
	"regexp"
	"strings"

	"github.com/gocarto/carto/cartolocal/internal/jsjson"
)

// WindshaftError is an error answered in the Maps API's dialect (Windshaft-cartodb's
// lib/api/middlewares/error-middleware.js):
//
//	{"errors":["msg"],"errors_with_context":[{"type":"…","message":"msg","layer":{…},"subtype":"…"}]}
//
// one entry per error, the first one deciding the status.
type WindshaftError struct {
	// Status is the HTTP status; zero means WindshaftStatus of the message, as Windshaft finds it.
	Status int
	// Message is the error's message.
	Message string
	// Type is the context's type ("layer", "auth", "limit", "analysis", ...); empty is "unknown".
	Type string
	// Subtype refines Type ("api-key-not-found", "datasource", ...); omitted when empty.
	Subtype string
	// Layer is the layer an error is about, as JSON ({"id":"layer0","index":0,"type":"mapnik"});
	// omitted when nil. Analysis is the same for an analysis.
	Layer, Analysis []byte
	// Header holds extra headers, such as Retry-After.
	Header http.Header
}

// Error returns the message.
func (e *WindshaftError) Error() string { return e.Message }

// Windshaft's messages for the errors it rewrites (populateLimitErrors).
const (
	WindshaftTimeoutMessage  = "You are over platform's limits: SQL query timeout error. Refactor your query before running again or contact CARTO support for more details."
	WindshaftCapacityMessage = "You are over platform's limits: Max render capacity exceeded. Contact CARTO support for more details."
)

// postgisColumnRE is Windshaft's /Postgis Plugin.*[\s|\n].*column.*does not exist/ (RE2's \s is
// ASCII, as are the characters that matter here).
var postgisColumnRE = regexp.MustCompile(`Postgis Plugin.*[\s|\n].*column.*does not exist`)

var functionMissingRE = regexp.MustCompile(`function .* does not exist`)

// WindshaftStatus is the status Windshaft gives an error without its own, from the message
// (statusFromErrorMessage): permission and authentication failures 403, a missing role 403, a
// missing function or column 400, anything else that "does not exist" 404, the rest 400.
func WindshaftStatus(msg string) int {
	switch {
	case strings.Contains(msg, "permission denied"), strings.Contains(msg, "authentication failed"):
		return http.StatusForbidden
	case postgisColumnRE.MatchString(msg):
		return http.StatusBadRequest
	case strings.Contains(msg, "does not exist"):
		switch {
		case strings.Contains(msg, " role "):
			return http.StatusForbidden
		case functionMissingRE.MatchString(msg):
			return http.StatusBadRequest
		}
		return http.StatusNotFound
	}
	return http.StatusBadRequest
}

// WindshaftBody renders {"errors":[...],"errors_with_context":[...]} for errs, in Windshaft's key order.
func WindshaftBody(errs ...*WindshaftError) []byte {
	b := []byte(`{"errors":[`)
	for i, e := range errs {
		if i > 0 {
			b = append(b, ',')
		}
		b = jsjson.AppendString(b, e.message())
	}
	b = append(b, `],"errors_with_context":[`...)
	for i, e := range errs {
		if i > 0 {
			b = append(b, ',')
		}
		typ := e.Type
		if typ == "" {
			typ = "unknown"
		}
		b = append(b, `{"type":`...)
		b = jsjson.AppendString(b, typ)
		b = append(b, `,"message":`...)
		b = jsjson.AppendString(b, e.message())
		if e.Layer != nil {
			b = append(b, `,"layer":`...)
			b = append(b, e.Layer...)
		}
		if e.Analysis != nil {
			b = append(b, `,"analysis":`...)
			b = append(b, e.Analysis...)
		}
		if e.Subtype != "" {
			b = append(b, `,"subtype":`...)
			b = jsjson.AppendString(b, e.Subtype)
		}
		b = append(b, '}')
	}
	return append(b, "]}"...)
}

func (e *WindshaftError) message() string {
	if e.Message == "" {
		return "Unknown error"
	}
	return e.Message
}

// WriteWindshaftError answers errs (at least one) as Windshaft does: the first error's status (or
// WindshaftStatus of its message), or 200 with Express's JSONP wrapper when the URL has a callback.
func WriteWindshaftError(w http.ResponseWriter, r *http.Request, errs ...*WindshaftError) {
	first := errs[0]
	status := first.Status
	if status == 0 {
		// Windshaft matches ''+err, which is "Error: " and the message.
		status = WindshaftStatus("Error: " + first.Message)
	}
	h := w.Header()
	for _, e := range errs {
		for k, v := range e.Header {
			h[k] = v
		}
	}
	body := WindshaftBody(errs...)
	if cb := QueryCallback(r); cb != "" {
		WriteJSONP(w, http.StatusOK, cb, body)
		return
	}
	WriteJSON(w, status, body)
}
