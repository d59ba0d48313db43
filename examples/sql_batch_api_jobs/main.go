// Command sql_batch_api_jobs creates, reads, updates and cancels Batch SQL API jobs, like
// carto-python's examples/sql_batch_api_jobs.py:
//
//	sql_batch_api_jobs create --query="UPDATE t SET x = 1"
//	sql_batch_api_jobs read   --job_id=ID
//	sql_batch_api_jobs update --job_id=ID --query="..."   (cartolocal; CARTO removed it)
//	sql_batch_api_jobs cancel --job_id=ID
//
// The account comes from --base_url and --api_key, or $CARTO_BASE_URL and $CARTO_API_KEY; the
// Batch API needs the master key. Each command prints the job, one "key: value" per line.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"time"

	"github.com/gocarto/carto"
	"github.com/gocarto/carto/batch"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "sql_batch_api_jobs:", err)
		var ue usageError
		if errors.As(err, &ue) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

// usageError is a mistake in the command line.
type usageError string

func (e usageError) Error() string { return string(e) }

const usage = "usage: sql_batch_api_jobs create|read|update|cancel [--query=SQL] [--job_id=ID] [--base_url=URL] [--api_key=KEY]"

// run executes one command and writes the job to w.
func run(ctx context.Context, args []string, w io.Writer) error {
	fs := flag.NewFlagSet("sql_batch_api_jobs", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	query := fs.String("query", "", "the SQL of the job (create, update)")
	jobID := fs.String("job_id", "", "the id of the job (read, update, cancel)")
	baseURL := fs.String("base_url", os.Getenv("CARTO_BASE_URL"), "the account's base URL, such as https://USER.carto.com/ (default $CARTO_BASE_URL)")
	apiKey := fs.String("api_key", os.Getenv("CARTO_API_KEY"), "the account's master API key (default $CARTO_API_KEY)")

	var op string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		op, args = args[0], args[1:]
	}
	if err := fs.Parse(args); err != nil {
		return usageError(err.Error() + "\n" + usage)
	}
	if op == "" && fs.NArg() > 0 {
		op = fs.Arg(0)
	}
	switch op {
	case "create", "update":
		if *query == "" {
			return usageError(op + " needs --query\n" + usage)
		}
	case "read", "cancel":
	default:
		return usageError(usage)
	}
	if op != "create" && *jobID == "" {
		return usageError(op + " needs --job_id\n" + usage)
	}
	if *baseURL == "" {
		return usageError("no base URL: set --base_url or CARTO_BASE_URL\n" + usage)
	}
	client, err := carto.NewClient(*baseURL, carto.WithAPIKey(*apiKey))
	if err != nil {
		return err
	}
	b := batch.New(client)

	var job *batch.Job
	switch op {
	case "create":
		job, err = b.Create(ctx, *query)
	case "read":
		job, err = b.Get(ctx, *jobID)
	case "update":
		job, err = b.Update(ctx, *jobID, *query)
	case "cancel":
		job, err = b.Cancel(ctx, *jobID)
	}
	if err != nil {
		return err
	}
	return printJob(w, job)
}

// printJob writes the fields carto-python's example logs.
func printJob(w io.Writer, j *batch.Job) error {
	var b strings.Builder
	fmt.Fprintf(&b, "status: %s\n", j.Status)
	fmt.Fprintf(&b, "job_id: %s\n", j.ID)
	fmt.Fprintf(&b, "created_at: %s\n", j.CreatedAt.Format(time.RFC3339Nano))
	fmt.Fprintf(&b, "updated_at: %s\n", j.UpdatedAt.Format(time.RFC3339Nano))
	fmt.Fprintf(&b, "user: %s\n", j.User)
	if len(j.Queries) == 0 {
		fmt.Fprintf(&b, "query: %s\n", j.Query)
	}
	for i, q := range j.Queries {
		fmt.Fprintf(&b, "query[%d]: %s (%s)\n", i, q.Query, q.Status)
	}
	if j.FailedReason != "" {
		fmt.Fprintf(&b, "failed_reason: %s\n", j.FailedReason)
	}
	_, err := io.WriteString(w, b.String())
	return err
}
