// Package pgscan is the one PostgreSQL lexical scanner of gocarto. The driver finds its
// placeholders with it, the driver's retry check reads statements with it, migrate splits
// migrations into statements with it, and cartolocal quotes with its helpers.
//
// It follows PostgreSQL's own scanner (src/backend/parser/scan.l) byte by byte, as flex does,
// for the server's defaults (standard_conforming_strings on, as since 9.1 and on CARTO):
//
//   - '...' with a doubled quote for a quote, and the same for N'...' and U&'...' (a backslash
//     ends nothing there). B'...' and X'...' know no doubled quote. E'...' (e or E at the start of
//     a token) also takes backslash escapes, so \' does not end it.
//   - Two string constants separated by whitespace that holds a newline are one constant
//     ('a'<newline>'b' is 'ab'), and the constant keeps its kind: E'a'<newline>'\' ... ' is a
//     single string in which \' is a quote. A String token covers the whole constant.
//   - "..." identifiers, with "" for a quote (U&"..." alike).
//   - $tag$...$tag$ where tag is empty or [A-Za-z_\x80-\xff][A-Za-z0-9_\x80-\xff]*, only at the
//     start of a token; the body ends at the first $tag$.
//   - -- to the end of the line; /* */ nests.
//   - Identifiers and keywords: [A-Za-z_\x80-\xff][A-Za-z0-9_$\x80-\xff]*. A $ inside one is part
//     of the name, so a$1 and a$$ are identifiers, not a parameter or a dollar quote.
//   - $n: a $ at the start of a token followed by digits. Like PostgreSQL 15, a letter right
//     after the digits ($1a) is an error ("trailing junk").
//
// Every byte of a non-ASCII UTF-8 sequence (and any byte from 0x80) counts as a letter, as in
// PostgreSQL. Vertical tab counts as a space (PostgreSQL 16 and later; 15 and older reject it
// outside strings), so before a continuation it leans towards "still in the string".
package pgscan

import (
	"fmt"
	"strings"
)

// Kind is the class of a token.
type Kind uint8

// The kinds of tokens.
const (
	Space       Kind = iota + 1 // blanks: space, tab, newline, carriage return, form feed, vertical tab
	Comment                     // -- up to the end of the line (not included), or /* */ with nesting
	String                      // a string constant of any form, continuations included
	Dollar                      // a dollar-quoted string constant, $tag$...$tag$
	QuotedIdent                 // "..." or U&"..."
	Ident                       // an identifier or keyword
	Number                      // an integer or decimal number, with its exponent
	Param                       // a parameter, $n
	Op                          // a run of operator characters, cut before a -- or /* inside it
	Punct                       // any other single byte: ( ) [ ] , ; : . and bytes PostgreSQL refuses
)

var kindNames = [...]string{"invalid", "space", "comment", "string", "dollar string", "quoted identifier",
	"identifier", "number", "parameter", "operator", "punctuation"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Token is one token of a text: text[Start:End].
type Token struct {
	Kind       Kind
	Start, End int
}

// Error is text the scanner cannot split safely: an unterminated construct, or junk after $n.
type Error struct {
	// Msg is PostgreSQL's own wording, such as "unterminated quoted string" or "trailing junk
	// after parameter".
	Msg string
	// Offset is where the construct starts, in bytes.
	Offset int
	// Junk is set for trailing junk after $n ($1a); otherwise a construct is unterminated.
	Junk bool
}

func (e *Error) Error() string { return fmt.Sprintf("%s (at byte %d)", e.Msg, e.Offset) }

// Next returns the token that starts at text[i]; i must be below len(text). Its End is where
// the next token starts. An error means the text cannot be split beyond i: the construct at i
// is unterminated, or a parameter has junk after it.
func Next(text string, i int) (Token, error) {
	n := len(text)
	c := text[i]
	tok := func(k Kind, end int) (Token, error) { return Token{k, i, end}, nil }
	switch {
	case isSpace(c):
		j := i + 1
		for j < n && isSpace(text[j]) {
			j++
		}
		return tok(Space, j)
	case c == '-' && i+1 < n && text[i+1] == '-':
		return tok(Comment, lineEnd(text, i+2))
	case c == '/' && i+1 < n && text[i+1] == '*':
		end := skipBlockComment(text, i+2)
		if end < 0 {
			return Token{}, &Error{Msg: "unterminated /* comment", Offset: i}
		}
		return tok(Comment, end)
	case c == '\'':
		return scanString(text, i, i+1, plainString)
	case c == '"':
		return scanQuotedIdent(text, i, i+1)
	case c == '$':
		return scanDollar(text, i)
	case IsIdentStart(c):
		if i+1 < n {
			switch c | 0x20 { // lower case
			case 'e':
				if text[i+1] == '\'' {
					return scanString(text, i, i+2, escapeString)
				}
			case 'b', 'x':
				if text[i+1] == '\'' {
					return scanString(text, i, i+2, bitString)
				}
			case 'n':
				if text[i+1] == '\'' {
					return scanString(text, i, i+2, plainString)
				}
			case 'u':
				if text[i+1] == '&' && i+2 < n {
					switch text[i+2] {
					case '\'':
						return scanString(text, i, i+3, plainString)
					case '"':
						return scanQuotedIdent(text, i, i+3)
					}
				}
			}
		}
		j := i + 1
		for j < n && IsIdentCont(text[j]) {
			j++
		}
		return tok(Ident, j)
	case IsDigit(c) || c == '.' && i+1 < n && IsDigit(text[i+1]):
		return tok(Number, scanNumber(text, i))
	case IsOpChar(c):
		j := i + 1
		for j < n && IsOpChar(text[j]) && !startsComment(text, j) {
			j++
		}
		return tok(Op, j)
	default:
		return tok(Punct, i+1)
	}
}

// stringMode is how the body of a string constant reads.
type stringMode uint8

const (
	plainString  stringMode = iota // '' is a quote
	escapeString                   // '' is a quote, and a backslash escapes the next byte
	bitString                      // B'...' and X'...': a quote always ends the body
)

// scanString returns the String token that starts at start and whose body starts at body,
// continuations included.
func scanString(text string, start, body int, mode stringMode) (Token, error) {
	n := len(text)
	i := body
	for {
		q := -1
		if mode == escapeString {
			for j := i; j < n; j++ {
				if text[j] == '\\' {
					j++
				} else if text[j] == '\'' {
					q = j
					break
				}
			}
		} else if k := strings.IndexByte(text[i:], '\''); k >= 0 {
			q = i + k
		}
		if q < 0 {
			msg := "unterminated quoted string"
			if mode == bitString {
				msg = "unterminated bit string literal"
				if text[start]|0x20 == 'x' {
					msg = "unterminated hexadecimal string literal"
				}
			}
			return Token{}, &Error{Msg: msg, Offset: start}
		}
		if mode != bitString && q+1 < n && text[q+1] == '\'' {
			i = q + 2
			continue
		}
		if k := Continuation(text, q+1); k >= 0 {
			i = k + 1
			continue
		}
		return Token{String, start, q + 1}, nil
	}
}

// Continuation reports whether the text at i, just after the closing quote of a string
// constant, continues that constant: PostgreSQL's {whitespace_with_newline}{quote}, that is
// spaces, tabs, form feeds and -- comments, at least one newline, then a quote. It returns the
// index of that quote, or -1. Code that writes a string constant into a query asks it whether
// what follows would join the constant.
func Continuation(text string, i int) int {
	newline := false
	for i < len(text) {
		switch c := text[i]; {
		case c == ' ' || c == '\t' || c == '\f' || c == '\v':
			i++
		case c == '\n' || c == '\r':
			newline = true
			i++
		case c == '-' && i+1 < len(text) && text[i+1] == '-':
			// A comment counts only when a newline ends it.
			k := lineEnd(text, i+2)
			if k == len(text) {
				return -1
			}
			i = k
		case c == '\'' && newline:
			return i
		default:
			return -1
		}
	}
	return -1
}

// scanQuotedIdent returns the QuotedIdent token that starts at start and whose body starts at
// body.
func scanQuotedIdent(text string, start, body int) (Token, error) {
	i := body
	for {
		k := strings.IndexByte(text[i:], '"')
		if k < 0 {
			return Token{}, &Error{Msg: "unterminated quoted identifier", Offset: start}
		}
		i += k + 1
		if i < len(text) && text[i] == '"' {
			i++
			continue
		}
		return Token{QuotedIdent, start, i}, nil
	}
}

// scanDollar returns the token that starts with the $ at text[i]: a parameter, a dollar-quoted
// string, or a lone $.
func scanDollar(text string, i int) (Token, error) {
	n := len(text)
	if i+1 < n && IsDigit(text[i+1]) {
		j := i + 1
		for j < n && IsDigit(text[j]) {
			j++
		}
		if j < n && IsIdentStart(text[j]) {
			return Token{}, &Error{Msg: "trailing junk after parameter", Offset: i, Junk: true}
		}
		return Token{Param, i, j}, nil
	}
	tagLen, ok := DollarTag(text, i+1)
	if !ok {
		return Token{Punct, i, i + 1}, nil // a lone $: a syntax error for the server
	}
	delim := text[i : i+tagLen+2] // $tag$
	body := i + len(delim)
	k := strings.Index(text[body:], delim)
	if k < 0 {
		return Token{}, &Error{Msg: "unterminated dollar-quoted string", Offset: i}
	}
	return Token{Dollar, i, body + k + len(delim)}, nil
}

// scanNumber returns the end of the number that starts at text[i]: digits, a decimal point
// (not one followed by another, as in 1..2) and digits, and an exponent when digits follow the
// e. In 1e'x' the number is 1 and e'x' a string, as PostgreSQL 14 and older read it (15 and
// later refuse it).
func scanNumber(text string, i int) int {
	n := len(text)
	for i < n && IsDigit(text[i]) {
		i++
	}
	if i < n && text[i] == '.' && !(i+1 < n && text[i+1] == '.') {
		i++
		for i < n && IsDigit(text[i]) {
			i++
		}
	}
	if i < n && text[i]|0x20 == 'e' {
		j := i + 1
		if j < n && (text[j] == '+' || text[j] == '-') {
			j++
		}
		if j < n && IsDigit(text[j]) {
			for j < n && IsDigit(text[j]) {
				j++
			}
			i = j
		}
	}
	return i
}

// skipBlockComment returns the index just past the */ that closes a /* comment whose body
// starts at i, counting nested /* */ pairs, or -1.
func skipBlockComment(s string, i int) int {
	depth := 1
	for i+1 < len(s) {
		switch {
		case s[i] == '/' && s[i+1] == '*':
			depth++
			i += 2
		case s[i] == '*' && s[i+1] == '/':
			depth--
			i += 2
			if depth == 0 {
				return i
			}
		default:
			i++
		}
	}
	return -1
}

// lineEnd returns the index of the first \n or \r at or after i, or len(s).
func lineEnd(s string, i int) int {
	if k := strings.IndexAny(s[i:], "\n\r"); k >= 0 {
		return i + k
	}
	return len(s)
}

func startsComment(s string, i int) bool {
	return i+1 < len(s) && (s[i] == '-' && s[i+1] == '-' || s[i] == '/' && s[i+1] == '*')
}

// DollarTag reports whether s[i:] starts with an optional tag and a $, the rest of a $tag$
// delimiter whose first $ is s[i-1], and returns the tag's length.
func DollarTag(s string, i int) (int, bool) {
	for j := i; j < len(s); j++ {
		c := s[j]
		switch {
		case c == '$':
			return j - i, true
		case IsIdentStart(c), j > i && IsDigit(c):
		default:
			return 0, false
		}
	}
	return 0, false
}

// IsDigit reports whether c is an ASCII digit.
func IsDigit(c byte) bool { return '0' <= c && c <= '9' }

// IsIdentStart is PostgreSQL's ident_start (and dolq_start): any byte of a non-ASCII UTF-8
// sequence counts as a letter.
func IsIdentStart(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '_' || c >= 0x80
}

// IsIdentCont is PostgreSQL's ident_cont: what may follow the first byte of an identifier.
func IsIdentCont(c byte) bool { return IsIdentStart(c) || IsDigit(c) || c == '$' }

// IsOpChar is PostgreSQL's op_chars: the characters operators are made of.
func IsOpChar(c byte) bool { return strings.IndexByte("~!@#^&|`?+-*/%<>=", c) >= 0 }

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'
}
