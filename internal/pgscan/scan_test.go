package pgscan

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// kinds writes the tokens of text as kind:text pairs, blanks left out.
func kinds(t *testing.T, text string) string {
	t.Helper()
	var out []string
	for i := 0; i < len(text); {
		tok, err := Next(text, i)
		if err != nil {
			t.Fatalf("Next(%q, %d): %v", text, i, err)
		}
		if tok.Kind != Space {
			out = append(out, fmt.Sprintf("%s:%s", tok.Kind, text[tok.Start:tok.End]))
		}
		i = tok.End
	}
	return strings.Join(out, " | ")
}

func TestNext(t *testing.T) {
	for _, tt := range []struct{ text, want string }{
		{"select a$1, $2", "identifier:select | identifier:a$1 | punctuation:, | parameter:$2"},
		{"x::text=$1", "identifier:x | punctuation:: | punctuation:: | identifier:text | operator:= | parameter:$1"},
		{`'it''s' '\'`, `string:'it''s' | string:'\'`},
		{`E'\'' e'\\' E'''x'`, `string:E'\'' | string:e'\\' | string:E'''x'`},
		{"N'a''b' B'1' X'1f' U&'\\0061'", "string:N'a''b' | string:B'1' | string:X'1f' | string:U&'\\0061'"},
		{"B'1''0'", "string:B'1' | string:'0'"},
		{"U&\"a\"\"b\" \"c\"", "quoted identifier:U&\"a\"\"b\" | quoted identifier:\"c\""},
		{"u&x", "identifier:u | operator:& | identifier:x"},
		{"type'\\', some_E'\\'", "identifier:type | string:'\\' | punctuation:, | identifier:some_E | string:'\\'"},
		// Continuation: a newline in the blanks (-- comments too) joins the constants and keeps
		// E's escapes; a /* */ comment or no newline does not.
		{"E'a'\n'\\' x'", "string:E'a'\n'\\' x'"},
		{"E'a' -- c\n  -- d\n\t'b'", "string:E'a' -- c\n  -- d\n\t'b'"},
		{"'a'\r'b'\n'c'", "string:'a'\r'b'\n'c'"},
		{"X'1'\n'2'", "string:X'1'\n'2'"},
		{"'a' 'b'", "string:'a' | string:'b'"},
		{"'a' /**/\n'b'", "string:'a' | comment:/**/ | string:'b'"},
		{"'a'\v\n'b'", "string:'a'\v\n'b'"},
		{"'a' --c", "string:'a' | comment:--c"},
		// Dollar quotes and parameters.
		{"$$ $1 $$ $a$ $$ $a$ $_1$x$_1$", "dollar string:$$ $1 $$ | dollar string:$a$ $$ $a$ | dollar string:$_1$x$_1$"},
		{"$1$$ $$", "parameter:$1 | dollar string:$$ $$"},
		{"$ $abc $1", "punctuation:$ | punctuation:$ | identifier:abc | parameter:$1"},
		{"$a$ $b$a$ x", "dollar string:$a$ $b$a$ | identifier:x"},
		// Comments and operators.
		{"/* /* a */ b */c", "comment:/* /* a */ b */ | identifier:c"},
		{"1<--x\n2", "number:1 | operator:< | comment:--x | number:2"},
		{"a+/*x*/-b", "identifier:a | operator:+ | comment:/*x*/ | operator:- | identifier:b"},
		{"a @> b @@ c", "identifier:a | operator:@> | identifier:b | operator:@@ | identifier:c"},
		// Numbers.
		{"1.5e3 .5 1. 1e 1e+ 1..2 1e'x'", "number:1.5e3 | number:.5 | number:1. | number:1 | identifier:e | number:1 | identifier:e | operator:+ | number:1 | punctuation:. | number:.2 | number:1 | string:e'x'"},
		{"é$1 \xff", "identifier:é$1 | identifier:\xff"},
	} {
		if got := kinds(t, tt.text); got != tt.want {
			t.Errorf("%q:\n got %s\nwant %s", tt.text, got, tt.want)
		}
	}
}

func TestNextErrors(t *testing.T) {
	for _, tt := range []struct {
		text, msg string
		offset    int
		junk      bool
	}{
		{"x 'abc", "unterminated quoted string", 2, false},
		{"x 'abc''", "unterminated quoted string", 2, false},
		{`E'abc\'`, "unterminated quoted string", 0, false},
		{`E'abc\`, "unterminated quoted string", 0, false},
		{"'a'\n'b", "unterminated quoted string", 0, false},
		{"B'01", "unterminated bit string literal", 0, false},
		{"x'1f", "unterminated hexadecimal string literal", 0, false},
		{`"abc`, "unterminated quoted identifier", 0, false},
		{`U&"abc`, "unterminated quoted identifier", 0, false},
		{"$$abc", "unterminated dollar-quoted string", 0, false},
		{"$a$abc$b$", "unterminated dollar-quoted string", 0, false},
		{"/* abc", "unterminated /* comment", 0, false},
		{"/* /* */", "unterminated /* comment", 0, false},
		{"$1a", "trailing junk after parameter", 0, true},
		{"$12_", "trailing junk after parameter", 0, true},
		{"$1é", "trailing junk after parameter", 0, true},
	} {
		var err error
		for i := 0; i < len(tt.text) && err == nil; {
			var tok Token
			tok, err = Next(tt.text, i)
			i = tok.End
		}
		var se *Error
		if !errors.As(err, &se) || se.Msg != tt.msg || se.Offset != tt.offset || se.Junk != tt.junk {
			t.Errorf("%q: error %#v, want %q at %d (junk %v)", tt.text, err, tt.msg, tt.offset, tt.junk)
		}
	}
}

func TestContinuation(t *testing.T) {
	for _, tt := range []struct {
		text string
		want int
	}{
		{"\n'", 1}, {" \t\f\n \r\n'", 7}, {" -- c\n'", 6}, {"\n-- c\n'", 6}, {"'", -1}, {"  '", -1},
		{" -- c'", -1}, {"\n/**/'", -1}, {"\n", -1}, {"", -1}, {"\nx'", -1},
	} {
		if got := Continuation(tt.text, 0); got != tt.want {
			t.Errorf("Continuation(%q) = %d, want %d", tt.text, got, tt.want)
		}
	}
}

func TestDollarTag(t *testing.T) {
	for _, tt := range []struct {
		s      string
		length int
		ok     bool
	}{
		{"$", 0, true}, {"a$", 1, true}, {"_x1$", 3, true}, {"é$", 2, true}, {"1$", 0, false},
		{"a", 0, false}, {"a-$", 0, false}, {"", 0, false},
	} {
		if n, ok := DollarTag(tt.s, 0); n != tt.length || ok != tt.ok {
			t.Errorf("DollarTag(%q) = %d, %v; want %d, %v", tt.s, n, ok, tt.length, tt.ok)
		}
	}
}

func TestQuoting(t *testing.T) {
	for _, tt := range []struct{ in, ident, literal string }{
		{`a"b`, `"a""b"`, `'a"b'`},
		{`it's`, `"it's"`, `'it''s'`},
		{`C:\x`, `"C:\x"`, `E'C:\\x'`},
		{`\'`, `"\'"`, `E'\\'''`},
		{"", `""`, "''"},
	} {
		if got := QuoteIdent(tt.in); got != tt.ident {
			t.Errorf("QuoteIdent(%q) = %s, want %s", tt.in, got, tt.ident)
		}
		if got := QuoteLiteral(tt.in); got != tt.literal {
			t.Errorf("QuoteLiteral(%q) = %s, want %s", tt.in, got, tt.literal)
		}
		// What QuoteLiteral writes is one string constant.
		if tok, err := Next(tt.literal, 0); err != nil || tok.Kind != String || tok.End != len(tt.literal) {
			t.Errorf("QuoteLiteral(%q) = %s scans as %+v, %v", tt.in, tt.literal, tok, err)
		}
	}
}
