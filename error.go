package carto

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Error is what a CARTO API answered when it did not answer with success, or why no answer came.
// It never contains the API key: URLs in it are redacted, and CARTO never echoes keys in messages.
//
// CARTO's error body is {"error":["message"],"context":"…","detail":"…","hint":"…"}; the SQL API
// takes context, detail and hint from PostgreSQL's error fields, and sets context "limit" with
// detail "rate-limit" or "datasource" for its 429s.
type Error struct {
	// StatusCode is the HTTP status; 0 when no response arrived (then Err says why), 200 when an
	// error came in the trailer of a response that had already started streaming rows.
	StatusCode int
	// Messages are the server's error messages, usually one.
	Messages []string
	// Context, Detail and Hint are PostgreSQL's error fields, or CARTO's own (context "limit").
	Context string
	Detail  string
	Hint    string
	// RateLimit holds the Carto-Rate-Limit-* and Retry-After headers when the answer had them.
	RateLimit *RateLimit
	// Method and Path name the request (the path is relative to the host and never has a query).
	Method string
	Path   string
	// Sent is false when the request never left this process (a dial or DNS failure), so the
	// server cannot have run it.
	Sent bool
	// Err is the underlying transport error, if any, with URLs redacted.
	Err error
	// NoAPIKey is set when the request carried no API key (none was given, and $CARTO_API_KEY
	// was empty), so it ran as the account's public role; the message of a permission error
	// then says so.
	NoAPIKey bool
}

// RateLimit is the rate-limit state CARTO reported with a response.
type RateLimit struct {
	Limit      int           // Carto-Rate-Limit-Limit: requests allowed in the window
	Remaining  int           // Carto-Rate-Limit-Remaining
	Reset      time.Duration // Carto-Rate-Limit-Reset: until full capacity
	RetryAfter time.Duration // Retry-After, set only on a blocked (429) answer
}

// Message is the first server message, or a description of the transport failure.
func (e *Error) Message() string {
	if len(e.Messages) > 0 {
		return e.Messages[0]
	}
	if e.Err != nil {
		return e.Err.Error()
	}
	return ""
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("carto: ")
	if e.Method != "" {
		b.WriteString(e.Method)
		b.WriteString(" ")
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	switch {
	case e.StatusCode == 200 && len(e.Messages) > 0:
		// An error raised after the answer began: its status tells nothing.
		b.WriteString(strings.Join(e.Messages, "; "))
	case e.StatusCode != 0:
		fmt.Fprintf(&b, "%d: %s", e.StatusCode, strings.Join(e.Messages, "; "))
	case e.Err != nil:
		b.WriteString(e.Err.Error())
		// net/http's error names the symptom only; the fix is on the caller's side.
		if strings.Contains(e.Err.Error(), "server gave HTTP response to HTTPS client") {
			b.WriteString(" (the server speaks plain http: use an http:// base URL, or sslmode=disable in a carto:// DSN)")
		}
	default:
		b.WriteString(strings.Join(e.Messages, "; "))
	}
	if e.Detail != "" {
		b.WriteString(" (detail: " + e.Detail + ")")
	}
	if e.Hint != "" {
		b.WriteString(" (hint: " + e.Hint + ")")
	}
	if e.NoAPIKey && IsPermissionDenied(e) {
		b.WriteString(" (no API key was used, so the request ran as the account's public role)")
	}
	return b.String()
}

// Unwrap returns the transport error, if any.
func (e *Error) Unwrap() error { return e.Err }

// IsRateLimited reports whether err is CARTO refusing a request over the account's rate limit
// (429 with detail "rate-limit"). Such a request was not run and can be sent again after
// RateLimit.RetryAfter.
func IsRateLimited(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.StatusCode == 429 && e.Detail != "datasource" &&
		(e.Detail == "rate-limit" || e.RateLimit != nil && e.RateLimit.RetryAfter > 0)
}

// IsTimeout reports whether err is a statement that ran out of time on the server (429 with detail
// "datasource"). Retrying it unchanged will time out again.
func IsTimeout(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.StatusCode == 429 && e.Detail == "datasource"
}

// IsNotFound reports whether err says the thing asked for does not exist: a 404 (unknown user or
// route), or CARTO's 400 "Job with id … not found".
func IsNotFound(err error) bool {
	var e *Error
	if !errors.As(err, &e) {
		return false
	}
	if e.StatusCode == 404 {
		return true
	}
	return e.StatusCode == 400 && strings.HasPrefix(e.Message(), "Job with id ") && strings.HasSuffix(e.Message(), " not found")
}

// IsPermissionDenied reports whether err is an authentication or authorization refusal: a 401
// (unknown key), a 403 (key of another user, public role writing, non-master key on Batch SQL),
// or PostgreSQL's "permission denied" raised after the answer began (in a 200, where CARTO
// cannot send its 403 any more).
func IsPermissionDenied(err error) bool {
	var e *Error
	return errors.As(err, &e) && (e.StatusCode == 401 || e.StatusCode == 403 ||
		e.StatusCode == 200 && strings.Contains(e.Message(), "permission denied"))
}
