package batch_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/gocarto/carto/batch"
	"github.com/gocarto/carto/cartolocal/cartotest"
)

// TestCancelRacesCompletion cancels jobs at random moments around their end: each must finish in
// exactly one final state, cancelled ones must not have written, and the queue must not stall.
func TestCancelRacesCompletion(t *testing.T) {
	acct := cartotest.New(t)
	acct.Exec(t, `CREATE TABLE racelog (job text PRIMARY KEY)`)
	c := batch.New(acct.Client(t))
	ctx := ctxT(t, 60*time.Second)
	const n = 24
	var wg sync.WaitGroup
	ids := make([]string, n)
	for i := range n {
		sql := []string{fmt.Sprintf("select pg_sleep(0.0%d)", i%5), fmt.Sprintf("insert into racelog values ('%d')", i)}
		j, err := c.Create(ctx, sql...)
		if err != nil {
			t.Fatal(err)
		}
		ids[i] = j.ID
		if i%2 == 0 {
			wg.Add(1)
			go func(id string, d time.Duration) {
				defer wg.Done()
				time.Sleep(d)
				if _, err := c.Cancel(ctx, id); err != nil {
					t.Errorf("cancel %s: %v", id, err)
				}
			}(j.ID, time.Duration(rand.N(60))*time.Millisecond)
		}
	}
	wg.Wait()
	for i, id := range ids {
		j, err := c.Wait(ctx, id, batch.PollInterval(10*time.Millisecond, 100*time.Millisecond))
		var je *batch.JobError
		switch {
		case err == nil:
		case errors.As(err, &je) && je.Status == batch.Cancelled:
			// The insert may have run before the cancel (then the second query is done).
			if j.Queries[1].Status != batch.Done && j.Queries[1].Status != batch.Pending && j.Queries[1].Status != batch.Cancelled {
				t.Errorf("job %d cancelled with queries %+v", i, j.Queries)
			}
		default:
			t.Fatalf("job %d: %v", i, err)
		}
	}
	// Nothing left marked as running on a backend.
	var left int
	if err := pgConn(t, acct).QueryRow(context.Background(),
		`SELECT count(*) FROM cartolocal.batch_jobs WHERE username = $1 AND (backend_pid IS NOT NULL OR queued)`, acct.User).Scan(&left); err != nil {
		t.Fatal(err)
	}
	if left != 0 {
		t.Errorf("%d jobs still queued or holding a backend", left)
	}
}
