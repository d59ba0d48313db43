package maps

import "strings"

// sqlState is where a position of SQL text is, lexically: the context a placeholder's value is
// written into, which decides how it must be quoted to stay inside that context.
type sqlState int

const (
	stNormal       sqlState = iota // outside any string, identifier or comment
	stString                       // '...' (also N'', B'', X''): '' is a quote
	stEString                      // E'...': backslash escapes, '' is a quote
	stUString                      // U&'...': backslash starts a Unicode escape
	stIdent                        // "..." (also U&"..."): "" is a quote
	stDollar                       // $tag$...$tag$: nothing is special but the closing tag
	stLineComment                  // -- to the end of the line
	stBlockComment                 // /* ... */, nested
)

// sqlScanner follows PostgreSQL's lexer just far enough to know which sqlState each byte is in.
// It is fed the template text around placeholders and never the values, which are written to be
// inert in the state they land in.
type sqlScanner struct {
	state sqlState
	tag   string // the closing tag of a dollar-quoted string
	depth int    // block comment nesting
	prev  byte   // last byte seen in stNormal, to tell E'' from name'' and $tag$ from a$b
}

// identByte reports whether c continues an identifier (so E, U&, $ after it are not openers).
func identByte(c byte) bool {
	return c == '_' || c == '$' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80
}

// feed advances the scanner over s.
func (sc *sqlScanner) feed(s string) {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch sc.state {
		case stNormal:
			switch {
			case c == '\'':
				sc.state = stString
				if sc.prev == 'E' || sc.prev == 'e' {
					sc.state = stEString
				}
			case c == '"':
				sc.state = stIdent
			case c == '-' && i+1 < len(s) && s[i+1] == '-':
				sc.state = stLineComment
				i++
			case c == '/' && i+1 < len(s) && s[i+1] == '*':
				sc.state, sc.depth = stBlockComment, 1
				i++
			case c == '&' && i+1 < len(s) && s[i+1] == '\'' && (sc.prev == 'U' || sc.prev == 'u'):
				sc.state = stUString
				i++
			case c == '$' && !identByte(sc.prev):
				if tag, ok := dollarTag(s[i:]); ok {
					sc.state, sc.tag = stDollar, tag
					i += len(tag) - 1
				}
			}
			// prev only marks a prefix letter that starts a token (E'', U&''): a letter inside
			// an identifier (abcE'x' is an identifier then a string) must not count.
			if sc.state == stNormal {
				if (c == 'E' || c == 'e' || c == 'U' || c == 'u') && identByte(sc.prev) {
					sc.prev = 'x'
				} else {
					sc.prev = c
				}
			} else {
				sc.prev = 0
			}
		case stString, stUString:
			if c == '\'' {
				if i+1 < len(s) && s[i+1] == '\'' {
					i++
				} else {
					sc.state = stNormal
				}
			}
		case stEString:
			switch c {
			case '\\':
				i++
			case '\'':
				if i+1 < len(s) && s[i+1] == '\'' {
					i++
				} else {
					sc.state = stNormal
				}
			}
		case stIdent:
			if c == '"' {
				if i+1 < len(s) && s[i+1] == '"' {
					i++
				} else {
					sc.state = stNormal
				}
			}
		case stDollar:
			if c == '$' && strings.HasPrefix(s[i:], sc.tag) {
				i += len(sc.tag) - 1
				sc.state, sc.tag = stNormal, ""
			}
		case stLineComment:
			if c == '\n' || c == '\r' {
				sc.state = stNormal
			}
		case stBlockComment:
			switch {
			case c == '/' && i+1 < len(s) && s[i+1] == '*':
				sc.depth++
				i++
			case c == '*' && i+1 < len(s) && s[i+1] == '/':
				sc.depth--
				i++
				if sc.depth == 0 {
					sc.state = stNormal
				}
			}
		}
	}
}

// dollarTag returns the $tag$ that s starts with, if it is one.
func dollarTag(s string) (string, bool) {
	for j := 1; j < len(s); j++ {
		c := s[j]
		if c == '$' {
			return s[:j+1], true
		}
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80 || j > 1 && c >= '0' && c <= '9') {
			return "", false
		}
	}
	return "", false
}
