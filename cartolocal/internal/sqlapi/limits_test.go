package sqlapi_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

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
	var held []*pgxpool.Conn
	defer func() {
		for _, c := range held {
			c.Release()
		}
	}()
	for range 4 { // the public pool's size
		c, err := u.Acquire(ctx, false)
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, c)
	}
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
