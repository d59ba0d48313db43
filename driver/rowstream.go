package driver

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"sync"
	"unicode/utf8"

	"github.com/go-json-experiment/json/jsontext"
)

// The rows array is read by a scanner of its own rather than by the JSON decoder: one pass over
// each row both validates it (as strictly as the decoder: the JSON grammar, UTF-8, escapes and
// surrogates) and takes it apart into its record (rowtoken.go). Validating with the decoder and
// then taking the row apart again scanned every byte twice, and was most of the driver's CPU on a
// big answer. The decoder still reads everything else (the trailer is small).

// rowStream reads the rows array from the answer's body.
type rowStream struct {
	body io.Reader
	buf  []byte
	pos  int // next unread byte of buf
	end  int // end of the bytes read into buf
	eof  bool
	unq  []byte // scratch for unescaped strings
}

const rowStreamBuffer = 64 << 10

var rowBuffers = sync.Pool{New: func() any { b := make([]byte, rowStreamBuffer); return &b }}

// errNeedMore means the bytes at hand end inside the value being scanned.
var errNeedMore = errors.New("need more input")

// maxRowDepth keeps the nesting of a row's values within the decoder's limit (10000 levels,
// two of which are the answer object and the rows array).
const maxRowDepth = 10000 - 2

// fill reads more of the body, keeping the bytes from keep on (moved to the start of the buffer,
// which grows when they fill it). It returns io.ErrUnexpectedEOF when the body has ended.
func (s *rowStream) fill(keep int) error {
	if s.eof {
		return io.ErrUnexpectedEOF
	}
	n := copy(s.buf, s.buf[keep:s.end])
	s.pos -= keep
	s.end = n
	if s.end == len(s.buf) {
		// One row larger than the buffer: grow it.
		nb := make([]byte, 2*len(s.buf))
		copy(nb, s.buf[:s.end])
		s.buf = nb
	}
	for {
		m, err := s.body.Read(s.buf[s.end:])
		s.end += m
		if err == io.EOF {
			s.eof = true
			if m == 0 {
				return io.ErrUnexpectedEOF
			}
			return nil
		}
		if err != nil {
			return err
		}
		if m > 0 {
			return nil
		}
	}
}

// peek skips white space and returns the next byte, reading more as needed.
func (s *rowStream) peek() (byte, error) {
	for {
		s.pos = skipSpace(s.buf[:s.end], s.pos)
		if s.pos < s.end {
			return s.buf[s.pos], nil
		}
		if err := s.fill(s.pos); err != nil {
			return 0, err
		}
	}
}

// streamRows reads the value of the answer's "rows" member, which starts in pending (what the
// decoder read past the member's name) and continues in body, spooling each row's record. It
// returns what follows the array, rewritten as an object of the members that remain so that the
// decoder can read them: "{" and what follows the comma, or "{}" and what follows.
func (res *response) streamRows(pending []byte, body io.Reader, sp *spool) (io.Reader, error) {
	bp := rowBuffers.Get().(*[]byte)
	s := &rowStream{body: body, buf: *bp}
	defer func() {
		if len(s.buf) == rowStreamBuffer {
			rowBuffers.Put(&s.buf)
		}
	}()
	if len(pending) > len(s.buf) {
		s.buf = make([]byte, len(pending))
	}
	s.end = copy(s.buf, pending)

	c, err := s.peek()
	if err != nil {
		return nil, err
	}
	if c != ':' {
		return nil, syntaxError(c, "after the name rows")
	}
	s.pos++
	if c, err = s.peek(); err != nil {
		return nil, err
	}
	if c != '[' {
		return nil, fmt.Errorf("the answer's rows are %s, not an array", byteKind(c))
	}
	s.pos++
	if c, err = s.peek(); err != nil {
		return nil, err
	}
	if c == ']' {
		s.pos++
	} else {
		if err := res.streamRowObjects(s, sp); err != nil {
			return nil, err
		}
	}
	// What follows the array: more members, or the end of the answer's object.
	if c, err = s.peek(); err != nil {
		return nil, err
	}
	var head []byte
	switch c {
	case ',':
		s.pos++
		if c, err = s.peek(); err != nil {
			return nil, err
		}
		if c != '"' {
			return nil, syntaxError(c, "at the start of a member name")
		}
		head = []byte{'{'}
	case '}':
		head = []byte{'{'}
	default:
		return nil, syntaxError(c, "after the rows array")
	}
	rest := append(head, s.buf[s.pos:s.end]...)
	if s.eof {
		return bytes.NewReader(rest), nil
	}
	return io.MultiReader(bytes.NewReader(rest), body), nil
}

// streamRowObjects reads the rows of a non-empty array up to and including its closing bracket.
func (res *response) streamRowObjects(s *rowStream, sp *spool) error {
	for {
		c, err := s.peek()
		if err != nil {
			return err
		}
		if c != '{' {
			return fmt.Errorf("row %d is %s, not an object", res.rows+1, byteKind(c))
		}
		for {
			var n int
			res.rec, n, err = tokenizeRowJSON(res.rec[:0], &s.unq, &res.names, s.buf[s.pos:s.end])
			if err == nil {
				row := s.buf[s.pos : s.pos+n]
				if err := sp.write(res.rec); err != nil {
					return err
				}
				if res.rows == 0 {
					res.firstRow = append([]byte(nil), row...)
				}
				res.rows++
				s.pos += n
				break
			}
			if err != errNeedMore {
				return fmt.Errorf("row %d: %w", res.rows+1, err)
			}
			// The row goes on past the bytes at hand: read more and take it from its start again.
			if err := s.fill(s.pos); err != nil {
				return err
			}
		}
		if c, err = s.peek(); err != nil {
			return err
		}
		s.pos++
		switch c {
		case ',':
		case ']':
			return nil
		default:
			return syntaxError(c, "after a row")
		}
	}
}

// byteKind names the JSON value that starts with c, for error messages.
func byteKind(c byte) string {
	switch {
	case c == '-' || c >= '0' && c <= '9':
		return kindDesc('0')
	case c == '{' || c == '[' || c == '"' || c == 't' || c == 'f' || c == 'n':
		return kindDesc(jsontext.Kind(c))
	}
	return fmt.Sprintf("invalid character %s", quoteByte(c))
}

func quoteByte(c byte) string {
	if c < utf8.RuneSelf {
		return strconv.QuoteRune(rune(c))
	}
	return fmt.Sprintf("byte %#x", c)
}

// syntaxError describes an unexpected byte.
func syntaxError(c byte, where string) error {
	return fmt.Errorf("invalid character %s %s", quoteByte(c), where)
}

func skipSpace(b []byte, i int) int {
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

// tokenizeRowJSON validates the row object at the start of b and appends its record (see
// rowtoken.go) to rec. It returns the bytes the object takes, or errNeedMore when b ends inside
// it. unq is scratch for unescaped strings.
func tokenizeRowJSON(rec []byte, unq *[]byte, names *rowNames, b []byte) ([]byte, int, error) {
	i := skipSpace(b, 1) // past '{'
	if i >= len(b) {
		return rec, 0, errNeedMore
	}
	if b[i] == '}' {
		return rec, i + 1, nil
	}
	for k := 0; ; k++ {
		if b[i] != '"' {
			return rec, 0, syntaxError(b[i], "at the start of a member name")
		}
		name, j, err := scanString(b, i, unq)
		if err != nil {
			return rec, 0, err
		}
		idx := names.index(name, k)
		if i = skipSpace(b, j); i >= len(b) {
			return rec, 0, errNeedMore
		}
		if b[i] != ':' {
			return rec, 0, syntaxError(b[i], "after a member name")
		}
		if i = skipSpace(b, i+1); i >= len(b) {
			return rec, 0, errNeedMore
		}
		var tag byte
		var val []byte
		switch c := b[i]; {
		case c == '"':
			tag = tagString
			val, j, err = scanString(b, i, unq)
		case c == '{' || c == '[':
			tag = tagRaw
			j, err = skipComposite(b, i, 1, unq)
		case c == '-' || c >= '0' && c <= '9':
			tag = tagNumber
			j, err = scanNumber(b, i)
		case c == 't':
			tag = tagTrue
			j, err = scanLiteral(b, i, "true")
		case c == 'f':
			tag = tagFalse
			j, err = scanLiteral(b, i, "false")
		case c == 'n':
			tag = tagNull
			j, err = scanLiteral(b, i, "null")
		default:
			err = syntaxError(c, "at the start of a value")
		}
		if err != nil {
			return rec, 0, err
		}
		switch tag {
		case tagRaw:
			rec = appendMember(rec, idx, tag, b[i:j])
		case tagNumber:
			rec = appendNumber(rec, idx, b[i:j])
		default:
			rec = appendMember(rec, idx, tag, val)
		}
		if i = skipSpace(b, j); i >= len(b) {
			return rec, 0, errNeedMore
		}
		switch b[i] {
		case ',':
			if i = skipSpace(b, i+1); i >= len(b) {
				return rec, 0, errNeedMore
			}
		case '}':
			return rec, i + 1, nil
		default:
			return rec, 0, syntaxError(b[i], "after a member's value")
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
			return nil, 0, errNeedMore
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
			return nil, 0, syntaxError(c, "in a string")
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
		return 0, errNeedMore
	}
	switch c := b[j]; {
	case c == '0':
		j++
	case c >= '1' && c <= '9':
		j = skipDigits(b, j+1)
	default:
		return 0, syntaxError(c, "in a number")
	}
	if j >= len(b) {
		return 0, errNeedMore
	}
	if b[j] == '.' {
		if j++; j >= len(b) {
			return 0, errNeedMore
		}
		if b[j] < '0' || b[j] > '9' {
			return 0, syntaxError(b[j], "after a number's decimal point")
		}
		if j = skipDigits(b, j+1); j >= len(b) {
			return 0, errNeedMore
		}
	}
	if b[j] == 'e' || b[j] == 'E' {
		if j++; j < len(b) && (b[j] == '+' || b[j] == '-') {
			j++
		}
		if j >= len(b) {
			return 0, errNeedMore
		}
		if b[j] < '0' || b[j] > '9' {
			return 0, syntaxError(b[j], "in a number's exponent")
		}
		if j = skipDigits(b, j+1); j >= len(b) {
			return 0, errNeedMore
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
			return 0, errNeedMore
		}
		if b[i+k] != lit[k] {
			return 0, syntaxError(b[i+k], "in literal "+lit)
		}
	}
	return i + len(lit), nil
}

// skipComposite validates the object or array at b[i] and returns the index after it.
func skipComposite(b []byte, i, depth int, unq *[]byte) (int, error) {
	if depth > maxRowDepth {
		return 0, errors.New("a row's value nests too deep")
	}
	closing := byte(']')
	if b[i] == '{' {
		closing = '}'
	}
	if i = skipSpace(b, i+1); i >= len(b) {
		return 0, errNeedMore
	}
	if b[i] == closing {
		return i + 1, nil
	}
	for {
		if closing == '}' {
			if b[i] != '"' {
				return 0, syntaxError(b[i], "at the start of a member name")
			}
			j, err := skipString(b, i, unq)
			if err != nil {
				return 0, err
			}
			if i = skipSpace(b, j); i >= len(b) {
				return 0, errNeedMore
			}
			if b[i] != ':' {
				return 0, syntaxError(b[i], "after a member name")
			}
			if i = skipSpace(b, i+1); i >= len(b) {
				return 0, errNeedMore
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
			err = syntaxError(c, "at the start of a value")
		}
		if err != nil {
			return 0, err
		}
		if i = skipSpace(b, j); i >= len(b) {
			return 0, errNeedMore
		}
		switch b[i] {
		case ',':
			if i = skipSpace(b, i+1); i >= len(b) {
				return 0, errNeedMore
			}
		case closing:
			return i + 1, nil
		default:
			return 0, syntaxError(b[i], "after a value")
		}
	}
}

// skipString validates the string at b[i] and returns the index after it.
func skipString(b []byte, i int, unq *[]byte) (int, error) {
	_, end, err := scanString(b, i, unq)
	return end, err
}
