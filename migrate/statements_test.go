package migrate

import (
	"slices"
	"strings"
	"testing"
)

func TestSplitStatements(t *testing.T) {
	tests := []struct {
		name string
		sql  string
		want []string // statement texts
		line []int
	}{
		{"simple", "CREATE TABLE a (id int);\nINSERT INTO a VALUES (1);", []string{"CREATE TABLE a (id int);", "INSERT INTO a VALUES (1);"}, []int{1, 2}},
		{"no final semicolon", "SELECT 1;\n  SELECT 2\n", []string{"SELECT 1;", "SELECT 2\n"}, []int{1, 2}},
		{"comments only", "-- nothing\n/* at /* all */ */\n\n", nil, nil},
		{"comments between", "-- a; b\nSELECT 1; /* ; */ -- x;\n\nSELECT ';'", []string{"SELECT 1;", "SELECT ';'"}, []int{2, 4}},
		{"quotes", `SELECT 'a;''b', "c;""d", E'\';', e'x\\';'y'`, []string{`SELECT 'a;''b', "c;""d", E'\';', e'x\\';`, `'y'`}, []int{1, 1}},
		{"standard string with backslash", `SELECT 'C:\'; SELECT 2`, []string{`SELECT 'C:\';`, "SELECT 2"}, []int{1, 1}},
		{"identifier ending in e", `SELECT some'x;'`, []string{`SELECT some'x;'`}, []int{1}},
		{"dollar quotes", "CREATE FUNCTION f() RETURNS int AS $$ BEGIN RETURN 1; END $$ LANGUAGE plpgsql;\nDO $body$ BEGIN PERFORM 1; END $body$;",
			[]string{"CREATE FUNCTION f() RETURNS int AS $$ BEGIN RETURN 1; END $$ LANGUAGE plpgsql;", "DO $body$ BEGIN PERFORM 1; END $body$;"}, []int{1, 2}},
		{"nested tags", "SELECT $a$ $b$ ; $b$ $a$; SELECT 2;", []string{"SELECT $a$ $b$ ; $b$ $a$;", "SELECT 2;"}, []int{1, 1}},
		{"positional and identifier dollars", "PREPARE p AS SELECT $1; SELECT a$b$c FROM t;", []string{"PREPARE p AS SELECT $1;", "SELECT a$b$c FROM t;"}, []int{1, 1}},
		{"rule with parentheses", "CREATE RULE r AS ON INSERT TO t DO ALSO (INSERT INTO u VALUES (1); INSERT INTO v VALUES (2));\nSELECT 1;",
			[]string{"CREATE RULE r AS ON INSERT TO t DO ALSO (INSERT INTO u VALUES (1); INSERT INTO v VALUES (2));", "SELECT 1;"}, []int{1, 2}},
		{"begin atomic", "CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT CASE WHEN true THEN 1 END; SELECT 2; END;\nSELECT 3;",
			[]string{"CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT CASE WHEN true THEN 1 END; SELECT 2; END;", "SELECT 3;"}, []int{1, 2}},
		{"transaction block", "BEGIN;\nCREATE TABLE a (id int);\nCOMMIT;", []string{"BEGIN;", "CREATE TABLE a (id int);", "COMMIT;"}, []int{1, 2, 3}},
		{"multi-line literal", "SELECT 'a\nb';\nSELECT 2;", []string{"SELECT 'a\nb';", "SELECT 2;"}, []int{1, 3}},
		{"utf-8", "SELECT 'ñ;'; SELECT ñame;", []string{"SELECT 'ñ;';", "SELECT ñame;"}, []int{1, 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := splitStatements(tt.sql)
			if !ok {
				t.Fatalf("not ok")
			}
			var texts []string
			var lines []int
			for _, s := range got {
				texts = append(texts, s.Text)
				lines = append(lines, s.Line)
				if tt.sql[s.Start:s.Start+len(s.Text)] != s.Text {
					t.Errorf("Start %d does not point at %q", s.Start, s.Text)
				}
			}
			if strings.Join(texts, "|") != strings.Join(tt.want, "|") {
				t.Errorf("statements\n got %q\nwant %q", texts, tt.want)
			}
			if !slices.Equal(lines, tt.line) {
				t.Errorf("lines %v, want %v", lines, tt.line)
			}
		})
	}
}

func TestSplitStatementsUnterminated(t *testing.T) {
	for _, sql := range []string{
		"SELECT 'abc", `SELECT "abc`, "SELECT $$ abc", "SELECT 1 /* abc", "SELECT (1", `SELECT E'\'`,
		"CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1;",
	} {
		if got, ok := splitStatements(sql); ok {
			t.Errorf("%q: ok with %+v", sql, got)
		}
	}
}

// FuzzSplitStatements: the statements always lie inside the input, in order, starting at their
// Start, and never on a blank.
func FuzzSplitStatements(f *testing.F) {
	for _, s := range []string{"SELECT 1; SELECT 2", "$$;$$;", "/* /* */ */;", "E'\\';'", "BEGIN ATOMIC CASE END END;"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, sql string) {
		stmts, ok := splitStatements(sql)
		if !ok {
			return
		}
		prev := 0
		for _, s := range stmts {
			if s.Start < prev || s.Start+len(s.Text) > len(sql) || sql[s.Start:s.Start+len(s.Text)] != s.Text {
				t.Fatalf("bad statement %+v in %q", s, sql)
			}
			if strings.TrimSpace(s.Text) == "" {
				t.Fatalf("blank statement in %q", sql)
			}
			prev = s.Start + len(s.Text)
		}
	})
}

func TestJSStringLen(t *testing.T) {
	for _, tt := range []struct {
		s    string
		want int
	}{
		{"", 2}, {"abc", 5}, {`a"b`, 6}, {`\`, 4}, {"\n\t", 6}, {"\x01", 8}, {"ñ", 3}, {"€", 3}, {"😀", 4}, {"<>&", 5},
	} {
		if got := jsStringLen(tt.s); got != tt.want {
			t.Errorf("jsStringLen(%q) = %d, want %d", tt.s, got, tt.want)
		}
	}
}

func TestCheckTransactionControl(t *testing.T) {
	for _, tt := range []struct {
		sql string
		bad string
	}{
		{"BEGIN; CREATE TABLE a (id int); COMMIT;", ""},
		{"START TRANSACTION; CREATE TABLE a (id int); END;", ""},
		{"CREATE TABLE a (id int); SAVEPOINT s; INSERT INTO a VALUES (1); ROLLBACK TO SAVEPOINT s;", ""},
		{"DO $$ BEGIN COMMIT; END $$; CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; END;", ""},
		{"CREATE TABLE a (id int);\nCOMMIT;\nCREATE TABLE b (id int);", "statement 2 at line 2 (COMMIT;) commits before the migration ends"},
		{"CREATE TABLE a (id int); BEGIN; SELECT 1;", "starts a transaction after"},
		{"CREATE TABLE a (id int); ROLLBACK;", "rolls the migration back"},
		{"CREATE TABLE a (id int); /* x */ abort;", "rolls the migration back"},
		{"PREPARE TRANSACTION 'x';", "two-phase"},
	} {
		stmts, ok := splitStatements(tt.sql)
		if !ok {
			t.Fatalf("%q did not split", tt.sql)
		}
		err := checkTransactionControl(stmts)
		switch {
		case tt.bad == "" && err != nil:
			t.Errorf("%q: %v", tt.sql, err)
		case tt.bad != "" && (err == nil || !strings.Contains(err.Error(), tt.bad)):
			t.Errorf("%q: %v, want %q", tt.sql, err, tt.bad)
		}
	}
}
