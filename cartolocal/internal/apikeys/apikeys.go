// Package apikeys holds the regular API keys of cartolocal's accounts, as CARTO's Auth API makes
// them: each key owns a real PostgreSQL role with exactly the grants it was created with (tables,
// schemas), a member of the account's public role as on CARTO, and carries the APIs (sql, maps)
// it may call. What a key may do is read back from the catalog, never from what was asked.
//
// The master and default public keys are the account's own (cartolocal/internal/users); this
// package makes, finds, regenerates and deletes the others, and persists them in cartolocal's
// schema so a restart keeps them.
package apikeys

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Key types, as the Auth API names them.
const (
	TypeMaster  = "master"
	TypeDefault = "default"
	TypeRegular = "regular"
)

// Names reserved for the account's own keys.
const (
	NameMaster        = "Master"
	NameDefaultPublic = "Default public"
)

// Account is what a key needs of its account: its owner role (which must hold a grant to give
// it), its public role (which every key inherits, as on CARTO) and its schema.
type Account struct {
	Name       string
	Schema     string
	OwnerRole  string
	PublicRole string
}

// Key is one regular API key.
type Key struct {
	User      string
	Name      string
	Token     string
	Role      string // the PostgreSQL role the key runs as
	Password  string // the role's password, for connecting as it
	Grants    Grants // APIs, services and user data as granted; tables and schemas as created
	CreatedAt time.Time
	UpdatedAt time.Time
}

// ValidationError is a refused create, with the messages of CARTO's validators.
type ValidationError struct{ Messages []string }

func (e *ValidationError) Error() string {
	return "Validation failed: " + strings.Join(e.Messages, ", ")
}

// ErrNotFound is a key that does not exist.
var ErrNotFound = errors.New("API key not found")

// Store holds the regular keys of every account of one server.
type Store struct {
	admin *pgxpool.Pool
}

// installLockKey serializes concurrent installs ("apikeys!" in ASCII).
const installLockKey = 0x6170696b_65797321

// New returns the store in admin's database (a superuser pool), creating its table if needed.
func New(ctx context.Context, admin *pgxpool.Pool) (*Store, error) {
	_, err := admin.Exec(ctx, `
SELECT pg_advisory_xact_lock(`+fmt.Sprint(int64(installLockKey))+`);
CREATE SCHEMA IF NOT EXISTS cartolocal;
CREATE TABLE IF NOT EXISTS cartolocal.api_keys (
	user_name      text NOT NULL,
	name           text NOT NULL,
	token          text NOT NULL UNIQUE,
	role_name      text NOT NULL UNIQUE,
	role_password  text NOT NULL,
	apis           text[] NOT NULL,
	services       text[] NOT NULL DEFAULT '{}',
	user_data      text[] NOT NULL DEFAULT '{}',
	datasets       text[] NOT NULL DEFAULT '{}',
	database       boolean NOT NULL DEFAULT false,
	table_metadata boolean NOT NULL DEFAULT false,
	created_at     timestamptz NOT NULL DEFAULT now(),
	updated_at     timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (user_name, name)
);
REVOKE ALL ON cartolocal.api_keys FROM PUBLIC;
`)
	if err != nil {
		return nil, fmt.Errorf("apikeys: install: %w", err)
	}
	return &Store{admin: admin}, nil
}

// Admin is the store's superuser pool.
func (s *Store) Admin() *pgxpool.Pool { return s.admin }

// NewToken returns a fresh key token: 20 random bytes in hex, as cartolocal's other keys.
func NewToken() string {
	var b [20]byte
	_, _ = rand.Read(b[:]) // crypto/rand never fails (Go 1.24+)
	return hex.EncodeToString(b[:])
}

const keyColumns = `user_name, name, token, role_name, role_password, apis, services, user_data, datasets,
	database, table_metadata, created_at, updated_at`

func scanKey(row pgx.Row) (Key, error) {
	var k Key
	err := row.Scan(&k.User, &k.Name, &k.Token, &k.Role, &k.Password, &k.Grants.APIs, &k.Grants.Services,
		&k.Grants.UserData, &k.Grants.Datasets, &k.Grants.Database, &k.Grants.Metadata, &k.CreatedAt, &k.UpdatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return k, ErrNotFound
	}
	return k, err
}

// Get returns the user's regular key name, its table and schema grants read from the catalog.
func (s *Store) Get(ctx context.Context, user, name string) (Key, error) {
	k, err := scanKey(s.admin.QueryRow(ctx, `SELECT `+keyColumns+` FROM cartolocal.api_keys WHERE user_name = $1 AND name = $2`, user, name))
	if err != nil {
		return k, fmt.Errorf("apikeys: %q: %w", name, err)
	}
	return k, s.readBack(ctx, &k)
}

// ByToken returns the user's regular key whose token is token. Its grants hold only the APIs and
// services (what a request needs); Get reads the rest.
func (s *Store) ByToken(ctx context.Context, user, token string) (Key, error) {
	k, err := scanKey(s.admin.QueryRow(ctx, `SELECT `+keyColumns+` FROM cartolocal.api_keys WHERE user_name = $1 AND token = $2`, user, token))
	if err != nil {
		return k, fmt.Errorf("apikeys: %w", err)
	}
	return k, nil
}

// List returns the user's regular keys ordered by order (name, updated_at or created_at;
// descending when desc), each with its grants read from the catalog.
func (s *Store) List(ctx context.Context, user, order string, desc bool) ([]Key, error) {
	col := map[string]string{"name": "name", "updated_at": "updated_at", "created_at": "created_at", "type": "created_at", "": "created_at"}[order]
	if col == "" {
		return nil, fmt.Errorf("apikeys: unknown order %q", order)
	}
	dir := "ASC"
	if desc {
		dir = "DESC"
	}
	rows, err := s.admin.Query(ctx, `SELECT `+keyColumns+` FROM cartolocal.api_keys WHERE user_name = $1 ORDER BY `+col+` `+dir+`, name`, user)
	if err != nil {
		return nil, fmt.Errorf("apikeys: list: %w", err)
	}
	var out []Key
	for rows.Next() {
		k, err := scanKey(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		out = append(out, k)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("apikeys: list: %w", err)
	}
	for i := range out {
		if err := s.readBack(ctx, &out[i]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Regenerate gives the user's regular key name a new token; the old one stops working at once.
func (s *Store) Regenerate(ctx context.Context, user, name string) (Key, error) {
	k, err := scanKey(s.admin.QueryRow(ctx, `
UPDATE cartolocal.api_keys SET token = $3, updated_at = now() WHERE user_name = $1 AND name = $2
RETURNING `+keyColumns, user, name, NewToken()))
	if err != nil {
		return k, fmt.Errorf("apikeys: regenerate %q: %w", name, err)
	}
	return k, s.readBack(ctx, &k)
}

// Delete removes the user's regular key name and its role: the objects the role owns go to the
// account's owner (CARTO's reassign_owner), its sessions are ended, and its token answers 401
// from then on.
func (s *Store) Delete(ctx context.Context, a Account, name string) error {
	err := pgx.BeginFunc(ctx, s.admin, func(tx pgx.Tx) error {
		var role string
		err := tx.QueryRow(ctx, "DELETE FROM cartolocal.api_keys WHERE user_name = $1 AND name = $2 RETURNING role_name", a.Name, name).Scan(&role)
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		r, owner := pgx.Identifier{role}.Sanitize(), pgx.Identifier{a.OwnerRole}.Sanitize()
		if _, err := tx.Exec(ctx, "REASSIGN OWNED BY "+r+" TO "+owner+"; DROP OWNED BY "+r+"; DROP ROLE "+r); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1", role)
		return err
	})
	if err != nil {
		return fmt.Errorf("apikeys: delete %q: %w", name, err)
	}
	return nil
}

// readBack fills k's table and schema grants from what its role holds in the catalog.
func (s *Store) readBack(ctx context.Context, k *Key) error {
	tables, err := TablePermissions(ctx, s.admin, k.Role)
	if err != nil {
		return err
	}
	schemas, err := SchemaPermissions(ctx, s.admin, k.Role)
	if err != nil {
		return err
	}
	k.Grants.Tables, k.Grants.Schemas = tables, schemas
	return nil
}

// Querier runs SQL: a pool, a connection or a transaction.
type Querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// TablePermissions reads what role may do on tables from the catalog
// (information_schema.table_privileges), and which of them it owns, as CARTO's
// table_permissions_from_db does.
func TablePermissions(ctx context.Context, q Querier, role string) ([]TableGrant, error) {
	rows, err := q.Query(ctx, `
SELECT tp.table_schema::text, tp.table_name::text,
	array_agg(DISTINCT lower(tp.privilege_type) ORDER BY lower(tp.privilege_type)),
	EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = tp.table_schema AND c.relname = tp.table_name AND pg_get_userbyid(c.relowner) = $1)
FROM information_schema.table_privileges tp
WHERE tp.grantee = $1
GROUP BY tp.table_schema, tp.table_name
ORDER BY 1, 2`, role)
	if err != nil {
		return nil, fmt.Errorf("apikeys: table grants: %w", err)
	}
	defer rows.Close()
	out := []TableGrant{}
	for rows.Next() {
		var t TableGrant
		if err := rows.Scan(&t.Schema, &t.Name, &t.Permissions, &t.Owner); err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// SchemaPermissions reads the schemas role may create in from the catalog.
func SchemaPermissions(ctx context.Context, q Querier, role string) ([]SchemaGrant, error) {
	rows, err := q.Query(ctx, `
SELECT n.nspname::text, array_agg(DISTINCT lower(a.privilege_type) ORDER BY lower(a.privilege_type))
FROM pg_namespace n, aclexplode(n.nspacl) a
WHERE a.grantee = (SELECT oid FROM pg_roles WHERE rolname = $1) AND a.privilege_type = 'CREATE'
GROUP BY n.nspname ORDER BY 1`, role)
	if err != nil {
		return nil, fmt.Errorf("apikeys: schema grants: %w", err)
	}
	defer rows.Close()
	out := []SchemaGrant{}
	for rows.Next() {
		var sg SchemaGrant
		if err := rows.Scan(&sg.Name, &sg.Permissions); err != nil {
			return nil, err
		}
		out = append(out, sg)
	}
	return out, rows.Err()
}
