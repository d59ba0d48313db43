// Package pgvalue turns PostgreSQL's text values into the JSON CARTO's Node servers answer with:
// pg-types' parsers and cartodb-psql's overrides, serialized as JSON.stringify does, and the
// "fields" metadata of the SQL API's json format. It is shared by every API that answers rows.
package pgvalue

import (
	"bytes"
	"math"
	"regexp"
	"strconv"
	"time"
	"unsafe"

	"github.com/gocarto/carto/cartolocal/internal/jsjson"
)

// valueKind is how a PostgreSQL text value becomes JSON. CARTO's Node server parses text values with
// pg-types 1.x (plus cartodb-psql's overrides) and serializes the result with JSON.stringify; each
// kind reproduces one of those parsers.
type valueKind uint8

const (
	kindString   valueKind = iota // anything pg-types leaves as text: a JSON string
	kindInt                       // int2, int4, oid, int8: the digits as PostgreSQL sent them
	kindFloat                     // float4, float8: parseFloat, then JavaScript's number formatting
	kindNumeric                   // numeric: as CARTO when a double holds it, else all the digits
	kindBool                      // bool
	kindDate                      // date, timestamp, timestamptz: postgres-date, then CARTO's Date.toJSON
	kindInterval                  // interval: postgres-interval's object
	kindJSON                      // json, jsonb: the document itself, whitespace removed
	kindBytea                     // bytea: Node's Buffer.toJSON
	kindPoint                     // point: {"x":..,"y":..}
	kindCircle                    // circle: {"x":..,"y":..,"radius":..}
	kindArray                     // an array whose elements have a kind of their own
)

// Codec says how one column's values are written.
type Codec struct {
	kind valueKind
	elem valueKind // for kindArray
}

// CodecFor returns the codec of a type OID, following pg-types' registrations by OID. Arrays of a
// type pg-types does not parse stay their literal text ("{happy}"), as on CARTO.
func CodecFor(oid uint32) Codec {
	switch oid {
	case 20, 21, 23, 26:
		return Codec{kind: kindInt}
	case 700, 701:
		return Codec{kind: kindFloat}
	case 1700:
		return Codec{kind: kindNumeric}
	case 16:
		return Codec{kind: kindBool}
	case 1082, 1114, 1184:
		return Codec{kind: kindDate}
	case 1186:
		return Codec{kind: kindInterval}
	case 114, 3802:
		return Codec{kind: kindJSON}
	case 17:
		return Codec{kind: kindBytea}
	case 600:
		return Codec{kind: kindPoint}
	case 718:
		return Codec{kind: kindCircle}
	case 1000:
		return Codec{kind: kindArray, elem: kindBool}
	case 1005, 1007, 1028, 1016:
		return Codec{kind: kindArray, elem: kindInt}
	case 1021, 1022:
		return Codec{kind: kindArray, elem: kindFloat}
	case 1231:
		return Codec{kind: kindArray, elem: kindNumeric}
	case 1014, 1015, 1008, 1009, 1040, 1041, 651, 3907, 2951, 791, 1183, 1270:
		return Codec{kind: kindArray, elem: kindString}
	case 1115, 1182, 1185:
		return Codec{kind: kindArray, elem: kindDate}
	case 1001:
		return Codec{kind: kindArray, elem: kindBytea}
	case 1017:
		return Codec{kind: kindArray, elem: kindPoint}
	case 199, 3807:
		return Codec{kind: kindArray, elem: kindJSON}
	}
	return Codec{kind: kindString}
}

// Encoder writes values; its scratch buffer is reused for array elements.
type Encoder struct {
	// NaNNull writes NaN and ±Infinity as null, as a plain JSON.stringify does (the geojson
	// format); otherwise they are the strings CARTO's replacer makes of them.
	NaNNull bool
	scratch []byte
}

// AppendValue appends the JSON of one value; nil is SQL NULL.
func (e *Encoder) AppendValue(b []byte, c Codec, v []byte) []byte {
	if v == nil {
		return append(b, "null"...)
	}
	if c.kind == kindArray {
		return e.appendArray(b, c.elem, v)
	}
	return e.appendScalar(b, c.kind, v)
}

func (e *Encoder) appendScalar(b []byte, k valueKind, v []byte) []byte {
	switch k {
	case kindInt:
		return append(b, v...)
	case kindFloat:
		if isPlainShortest(v) {
			return append(b, v...)
		}
		return e.appendFloat(b, parseJSFloat(v))
	case kindNumeric:
		switch string(v) {
		case "NaN", "Infinity", "-Infinity":
			if e.NaNNull {
				return append(b, "null"...)
			}
			return jsjson.AppendBytes(b, v)
		}
		if significantDigits(v) <= 15 {
			// A float64 holds it exactly: print it as CARTO does ("1.50" is 1.5).
			if isPlainShortest(v) {
				return append(b, v...)
			}
			if f := parseJSFloat(v); !math.IsInf(f, 0) && (f != 0 || significantDigits(v) == 0) {
				return e.appendFloat(b, f)
			}
			// Beyond a double's range: the digits, not CARTO's Infinity or 0.
		}
		return append(b, v...) // more digits than a double has: all of them, where CARTO rounds
	case kindBool:
		if isTrue(v) {
			return append(b, "true"...)
		}
		return append(b, "false"...)
	case kindDate:
		if e.NaNNull && (string(v) == "infinity" || string(v) == "-infinity") {
			return append(b, "null"...)
		}
		return appendPGDate(b, v)
	case kindInterval:
		return appendInterval(b, v)
	case kindJSON:
		return appendCompactJSON(b, v)
	case kindBytea:
		return appendBuffer(b, v)
	case kindPoint:
		return e.appendPoint(b, v)
	case kindCircle:
		return e.appendCircle(b, v)
	}
	return jsjson.AppendBytes(b, v)
}

// appendFloat writes a parsed float, non-finite values as strings or null.
func (e *Encoder) appendFloat(b []byte, f float64) []byte {
	if e.NaNNull && (math.IsNaN(f) || math.IsInf(f, 0)) {
		return append(b, "null"...)
	}
	return jsjson.AppendFloat(b, f)
}

// isTrue is pg-types' parseBool.
func isTrue(v []byte) bool {
	switch string(v) {
	case "TRUE", "t", "true", "y", "yes", "on", "1":
		return true
	}
	return false
}

// appendArray parses a PostgreSQL array literal as postgres-array does and writes a JSON array:
// nested braces become nested arrays, an unquoted NULL becomes null. A dimension decoration
// ("[0:1]={...}") is skipped.
func (e *Encoder) appendArray(b []byte, elem valueKind, v []byte) []byte {
	i := 0
	if len(v) > 0 && v[0] == '[' {
		for i < len(v) && v[i] != '=' {
			i++
		}
		i++
	}
	if i >= len(v) || v[i] != '{' {
		return jsjson.AppendBytes(b, v) // not an array literal (cannot come from PostgreSQL)
	}
	depth := 0
	first := true
	for i < len(v) {
		c := v[i]
		switch {
		case c == '{':
			if !first {
				b = append(b, ',')
			}
			b = append(b, '[')
			depth++
			first = true
			i++
		case c == '}':
			b = append(b, ']')
			depth--
			first = false
			i++
			if depth == 0 {
				return b
			}
		case c == ',' || c == ' ':
			i++
		default:
			// An element, quoted or not; backslash escapes a character either way.
			e.scratch = e.scratch[:0]
			quoted := c == '"'
			if quoted {
				i++
			}
			for i < len(v) {
				c = v[i]
				if c == '\\' && i+1 < len(v) {
					e.scratch = append(e.scratch, v[i+1])
					i += 2
					continue
				}
				if quoted && c == '"' {
					i++
					break
				}
				if !quoted && (c == ',' || c == '}') {
					break
				}
				e.scratch = append(e.scratch, c)
				i++
			}
			if !first {
				b = append(b, ',')
			}
			first = false
			if !quoted && string(e.scratch) == "NULL" {
				b = append(b, "null"...)
			} else {
				b = e.appendScalar(b, elem, e.scratch)
			}
		}
	}
	// Unbalanced literal (cannot come from PostgreSQL): close what is open so the JSON stays valid.
	for ; depth > 0; depth-- {
		b = append(b, ']')
	}
	return b
}

// bytesToString views b as a string for parsing, without copying; the string must not outlive b.
func bytesToString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

// significantDigits counts the digits of a decimal text from the first non-zero one to the last
// non-zero one.
func significantDigits(v []byte) int {
	first, last, n := -1, -1, 0
	for _, c := range v {
		if c < '0' || c > '9' {
			continue
		}
		if c != '0' {
			if first < 0 {
				first = n
			}
			last = n
		}
		n++
	}
	if first < 0 {
		return 0
	}
	return last - first + 1
}

// isPlainShortest reports whether a float text is already what JavaScript would print for it:
// plain decimal notation ([-]digits[.digits], no exponent), at most 15 significant digits (so it is
// the shortest text of its double), no trailing zero in the fraction, and not -0. PostgreSQL's
// float output is mostly of that kind, and skipping the parse and format is most of a float's cost.
func isPlainShortest(v []byte) bool {
	i := 0
	if len(v) > 0 && v[0] == '-' {
		i = 1
	}
	start, sig, dot, zero := i, 0, false, true
	for ; i < len(v); i++ {
		c := v[i]
		switch {
		case c >= '0' && c <= '9':
			if c != '0' {
				zero = false
			}
			if sig > 0 || c != '0' {
				sig++
			}
		case c == '.' && !dot && i > start:
			dot = true
		default:
			return false
		}
	}
	if i == start || sig > 15 || v[len(v)-1] == '.' {
		return false
	}
	if v[start] == '0' && len(v) > start+1 && v[start+1] != '.' {
		return false // a leading zero ("007") is not JSON
	}
	if bytes.HasPrefix(v[start:], []byte("0.000000")) {
		return false // below 1e-6 JavaScript writes an exponent
	}
	if dot && v[len(v)-1] == '0' {
		return false
	}
	// "-0" (and "-0.0...") print as 0.
	return !(zero && start == 1)
}

// parseJSFloat is JavaScript's parseFloat for the texts PostgreSQL writes.
func parseJSFloat(v []byte) float64 {
	f, err := strconv.ParseFloat(bytesToString(v), 64)
	if err != nil {
		if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
			return f // ±Inf or 0, as parseFloat gives
		}
		return math.NaN()
	}
	return f
}

// appendPGDate parses a date, timestamp or timestamptz as postgres-date 1.0 does and writes it as
// CARTO's Date.prototype.toJSON override in a UTC process: "YYYY-MM-DDTHH:MM:SSZ", seconds
// precision, the year unpadded. ±infinity become "Infinity"/"-Infinity"; an unparsable text null.
func appendPGDate(b []byte, v []byte) []byte {
	s := bytesToString(v)
	switch s {
	case "infinity":
		return append(b, `"Infinity"`...)
	case "-infinity":
		return append(b, `"-Infinity"`...)
	}
	bc := len(s) > 3 && s[len(s)-3:] == " BC"
	year, rest, ok := leadingInt(s)
	if !ok || len(rest) < 6 || rest[0] != '-' || rest[3] != '-' {
		return append(b, "null"...)
	}
	month, ok1 := twoDigits(rest[1:3])
	day, ok2 := twoDigits(rest[4:6])
	if !ok1 || !ok2 {
		return append(b, "null"...)
	}
	if bc {
		year = -(year - 1)
	}
	rest = rest[6:]
	var hour, minute, second int
	var offset int64 // seconds east of UTC
	if len(rest) >= 9 && rest[0] == ' ' && rest[3] == ':' && rest[6] == ':' {
		var ok3, ok4, ok5 bool
		hour, ok3 = twoDigits(rest[1:3])
		minute, ok4 = twoDigits(rest[4:6])
		second, ok5 = twoDigits(rest[7:9])
		if !ok3 || !ok4 || !ok5 {
			return append(b, "null"...)
		}
		offset = tzOffset(s)
	} else if rest != "" && rest != " BC" {
		return append(b, "null"...)
	}
	t := time.Date(int(year), time.Month(month), day, hour, minute, second, 0, time.UTC)
	t = t.Add(-time.Duration(offset) * time.Second)
	// JavaScript dates end at ±8.64e15 ms; beyond, toJSON prints the fields of an invalid Date.
	if u := t.Unix(); u > 8.64e12 || u < -8.64e12 {
		return append(b, `"NaN-NaN-NaNTNaN:NaN:NaN-NaNNaN"`...)
	}
	b = append(b, '"')
	b = strconv.AppendInt(b, int64(t.Year()), 10)
	b = append(b, '-')
	b = appendPad2(b, int(t.Month()))
	b = append(b, '-')
	b = appendPad2(b, t.Day())
	b = append(b, 'T')
	b = appendPad2(b, t.Hour())
	b = append(b, ':')
	b = appendPad2(b, t.Minute())
	b = append(b, ':')
	b = appendPad2(b, t.Second())
	return append(b, `Z"`...)
}

func appendPad2(b []byte, n int) []byte {
	if n < 10 {
		b = append(b, '0')
	}
	return strconv.AppendInt(b, int64(n), 10)
}

func leadingInt(s string) (int64, string, bool) {
	i := 0
	var n int64
	for i < len(s) && s[i] >= '0' && s[i] <= '9' && i < 12 {
		n = n*10 + int64(s[i]-'0')
		i++
	}
	return n, s[i:], i > 0
}

func twoDigits(s string) (int, bool) {
	if len(s) != 2 || s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9' {
		return 0, false
	}
	return int(s[0]-'0')*10 + int(s[1]-'0'), true
}

// tzOffset is postgres-date's timeZoneOffset, in seconds: "+00" at the end is UTC; otherwise the
// first [Z+-] of the time part, with optional hours, minutes and seconds. No zone means local time,
// which is UTC here.
func tzOffset(s string) int64 {
	if len(s) >= 3 && s[len(s)-3:] == "+00" {
		return 0
	}
	// The time part is the second space-separated word.
	sp := 0
	for sp < len(s) && s[sp] != ' ' {
		sp++
	}
	part := s[min(sp+1, len(s)):]
	for i := 0; i < len(part); i++ {
		if part[i] == ' ' {
			part = part[:i]
			break
		}
	}
	for i := 0; i < len(part); i++ {
		c := part[i]
		if c != 'Z' && c != '+' && c != '-' {
			continue
		}
		if c == 'Z' {
			return 0
		}
		z := part[i+1:]
		var fields [3]int64
		for f := 0; f < 3; f++ {
			if f > 0 && len(z) > 0 && z[0] == ':' {
				z = z[1:]
			}
			if n, ok := twoDigits(z[:min(2, len(z))]); ok {
				fields[f] = int64(n)
				z = z[2:]
			} else {
				break
			}
		}
		off := fields[0]*3600 + fields[1]*60 + fields[2]
		if c == '-' {
			off = -off
		}
		return off
	}
	return 0
}

// intervalRE is postgres-interval 1.x's parser of PostgreSQL's "postgres" interval style.
var intervalRE = regexp.MustCompile(`(([+-]?\d+)\s+years?)?\s*(([+-]?\d+)\s+mons?)?\s*(([+-]?\d+)\s+days?)?\s*(([+-])?([\d]*):(\d\d):(\d\d)\.?(\d{1,6})?)?`)

var intervalParts = [...]struct {
	name  string
	group int
}{{"years", 2}, {"months", 4}, {"days", 6}, {"hours", 9}, {"minutes", 10}, {"seconds", 11}, {"milliseconds", 12}}

// appendInterval writes an interval as postgres-interval's object: the non-zero parts among years,
// months, days, hours, minutes, seconds, milliseconds, in that order.
func appendInterval(b []byte, v []byte) []byte {
	m := intervalRE.FindSubmatchIndex(v)
	b = append(b, '{')
	if m == nil {
		return append(b, '}')
	}
	negative := m[2*8] >= 0 && v[m[2*8]] == '-'
	first := true
	for pi, p := range intervalParts {
		lo, hi := m[2*p.group], m[2*p.group+1]
		if lo < 0 || hi <= lo {
			continue
		}
		raw := bytesToString(v[lo:hi])
		var num float64
		if pi == len(intervalParts)-1 {
			// Microseconds with trailing zeros omitted; the value is milliseconds.
			us, _ := strconv.Atoi(raw + "000000"[len(raw):])
			num = float64(us) / 1000
		} else {
			n, err := strconv.ParseInt(raw, 10, 64)
			if err != nil {
				continue
			}
			num = float64(n)
		}
		if num == 0 {
			continue
		}
		if negative && pi >= 3 {
			num = -num
		}
		if !first {
			b = append(b, ',')
		}
		first = false
		b = append(b, '"')
		b = append(b, p.name...)
		b = append(b, `":`...)
		b = jsjson.AppendNumber(b, num)
	}
	return append(b, '}')
}

// appendBuffer writes a bytea value as Node's Buffer.toJSON: {"type":"Buffer","data":[...]}.
// Both bytea_output formats are read, as postgres-bytea reads them.
func appendBuffer(b []byte, v []byte) []byte {
	b = append(b, `{"type":"Buffer","data":[`...)
	first := true
	put := func(c byte) {
		if !first {
			b = append(b, ',')
		}
		first = false
		b = strconv.AppendUint(b, uint64(c), 10)
	}
	if len(v) >= 2 && v[0] == '\\' && v[1] == 'x' {
		for i := 2; i+1 < len(v); i += 2 {
			hi, ok1 := unhex(v[i])
			lo, ok2 := unhex(v[i+1])
			if !ok1 || !ok2 {
				break
			}
			put(hi<<4 | lo)
		}
		return append(b, "]}"...)
	}
	for i := 0; i < len(v); {
		if v[i] != '\\' {
			put(v[i])
			i++
			continue
		}
		if i+3 < len(v) && isOctal(v[i+1]) && isOctal(v[i+2]) && isOctal(v[i+3]) {
			put((v[i+1]-'0')<<6 | (v[i+2]-'0')<<3 | (v[i+3] - '0'))
			i += 4
			continue
		}
		n := 1
		for i+n < len(v) && v[i+n] == '\\' {
			n++
		}
		for k := 0; k < n/2; k++ {
			put('\\')
		}
		i += max(n/2*2, 1)
	}
	return append(b, "]}"...)
}

func isOctal(c byte) bool { return c >= '0' && c <= '7' }

func unhex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// appendPoint writes pg-types' parsePoint: "(1,2)" -> {"x":1,"y":2}; anything else null.
func (e *Encoder) appendPoint(b []byte, v []byte) []byte {
	if len(v) < 2 || v[0] != '(' {
		return append(b, "null"...)
	}
	x, y := splitPair(v[1 : len(v)-1])
	b = append(b, `{"x":`...)
	b = e.appendFloat(b, parseJSFloatPrefix(x))
	b = append(b, `,"y":`...)
	b = e.appendFloat(b, parseJSFloatPrefix(y))
	return append(b, '}')
}

// appendCircle writes pg-types' parseCircle: "<(1,2),3>" -> {"x":1,"y":2,"radius":3}.
func (e *Encoder) appendCircle(b []byte, v []byte) []byte {
	if len(v) < 4 || v[0] != '<' || v[1] != '(' {
		return append(b, "null"...)
	}
	end := 2
	for end < len(v) && v[end] != ')' {
		end++
	}
	if end >= len(v) {
		return append(b, "null"...)
	}
	x, y := splitPair(v[2:end])
	var r []byte
	if end+1 < len(v)-1 {
		r = v[end+1 : len(v)-1]
	}
	if len(r) > 0 && r[0] == ',' {
		r = r[1:]
	}
	b = append(b, `{"x":`...)
	b = e.appendFloat(b, parseJSFloatPrefix(x))
	b = append(b, `,"y":`...)
	b = e.appendFloat(b, parseJSFloatPrefix(y))
	b = append(b, `,"radius":`...)
	b = e.appendFloat(b, parseJSFloatPrefix(r))
	return append(b, '}')
}

func splitPair(v []byte) ([]byte, []byte) {
	for i, c := range v {
		if c == ',' {
			return v[:i], v[i+1:]
		}
	}
	return v, nil
}

// parseJSFloatPrefix is parseFloat on a text that may carry trailing characters.
func parseJSFloatPrefix(v []byte) float64 {
	end := len(v)
	for end > 0 {
		if f, err := strconv.ParseFloat(bytesToString(v[:end]), 64); err == nil {
			return f
		}
		end--
	}
	return math.NaN()
}

// appendCompactJSON writes a json or jsonb text without its insignificant whitespace, which is how
// JSON.parse + JSON.stringify print it on CARTO. Numbers and string escapes stay as PostgreSQL
// wrote them (cartolocal keeps full precision).
func appendCompactJSON(b []byte, v []byte) []byte {
	inString := false
	start := 0
	for i := 0; i < len(v); i++ {
		c := v[i]
		if inString {
			switch c {
			case '\\':
				i++
			case '"':
				inString = false
			}
			continue
		}
		switch c {
		case '"':
			inString = true
		case ' ', '\t', '\n', '\r':
			b = append(b, v[start:i]...)
			start = i + 1
		}
	}
	return append(b, v[start:]...)
}
