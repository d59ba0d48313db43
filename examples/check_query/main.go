// Command check_query shows how PostgreSQL runs a query on a CARTO account: it prints the plan
// of EXPLAIN ANALYZE, with real row counts and timings, the time of the whole round trip, and the
// tips carto-python's check_query.py gives (SELECT *, indexes for WHERE, simplified geometries).
//
//	check_query -query 'SELECT * FROM places WHERE name = $$x$$'
//
// The account comes from -base-url and -api-key, or $CARTO_BASE_URL and $CARTO_API_KEY, or from
// -dsn or $CARTO_DSN (see examples/README.md).
//
// EXPLAIN ANALYZE runs the statement. For statements that may write (INSERT, UPDATE, DELETE, and
// anything that is not plainly a SELECT) it therefore asks for -write, or -analyze=false, which
// plans without running.
package main

import (
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"regexp"
	"strings"
	"time"

	"github.com/gocarto/carto/examples/internal/cli"
)

// args are the program's options.
type args struct {
	Query   string // the statement to explain
	Analyze bool   // run it (EXPLAIN ANALYZE) rather than only plan it
	Buffers bool   // add buffer usage to the plan
	Write   bool   // allow ANALYZE of a statement that may write
}

func main() {
	var a args
	acct := cli.Register(flag.CommandLine, cli.WithDSN())
	flag.StringVar(&a.Query, "query", "", "the SQL statement to explain (required)")
	flag.BoolVar(&a.Analyze, "analyze", true, "run the statement and report actual rows and times (EXPLAIN ANALYZE)")
	flag.BoolVar(&a.Buffers, "buffers", false, "report buffer usage (needs -analyze)")
	flag.BoolVar(&a.Write, "write", false, "allow -analyze of a statement that may change data: it really runs")
	acct.Parse(os.Args[1:])
	if a.Query == "" || flag.NArg() > 0 {
		acct.Fail(cli.Usagef("check_query -query 'SELECT ...' [-analyze=false] [-buffers] [-write]"))
	}
	db, err := acct.OpenDB()
	if err != nil {
		acct.Fail(err)
	}
	defer db.Close()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, db, a, os.Stdout); err != nil {
		acct.Fail(err)
	}
}

// errMayWrite is returned for ANALYZE of a statement that may change data without -write.
var errMayWrite = errors.New("EXPLAIN ANALYZE runs the statement and this one may change data: " +
	"pass -write to run it anyway, or -analyze=false to see the plan only")

// run explains a.Query and writes the plan and the timings to w.
func run(ctx context.Context, db *sql.DB, a args, w io.Writer) error {
	q := strings.TrimSpace(a.Query)
	q = strings.TrimSpace(strings.TrimRight(q, "; \t\r\n"))
	if q == "" {
		return errors.New("no query")
	}
	if a.Analyze && !a.Write && !readOnly(q) {
		return errMayWrite
	}
	var opts []string
	if a.Analyze {
		opts = append(opts, "ANALYZE")
	}
	if a.Buffers {
		opts = append(opts, "BUFFERS")
	}
	explain := "EXPLAIN "
	if len(opts) > 0 {
		explain += "(" + strings.Join(opts, ", ") + ") "
	}

	start := time.Now()
	rows, err := db.QueryContext(ctx, explain+q)
	if err != nil {
		return err
	}
	defer rows.Close()
	roundTrip := time.Since(start)

	var lines []string
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			return err
		}
		lines = append(lines, line)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	fmt.Fprintln(w, "QUERY PLAN")
	for _, l := range lines {
		fmt.Fprintln(w, l)
	}
	fmt.Fprintln(w)
	if a.Analyze {
		fmt.Fprintf(w, "planning %s, execution %s on the server; ", timing(lines, "Planning Time"), timing(lines, "Execution Time"))
	}
	fmt.Fprintf(w, "round trip %s (network, SQL API and driver included)\n", roundTrip.Round(10*time.Microsecond))
	for _, t := range tips(q) {
		fmt.Fprintln(w, "tip:", t)
	}
	return nil
}

// The advice carto-python's check_query.py gives, each when the query shows its pattern. Like
// the script's, the patterns look at the words of the query, not at its meaning: a "where" in a
// string literal gives the index tip too.
var (
	selectStar = regexp.MustCompile(`(?is)\bselect\s+(?:all\s+|distinct\s+)?(?:[\w"]+\.)?\*`)
	whereWord  = regexp.MustCompile(`(?i)\bwhere\b`)
	geomColumn = regexp.MustCompile(`(?i)\bthe_geom(?:_webmercator)?\b`)
)

// tips returns the advice that applies to q.
func tips(q string) []string {
	var out []string
	if selectStar.MatchString(q) {
		out = append(out, "SELECT * reads every column: naming only the columns you need makes the answer smaller and can let PostgreSQL read an index alone")
	}
	if whereWord.MatchString(q) {
		out = append(out, "the query filters with WHERE: are the columns it compares indexed? A Seq Scan on a large table in the plan says they are not")
	}
	if geomColumn.MatchString(q) {
		out = append(out, "the query reads geometries: polygons and lines simplified with ST_Simplify (or ST_SnapToGrid) are cheaper to compute with and to send")
	}
	return out
}

var timingLine = regexp.MustCompile(`^\s*(Planning|Execution) Time: ([0-9.]+) ms`)

// timing finds "Planning Time: 0.052 ms" or "Execution Time: ..." in the plan.
func timing(lines []string, name string) string {
	for _, l := range lines {
		if m := timingLine.FindStringSubmatch(l); m != nil && m[1]+" Time" == name {
			return m[2] + " ms"
		}
	}
	return "unknown"
}

// readOnly says whether q plainly reads only: it starts with SELECT, VALUES or TABLE, or with
// WITH and names no data-changing command. It is a guard against surprises, not a parser: a
// SELECT may still call a function that writes.
func readOnly(q string) bool {
	kw := strings.ToUpper(firstWord(q))
	switch kw {
	case "SELECT", "VALUES", "TABLE":
		return !selectInto.MatchString(q)
	case "WITH":
		return !writeWord.MatchString(q)
	}
	return false
}

var (
	writeWord  = regexp.MustCompile(`(?i)\b(INSERT|UPDATE|DELETE|MERGE)\b`)
	selectInto = regexp.MustCompile(`(?i)\bINTO\b`) // SELECT ... INTO creates a table
)

// firstWord returns the first keyword of q, past blanks, comments and opening parentheses.
func firstWord(q string) string {
	for {
		q = strings.TrimLeft(q, " \t\r\n(")
		switch {
		case strings.HasPrefix(q, "--"):
			i := strings.IndexByte(q, '\n')
			if i < 0 {
				return ""
			}
			q = q[i+1:]
		case strings.HasPrefix(q, "/*"):
			i := strings.Index(q, "*/")
			if i < 0 {
				return ""
			}
			q = q[i+2:]
		default:
			end := strings.IndexFunc(q, func(r rune) bool {
				return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r == '_')
			})
			if end < 0 {
				return q
			}
			return q[:end]
		}
	}
}
