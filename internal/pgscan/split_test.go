package pgscan

import (
	"strings"
	"testing"
)

func TestSplit(t *testing.T) {
	for _, tt := range []struct {
		text string
		want []string
	}{
		{"", nil},
		{"select 1", []string{"select 1"}},
		{" ;; select 1;; select 2 -- x\n", []string{"select 1;", "select 2 -- x\n"}},
		{"-- a; b\n/* ; /* ; */ */ ;", nil},
		{`select 'a;''b', "c;""d", E'\';', e'x\\';'y'`, []string{`select 'a;''b', "c;""d", E'\';', e'x\\';`, `'y'`}},
		{"select E'a'\n';' ; select 2", []string{"select E'a'\n';' ;", "select 2"}},
		{"select E'a'\n'\\';' ; select 2", []string{"select E'a'\n'\\';' ;", "select 2"}},
		{"select U&'\\0061;' ; select B'1' ;", []string{"select U&'\\0061;' ;", "select B'1' ;"}},
		{"select $a$ $b$ ; $b$ $a$; select a$b$c;", []string{"select $a$ $b$ ; $b$ $a$;", "select a$b$c;"}},
		{"CREATE RULE r AS ON INSERT TO t DO ALSO (INSERT INTO u VALUES (1); INSERT INTO v VALUES (2)); SELECT 1",
			[]string{"CREATE RULE r AS ON INSERT TO t DO ALSO (INSERT INTO u VALUES (1); INSERT INTO v VALUES (2));", "SELECT 1"}},
		{"CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT CASE WHEN true THEN 1 END; SELECT 2; END; SELECT 3",
			[]string{"CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT CASE WHEN true THEN 1 END; SELECT 2; END;", "SELECT 3"}},
		{"BEGIN; COMMIT;", []string{"BEGIN;", "COMMIT;"}},
	} {
		stmts, err := Split(tt.text)
		if err != nil {
			t.Errorf("Split(%q): %v", tt.text, err)
			continue
		}
		var got []string
		for _, s := range stmts {
			got = append(got, tt.text[s.Start:s.End])
		}
		if strings.Join(got, "|") != strings.Join(tt.want, "|") || len(got) != len(tt.want) {
			t.Errorf("Split(%q)\n got %q\nwant %q", tt.text, got, tt.want)
		}
	}
}

func TestSplitRefuses(t *testing.T) {
	for _, text := range []string{
		"SELECT 'abc", `SELECT "abc`, "SELECT $$ abc", "SELECT 1 /* abc", "SELECT (1", `SELECT E'\'`,
		"SELECT E'a'\n'\\'", "CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1;",
	} {
		if got, err := Split(text); err == nil {
			t.Errorf("Split(%q) = %v, no error", text, got)
		}
	}
}
