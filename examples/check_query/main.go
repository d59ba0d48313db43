// Command check_query shows how PostgreSQL runs a query on a CARTO account: it prints the plan
// of EXPLAIN ANALYZE, with real row counts and timings, and the time of the whole round trip.
//
//	check_query -dsn carto://alice:KEY@alice.carto.com -query 'SELECT * FROM places WHERE name = $$x$$'
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

	_ "github.com/gocarto/carto/driver"
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
	// No flag default from $CARTO_DSN: usage would print it, API key and all.
	dsn := flag.String("dsn", "", "carto data source name, carto://USER:API_KEY@HOST[/user/USER] (default $CARTO_DSN)")
	flag.StringVar(&a.Query, "query", "", "the SQL statement to explain (required)")
	flag.BoolVar(&a.Analyze, "analyze", true, "run the statement and report actual rows and times (EXPLAIN ANALYZE)")
	flag.BoolVar(&a.Buffers, "buffers", false, "report buffer usage (needs -analyze)")
	flag.BoolVar(&a.Write, "write", false, "allow -analyze of a statement that may change data: it really runs")
	flag.Parse()
	if *dsn == "" {
		*dsn = os.Getenv("CARTO_DSN")
	}
	if *dsn == "" || a.Query == "" {
		fmt.Fprintln(os.Stderr, "usage: check_query -dsn carto://USER:API_KEY@HOST -query 'SELECT ...' (or set CARTO_DSN)")
		flag.PrintDefaults()
		os.Exit(2)
	}
	db, err := sql.Open("carto", *dsn)
	if err != nil {
		fmt.Fprintln(os.Stderr, "check_query:", err)
		os.Exit(1)
	}
	defer db.Close()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, db, a, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "check_query:", err)
		os.Exit(1)
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
	return nil
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
