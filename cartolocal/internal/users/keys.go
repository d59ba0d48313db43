package users

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/gocarto/carto/cartolocal/internal/apikeys"
)

// SetKeys makes the directory accept the regular API keys of keys (the Auth API's): a request
// with one runs as the key's own PostgreSQL role.
func (d *Directory) SetKeys(keys *apikeys.Store) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.keys = keys
}

func (d *Directory) keyStore() *apikeys.Store {
	d.mu.RLock()
	defer d.mu.RUnlock()
	return d.keys
}

// regularKey looks token up among the account's regular keys.
func (d *Directory) regularKey(ctx context.Context, u *User, token string) (*apikeys.Key, error) {
	ks := d.keyStore()
	if ks == nil {
		return nil, apikeys.ErrNotFound
	}
	k, err := ks.ByToken(ctx, u.Name, token)
	if err != nil {
		return nil, err
	}
	return &k, nil
}

// Allows reports whether the request may use api ("sql" or "maps"): the master key, the public
// key and no key may use both, a regular key only those it was granted.
func (p *Principal) Allows(api string) bool {
	return p.Key == nil || p.Key.Grants.Has(api)
}

// Acquire returns a connection that runs as the principal's role: the account's owner for the
// master key, the regular key's own role, or the public role. Release it when done.
func (p *Principal) Acquire(ctx context.Context) (*pgxpool.Conn, error) {
	if p.Key == nil {
		return p.User.Acquire(ctx, p.Master)
	}
	pool, err := p.User.conns.keyPool(ctx, p.Key.Role, p.Key.Password)
	if err != nil {
		return nil, err
	}
	return pool.Acquire(ctx)
}

// ForgetKey closes the connections of a deleted key's role.
func (u *User) ForgetKey(role string) {
	c := u.conns
	c.mu.Lock()
	p := c.keyPools[role]
	delete(c.keyPools, role)
	c.mu.Unlock()
	if p != nil {
		p.Close()
	}
}

// keyPool returns the pool of a regular key's role, made on first use like the account's own
// pools but smaller.
func (c *userConns) keyPool(ctx context.Context, role, password string) (*pgxpool.Pool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil, errUserClosed
	}
	if p := c.keyPools[role]; p != nil {
		return p, nil
	}
	pcfg, err := c.poolConfig(role, password)
	if err != nil {
		return nil, err
	}
	pcfg.MaxConns = 2
	p, err := pgxpool.NewWithConfig(ctx, pcfg)
	if err != nil {
		return nil, fmt.Errorf("connection pool of key role %s: %w", role, err) // callers name the user
	}
	if c.keyPools == nil {
		c.keyPools = map[string]*pgxpool.Pool{}
	}
	c.keyPools[role] = p
	return p, nil
}
