package users

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5/pgxpool"
)

// lookupTimeout bounds the locks a look-up waits for: planning a query takes the locks reading
// it would, and a table another session holds exclusively must not stall the request whose
// answer only waits for the look-up's headers.
const lookupTimeout = "1s"

// AcquireLookup returns a connection that runs as the account's owner role in read-only
// transactions, from a small pool of its own. The APIs use it for what CARTO asks of the
// owner's connection beside a request's query, such as the SQL API planning a query to find the
// tables it reads (CARTO's authDbParams): the request may hold one of the owner's connections
// already, and a look-up taken from the same pool could wait for it. Release it when done.
func (u *User) AcquireLookup(ctx context.Context) (*pgxpool.Conn, error) {
	p, err := u.conns.lookupPool(ctx)
	if err != nil {
		return nil, err
	}
	return p.Acquire(ctx)
}

func (c *userConns) lookupPool(ctx context.Context) (*pgxpool.Pool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil, errUserClosed
	}
	if c.lookup != nil {
		return c.lookup, nil
	}
	pcfg, err := c.poolConfig(c.role, c.password)
	if err != nil {
		return nil, err
	}
	pcfg.MaxConns = 2
	// Set at connection start, so each look-up costs no extra round trip; DISCARD ALL on release
	// (RESET ALL) comes back to these values.
	pcfg.ConnConfig.RuntimeParams["default_transaction_read_only"] = "on"
	pcfg.ConnConfig.RuntimeParams["lock_timeout"] = lookupTimeout
	p, err := pgxpool.NewWithConfig(ctx, pcfg)
	if err != nil {
		return nil, fmt.Errorf("look-up connection pool: %w", err) // callers name the user
	}
	c.lookup = p
	return p, nil
}
