package httpapi

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"
)

// JSONPCallback sanitizes a JSONP callback name as Express's res.jsonp does: only letters,
// digits and [ ] $ . _ are kept.
func JSONPCallback(cb string) string {
	return strings.Map(func(r rune) rune {
		if r == '[' || r == ']' || r == '$' || r == '.' || r == '_' ||
			(r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9') {
			return r
		}
		return -1
	}, cb)
}

// QueryCallback is the callback parameter of the URL's query string, the only one Express's
// res.jsonp looks at; "" when there is none.
func QueryCallback(r *http.Request) string {
	v, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil && len(v) == 0 {
		return ""
	}
	cbs := v["callback"]
	if len(cbs) == 0 || !utf8.ValidString(cbs[0]) {
		return ""
	}
	return cbs[0]
}

// jsonpSeparators are the two characters JSON allows raw in strings and JavaScript does not:
// Express escapes them in a JSONP body.
var jsonpSeparators = strings.NewReplacer("\u2028", `\u2028`, "\u2029", `\u2029`)

// WriteJSONP answers body (a JSON value) as Express's res.jsonp does when a callback is asked for:
// /**/ typeof cb === 'function' && cb(body); as text/javascript. callback is sanitized here.
func WriteJSONP(w http.ResponseWriter, status int, callback string, body []byte) {
	name := JSONPCallback(callback)
	out := "/**/ typeof " + name + " === 'function' && " + name + "(" + jsonpSeparators.Replace(string(body)) + ");"
	h := w.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Type", "text/javascript; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(len(out)))
	w.WriteHeader(status)
	_, _ = w.Write([]byte(out))
}
