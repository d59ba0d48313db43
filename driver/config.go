package driver

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/gocarto/carto"
)

// DefaultSpoolMemory is how much of a query's answer is kept in memory before the rest goes to a
// temporary file, when Config.SpoolMemory is zero.
const DefaultSpoolMemory = 8 << 20

// Config is what a DSN describes: which account to reach, with which key, and how.
// ParseDSN builds one from a DSN and FormatDSN writes it back.
type Config struct {
	// BaseURL is the account's URL as carto.NewClient takes it, such as
	// "https://alice.carto.com/" or "http://127.0.0.1:8080/user/alice/".
	BaseURL string
	// User is the account's user name. When set it must match the one in BaseURL.
	User string
	// APIKey authenticates requests. Empty means $CARTO_API_KEY, and without that the
	// account's public role (read-only, published tables only).
	APIKey string
	// Timeout bounds each statement sent on its own request (a Query, an Exec, a transaction's
	// Commit): every attempt at sending it, the waits between attempts (see MaxRetries), and the
	// reading of its answer to the last byte. Zero means no limit beyond the context's.
	Timeout time.Duration
	// MaxRetries is how many times a request that is safe to repeat may be repeated (see
	// carto.RetryPolicy). Zero means carto.DefaultRetryPolicy (3 repeats), so that a Config
	// built by hand retries like a DSN without max_retries; a negative value means none (the
	// DSN's max_retries=0).
	MaxRetries int
	// SpoolMemory is how many bytes of a query's answer are held in memory before the rest
	// goes to a temporary file; zero means DefaultSpoolMemory.
	SpoolMemory int64
	// ClientID is sent as the client parameter, which CARTO logs to tell applications apart.
	ClientID string
	// OnNotice, if set, is called with the notices, warnings and infos (RAISE NOTICE, …) of
	// each statement that succeeds, before QueryContext or ExecContext returns, in the caller's
	// goroutine. CARTO groups them by level, so their interleaving is lost: notices come first,
	// then warnings, then infos. It cannot be written in a DSN.
	OnNotice func(Notice)
	// HTTPClient, if set, sends the requests. It cannot be written in a DSN. Without it the
	// connector builds one that keeps up to 32 idle connections to the host and never follows
	// redirects (credentials must not travel to another host).
	HTTPClient *http.Client
}

// Notice is a message PostgreSQL sent along with a statement's result.
type Notice struct {
	Level   string // "notice", "warning" or "info"
	Message string
}

// NewConfig returns a Config with the defaults ParseDSN starts from: the zero Config.
func NewConfig() *Config {
	return &Config{}
}

// retryPolicy is the carto.RetryPolicy MaxRetries asks for.
func (cfg *Config) retryPolicy() carto.RetryPolicy {
	p := carto.DefaultRetryPolicy
	switch {
	case cfg.MaxRetries == 0:
	case cfg.MaxRetries < 0:
		p.MaxAttempts = 1
	default:
		p.MaxAttempts = cfg.MaxRetries + 1
	}
	return p
}

func (cfg *Config) spoolMemory() int64 {
	if cfg.SpoolMemory <= 0 {
		return DefaultSpoolMemory
	}
	return cfg.SpoolMemory
}

// NewClient returns the *carto.Client the Config describes. It is safe for concurrent use and
// meant to be shared.
func (cfg *Config) NewClient() (*carto.Client, error) {
	return cfg.newClient(cfg.HTTPClient)
}

func (cfg *Config) newClient(hc *http.Client) (*carto.Client, error) {
	if cfg.BaseURL == "" {
		return nil, errors.New("carto driver: Config.BaseURL is empty; " + dsnExamples)
	}
	if err := cfg.checkLimits(); err != nil {
		return nil, err
	}
	opts := []carto.Option{carto.WithRetryPolicy(cfg.retryPolicy())}
	if cfg.APIKey != "" {
		// Without this option carto.NewClient reads $CARTO_API_KEY.
		opts = append(opts, carto.WithAPIKey(cfg.APIKey))
	}
	if cfg.ClientID != "" {
		opts = append(opts, carto.WithClientID(cfg.ClientID))
	}
	if hc != nil {
		opts = append(opts, carto.WithHTTPClient(hc))
	}
	c, err := carto.NewClient(cfg.BaseURL, opts...)
	if err != nil {
		return nil, fmt.Errorf("carto driver: %w", err)
	}
	if cfg.User != "" && cfg.User != c.User() {
		return nil, fmt.Errorf("carto driver: Config.User is %q but the base URL %s names user %q", cfg.User, c.BaseURL(), c.User())
	}
	return c, nil
}

// checkLimits checks the settings a connector applies on top of its *carto.Client.
func (cfg *Config) checkLimits() error {
	if cfg.SpoolMemory < 0 {
		return fmt.Errorf("carto driver: Config.SpoolMemory is %d; want 0 (the default) or more", cfg.SpoolMemory)
	}
	if cfg.Timeout < 0 {
		return fmt.Errorf("carto driver: Config.Timeout is %v; want 0 (none) or more", cfg.Timeout)
	}
	return nil
}
