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
		"select 'nextval' as f, \"for\" from t",
		"select currval('s')",
		"(select 1) union (select 2)",
		// E'' escapes: \' is a quote, so the whole text is one string constant.
		"select E'\\' ; delete from t; --'",
		"select E'a'\n'\\' ; delete from t; --'",
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
		"select 'unterminated",
		"/* unterminated select 1",
		"select $a$ unterminated",
		"SET statement_timeout = 0",
		"UPDATE t SET a = 1",
		"do $$ begin end $$",
		"select cdb_cartodbfytable('t')",
		"select \"a\\\" from t; delete from t",
		"select E'a\\\\' ; delete from t; --'",
		"select E'a\\'\n' ; delete from t; --'",
		"select U&\"\\006Eextval\"('s')",
		"select 1; (delete from t)",
		// Functions that lock or act outside the statement, however they are spelled.
		"select pg_try_advisory_lock(1)",
		"SELECT PG_ADVISORY_LOCK(1)",
		"select pg_advisory_lock_shared(1)",
		"select pg_try_advisory_xact_lock(1)",
		"select pg_advisory_unlock_all()",
		"select \"nextval\"('s')",
		"select pg_catalog.\"setval\"('s', 1)",
		"select \"NextVal\"('s')",
		"select \"pg_try_advisory_lock\"(1)",
		"select pg_cancel_backend(123)",
		"select \"pg_terminate_backend\"(123)",
		"select lo_open(1, 131072)",
		"select lo_truncate(1, 0)",
		"select lowrite(0, 'x')",
		"select \"lo_unlink\"(1)",
		"select dblink_connect('c', 'dbname=x')",
		"select * from dblink_send_query('c', 'delete from t')",
		"select \"dblink\"('select 1')",
		"select * from t for share",
		"select * from t FOR NO KEY UPDATE",
		"select * from t for key share skip locked",
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
