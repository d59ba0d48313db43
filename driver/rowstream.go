package driver

import (
	"bytes"
	"fmt"
	"io"
	"sync"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/gocarto/carto/driver/internal/rowrec"
)

// The rows array is read by a scanner of its own rather than by the JSON decoder: one pass over
// each row both validates it (as strictly as the decoder: the JSON grammar, UTF-8, escapes and
// surrogates) and takes it apart into its record (internal/rowrec). Validating with the decoder and
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
		s.pos = rowrec.SkipSpace(s.buf[:s.end], s.pos)
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
		return nil, rowrec.SyntaxError(c, "after the name rows")
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
			return nil, rowrec.SyntaxError(c, "at the start of a member name")
		}
		head = []byte{'{'}
	case '}':
		head = []byte{'{'}
	default:
		return nil, rowrec.SyntaxError(c, "after the rows array")
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
			res.rec, n, err = rowrec.AppendRow(res.rec[:0], &s.unq, &res.names, s.buf[s.pos:s.end])
			if err == nil {
				if err := sp.write(res.rec); err != nil {
					return err
				}
				if res.rows == 0 {
					res.firstRec = append([]byte(nil), res.rec...)
				}
				res.rows++
				s.pos += n
				break
			}
			if err != rowrec.ErrNeedMore {
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
			return rowrec.SyntaxError(c, "after a row")
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
	return fmt.Sprintf("invalid character %s", rowrec.QuoteByte(c))
}
