package sqlapi_test

import (
	"context"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/gocarto/carto/cartolocal"
	"github.com/gocarto/carto/cartolocal/cartotest"
)

// TestPublicStatementTimeout (issue 9 item 6): anonymous statements always have a timeout, as on
// CARTO, even when the server sets none for its accounts. Before, they ran unbounded.
func TestPublicStatementTimeout(t *testing.T) {
	acct := cartotest.New(t)
	expect(t, sqlGet(t, acct, "q", "SHOW statement_timeout"), 200,
		`{"rows":[{"statement_timeout":"5min"}],"time":0,"fields":{"statement_timeout":{"type":"string","pgtype":"text"}},"total_rows":1}`)
}

// TestBusyPoolIs429 (issue 9 item 6): when every connection of the public role is busy (four
// anonymous pg_sleep calls were enough), a further anonymous request waits a bounded time, then
// gets CARTO's 429 with a Retry-After, instead of hanging.
func TestBusyPoolIs429(t *testing.T) {
	acct := cartotest.New(t)
	u, _ := acct.Server.User(acct.User)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	holdPublicPool(t, ctx, u)
	start := time.Now()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, sqlURL(acct)+"?q=select+1", nil)
	r := doSQL(t, req)
	expect(t, r, 429, `{"error":["You are over platform's limits. Please contact us to know more details"],"context":"limit","detail":"rate-limit"}`)
	if r.header.Get("Retry-After") != "1" {
		t.Errorf("Retry-After %q", r.header.Get("Retry-After"))
	}
	if d := time.Since(start); d > 15*time.Second {
		t.Errorf("answered after %v", d)
	}
	// The master key's pool is another: it is not affected.
	expect(t, sqlMaster(t, acct, "select 1 as one"), 200, `{"rows":[{"one":1}],"time":0,"fields":{"one":{"type":"number","pgtype":"int4"}},"total_rows":1}`)
}

// TestAnonymousCapacityPerAccount (issue 9 item 6): the public role is one PostgreSQL role for
// every account, but its connections are counted per account. Account A's anonymous callers
// holding all of A's public connections with pg_sleep make A's next anonymous request a 429,
// and account B's anonymous requests neither wait for them nor get a 429: B answers 200
// before its bounded wait could have ended, as A's sleeps last longer than that wait.
func TestAnonymousCapacityPerAccount(t *testing.T) {
	a, b := cartotest.New(t), cartotest.New(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	const marker = "capacity_per_account_marker"
	sleepCtx, stopSleeps := context.WithCancel(ctx)
	var sleeps sync.WaitGroup
	defer func() {
		stopSleeps() // the server cancels the queries of requests whose clients went away
		sleeps.Wait()
		waitActivity(t, a, marker, false)
	}()
	for range 4 { // the public pool's size
		sleeps.Add(1)
		go func() {
			defer sleeps.Done()
			q := url.Values{"q": {"SELECT pg_sleep(60) AS " + marker}}
			req, _ := http.NewRequestWithContext(sleepCtx, http.MethodGet, sqlURL(a)+"?"+q.Encode(), nil)
			if res, err := http.DefaultClient.Do(req); err == nil {
				res.Body.Close()
			}
		}()
	}
	pool := a.Server.AdminPool()
	for n := 0; n < 4; {
		err := pool.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity WHERE state = 'active'
			AND usename = 'publicuser' AND query LIKE '%' || $1 || '%' AND pid <> pg_backend_pid()`, marker).Scan(&n)
		if err != nil {
			t.Fatalf("pg_stat_activity: %v", err)
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%d of A's 4 sleeps run", n)
		case <-time.After(20 * time.Millisecond):
		}
	}
	one := `{"rows":[{"one":1}],"time":0,"fields":{"one":{"type":"number","pgtype":"int4"}},"total_rows":1}`
	for range 3 {
		expect(t, sqlGet(t, b, "q", "select 1 as one"), 200, one)
		expect(t, sqlGet(t, b, "q", "select 1 as one", "api_key", b.PublicKey), 200, one)
	}
	expect(t, sqlGet(t, a, "q", "select 1 as one"), 429, `{"error":["You are over platform's limits. Please contact us to know more details"],"context":"limit","detail":"rate-limit"}`)
}

// holdPublicPool takes every connection of u's public pool until the test ends, so that the
// next anonymous request finds none free.
func holdPublicPool(t *testing.T, ctx context.Context, u *cartolocal.User) {
	t.Helper()
	for range 4 { // the public pool's size
		c, err := u.Acquire(ctx, false)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(c.Release)
	}
}
