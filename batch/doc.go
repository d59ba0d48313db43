// Package batch is a client for CARTO's Batch SQL API (/api/v2/sql/job): queries that run on the
// server in the background, beyond the SQL API's statement timeout, one job at a time per account.
//
// A job is one SQL string (one implicit transaction), several strings run one after another
// (each in its own transaction; a failure leaves the rest pending), or a JobSpec with fallback
// queries: per-query onsuccess/onerror, in which CARTO replaces <%= job_id %> and
// <%= error_message %>, and job-level onsuccess/onerror, which get no substitution.
//
//	c := batch.New(client)                      // client: a *carto.Client with the master key
//	job, err := c.Run(ctx, "UPDATE t SET x = 1") // create, then wait until it finishes
//
// Run, RunQueries and RunJob take the WaitOptions of Wait (PollInterval, OnChange), so that a
// caller that shows progress or polls at its own pace does not rebuild create-then-wait.
//
// Wait polls (250 ms, growing to 5 s, back to 250 ms whenever the status changes) and returns a
// *JobError when the job failed or was cancelled. Ending a Wait, by its context, leaves the job
// running on the server: cancelling is an explicit Cancel.
//
// Update and List use endpoints CARTO removed in SQL API 1.35; against such a server they return
// an error wrapping ErrNotSupported. cartolocal still has both.
package batch
