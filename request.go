package carto

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	"github.com/gocarto/carto/internal/redact"
)

// Request describes one call to a CARTO API, relative to the Client's base URL.
type Request struct {
	Method string     // GET, POST, PUT, DELETE
	Path   string     // relative to the base URL, such as "api/v2/sql" or "api/v2/sql/job/ID"
	Query  url.Values // query parameters; never put the API key here, the Client sends it
	// Body is sent as is and may be sent again on a retry. ContentType describes it.
	Body        []byte
	ContentType string
	// Stream, if set instead of Body, is sent once; a request with a Stream is retried only if it
	// never left (nothing of the stream was read).
	Stream io.Reader
	// Header holds extra headers.
	Header http.Header
	// Idempotent marks a request that changes nothing on the server (a SELECT, a GET), so that it
	// may be retried after a 502, 503 or 504, when it may or may not have run.
	Idempotent bool
}

// maxErrorBody bounds how much of an error response is read: error bodies are small, and a server
// that sends megabytes of HTML must not cost us megabytes.
const maxErrorBody = 64 << 10

// Do sends req, authenticating with the Client's key as HTTP Basic auth and retrying as the
// RetryPolicy allows. A 2xx answer is returned for the caller to read and close. Any other
// answer, and any failure to get one, is returned as a *Error, except that a wait between
// attempts that ctx ends returns ctx's error, wrapped.
func (c *Client) Do(ctx context.Context, req *Request) (*http.Response, error) {
	if closer, ok := req.Stream.(io.Closer); ok {
		sb := &streamBody{Reader: req.Stream, closer: closer, held: true}
		defer sb.release()
		r := *req
		r.Stream = sb
		req = &r
	}
	start := time.Now()
	for attempt := 1; ; attempt++ {
		resp, err := c.once(ctx, req)
		if err == nil {
			return resp, nil
		}
		wait, ok := c.retryWait(req, err, attempt, time.Since(start))
		if !ok {
			return nil, err
		}
		if werr := c.retry.wait(ctx, wait); werr != nil {
			// The context's error, not the last answer's: a caller that sees a 429 or a 503
			// would retry on its own.
			return nil, fmt.Errorf("carto: %w while waiting to retry; the last attempt failed: %v", werr, err)
		}
	}
}

// streamBody hands a Stream that is an io.Closer to net/http, which closes a request's body when a
// round trip fails, even one that never got a connection. A Stream retried after such a failure
// must still be open, so while Do may retry, a Close is only noted; release does it.
type streamBody struct {
	io.Reader
	closer      io.Closer
	mu          sync.Mutex
	held        bool
	closeWanted bool
}

func (s *streamBody) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.held {
		s.closeWanted = true
		return nil
	}
	return s.closer.Close()
}

// release ends Do's hold: a Close already asked for happens now, a later one (net/http may still
// be sending the stream after the answer came) goes straight through.
func (s *streamBody) release() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.held = false
	if s.closeWanted {
		_ = s.closer.Close()
	}
}

// retryWait decides whether the failed attempt may be repeated, and after how long.
func (c *Client) retryWait(req *Request, err error, attempt int, elapsed time.Duration) (time.Duration, bool) {
	p := c.retry
	if attempt >= p.MaxAttempts {
		return 0, false
	}
	var e *Error
	if !errors.As(err, &e) {
		return 0, false
	}
	var wait time.Duration
	switch {
	case !e.Sent && e.StatusCode == 0 && isTransient(e.Err):
		wait = p.backoff(attempt)
	case IsRateLimited(err):
		wait = p.backoff(attempt)
		if e.RateLimit != nil && e.RateLimit.RetryAfter > 0 {
			wait = e.RateLimit.RetryAfter + p.backoff(1)/4
		}
	case req.Idempotent && (e.StatusCode == 502 || e.StatusCode == 503 || e.StatusCode == 504):
		wait = p.backoff(attempt)
	default:
		return 0, false
	}
	if req.Stream != nil && e.Sent {
		return 0, false
	}
	if p.MaxElapsed > 0 && elapsed+wait > p.MaxElapsed {
		return 0, false
	}
	return wait, true
}

// isTransient tells a failure worth another try (connection refused, a DNS hiccup) from one that
// will fail the same way (bad certificate, context ended).
func isTransient(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var certErr *tls.CertificateVerificationError
	if errors.As(err, &certErr) {
		return false
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return dnsErr.IsTemporary || dnsErr.IsTimeout
	}
	return true
}

func (c *Client) once(ctx context.Context, req *Request) (*http.Response, error) {
	u := c.URL(req.Path)
	q := url.Values{}
	for k, v := range req.Query {
		q[k] = v
	}
	if c.clientID != "" && !q.Has("client") {
		q.Set("client", c.clientID)
	}
	u.RawQuery = q.Encode()

	var body io.Reader
	if req.Stream != nil {
		body = req.Stream
	} else if req.Body != nil {
		body = bytes.NewReader(req.Body)
	}
	method := req.Method
	if method == "" {
		method = http.MethodGet
	}
	fail := &Error{Method: method, Path: u.Path, NoAPIKey: c.apiKey == ""}

	var gotConn bool
	trace := &httptrace.ClientTrace{GotConn: func(httptrace.GotConnInfo) { gotConn = true }}
	hr, err := http.NewRequestWithContext(httptrace.WithClientTrace(ctx, trace), method, u.String(), body)
	if err != nil {
		fail.Err = redact.Err(err)
		return nil, fail
	}
	for k, v := range req.Header {
		hr.Header[k] = v
	}
	if req.ContentType != "" {
		hr.Header.Set("Content-Type", req.ContentType)
	}
	hr.Header.Set("User-Agent", c.userAgent)
	if hr.Header.Get("Accept") == "" {
		hr.Header.Set("Accept", "application/json")
	}
	if c.apiKey != "" {
		hr.SetBasicAuth(c.user, c.apiKey)
	}

	resp, err := c.http.Do(hr)
	if err != nil {
		fail.Sent = gotConn
		fail.Err = redact.Err(err)
		return nil, fail
	}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return resp, nil
	}
	defer resp.Body.Close()
	fail.Sent = true
	fail.StatusCode = resp.StatusCode
	fail.RateLimit = parseRateLimit(resp.Header)
	readErrorBody(resp, fail)
	// Drain a little so the connection can be reused; a huge body is cut instead.
	_, _ = io.CopyN(io.Discard, resp.Body, maxErrorBody)
	return nil, fail
}

// readErrorBody fills e from CARTO's JSON error body, or from whatever text a proxy sent instead.
func readErrorBody(resp *http.Response, e *Error) {
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	var body struct {
		Error jsontext.Value `json:"error"`
		// Errors is the Maps API's (Windshaft's) and some Rails controllers' name for it.
		Errors  jsontext.Value `json:"errors"`
		Context string         `json:"context"`
		Detail  string         `json:"detail"`
		Hint    string         `json:"hint"`
	}
	err := json.Unmarshal(raw, &body)
	if err == nil && len(body.Error) == 0 {
		body.Error = body.Errors
	}
	if err == nil && len(body.Error) > 0 {
		var msgs []string
		if json.Unmarshal(body.Error, &msgs) != nil {
			var one string
			if json.Unmarshal(body.Error, &one) == nil {
				msgs = []string{one}
			}
		}
		e.Messages, e.Context, e.Detail, e.Hint = msgs, body.Context, body.Detail, body.Hint
		if len(msgs) > 0 {
			return
		}
	}
	e.Messages = []string{textSnippet(raw, resp.Status)}
}

// textSnippet turns a non-JSON error page (Express's "Cannot GET …", an nginx 502 page) into one
// short line.
func textSnippet(raw []byte, status string) string {
	s := string(raw)
	var b strings.Builder
	in := false
	for _, r := range s {
		switch {
		case r == '<':
			in = true
			b.WriteByte(' ')
		case r == '>':
			in = false
		case !in:
			b.WriteRune(r)
		}
	}
	text := strings.Join(strings.Fields(b.String()), " ")
	if text == "" {
		return status
	}
	if len(text) > 200 {
		cut := 200
		for cut > 0 && !utf8.RuneStart(text[cut]) {
			cut-- // never in the middle of a character
		}
		text = text[:cut] + "…"
	}
	return text
}

func parseRateLimit(h http.Header) *RateLimit {
	limit, okL := headerInt(h, "Carto-Rate-Limit-Limit")
	rem, okR := headerInt(h, "Carto-Rate-Limit-Remaining")
	reset, okS := headerInt(h, "Carto-Rate-Limit-Reset")
	after, okA := headerInt(h, "Retry-After")
	if !okL && !okR && !okS && !okA {
		return nil
	}
	rl := &RateLimit{Limit: limit, Remaining: rem, Reset: time.Duration(reset) * time.Second}
	if okA && after > 0 {
		rl.RetryAfter = time.Duration(after) * time.Second
	}
	return rl
}

func headerInt(h http.Header, name string) (int, bool) {
	v := h.Get(name)
	if v == "" {
		return 0, false
	}
	n, err := strconv.Atoi(strings.TrimSpace(v))
	return n, err == nil
}
