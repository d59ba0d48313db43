package batch

import (
	"testing"
	"time"
)

// TestPollIntervalLongestNotBelowFirst: the longest wait is never shorter than the first, so a
// long first interval does not make later polls come faster.
func TestPollIntervalLongestNotBelowFirst(t *testing.T) {
	for _, c := range []struct{ min, max time.Duration }{{10 * time.Second, 0}, {10 * time.Second, 8 * time.Second}, {time.Second, 0}} {
		cfg := waitConfig{min: 250 * time.Millisecond, max: 5 * time.Second}
		PollInterval(c.min, c.max)(&cfg)
		if cfg.min != c.min || cfg.max < cfg.min {
			t.Errorf("PollInterval(%v, %v): first %v, longest %v", c.min, c.max, cfg.min, cfg.max)
		}
	}
}
