package apikeys

import (
	"fmt"
	"slices"
	"strings"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// Grants are what a key may use, as the Auth API's "grants" list says them.
type Grants struct {
	APIs     []string // "sql", "maps", "do"
	Tables   []TableGrant
	Schemas  []SchemaGrant
	Metadata bool     // the database section carried "table_metadata"
	Database bool     // there was a database section
	Services []string // dataservices: geocoding, routing, isolines, observatory
	UserData []string // user: profile
	Datasets []string // data-observatory datasets
}

// TableGrant is one table a key may read or write.
type TableGrant struct {
	Schema      string
	Name        string
	Owner       bool // the key's role owns the table (read back from the catalog)
	Permissions []string
}

// SchemaGrant is one schema a key may create tables in.
type SchemaGrant struct {
	Name        string
	Permissions []string
}

// Has reports whether the key was granted api ("sql" or "maps").
func (g Grants) Has(api string) bool { return slices.Contains(g.APIs, api) }

// The values the grants' JSON schema allows (lib/formats/carto/api_key/grants.json).
var (
	sectionTypes      = []string{"apis", "database", "dataservices", "user", "data-observatory"}
	apiNames          = []string{"sql", "maps", "do"}
	tablePermissions  = []string{"insert", "select", "update", "delete"}
	schemaPermissions = []string{"create"}
	serviceNames      = []string{"geocoding", "routing", "isolines", "observatory"}
	userDataNames     = []string{"profile"}
	sectionProperties = []string{"type", "apis", "schemas", "tables", "services", "data", "table_metadata", "datasets"}
)

// ParseGrants validates a create request's grants as CARTO does, returning the messages CARTO's
// validators give (each to be prefixed "Grants "), or the grants.
func ParseGrants(raw jsontext.Value) (Grants, []string) {
	var list []any
	if len(raw) == 0 || raw.Kind() != '[' || json.Unmarshal(raw, &list) != nil {
		return Grants{}, []string{"grants has to be an array"}
	}
	var msgs []string
	count := map[string]int{}
	for _, item := range list {
		if m, ok := item.(map[string]any); ok {
			if t, ok := m["type"].(string); ok {
				count[t]++
			}
		}
	}
	// ApiKeyGrantsValidator first, then the JSON schema, as Rails runs them.
	if count["apis"] != 1 {
		msgs = append(msgs, "only one apis section is allowed")
	}
	for _, s := range []string{"database", "dataservices", "user", "data-observatory"} {
		if count[s] > 1 {
			msgs = append(msgs, "only one "+s+" section is allowed")
		}
	}
	var schemaErrs []string
	var g Grants
	for i, item := range list {
		path := fmt.Sprintf("#/%d", i)
		m, ok := item.(map[string]any)
		if !ok {
			schemaErrs = append(schemaErrs, typeMismatch(path, item, "object"))
			continue
		}
		if extra := extraProps(m, sectionProperties); len(extra) > 0 {
			schemaErrs = append(schemaErrs, fmt.Sprintf("The property '%s' contains additional properties %s outside of the schema when none are allowed", path, rubyList(extra)))
		}
		t, ok := m["type"]
		if !ok {
			schemaErrs = append(schemaErrs, fmt.Sprintf("The property '%s' did not contain a required property of 'type'", path))
		} else if ts, ok := t.(string); !ok {
			schemaErrs = append(schemaErrs, typeMismatch(path+"/type", t, "string"))
		} else if !slices.Contains(sectionTypes, ts) {
			schemaErrs = append(schemaErrs, enumMismatch(path+"/type", ts, sectionTypes))
		}
		g.APIs = appendEnums(g.APIs, &schemaErrs, m, "apis", path, apiNames, m["type"] == "apis")
		g.Services = appendEnums(g.Services, &schemaErrs, m, "services", path, serviceNames, m["type"] == "dataservices")
		g.UserData = appendEnums(g.UserData, &schemaErrs, m, "data", path, userDataNames, m["type"] == "user")
		g.Datasets = appendEnums(g.Datasets, &schemaErrs, m, "datasets", path, nil, m["type"] == "data-observatory")
		if v, ok := m["table_metadata"]; ok {
			if _, isList := v.([]any); !isList {
				schemaErrs = append(schemaErrs, typeMismatch(path+"/table_metadata", v, "array"))
			} else if m["type"] == "database" {
				g.Metadata = true
			}
		}
		if m["type"] == "database" {
			g.Database = true
		}
		if v, ok := m["tables"]; ok {
			g.Tables = append(g.Tables, parseTables(v, path+"/tables", &schemaErrs, m["type"] == "database")...)
		}
		if v, ok := m["schemas"]; ok {
			g.Schemas = append(g.Schemas, parseSchemas(v, path+"/schemas", &schemaErrs, m["type"] == "database")...)
		}
	}
	if len(schemaErrs) > 0 {
		msgs = append(msgs, strings.Join(schemaErrs, ", "))
	}
	if len(msgs) > 0 {
		return Grants{}, msgs
	}
	return g, nil
}

// appendEnums reads the string list m[key], each value from allowed (any when nil), into dst
// when use is set.
func appendEnums(dst []string, errs *[]string, m map[string]any, key, path string, allowed []string, use bool) []string {
	v, ok := m[key]
	if !ok {
		return dst
	}
	items, ok := v.([]any)
	if !ok {
		*errs = append(*errs, typeMismatch(path+"/"+key, v, "array"))
		return dst
	}
	for j, it := range items {
		p := fmt.Sprintf("%s/%s/%d", path, key, j)
		s, ok := it.(string)
		switch {
		case !ok:
			*errs = append(*errs, typeMismatch(p, it, "string"))
		case allowed != nil && !slices.Contains(allowed, s):
			*errs = append(*errs, enumMismatch(p, s, allowed))
		case use && !slices.Contains(dst, s):
			dst = append(dst, s)
		}
	}
	return dst
}

func parseTables(v any, path string, errs *[]string, use bool) []TableGrant {
	items, ok := v.([]any)
	if !ok {
		*errs = append(*errs, typeMismatch(path, v, "array"))
		return nil
	}
	var out []TableGrant
	for j, it := range items {
		p := fmt.Sprintf("%s/%d", path, j)
		m, ok := it.(map[string]any)
		if !ok {
			*errs = append(*errs, typeMismatch(p, it, "object"))
			continue
		}
		before := len(*errs)
		required(m, p, errs, "schema", "name", "permissions")
		if extra := extraProps(m, []string{"schema", "name", "owner", "permissions"}); len(extra) > 0 {
			*errs = append(*errs, fmt.Sprintf("The property '%s' contains additional properties %s outside of the schema when none are allowed", p, rubyList(extra)))
		}
		tg := TableGrant{}
		tg.Schema = stringProp(m, "schema", p, errs)
		tg.Name = stringProp(m, "name", p, errs)
		if o, ok := m["owner"]; ok {
			if _, isBool := o.(bool); !isBool {
				*errs = append(*errs, typeMismatch(p+"/owner", o, "boolean"))
			}
		}
		tg.Permissions = appendEnums(nil, errs, m, "permissions", p, tablePermissions, true)
		if use && len(*errs) == before {
			out = append(out, tg)
		}
	}
	return out
}

func parseSchemas(v any, path string, errs *[]string, use bool) []SchemaGrant {
	items, ok := v.([]any)
	if !ok {
		*errs = append(*errs, typeMismatch(path, v, "array"))
		return nil
	}
	var out []SchemaGrant
	for j, it := range items {
		p := fmt.Sprintf("%s/%d", path, j)
		m, ok := it.(map[string]any)
		if !ok {
			*errs = append(*errs, typeMismatch(p, it, "object"))
			continue
		}
		before := len(*errs)
		required(m, p, errs, "name", "permissions")
		if extra := extraProps(m, []string{"schema", "name", "permissions"}); len(extra) > 0 {
			*errs = append(*errs, fmt.Sprintf("The property '%s' contains additional properties %s outside of the schema when none are allowed", p, rubyList(extra)))
		}
		sg := SchemaGrant{Name: stringProp(m, "name", p, errs)}
		sg.Permissions = appendEnums(nil, errs, m, "permissions", p, schemaPermissions, true)
		if use && len(*errs) == before {
			out = append(out, sg)
		}
	}
	return out
}

func required(m map[string]any, path string, errs *[]string, names ...string) {
	for _, n := range names {
		if _, ok := m[n]; !ok {
			*errs = append(*errs, fmt.Sprintf("The property '%s' did not contain a required property of '%s'", path, n))
		}
	}
}

func stringProp(m map[string]any, key, path string, errs *[]string) string {
	v, ok := m[key]
	if !ok {
		return ""
	}
	s, ok := v.(string)
	if !ok {
		*errs = append(*errs, typeMismatch(path+"/"+key, v, "string"))
	}
	return s
}

func extraProps(m map[string]any, allowed []string) []string {
	var extra []string
	for k := range m {
		if !slices.Contains(allowed, k) {
			extra = append(extra, k)
		}
	}
	slices.Sort(extra)
	return extra
}

// typeMismatch and enumMismatch word errors as the json-schema gem CARTO validates with does.
func typeMismatch(path string, v any, want string) string {
	return fmt.Sprintf("The property '%s' of type %s did not match the following type: %s", path, jsonType(v), want)
}

func enumMismatch(path, v string, allowed []string) string {
	return fmt.Sprintf("The property '%s' value %q did not match one of the following values: %s", path, v, strings.Join(allowed, ", "))
}

func jsonType(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "string"
	case bool:
		return "boolean"
	case float64:
		return "number"
	case []any:
		return "array"
	default:
		return "object"
	}
}

func rubyList(s []string) string {
	q := make([]string, len(s))
	for i, v := range s {
		q[i] = fmt.Sprintf("%q", v)
	}
	return "[" + strings.Join(q, ", ") + "]"
}
