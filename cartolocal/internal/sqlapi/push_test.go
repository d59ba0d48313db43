package sqlapi_test

import (
	"io"
	"net/http"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/gocarto/carto/cartolocal/cartotest"
)

// TestAnswersChunked: every answer is chunked, as CARTO's are (samples 01 and 23), also one
// without rows (a command, a SELECT that matches nothing), whose head goes out only at the end and
// which net/http would send with a Content-Length.
func TestAnswersChunked(t *testing.T) {
	acct := cartotest.New(t)
	for _, q := range []string{"SELECT 1 AS n", "SELECT 1 AS n WHERE false", "SET statement_timeout = 1000"} {
		res, err := http.PostForm(sqlURL(acct), url.Values{"q": {q}, "api_key": {acct.MasterKey}})
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(res.Body)
		res.Body.Close()
		if err != nil || res.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d %s %v", q, res.StatusCode, body, err)
		}
		if !slices.Equal(res.TransferEncoding, []string{"chunked"}) || res.ContentLength != -1 {
			t.Errorf("%s: Transfer-Encoding %q, Content-Length %d; want chunked (body %s)", q, res.TransferEncoding, res.ContentLength, body)
		}
	}
}

// TestSlowFirstRowPushed: a query whose first rows take a while has them (and the status line)
// sent as soon as they come, not held back until the query ends. PostgreSQL sends its output 8 KB
// at a time, so the first rows are 9 KB each (at least two of them reach cartolocal before the
// query's end), and fewer than the 32 KB that would go out for their size alone.
func TestSlowFirstRowPushed(t *testing.T) {
	acct := cartotest.New(t)
	const q = `SELECT repeat('x', 9000) || g AS v FROM pg_sleep(0.3), generate_series(1, 3) g
		UNION ALL SELECT 'y' FROM pg_sleep(1.2)`
	start := time.Now()
	// The client returns the answer as soon as its status line and headers have come.
	res, err := http.PostForm(sqlURL(acct), url.Values{"q": {q}, "api_key": {acct.MasterKey}})
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	head := time.Since(start)
	body, err := io.ReadAll(res.Body)
	end := time.Since(start)
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("%d %.200s %v", res.StatusCode, body, err)
	}
	// The first rows are ready 0.3 s in and the answer ends 1.5 s in: the status line must not
	// wait for the end.
	if head >= time.Second {
		t.Errorf("the status line came %v after the request, with the answer's end", head)
	}
	if end < 1500*time.Millisecond {
		t.Errorf("the answer ended %v after the request; the query sleeps 1.5 s", end)
	}
}
