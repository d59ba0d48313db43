package batch_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/gocarto/carto"
	"github.com/gocarto/carto/batch"
	"github.com/gocarto/carto/cartolocal/cartotest"
)

func TestMain(m *testing.M) { os.Exit(cartotest.Main(m)) }

func ctxT(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// pgConn is a superuser connection for looking underneath the API.
func pgConn(t *testing.T, acct *cartotest.Account) *pgx.Conn {
	t.Helper()
	ctx := ctxT(t, 30*time.Second)
	c, err := pgx.Connect(ctx, acct.PGURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(context.Background()) })
	return c
}

func values(t *testing.T, acct *cartotest.Account, table string) []string {
	t.Helper()
	c := pgConn(t, acct)
	rows, err := c.Query(context.Background(), fmt.Sprintf(`SELECT id || ':' || v FROM %s ORDER BY id, v`, pgx.Identifier{acct.User, table}.Sanitize()))
	if err != nil {
		t.Fatal(err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestSimpleJob(t *testing.T) {
	acct := cartotest.New(t)
	acct.Exec(t, `CREATE TABLE txtest (id int PRIMARY KEY, v text)`)
	b := batch.New(acct.Client(t))
	ctx := ctxT(t, time.Minute)

	job, err := b.Create(ctx, "insert into txtest values (100, 'batch')")
	if err != nil {
		t.Fatal(err)
	}
	if job.Status != batch.Pending || job.User != acct.User || job.Query != "insert into txtest values (100, 'batch')" || len(job.ID) != 36 {
		t.Fatalf("created job = %+v", job)
	}
	var seen []batch.Status
	done, err := b.Wait(ctx, job.ID, batch.OnChange(func(j *batch.Job) { seen = append(seen, j.Status) }))
	if err != nil {
		t.Fatal(err)
	}
	if done.Status != batch.Done || !done.Finished() || done.UpdatedAt.Before(done.CreatedAt) {
		t.Fatalf("job = %+v", done)
	}
	if len(seen) == 0 || seen[len(seen)-1] != batch.Done {
		t.Fatalf("OnChange saw %v", seen)
	}
	if got := values(t, acct, "txtest"); !slices.Equal(got, []string{"100:batch"}) {
		t.Fatalf("rows = %v", got)
	}
}

func TestFailedJobHasPostgresMessage(t *testing.T) {
	acct := cartotest.New(t)
	b := batch.New(acct.Client(t))
	ctx := ctxT(t, time.Minute)
	job, err := b.Run(ctx, "select * from no_such_table")
	var je *batch.JobError
	if !errors.As(err, &je) {
		t.Fatalf("err = %v, want *JobError", err)
	}
	if je.Status != batch.Failed || je.FailedReason != `relation "no_such_table" does not exist` || je.Query != "select * from no_such_table" {
		t.Fatalf("JobError = %+v", je)
	}
	if job == nil || job.Status != batch.Failed || job.FailedReason != je.FailedReason {
		t.Fatalf("job = %+v", job)
	}
	if !strings.Contains(err.Error(), "no_such_table") || strings.Contains(err.Error(), acct.MasterKey) {
		t.Fatalf("error text = %q", err)
	}
}

// A multi-statement string is one implicit transaction (samples 70-72).
func TestMultiStatementStringIsOneTransaction(t *testing.T) {
	acct := cartotest.New(t)
	acct.Exec(t, `CREATE TABLE txtest (id int PRIMARY KEY, v text)`)
	b := batch.New(acct.Client(t))
	_, err := b.Run(ctxT(t, time.Minute), "insert into txtest values (400,'s1'); insert into txtest values (400,'dup')")
	var je *batch.JobError
	if !errors.As(err, &je) || je.FailedReason != `duplicate key value violates unique constraint "txtest_pkey"` {
		t.Fatalf("err = %v", err)
	}
	if got := values(t, acct, "txtest"); len(got) != 0 {
		t.Fatalf("rows = %v, want none (rolled back together)", got)
	}
}

// Samples 65/66: each query in its own transaction; after a failure the rest stay pending.
func TestMultiQueryJob(t *testing.T) {
	acct := cartotest.New(t)
	acct.Exec(t, `CREATE TABLE txtest (id int PRIMARY KEY, v text)`)
	b := batch.New(acct.Client(t))
	ctx := ctxT(t, time.Minute)
	job, err := b.RunQueries(ctx, []string{"insert into txtest values (200,'m1')", "insert into txtest values (200,'dup')", "insert into txtest values (201,'m3')"})
	var je *batch.JobError
	if !errors.As(err, &je) {
		t.Fatalf("err = %v", err)
	}
	if je.Query != "insert into txtest values (200,'dup')" || je.FailedReason != `duplicate key value violates unique constraint "txtest_pkey"` {
		t.Fatalf("JobError = %+v", je)
	}
	var st []batch.Status
	for _, q := range job.Queries {
		st = append(st, q.Status)
	}
	if !slices.Equal(st, []batch.Status{batch.Done, batch.Failed, batch.Pending}) || job.Queries[1].FailedReason != je.FailedReason {
		t.Fatalf("queries = %+v", job.Queries)
	}
	if got := values(t, acct, "txtest"); !slices.Equal(got, []string{"200:m1"}) {
		t.Fatalf("rows = %v", got)
	}

	// All succeed: done, every query done, in order.
	job, err = b.RunQueries(ctx, []string{"insert into txtest values (1,'a')", "update txtest set v = v || 'b' where id = 1", "update txtest set v = v || 'c' where id = 1"})
	if err != nil || job.Status != batch.Done {
		t.Fatalf("job = %+v, err = %v", job, err)
	}
	if got := values(t, acct, "txtest"); !slices.Equal(got, []string{"1:abc", "200:m1"}) {
		t.Fatalf("rows = %v", got)
	}
}

// Samples 67-69: query fallbacks with templates, job-level onerror.
func TestFallbackJob(t *testing.T) {
	acct := cartotest.New(t)
	acct.Exec(t, `CREATE TABLE txtest (id int PRIMARY KEY, v text)`)
	b := batch.New(acct.Client(t))
	ctx := ctxT(t, time.Minute)
	job, err := b.CreateJob(ctx, batch.JobSpec{
		Queries: []batch.Query{
			{SQL: "insert into txtest values (300,'f1')", OnSuccess: "insert into txtest values (301,'<%= job_id %>')"},
			{SQL: "select * from nope", OnError: "insert into txtest values (302,'<%= error_message %>')"},
		},
		OnError:   "insert into txtest values (303,'job failed')",
		OnSuccess: "insert into txtest values (304,'job ok')",
	})
	if err != nil {
		t.Fatal(err)
	}
	if job.FallbackStatus != batch.Pending || len(job.Queries) != 2 || job.Queries[0].FallbackStatus != batch.Pending {
		t.Fatalf("created = %+v", job)
	}
	done, err := b.Wait(ctx, job.ID, batch.PollInterval(20*time.Millisecond, 200*time.Millisecond))
	var je *batch.JobError
	if !errors.As(err, &je) {
		t.Fatalf("err = %v", err)
	}
	if done.Status != batch.Failed || done.FallbackStatus != batch.Done || done.FailedReason != "" {
		t.Fatalf("job = %+v", done)
	}
	q0, q1 := done.Queries[0], done.Queries[1]
	if q0.Status != batch.Done || q0.FallbackStatus != batch.Done || q0.StartedAt.IsZero() || q0.EndedAt.IsZero() {
		t.Fatalf("query 0 = %+v", q0)
	}
	if q1.Status != batch.Failed || q1.FallbackStatus != batch.Done || q1.FailedReason != `relation "nope" does not exist` {
		t.Fatalf("query 1 = %+v", q1)
	}
	if je.Query != "select * from nope" || je.FailedReason != q1.FailedReason {
		t.Fatalf("JobError = %+v", je)
	}
	want := []string{"300:f1", "301:" + job.ID, `302:relation "nope" does not exist`, "303:job failed"}
	if got := values(t, acct, "txtest"); !slices.Equal(got, want) {
		t.Fatalf("rows = %q, want %q", got, want)
	}
}

// Samples 75/76: after a failure, later queries and their fallbacks are skipped.
func TestFallbackSkipped(t *testing.T) {
	acct := cartotest.New(t)
	acct.Exec(t, `CREATE TABLE log (id int, v text)`)
	b := batch.New(acct.Client(t))
	ctx := ctxT(t, time.Minute)
	job, err := b.CreateJob(ctx, batch.JobSpec{
		Queries: []batch.Query{
			{SQL: "select * from nope1", OnError: "insert into log values (1, 'onerror 1')"},
			{SQL: "insert into log values (2, 'query 2')", OnSuccess: "insert into log values (3, 'onsuccess 2')"},
			{SQL: "insert into log values (4, 'query 3')", Timeout: time.Second},
		},
		OnError: "insert into log values (5, 'job onerror <%= job_id %>')",
	})
	if err != nil {
		t.Fatal(err)
	}
	if job.Queries[2].Timeout != time.Second {
		t.Fatalf("timeout = %v", job.Queries[2].Timeout)
	}
	done, err := b.Wait(ctx, job.ID, batch.PollInterval(20*time.Millisecond, 200*time.Millisecond))
	if err == nil {
		t.Fatal("no error")
	}
	var got []batch.Status
	for _, q := range done.Queries {
		got = append(got, q.Status, q.FallbackStatus)
	}
	want := []batch.Status{batch.Failed, batch.Done, batch.Skipped, batch.Skipped, batch.Skipped, ""}
	if !slices.Equal(got, want) || done.Status != batch.Failed || done.FallbackStatus != batch.Done {
		t.Fatalf("statuses = %v (job %s/%s), want %v", got, done.Status, done.FallbackStatus, want)
	}
	// Job-level fallbacks get no template substitution in CARTO 6.0.0.
	if rows := values(t, acct, "log"); !slices.Equal(rows, []string{"1:onerror 1", "5:job onerror <%= job_id %>"}) {
		t.Fatalf("rows = %q", rows)
	}
}

func TestFallbackJobSuccess(t *testing.T) {
	acct := cartotest.New(t)
	acct.Exec(t, `CREATE TABLE log (id int, v text)`)
	b := batch.New(acct.Client(t))
	ctx := ctxT(t, time.Minute)
	job, err := b.CreateJob(ctx, batch.JobSpec{
		Queries:   []batch.Query{{SQL: "insert into log values (1, 'q')", OnError: "insert into log values (2, 'never')"}},
		OnSuccess: "insert into log values (3, 'job ok')",
		OnError:   "insert into log values (4, 'never')",
	})
	if err != nil {
		t.Fatal(err)
	}
	done, err := b.Wait(ctx, job.ID, batch.PollInterval(20*time.Millisecond, 200*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	if done.Status != batch.Done || done.FallbackStatus != batch.Done || done.Queries[0].FallbackStatus != batch.Skipped {
		t.Fatalf("job = %+v", done)
	}
	if rows := values(t, acct, "log"); !slices.Equal(rows, []string{"1:q", "3:job ok"}) {
		t.Fatalf("rows = %q", rows)
	}
}

// waitStatus polls until the job reaches want.
func waitStatus(t *testing.T, b *batch.Client, id string, want batch.Status) *batch.Job {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		j, err := b.Get(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if j.Status == want {
			return j
		}
		if time.Now().After(deadline) {
			t.Fatalf("job %s is %s, want %s", id, j.Status, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// activeBackends counts backends whose last query mentions the job.
func activeBackends(t *testing.T, c *pgx.Conn, jobID string) int {
	t.Helper()
	var n int
	if err := c.QueryRow(context.Background(), `SELECT count(*) FROM pg_stat_activity
		WHERE query LIKE '%' || $1 || '%' AND pid <> pg_backend_pid()`, jobID).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// waitBackends polls activeBackends until ok accepts the count, which it returns; when ctx ends
// first, the test fails with what.
func waitBackends(ctx context.Context, t *testing.T, c *pgx.Conn, jobID string, ok func(int) bool, what string) int {
	t.Helper()
	for {
		n := activeBackends(t, c, jobID)
		if ok(n) {
			return n
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%s: %d backends run the job", what, n)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func TestCancelRunningAndPending(t *testing.T) {
	acct := cartotest.New(t)
	b := batch.New(acct.Client(t))
	ctx := ctxT(t, time.Minute)
	pg := pgConn(t, acct)

	// The job sleeps far longer than the test may last, so only a cancel ends it in time, and no
	// check below needs a clock of its own.
	long, err := b.Create(ctx, "select pg_sleep(3600)")
	if err != nil {
		t.Fatal(err)
	}
	queued, err := b.Create(ctx, "select 1")
	if err != nil {
		t.Fatal(err)
	}
	waitStatus(t, b, long.ID, batch.Running)
	// "running" is recorded before the runner sends the statement (as CARTO's JobRunner does), so
	// the statement reaches its backend a little later: wait for it, then count.
	if n := waitBackends(ctx, t, pg, long.ID, func(n int) bool { return n > 0 }, "the running job's statement"); n != 1 {
		t.Fatalf("%d backends run the job, want 1", n)
	}
	// One job at a time per user: the second waits.
	if j, _ := b.Get(ctx, queued.ID); j.Status != batch.Pending {
		t.Fatalf("second job is %s while the first runs", j.Status)
	}

	// Cancel the pending one first: it never runs.
	c, err := b.Cancel(ctx, queued.ID)
	if err != nil || c.Status != batch.Cancelled {
		t.Fatalf("cancel pending: %+v, %v", c, err)
	}

	// The cancel answers once the query has stopped (an hour's sleep would end ctx first).
	c, err = b.Cancel(ctx, long.ID)
	if err != nil || c.Status != batch.Cancelled {
		t.Fatalf("cancel running: %+v, %v", c, err)
	}
	// The query is cancelled, its connection closed, and its backend leaves pg_stat_activity
	// (the backend exits after the close, not with it).
	waitBackends(ctx, t, pg, long.ID, func(n int) bool { return n == 0 }, "after the cancel")

	// Cancelling a finished job is not an error: the job comes back as it is.
	again, err := b.Cancel(ctx, long.ID)
	if err != nil || again.Status != batch.Cancelled {
		t.Fatalf("cancel again: %+v, %v", again, err)
	}
	_, err = b.Wait(ctx, long.ID)
	var je *batch.JobError
	if !errors.As(err, &je) || je.Status != batch.Cancelled {
		t.Fatalf("Wait on a cancelled job: %v", err)
	}
	// The queue goes on: a new job runs.
	if j, err := b.Run(ctx, "select 2"); err != nil || j.Status != batch.Done {
		t.Fatalf("after cancel: %+v, %v", j, err)
	}
	if j, _ := b.Get(ctx, queued.ID); j.Status != batch.Cancelled {
		t.Fatalf("cancelled pending job became %s", j.Status)
	}
}

func TestUpdate(t *testing.T) {
	acct := cartotest.New(t)
	acct.Exec(t, `CREATE TABLE log (id int, v text)`)
	b := batch.New(acct.Client(t))
	ctx := ctxT(t, time.Minute)

	long, err := b.Create(ctx, "select pg_sleep(30)")
	if err != nil {
		t.Fatal(err)
	}
	pending, err := b.Create(ctx, "insert into log values (1, 'old')")
	if err != nil {
		t.Fatal(err)
	}
	waitStatus(t, b, long.ID, batch.Running)
	up, err := b.Update(ctx, pending.ID, "insert into log values (2, 'new')")
	if err != nil {
		t.Fatal(err)
	}
	if up.Query != "insert into log values (2, 'new')" || up.Status != batch.Pending || !up.CreatedAt.Equal(pending.CreatedAt) {
		t.Fatalf("updated = %+v", up)
	}
	// A running job cannot be updated.
	_, err = b.Update(ctx, long.ID, "select 1")
	var ce *carto.Error
	if !errors.As(err, &ce) || ce.StatusCode != 400 || ce.Message() != "Job is not pending, it cannot be updated" || errors.Is(err, batch.ErrNotSupported) {
		t.Fatalf("update running: %v", err)
	}
	if _, err := b.Cancel(ctx, long.ID); err != nil {
		t.Fatal(err)
	}
	if j, err := b.Wait(ctx, pending.ID); err != nil || j.Status != batch.Done {
		t.Fatalf("updated job: %+v, %v", j, err)
	}
	if rows := values(t, acct, "log"); !slices.Equal(rows, []string{"2:new"}) {
		t.Fatalf("rows = %q", rows)
	}
	// Unknown job.
	_, err = b.Get(ctx, "00000000-0000-0000-0000-000000000000")
	if !carto.IsNotFound(err) {
		t.Fatalf("unknown job: %v", err)
	}
}

func TestList(t *testing.T) {
	acct := cartotest.New(t)
	b := batch.New(acct.Client(t))
	ctx := ctxT(t, time.Minute)
	var ids []string
	for i := range 3 {
		j, err := b.Run(ctx, fmt.Sprintf("select %d", i))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, j.ID)
	}
	jobs, err := b.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, j := range jobs {
		got = append(got, j.ID)
	}
	slices.Reverse(ids)
	if !slices.Equal(got, ids) {
		t.Fatalf("List = %v, want newest first %v", got, ids)
	}
	// Another account sees none of them.
	other := cartotest.New(t)
	if jobs, err := batch.New(other.Client(t)).List(ctx); err != nil || len(jobs) != 0 {
		t.Fatalf("other account: %d jobs, %v", len(jobs), err)
	}
	if _, err := batch.New(other.Client(t)).Get(ctx, ids[0]); !carto.IsNotFound(err) {
		t.Fatalf("another account's job: %v", err)
	}
}

func TestPermission(t *testing.T) {
	acct := cartotest.New(t)
	_, err := batch.New(acct.PublicClient(t)).Create(ctxT(t, time.Minute), "select 1")
	var ce *carto.Error
	if !carto.IsPermissionDenied(err) || !errors.As(err, &ce) || ce.Message() != "permission denied" {
		t.Fatalf("public key: %v", err)
	}
}

// A real CARTO (SQL API ≥ 1.35) has no PUT or list: Express answers 404 "Cannot PUT ...".
// cartolocal keeps both endpoints, so this one fault needs a stand-in server.
func TestNotSupportedOnCARTO(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(404)
		fmt.Fprintf(w, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>Error</title>\n</head>\n<body>\n<pre>Cannot %s %s</pre>\n</body>\n</html>\n", r.Method, r.URL.Path)
	}))
	defer srv.Close()
	c, err := carto.NewClient(srv.URL+"/user/u", carto.WithAPIKey("secretkey"))
	if err != nil {
		t.Fatal(err)
	}
	b := batch.New(c)
	ctx := ctxT(t, 10*time.Second)
	if _, err := b.List(ctx); !errors.Is(err, batch.ErrNotSupported) || !strings.Contains(err.Error(), "not supported by this server") {
		t.Fatalf("List: %v", err)
	}
	_, err = b.Update(ctx, "00000000-0000-0000-0000-000000000000", "select 1")
	var ce *carto.Error
	if !errors.Is(err, batch.ErrNotSupported) || !errors.As(err, &ce) || ce.StatusCode != 404 || strings.Contains(err.Error(), "secretkey") {
		t.Fatalf("Update: %v", err)
	}
}

func TestWaitEndsWithoutCancelling(t *testing.T) {
	acct := cartotest.New(t)
	b := batch.New(acct.Client(t))
	job, err := b.Create(ctxT(t, time.Minute), "select pg_sleep(30)")
	if err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(context.Background(), 700*time.Millisecond)
	defer cancel()
	last, err := b.Wait(short, job.ID)
	if !errors.Is(err, context.DeadlineExceeded) || last == nil || last.ID != job.ID {
		t.Fatalf("Wait = %+v, %v", last, err)
	}
	if j := waitStatus(t, b, job.ID, batch.Running); j.Status != batch.Running {
		t.Fatal(j.Status)
	}
	if _, err := b.Cancel(ctxT(t, time.Minute), job.ID); err != nil {
		t.Fatal(err)
	}
}

// countingTransport counts requests, for the requests-per-job figure.
type countingTransport struct {
	n    atomic.Int64
	next http.RoundTripper
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return c.next.RoundTrip(r)
}

// 50 jobs from 5 goroutines: each runs exactly once and none is lost. Also measures how long
// Wait takes to notice a finished job, and the requests each job costs.
func TestManyJobsConcurrently(t *testing.T) {
	acct := cartotest.New(t)
	acct.Exec(t, `CREATE TABLE hits (id int, v text)`)
	ct := &countingTransport{next: http.DefaultTransport}
	b := batch.New(acct.Client(t, carto.WithHTTPClient(&http.Client{Transport: ct})))
	ctx := ctxT(t, 2*time.Minute)

	const workers, perWorker = 5, 10
	var (
		mu     sync.Mutex
		delays []time.Duration
		wg     sync.WaitGroup
		errs   = make(chan error, workers*perWorker)
	)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perWorker {
				id := w*perWorker + i
				j, err := b.Run(ctx, fmt.Sprintf("insert into hits values (%d, 'x')", id))
				returned := time.Now()
				if err != nil {
					errs <- err
					continue
				}
				if j.Status != batch.Done {
					errs <- fmt.Errorf("job %d is %s", id, j.Status)
					continue
				}
				mu.Lock()
				delays = append(delays, returned.Sub(j.UpdatedAt))
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	rows := values(t, acct, "hits")
	if len(rows) != workers*perWorker {
		t.Fatalf("%d rows, want %d", len(rows), workers*perWorker)
	}
	seen := map[string]bool{}
	for _, r := range rows {
		if seen[r] {
			t.Fatalf("row %s twice", r)
		}
		seen[r] = true
	}
	sort.Slice(delays, func(i, j int) bool { return delays[i] < delays[j] })
	t.Logf("Wait returned a median %v after the job finished (min %v, max %v); %.2f requests per job",
		delays[len(delays)/2].Round(time.Millisecond), delays[0].Round(time.Millisecond),
		delays[len(delays)-1].Round(time.Millisecond), float64(ct.n.Load())/float64(workers*perWorker))
}

// A query's own timeout caps it (min of the account's batch timeout and the query's).
func TestQueryTimeout(t *testing.T) {
	acct := cartotest.New(t)
	b := batch.New(acct.Client(t))
	ctx := ctxT(t, time.Minute)
	job, err := b.CreateJob(ctx, batch.JobSpec{Queries: []batch.Query{{SQL: "select pg_sleep(5)", Timeout: 200 * time.Millisecond}}})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err = b.Wait(ctx, job.ID, batch.PollInterval(20*time.Millisecond, 100*time.Millisecond))
	var je *batch.JobError
	if !errors.As(err, &je) || je.FailedReason != "canceling statement due to statement timeout" {
		t.Fatalf("err = %v", err)
	}
	if time.Since(start) > 4*time.Second {
		t.Fatalf("took %v", time.Since(start))
	}
}

// Cancelling a running fallback job: the running query is cancelled, the rest and every
// fallback skipped, as CARTO's JobFallback does.
func TestCancelRunningFallbackJob(t *testing.T) {
	acct := cartotest.New(t)
	acct.Exec(t, `CREATE TABLE log (id int, v text)`)
	b := batch.New(acct.Client(t))
	ctx := ctxT(t, time.Minute)
	job, err := b.CreateJob(ctx, batch.JobSpec{
		Queries: []batch.Query{
			{SQL: "select pg_sleep(30)", OnError: "insert into log values (1, 'onerror')"},
			{SQL: "insert into log values (2, 'q2')", OnSuccess: "insert into log values (3, 'onsuccess')"},
		},
		OnError: "insert into log values (4, 'job onerror')",
	})
	if err != nil {
		t.Fatal(err)
	}
	waitStatus(t, b, job.ID, batch.Running)
	c, err := b.Cancel(ctx, job.ID)
	if err != nil {
		t.Fatal(err)
	}
	var got []batch.Status
	for _, q := range c.Queries {
		got = append(got, q.Status, q.FallbackStatus)
	}
	want := []batch.Status{batch.Cancelled, batch.Skipped, batch.Skipped, batch.Skipped}
	if c.Status != batch.Cancelled || c.FallbackStatus != batch.Skipped || !slices.Equal(got, want) {
		t.Fatalf("cancelled job %s/%s queries %v, want cancelled/skipped %v", c.Status, c.FallbackStatus, got, want)
	}
	// Nothing else runs for it; the next job of the account does.
	if j, err := b.Run(ctx, "insert into log values (5, 'next')"); err != nil || j.Status != batch.Done {
		t.Fatalf("next job: %+v, %v", j, err)
	}
	if rows := values(t, acct, "log"); !slices.Equal(rows, []string{"5:next"}) {
		t.Fatalf("rows = %q", rows)
	}
}

// A job that selects many rows runs with flat memory and succeeds.
func TestBigResultJob(t *testing.T) {
	acct := cartotest.New(t)
	b := batch.New(acct.Client(t))
	if j, err := b.Run(ctxT(t, time.Minute), "select g, repeat('x', 100) from generate_series(1, 200000) g"); err != nil || j.Status != batch.Done {
		t.Fatalf("job = %+v, %v", j, err)
	}
}

// Two accounts' jobs run at the same time; one account's run one after the other.
func TestUsersRunInParallel(t *testing.T) {
	a, c := cartotest.New(t), cartotest.New(t)
	ba, bc := batch.New(a.Client(t)), batch.New(c.Client(t))
	ctx := ctxT(t, time.Minute)
	ja, err := ba.Create(ctx, "select pg_sleep(30)")
	if err != nil {
		t.Fatal(err)
	}
	jc, err := bc.Create(ctx, "select pg_sleep(30)")
	if err != nil {
		t.Fatal(err)
	}
	waitStatus(t, ba, ja.ID, batch.Running)
	waitStatus(t, bc, jc.ID, batch.Running)
	for _, x := range []struct {
		b  *batch.Client
		id string
	}{{ba, ja.ID}, {bc, jc.ID}} {
		if _, err := x.b.Cancel(ctx, x.id); err != nil {
			t.Fatal(err)
		}
	}
}

// An account's jobs run one at a time, in the order they were created.
func TestFIFO(t *testing.T) {
	acct := cartotest.New(t)
	acct.Exec(t, `CREATE TABLE seen (n serial, v text)`)
	b := batch.New(acct.Client(t))
	ctx := ctxT(t, time.Minute)
	first, err := b.Create(ctx, "insert into seen (v) select '0' from pg_sleep(0.3)")
	if err != nil {
		t.Fatal(err)
	}
	ids := []string{first.ID}
	for i := 1; i < 6; i++ {
		j, err := b.Create(ctx, fmt.Sprintf("insert into seen (v) values ('%d')", i))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, j.ID)
	}
	for _, id := range ids {
		if _, err := b.Wait(ctx, id, batch.PollInterval(20*time.Millisecond, 100*time.Millisecond)); err != nil {
			t.Fatal(err)
		}
	}
	c := pgConn(t, acct)
	var order string
	if err := c.QueryRow(ctx, fmt.Sprintf(`SELECT string_agg(v, ',' ORDER BY n) FROM %s`, pgx.Identifier{acct.User, "seen"}.Sanitize())).Scan(&order); err != nil {
		t.Fatal(err)
	}
	if order != "0,1,2,3,4,5" {
		t.Fatalf("ran in order %s", order)
	}
}

// TestCopyFromStdinFails runs a job that asks for COPY data no Batch job can send: it must fail
// with CARTO's message at once (not wait for data forever, blocking the account's queue), and the
// next job must run.
func TestCopyFromStdinFails(t *testing.T) {
	acct := cartotest.New(t)
	acct.Exec(t, "CREATE TABLE copyjob (a int)")
	b := batch.New(acct.Client(t))
	ctx := ctxT(t, 30*time.Second)
	_, err := b.Run(ctx, "COPY copyjob FROM STDIN")
	var je *batch.JobError
	if !errors.As(err, &je) || !strings.Contains(je.FailedReason, "No source stream defined") {
		t.Fatalf("err = %v, want a JobError about the missing COPY stream", err)
	}
	if _, err := b.Run(ctx, "INSERT INTO copyjob VALUES (1)"); err != nil {
		t.Fatalf("the next job: %v", err)
	}
}

// TestRunTakesWaitOptions: Run, RunQueries and RunJob pass their WaitOptions to the wait, so a
// caller that wants progress or its own polling does not rebuild create-then-wait. OnChange sees
// the create answer first (it has the id) and the final state last.
func TestRunTakesWaitOptions(t *testing.T) {
	acct := cartotest.New(t)
	b := batch.New(acct.Client(t))
	ctx := ctxT(t, time.Minute)
	for name, run := range map[string]func(...batch.WaitOption) (*batch.Job, error){
		"Run": func(o ...batch.WaitOption) (*batch.Job, error) { return b.Run(ctx, "select pg_sleep(0.2)", o...) },
		"RunQueries": func(o ...batch.WaitOption) (*batch.Job, error) {
			return b.RunQueries(ctx, []string{"select pg_sleep(0.1)", "select pg_sleep(0.1)"}, o...)
		},
		"RunJob": func(o ...batch.WaitOption) (*batch.Job, error) {
			return b.RunJob(ctx, batch.JobSpec{Queries: []batch.Query{{SQL: "select pg_sleep(0.2)"}}}, o...)
		},
	} {
		var seen []*batch.Job
		job, err := run(batch.PollInterval(20*time.Millisecond, 40*time.Millisecond), batch.OnChange(func(j *batch.Job) { seen = append(seen, j) }))
		if err != nil || job.Status != batch.Done {
			t.Fatalf("%s: job = %+v, err = %v", name, job, err)
		}
		if len(seen) < 2 || seen[0].ID != job.ID || seen[0].Status.Final() || seen[len(seen)-1].Status != batch.Done {
			t.Fatalf("%s: OnChange saw %d states, first %+v, want the created job first and done last", name, len(seen), seen[0])
		}
	}
}
