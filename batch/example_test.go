package batch_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/gocarto/carto"
	"github.com/gocarto/carto/batch"
)

// Run a long statement in the background and wait for it. (These examples need a CARTO account,
// so they are compiled but not run; the package tests run the same calls against cartolocal.)
func ExampleClient_Run() {
	client, err := carto.NewClient("https://USER.carto.com", carto.WithAPIKey("MASTER_KEY"))
	if err != nil {
		log.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
	defer cancel()
	job, err := batch.New(client).Run(ctx, "UPDATE big_table SET the_geom = ST_MakeValid(the_geom)")
	var je *batch.JobError
	switch {
	case errors.As(err, &je):
		fmt.Printf("job %s %s: %s (in %q)\n", job.ID, je.Status, je.FailedReason, je.Query)
	case err != nil:
		log.Fatal(err) // could not create or poll; the job, if created, goes on
	default:
		fmt.Println("done at", job.UpdatedAt)
	}
}

// Fallback queries record what happened; CARTO substitutes <%= job_id %> and <%= error_message %>
// in a query's own onsuccess and onerror.
func ExampleClient_CreateJob() {
	client, err := carto.NewClient("https://USER.carto.com", carto.WithAPIKey("MASTER_KEY"))
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	b := batch.New(client)
	job, err := b.CreateJob(ctx, batch.JobSpec{
		Queries: []batch.Query{{
			SQL:       "INSERT INTO archive SELECT * FROM events WHERE ts < now() - interval '1 year'",
			OnSuccess: "INSERT INTO job_log VALUES ('<%= job_id %>', 'archived')",
			OnError:   "INSERT INTO job_log VALUES ('<%= job_id %>', $$<%= error_message %>$$)",
			Timeout:   30 * time.Minute,
		}},
	})
	if err != nil {
		log.Fatal(err)
	}
	_, err = b.Wait(ctx, job.ID, batch.OnChange(func(j *batch.Job) {
		fmt.Println(j.ID, j.Status)
	}))
	if err != nil {
		log.Print(err)
	}
}
