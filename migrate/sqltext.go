package migrate

import (
	"unicode/utf16"
	"unicode/utf8"
)

// jsStringLen is the length, in UTF-16 code units, of s written by JavaScript's JSON.stringify,
// quotes included. CARTO's Batch SQL API measures a job as JSON.stringify(req.body).length, so this
// is how we tell in advance whether a job fits its 16 KiB limit.
func jsStringLen(s string) int {
	n := 2
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		switch {
		case r == '"' || r == '\\' || r == '\b' || r == '\f' || r == '\n' || r == '\r' || r == '\t':
			n += 2
		case r < 0x20:
			n += 6 // \u00XX
		case r == utf8.RuneError && size == 1:
			// Invalid UTF-8 reaches Node as U+FFFD, one unit.
			n++
		default:
			n += utf16.RuneLen(r)
		}
	}
	return n
}
