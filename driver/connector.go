package driver

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"io"
	"net/http"

	"github.com/gocarto/carto"
	"github.com/gocarto/carto/internal/httpclient"
)

// connector makes connections that share one *carto.Client. A connection holds no server state,
// so connecting costs nothing; HTTP keep-alive does the pooling.
type connector struct {
	cfg    Config
	client *carto.Client
	own    *http.Client // the HTTP client built here, closed with the connector; nil if Config gave one
}

var (
	_ driver.Connector = (*connector)(nil)
	_ io.Closer        = (*connector)(nil)
)

// NewConnector returns a driver.Connector for cfg, for sql.OpenDB. cfg is copied.
func NewConnector(cfg *Config) (driver.Connector, error) {
	if cfg == nil {
		return nil, errors.New("carto: NewConnector: nil *Config (use driver.NewConfig or driver.ParseDSN)")
	}
	c := &connector{cfg: *cfg}
	hc := cfg.HTTPClient
	if hc == nil {
		c.own = httpclient.New()
		hc = c.own
	}
	client, err := c.cfg.newClient(hc)
	if err != nil {
		return nil, err
	}
	c.client = client
	return c, nil
}

// OpenDB returns a *sql.DB for cfg, as sql.OpenDB(NewConnector(cfg)) would. Like sql.Open it
// reports nothing yet: a bad Config is the error of the first query (or of db.Ping).
func OpenDB(cfg *Config) *sql.DB {
	c, err := NewConnector(cfg)
	if err != nil {
		return sql.OpenDB(failedConnector{err})
	}
	return sql.OpenDB(c)
}

// failedConnector stands for a Config NewConnector refused.
type failedConnector struct{ err error }

func (f failedConnector) Connect(context.Context) (driver.Conn, error) { return nil, f.err }
func (f failedConnector) Driver() driver.Driver                        { return Driver{} }

// Connect returns a new connection; it sends nothing.
func (c *connector) Connect(context.Context) (driver.Conn, error) {
	return &conn{ctr: c}, nil
}

// Driver returns the carto Driver.
func (c *connector) Driver() driver.Driver { return Driver{} }

// Close closes the idle HTTP connections of the connector's own HTTP client; sql.DB.Close
// calls it.
func (c *connector) Close() error {
	if c.own != nil {
		c.own.CloseIdleConnections()
	}
	return nil
}
