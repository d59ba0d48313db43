package bind

import (
	"database/sql"
	"database/sql/driver"
	"math"
	"strings"
	"testing"
	"time"
)

// pos makes positional arguments as database/sql passes them.
func pos(vals ...any) []driver.NamedValue {
	args := make([]driver.NamedValue, len(vals))
	for i, v := range vals {
		args[i] = driver.NamedValue{Ordinal: i + 1, Value: v}
	}
	return args
}

// named makes named arguments from name, value pairs.
func namedArgs(pairs ...any) []driver.NamedValue {
	var args []driver.NamedValue
	for i := 0; i < len(pairs); i += 2 {
		args = append(args, driver.NamedValue{Ordinal: i/2 + 1, Name: pairs[i].(string), Value: pairs[i+1]})
	}
	return args
}

func TestInterpolate(t *testing.T) {
	tests := []struct {
		query string
		args  []driver.NamedValue
		want  string
	}{
		{"select 1", nil, "select 1"},
		{"select '$1'", nil, "select '$1'"},
		{"select @x", nil, "select @x"},
		{"select 'unterminated $1", nil, "select 'unterminated $1"},
		{"select $1", pos(int64(1)), "select  1 "},
		{"select $1, $2, $1", pos("a", int64(2)), "select  'a' ,  2 ,  'a' "},
		{"select $2, $1", pos("a", "b"), "select  'b' ,  'a' "},
		{"select $01", pos(true), "select  true "},
		{"select '$1', $1", pos(nil), "select '$1',  NULL "},
		{"select $1 -- $2", pos(int64(1)), "select  1  -- $2"},
		{"select $1::text", pos(int64(-5)), "select  (-5) ::text"},
		// GHSA-m7wr-2xf7-cm9p: the padding keeps 1-$1 with -1 from becoming a comment.
		{"select 1-$1", pos(int64(-1)), "select 1- (-1) "},
		{"select 1-$1", pos(-1.5), "select 1- ('-1.5'::float8) "},
		{"select $1[1]", pos([]int64{1, 2}), "select  (ARRAY[1,2]::int8[]) [1]"},
		{"select $1$$ x $$", pos(int64(1)), "select  1 $$ x $$"},
		// Named.
		{"select @a, @b, @a", namedArgs("a", int64(1), "b", "x"), "select  1 ,  'x' ,  1 "},
		{"select x = @a and y @> @b", namedArgs("a", int64(1), "b", "x"), "select x =  1  and y @>  'x' "},
		{"select ts @@ @q", namedArgs("q", "cat"), "select ts @@  'cat' "},
		{"select @a::text, '@a'", namedArgs("a", int64(1)), "select  1 ::text, '@a'"},
		// Positional arguments leave @name alone: it is the @ operator.
		{"select @x, $1", pos(int64(1)), "select @x,  1 "},
		// A literal ending in a quote followed by a newline and a quote gets /**/ so that
		// PostgreSQL does not continue it into the next string.
		{"select $1\n'x'", pos(`a\b`), "select  E'a\\\\b'/**/ \n'x'"},
		{"select $1 -- c\n 'x'", pos(`a\b`), "select  E'a\\\\b'/**/  -- c\n 'x'"},
		{"select $1 'x'", pos(`a\b`), "select  E'a\\\\b'  'x'"},
		{"select $1\n'x'", pos(`ab`), "select  'ab'/**/ \n'x'"},
		{"select $1\n'x'", pos([]any{}), "select  '{}'/**/ \n'x'"},
		{"select $1\n'x'", pos(1.5), "select  ('1.5'::float8) \n'x'"},
		// The same before the literal: 'a'<newline>$1 must not become 'a'<newline>'b', which
		// PostgreSQL reads as 'ab' (issue 9 item 11), whether the string before is the query's
		// or another argument's.
		{"select 'a'\n$1", pos("b"), "select 'a'\n/**/ 'b' "},
		{"select 'a' -- c\n  $1", pos("b"), "select 'a' -- c\n  /**/ 'b' "},
		{"select E'a\\\\'\n$1", pos("b"), "select E'a\\\\'\n/**/ 'b' "},
		{"select $1\n$2", pos("a", "b"), "select  'a' \n/**/ 'b' "},
		{"select @x\n@y", namedArgs("x", "a", "y", "b"), "select  'a' \n/**/ 'b' "},
		{"select 'a' $1", pos("b"), "select 'a'  'b' "},
		{"select 'a' /**/\n$1", pos("b"), "select 'a' /**/\n 'b' "},
		{"select 'a'\n$1", pos(`b\`), "select 'a'\n E'b\\\\' "},
		{"select 'a'\n$1", pos(int64(1)), "select 'a'\n 1 "},
		{"select 1.5\n$1", pos(int64(1)), "select 1.5\n 1 "},
		{"select $1\n$2", pos(int64(1), "b"), "select  1 \n 'b' "},
	}
	for _, tt := range tests {
		got, err := Interpolate(tt.query, tt.args)
		if err != nil {
			t.Errorf("Interpolate(%q, %v): %v", tt.query, tt.args, err)
			continue
		}
		if got != tt.want {
			t.Errorf("Interpolate(%q, %v)\n got %q\nwant %q", tt.query, tt.args, got, tt.want)
		}
	}
}

func TestInterpolateErrors(t *testing.T) {
	tests := []struct {
		query string
		args  []driver.NamedValue
		want  string
	}{
		{"select $1", nil, "placeholder $1 has no argument: no arguments were given"},
		{"select $1a", nil, "trailing junk after placeholder $1"},
		{"select $2", pos(int64(1)), "placeholder $2 has no argument (1 given)"},
		{"select $1, $3", pos(int64(1), int64(2)), "placeholder $3 has no argument (2 given)"},
		{"select $99999999999999", pos(int64(1)), "placeholder $99999999999999 has no argument (1 given)"},
		{"select $0", pos(int64(1)), "placeholder $0: placeholders are numbered from $1"},
		{"select $1", pos(int64(1), int64(2)), "argument $2 is not used by the query"},
		{"select '$1'", pos(int64(1)), "argument $1 is not used by the query"},
		{"select 1", pos(int64(1)), "argument $1 is not used by the query"},
		{"select 'a", pos(int64(1)), "unterminated quoted string"},
		{"select $1, 'a", pos(int64(1)), "unterminated quoted string"},
		{"select $1 /* ", pos(int64(1)), "unterminated /* comment"},
		{"select $1a", pos(int64(1)), "trailing junk after placeholder $1"},
		{"select @a", namedArgs("a", int64(1), "b", int64(2)), "named argument @b is not used by the query"},
		{"select @a, @c", namedArgs("a", int64(1), "b", int64(2)), "placeholder @c has no argument (named arguments: @a, @b)"},
		{"select @A", namedArgs("a", int64(1)), "placeholder @A has no argument"},
		{"select $1", namedArgs("a", int64(1)), "placeholder $1 is positional but the arguments are named"},
		{"select x=@a", namedArgs("a", int64(1)), "named argument @a is not used"},
		{"select @a, $2", append(namedArgs("a", int64(1)), driver.NamedValue{Ordinal: 2, Value: int64(2)}),
			"arguments mix named (sql.Named) and positional ones (argument 2 is $2)"},
		{"select $1, @b", append(pos(int64(1)), driver.NamedValue{Ordinal: 2, Name: "b", Value: int64(2)}),
			"arguments mix named (sql.Named) and positional ones (argument 2 is @b)"},
		{"select @a", namedArgs("a", int64(1), "a", int64(2)), "named argument @a is given twice"},
		{"select $1", pos("a\x00b"), "argument $1: string contains a NUL byte"},
		{"select $1", pos("a\xffb"), "argument $1: string is not valid UTF-8"},
		{"select @s", namedArgs("s", "\x00"), "argument @s: string contains a NUL byte"},
		{"select $1", pos(struct{}{}), "argument $1: unsupported argument type struct {}"},
		{"select $1", pos(map[string]int{}), "unsupported argument type map[string]int"},
		{"select $1", pos([]string{"ok", "a\x00"}), "argument $1: element 1: string contains a NUL byte"},
		{"select $1", pos(time.Date(-5000, 1, 1, 0, 0, 0, 0, time.UTC)), "outside PostgreSQL's timestamptz range"},
		{"select $1", pos(time.Date(300000, 1, 1, 0, 0, 0, 0, time.UTC)), "outside PostgreSQL's timestamptz range"},
	}
	for _, tt := range tests {
		got, err := Interpolate(tt.query, tt.args)
		if err == nil {
			t.Errorf("Interpolate(%q, %v) = %q, want error %q", tt.query, tt.args, got, tt.want)
			continue
		}
		if !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "carto driver: ") {
			t.Errorf("Interpolate(%q, %v) error\n got %q\nwant %q", tt.query, tt.args, err, tt.want)
		}
	}
}

// TestInterpolateNamedThroughDatabaseSQL checks the names database/sql passes (sql.Named).
func TestInterpolateNamedThroughDatabaseSQL(t *testing.T) {
	a := sql.Named("id", int64(7))
	args := []driver.NamedValue{{Ordinal: 1, Name: a.Name, Value: a.Value}}
	got, err := Interpolate("select * from t where id = @id", args)
	if err != nil || got != "select * from t where id =  7 " {
		t.Fatalf("got %q, %v", got, err)
	}
}

// TestInterpolateNoPlaceholderInLiterals interpolates values full of SQL syntax and checks that
// the result holds exactly as many placeholders as the literals say: none.
func TestInterpolateNoPlaceholderInLiterals(t *testing.T) {
	nasty := []any{
		"$1", "'$1'", "''", "'", `\`, `\'`, `E'\'`, "--", "/*", "*/", "$$", "$a$", "@a", "\n'",
		"'; drop table t; --", `\'; drop table t; --`, []string{"$1", `\'`, "--"}, math.Inf(-1),
	}
	for _, v := range nasty {
		got, err := Interpolate("select $1, $2", pos(v, int64(-1)))
		if err != nil {
			t.Fatalf("%q: %v", v, err)
		}
		phs, err := lexPlaceholders(got)
		if err != nil || len(phs) != 0 {
			t.Errorf("Interpolate(%q) = %q lexes as %v, %v", v, got, phs, err)
		}
	}
}
