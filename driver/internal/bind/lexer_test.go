package bind

import (
	"slices"
	"strings"
	"testing"
)

// phText lists the placeholders lexPlaceholders finds, as their text.
func phText(t *testing.T, query string) []string {
	t.Helper()
	phs, err := lexPlaceholders(query)
	if err != nil {
		t.Fatalf("lexPlaceholders(%q): %v", query, err)
	}
	var out []string
	for _, ph := range phs {
		out = append(out, query[ph.start:ph.end])
	}
	return out
}

func TestLexPlaceholders(t *testing.T) {
	tests := []struct {
		query string
		want  []string
	}{
		{"", nil},
		{"select 1", nil},
		{"select $1", []string{"$1"}},
		{"select $1, $2, $10", []string{"$1", "$2", "$10"}},
		{"$1+$2*$1", []string{"$1", "$2", "$1"}},
		{"select $01", []string{"$01"}},
		{"select $0", []string{"$0"}},
		{"select ($1)", []string{"$1"}},
		{"select 1-$1", []string{"$1"}},
		{"x=$1", []string{"$1"}},
		{"x::text=$1::text", []string{"$1"}},

		// Strings: nothing inside is a placeholder.
		{"select '$1', $2", []string{"$2"}},
		{"select 'it''s $1', $2", []string{"$2"}},
		{"select '''', $1", []string{"$1"}},
		{"select '', $1", []string{"$1"}},
		{`select '\', $1`, []string{"$1"}}, // standard_conforming_strings: a backslash ends nothing
		{`select 'a\'||$1`, []string{"$1"}},
		{"select N'$1', $2", []string{"$2"}},
		{"select B'101', X'1F', $1", []string{"$1"}},
		{"select U&'d\\0061t$1', $2", []string{"$2"}},
		{"select U&'d!0061t$1' UESCAPE '!', $2", []string{"$2"}},
		{"select '--', $1", []string{"$1"}},
		{"select '/*', $1, '*/'", []string{"$1"}},
		{"select 'a\nb $1', $2", []string{"$2"}},

		// E'' strings: backslash escapes.
		{`select E'\'$1', $2`, []string{"$2"}},
		{`select e'\'$1', $2`, []string{"$2"}},
		{`select E'\\', $1`, []string{"$1"}},
		{`select E'''$1', $2`, []string{"$2"}},
		{`select E'\\\'$1', $2`, []string{"$2"}},
		// A name ending in e is no E'' prefix: 'x\' is a standard string.
		{`select type'\', $1`, []string{"$1"}},
		{`select some_E'\', $1`, []string{"$1"}},
		// After a number, e' starts an E'' string (PostgreSQL 14 lexes 1 then E'...').
		{`select 1e'\'$1', $2`, []string{"$2"}},

		// String continuation: an E'' constant continued on a new line keeps its escapes.
		{"select E'a'\n'\\' , $1 --'\n, $2", []string{"$2"}},
		{"select E'a'\r'\\' , $1 --'\n, $2", []string{"$2"}},
		{"select E'a'  \t\n  \n '\\' , $1 --'\n, $2", []string{"$2"}},
		{"select E'a' -- c $3\n'\\' , $1 --'\n, $2", []string{"$2"}},
		{"select E'a'\n-- c $3\n'\\' , $1 --'\n, $2", []string{"$2"}},
		{"select E'a'\v\n'\\' , $1 --'\n, $2", []string{"$2"}},
		{"select E'a'\n'b'\n'\\' , $1 --'\n, $2", []string{"$2"}},
		// Without a newline there is no continuation: '\' is standard.
		{"select E'a' '\\' , $1 --'\n, $2", []string{"$1", "$2"}},
		// A /* */ comment ends the chance of continuation.
		{"select E'a' /**/\n'\\' , $1 --'\n, $2", []string{"$1", "$2"}},
		// A plain string continued: no escapes either way.
		{"select 'a'\n'\\' , $1", []string{"$1"}},

		// Quoted identifiers.
		{`select "$1", $2`, []string{"$2"}},
		{`select "a""$1", $2`, []string{"$2"}},
		{`select U&"$1", $2`, []string{"$2"}},
		{`select "a"$1`, []string{"$1"}},

		// Dollar quotes.
		{"select $$ $1 $$, $2", []string{"$2"}},
		{"select $$$$, $1", []string{"$1"}},
		{"select $tag$ $1 $$ $2 $tag$, $3", []string{"$3"}},
		{"select $a$ $b$ $1 $a$, $2", []string{"$2"}},
		{"select $_x1$ $1 $_x1$, $2", []string{"$2"}},
		{"select $Tag$ $1 $tag$ $2 $Tag$, $3", []string{"$3"}}, // tags are case-sensitive
		{"select $é$ $1 $é$, $2", []string{"$2"}},
		{"select $a$ '$a$, $1", []string{"$1"}},
		{"select $a$ $$a$ $1", []string{"$1"}},
		{"select $1$$ $2 $$", []string{"$1"}},
		{"select $ $1", []string{"$1"}},
		{"select $abc $1", []string{"$1"}},
		// Inside a name, $ is part of the name: no dollar quote, no placeholder.
		{"select a$1, $2", []string{"$2"}},
		{"select a$$ $1 $$ $$", []string{"$1"}},
		{"select a$b$ $1", []string{"$1"}},
		{"select é$1, $2", []string{"$2"}},
		{"select _$1, $2", []string{"$2"}},
		// After a number a $ starts a token.
		{"select 1$1", []string{"$1"}},

		// Comments.
		{"select $1 -- $2", []string{"$1"}},
		{"select $1 -- $2\n, $3", []string{"$1", "$3"}},
		{"select $1 -- $2\r, $3", []string{"$1", "$3"}},
		{"select $1--$2", []string{"$1"}},
		{"select 1<--$1\n$2", []string{"$2"}},
		{"select $1 /* $2 */ $3", []string{"$1", "$3"}},
		{"select /* /* $1 */ $2 */ $3", []string{"$3"}},
		{"select /**/ $1", []string{"$1"}},
		{"select /*/ $1 */ $2", []string{"$2"}},
		{"select /* **/ $1", []string{"$1"}},
		{"select /* */* $1", []string{"$1"}},
		{"select 1+/*$1*/$2", []string{"$2"}},
		{"select '/*' $1 '*/'", []string{"$1"}},
		{"select $$--$$, $1", []string{"$1"}},

		// Named placeholders.
		{"select @name", []string{"@name"}},
		{"select @a, @b_2, @c$d", []string{"@a", "@b_2", "@c$d"}},
		{"select (@a)", []string{"@a"}},
		{"select f(@a,@b)", []string{"@a", "@b"}},
		{"select @é", []string{"@é"}},
		{"select '@a', \"@b\", $$@c$$, @d -- @e", []string{"@d"}},
		{"select /**/@a", []string{"@a"}},
		// Operators: @@, @>, <@, @-@, x=@y: the @ is part of an operator.
		{"select a @@ b", nil},
		{"select a @@b", nil},
		{"select a @> b, b <@ a", nil},
		{"select a @>b, b <@a", nil},
		{"select @-@ a", nil},
		{"select x=@y", nil},
		{"select x = @y", []string{"@y"}},
		{"select @@a", nil},
		{"select @ a", nil},
		{"select @1", nil},
		// After a name or a number.
		{"select a@b", nil},
		{"select 1@b", nil},
		{"select @a@b", []string{"@a"}},

		// ? is no placeholder.
		{"select j ? 'k', j ?| array['a'], j ?& array['b'], $1", []string{"$1"}},

		// Casts and sqlx-style text.
		{"select $1::text, :name, ::name", []string{"$1"}},

		// Non-ASCII and invalid UTF-8 bytes are name bytes.
		{"select 'é', $1 -- ü", []string{"$1"}},
		{"select \xff$1, $2", []string{"$2"}},
	}
	for _, tt := range tests {
		if got := phText(t, tt.query); !slices.Equal(got, tt.want) {
			t.Errorf("lexPlaceholders(%q) = %q, want %q", tt.query, got, tt.want)
		}
	}
}

func TestLexPlaceholderNumbers(t *testing.T) {
	for _, tt := range []struct {
		query string
		num   int
	}{
		{"$1", 1}, {"$01", 1}, {"$0", 0}, {"$65535", 65535},
		{"$2147483647", 2147483647}, {"$99999999999999999999999", 2147483647},
	} {
		phs, err := lexPlaceholders(tt.query)
		if err != nil || len(phs) != 1 || phs[0].num != tt.num || phs[0].name != "" {
			t.Errorf("lexPlaceholders(%q) = %+v, %v; want num %d", tt.query, phs, err, tt.num)
		}
	}
}

func TestLexErrors(t *testing.T) {
	for _, tt := range []struct{ query, msg string }{
		{"select 'abc", "unterminated quoted string"},
		{"select 'abc''", "unterminated quoted string"},
		{`select E'abc\'`, "unterminated quoted string"},
		{`select E'abc\`, "unterminated quoted string"},
		{"select E'a'\n'b", "unterminated quoted string"},
		{`select "abc`, "unterminated quoted identifier"},
		{"select $$abc", "unterminated dollar-quoted string"},
		{"select $a$abc$b$", "unterminated dollar-quoted string"},
		{"select /* abc", "unterminated /* comment"},
		{"select /* /* */", "unterminated /* comment"},
		{"select $1a", "trailing junk after placeholder $1"},
		{"select $12_", "trailing junk after placeholder $12"},
		{"select $1é", "trailing junk after placeholder $1"},
	} {
		_, err := lexPlaceholders(tt.query)
		if err == nil || !strings.Contains(err.Error(), tt.msg) {
			t.Errorf("lexPlaceholders(%q) error = %v, want %q", tt.query, err, tt.msg)
		}
	}
	// A line comment needs no newline at the end.
	if got := phText(t, "select $1 -- the end"); !slices.Equal(got, []string{"$1"}) {
		t.Errorf("got %q", got)
	}
}
