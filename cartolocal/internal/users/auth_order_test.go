package users_test

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gocarto/carto/cartolocal/cartotest"
)

// TestAPIKeyLookupOrder follows CARTO's authorization middleware: the key is the first non-empty
// of the query string's api_key, its map_key, the body's api_key, its map_key; an empty value is
// no key at all (a public request), not a wrong one.
func TestAPIKeyLookupOrder(t *testing.T) {
	acct := cartotest.New(t)
	acct.Exec(t, `CREATE TABLE secret_t (x int)`)
	sql := "/user/" + acct.User + "/api/v2/sql"
	cases := []struct {
		name, query, body string
		status            int
	}{
		{"empty api_key is public", "q=select+1+as+one&api_key=", "", 200},
		{"empty api_key, map_key used", "q=select+count(*)+from+secret_t&api_key=&map_key=" + acct.MasterKey, "", 200},
		{"query key before body key", "api_key=" + acct.MasterKey, `{"q":"select count(*) from secret_t","api_key":"wrong"}`, 200},
		{"empty query key, body key used", "api_key=", `{"q":"select count(*) from secret_t","api_key":"` + acct.MasterKey + `"}`, 200},
	}
	for _, c := range cases {
		method := "GET"
		if c.body != "" {
			method = "POST"
		}
		r := httptest.NewRequest(method, sql+"?"+c.query, strings.NewReader(c.body))
		if c.body != "" {
			r.Header.Set("Content-Type", "application/json")
		}
		w := httptest.NewRecorder()
		acct.Server.ServeHTTP(w, r)
		if w.Code != c.status {
			t.Errorf("%s: %d %s", c.name, w.Code, w.Body)
		}
	}
}
