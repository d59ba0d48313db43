package account

import (
	"net/http"
	"time"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/gocarto/carto/cartolocal/internal/httpapi"
)

// The Rails dialect's answers, shorter to call.

func writeErrors(w http.ResponseWriter, status int, msg string) {
	httpapi.WriteRails(w, status, httpapi.RailsCartoError(msg))
}

func writeErrorList(w http.ResponseWriter, status int, msgs ...string) {
	httpapi.WriteRails(w, status, httpapi.RailsErrorList(msgs...))
}

func writeError(w http.ResponseWriter, status int, msg string) {
	httpapi.WriteRails(w, status, httpapi.RailsError(msg))
}

func head(w http.ResponseWriter, status int) { httpapi.WriteRails(w, status, nil) }

func writeJSON(w http.ResponseWriter, status int, v any) { httpapi.WriteRailsValue(w, status, v) }

// railsTime is how Rails writes an ActiveRecord time: UTC, milliseconds, Z.
type railsTime time.Time

func (t railsTime) MarshalJSONTo(enc *jsontext.Encoder) error {
	return enc.WriteToken(jsontext.String(time.Time(t).UTC().Format("2006-01-02T15:04:05.000Z")))
}

// methodNotAllowed answers a method a route does not have as Rails' router does: 404.
func methodNotAllowed(w http.ResponseWriter) { head(w, http.StatusNotFound) }

// intParam reads a positive integer parameter, or def when absent or empty.
func intParam(q *request, name string, def int) (int, bool) {
	v, ok := q.p.Str(name)
	if !ok || v == "" {
		return def, true
	}
	// Ruby's to_i reads the leading digits and ignores the rest.
	n := 0
	i := 0
	for i < len(v) && v[i] >= '0' && v[i] <= '9' {
		n = n*10 + int(v[i]-'0')
		if n > 1<<30 {
			n = 1 << 30
		}
		i++
	}
	return n, n > 0
}
