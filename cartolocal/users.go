package cartolocal

// OWNED BY the "cartolocal postgres" helper: replace this placeholder.

import (
	"context"

	"github.com/jackc/pgx/v5/pgxpool"
)

// User is one account: a schema, an owner role used by the master key, and keys.
type User struct {
	Name      string
	Schema    string
	Role      string
	MasterKey string
	PublicKey string
}

// AddUser creates an account, or takes over an existing one of that name.
func (s *Server) AddUser(ctx context.Context, cfg UserConfig) (*User, error) { panic("not yet") }

// Acquire returns a connection that runs as the master role (master) or the public role, with the
// account's schema first on the search_path. Release it with Release when done.
func (u *User) Acquire(ctx context.Context, master bool) (*pgxpool.Conn, error) { panic("not yet") }

func (u *User) close() {}
