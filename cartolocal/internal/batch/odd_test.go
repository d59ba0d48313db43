package batch_test

import (
	"encoding/base64"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gocarto/carto/cartolocal/cartotest"
)

// TestOddJobRequests sends the Batch routes requests that no client should send: none may make the
// server fail (500), and every answer must be CARTO's JSON.
func TestOddJobRequests(t *testing.T) {
	acct := cartotest.New(t)
	base := "/user/" + acct.User + "/api/v2/sql/job"
	key := "api_key=" + acct.MasterKey
	type req struct {
		method, target, ctype, body string
		auth                        string
	}
	basic := func(s string) string { return "Basic " + base64.StdEncoding.EncodeToString([]byte(s)) }
	reqs := []req{
		{"GET", base + "/x?" + key + "&a=%zz", "", "", ""},
		{"GET", base + "/x", "", "", "Basic !!!"},
		{"GET", base + "/x", "", "", basic("nocolon")},
		{"GET", base + "/x", "", "", basic(":" + acct.MasterKey)},
		{"GET", base + "/x", "", "", basic(acct.User + ":")},
		{"GET", base + "/x?" + key + "&" + key, "", "", ""},
		{"GET", base + "/" + strings.Repeat("a", 5000) + "?" + key, "", "", ""},
		{"GET", base + "/00000000-0000-0000-0000-00000000000%C3%A9?" + key, "", "", ""},
		{"DELETE", base + "/00000000-0000-0000-0000-000000000000?" + key, "", "", ""},
		{"PUT", base + "/00000000-0000-0000-0000-000000000000?" + key, "application/json", `{"query":"select 1"}`, ""},
		{"POST", base + "?" + key, "application/json", `null`, ""},
		{"POST", base + "?" + key, "application/json", `[]`, ""},
		{"POST", base + "?" + key, "application/json", `"x"`, ""},
		{"POST", base + "?" + key, "application/json", `{"query":null}`, ""},
		{"POST", base + "?" + key, "application/json", `{"query":{}}`, ""},
		{"POST", base + "?" + key, "application/json", `{"query":{"query":{}}}`, ""},
		{"POST", base + "?" + key, "application/json", `{"query":{"query":[1]}}`, ""},
		{"POST", base + "?" + key, "application/json", `{"query":{"query":[[]]}}`, ""},
		{"POST", base + "?" + key, "application/json", `{"query":[{"query":1}]}`, ""},
		{"POST", base + "?" + key, "application/json", `{"query":[null]}`, ""},
		{"POST", base + "?" + key, "application/json", `{"query":[{}]}`, ""},
		{"POST", base + "?" + key, "application/json", `{"query":true}`, ""},
		{"POST", base + "?" + key, "application/json", `{"query":12}`, ""},
		{"POST", base + "?" + key, "application/json", `{"query":-0}`, ""},
		{"POST", base + "?" + key, "application/json", `{"query":` + strings.Repeat("[", 3000) + strings.Repeat("]", 3000) + `}`, ""},
		{"POST", base + "?" + key, "application/json", `{"query":"select 1","query":"select 2"}`, ""},
		{"POST", base, "application/json", `{"query":"select 1","api_key":12}`, ""},
		{"POST", base, "application/json", `{"query":"select 1","api_key":["` + acct.MasterKey + `"]}`, ""},
		{"POST", base, "application/json", `{"query":"select 1","api_key":{"a":1}}`, ""},
		{"POST", base + "?" + key, "application/json", `{"query":"sel`, ""},
		{"POST", base + "?" + key, "application/json", `{"query":"select 1 \u0000"}`, ""},
		{"POST", base + "?" + key, "application/json", `{"query":["select 1","select '\u0000'"]}`, ""},
		{"POST", base + "?" + key, "application/json", `{"query":{"query":[{"query":"select 1","onerror":"\u0000"}],"onsuccess":"\u0000"}}`, ""},
		{"POST", base + "?" + key, "application/x-www-form-urlencoded", "query=select+1%00", ""},
		{"POST", base + "?" + key, "application/json", "{\"query\":\"\xff\"}", ""},
		{"POST", base + "?" + key, "application/x-www-form-urlencoded", "query=%zz", ""},
		{"POST", base + "?" + key, "application/x-www-form-urlencoded", "query[]=select+1&query[]=select+2&query=x", ""},
		{"POST", base + "?" + key, "application/x-www-form-urlencoded", "query[a]=select+1", ""},
		{"POST", base + "?" + key, "application/x-www-form-urlencoded", "query=%ff", ""},
		{"POST", base + "?" + key, "multipart/form-data", "--x\r\n", ""},
		{"POST", base + "?" + key, "multipart/form-data; boundary=x", "garbage", ""},
		{"POST", base + "?" + key, "multipart/form-data; boundary=x", "--x\r\nContent-Disposition: form-data; name=\"query\"\r\n\r\nselect 1\r\n--x--\r\n", ""},
		{"POST", base + "?" + key, "text/plain", "select 1", ""},
		{"POST", base + "?" + key, "application/json; charset=latin1", `{"query":"select 1"}`, ""},
		{"PATCH", base + "?" + key, "", "", ""},
		{"POST", "/user/" + acct.User + "%00/api/v2/sql/job?" + key, "application/json", `{"query":"select 1"}`, ""},
		{"POST", "/api/v2/sql/job?" + key, "application/json", `{"query":"select 1"}`, basic("nobody:x")},
	}
	for _, rq := range reqs {
		r := httptest.NewRequest(rq.method, rq.target, strings.NewReader(rq.body))
		if rq.ctype != "" {
			r.Header.Set("Content-Type", rq.ctype)
		}
		if rq.auth != "" {
			r.Header.Set("Authorization", rq.auth)
		}
		w := httptest.NewRecorder()
		acct.Server.ServeHTTP(w, r)
		body := w.Body.String()
		if w.Code >= 500 {
			t.Errorf("%s %s %q: %d %s", rq.method, rq.target, rq.body, w.Code, body)
			continue
		}
		if strings.HasPrefix(w.Header().Get("Content-Type"), "application/json") && !json.Valid([]byte(body)) {
			t.Errorf("%s %s %q: invalid JSON %q", rq.method, rq.target, rq.body, body)
		}
	}
}
