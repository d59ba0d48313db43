package cartolocal

import (
	"io"
	"net/http"
	"time"
)

// bodyIdleTimeout is the longest a request body may pause between two reads.
var bodyIdleTimeout = time.Minute

// idleBody moves the connection's read deadline forward before each read of a request body, so a
// body that keeps arriving is never cut, whatever its size, and one that stalls ends its request
// after idle. Once the body has ended it leaves the deadline alone: net/http then clears it to
// watch the connection for the client going away, and a deadline set after that would cancel the
// request's context.
type idleBody struct {
	body io.ReadCloser
	rc   *http.ResponseController
	idle time.Duration
	done bool
}

func newIdleBody(w http.ResponseWriter, body io.ReadCloser, idle time.Duration) *idleBody {
	return &idleBody{body: body, rc: http.NewResponseController(w), idle: idle}
}

func (b *idleBody) Read(p []byte) (int, error) {
	if !b.done {
		// A ResponseWriter that cannot set deadlines (a test recorder, an HTTP/2 stream of an
		// older server) keeps whatever its server enforces.
		_ = b.rc.SetReadDeadline(time.Now().Add(b.idle))
	}
	n, err := b.body.Read(p)
	if err != nil {
		b.done = true
	}
	return n, err
}

func (b *idleBody) Close() error { return b.body.Close() }
