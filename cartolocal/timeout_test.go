package cartolocal_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gocarto/carto/cartolocal"
	"github.com/gocarto/carto/cartolocal/cartotest"
)

// serveOwn serves acct's server through its own HTTPServer, started after the test shortened the
// body idle timeout, and returns its address.
func serveOwn(t *testing.T, acct *cartotest.Account) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := acct.Server.HTTPServer()
	go func() { _ = hs.Serve(ln) }()
	t.Cleanup(func() { _ = hs.Close() })
	return ln.Addr().String()
}

// TestStalledBodyEndsItsRequest (issue 9 item 7): a client that sends headers and part of a body,
// then nothing, loses its connection once the body has been idle for the timeout, instead of
// holding it (and its file descriptor) for ever.
func TestStalledBodyEndsItsRequest(t *testing.T) {
	const idle = 300 * time.Millisecond
	defer cartolocal.SetBodyIdleTimeout(idle)()
	acct := cartotest.New(t)
	addr := serveOwn(t, acct)

	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	start := time.Now()
	fmt.Fprintf(conn, "POST /user/%s/api/v2/sql HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\nq=sel", acct.User)
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	// Whatever the server answers first, it must then close the connection.
	_, err = io.Copy(io.Discard, conn)
	if err != nil {
		t.Fatalf("the connection was not closed: %v after %v", err, time.Since(start))
	}
	if d := time.Since(start); d < idle {
		t.Errorf("closed after %v, before the idle timeout %v", d, idle)
	}
}

// TestSlowBodyThatKeepsMovingPasses: the timeout is between reads, not on the whole body, so an
// upload that takes several times the idle timeout but keeps arriving is served.
func TestSlowBodyThatKeepsMovingPasses(t *testing.T) {
	const idle = 300 * time.Millisecond
	defer cartolocal.SetBodyIdleTimeout(idle)()
	acct := cartotest.New(t)
	addr := serveOwn(t, acct)

	pr, pw := io.Pipe()
	go func() {
		defer pw.Close()
		fmt.Fprintf(pw, "q=select+1+as+one+")
		for range 8 { // 8 × idle/3: the whole body takes more than twice the idle timeout
			time.Sleep(idle / 3)
			fmt.Fprintf(pw, "++")
		}
		fmt.Fprintf(pw, "&api_key=%s", acct.MasterKey)
	}()
	req, err := http.NewRequest("POST", "http://"+addr+"/user/"+acct.User+"/api/v2/sql", pr)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(bufio.NewReader(resp.Body))
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"rows":[{"one":1}]`) {
		t.Fatalf("slow upload: %d %s", resp.StatusCode, body)
	}
}
