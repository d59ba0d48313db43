package carto

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestPlainHTTPServerBehindHTTPS: an https base URL (a carto:// DSN without sslmode=disable) that
// reaches a plain-http server, such as cartolocal, fails with an error that says what to change.
// httptest's server is a real plain-http server here, which is all this needs.
func TestPlainHTTPServerBehindHTTPS(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	c, err := NewClient(strings.Replace(srv.URL, "http://", "https://", 1)+"/user/demo", WithRetryPolicy(RetryPolicy{MaxAttempts: 1}))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err = c.Do(ctx, &Request{Method: http.MethodGet, Path: "api/v2/sql", Idempotent: true})
	if err == nil || !strings.Contains(err.Error(), "sslmode=disable") || !strings.Contains(err.Error(), "plain http") {
		t.Fatalf("error: %v", err)
	}
}
