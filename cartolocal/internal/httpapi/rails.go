package httpapi

import (
	"net/http"
	"strconv"
	"unicode/utf8"
)

// The Rails dialect: CARTO's Rails app (imports, sync tables, visualizations, API keys) shapes its
// errors per controller (protocol/maps-imports.md §0.3), so there is no one error type, only the
// shapes, each built here, and WriteRails to send one:
//
//	{"errors":"msg"}                      RailsErrors        (sync tables create, ...)
//	{"errors":"msg","errors_cause":null}  RailsCartoError    (rescue_from_carto_error)
//	{"errors":["msg",...]}                RailsErrorList     (visualization update, destroy)
//	{"errors":{"key":"msg"}}              RailsErrorsKeyed   (imports create: key "imports")
//	{"error":"msg"}                       RailsError         (visualization index)
//	no body                               WriteRails(w, status, nil): head :unauthorized, ...

// RailsErrors is {"errors":"msg"}.
func RailsErrors(msg string) []byte {
	return append(AppendRailsString([]byte(`{"errors":`), msg), '}')
}

// RailsCartoError is {"errors":"msg","errors_cause":null}, the shape of rescue_from_carto_error.
func RailsCartoError(msg string) []byte {
	return append(AppendRailsString([]byte(`{"errors":`), msg), `,"errors_cause":null}`...)
}

// RailsErrorList is {"errors":["msg",...]}.
func RailsErrorList(msgs ...string) []byte {
	b := []byte(`{"errors":[`)
	for i, m := range msgs {
		if i > 0 {
			b = append(b, ',')
		}
		b = AppendRailsString(b, m)
	}
	return append(b, "]}"...)
}

// RailsErrorsKeyed is {"errors":{"key":"msg"}}.
func RailsErrorsKeyed(key, msg string) []byte {
	b := AppendRailsString([]byte(`{"errors":{`), key)
	b = append(b, ':')
	return append(AppendRailsString(b, msg), "}}"...)
}

// RailsError is {"error":"msg"}.
func RailsError(msg string) []byte {
	return append(AppendRailsString([]byte(`{"error":`), msg), '}')
}

// WriteRails sends a Rails answer: body as JSON, or, when body is nil, no body at all, as
// Rails' head does.
func WriteRails(w http.ResponseWriter, status int, body []byte) {
	if body == nil {
		w.Header().Set("Content-Length", "0")
		w.WriteHeader(status)
		return
	}
	WriteJSON(w, status, body)
}

// AppendRailsString appends s as a JSON string as Rails 4.2 (ActiveSupport's JSON encoder, with
// escape_html_entities_in_json on, its default) writes it: ", \ and control characters escaped
// (\b \f \n \r \t, others \u00XX), <, > and & as \u003c, \u003e and \u0026, U+2028 and U+2029
// escaped, the rest as UTF-8. Invalid UTF-8 becomes U+FFFD.
func AppendRailsString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for _, r := range s {
		switch {
		case r == '"':
			b = append(b, `\"`...)
		case r == '\\':
			b = append(b, `\\`...)
		case r == '\b':
			b = append(b, `\b`...)
		case r == '\f':
			b = append(b, `\f`...)
		case r == '\n':
			b = append(b, `\n`...)
		case r == '\r':
			b = append(b, `\r`...)
		case r == '\t':
			b = append(b, `\t`...)
		case r < 0x20, r == '<', r == '>', r == '&':
			b = append(b, '\\', 'u', '0', '0', hex[r>>4], hex[r&0xF])
		case r == 0x2028 || r == 0x2029:
			b = append(b, `\u`...)
			b = strconv.AppendInt(b, int64(r), 16)
		default:
			b = utf8.AppendRune(b, r)
		}
	}
	return append(b, '"')
}
