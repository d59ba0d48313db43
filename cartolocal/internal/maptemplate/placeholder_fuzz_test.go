package maptemplate_test

import (
	"context"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"github.com/gocarto/carto/cartolocal/internal/maptemplate"
)

// placeholderCase is a template whose result says whether the value kept its place: want is
// what the single column a must hold (or the column's name, for identifiers).
type placeholderCase struct {
	typ, sql string
	want     func(v string) string
	name     bool // compare the column's name instead of its value
}

var placeholderCases = []placeholderCase{
	{"sql_literal", `SELECT '<%= v %>'::text AS a`, same, false},
	{"sql_literal", `SELECT E'<%= v %>'::text AS a`, same, false},
	{"sql_literal", `SELECT U&'<%= v %>'::text AS a`, same, false},
	{"sql_literal", `SELECT <%= v %>::text AS a`, same, false},
	{"sql_literal", `SELECT 'x'||<%= v %>||'y' AS a`, func(v string) string { return "x" + v + "y" }, false},
	{"sql_literal", "SELECT 'x'\n'<%= v %>'::text AS a", func(v string) string { return "x" + v }, false},
	{"sql_literal", "SELECT E'\\\\'\n'<%= v %>'::text AS a", func(v string) string { return `\` + v }, false},
	{"sql_literal", "SELECT e'x' -- c\n  '<%= v %>'::text AS a", func(v string) string { return "x" + v }, false},
	{"sql_literal", `SELECT $q$<%= v %>$q$::text AS a`, same, false},
	{"sql_literal", `SELECT $$<%= v %>$$::text AS a`, same, false},
	{"sql_literal", "SELECT 'x'::text AS a -- <%= v %>", fixed("x"), false},
	{"sql_literal", "SELECT /* <%= v %> */ 'x'::text AS a", fixed("x"), false},
	{"sql_literal", "SELECT /* /* <%= v %> */ */ 'x'::text AS a", fixed("x"), false},
	{"sql_ident", `SELECT 1 AS "<%= v %>"`, identName, true},
	{"sql_ident", `SELECT 1 AS <%= v %>`, identName, true},
	{"sql_ident", `SELECT 1 AS U&"<%= v %>"`, identName, true},
	{"sql_ident", `SELECT '<%= v %>'::text AS a`, same, false},
	{"sql_ident", `SELECT E'<%= v %>'::text AS a`, same, false},
	{"number", `SELECT (1-<%= v %>)::text AS a`, nil, false},
	{"number", `SELECT ('<%= v %>'::numeric)::text AS a`, nil, false},
	{"css_color", `SELECT '<%= v %>'::text AS a`, same, false},
}

func same(v string) string { return v }

func fixed(s string) func(string) string { return func(string) string { return s } }

// identName is the name PostgreSQL gives a column called v: at most 63 bytes, cut at a
// character boundary.
func identName(v string) string {
	if len(v) <= 63 {
		return v
	}
	n := 63
	for n > 0 && !utf8.RuneStart(v[n]) {
		n--
	}
	return v[:n]
}

// FuzzPlaceholders writes values into templates that put them in every SQL context and runs the
// result on the real PostgreSQL, as a read-only public role in a read-only transaction: the
// query must stay one statement with one column whose value (or name) is exactly what the
// placeholder asked for, or the value must be refused with a Windshaft error.
func FuzzPlaceholders(f *testing.F) {
	for _, s := range []string{
		"", "x", "'", "''", `\`, `\'`, `'; drop table maps_sample_pts; --`, "x'; SELECT 1; --", "$$", "$q$", "$", "a$q$b",
		"*/", "/*", "*/ SELECT 2 /*", "\n", "\r", "line\nSELECT 2", `"`, `""`, `" or 1=1 --`, `x" FROM pg_authid --`,
		"ünïcødé ☃", `\u0041`, `U&'\0041'`, `\\'`, `E'\''`, "-1", "--1", "1e5", "+.5", "1e-400", "-0", "9.9e999", "#fff",
		"red", strings.Repeat("a", 70), strings.Repeat("é", 40), "\t", "\\x27", "a\u00a0b",
	} {
		f.Add(s)
	}
	u := newUser(f)
	f.Fuzz(func(t *testing.T, v string) {
		if !utf8.ValidString(v) {
			return // JSON values are valid UTF-8: a posted parameter cannot be anything else
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := u.Acquire(ctx, false)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Release()
		for _, c := range placeholderCases {
			sql, err := maptemplate.SubstituteSQL(c.sql, c.typ, v)
			if err != nil {
				continue // refused with a Windshaft error: the template never ran
			}
			tx, err := conn.BeginTx(ctx, pgx.TxOptions{AccessMode: pgx.ReadOnly})
			if err != nil {
				t.Fatal(err)
			}
			rows, err := tx.Query(ctx, sql)
			if err != nil {
				tx.Rollback(ctx)
				t.Fatalf("%s with %q: %s: %v", c.sql, v, sql, err)
			}
			fields := rows.FieldDescriptions()
			var got []string
			for rows.Next() {
				var s *string
				if err := rows.Scan(&s); err != nil {
					t.Fatalf("%s with %q: %s: %v", c.sql, v, sql, err)
				}
				if s != nil {
					got = append(got, *s)
				}
			}
			rows.Close()
			err = rows.Err()
			if err != nil && c.typ == "sql_ident" && v == "" {
				tx.Rollback(ctx)
				continue // a zero-length identifier is PostgreSQL's error, not a new statement
			}
			if err != nil {
				tx.Rollback(ctx)
				t.Fatalf("%s with %q: %s: %v", c.sql, v, sql, err)
			}
			want := ""
			switch {
			case c.typ == "number":
				expr := "(1-($1::text)::numeric)::text"
				if strings.Contains(c.sql, "::numeric)::text") {
					expr = "(($1::text)::numeric)::text"
				}
				if err := tx.QueryRow(ctx, "SELECT "+expr, v).Scan(&want); err != nil {
					t.Fatal(err)
				}
			default:
				want = c.want(v)
			}
			tx.Rollback(ctx)
			if len(fields) != 1 || len(got) != 1 {
				t.Fatalf("%s with %q: %s: %d columns, rows %q", c.sql, v, sql, len(fields), got)
			}
			if c.name {
				if fields[0].Name != want {
					t.Fatalf("%s with %q: %s: column %q, want %q", c.sql, v, sql, fields[0].Name, want)
				}
			} else if got[0] != want {
				t.Fatalf("%s with %q: %s: %q, want %q", c.sql, v, sql, got[0], want)
			}
		}
	})
}
