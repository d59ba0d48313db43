package httpapi_test

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gocarto/carto/cartolocal/cartotest"
)

// TestParamsSemicolonAndBadEscape: CARTO parses the query string and form bodies with qs, which
// splits on '&' only and keeps a malformed %-escape as written. SQL is full of ';', and curl
// -d 'query=...; ...' sends them raw, so such requests must not be refused.
func TestParamsSemicolonAndBadEscape(t *testing.T) {
	acct := cartotest.New(t)
	base := "/user/" + acct.User + "/api/v2/"

	r := httptest.NewRequest("GET", base+"sql?q=select+1+as+one;&api_key="+acct.MasterKey, nil)
	w := httptest.NewRecorder()
	acct.Server.ServeHTTP(w, r)
	if w.Code != 200 || !strings.HasPrefix(w.Body.String(), `{"rows":[{"one":1}]`) {
		t.Errorf("GET with a raw ';' in q: %d %s", w.Code, w.Body)
	}

	r = httptest.NewRequest("GET", base+"sql?q=select+'5%zz'+as+z&api_key="+acct.MasterKey, nil)
	w = httptest.NewRecorder()
	acct.Server.ServeHTTP(w, r)
	if w.Code != 200 || !strings.Contains(w.Body.String(), `"z":"5%zz"`) {
		t.Errorf("GET with a malformed %%-escape in q: %d %s", w.Code, w.Body)
	}

	r = httptest.NewRequest("POST", base+"sql/job?api_key="+acct.MasterKey,
		strings.NewReader("query=select 1; select 2"))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	w = httptest.NewRecorder()
	acct.Server.ServeHTTP(w, r)
	if w.Code != 201 || !strings.Contains(w.Body.String(), `"query":"select 1; select 2"`) {
		t.Errorf("form body with a raw ';': %d %s", w.Code, w.Body)
	}
}

// TestParamsDuplicateJSONNames: CARTO reads a JSON body with JSON.parse, where a repeated name
// keeps its last value.
func TestParamsDuplicateJSONNames(t *testing.T) {
	acct := cartotest.New(t)
	r := httptest.NewRequest("POST", "/user/"+acct.User+"/api/v2/sql/job?api_key="+acct.MasterKey,
		strings.NewReader(`{"query":"select 1","query":"select 2"}`))
	r.Header.Set("Content-Type", "application/json")
	w := httptest.NewRecorder()
	acct.Server.ServeHTTP(w, r)
	if w.Code != 201 || !strings.Contains(w.Body.String(), `"query":"select 2"`) {
		t.Errorf("job with a repeated query name: %d %s", w.Code, w.Body)
	}
	r = httptest.NewRequest("POST", "/user/"+acct.User+"/api/v2/sql",
		strings.NewReader(`{"q":"select 1 as one","api_key":"wrong","q":"select 2 as two","api_key":"`+acct.MasterKey+`"}`))
	r.Header.Set("Content-Type", "application/json")
	w = httptest.NewRecorder()
	acct.Server.ServeHTTP(w, r)
	if w.Code != 200 || !strings.HasPrefix(w.Body.String(), `{"rows":[{"two":2}]`) {
		t.Errorf("SQL API with repeated names: %d %s", w.Code, w.Body)
	}
}
