package maptemplate

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// Template is a validated named map.
type Template struct {
	// Raw is the template as stored and returned by GET: the posted JSON, compacted, with
	// Windshaft's defaults (open auth, no placeholders) filled in.
	Raw          []byte
	Name         string                 // the template's name, unique per account
	AuthMethod   string                 // "open" or "token"
	ValidTokens  []string               // the auth_token values a "token" template accepts
	Placeholders map[string]Placeholder // by name
	Layergroup   json.RawMessage        // the MapConfig with its <%= name %> placeholders
}

// Placeholder is a placeholder's declaration in a template.
type Placeholder struct {
	Type    string // number, css_color, sql_literal or sql_ident
	Default string // as JavaScript's String() writes the JSON default
}

var (
	templateNameRE    = regexp.MustCompile(`(?i)^[a-z0-9][0-9a-z_-]*$`)
	placeholderNameRE = regexp.MustCompile(`(?i)^[a-z][0-9a-z_]*$`)
)

// Parse validates a named map with Windshaft's messages (template-maps.js
// _checkInvalidTemplate) and fills in its defaults (auth open, no placeholders).
func Parse(body []byte) (*Template, *Error) {
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(body, &doc); err != nil || doc == nil {
		return nil, errorf(400, "Invalid JSON template")
	}
	str := func(k string) (string, bool) {
		var s string
		if raw, ok := doc[k]; ok && json.Unmarshal(raw, &s) == nil {
			return s, true
		}
		return "", false
	}
	version, _ := str("version")
	if version != "0.0.1" {
		return nil, errorf(400, "Unsupported template version "+jsString(doc["version"]))
	}
	name, _ := str("name")
	if name == "" {
		return nil, errorf(400, "Missing template name")
	}
	if !templateNameRE.MatchString(name) {
		return nil, errorf(400, fmt.Sprintf("Invalid characters in template name '%s'", name))
	}
	t := &Template{Name: name, AuthMethod: "open", Placeholders: map[string]Placeholder{}}

	raw := bytes.TrimSpace(body)
	var buf bytes.Buffer
	if err := json.Compact(&buf, raw); err != nil {
		return nil, errorf(400, "Invalid JSON template")
	}
	raw = buf.Bytes()
	if a, ok := doc["auth"]; ok && string(a) != "null" {
		var auth struct {
			Method      string    `json:"method"`
			ValidTokens *[]string `json:"valid_tokens"`
		}
		if err := json.Unmarshal(a, &auth); err != nil {
			return nil, errorf(400, "Invalid template authentication")
		}
		switch auth.Method {
		case "", "open":
		case "token":
			if auth.ValidTokens == nil {
				return nil, errorf(400, "Invalid 'token' authentication: missing valid_tokens")
			}
			if len(*auth.ValidTokens) == 0 {
				return nil, errorf(400, "Invalid 'token' authentication: no valid_tokens")
			}
			t.ValidTokens = *auth.ValidTokens
		default:
			return nil, errorf(400, "Unsupported authentication method: "+auth.Method)
		}
		if auth.Method != "" {
			t.AuthMethod = auth.Method
		}
	} else {
		raw = insertMember(raw, `"auth":{"method":"open"}`)
	}

	lg, ok := doc["layergroup"]
	if !ok || string(lg) == "null" {
		return nil, errorf(400, "Missing layergroup")
	}
	var group struct {
		Layers []map[string]json.RawMessage `json:"layers"`
	}
	if json.Unmarshal(lg, &group) != nil || len(group.Layers) == 0 {
		return nil, errorf(400, "Missing or empty layers array from layergroup config")
	}
	var missing []string
	for i, l := range group.Layers {
		if o, ok := l["options"]; !ok || string(o) == "null" {
			missing = append(missing, strconv.Itoa(i))
		}
	}
	if len(missing) > 0 {
		return nil, errorf(400, "Missing `options` in layergroup config for layers: "+strings.Join(missing, ", "))
	}
	t.Layergroup = lg

	if p, ok := doc["placeholders"]; ok && string(p) != "null" {
		var phs map[string]map[string]json.RawMessage
		if err := json.Unmarshal(p, &phs); err != nil {
			return nil, errorf(400, "Invalid placeholders")
		}
		names := make([]string, 0, len(phs))
		for n := range phs {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			ph := phs[n]
			if !placeholderNameRE.MatchString(n) {
				return nil, errorf(400, fmt.Sprintf("Invalid characters in placeholder name '%s'", n))
			}
			def, ok := ph["default"]
			if !ok {
				return nil, errorf(400, fmt.Sprintf("Missing default for placeholder '%s'", n))
			}
			var typ string
			if raw, ok := ph["type"]; !ok || json.Unmarshal(raw, &typ) != nil || typ == "" {
				return nil, errorf(400, fmt.Sprintf("Missing type for placeholder '%s'", n))
			}
			t.Placeholders[n] = Placeholder{Type: typ, Default: jsString(def)}
		}
	} else {
		raw = insertMember(raw, `"placeholders":{}`)
	}
	t.Raw = raw
	return t, nil
}

// insertMember adds a member at the start of a compacted JSON object.
func insertMember(obj []byte, member string) []byte {
	if len(obj) < 2 || obj[0] != '{' {
		return obj
	}
	sep := ","
	if bytes.Equal(obj, []byte("{}")) {
		sep = ""
	}
	return append([]byte("{"+member+sep), obj[1:]...)
}

// jsString is what JavaScript's String(value) gives for a JSON value: strings as they are,
// numbers as JavaScript prints them, true/false/null as words.
func jsString(raw json.RawMessage) string {
	if len(raw) == 0 {
		return "undefined"
	}
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return string(raw)
	}
	switch x := v.(type) {
	case string:
		return x
	case float64:
		return jsNumber(x)
	case bool:
		return strconv.FormatBool(x)
	case nil:
		return "null"
	}
	return string(raw)
}

// jsNumber prints a float as JavaScript's Number.prototype.toString does for everyday values.
func jsNumber(f float64) string {
	if a := math.Abs(f); a != 0 && (a >= 1e21 || a < 1e-6) {
		s := strconv.FormatFloat(f, 'e', -1, 64)
		return strings.Replace(strings.Replace(s, "e-0", "e-", 1), "e+0", "e+", 1)
	}
	return strconv.FormatFloat(f, 'f', -1, 64)
}

// Hash8 is the template's short hash in its layergroup ids: md5 of the stored template.
func (t *Template) Hash8() string {
	sum := md5.Sum(t.Raw)
	return hex.EncodeToString(sum[:])[:8]
}

// Authorized reports whether token may instantiate the template or load its tiles.
func (t *Template) Authorized(token string) bool {
	if t.AuthMethod != "token" {
		return true
	}
	for _, v := range t.ValidTokens {
		if token != "" && constEq(token, v) {
			return true
		}
	}
	return false
}

// Instance substitutes params (a JSON object; missing ones take defaults) into the template's
// layergroup and returns the MapConfig of the instance, with "template":{"name","auth"} as
// Windshaft adds it.
func (t *Template) Instance(params []byte) ([]byte, *Error) {
	vals := map[string]string{}
	types := map[string]string{}
	var given map[string]json.RawMessage
	if len(bytes.TrimSpace(params)) > 0 {
		if err := json.Unmarshal(params, &given); err != nil {
			return nil, errorf(400, "Invalid JSON parameters: "+err.Error())
		}
	}
	for name, ph := range t.Placeholders {
		v := ph.Default
		if raw, ok := given[name]; ok {
			v = jsString(raw)
		}
		if err := checkValue(name, ph.Type, v); err != nil {
			return nil, err
		}
		vals[name], types[name] = v, ph.Type
	}
	var lg map[string]json.RawMessage
	if err := json.Unmarshal(t.Layergroup, &lg); err != nil {
		return nil, errorf(400, "Invalid layergroup in template")
	}
	var layers []map[string]json.RawMessage
	if err := json.Unmarshal(lg["layers"], &layers); err != nil {
		return nil, errorf(400, "Missing or empty layers array from layergroup config")
	}
	for _, l := range layers {
		var opts map[string]json.RawMessage
		if err := json.Unmarshal(l["options"], &opts); err != nil {
			continue
		}
		for _, key := range []string{"sql", "cartocss"} {
			var s string
			if raw, ok := opts[key]; !ok || json.Unmarshal(raw, &s) != nil {
				continue
			}
			if key == "sql" {
				out, err := substituteSQL(s, types, vals)
				if err != nil {
					return nil, err
				}
				s = out
			} else {
				s = substituteCSS(s, types, vals)
			}
			opts[key], _ = json.Marshal(s)
		}
		l["options"], _ = json.Marshal(opts)
	}
	lg["layers"], _ = json.Marshal(layers)
	auth := map[string]any{"method": t.AuthMethod}
	if t.ValidTokens != nil {
		auth["valid_tokens"] = t.ValidTokens
	}
	lg["template"], _ = json.Marshal(map[string]any{"name": t.Name, "auth": auth})
	out, err := json.Marshal(lg)
	if err != nil {
		return nil, errorf(500, err.Error())
	}
	return out, nil
}
