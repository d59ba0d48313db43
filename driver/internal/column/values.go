package column

import (
	"database/sql/driver"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"strconv"
	"sync"
	"time"
	"unsafe"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/gocarto/carto/driver/internal/rowrec"
)

// Value turns one spooled value of a column into the Go value Rows yields, boxing numbers and
// strings through bx. Nothing it returns shares memory with val, which is reused for the next row.
func Value(f *Field, tag byte, val []byte, bx *Boxer) (driver.Value, error) {
	// The commonest values first, with no call to numberValue: an integer or a double of a column
	// that takes it as it is, a numeric's text, and null. They are most of a big numeric answer.
	switch tag {
	case rowrec.Null:
		return nil, nil
	case rowrec.Int:
		if f.kind == kindInt {
			n, err := rowrec.IntValue(val)
			if err != nil {
				return nil, err
			}
			return bx.int64(n), nil
		}
	case rowrec.Float:
		switch f.kind {
		case kindFloat:
			x, _, err := rowrec.FloatValue(val)
			if err != nil {
				return nil, err
			}
			return bx.float64(x), nil
		case kindNumeric:
			_, text, err := rowrec.FloatValue(val)
			if err != nil {
				return nil, err
			}
			return bx.string(text), nil
		}
	}
	if tag == rowrec.Int || tag == rowrec.Float {
		v, done, t, text, err := numberValue(f.kind, tag, val, bx, bx.num)
		if done {
			return v, err
		}
		if tag == rowrec.Int {
			bx.num = text // the scratch, grown
		}
		tag, val = t, text
	}
	switch f.kind {
	case kindInt:
		if tag == rowrec.Number || tag == rowrec.String {
			// A string too: a server may send int8 as text to keep its digits.
			n, err := parseInt(val)
			if err != nil {
				return nil, err
			}
			return bx.int64(n), nil
		}
	case kindFloat:
		switch tag {
		case rowrec.Number, rowrec.String:
			var f float64
			switch string(val) {
			case "NaN":
				f = math.NaN()
			case "Infinity":
				f = math.Inf(1)
			case "-Infinity":
				f = math.Inf(-1)
			default:
				var err error
				if f, err = strconv.ParseFloat(bytesString(val), 64); err != nil {
					return nil, err
				}
			}
			return bx.float64(f), nil
		}
	case kindNumeric:
		if tag == rowrec.Number || tag == rowrec.String {
			return bx.string(val), nil
		}
	case kindBool:
		switch tag {
		case rowrec.True:
			return true, nil
		case rowrec.False:
			return false, nil
		}
	case kindTimestamp:
		if tag == rowrec.String {
			if t, ok := parseTimestamp(val); ok {
				return t, nil
			}
			// infinity, -infinity, or a form this parser does not know: the text, so that
			// scanning into a string still works and into a time.Time fails clearly.
			return string(val), nil
		}
	case kindJSON:
		return rawJSON(tag, val)
	case kindBytea:
		return bytea(tag, val)
	case kindArray:
		if tag == rowrec.String {
			// Arrays of types CARTO does not know come as PostgreSQL's array text.
			return string(val), nil
		}
		return rawJSON(tag, val)
	case kindGeometry:
		if tag == rowrec.String {
			// A fresh slice for every value: geo.Geometry may keep it.
			return bx.bytes(append([]byte(nil), val...)), nil
		}
	case kindText:
		if tag == rowrec.String {
			return bx.string(val), nil
		}
	}
	// kindOther, and values whose JSON kind does not fit the column's type.
	switch tag {
	case rowrec.String:
		return string(val), nil
	case rowrec.Number:
		if n, err := parseInt(val); err == nil {
			return n, nil
		}
		return string(val), nil
	case rowrec.True:
		return true, nil
	case rowrec.False:
		return false, nil
	}
	return append([]byte(nil), val...), nil
}

// bytesString views b as a string for a call that does not keep it (strconv copies what it
// puts in its errors).
func bytesString(b []byte) string {
	return unsafe.String(unsafe.SliceData(b), len(b))
}

// parseInt reads a JSON number as an int64 from its text, never through float64, so that int8
// values are exact. CARTO's own server writes int8 rounded to a double, which can come as an
// exponent (1e+21 cannot be an int8, but 1e+18 can be written so); such text is accepted when
// it is a whole number in range.
func parseInt(b []byte) (int64, error) {
	if len(b) > 0 && len(b) < 19 {
		neg := b[0] == '-'
		i := 0
		if neg {
			i = 1
		}
		if i < len(b) {
			var n int64
			for ; i < len(b); i++ {
				c := b[i] - '0'
				if c > 9 {
					break
				}
				n = n*10 + int64(c)
			}
			if i == len(b) {
				if neg {
					n = -n
				}
				return n, nil
			}
		}
	}
	if n, err := strconv.ParseInt(bytesString(b), 10, 64); err == nil {
		return n, nil
	}
	f, err := strconv.ParseFloat(bytesString(b), 64)
	if err == nil && f == 1<<63 {
		// The double nearest to the largest int8 values (MaxInt64 among them), which is how
		// CARTO's server writes them (9223372036854776000).
		return math.MaxInt64, nil
	}
	if err != nil || f != math.Trunc(f) || f < math.MinInt64 || f >= math.MaxInt64 {
		return 0, fmt.Errorf("%q is not an integer", b)
	}
	return int64(f), nil
}

// rawJSON returns the value as JSON text in a fresh slice. Strings were stored unescaped, so
// they are quoted again.
func rawJSON(tag byte, val []byte) (driver.Value, error) {
	switch tag {
	case rowrec.String:
		return jsontext.AppendQuote(nil, val)
	case rowrec.True:
		return []byte("true"), nil
	case rowrec.False:
		return []byte("false"), nil
	}
	return append([]byte(nil), val...), nil
}

// bytea decodes Node's rendering of a Buffer, {"type":"Buffer","data":[222,173]}, which CARTO's
// server sends, and PostgreSQL's hex text (\xdead) should a server send that instead.
func bytea(tag byte, val []byte) (driver.Value, error) {
	switch tag {
	case rowrec.Raw:
		var buf struct {
			Type string `json:"type"`
			Data []int  `json:"data"`
		}
		if err := json.Unmarshal(val, &buf); err != nil || buf.Type != "Buffer" || buf.Data == nil {
			return nil, fmt.Errorf("a bytea value is not a Buffer object: %.60s", val)
		}
		out := make([]byte, len(buf.Data))
		for i, n := range buf.Data {
			if n < 0 || n > 255 {
				return nil, fmt.Errorf("a bytea value holds %d, not a byte", n)
			}
			out[i] = byte(n)
		}
		return out, nil
	case rowrec.String:
		if len(val) >= 2 && val[0] == '\\' && val[1] == 'x' {
			out := make([]byte, hex.DecodedLen(len(val)-2))
			if _, err := hex.Decode(out, val[2:]); err == nil {
				return out, nil
			}
		}
		return nil, fmt.Errorf("a bytea value is neither a Buffer object nor \\x hex text: %.60q", val)
	}
	return nil, errors.New("a bytea value is neither a Buffer object nor \\x hex text")
}

// zones caches zones by offset in seconds; a timestamptz column of a million rows should not make
// a million FixedZones.
var zones sync.Map // int -> *time.Location

func zoneAt(offset int) *time.Location {
	if offset == 0 {
		return time.UTC
	}
	if z, ok := zones.Load(offset); ok {
		return z.(*time.Location)
	}
	z, _ := zones.LoadOrStore(offset, time.FixedZone("", offset))
	return z.(*time.Location)
}

// parseTimestamp reads CARTO's timestamps, YYYY-MM-DDTHH:MM:SS with optional fractional seconds
// and a zone of Z, ±HH, ±HHMM or ±HH:MM, and plain dates, YYYY-MM-DD, where the year has any
// number of digits up to 7 and may be negative. Other forms (infinity, …) report false.
func parseTimestamp(b []byte) (time.Time, bool) {
	num := func(s []byte) (int, bool) {
		n := 0
		for _, c := range s {
			if c < '0' || c > '9' {
				return 0, false
			}
			n = n*10 + int(c-'0')
		}
		return n, len(s) > 0
	}
	// The year is JavaScript's getFullYear, unpadded: 1, 999, 2020, 10000; 0 is 1 BC and -1 is
	// 2 BC, as in Go.
	neg := len(b) > 0 && b[0] == '-'
	if neg {
		b = b[1:]
	}
	y := 0
	for y < len(b) && y < 7 && b[y] >= '0' && b[y] <= '9' {
		y++
	}
	if y == 0 || len(b) < y+6 || b[y] != '-' || b[y+3] != '-' {
		return time.Time{}, false
	}
	year, ok1 := num(b[:y])
	if neg {
		year = -year
	}
	month, ok2 := num(b[y+1 : y+3])
	day, ok3 := num(b[y+4 : y+6])
	if !ok1 || !ok2 || !ok3 || month < 1 || month > 12 || day < 1 || day > 31 {
		return time.Time{}, false
	}
	b = b[y+6:]
	if len(b) == 0 {
		return time.Date(year, time.Month(month), day, 0, 0, 0, 0, time.UTC), true
	}
	if len(b) < 9 || (b[0] != 'T' && b[0] != ' ') || b[3] != ':' || b[6] != ':' {
		return time.Time{}, false
	}
	hour, ok1 := num(b[1:3])
	minute, ok2 := num(b[4:6])
	sec, ok3 := num(b[7:9])
	if !ok1 || !ok2 || !ok3 || hour > 24 || minute > 59 || sec > 60 {
		return time.Time{}, false
	}
	rest := b[9:]
	nsec := 0
	if len(rest) > 0 && rest[0] == '.' {
		i := 1
		scale := 100000000
		for ; i < len(rest) && rest[i] >= '0' && rest[i] <= '9'; i++ {
			nsec += int(rest[i]-'0') * scale
			scale /= 10
		}
		if i == 1 {
			return time.Time{}, false
		}
		rest = rest[i:]
	}
	loc := time.UTC
	switch {
	case len(rest) == 1 && rest[0] == 'Z':
	case len(rest) >= 3 && (rest[0] == '+' || rest[0] == '-'):
		h, ok := num(rest[1:3])
		if !ok {
			return time.Time{}, false
		}
		m := 0
		switch mm := rest[3:]; {
		case len(mm) == 0:
		case len(mm) == 2:
			m, ok = num(mm)
		case len(mm) == 3 && mm[0] == ':':
			m, ok = num(mm[1:])
		default:
			ok = false
		}
		if !ok || h > 15 || m > 59 {
			return time.Time{}, false
		}
		off := h*3600 + m*60
		if rest[0] == '-' {
			off = -off
		}
		loc = zoneAt(off)
	default:
		return time.Time{}, false
	}
	return time.Date(year, time.Month(month), day, hour, minute, sec, nsec, loc), true
}
