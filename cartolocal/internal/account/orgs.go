package account

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Org is an organization: accounts grouped under a name, one of them its admin.
type Org struct {
	Name    string
	Admin   string
	Members []string // the admin included
}

// Orgs stores organizations in cartolocal's schema.
type Orgs struct {
	admin *pgxpool.Pool
}

// ErrNoOrg is an organization that does not exist.
var ErrNoOrg = errors.New("no such organization")

// Create makes (or redefines) the organization name with admin and members as its accounts. An
// account belongs to one organization at most; adding it to another moves it.
func (o *Orgs) Create(ctx context.Context, name, admin string, members ...string) error {
	if name == "" || admin == "" {
		return errors.New("account: an organization needs a name and an admin")
	}
	all := append([]string{admin}, members...)
	err := pgx.BeginFunc(ctx, o.admin, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `
INSERT INTO cartolocal.organizations (name, admin_name) VALUES ($1, $2)
ON CONFLICT (name) DO UPDATE SET admin_name = EXCLUDED.admin_name`, name, admin); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "DELETE FROM cartolocal.organization_members WHERE org_name = $1", name); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `
INSERT INTO cartolocal.organization_members (user_name, org_name) SELECT DISTINCT m, $1 FROM unnest($2::text[]) m
ON CONFLICT (user_name) DO UPDATE SET org_name = EXCLUDED.org_name`, name, all)
		return err
	})
	if err != nil {
		return fmt.Errorf("account: organization %q: %w", name, err)
	}
	return nil
}

// Get returns the organization name.
func (o *Orgs) Get(ctx context.Context, name string) (*Org, error) {
	org := &Org{Name: name}
	err := o.admin.QueryRow(ctx, `
SELECT o.admin_name, coalesce((SELECT array_agg(m.user_name ORDER BY m.user_name) FROM cartolocal.organization_members m WHERE m.org_name = o.name), '{}')
FROM cartolocal.organizations o WHERE o.name = $1`, name).Scan(&org.Admin, &org.Members)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, ErrNoOrg
	}
	if err != nil {
		return nil, fmt.Errorf("account: organization %q: %w", name, err)
	}
	return org, nil
}

// OfUser returns the organization the account belongs to, or nil.
func (o *Orgs) OfUser(ctx context.Context, user string) (*Org, error) {
	var name string
	err := o.admin.QueryRow(ctx, "SELECT org_name FROM cartolocal.organization_members WHERE user_name = $1", user).Scan(&name)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("account: organization of %q: %w", user, err)
	}
	return o.Get(ctx, name)
}

// AdminOf returns the organization the account belongs to and its admin; empty when none.
func (o *Orgs) AdminOf(ctx context.Context, user string) (org, admin string, err error) {
	g, err := o.OfUser(ctx, user)
	if err != nil || g == nil {
		return "", "", err
	}
	return g.Name, g.Admin, nil
}

// install creates the account APIs' tables and CARTO's data-services client functions.
func install(ctx context.Context, admin *pgxpool.Pool) error {
	_, err := admin.Exec(ctx, `
SELECT pg_advisory_xact_lock(hashtextextended('cartolocal account install', 0));
CREATE SCHEMA IF NOT EXISTS cartolocal;
CREATE TABLE IF NOT EXISTS cartolocal.organizations (
	name       text PRIMARY KEY,
	admin_name text NOT NULL,
	created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS cartolocal.organization_members (
	user_name text PRIMARY KEY,
	org_name  text NOT NULL REFERENCES cartolocal.organizations (name) ON DELETE CASCADE
);
CREATE TABLE IF NOT EXISTS cartolocal.visualization_exports (
	id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	user_name        text NOT NULL,
	visualization_id uuid NOT NULL,
	user_tables_ids  text[],
	state            text NOT NULL DEFAULT 'pending',
	file             text,
	log              text NOT NULL DEFAULT '',
	created_at       timestamptz NOT NULL DEFAULT now(),
	updated_at       timestamptz NOT NULL DEFAULT now()
);
REVOKE ALL ON cartolocal.organizations, cartolocal.organization_members, cartolocal.visualization_exports FROM PUBLIC;
`+quotaSQL)
	if err != nil {
		return fmt.Errorf("account: install: %w", err)
	}
	return nil
}

// quotaSQL is cdb_dataservices_client.cdb_service_quota_info(), answering as CARTO does for an
// account without data-services quota: one row per service, no quota, nothing used, no soft
// limit. cartolocal runs no geocoder, router or isoline service.
const quotaSQL = `
CREATE SCHEMA IF NOT EXISTS cdb_dataservices_client;
GRANT USAGE ON SCHEMA cdb_dataservices_client TO PUBLIC;
DO $$ BEGIN
	IF NOT EXISTS (SELECT 1 FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
		WHERE n.nspname = 'cdb_dataservices_client' AND t.typname = 'service_type') THEN
		CREATE TYPE cdb_dataservices_client.service_type AS ENUM (
			'isolines', 'hires_geocoder', 'routing', 'observatory');
	END IF;
	IF NOT EXISTS (SELECT 1 FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
		WHERE n.nspname = 'cdb_dataservices_client' AND t.typname = 'service_quota_info') THEN
		CREATE TYPE cdb_dataservices_client.service_quota_info AS (
			service cdb_dataservices_client.service_type, monthly_quota numeric,
			used_quota numeric, soft_limit boolean, provider text);
	END IF;
END $$;
CREATE OR REPLACE FUNCTION cdb_dataservices_client.cdb_service_quota_info()
RETURNS SETOF cdb_dataservices_client.service_quota_info
LANGUAGE sql STABLE AS $$
	SELECT s, 0::numeric, 0::numeric, false, NULL::text
	FROM unnest(enum_range(NULL::cdb_dataservices_client.service_type)) s
$$;
GRANT EXECUTE ON FUNCTION cdb_dataservices_client.cdb_service_quota_info() TO PUBLIC;
`
