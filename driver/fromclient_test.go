package driver

import (
	"context"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gocarto/carto"
	"github.com/gocarto/carto/cartolocal/cartotest"
)

// roundTripFunc is an http.RoundTripper made of a function.
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// TestOpenDBFromClientUsesTheClient: every statement goes through the client's own transport,
// with its key, and closing the sql.DB leaves the client working.
func TestOpenDBFromClientUsesTheClient(t *testing.T) {
	acct := cartotest.New(t)
	var sent atomic.Int64
	tr := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		sent.Add(1)
		return http.DefaultTransport.RoundTrip(r)
	})
	client := acct.Client(t, carto.WithHTTPClient(&http.Client{Transport: tr}))

	db := OpenDBFromClient(client, WithTimeout(time.Minute))
	ctx := context.Background()
	if _, err := db.ExecContext(ctx, "CREATE TABLE t (a int)"); err != nil { // needs the master key
		t.Fatal(err)
	}
	var n int
	if err := db.QueryRowContext(ctx, "SELECT count(*) FROM t WHERE a > $1", 0).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if got := sent.Load(); got != 2 {
		t.Errorf("%d requests went through the client's transport, want 2", got)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db2 := OpenDBFromClient(client)
	defer db2.Close()
	if err := db2.PingContext(ctx); err != nil {
		t.Errorf("the client stopped working after the first sql.DB closed: %v", err)
	}
}

func TestFromClientRefuses(t *testing.T) {
	if _, err := NewConnectorFromClient(nil); err == nil || !strings.Contains(err.Error(), "nil *carto.Client") {
		t.Errorf("NewConnectorFromClient(nil): %v", err)
	}
	db := OpenDBFromClient(nil)
	defer db.Close()
	if err := db.Ping(); err == nil {
		t.Error("OpenDBFromClient(nil).Ping() succeeded")
	}
	client, err := carto.NewClient("https://alice.carto.com")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := NewConnectorFromClient(client, WithTimeout(-time.Second)); err == nil || !strings.Contains(err.Error(), "Timeout") {
		t.Errorf("a negative timeout: %v", err)
	}
}
