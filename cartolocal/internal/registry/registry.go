// Package registry is cartolocal's dataset registry: one row per visualization, as CARTO's Rails
// app keeps them. A dataset is a visualization of type "table" that is one table of the account's
// schema; a map is one of type "derived" that uses some of those tables and holds its definition.
//
// The registry is shared by the Import API (which registers the tables it creates), the Maps API
// and the account APIs (/api/v1/viz, /api/v1/tables, exports). It lives in PostgreSQL, in
// cartolocal's own schema, so a restart loses nothing, and it keeps in step with the catalog: a
// table renamed or dropped through SQL is renamed or dropped here, and a table cartodbfied through
// SQL becomes a dataset, as CARTO's "ghost tables" do.
//
// Privacy is real: a dataset that is public or link is readable by the account's public role (a
// GRANT SELECT), a private or password one is not (REVOKE). That is what the SQL API and the Maps
// API see when they run a request as the public role.
package registry

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Types of visualization.
const (
	TypeTable   = "table"   // a dataset: one table
	TypeDerived = "derived" // a map built on datasets
)

// Privacy values, lower-case as stored (CARTO's presenters write them upper-case).
const (
	PrivacyPublic   = "public"
	PrivacyLink     = "link"
	PrivacyPrivate  = "private"
	PrivacyPassword = "password"
)

// ValidPrivacy reports whether p is one of the four privacy values (lower-case).
func ValidPrivacy(p string) bool {
	switch p {
	case PrivacyPublic, PrivacyLink, PrivacyPrivate, PrivacyPassword:
		return true
	}
	return false
}

// publicReadable reports whether a privacy lets the account's public role read the table: CARTO
// grants SELECT to publicuser for public and link tables, never for private or password ones.
func publicReadable(privacy string) bool {
	return privacy == PrivacyPublic || privacy == PrivacyLink
}

// Visualization is one row of the registry.
type Visualization struct {
	ID          string // a UUID
	User        string // the owner's user name
	Name        string // the table's name for a dataset; the map's title for a map
	Type        string // TypeTable or TypeDerived
	Privacy     string // one of the Privacy constants
	Description string
	Tags        []string
	// Table is the dataset's table (in the owner's schema), for TypeTable.
	Table string
	// Tables are the tables a map uses, for TypeDerived (for TypeTable, the one table).
	Tables []string
	// Definition is a map's definition (a Maps API MapConfig, JSON), for TypeDerived.
	Definition []byte
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// Account is what the registry needs to know of a user: its schema and the role its public key
// runs as (which privacy grants SELECT to).
type Account struct {
	Name       string
	Schema     string
	PublicRole string
}

// Accounts looks an account up by user name.
type Accounts func(user string) (Account, bool)

// Querier runs SQL: a *pgxpool.Pool or a pgx.Tx. The registry's own table is readable by
// superusers only, so a Querier handed to the registry must run as a superuser.
type Querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// Errors the registry answers with; handlers turn them into CARTO's messages.
var (
	ErrNotFound     = errors.New("visualization does not exist")
	ErrNoTable      = errors.New("table does not exist")
	ErrNameTaken    = errors.New("name has already been taken")
	ErrInvalidName  = errors.New("invalid name")
	ErrUnknownUser  = errors.New("unknown user")
	ErrBadPrivacy   = errors.New("privacy must be one of public, link, private, password")
	ErrNotCartodbfy = errors.New("table is not cartodbfied")
)

// Registry is the dataset registry of one cartolocal server.
type Registry struct {
	admin    *pgxpool.Pool
	accounts Accounts
}

// New returns the registry stored in admin's database, creating its table if needed. admin must
// be a superuser pool; accounts resolves user names.
func New(ctx context.Context, admin *pgxpool.Pool, accounts Accounts) (*Registry, error) {
	if admin == nil || accounts == nil {
		return nil, errors.New("registry: New needs a pool and an account lookup")
	}
	if err := Install(ctx, admin); err != nil {
		return nil, err
	}
	return &Registry{admin: admin, accounts: accounts}, nil
}

// installLockKey serializes concurrent installs ("cartoviz" in ASCII).
const installLockKey = 0x63617274_6f76697a

// Install creates the registry's table in the cartolocal schema, idempotently. New calls it; a
// server's own install may call it inside its transaction.
func Install(ctx context.Context, q Querier) error {
	_, err := q.Exec(ctx, `
SELECT pg_advisory_xact_lock(`+fmt.Sprint(int64(installLockKey))+`);
CREATE SCHEMA IF NOT EXISTS cartolocal;
CREATE TABLE IF NOT EXISTS cartolocal.visualizations (
	id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	user_name   text NOT NULL,
	name        text NOT NULL,
	type        text NOT NULL CHECK (type IN ('table', 'derived')),
	privacy     text NOT NULL CHECK (privacy IN ('public', 'link', 'private', 'password')),
	description text NOT NULL DEFAULT '',
	tags        text[] NOT NULL DEFAULT '{}',
	table_oid   oid,
	tables      text[] NOT NULL DEFAULT '{}',
	definition  jsonb,
	created_at  timestamptz NOT NULL DEFAULT now(),
	updated_at  timestamptz NOT NULL DEFAULT now(),
	UNIQUE (user_name, type, name)
);
CREATE UNIQUE INDEX IF NOT EXISTS visualizations_table_oid ON cartolocal.visualizations (table_oid) WHERE type = 'table';
CREATE INDEX IF NOT EXISTS visualizations_tables ON cartolocal.visualizations USING gin (tables);
REVOKE ALL ON cartolocal.visualizations FROM PUBLIC;
`)
	if err != nil {
		return fmt.Errorf("registry: install: %w", err)
	}
	return nil
}

// account resolves a user name.
func (r *Registry) account(user string) (Account, error) {
	a, ok := r.accounts(user)
	if !ok {
		return Account{}, fmt.Errorf("registry: %q: %w", user, ErrUnknownUser)
	}
	return a, nil
}

// lockUser serializes changes to one account's registry inside tx (one sync or change at a time,
// so two requests never register the same table twice).
func lockUser(ctx context.Context, q Querier, user string) error {
	_, err := q.Exec(ctx, "SELECT pg_advisory_xact_lock(hashtextextended('cartolocal viz ' || $1, 0))", user)
	return err
}

// inTx runs fn in a transaction on q: a new one on the pool when q is nil or a pool, a savepoint
// when q is already a transaction.
func (r *Registry) inTx(ctx context.Context, q Querier, fn func(tx pgx.Tx) error) error {
	switch v := q.(type) {
	case nil:
		return pgx.BeginFunc(ctx, r.admin, fn)
	case pgx.Tx:
		return pgx.BeginFunc(ctx, v, fn)
	case *pgxpool.Pool:
		return pgx.BeginFunc(ctx, v, fn)
	default:
		return errors.New("registry: the querier must be a *pgxpool.Pool or a pgx.Tx")
	}
}

const vizColumns = `v.id::text, v.user_name, v.name, v.type, v.privacy, v.description, v.tags,
	coalesce(c.relname::text, ''), v.tables, v.definition::text, v.created_at, v.updated_at`

const vizFrom = `cartolocal.visualizations v LEFT JOIN pg_class c ON c.oid = v.table_oid`

func scanViz(row pgx.Row) (Visualization, error) {
	var v Visualization
	var def *string
	err := row.Scan(&v.ID, &v.User, &v.Name, &v.Type, &v.Privacy, &v.Description, &v.Tags,
		&v.Table, &v.Tables, &def, &v.CreatedAt, &v.UpdatedAt)
	if def != nil {
		v.Definition = []byte(*def)
	}
	if v.Tags == nil {
		v.Tags = []string{}
	}
	if v.Tables == nil {
		v.Tables = []string{}
	}
	return v, err
}
