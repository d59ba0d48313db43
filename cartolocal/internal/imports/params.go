package imports

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
)

// maxParamsBody bounds a JSON or form body: parameters, never data (files come as a multipart
// part or a raw body, and stream to disk).
const maxParamsBody = 1 << 20

// params are a request's parameters merged as Rails merges them: query string, then body.
// Values are strings, or JSON values (bool, float64, objects) from a JSON body.
type params map[string]any

// str is a parameter as a string ("" when absent); JSON scalars give their text.
func (p params) str(name string) string {
	switch v := p[name].(type) {
	case nil:
		return ""
	case string:
		return v
	case bool:
		if v {
			return "true"
		}
		return "false"
	case float64:
		b, _ := json.Marshal(v)
		return string(b)
	default:
		b, _ := json.Marshal(v)
		return string(b)
	}
}

// has reports a parameter that is present and not empty (Ruby's present?).
func (p params) has(name string) bool {
	v, ok := p[name]
	if !ok || v == nil {
		return false
	}
	if s, ok := v.(string); ok {
		return strings.TrimSpace(s) != ""
	}
	return true
}

// trueUnlessFalse is CARTO's parsing of type_guessing and quoted_fields_guessing: true unless
// the string "false" or JSON false ("False" stays true).
func (p params) trueUnlessFalse(name string) bool {
	switch v := p[name].(type) {
	case bool:
		return v
	case string:
		return v != "false"
	}
	return true
}

// trueOnlyIfTrue is CARTO's parsing of content_guessing and create_vis.
func (p params) trueOnlyIfTrue(name string) bool {
	switch v := p[name].(type) {
	case bool:
		return v
	case string:
		return v == "true"
	}
	return false
}

// raw is a parameter as JSON: an object stays as it came, a string holding JSON is read.
func (p params) raw(name string) json.RawMessage {
	switch v := p[name].(type) {
	case nil:
		return nil
	case string:
		if json.Valid([]byte(v)) {
			return json.RawMessage(v)
		}
		b, _ := json.Marshal(v)
		return b
	default:
		b, _ := json.Marshal(v)
		return b
	}
}

func (p params) merge(v url.Values) {
	for k, vals := range v {
		if len(vals) > 0 {
			p[k] = vals[len(vals)-1]
		}
	}
}

// mediaType is the request's Content-Type without parameters.
func mediaType(r *http.Request) (string, map[string]string) {
	mt, ps, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil {
		return "", nil
	}
	return strings.ToLower(mt), ps
}

var errBadJSON = errors.New("invalid JSON body")

// readSmallBody reads the parameters of a JSON or form body into p. Other bodies are left
// unread: they are a multipart upload or a raw file.
func readSmallBody(r *http.Request, p params) error {
	mt, _ := mediaType(r)
	switch mt {
	case "application/json":
		body, err := io.ReadAll(io.LimitReader(r.Body, maxParamsBody+1))
		if err != nil {
			return err
		}
		if len(body) > maxParamsBody {
			return errors.New("body too large")
		}
		if len(bytes.TrimSpace(body)) == 0 {
			return nil
		}
		var m map[string]any
		if err := json.Unmarshal(body, &m); err != nil {
			return errBadJSON
		}
		for k, v := range m {
			p[k] = v
		}
	case "application/x-www-form-urlencoded":
		body, err := io.ReadAll(io.LimitReader(r.Body, maxParamsBody+1))
		if err != nil {
			return err
		}
		if len(body) > maxParamsBody {
			return errors.New("body too large")
		}
		v, err := url.ParseQuery(string(body))
		if err != nil {
			return err
		}
		p.merge(v)
	}
	return nil
}
