// Command sql_batch_api_jobs creates, reads, updates and cancels Batch SQL API jobs, like
// carto-python's examples/sql_batch_api_jobs.py:
//
//	sql_batch_api_jobs create -query "UPDATE t SET x = 1"
//	sql_batch_api_jobs read   -job_id ID
//	sql_batch_api_jobs update -job_id ID -query "..."   (cartolocal; CARTO removed it)
//	sql_batch_api_jobs cancel -job_id ID
//
// The account comes from -base-url and -api-key, or $CARTO_BASE_URL and $CARTO_API_KEY; the
// Batch API needs the master key. Each command prints the job, one "key: value" per line.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"time"

	"github.com/gocarto/carto/batch"
	"github.com/gocarto/carto/examples/internal/cli"
)

func main() {
	acct := cli.Register(flag.CommandLine)
	query := flag.String("query", "", "the SQL of the job (create, update)")
	jobID := flag.String("job_id", "", "the id of the job (read, update, cancel)")
	flag.Usage = func() {
		fmt.Fprintln(flag.CommandLine.Output(), usage)
		flag.PrintDefaults()
	}
	// The command comes first, as in carto-python's script; flags may also come before it.
	args := os.Args[1:]
	var op string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		op, args = args[0], args[1:]
	}
	acct.Parse(args)
	if op == "" && flag.NArg() == 1 {
		op = flag.Arg(0)
	} else if flag.NArg() > 0 {
		acct.Fail(cli.Usagef("unexpected arguments after the flags"))
	}
	if err := check(op, *query, *jobID); err != nil {
		acct.Fail(err)
	}
	client, err := acct.Client()
	if err != nil {
		acct.Fail(err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, batch.New(client), op, *query, *jobID, os.Stdout); err != nil {
		acct.Fail(err)
	}
}

const usage = "usage: sql_batch_api_jobs create|read|update|cancel [-query SQL] [-job_id ID]"

// check says whether the command has what it needs, as a usage error for cli.Fail.
func check(op, query, jobID string) error {
	switch op {
	case "create", "update":
		if query == "" {
			return cli.Usagef("%s needs -query", op)
		}
	case "read", "cancel":
	case "":
		return cli.Usagef("no command: create, read, update or cancel")
	default:
		// Not quoted back: a stray argument may be a key typed in the wrong place.
		return cli.Usagef("unknown command; want create, read, update or cancel")
	}
	if op != "create" && jobID == "" {
		return cli.Usagef("%s needs -job_id", op)
	}
	return nil
}

// run executes one command and writes the job to w.
func run(ctx context.Context, b *batch.Client, op, query, jobID string, w io.Writer) error {
	var (
		job *batch.Job
		err error
	)
	switch op {
	case "create":
		job, err = b.Create(ctx, query)
	case "read":
		job, err = b.Get(ctx, jobID)
	case "update":
		job, err = b.Update(ctx, jobID, query)
	case "cancel":
		job, err = b.Cancel(ctx, jobID)
	default:
		return fmt.Errorf("unknown command")
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
