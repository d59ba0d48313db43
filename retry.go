package carto

import (
	"context"
	"math/rand/v2"
	"time"
)

// RetryPolicy bounds how a Client repeats a request. Only requests that are safe to repeat are
// retried: those refused by a rate limit (after their Retry-After), those that never left (dial
// failures), and, when the request is marked Idempotent, those answered 502, 503 or 504. A 429
// statement timeout is never retried.
type RetryPolicy struct {
	// MaxAttempts is the total number of attempts, the first included.
	MaxAttempts int
	// MaxElapsed caps the time spent from the first attempt until the decision to retry; a wait
	// that would pass it is not started. Zero means no cap.
	MaxElapsed time.Duration
	// BaseDelay and MaxDelay shape the jittered exponential backoff between attempts that have no
	// Retry-After to follow.
	BaseDelay time.Duration
	MaxDelay  time.Duration
	// Wait, if set, replaces the timer between attempts: it waits d, or until ctx ends and then
	// returns ctx.Err(). Tests set it to record the waits instead of sleeping through them.
	Wait func(ctx context.Context, d time.Duration) error
}

// wait waits d between attempts, or until ctx ends.
func (p RetryPolicy) wait(ctx context.Context, d time.Duration) error {
	if p.Wait != nil {
		return p.Wait(ctx, d)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// DefaultRetryPolicy is used when NewClient gets no WithRetryPolicy.
var DefaultRetryPolicy = RetryPolicy{MaxAttempts: 4, MaxElapsed: time.Minute, BaseDelay: 200 * time.Millisecond, MaxDelay: 5 * time.Second}

// NoRetries sends every request exactly once.
var NoRetries = RetryPolicy{MaxAttempts: 1}

// backoff is the wait before attempt n+1 (n counts from 1): full jitter over an exponential ceiling,
// so that clients that failed together do not come back together.
func (p RetryPolicy) backoff(n int) time.Duration {
	base, max := p.BaseDelay, p.MaxDelay
	if base <= 0 {
		base = 100 * time.Millisecond
	}
	if max <= 0 {
		max = 5 * time.Second
	}
	ceil := base << min(n-1, 20)
	if ceil > max || ceil <= 0 {
		ceil = max
	}
	return ceil/2 + rand.N(ceil/2+1)
}
