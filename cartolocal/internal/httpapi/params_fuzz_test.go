package httpapi

import (
	"net/http/httptest"
	"strings"
	"testing"
)

// FuzzReadParams: any query string, content type and body gives parameters or CARTO's 4xx, never a
// panic or another status.
func FuzzReadParams(f *testing.F) {
	f.Add("q=select+1;&a[]=1&a[]=2", "application/json", `{"q":"select 1","a":[1,{"b":null}]}`)
	f.Add("q=%zz&%ff=1", "application/x-www-form-urlencoded", "q=select%201;&x=%")
	f.Add("", "multipart/form-data; boundary=x", "--x\r\nContent-Disposition: form-data; name=\"q\"\r\n\r\n1\r\n--x--\r\n")
	f.Add("api_key=&&==&", "application/json; charset=utf-8", `{"q":"a","q":"b"}`)
	f.Fuzz(func(t *testing.T, query, ctype, body string) {
		r := httptest.NewRequest("POST", "/api/v2/sql", strings.NewReader(body))
		r.URL.RawQuery = query
		r.Header.Set("Content-Type", ctype)
		p, aerr := ReadParams(r)
		if aerr != nil {
			if aerr.Status != 400 && aerr.Status != 413 {
				t.Fatalf("status %d: %s", aerr.Status, aerr.Message)
			}
			return
		}
		for k := range p {
			p.Str(k)
			p.List(k)
		}
	})
}
