package driver

import (
	"fmt"
	"math"
	"strings"
)

// The lexer finds the placeholders of a query: $n and @name outside string constants, quoted
// identifiers, dollar-quoted bodies and comments. It follows PostgreSQL's own scanner
// (src/backend/parser/scan.l) byte by byte, as flex does, for the server's defaults
// (standard_conforming_strings on, as since 9.1 and on CARTO). The rules that matter:
//
//   - '...' with '' for a quote; the same for N'...', B'...', X'...' and U&'...' (a backslash
//     ends nothing there). E'...' (e or E at the start of a token) also takes backslash
//     escapes, so \' does not end it.
//   - Two string constants separated by whitespace that holds a newline are one constant
//     ('a'<newline>'b' is 'ab'), and an E'...' constant continued that way stays an E'...'
//     constant: E'a'<newline>'\' ... ' is a single string in which \' is a quote. pgx's
//     sanitizer (v5.12.0) misses this and substitutes an argument inside such a string.
//   - "..." identifiers, with "" for a quote (U&"..." alike).
//   - $tag$...$tag$ where tag is empty or [A-Za-z_\x80-\xff][A-Za-z0-9_\x80-\xff]*, only at the
//     start of a token; the body ends at the first $tag$.
//   - -- to the end of the line; /* */ nests.
//   - Identifiers and keywords: [A-Za-z_\x80-\xff][A-Za-z0-9_$\x80-\xff]*. A $ inside one is part
//     of the name, so a$1 and a$$ are identifiers, not a placeholder or a dollar quote.
//   - $n: a $ at the start of a token followed by digits. Like PostgreSQL 15, a letter right
//     after the digits ($1a) is an error ("trailing junk").
//   - @name: an @ that starts a token (it does not follow an operator character, a letter, a
//     digit or _ or $), followed by a name that starts like an identifier: in "a @@ b", "x @> y",
//     "x=@y" and "a@b" the @ belongs to an operator or follows a name, so none of them holds a
//     placeholder. Whether @name is a placeholder at all depends on the arguments: only named
//     arguments (sql.Named) turn it into one, since @ is also PostgreSQL's absolute-value
//     operator (@x is abs(x)).
//
// There are no ? placeholders: ?, ?| and ?& are jsonb operators.

// placeholder is one $n or @name in a query: query[start:end] is its text.
type placeholder struct {
	start, end int
	num        int    // n of $n (clamped to math.MaxInt32); 0 for @name
	name       string // name of @name; "" for $n
}

// lexError is a query the lexer cannot split safely.
type lexError struct {
	msg    string
	offset int  // byte offset in the query
	junk   bool // trailing junk after $n, rather than an unterminated construct
}

func (e *lexError) Error() string {
	return fmt.Sprintf("carto driver: %s (at byte %d of the query)", e.msg, e.offset)
}

// lexPlaceholders returns the placeholders of query in order. The error reports an unterminated
// string, identifier, dollar quote or comment, or junk after $n; placeholders before it are
// returned too.
func lexPlaceholders(query string) ([]placeholder, error) {
	var phs []placeholder
	n := len(query)
	// prev is the class of the byte before i when that byte ends a token that an @ would join or
	// follow: an operator character or a name/number/placeholder character.
	const (
		prevNone = iota
		prevOp
		prevWord
	)
	prev := prevNone
	for i := 0; i < n; {
		c := query[i]
		switch {
		case c == '\'':
			end := skipQuoted(query, i+1, '\'')
			if end < 0 {
				return phs, &lexError{"unterminated quoted string", i, false}
			}
			i, prev = end, prevNone
		case c == '"':
			end := skipQuoted(query, i+1, '"')
			if end < 0 {
				return phs, &lexError{"unterminated quoted identifier", i, false}
			}
			i, prev = end, prevNone
		case (c == 'e' || c == 'E') && i+1 < n && query[i+1] == '\'':
			end := skipEscapeString(query, i+2)
			if end < 0 {
				return phs, &lexError{"unterminated quoted string", i, false}
			}
			i, prev = end, prevNone
		case isIdentStart(c):
			i++
			for i < n && isIdentCont(query[i]) {
				i++
			}
			prev = prevWord
		case isDigit(c):
			// Only the digits: in "1e'x'" the scanner of PostgreSQL 14 and older returns 1 and
			// then an E'...' string (15 and later reject it); either way e' starts a string.
			i++
			for i < n && isDigit(query[i]) {
				i++
			}
			prev = prevWord
		case c == '$':
			if i+1 < n && isDigit(query[i+1]) {
				j, num := i+1, 0
				for j < n && isDigit(query[j]) {
					if num > (math.MaxInt32-9)/10 {
						num = math.MaxInt32 // far beyond any argument list; reported as missing
					} else {
						num = num*10 + int(query[j]-'0')
					}
					j++
				}
				if j < n && isIdentStart(query[j]) {
					return phs, &lexError{fmt.Sprintf("trailing junk after placeholder %s", query[i:j]), i, true}
				}
				phs = append(phs, placeholder{start: i, end: j, num: num})
				i, prev = j, prevWord
				continue
			}
			if tagLen, ok := dollarTag(query, i+1); ok {
				delim := query[i : i+tagLen+2] // $tag$
				body := i + len(delim)
				k := strings.Index(query[body:], delim)
				if k < 0 {
					return phs, &lexError{"unterminated dollar-quoted string", i, false}
				}
				i, prev = body+k+len(delim), prevNone
				continue
			}
			i, prev = i+1, prevNone // a lone $: a syntax error for the server
		case c == '-' && i+1 < n && query[i+1] == '-':
			i += 2
			for i < n && query[i] != '\n' && query[i] != '\r' {
				i++
			}
			prev = prevNone
		case c == '/' && i+1 < n && query[i+1] == '*':
			end := skipBlockComment(query, i+2)
			if end < 0 {
				return phs, &lexError{"unterminated /* comment", i, false}
			}
			i, prev = end, prevNone
		case c == '@' && prev == prevNone && i+1 < n && isIdentStart(query[i+1]):
			j := i + 2
			for j < n && isIdentCont(query[j]) {
				j++
			}
			phs = append(phs, placeholder{start: i, end: j, name: query[i+1 : j]})
			i, prev = j, prevWord
		case isOpChar(c):
			i, prev = i+1, prevOp
		default:
			i, prev = i+1, prevNone
		}
	}
	return phs, nil
}

// skipQuoted returns the index just past the quote that closes a '...' string or "..."
// identifier whose body starts at i, or -1 when there is none. A doubled quote is part of the
// body.
func skipQuoted(s string, i int, quote byte) int {
	for {
		k := strings.IndexByte(s[i:], quote)
		if k < 0 {
			return -1
		}
		i += k + 1
		if i < len(s) && s[i] == quote {
			i++
			continue
		}
		return i
	}
}

// skipEscapeString returns the index just past the end of an E'...' string whose body starts at
// i, or -1 when it is unterminated. A backslash escapes the next byte (so \' is a quote), and a
// continuation (see quoteContinuation) keeps the constant, and its escapes, going.
func skipEscapeString(s string, i int) int {
	n := len(s)
	for i < n {
		switch s[i] {
		case '\\':
			i += 2
		case '\'':
			if i+1 < n && s[i+1] == '\'' {
				i += 2
				continue
			}
			if k := quoteContinuation(s, i+1); k >= 0 {
				i = k + 1
				continue
			}
			return i + 1
		default:
			i++
		}
	}
	return -1
}

// quoteContinuation reports whether the text at i, just after the closing quote of a string
// constant, continues that constant: PostgreSQL's {whitespace_with_newline}{quote}, that is
// spaces, tabs, form feeds and -- comments, at least one newline, then a quote. It returns the
// index of that quote, or -1. Vertical tab counts as a space (PostgreSQL 16 and later); for 15
// and older a vertical tab there is a syntax error, so leaning towards "still in the string"
// can only keep a placeholder from being replaced, never replace one inside a string.
func quoteContinuation(s string, i int) int {
	newline := false
	for i < len(s) {
		switch c := s[i]; {
		case c == ' ' || c == '\t' || c == '\f' || c == '\v':
			i++
		case c == '\n' || c == '\r':
			newline = true
			i++
		case c == '-' && i+1 < len(s) && s[i+1] == '-':
			// A comment counts only when a newline ends it.
			k := strings.IndexAny(s[i+2:], "\n\r")
			if k < 0 {
				return -1
			}
			i += 2 + k
		case c == '\'' && newline:
			return i
		default:
			return -1
		}
	}
	return -1
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

// dollarTag reports whether s[i:] starts with an optional tag and a $, the rest of a $tag$
// delimiter whose first $ is s[i-1], and returns the tag's length.
func dollarTag(s string, i int) (int, bool) {
	for j := i; j < len(s); j++ {
		c := s[j]
		switch {
		case c == '$':
			return j - i, true
		case isIdentStart(c), j > i && isDigit(c):
		default:
			return 0, false
		}
	}
	return 0, false
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// isIdentStart is PostgreSQL's ident_start (and dolq_start): any byte of a non-ASCII UTF-8
// sequence counts as a letter.
func isIdentStart(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '_' || c >= 0x80
}

// isIdentCont is PostgreSQL's ident_cont.
func isIdentCont(c byte) bool { return isIdentStart(c) || isDigit(c) || c == '$' }

// isOpChar is PostgreSQL's op_chars: the characters operators are made of.
func isOpChar(c byte) bool { return strings.IndexByte("~!@#^&|`?+-*/%<>=", c) >= 0 }
