package sqlapi

import (
	"math"
	"testing"
)

func TestWrapQuery(t *testing.T) {
	nan := math.NaN()
	for _, tc := range []struct {
		sql, orderBy, sortOrder string
		limit, offset           float64
		want                    string
	}{
		{"select 1;", "", "", nan, nan, "select 1"},
		{"select 1; \n", "", "", nan, nan, "select 1"},
		{"select 1;;", "", "", nan, nan, "select 1;"},
		{"select 1", "", "", 2, nan, "select 1"},
		{"select i from generate_series(1,10) i", "", "", 2, 2,
			"SELECT * FROM (select i from generate_series(1,10) i) AS cdbq_1 LIMIT 2 OFFSET 2"},
		{"select i from generate_series(1,3) i", "i", "desc", nan, nan,
			`SELECT * FROM (select i from generate_series(1,3) i) AS cdbq_1 ORDER BY "i" DESC`},
		{"select i from t", "i", "sideways", nan, nan, `SELECT * FROM (select i from t) AS cdbq_1 ORDER BY "i"`},
		{"select 1 -- note\nfrom x", "", "", 5, 0, "SELECT * FROM (select 1  from x) AS cdbq_1 LIMIT 5 OFFSET 0"},
		{"WITH a AS (select '(' as p), b AS (select 2) select * from a", "", "", 1, 0,
			"WITH a AS (select '(' as p), b AS (select 2)SELECT * FROM ( select * from a) AS cdbq_1 LIMIT 1 OFFSET 0"},
		{"WITH a AS (select 1),b AS (select 2) select * from a", "", "", 1, 0,
			"WITH a AS (select 1),b AS (select 2)SELECT * FROM ( select * from a) AS cdbq_1 LIMIT 1 OFFSET 0"},
		// Only a trailing INTO escapes the wrapper, as on CARTO.
		{"select * into t2 from t", "", "", 1, 0, "SELECT * FROM (select * into t2 from t) AS cdbq_1 LIMIT 1 OFFSET 0"},
		{"select * from t into t2", "", "", 1, 0, "select * from t into t2"},
		{"insert into t values (1)", "", "", 1, 0, "insert into t values (1)"},
		{"select 1", "", "", -1, math.Copysign(0, -1), "SELECT * FROM (select 1) AS cdbq_1 LIMIT -1 OFFSET -0"},
	} {
		if got := wrapQuery(tc.sql, tc.orderBy, tc.sortOrder, tc.limit, tc.offset); got != tc.want {
			t.Errorf("wrapQuery(%q) =\n%q, want\n%q", tc.sql, got, tc.want)
		}
	}
}

func TestStripLineComments(t *testing.T) {
	for in, want := range map[string]string{
		"a -- c\nb": "a  b", "a -- c": "a  ", "a -- c\r\nb": "a -- c\r\nb", "no comment": "no comment",
	} {
		if got := stripLineComments(in); got != want {
			t.Errorf("stripLineComments(%q) = %q, want %q", in, got, want)
		}
	}
}
