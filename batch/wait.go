package batch

import (
	"context"
	"fmt"
	"time"
)

// WaitOption configures Wait and Run.
type WaitOption func(*waitConfig)

type waitConfig struct {
	onChange func(*Job)
	min, max time.Duration
}

// OnChange calls f with the job each time its status (or its fallback status) changes, the first
// answer included. f runs on Wait's goroutine.
func OnChange(f func(*Job)) WaitOption { return func(c *waitConfig) { c.onChange = f } }

// PollInterval sets the first and the longest wait between polls (250 ms and 5 s by default).
// The wait grows by half after every poll that sees no change and starts again from min after a
// change.
func PollInterval(min, max time.Duration) WaitOption {
	return func(c *waitConfig) {
		if min > 0 {
			c.min = min
		}
		if max >= c.min {
			c.max = max
		}
		// The longest wait is never below the first.
		if c.max < c.min {
			c.max = c.min
		}
	}
}

// Wait polls a job until nothing of it is left to run, and returns it. A job that failed, was
// cancelled or ended unknown comes back with a *JobError. When ctx ends first, Wait returns the
// last state it saw with ctx's error; the job keeps running on the server (use Cancel to stop
// it).
func (b *Client) Wait(ctx context.Context, id string, opts ...WaitOption) (*Job, error) {
	return b.wait(ctx, id, nil, opts)
}

// wait polls; known, when not nil, is a state of the job just received (Run's create answer),
// which stands for the first poll.
func (b *Client) wait(ctx context.Context, id string, known *Job, opts []WaitOption) (*Job, error) {
	cfg := waitConfig{min: 250 * time.Millisecond, max: 5 * time.Second}
	for _, o := range opts {
		o(&cfg)
	}
	delay := cfg.min
	var last *Job
	var timer *time.Timer
	for {
		j := known
		known = nil
		if j == nil {
			var err error
			if j, err = b.Get(ctx, id); err != nil {
				if ctxErr := ctx.Err(); ctxErr != nil {
					return last, fmt.Errorf("batch: waiting for job %s: %w", id, ctxErr)
				}
				return last, err
			}
		}
		if last == nil || j.Status != last.Status || j.FallbackStatus != last.FallbackStatus {
			delay = cfg.min
			if cfg.onChange != nil {
				cfg.onChange(j)
			}
		} else {
			delay = min(delay+delay/2, cfg.max)
		}
		last = j
		if j.Finished() {
			return j, jobError(j)
		}
		if timer == nil {
			timer = time.NewTimer(delay)
			defer timer.Stop()
		} else {
			timer.Reset(delay)
		}
		select {
		case <-ctx.Done():
			return last, fmt.Errorf("batch: waiting for job %s: %w", id, ctx.Err())
		case <-timer.C:
		}
	}
}

// Run creates a single-query job from sql (one implicit transaction; see Create) and waits for
// it with opts (see Wait). If ctx ends first the job goes on running on the server; the returned
// job, when not nil, has its id. A nil job means that the creation failed.
func (b *Client) Run(ctx context.Context, sql string, opts ...WaitOption) (*Job, error) {
	return b.run(ctx, func() (*Job, error) { return b.Create(ctx, sql) }, opts)
}

// RunQueries is Run for a job of several queries, run one after another, each in its own
// transaction (see Create).
func (b *Client) RunQueries(ctx context.Context, sql []string, opts ...WaitOption) (*Job, error) {
	return b.run(ctx, func() (*Job, error) { return b.Create(ctx, sql...) }, opts)
}

// RunJob is Run for a job with fallback queries (see CreateJob).
func (b *Client) RunJob(ctx context.Context, spec JobSpec, opts ...WaitOption) (*Job, error) {
	return b.run(ctx, func() (*Job, error) { return b.CreateJob(ctx, spec) }, opts)
}

func (b *Client) run(ctx context.Context, create func() (*Job, error), opts []WaitOption) (*Job, error) {
	j, err := create()
	if err != nil {
		return nil, err
	}
	// The create answer is the first state (OnChange sees it): the first poll comes after the
	// first interval.
	done, err := b.wait(ctx, j.ID, j, opts)
	if done == nil {
		return j, err
	}
	return done, err
}
