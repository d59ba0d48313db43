package sqlapi

import (
	"fmt"
	"math"
	"net/url"
	"strconv"
	"strings"

	"github.com/gocarto/carto/cartolocal/internal/httpapi"
	"github.com/gocarto/carto/cartolocal/internal/jsjson"
)

// maxQueryBytes bounds q. CARTO has no limit of its own (its front proxies do); one is needed so a
// single request cannot make PostgreSQL parse an arbitrarily large text.
const maxQueryBytes = 1 << 20

// sqlFormats are the format names CARTO's SQL API knows (lib/models/formats), with whether
// cartolocal implements them.
var sqlFormats = map[string]bool{
	"json": true, "geojson": true, "csv": true,
	"shp": true, "kml": true, "svg": true, "spatialite": true, "gpkg": true,
	"topojson": true, "arraybuffer": false,
}

// sqlParams are the parameters of a query request once read as CARTO's params middleware reads them
// (lib/api/middlewares/params.js).
type sqlParams struct {
	q           string
	format      string
	inline      bool // Content-Disposition inline: neither format nor filename was given
	orderBy     string
	sortOrder   string
	skipfields  []string
	dp          string
	filename    string
	limit       float64 // NaN when rows_per_page is absent or not a number
	offset      float64 // NaN when page is absent or not a number
	callback    string
	cachePolicy string
}

// parseSQLParams reads a query request's parameters. query is the URL's own query string, which
// CARTO consults apart from the merged parameters for a few decisions.
func parseSQLParams(p httpapi.Params, query url.Values) (*sqlParams, *httpapi.Error) {
	q, ok := p["q"].(string)
	if !ok {
		return nil, httpapi.BadRequest("You must indicate a sql query")
	}
	if len(q) > maxQueryBytes {
		return nil, httpapi.BadRequest(fmt.Sprintf("Your query is too large: %d bytes. Max size allowed is %d bytes (1mb). Use the Batch SQL API or COPY for bigger loads.", len(q), maxQueryBytes))
	}
	sp := &sqlParams{q: q}
	format, defined := parseFormat(p["format"])
	if !defined {
		return nil, httpapi.BadRequest("Invalid format: " + format)
	}
	implemented, known := sqlFormats[format]
	switch {
	case !known:
		return nil, httpapi.BadRequest("Invalid format: " + format)
	case !implemented:
		return nil, httpapi.BadRequest(fmt.Sprintf("Format %s is not supported by cartolocal: use json, geojson, csv, shp, kml, svg, spatialite, gpkg or topojson", format))
	}
	sp.format = format
	sp.inline = !truthy(query["format"]) && !truthy(p["format"]) && !truthy(query["filename"]) && !truthy(p["filename"])
	if s, ok := p["order_by"].(string); ok {
		sp.orderBy = s
	}
	if s, ok := p["sort_order"].(string); ok {
		sp.sortOrder = s
	}
	sp.skipfields = parseSkipfields(p["skipfields"])
	sp.dp = "6"
	if v, ok := p["dp"]; ok && truthy(v) {
		sp.dp = jsString(v)
	}
	sp.filename = "cartodb-query"
	if v, ok := p["filename"]; ok && v != nil {
		if s := jsString(v); s != "" {
			sp.filename = sanitizeFilename(s)
		}
	}
	sp.limit = math.NaN()
	if v, ok := p["rows_per_page"]; ok {
		sp.limit = jsParseInt(jsString(v))
	}
	sp.offset = math.NaN()
	if v, ok := p["page"]; ok {
		sp.offset = jsParseInt(jsString(v)) * sp.limit
	}
	if v, ok := p["callback"]; ok && truthy(v) {
		sp.callback = jsString(v)
	}
	if s, ok := p["cache_policy"].(string); ok {
		sp.cachePolicy = s
	}
	return sp, nil
}

// parseFormat is params.js parseFormat: a string is lower-cased (empty means json); of an array the
// last element counts, as it is; anything else is undefined. defined is false for undefined.
func parseFormat(v any) (string, bool) {
	switch v := v.(type) {
	case nil:
		return "json", true
	case string:
		if v == "" {
			return "json", true
		}
		return strings.ToLower(v), true
	case []string:
		if len(v) > 0 {
			return v[len(v)-1], true
		}
	case []any:
		if len(v) > 0 {
			return jsString(v[len(v)-1]), v[len(v)-1] != nil
		}
	}
	return "undefined", false
}

// parseSkipfields accepts a comma-separated string or a list of them; names are not trimmed.
func parseSkipfields(v any) []string {
	var out []string
	switch v := v.(type) {
	case string:
		if v != "" {
			out = strings.Split(v, ",")
		}
	case []string:
		for _, s := range v {
			out = append(out, strings.Split(s, ",")...)
		}
	case []any:
		for _, e := range v {
			if s, ok := e.(string); ok {
				out = append(out, strings.Split(s, ",")...)
			}
		}
	}
	return out
}

// truthy is JavaScript's truthiness of a parameter value.
func truthy(v any) bool {
	switch v := v.(type) {
	case nil:
		return false
	case string:
		return v != ""
	case []string:
		return v != nil
	case float64:
		return v != 0 && !math.IsNaN(v)
	case bool:
		return v
	}
	return true
}

// jsString is JavaScript's String(v) for parameter values.
func jsString(v any) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case string:
		return v
	case []string:
		return strings.Join(v, ",")
	case float64:
		if v == 0 {
			return "0"
		}
		return string(appendJSFloatPlain(nil, v))
	case bool:
		return strconv.FormatBool(v)
	case []any:
		parts := make([]string, len(v))
		for i, e := range v {
			if e != nil {
				parts[i] = jsString(e)
			}
		}
		return strings.Join(parts, ",")
	}
	return "[object Object]"
}

// appendJSFloatPlain is Number.prototype.toString (NaN and Infinity unquoted).
func appendJSFloatPlain(b []byte, f float64) []byte {
	switch {
	case math.IsNaN(f):
		return append(b, "NaN"...)
	case math.IsInf(f, 1):
		return append(b, "Infinity"...)
	case math.IsInf(f, -1):
		return append(b, "-Infinity"...)
	case f == 0:
		return append(b, '0')
	}
	return jsjson.AppendNumber(b, f)
}

// isJSSpace is JavaScript's \s (WhiteSpace and LineTerminator).
func isJSSpace(r rune) bool {
	switch r {
	case '\t', '\n', '\v', '\f', '\r', ' ', 0xA0, 0x1680, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000, 0xFEFF:
		return true
	}
	return r >= 0x2000 && r <= 0x200A
}

// jsParseInt is parseInt(s, 10): leading white space, a sign, then as many digits as there are;
// NaN when there are none.
func jsParseInt(s string) float64 {
	s = strings.TrimLeftFunc(s, isJSSpace)
	neg := false
	if s != "" && (s[0] == '+' || s[0] == '-') {
		neg = s[0] == '-'
		s = s[1:]
	}
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	if i == 0 {
		return math.NaN()
	}
	f, _ := strconv.ParseFloat(s[:i], 64)
	if neg {
		f = -f
	}
	return f
}

// sanitizeFilename is CARTO's filename-sanitizer: path.basename without the extension, then each of
// ;()[]<>'" and white space replaced by _. cartolocal also replaces control characters, which Node
// refuses in a header value.
func sanitizeFilename(name string) string {
	name = posixBasename(name)
	if ext := posixExtname(name); ext != "" && ext != name {
		name = strings.TrimSuffix(name, ext)
	}
	var sb strings.Builder
	for _, r := range name {
		switch {
		case strings.ContainsRune(";()[]<>'\"", r), isJSSpace(r), r < 0x20, r == 0x7F:
			sb.WriteByte('_')
		default:
			sb.WriteRune(r)
		}
	}
	return sb.String()
}

// posixBasename is Node's path.posix.basename(p): the last component, trailing slashes ignored.
func posixBasename(p string) string {
	p = strings.TrimRight(p, "/")
	if i := strings.LastIndexByte(p, '/'); i >= 0 {
		p = p[i+1:]
	}
	return p
}

// posixExtname is Node's path.posix.extname of a base name: from the last dot, unless that dot
// starts the name ("" for ".profile", "." for "file.").
func posixExtname(base string) string {
	i := strings.LastIndexByte(base, '.')
	if i <= 0 {
		return ""
	}
	// ".." and names of only dots have no extension.
	if strings.Trim(base, ".") == "" {
		return ""
	}
	return base[i:]
}
