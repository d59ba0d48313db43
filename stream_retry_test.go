package carto

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
)

// TestStreamRetriedAfterDialFailure: a Stream that never left is sent again on the next attempt.
// net/http closes a request's body when the round trip fails, even before a connection exists,
// so a Stream that is an io.Closer (a file, a pipe) must not be handed to it as is: the retry would
// then read a closed stream.
func TestStreamRetriedAfterDialFailure(t *testing.T) {
	var got atomic.Value
	srv, _ := faultServer(t, func(n int, w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got.Store(string(b))
		w.WriteHeader(200)
	})
	var dials atomic.Int32
	tr := http.DefaultTransport.(*http.Transport).Clone()
	var d net.Dialer
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		if dials.Add(1) == 1 {
			return nil, errors.New("simulated dial failure")
		}
		return d.DialContext(ctx, network, addr)
	}
	t.Cleanup(tr.CloseIdleConnections)
	c := mustClient(t, srv.URL+"/user/alice", WithHTTPClient(&http.Client{Transport: tr}), WithRetryPolicy(fastPolicy()))

	path := filepath.Join(t.TempDir(), "body")
	if err := os.WriteFile(path, []byte("copy data"), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.Do(context.Background(), &Request{Method: "POST", Path: "api/v2/sql/copyfrom", Stream: f})
	if err != nil {
		t.Fatalf("Do: %v (dials %d)", err, dials.Load())
	}
	resp.Body.Close()
	if s, _ := got.Load().(string); s != "copy data" {
		t.Fatalf("server got %q", s)
	}
	// Once sent, the stream is closed, as net/http closes a request body.
	if err := f.Close(); !errors.Is(err, os.ErrClosed) {
		t.Errorf("the Stream was left open: Close = %v", err)
	}
}
