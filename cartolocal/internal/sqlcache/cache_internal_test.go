package sqlcache

import (
	"net/http"
	"testing"
	"time"
)

// TestSurrogateKeySamples checks the hash of Surrogate-Key against CARTO's captured answers.
func TestSurrogateKeySamples(t *testing.T) {
	for table, want := range map[string]string{
		"private_table":   "t:RFNYfK", // sample 07
		"scoped_table_1":  "t:UNYrkI", // sample 37
		"untitle_table_4": "t:h0+o0b", // samples 40
		"pgtypes_table":   "t:PRKckZ", // sample 49c
	} {
		tables := []affectedTable{{db: "cartodb_test_user_1_db", name: "public." + table, updatedAt: 1}}
		if got := surrogateKey(tables); got != want {
			t.Errorf("%s: %q, want %q", table, got, want)
		}
		if got := cacheChannel(tables); got != "cartodb_test_user_1_db:public."+table {
			t.Errorf("%s: channel %q", table, got)
		}
	}
	two := []affectedTable{
		{db: "d", name: "s.b", updatedAt: 1}, {db: "d", name: "s.a", updatedAt: 1},
		{db: "e", name: "s.c", updatedAt: 1},
	}
	if got := cacheChannel(two); got != "d:s.b,s.a;;e:s.c" {
		t.Errorf("channel of two databases %q", got)
	}
}

// TestNextTTL checks the fallback max-age against the samples' Date and Cache-Control (a second
// that has begun counts as whole, as CARTO's Math.ceil does).
func TestNextTTL(t *testing.T) {
	for _, c := range []struct {
		date string
		ms   int
		want int64
	}{
		{"Tue, 24 Nov 2026 18:11:43 GMT", 500, 196}, // sample 01
		{"Tue, 24 Nov 2026 18:11:45 GMT", 1, 194},   // sample 06
		{"Tue, 24 Nov 2026 18:11:58 GMT", 999, 181}, // sample 49
		{"Tue, 24 Nov 2026 18:15:00 GMT", 0, 300},
		{"Tue, 24 Nov 2026 18:14:59 GMT", 0, 1},
	} {
		d, err := http.ParseTime(c.date)
		if err != nil {
			t.Fatal(err)
		}
		if got := nextTTL(d.Add(time.Duration(c.ms) * time.Millisecond)); got != c.want {
			t.Errorf("%s +%dms: %d, want %d", c.date, c.ms, got, c.want)
		}
	}
}

// TestQueryStatements checks the split the look-up plans, statement by statement.
func TestQueryStatements(t *testing.T) {
	for q, want := range map[string][]string{
		"select 1":                              {"select 1"},
		" ;select 1; ;select ';' from t -- x\n": {"select 1", "select ';' from t"},
		"select $$;$$ /* ; */;":                 {"select $$;$$"},
		"-- only a comment":                     {},
		"select 'open":                          {},
		"select 1) x; select (1":                {},
	} {
		got := queryStatements(q)
		if len(got) != len(want) {
			t.Errorf("%q: %q, want %q", q, got, want)
			continue
		}
		for i := range got {
			if got[i] != want[i] {
				t.Errorf("%q: %q, want %q", q, got, want)
			}
		}
	}
}

// TestWrappableAndRelations checks which statements the look-up plans, and which may read a
// relation.
func TestWrappableAndRelations(t *testing.T) {
	for stmt, want := range map[string][2]bool{ // wrappable, names a relation
		"select 1":                      {true, false},
		"SELECT f(x) AS fromage":        {true, false},
		"(select 1) union (select 2)":   {true, false},
		"values (1), (2)":               {true, false},
		"with a as (select 1) table a":  {true, true},
		"select * FROM t":               {true, true},
		`select 'from', "from"`:         {true, false},
		"select $$ from t $$":           {true, false},
		"insert into t select * from u": {false, true},
		"update t set a = 1":            {false, false},
		"create table t (a int)":        {false, true},
		"selec 1":                       {false, false},
	} {
		if got := [2]bool{wrappable(stmt), namesRelation(stmt)}; got != want {
			t.Errorf("%q: wrappable, names a relation = %v, want %v", stmt, got, want)
		}
	}
}
