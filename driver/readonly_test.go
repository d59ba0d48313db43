package driver

import "testing"

func TestReadOnly(t *testing.T) {
	yes := []string{
		"SELECT 1",
		"  select * from t where a = 'x;y' -- comment",
		"/* hi /* nested */ */ SELECT 1;",
		"SELECT 1;  -- done\n",
		"WITH a AS (SELECT 1) SELECT * FROM a",
		"select $1::int, $$ insert into t $$ as s, $x$ delete $x$",
		"EXPLAIN SELECT * FROM t",
		"values (1), (2)",
		"select \"insert\" from t",
		"select 'it''s' as update_count",
		"SELECT ST_AsText(the_geom) FROM t WHERE name = 'DROP TABLE x'",
		"select count(*) from datos_año",
	}
	no := []string{
		"",
		"-- only a comment",
		"INSERT INTO t VALUES (1)",
		"with x as (delete from t returning *) select * from x",
		"select * into t2 from t",
		"select * from t for update",
		"select nextval('s')",
		"SELECT 1; SELECT 2",
		"SELECT 1; DELETE FROM t",
		"SELECT 1; /* x */ DELETE FROM t",
		"EXPLAIN ANALYZE DELETE FROM t",
		"explain analyze select 1",
		"select E'\\' ; delete from t; --'",
		"select 'unterminated",
		"/* unterminated select 1",
		"select $a$ unterminated",
		"SET statement_timeout = 0",
		"UPDATE t SET a = 1",
		"do $$ begin end $$",
		"select cdb_cartodbfytable('t')",
		"select \"a\\\" from t; delete from t",
	}
	for _, q := range yes {
		if !readOnly(q) {
			t.Errorf("readOnly(%q) = false, want true", q)
		}
	}
	for _, q := range no {
		if readOnly(q) {
			t.Errorf("readOnly(%q) = true, want false", q)
		}
	}
}
