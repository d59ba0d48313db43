// Command running_queries lists the queries a CARTO account is running, from PostgreSQL's
// pg_stat_activity: process id, state, how long the query has run, what it waits for, and its
// text. Pass a PID to kill_query to cancel one.
//
//	running_queries
//
// The account comes from -base-url and -api-key, or $CARTO_BASE_URL and $CARTO_API_KEY, or from
// -dsn or $CARTO_DSN (see examples/README.md).
//
// The account's API key sees the sessions of its own database role, which is what CARTO's SQL
// API and Batch SQL jobs run as; its own query is left out.
package main

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/gocarto/carto/examples/internal/cli"
)

// args are the program's options.
type args struct {
	All   bool // include idle sessions
	Width int  // cut query text to this many characters; 0 keeps it whole
}

func main() {
	var a args
	acct := cli.Register(flag.CommandLine, cli.WithDSN())
	flag.BoolVar(&a.All, "all", false, "list idle sessions too")
	flag.IntVar(&a.Width, "width", 100, "cut query text to this many characters (0: whole)")
	acct.Parse(os.Args[1:])
	if flag.NArg() > 0 {
		acct.Fail(cli.Usagef("running_queries [-all] [-width N]"))
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

// activitySQL lists the sessions of the current role in the current database but this one.
// Every column is made non-NULL and of a plain type so that it scans into Go strings and numbers.
// Every column needs its own name: CARTO answers rows as JSON objects, so columns of the same
// name (coalesce, coalesce, ...) would collapse into one.
const activitySQL = `SELECT pid::int8 AS pid,
       coalesce(state, '') AS state,
       coalesce(extract(epoch FROM clock_timestamp() - query_start)::float8, 0) AS seconds,
       coalesce(wait_event_type || ':' || wait_event, '') AS waiting,
       coalesce(application_name, '') AS application,
       coalesce(query, '') AS query
  FROM pg_stat_activity
 WHERE usename = current_user
   AND datname = current_database()
   AND pid <> pg_backend_pid()
   AND ($1 OR coalesce(state, '') <> 'idle')
 ORDER BY query_start NULLS LAST, pid`

// run writes the account's running queries to w as an aligned table.
func run(ctx context.Context, db *sql.DB, a args, w io.Writer) error {
	rows, err := db.QueryContext(ctx, activitySQL, a.All)
	if err != nil {
		return err
	}
	defer rows.Close()

	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "PID\tSTATE\tRUNNING\tWAITING ON\tAPPLICATION\tQUERY")
	n := 0
	for rows.Next() {
		var (
			pid                     int64
			state, wait, app, query string
			secs                    float64
		)
		if err := rows.Scan(&pid, &state, &secs, &wait, &app, &query); err != nil {
			return err
		}
		running := (time.Duration(secs * float64(time.Second))).Round(time.Millisecond)
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", pid, state, running, dash(wait), dash(app), oneLine(query, a.Width))
		n++
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%d %s\n", n, plural(n, "session", "sessions"))
	return err
}

// oneLine folds the query's whitespace (newlines would break the table) and cuts it to width
// characters.
func oneLine(q string, width int) string {
	q = strings.Join(strings.Fields(q), " ")
	if r := []rune(q); width > 0 && len(r) > width {
		return string(r[:width-1]) + "…"
	}
	return q
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
