package maptemplate_test

import (
	"strings"
	"testing"

	"github.com/gocarto/carto/cartolocal/internal/maptemplate"
)

// TestSubstituteRefusals: where no quoting keeps a value in its place, the value is refused with
// a Windshaft error, and the template never runs.
func TestSubstituteRefusals(t *testing.T) {
	for _, c := range []struct{ sql, typ, v, msg string }{
		{`SELECT B'<%= v %>'`, "sql_literal", "1' OR '1", "cannot appear inside a bit string"},
		{`SELECT X'<%= v %>'`, "sql_literal", `0\`, "cannot appear inside a bit string"},
		{`SELECT $q$<%= v %>$q$`, "sql_literal", "a$q$; DROP TABLE t; --", "'$' cannot appear inside the dollar-quoted string $q$"},
		{"SELECT 1 -- <%= v %>", "sql_literal", "x\nDROP TABLE t", "a line break cannot appear inside a comment"},
		{"SELECT 1 -- <%= v %>", "sql_ident", "x\rDROP TABLE t", "a line break cannot appear inside a comment"},
		{"SELECT 1 /* <%= v %> */", "sql_literal", "*/ DROP TABLE t /*", "'*' and '/' cannot appear inside a comment"},
		// A value that makes the tag of a dollar quote: only the structure check catches it.
		{`SELECT $<%= v %>$ x $<%= v %>$`, "sql_literal", "a b", "a value changes the structure of the template's SQL"},
		{`SELECT '<%= v %>`, "sql_literal", "a", "Invalid SQL in template: unterminated quoted string"},
		{`SELECT 1 - <%= v %>`, "number", "1; DROP TABLE t", "Invalid number value"},
		{`SELECT '<%= v %>'`, "css_color", "red'; --", "Invalid css_color value"},
		{`SELECT '<%= v %>'`, "sql_literal", "a\x00b", "NUL character"},
	} {
		out, err := maptemplate.SubstituteSQL(c.sql, c.typ, c.v)
		if err == nil || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%s with %q: %q, %v; want an error with %q", c.sql, c.v, out, err, c.msg)
		}
	}
	// What the quoting writes, context by context.
	for _, c := range []struct{ sql, typ, v, want string }{
		{`SELECT '<%= v %>'`, "sql_literal", `it's \ok`, `SELECT 'it''s \ok'`},
		{`SELECT E'<%= v %>'`, "sql_literal", `it's \ok`, `SELECT E'it''s \\ok'`},
		{"SELECT E'a'\n'<%= v %>'", "sql_literal", `\'`, "SELECT E'a'\n'\\\\'''"},
		{`SELECT <%= v %>`, "sql_literal", `it's`, `SELECT  /**/'it''s'/**/ `},
		{`SELECT <%= v %>`, "sql_literal", `a\b`, `SELECT  /**/E'a\\b'/**/ `},
		{`SELECT * FROM "<%= v %>"`, "sql_ident", `a"b`, `SELECT * FROM "a""b"`},
		{`SELECT * FROM <%= v %>`, "sql_ident", `a"b`, `SELECT * FROM  "a""b" `},
		{`SELECT 1-<%= v %>`, "number", `-1`, `SELECT 1- -1 `},
		{`SELECT $<%= v %>$ x $<%= v %>$`, "sql_literal", "a", `SELECT $a$ x $a$`},
	} {
		out, err := maptemplate.SubstituteSQL(c.sql, c.typ, c.v)
		if err != nil || out != c.want {
			t.Errorf("%s with %q: %q, %v; want %q", c.sql, c.v, out, err, c.want)
		}
	}
}
