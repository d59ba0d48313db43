package main

import (
	"bytes"
	"context"
	"database/sql"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gocarto/carto/cartolocal/cartotest"
)

func TestMain(m *testing.M) { os.Exit(cartotest.Main(m)) }

func TestListTables(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	acct := cartotest.New(t)
	acct.Exec(t, `CREATE TABLE big (name text); INSERT INTO big SELECT repeat('x', 200) FROM generate_series(1, 5000);
		SELECT CDB_CartodbfyTable(current_schema(), 'big'::regclass);
		CREATE TABLE small (a int); INSERT INTO small VALUES (1);
		CREATE TABLE empty_one (a int)`)
	db, err := sql.Open("carto", acct.DSN())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var out bytes.Buffer
	if err := run(ctx, db, 20, &out); err != nil {
		t.Fatal(err)
	}
	s := out.String()
	t.Log("\n" + s)
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) != 6 || !regexp.MustCompile(`^3 tables, \d+ (kB|MB) in all$`).MatchString(lines[0]) || !strings.HasPrefix(lines[2], "TABLE ") {
		t.Fatalf("output:\n%s", s)
	}
	for i, want := range []*regexp.Regexp{
		regexp.MustCompile(`^big +\d+ (kB|MB) +YES +#{20}$`),
		regexp.MustCompile(`^small +\d+ (bytes|kB) +NO +#{1,2}$`),
		regexp.MustCompile(`^empty_one +\d+ bytes +NO *#?$`),
	} {
		if !want.MatchString(strings.TrimRight(lines[3+i], " ")) {
			t.Errorf("line %q does not match %s", lines[3+i], want)
		}
	}
	if pretty(512) != "512 bytes" || pretty(20*1024) != "20 kB" || pretty(3<<30) != "3072 MB" {
		t.Errorf("pretty: %s %s %s", pretty(512), pretty(20*1024), pretty(3<<30))
	}
}
