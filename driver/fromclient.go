package driver

import (
	"database/sql"
	"database/sql/driver"
	"errors"
	"time"

	"github.com/gocarto/carto"
)

// Option sets what a connector built on an existing *carto.Client adds to it: the settings of
// Config that are not the client's own.
type Option func(*Config)

// WithTimeout bounds each statement's request, as Config.Timeout does.
func WithTimeout(d time.Duration) Option { return func(c *Config) { c.Timeout = d } }

// WithSpoolMemory sets how much of an answer is held in memory, as Config.SpoolMemory does.
func WithSpoolMemory(n int64) Option { return func(c *Config) { c.SpoolMemory = n } }

// WithOnNotice sets the function that gets each statement's notices, as Config.OnNotice does.
func WithOnNotice(f func(Notice)) Option { return func(c *Config) { c.OnNotice = f } }

// NewConnectorFromClient returns a driver.Connector whose connections send every statement
// through client, as pgx's stdlib.OpenDBFromPool runs database/sql on a pool: the account, the
// API key, the retry policy, the client ID and the HTTP transport are client's, shared with
// whatever else uses it (batch, sqlapi, migrate). Closing the sql.DB leaves client and its
// transport open.
func NewConnectorFromClient(client *carto.Client, opts ...Option) (driver.Connector, error) {
	if client == nil {
		return nil, errors.New("carto driver: NewConnectorFromClient: nil *carto.Client")
	}
	c := &connector{client: client}
	c.cfg.BaseURL, c.cfg.User = client.BaseURL(), client.User()
	for _, opt := range opts {
		opt(&c.cfg)
	}
	if err := c.cfg.checkLimits(); err != nil {
		return nil, err
	}
	return c, nil
}

// OpenDBFromClient returns a *sql.DB on client, as sql.OpenDB(NewConnectorFromClient(client,
// opts...)) would. Like sql.Open it reports nothing yet: a nil client or a bad option is the
// error of the first query (or of db.Ping).
func OpenDBFromClient(client *carto.Client, opts ...Option) *sql.DB {
	c, err := NewConnectorFromClient(client, opts...)
	if err != nil {
		return sql.OpenDB(failedConnector{err})
	}
	return sql.OpenDB(c)
}
