package carto

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
)

// TestErrorTextLateAndKeyless: an error raised after the answer began (HTTP 200) shows no
// status, and a permission error of a request without a key says that no key was used (issue 9
// item 14).
func TestErrorTextLateAndKeyless(t *testing.T) {
	late := &Error{StatusCode: 200, Messages: []string{"permission denied for table t"}, Method: "POST", Path: "/user/alice/api/v2/sql", Sent: true}
	if got := late.Error(); strings.Contains(got, "200") || !strings.Contains(got, ": permission denied for table t") {
		t.Errorf("late error: %q", got)
	}
	if !IsPermissionDenied(late) {
		t.Error("a late permission denied is not IsPermissionDenied")
	}
	if strings.Contains(late.Error(), "no API key") {
		t.Errorf("a request with a key: %q", late.Error())
	}
	late.NoAPIKey = true
	if got := late.Error(); !strings.Contains(got, "no API key was used") {
		t.Errorf("keyless late error: %q", got)
	}
	for _, e := range []*Error{
		{StatusCode: 200, Messages: []string{"division by zero"}, NoAPIKey: true},
		{StatusCode: 400, Messages: []string{"syntax error"}, NoAPIKey: true},
	} {
		if strings.Contains(e.Error(), "no API key") || strings.Contains(e.Error(), "200") {
			t.Errorf("%q", e.Error())
		}
	}
	if got := (&Error{StatusCode: 403, Messages: []string{"permission denied for table t"}, NoAPIKey: true}).Error(); !strings.Contains(got, "403: permission denied for table t (no API key was used") {
		t.Errorf("keyless 403: %q", got)
	}
}

// TestKeylessRequestErrors: the client marks the errors of its requests without a key.
func TestKeylessRequestErrors(t *testing.T) {
	srv, _ := faultServer(t, func(n int, w http.ResponseWriter, r *http.Request) {
		cartoError(w, 403, `{"error":["permission denied for table t"]}`)
	})
	for _, key := range []string{"", secretKey} {
		c := mustClient(t, srv.URL+"/user/alice", WithAPIKey(key), WithRetryPolicy(fastPolicy()))
		_, err := c.Do(context.Background(), &Request{Method: "POST", Path: "api/v2/sql"})
		var ce *Error
		if !errors.As(err, &ce) || ce.NoAPIKey != (key == "") || strings.Contains(err.Error(), "no API key") != (key == "") {
			t.Errorf("key %q: %v (NoAPIKey %v)", key, err, ce != nil && ce.NoAPIKey)
		}
	}
}
