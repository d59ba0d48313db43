package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/textproto"
	"net/url"
	"os"
	"os/exec"
	"strings"
)

// The floor of a SELECT 1 on this machine: the driver against a server process that answers every
// request with cartolocal's own answer to SELECT 1 (headers and body, chunked, read once from
// cartolocal), made without any PostgreSQL. What the driver takes there is its own cost plus one
// HTTP round trip between two processes; what it takes through cartolocal beyond that is
// cartolocal's and PostgreSQL's.

// cannedAnswer is what the canned server answers with.
type cannedAnswer struct {
	header http.Header
	body   []byte
}

// fetchCanned asks cartolocal for SELECT 1 as the driver asks, and keeps the answer.
func fetchCanned(ctx context.Context, baseURL, key string) (*cannedAnswer, error) {
	form := url.Values{"q": {"SELECT 1"}, "format": {"json"}}.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, baseURL+"api/v2/sql", strings.NewReader(form))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := readSmall(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("SELECT 1: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("SELECT 1: %s", resp.Status)
	}
	return &cannedAnswer{header: resp.Header, body: body}, nil
}

// maxCanned bounds the canned answer: cartolocal's answer to SELECT 1 and its headers are a few
// hundred bytes.
const maxCanned = 64 << 10

// readSmall reads all of r, which must hold at most maxCanned bytes: a bigger one is an error,
// never a cut answer.
func readSmall(r io.Reader) ([]byte, error) {
	var buf bytes.Buffer
	n, err := io.Copy(&buf, io.LimitReader(r, maxCanned+1))
	if err != nil {
		return nil, err
	}
	if n > maxCanned {
		return nil, fmt.Errorf("over %d bytes", maxCanned)
	}
	return buf.Bytes(), nil
}

// startCanned starts the canned server as a child process (self -child canned) and returns its
// base URL and a function that stops it. The answer goes to the child on its standard input, as
// MIME headers, a blank line and the body.
func startCanned(self string, a *cannedAnswer) (baseURL string, stop func(), err error) {
	var in bytes.Buffer
	// net/http writes these itself.
	if err := a.header.WriteSubset(&in, map[string]bool{"Date": true, "Content-Length": true, "Transfer-Encoding": true}); err != nil {
		return "", nil, err
	}
	in.WriteString("\r\n")
	in.Write(a.body)
	cmd := exec.Command(self, "-child", "canned")
	cmd.Stdin = &in
	out, err := cmd.StdoutPipe()
	if err != nil {
		return "", nil, err
	}
	if err := cmd.Start(); err != nil {
		return "", nil, err
	}
	stop = func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		stop()
		return "", nil, fmt.Errorf("canned server: %w", err)
	}
	return strings.TrimSpace(line), stop, nil
}

// serveCanned is the canned server's child process: it reads the answer from its standard input,
// prints its base URL and serves until killed.
func serveCanned() error {
	b, err := readSmall(os.Stdin)
	if err != nil {
		return fmt.Errorf("canned answer: %w", err)
	}
	r := bufio.NewReader(bytes.NewReader(b))
	mime, err := textproto.NewReader(r).ReadMIMEHeader()
	if err != nil {
		return fmt.Errorf("canned answer: %w", err)
	}
	header := http.Header(mime)
	body, err := readSmall(r)
	if err != nil {
		return fmt.Errorf("canned answer: %w", err)
	}
	header.Set("Transfer-Encoding", "chunked") // as cartolocal sends it
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	fmt.Printf("http://%s/user/bench/\n", ln.Addr())
	return http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// The request is read as cartolocal reads it: the whole form.
		if err := r.ParseForm(); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		h := w.Header()
		for k, v := range header {
			h[k] = v
		}
		_, _ = w.Write(body)
	}))
}
