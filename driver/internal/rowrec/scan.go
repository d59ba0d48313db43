package rowrec

import (
	"errors"
	"fmt"
	"strconv"
	"unicode/utf8"

	"github.com/go-json-experiment/json/jsontext"
)

// ErrNeedMore means the bytes at hand end inside the row being read: read more and try again.
var ErrNeedMore = errors.New("need more input")

// maxDepth keeps the nesting of a row's values within the decoder's limit (10000 levels,
// two of which are the answer object and the rows array).
const maxDepth = 10000 - 2

// QuoteByte names c for error messages.
func QuoteByte(c byte) string {
	if c < utf8.RuneSelf {
		return strconv.QuoteRune(rune(c))
	}
	return fmt.Sprintf("byte %#x", c)
}

// SyntaxError describes an unexpected byte c, found where says.
func SyntaxError(c byte, where string) error {
	return fmt.Errorf("invalid character %s %s", QuoteByte(c), where)
}

// SkipSpace returns the index of the first byte from i on that is not JSON white space.
func SkipSpace(b []byte, i int) int {
	for i < len(b) {
		switch b[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// AppendRow validates the row object at the start of b (b[0] is its '{') and appends its record
// to rec, numbering new member names in names. It returns the bytes the object takes, or
// ErrNeedMore when b ends inside it. unq is scratch for unescaped strings. It accepts exactly what
// jsontext's decoder accepts: the JSON grammar, valid UTF-8, escapes and surrogate pairs.
func AppendRow(rec []byte, unq *[]byte, names *Names, b []byte) ([]byte, int, error) {
	i := SkipSpace(b, 1) // past '{'
	if i >= len(b) {
		return rec, 0, ErrNeedMore
	}
	if b[i] == '}' {
		return rec, i + 1, nil
	}
	for k := 0; ; k++ {
		if b[i] != '"' {
			return rec, 0, SyntaxError(b[i], "at the start of a member name")
		}
		name, j, err := scanString(b, i, unq)
		if err != nil {
			return rec, 0, err
		}
		idx := names.index(name, k)
		if i = SkipSpace(b, j); i >= len(b) {
			return rec, 0, ErrNeedMore
		}
		if b[i] != ':' {
			return rec, 0, SyntaxError(b[i], "after a member name")
		}
		if i = SkipSpace(b, i+1); i >= len(b) {
			return rec, 0, ErrNeedMore
		}
		var tag byte
		var val []byte
		switch c := b[i]; {
		case c == '"':
			tag = String
			val, j, err = scanString(b, i, unq)
		case c == '{' || c == '[':
			tag = Raw
			j, err = skipComposite(b, i, 1, unq)
		case c == '-' || c >= '0' && c <= '9':
			tag = Number
			j, err = scanNumber(b, i)
		case c == 't':
			tag = True
			j, err = scanLiteral(b, i, "true")
		case c == 'f':
			tag = False
			j, err = scanLiteral(b, i, "false")
		case c == 'n':
			tag = Null
			j, err = scanLiteral(b, i, "null")
		default:
			err = SyntaxError(c, "at the start of a value")
		}
		if err != nil {
			return rec, 0, err
		}
		switch tag {
		case Raw:
			rec = appendMember(rec, idx, tag, b[i:j])
		case Number:
			rec = appendNumber(rec, idx, b[i:j])
		default:
			rec = appendMember(rec, idx, tag, val)
		}
		if i = SkipSpace(b, j); i >= len(b) {
			return rec, 0, ErrNeedMore
		}
		switch b[i] {
		case ',':
			if i = SkipSpace(b, i+1); i >= len(b) {
				return rec, 0, ErrNeedMore
			}
		case '}':
			return rec, i + 1, nil
		default:
			return rec, 0, SyntaxError(b[i], "after a member's value")
		}
	}
}

// scanString validates the string at b[i] (its opening quote) and returns its content, unescaped
// into unq when it has escapes, and the index after its closing quote.
func scanString(b []byte, i int, unq *[]byte) (content []byte, end int, err error) {
	j := i + 1
	escaped, high := false, false
	for {
		if j >= len(b) {
			return nil, 0, ErrNeedMore
		}
		c := b[j]
		if c == '"' {
			break
		}
		switch {
		case c == '\\':
			escaped = true
			j += 2
			continue
		case c < ' ':
			return nil, 0, SyntaxError(c, "in a string")
		case c >= utf8.RuneSelf:
			high = true
		}
		j++
	}
	content = b[i+1 : j]
	if escaped {
		// Escapes, surrogate pairs and UTF-8 checked as the decoder checks them.
		if *unq, err = jsontext.AppendUnquote((*unq)[:0], b[i:j+1]); err != nil {
			return nil, 0, err
		}
		content = *unq
	} else if high && !utf8.Valid(content) {
		return nil, 0, errors.New("invalid UTF-8 in a string")
	}
	return content, j + 1, nil
}

// scanNumber validates the number at b[i] (JSON's grammar) and returns the index after it. What
// follows it is the caller's to check.
func scanNumber(b []byte, i int) (int, error) {
	j := i
	if b[j] == '-' {
		j++
	}
	if j >= len(b) {
		return 0, ErrNeedMore
	}
	switch c := b[j]; {
	case c == '0':
		j++
	case c >= '1' && c <= '9':
		j = skipDigits(b, j+1)
	default:
		return 0, SyntaxError(c, "in a number")
	}
	if j >= len(b) {
		return 0, ErrNeedMore
	}
	if b[j] == '.' {
		if j++; j >= len(b) {
			return 0, ErrNeedMore
		}
		if b[j] < '0' || b[j] > '9' {
			return 0, SyntaxError(b[j], "after a number's decimal point")
		}
		if j = skipDigits(b, j+1); j >= len(b) {
			return 0, ErrNeedMore
		}
	}
	if b[j] == 'e' || b[j] == 'E' {
		if j++; j < len(b) && (b[j] == '+' || b[j] == '-') {
			j++
		}
		if j >= len(b) {
			return 0, ErrNeedMore
		}
		if b[j] < '0' || b[j] > '9' {
			return 0, SyntaxError(b[j], "in a number's exponent")
		}
		if j = skipDigits(b, j+1); j >= len(b) {
			return 0, ErrNeedMore
		}
	}
	return j, nil
}

func skipDigits(b []byte, j int) int {
	for j < len(b) && b[j] >= '0' && b[j] <= '9' {
		j++
	}
	return j
}

func scanLiteral(b []byte, i int, lit string) (int, error) {
	for k := 1; k < len(lit); k++ {
		if i+k >= len(b) {
			return 0, ErrNeedMore
		}
		if b[i+k] != lit[k] {
			return 0, SyntaxError(b[i+k], "in literal "+lit)
		}
	}
	return i + len(lit), nil
}

// skipComposite validates the object or array at b[i] and returns the index after it.
func skipComposite(b []byte, i, depth int, unq *[]byte) (int, error) {
	if depth > maxDepth {
		return 0, errors.New("a row's value nests too deep")
	}
	closing := byte(']')
	if b[i] == '{' {
		closing = '}'
	}
	if i = SkipSpace(b, i+1); i >= len(b) {
		return 0, ErrNeedMore
	}
	if b[i] == closing {
		return i + 1, nil
	}
	for {
		if closing == '}' {
			if b[i] != '"' {
				return 0, SyntaxError(b[i], "at the start of a member name")
			}
			j, err := skipString(b, i, unq)
			if err != nil {
				return 0, err
			}
			if i = SkipSpace(b, j); i >= len(b) {
				return 0, ErrNeedMore
			}
			if b[i] != ':' {
				return 0, SyntaxError(b[i], "after a member name")
			}
			if i = SkipSpace(b, i+1); i >= len(b) {
				return 0, ErrNeedMore
			}
		}
		var j int
		var err error
		switch c := b[i]; {
		case c == '"':
			j, err = skipString(b, i, unq)
		case c == '{' || c == '[':
			j, err = skipComposite(b, i, depth+1, unq)
		case c == '-' || c >= '0' && c <= '9':
			j, err = scanNumber(b, i)
		case c == 't':
			j, err = scanLiteral(b, i, "true")
		case c == 'f':
			j, err = scanLiteral(b, i, "false")
		case c == 'n':
			j, err = scanLiteral(b, i, "null")
		default:
			err = SyntaxError(c, "at the start of a value")
		}
		if err != nil {
			return 0, err
		}
		if i = SkipSpace(b, j); i >= len(b) {
			return 0, ErrNeedMore
		}
		switch b[i] {
		case ',':
			if i = SkipSpace(b, i+1); i >= len(b) {
				return 0, ErrNeedMore
			}
		case closing:
			return i + 1, nil
		default:
			return 0, SyntaxError(b[i], "after a value")
		}
	}
}

// skipString validates the string at b[i] and returns the index after it.
func skipString(b []byte, i int, unq *[]byte) (int, error) {
	_, end, err := scanString(b, i, unq)
	return end, err
}
