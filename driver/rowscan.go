package driver

import (
	"errors"
	"fmt"

	"github.com/go-json-experiment/json/jsontext"
)

// rowScanner takes apart one row object that has already been validated as JSON (the first row,
// kept to check its names against the fields; rowstream.go validated it), so it
// only finds boundaries: where each name and value starts and ends.
type rowScanner struct {
	b   []byte
	i   int
	unq []byte // scratch for unescaped names and strings
}

var errRowSyntax = errors.New("carto driver: a spooled row is not the JSON object that was read")

func (s *rowScanner) reset(b []byte) error {
	s.b, s.i = b, 0
	s.space()
	if s.i >= len(s.b) || s.b[s.i] != '{' {
		return errRowSyntax
	}
	s.i++
	return nil
}

func (s *rowScanner) space() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// name returns the next member's name, unescaped, or ok=false at the end of the object. The
// name is valid until the next call.
func (s *rowScanner) name() (name []byte, ok bool, err error) {
	s.space()
	if s.i < len(s.b) && s.b[s.i] == ',' {
		s.i++
		s.space()
	}
	if s.i >= len(s.b) {
		return nil, false, errRowSyntax
	}
	if s.b[s.i] == '}' {
		return nil, false, nil
	}
	if s.b[s.i] != '"' {
		return nil, false, errRowSyntax
	}
	name, _, err = s.str()
	if err != nil {
		return nil, false, err
	}
	s.space()
	if s.i >= len(s.b) || s.b[s.i] != ':' {
		return nil, false, errRowSyntax
	}
	s.i++
	return name, true, nil
}

// str reads the string at s.i and returns its content, unescaped if need be.
func (s *rowScanner) str() ([]byte, bool, error) {
	start := s.i
	j := start + 1
	escaped := false
	for j < len(s.b) {
		c := s.b[j]
		if c == '"' {
			break
		}
		if c == '\\' {
			escaped = true
			j += 2
			continue
		}
		j++
	}
	if j >= len(s.b) {
		return nil, false, errRowSyntax
	}
	s.i = j + 1
	if !escaped {
		return s.b[start+1 : j], false, nil
	}
	var err error
	s.unq, err = jsontext.AppendUnquote(s.unq[:0], s.b[start:j+1])
	if err != nil {
		return nil, false, fmt.Errorf("carto driver: a spooled row: %w", err)
	}
	return s.unq, true, nil
}

// value returns the next value's JSON kind and bytes: a string's unescaped content, a number's
// text, an object's or array's raw JSON. The bytes are valid until the next call.
func (s *rowScanner) value() (tag byte, val []byte, err error) {
	s.space()
	if s.i >= len(s.b) {
		return 0, nil, errRowSyntax
	}
	switch c := s.b[s.i]; c {
	case '"':
		val, _, err = s.str()
		return tagString, val, err
	case 'n':
		s.i += 4
		return tagNull, nil, nil
	case 't':
		s.i += 4
		return tagTrue, nil, nil
	case 'f':
		s.i += 5
		return tagFalse, nil, nil
	case '{', '[':
		start := s.i
		depth := 0
		for s.i < len(s.b) {
			switch s.b[s.i] {
			case '"':
				if _, _, err := s.str(); err != nil {
					return 0, nil, err
				}
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
			}
			s.i++
			if depth == 0 {
				return tagRaw, s.b[start:s.i], nil
			}
		}
		return 0, nil, errRowSyntax
	default:
		start := s.i
		for s.i < len(s.b) {
			switch s.b[s.i] {
			case ',', '}', ' ', '\t', '\n', '\r':
				return tagNumber, s.b[start:s.i], nil
			}
			s.i++
		}
		return 0, nil, errRowSyntax
	}
}
