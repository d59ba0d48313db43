package sqlapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gocarto/carto/cartolocal/cartotest"
)

// copyTo posts q to api/v2/sql/copyto with key (none when empty).
func copyTo(t *testing.T, ctx context.Context, acct *cartotest.Account, q, key string) sqlResp {
	t.Helper()
	form := url.Values{"q": {q}}
	if key != "" {
		form.Set("api_key", key)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, acct.URL+"api/v2/sql/copyto", strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return doSQL(t, req)
}

// createKey makes a regular API key through the Auth API and returns its token.
func createKey(t *testing.T, acct *cartotest.Account, name, grants string) string {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, acct.URL+"api/v3/api_keys?api_key="+acct.MasterKey,
		strings.NewReader(`{"name":"`+name+`","grants":`+grants+`}`))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	r := doSQL(t, req)
	var k struct {
		Token string `json:"token"`
	}
	if r.status != 201 || json.Unmarshal([]byte(r.body), &k) != nil || k.Token == "" {
		t.Fatalf("creating key %s: %d %s", name, r.status, r.body)
	}
	return k.Token
}

// TestCopyToRunsAsTheKeysRole: a COPY runs as its key's role, as a query does: a regular key
// copies the table it was granted (it ran as the public role, and was refused), a key without the
// sql grant is refused, and no key is the public role.
func TestCopyToRunsAsTheKeysRole(t *testing.T) {
	acct := cartotest.New(t)
	acct.Exec(t, "CREATE TABLE secret (v int); INSERT INTO secret VALUES (7)")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	reader := createKey(t, acct, "reader", `[{"type":"apis","apis":["sql"]},{"type":"database","tables":[{"schema":"`+acct.User+`","name":"secret","permissions":["select"]}]}]`)
	mapsOnly := createKey(t, acct, "maps-only", `[{"type":"apis","apis":["maps"]}]`)
	const q = "COPY secret TO STDOUT"
	if r := copyTo(t, ctx, acct, q, reader); r.status != 200 || r.body != "7\n" {
		t.Errorf("granted key: %d %q", r.status, r.body)
	}
	expect(t, copyTo(t, ctx, acct, q, mapsOnly), 403, `{"error":["forbidden"]}`)
	expect(t, copyTo(t, ctx, acct, q, ""), 403, `{"error":["permission denied for table secret"]}`)
	if r := copyTo(t, ctx, acct, q, acct.MasterKey); r.status != 200 || r.body != "7\n" {
		t.Errorf("master key: %d %q", r.status, r.body)
	}
}

// TestCopyBusyPoolIs429 (issue 9 item 6): a COPY that finds every connection of its role busy
// waits a bounded time, then gets CARTO's 429, as a query does, instead of hanging.
func TestCopyBusyPoolIs429(t *testing.T) {
	acct := cartotest.New(t)
	u, _ := acct.Server.User(acct.User)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	holdPublicPool(t, ctx, u)
	r := copyTo(t, ctx, acct, "COPY (SELECT 1) TO STDOUT", "")
	expect(t, r, 429, `{"error":["You are over platform's limits. Please contact us to know more details"],"context":"limit","detail":"rate-limit"}`)
	if r.header.Get("Retry-After") != "1" {
		t.Errorf("Retry-After %q", r.header.Get("Retry-After"))
	}
}
