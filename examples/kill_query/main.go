// Command kill_query cancels a query a CARTO account is running, given its process id (from
// running_queries), with pg_cancel_backend; -terminate ends the whole session instead, with
// pg_terminate_backend.
//
//	kill_query -pid 12345
//
// The account comes from -base-url and -api-key, or $CARTO_BASE_URL and $CARTO_API_KEY, or from
// -dsn or $CARTO_DSN (see examples/README.md).
//
// PostgreSQL lets a role signal only its own sessions, so an account can stop its own SQL API
// queries and Batch SQL jobs and nothing else. The client whose query is cancelled gets CARTO's
// answer to a cancelled statement, which is the one for a statement timeout: 429, "You are over
// platform's limits: SQL query timeout error", detail "datasource".
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
	"strings"

	"github.com/gocarto/carto/examples/internal/cli"
)

// args are the program's options.
type args struct {
	PID       int64 // the backend to signal
	Terminate bool  // end the session rather than cancel its query
}

func main() {
	var a args
	acct := cli.Register(flag.CommandLine, cli.WithDSN())
	flag.Int64Var(&a.PID, "pid", 0, "process id of the query to cancel, as running_queries lists it (required)")
	flag.BoolVar(&a.Terminate, "terminate", false, "terminate the session (pg_terminate_backend) instead of cancelling its query")
	acct.Parse(os.Args[1:])
	if a.PID <= 0 || flag.NArg() > 0 {
		acct.Fail(cli.Usagef("kill_query -pid PID [-terminate]"))
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

// run signals the backend a.PID after checking that it is one of the account's sessions, and
// says on w what it stopped.
func run(ctx context.Context, db *sql.DB, a args, w io.Writer) error {
	// Sessions are pooled behind the SQL API, so the target may be the very session serving this
	// lookup: it is then idle as far as the user is concerned, and signalling it would hit us.
	var (
		state, query string
		self         bool
	)
	err := db.QueryRowContext(ctx, `SELECT coalesce(state, '') AS state, coalesce(query, '') AS query,
		pid = pg_backend_pid() AS self
		FROM pg_stat_activity
		WHERE pid = $1 AND usename = current_user AND datname = current_database()`, a.PID).Scan(&state, &query, &self)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("no session of this account has pid %d (running_queries lists them)", a.PID)
	}
	if err != nil {
		return err
	}
	if self {
		state = "idle"
	}
	if !a.Terminate && state != "active" {
		return fmt.Errorf("pid %d runs no query (it is %s); -terminate ends the session", a.PID, state)
	}

	fn, did := "pg_cancel_backend", "cancelled the query of"
	if a.Terminate {
		fn, did = "pg_terminate_backend", "terminated"
	}
	var ok bool
	q := "SELECT coalesce((SELECT " + fn + "($1) WHERE $1 <> pg_backend_pid()), false) AS signalled"
	if err := db.QueryRowContext(ctx, q, a.PID).Scan(&ok); err != nil {
		return err
	}
	if !ok {
		// PostgreSQL answers false (with a warning) when the process is gone.
		return fmt.Errorf("pid %d could not be signalled: it has probably just ended", a.PID)
	}
	_, err = fmt.Fprintf(w, "%s pid %d: %s\n", did, a.PID, strings.Join(strings.Fields(query), " "))
	return err
}
