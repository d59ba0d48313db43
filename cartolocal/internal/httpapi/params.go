// Package httpapi holds what every cartolocal API server shares on the HTTP side: request
// parameters read as CARTO's servers read them (query string, form, JSON and multipart bodies),
// CARTO's error dialects, JSON answers, CORS, panic recovery, and Mount, which registers a route
// under both of CARTO's URL forms.
//
// An API server is a package under cartolocal/internal (sqlapi, batch, ...) with a constructor
// taking its dependencies and a Register(mux *http.ServeMux) method that calls Mount for each of
// its routes; cartolocal.Server builds each one and registers it on its mux.
package httpapi

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// MaxBodyBytes bounds a request body: far above any sane query, far below what could hurt.
const MaxBodyBytes = 4 << 20

// Params are a request's parameters as CARTO's Express app sees them: the query string merged with
// the body (form, JSON or multipart), the body winning (Object.assign({}, req.query, req.body)).
// Values are string, []string (repeated or a[] form keys), or, from a JSON body, whatever JSON held
// (string, float64, bool, nil, []any, map[string]any).
type Params map[string]any

// Str returns a parameter as a string: the last of several, as CARTO takes the last format.
func (p Params) Str(name string) (string, bool) {
	switch v := p[name].(type) {
	case string:
		return v, true
	case []string:
		if len(v) > 0 {
			return v[len(v)-1], true
		}
	case []any:
		if len(v) > 0 {
			if s, ok := v[len(v)-1].(string); ok {
				return s, true
			}
		}
	}
	return "", false
}

// List returns a parameter given once or many times, with comma-separated values split, as
// skipfields is read.
func (p Params) List(name string) []string {
	var raw []string
	switch v := p[name].(type) {
	case string:
		raw = []string{v}
	case []string:
		raw = v
	case []any:
		for _, e := range v {
			if s, ok := e.(string); ok {
				raw = append(raw, s)
			}
		}
	}
	var out []string
	for _, r := range raw {
		for _, f := range strings.Split(r, ",") {
			if f = strings.TrimSpace(f); f != "" {
				out = append(out, f)
			}
		}
	}
	return out
}

// ReadParams parses the query string and the body. A body that cannot be read as its Content-Type
// says is an Error with CARTO's 400; an unknown Content-Type is ignored, as CARTO ignores it.
func ReadParams(r *http.Request) (Params, *Error) {
	p := Params{}
	if !utf8.ValidString(r.URL.RawQuery) {
		return nil, BadRequest("invalid UTF-8 in the query string")
	}
	MergeValues(p, ParseQS(r.URL.RawQuery))
	if r.Body == nil || r.Method == http.MethodGet || r.Method == http.MethodHead {
		return p, checkUTF8(p)
	}
	ct, ctParams, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	body := http.MaxBytesReader(nil, r.Body, MaxBodyBytes)
	switch ct {
	case "application/x-www-form-urlencoded":
		raw, err := io.ReadAll(body)
		if err != nil {
			return nil, BodyError(err)
		}
		MergeValues(p, ParseQS(string(raw)))
	case "application/json":
		var obj map[string]any
		// JSON.parse keeps the last of repeated names rather than refusing the body. (Repeated
		// object values merge here; no parameter read from this map is an object.)
		dec := jsontext.NewDecoder(body, jsontext.AllowDuplicateNames(true))
		if err := json.UnmarshalDecode(dec, &obj); err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				return nil, BodyError(err)
			}
			return nil, BadRequest("malformed JSON body: " + err.Error())
		}
		for k, v := range obj {
			p[k] = v
		}
	case "multipart/form-data":
		if ctParams["boundary"] == "" {
			return nil, BadRequest("multipart body without a boundary")
		}
		r.Body = body
		if err := r.ParseMultipartForm(MaxBodyBytes); err != nil {
			return nil, BodyError(err)
		}
		MergeValues(p, r.MultipartForm.Value)
	}
	return p, checkUTF8(p)
}

// ParseQS parses a query string or a form body as CARTO's qs does, not as url.ParseQuery: pairs are
// split on '&' only (a ';' belongs to the value, and SQL is full of them), '+' is a space, and a
// malformed %-escape is kept as written (decodeURIComponent failing) instead of refusing the request.
// Invalid UTF-8 from an escape such as %ff is left for checkUTF8 to refuse.
func ParseQS(s string) url.Values {
	v := url.Values{}
	for s != "" {
		var pair string
		pair, s, _ = strings.Cut(s, "&")
		if pair == "" {
			continue
		}
		k, val, _ := strings.Cut(pair, "=")
		k = qsUnescape(k)
		v[k] = append(v[k], qsUnescape(val))
	}
	return v
}

func qsUnescape(s string) string {
	s = strings.ReplaceAll(s, "+", " ")
	if u, err := url.PathUnescape(s); err == nil {
		return u
	}
	return s
}

// MergeValues copies form values into p; "a[]" keys become the list "a", as qs parses them.
func MergeValues(p Params, v url.Values) {
	for k, vals := range v {
		if strings.HasSuffix(k, "[]") {
			p[strings.TrimSuffix(k, "[]")] = append([]string(nil), vals...)
			continue
		}
		if len(vals) == 1 {
			p[k] = vals[0]
		} else {
			p[k] = append([]string(nil), vals...)
		}
	}
}

func checkUTF8(p Params) *Error {
	for k, v := range p {
		bad := !utf8.ValidString(k)
		switch v := v.(type) {
		case string:
			bad = bad || !utf8.ValidString(v)
		case []string:
			for _, s := range v {
				bad = bad || !utf8.ValidString(s)
			}
		}
		if bad {
			return BadRequest(fmt.Sprintf("invalid UTF-8 in parameter %q", strings.ToValidUTF8(k, "?")))
		}
	}
	return nil
}

// BodyError is CARTO's answer to a body that cannot be read: 413 past MaxBodyBytes, else 400.
func BodyError(err error) *Error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return &Error{Status: http.StatusRequestEntityTooLarge, Message: fmt.Sprintf("request body too large: the limit is %d bytes", mbe.Limit)}
	}
	return BadRequest("could not read the request body: " + err.Error())
}
