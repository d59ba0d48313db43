package cartolocal

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
)

//go:embed cartodb.sql
var cartodbSQL string

// publicRole is the role the public key, and requests without a key, run as. CARTO names it
// publicuser; as on CARTO it is shared by every account of the database and reads only what an
// account granted to it.
const publicRole = "publicuser"

// installLockKey serializes installs and account changes of several cartolocal processes sharing
// one PostgreSQL (an advisory lock key: "cartolocal" in ASCII).
const installLockKey = 0x636172746f6c6f63

// install creates, or brings up to date, everything cartolocal needs in the database: PostGIS,
// its own cartolocal schema (settings and accounts, readable by superusers only), the public
// role and the cartodb schema of CARTO functions. It is idempotent, and safe to run by several
// processes at once.
func (s *Server) install(ctx context.Context) error {
	tx, err := s.admin.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", int64(installLockKey)); err != nil {
		return err
	}
	var super bool
	if err := tx.QueryRow(ctx, "SELECT rolsuper FROM pg_roles WHERE rolname = current_user").Scan(&super); err != nil {
		return err
	}
	if !super {
		return errors.New("the PostgreSQL URL must log in as a superuser, which cartolocal needs to create roles and install PostGIS")
	}
	var available bool
	if err := tx.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'postgis')").Scan(&available); err != nil {
		return err
	}
	if !available {
		return errNoPostGIS
	}
	if _, err := tx.Exec(ctx, "CREATE EXTENSION IF NOT EXISTS postgis"); err != nil {
		return fmt.Errorf("CREATE EXTENSION postgis: %w", err)
	}
	if err := tx.QueryRow(ctx, "SELECT extnamespace::regnamespace::text FROM pg_extension WHERE extname = 'postgis'").Scan(&s.postgisSchema); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `
CREATE SCHEMA IF NOT EXISTS cartolocal;
REVOKE ALL ON SCHEMA cartolocal FROM PUBLIC;
CREATE TABLE IF NOT EXISTS cartolocal.settings (
	name  text PRIMARY KEY,
	value text NOT NULL
);
CREATE TABLE IF NOT EXISTS cartolocal.users (
	name          text PRIMARY KEY,
	role_name     text NOT NULL,
	schema_name   text NOT NULL,
	master_key    text NOT NULL,
	public_key    text NOT NULL,
	role_password text NOT NULL,
	created_at    timestamptz NOT NULL DEFAULT now(),
	updated_at    timestamptz NOT NULL DEFAULT now()
);
REVOKE ALL ON cartolocal.settings, cartolocal.users FROM PUBLIC;
`); err != nil {
		return fmt.Errorf("cartolocal schema: %w", err)
	}

	// The public role's password is made once and kept, so that processes sharing a server agree.
	pw := randomHex(20)
	if err := tx.QueryRow(ctx, `
WITH ins AS (
	INSERT INTO cartolocal.settings (name, value) VALUES ('publicuser_password', $1)
	ON CONFLICT (name) DO NOTHING RETURNING value)
SELECT value FROM ins UNION ALL SELECT value FROM cartolocal.settings WHERE name = 'publicuser_password'
LIMIT 1`, pw).Scan(&s.publicPassword); err != nil {
		return err
	}
	var exists bool
	if err := tx.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1)", publicRole).Scan(&exists); err != nil {
		return err
	}
	verb := "CREATE"
	if exists {
		verb = "ALTER"
	}
	var db string
	if err := tx.QueryRow(ctx, "SELECT current_database()").Scan(&db); err != nil {
		return err
	}
	db = pgx.Identifier{db}.Sanitize()
	if _, err := tx.Exec(ctx, fmt.Sprintf(`
%s ROLE %s LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS INHERIT PASSWORD %s;
GRANT CONNECT ON DATABASE %s TO %[2]s;
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
REVOKE TEMPORARY ON DATABASE %[4]s FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO %[2]s;
`, verb, publicRole, quoteLiteral(s.publicPassword), db)); err != nil {
		return fmt.Errorf("public role: %w", err)
	}

	if _, err := tx.Exec(ctx, strings.ReplaceAll(cartodbSQL, "@postgis@", s.postgisSchema)); err != nil {
		return fmt.Errorf("cartodb schema: %w", err)
	}
	return tx.Commit(ctx)
}

// quoteLiteral quotes s as an SQL string literal (standard_conforming_strings is on: backslashes
// are plain characters), for the statements that take no parameters, such as CREATE ROLE.
func quoteLiteral(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}
