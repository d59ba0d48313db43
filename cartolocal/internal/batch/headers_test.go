package batch_test

import (
	"net/http"
	"testing"

	"github.com/gocarto/carto/cartolocal/cartotest"
)

// TestBatchHeaders (issue 9 item 8): every Batch answer carries the CORS headers of CARTO's SQL
// API router, Carto-User once the account is known, and Vary: Authorization once the master key
// is checked (samples 50, 59, 60, 62), and a browser's preflight (OPTIONS) is answered 200 (46).
// Before, the Batch routes sent none of them and OPTIONS was Express's 404 page.
func TestBatchHeaders(t *testing.T) {
	acct := cartotest.New(t)
	h := newJobHTTP(t, acct)
	cors := func(what string, hdr http.Header) {
		t.Helper()
		for _, k := range []string{"Access-Control-Allow-Origin", "Access-Control-Allow-Headers", "Access-Control-Expose-Headers"} {
			if hdr.Get(k) != "*" {
				t.Errorf("%s: %s = %q", what, k, hdr.Get(k))
			}
		}
	}
	for _, tc := range []struct {
		what, method, path, key, body string
		status                        int
		user, vary                    bool
	}{
		{"50 create", "POST", "", acct.MasterKey, `{"query":"select 1"}`, 201, true, true},
		{"59 unknown job", "GET", "/00000000-0000-0000-0000-000000000000", acct.MasterKey, "", 400, true, true},
		{"60 no key", "POST", "", "", `{"query":"select 1"}`, 403, true, false},
		{"61 public key", "GET", "/00000000-0000-0000-0000-000000000000", acct.PublicKey, "", 403, true, false},
		{"wrong key", "GET", "/00000000-0000-0000-0000-000000000000", "nope", "", 401, true, false},
		{"62 route without the method", "PATCH", "", acct.MasterKey, "", 404, false, false},
		{"46 preflight", "OPTIONS", "", "", "", 200, false, false},
		{"46 preflight of a job", "OPTIONS", "/00000000-0000-0000-0000-000000000000", "", "", 200, false, false},
	} {
		status, hdr, body := h.do(tc.method, tc.path, tc.key, tc.body, false)
		if status != tc.status {
			t.Errorf("%s: status %d %s", tc.what, status, body)
		}
		cors(tc.what, hdr)
		if got := hdr.Get("Carto-User"); (got == acct.User) != tc.user {
			t.Errorf("%s: Carto-User %q", tc.what, got)
		}
		if got := hdr.Get("Vary"); (got == "Authorization") != tc.vary {
			t.Errorf("%s: Vary %q", tc.what, got)
		}
		if tc.method == "OPTIONS" && (body != "" || hdr.Get("Content-Length") != "0") {
			t.Errorf("%s: body %q, Content-Length %q", tc.what, body, hdr.Get("Content-Length"))
		}
	}
}
