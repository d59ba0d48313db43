package carto

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"unicode/utf8"
)

// TestErrorSnippetStaysUTF8: a long non-JSON error page is cut to a short line, never in the middle
// of a character.
func TestErrorSnippetStaysUTF8(t *testing.T) {
	srv, _ := faultServer(t, func(n int, w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(http.StatusBadGateway)
		w.Write([]byte("<html><body>a" + strings.Repeat("é", 300) + "</body></html>"))
	})
	c := mustClient(t, srv.URL+"/user/alice", WithRetryPolicy(NoRetries))
	_, err := c.Do(context.Background(), &Request{Method: "GET", Path: "api/v2/sql"})
	if err == nil || !utf8.ValidString(err.Error()) {
		t.Fatalf("error is not valid UTF-8: %q", err)
	}
}

// TestErrorWindshaftDialect: the Maps API answers {"errors":[...],"errors_with_context":[...]};
// its messages become the Error's.
func TestErrorWindshaftDialect(t *testing.T) {
	srv, _ := faultServer(t, func(n int, w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(http.StatusNotFound)
		w.Write([]byte(`{"errors":["Template 'x' of user 'alice' not found"],"errors_with_context":[{"type":"unknown","message":"Template 'x' of user 'alice' not found"}]}`))
	})
	c := mustClient(t, srv.URL+"/user/alice", WithRetryPolicy(NoRetries))
	_, err := c.Do(context.Background(), &Request{Method: "GET", Path: "api/v1/map/named/x"})
	var e *Error
	if !errors.As(err, &e) || e.Message() != "Template 'x' of user 'alice' not found" || !IsNotFound(err) {
		t.Fatalf("error %#v", err)
	}
}
