package batch

import (
	"bytes"
	"errors"
	"strconv"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	"github.com/gocarto/carto/cartolocal/internal/jsjson"
)

// object is a JSON object that keeps its members in order. CARTO stores a job's query as the
// JSON.stringify of a JavaScript object, so a fallback job comes back with its keys in the order
// the user wrote them, with status, fallback_status, started_at, ... appended as they appear.
type object struct {
	names  []string
	values []jsontext.Value
}

var errNotObject = errors.New("not a JSON object")

// parseObject reads a JSON object; a repeated key keeps its first position and its last value, as
// JSON.parse does.
func parseObject(v jsontext.Value) (*object, error) {
	dec := jsontext.NewDecoder(bytes.NewReader(v), jsontext.AllowDuplicateNames(true))
	tok, err := dec.ReadToken()
	if err != nil {
		return nil, err
	}
	if tok.Kind() != '{' {
		return nil, errNotObject
	}
	o := &object{}
	for dec.PeekKind() != '}' {
		tok, err := dec.ReadToken()
		if err != nil {
			return nil, err
		}
		name := tok.String() // the token is void after the next read
		val, err := dec.ReadValue()
		if err != nil {
			return nil, err
		}
		o.set(name, val.Clone())
	}
	if _, err := dec.ReadToken(); err != nil {
		return nil, err
	}
	return o, nil
}

func (o *object) index(name string) int {
	for i, n := range o.names {
		if n == name {
			return i
		}
	}
	return -1
}

func (o *object) get(name string) (jsontext.Value, bool) {
	if i := o.index(name); i >= 0 {
		return o.values[i], true
	}
	return nil, false
}

// str returns a member that is a JSON string.
func (o *object) str(name string) string {
	v, ok := o.get(name)
	if !ok || v.Kind() != '"' {
		return ""
	}
	var s string
	if json.Unmarshal(v, &s) != nil {
		return ""
	}
	return s
}

// number returns a member that is a finite JSON number.
func (o *object) number(name string) (float64, bool) {
	v, ok := o.get(name)
	if !ok || v.Kind() != '0' {
		return 0, false
	}
	f, err := strconv.ParseFloat(string(v), 64)
	return f, err == nil
}

// set replaces a member's value in place, or appends the member, as assigning a property does.
func (o *object) set(name string, v jsontext.Value) {
	if i := o.index(name); i >= 0 {
		o.values[i] = v
		return
	}
	o.names = append(o.names, name)
	o.values = append(o.values, v)
}

func (o *object) setStr(name, s string) { o.set(name, jsonString(s)) }

// appendJSON renders the object compactly; render, when not nil, may replace a member's value.
func (o *object) appendJSON(b []byte, render func(b []byte, name string) ([]byte, bool)) []byte {
	b = append(b, '{')
	for i, n := range o.names {
		if i > 0 {
			b = append(b, ',')
		}
		b = jsjson.AppendString(b, n)
		b = append(b, ':')
		if render != nil {
			if out, ok := render(b, n); ok {
				b = out
				continue
			}
		}
		b = appendCompact(b, o.values[i])
	}
	return append(b, '}')
}

func jsonString(s string) jsontext.Value { return jsontext.Value(jsjson.AppendString(nil, s)) }

// appendCompact appends v without insignificant whitespace and with JavaScript's escaping.
func appendCompact(b []byte, v jsontext.Value) []byte {
	c := v.Clone()
	if err := c.Compact(jsontext.EscapeForHTML(false), jsontext.EscapeForJS(false)); err != nil {
		return append(b, v...)
	}
	return append(b, c...)
}

// jsLength is len(JSON.stringify(v)) in JavaScript: UTF-16 code units of the compact JSON text.
// CARTO measures a job's payload this way (sample 73).
func jsLength(v jsontext.Value) int {
	c := v.Clone()
	if err := c.Compact(jsontext.EscapeForHTML(false), jsontext.EscapeForJS(false)); err != nil {
		c = v
	}
	n := 0
	for _, r := range string(c) {
		n++
		if r > 0xFFFF {
			n++
		}
	}
	return n
}
