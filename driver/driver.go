package driver

import (
	"context"
	"database/sql"
	"database/sql/driver"

	"github.com/jmoiron/sqlx"
)

// Driver is the database/sql driver registered as "carto". Use sql.Open("carto", dsn) or, with
// a Config in hand, OpenDB.
type Driver struct{}

var (
	_ driver.Driver        = Driver{}
	_ driver.DriverContext = Driver{}
)

func init() {
	sql.Register("carto", Driver{})
	// sqlx must know the bindvar for Rebind, In and Named to write $1, $2, ….
	sqlx.BindDriver("carto", sqlx.DOLLAR)
}

// Open returns a connection for the DSN. database/sql calls OpenConnector instead, which parses
// the DSN once.
func (d Driver) Open(dsn string) (driver.Conn, error) {
	c, err := d.OpenConnector(dsn)
	if err != nil {
		return nil, err
	}
	return c.Connect(context.Background())
}

// OpenConnector parses the DSN (see ParseDSN) and returns a connector for it.
func (Driver) OpenConnector(dsn string) (driver.Connector, error) {
	cfg, err := ParseDSN(dsn)
	if err != nil {
		return nil, err
	}
	return NewConnector(cfg)
}
