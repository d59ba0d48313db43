package batch

import "testing"

func TestMarkable(t *testing.T) {
	for sql, want := range map[string]bool{
		"INSERT INTO t VALUES (1)":                true,
		"UPDATE t SET a = 1; DELETE FROM u":       true,
		"DO $$ BEGIN PERFORM 1; END $$":           true,
		"CREATE TABLE clusters (cluster int)":     true,
		"SELECT cluster_id FROM t":                true,
		"vacuum analyze t":                        false,
		"CREATE INDEX CONCURRENTLY i ON t (a)":    false,
		"BEGIN; INSERT INTO t VALUES (1); COMMIT": false,
		"CALL p()": false,
		"DO $$ BEGIN INSERT INTO t VALUES (1); COMMIT; END $$": false,
		"CREATE DATABASE x":                  false,
		"alter  system set work_mem = '1MB'": false,
		"REINDEX DATABASE x":                 false,
		"DISCARD ALL":                        false,
		"CLUSTER":                            false,
		"CLUSTER VERBOSE;":                   false,
		"CREATE TABLESPACE s LOCATION '/x'":  false,
		"SELECT 'a vacuum in a string costs the mark, nothing else'": false,
	} {
		if got := markable(sql); got != want {
			t.Errorf("markable(%q) = %v, want %v", sql, got, want)
		}
	}
}
