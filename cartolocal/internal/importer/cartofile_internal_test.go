package importer

import (
	"encoding/json"
	"testing"
)

func TestRewriteSQL(t *testing.T) {
	renamed := map[string]string{"stations": "stations_1", "lines": "lines_2", "same": "same"}
	for _, c := range []struct{ in, want string }{
		{`SELECT * FROM "alice"."stations"`, `SELECT * FROM "bob"."stations_1"`},
		{`select s.name, l.code from alice.stations s join Lines l on true`, `select s.name, l.code from "bob"."stations_1" s join "lines_2" l on true`},
		{`SELECT stations.name FROM stations`, `SELECT "stations_1".name FROM "stations_1"`},
		// Strings, comments and other names stay; "Stations" quoted is another name.
		{`SELECT 'stations', "Stations" FROM x -- stations` + "\n/* alice.stations */", ``},
		{`SELECT * FROM same, alicex.stationsx, "alice" . "lines"`, `SELECT * FROM same, alicex.stationsx, "bob" . "lines_2"`},
		{`SELECT alice FROM t`, ``}, // a column of the old user's name, unqualifying
		{`SELECT 'unterminated FROM stations`, ``},
		{`SELECT * FROM $$stations$$, U&"stations"`, ``},
	} {
		want := c.want
		if want == "" {
			want = c.in
		}
		if got := rewriteSQL(c.in, "alice", "bob", renamed); got != want {
			t.Errorf("%q:\n got %q\nwant %q", c.in, got, want)
		}
	}
}

// CARTO reads version.to_i == 2.
func TestCompatibleVersion(t *testing.T) {
	for v, want := range map[string]bool{`"2.0.0"`: true, `"2.1.4"`: true, `"2"`: true, `2`: true, `2.5`: true,
		`"1.0.0"`: false, `"3.0.0"`: false, `"v2"`: false, `null`: false, `"20.1"`: false, `{}`: false} {
		if got := compatibleVersion(json.RawMessage(v)); got != want {
			t.Errorf("%s: %v", v, got)
		}
	}
}
