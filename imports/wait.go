package imports

import (
	"context"
	"fmt"
	"time"
)

// WaitOption configures Wait and WaitSync.
type WaitOption func(*waitConfig)

type waitConfig struct {
	onChange     func(*Import)
	onSyncChange func(*Sync)
	min, max     time.Duration
}

// OnChange calls f with the import each time its state changes, the first answer included. f
// runs on Wait's goroutine.
func OnChange(f func(*Import)) WaitOption { return func(c *waitConfig) { c.onChange = f } }

// OnSyncChange calls f with the sync each time its state changes, the first answer included.
func OnSyncChange(f func(*Sync)) WaitOption { return func(c *waitConfig) { c.onSyncChange = f } }

// PollInterval sets the first and the longest wait between polls (250 ms and 5 s by default).
// The wait grows by half after every poll that sees no change and starts again from min after a
// change.
func PollInterval(min, max time.Duration) WaitOption {
	return func(c *waitConfig) {
		if min > 0 {
			c.min = min
		}
		if max > 0 {
			c.max = max
		}
		if c.max < c.min {
			c.max = c.min
		}
	}
}

func config(opts []WaitOption) waitConfig {
	cfg := waitConfig{min: 250 * time.Millisecond, max: 5 * time.Second}
	for _, o := range opts {
		o(&cfg)
	}
	return cfg
}

// poll calls get until done says so, backing off while nothing changes. changed reports a change
// (and tells the caller's OnChange).
func poll(ctx context.Context, cfg waitConfig, what string, step func() (changed, done bool, err error)) error {
	delay := cfg.min
	timer := time.NewTimer(0)
	defer timer.Stop()
	<-timer.C
	for {
		changed, done, err := step()
		if err != nil {
			if ctxErr := ctx.Err(); ctxErr != nil {
				return fmt.Errorf("imports: waiting for %s: %w", what, ctxErr)
			}
			return err
		}
		if done {
			return nil
		}
		if changed {
			delay = cfg.min
		} else {
			delay = min(delay+delay/2, cfg.max)
		}
		timer.Reset(delay)
		select {
		case <-ctx.Done():
			return fmt.Errorf("imports: waiting for %s: %w", what, ctx.Err())
		case <-timer.C:
		}
	}
}

// Wait polls an import until it ends and returns it: its TableName is the (first) table it
// created, which is also its dataset's name, and TableID the dataset's id. A failed import comes
// back with an *ImportError. When ctx ends first, Wait returns the last state it saw with ctx's
// error; the import goes on.
func (c *Client) Wait(ctx context.Context, id string, opts ...WaitOption) (*Import, error) {
	cfg := config(opts)
	var last *Import
	err := poll(ctx, cfg, "import "+id, func() (bool, bool, error) {
		imp, err := c.Get(ctx, id)
		if err != nil {
			return false, false, err
		}
		changed := last == nil || imp.State != last.State
		last = imp
		if changed && cfg.onChange != nil {
			cfg.onChange(imp)
		}
		return changed, imp.State.Final(), nil
	})
	if err != nil {
		return last, err
	}
	if last.State != Complete {
		if last.Error == nil {
			last.Error = &ImportError{ID: id, Code: last.ErrorCode, Title: "import " + string(last.State)}
		}
		return last, last.Error
	}
	return last, nil
}

// WaitSync polls a sync until it is neither queued nor running, and returns it. A sync whose run
// failed comes back with an *ImportError (its Advice is CARTO's error_message).
func (c *Client) WaitSync(ctx context.Context, id string, opts ...WaitOption) (*Sync, error) {
	cfg := config(opts)
	var last *Sync
	err := poll(ctx, cfg, "sync "+id, func() (bool, bool, error) {
		s, err := c.GetSync(ctx, id)
		if err != nil {
			return false, false, err
		}
		changed := last == nil || s.State != last.State
		last = s
		if changed && cfg.onSyncChange != nil {
			cfg.onSyncChange(s)
		}
		return changed, s.State.Settled(), nil
	})
	if err != nil {
		return last, err
	}
	if last.State == SyncFailure {
		return last, &ImportError{ID: id, Code: last.ErrorCode, Advice: last.ErrorMessage}
	}
	return last, nil
}
