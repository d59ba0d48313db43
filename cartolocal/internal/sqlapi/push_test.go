package sqlapi_test

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gocarto/carto/cartolocal/cartotest"
)

// socketWrite is one write(2) of the server to a client's connection.
type socketWrite struct {
	at   time.Time
	data []byte
}

// writeLog records every write of a server's connections, to tell how an answer went out.
type writeLog struct {
	mu     sync.Mutex
	writes []socketWrite
}

func (l *writeLog) all() []socketWrite {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]socketWrite(nil), l.writes...)
}

type loggedListener struct {
	net.Listener
	log *writeLog
}

func (ln loggedListener) Accept() (net.Conn, error) {
	c, err := ln.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return loggedConn{c, ln.log}, nil
}

type loggedConn struct {
	net.Conn
	log *writeLog
}

func (c loggedConn) Write(p []byte) (int, error) {
	c.log.mu.Lock()
	c.log.writes = append(c.log.writes, socketWrite{time.Now(), bytes.Clone(p)})
	c.log.mu.Unlock()
	return c.Conn.Write(p)
}

// serveLogged serves the account's server on a listener of its own whose writes are logged, and
// returns the account's SQL API URL there.
func serveLogged(t *testing.T, acct *cartotest.Account) (string, *writeLog) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	log := &writeLog{}
	hs := acct.Server.HTTPServer()
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = hs.Serve(loggedListener{ln, log})
	}()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if hs.Shutdown(ctx) != nil {
			_ = hs.Close()
		}
		<-done
	})
	u, err := url.Parse(acct.URL)
	if err != nil {
		t.Fatal(err)
	}
	u.Host = ln.Addr().String()
	return u.String() + "api/v2/sql", log
}

// askLogged runs q with the master key and reads the whole answer; it returns when it began.
func askLogged(t *testing.T, acct *cartotest.Account, sqlURL, q string) (time.Time, string) {
	t.Helper()
	client := &http.Client{Transport: &http.Transport{}}
	t.Cleanup(client.CloseIdleConnections)
	start := time.Now()
	res, err := client.PostForm(sqlURL, url.Values{"q": {q}, "api_key": {acct.MasterKey}})
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("%d %s %v", res.StatusCode, b, err)
	}
	return start, string(b)
}

// TestAnswersChunked: every answer is chunked, as CARTO's are (samples 01 and 23), also one
// without rows (a command, a SELECT that matches nothing), whose head goes out only at the end and
// which net/http would send with a Content-Length.
func TestAnswersChunked(t *testing.T) {
	acct := cartotest.New(t)
	u, log := serveLogged(t, acct)
	for _, q := range []string{"SELECT 1 AS n", "SELECT 1 AS n WHERE false", "SET statement_timeout = 1000"} {
		before := len(log.all())
		_, body := askLogged(t, acct, u, q)
		var all strings.Builder
		for _, w := range log.all()[before:] {
			all.Write(w.data)
		}
		head, _, _ := strings.Cut(all.String(), "\r\n\r\n")
		if !strings.Contains(head, "\r\nTransfer-Encoding: chunked") || strings.Contains(head, "Content-Length") {
			t.Errorf("%s: not chunked:\n%s\n(body %s)", q, head, body)
		}
	}
}

// TestSlowFirstRowPushed: a query whose first rows take a while has them (and the status line)
// sent as soon as they come, not held back until the query ends. PostgreSQL sends its output 8 KB
// at a time, so the first rows are 9 KB each (at least two of them reach cartolocal before the
// query's end), and fewer than the 32 KB that would go out for their size alone.
func TestSlowFirstRowPushed(t *testing.T) {
	acct := cartotest.New(t)
	u, log := serveLogged(t, acct)
	const q = `SELECT repeat('x', 9000) || g AS v FROM pg_sleep(0.3), generate_series(1, 3) g
		UNION ALL SELECT 'y' FROM pg_sleep(1.2)`
	start, body := askLogged(t, acct, u, q)
	writes := log.all()
	if len(writes) < 2 {
		t.Fatalf("%d writes, want the first row pushed before the trailer: %q", len(writes), body)
	}
	first, last := writes[0], writes[len(writes)-1]
	if !strings.HasPrefix(string(first.data), "HTTP/1.1 200 OK\r\n") {
		t.Fatalf("first write: %.100q", first.data)
	}
	// The first row is ready 0.3 s in and the answer ends 1.5 s in: the status line must not wait
	// for the end.
	if d := first.at.Sub(start); d >= time.Second {
		t.Errorf("the status line went out %v after the request, with the answer's end", d)
	}
	if d := last.at.Sub(start); d < 1500*time.Millisecond {
		t.Errorf("the answer ended %v after the request; the query sleeps 1.5 s", d)
	}
}
