// Package jsjson writes JSON as CARTO's Node.js servers write it: JSON.stringify's strings (with
// its escapes, and invalid UTF-8 as U+FFFD as Node decodes it) and JavaScript's number formatting.
// Every cartolocal API answers through it, so that bytes match CARTO's where a client can tell.
package jsjson

import (
	"math"
	"strconv"
	"unicode/utf8"
)

// AppendFloat writes f as JSON.stringify does, with CARTO's replacer: NaN and ±Infinity become
// the strings "NaN", "Infinity" and "-Infinity", and -0 is 0.
func AppendFloat(b []byte, f float64) []byte {
	switch {
	case math.IsNaN(f):
		return append(b, `"NaN"`...)
	case math.IsInf(f, 1):
		return append(b, `"Infinity"`...)
	case math.IsInf(f, -1):
		return append(b, `"-Infinity"`...)
	case f == 0:
		return append(b, '0')
	}
	return AppendNumber(b, f)
}

// AppendNumber formats a finite float64 as JavaScript's Number.prototype.toString: shortest
// round-trip digits, exponent form below 1e-6 and from 1e21, exponents without leading zeros.
func AppendNumber(b []byte, f float64) []byte {
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		// e-07 -> e-7
		n := len(b)
		if n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}

const hexDigits = "0123456789abcdef"

// AppendBytes writes s as a JSON string the way JSON.stringify does: ", \ and control characters
// escaped (\b \f \n \r \t, others \u00XX), everything else as UTF-8; invalid UTF-8 (impossible from
// a UTF8 database) becomes U+FFFD, as Node decodes it.
func AppendBytes(b []byte, s []byte) []byte { return appendJS(b, s) }

// AppendString is AppendBytes for a string.
func AppendString(b []byte, s string) []byte { return appendJS(b, s) }

// appendJS serves both: text from PostgreSQL arrives as bytes, our own strings as strings, and
// neither should be copied to become the other on this per-value path.
func appendJS[T ~string | ~[]byte](b []byte, s T) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		if c >= utf8.RuneSelf {
			// At most four bytes, converted on the stack: no allocation for either type.
			r, size := utf8.DecodeRuneInString(string(s[i:min(i+utf8.UTFMax, len(s))]))
			if r == utf8.RuneError && size == 1 {
				b = append(b, s[start:i]...)
				b = append(b, "\uFFFD"...)
				i++
				start = i
				continue
			}
			i += size
			continue
		}
		b = append(b, s[start:i]...)
		b = appendEscape(b, c)
		i++
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

func appendEscape(b []byte, c byte) []byte {
	switch c {
	case '"':
		return append(b, `\"`...)
	case '\\':
		return append(b, `\\`...)
	case '\b':
		return append(b, `\b`...)
	case '\f':
		return append(b, `\f`...)
	case '\n':
		return append(b, `\n`...)
	case '\r':
		return append(b, `\r`...)
	case '\t':
		return append(b, `\t`...)
	}
	return append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
}
