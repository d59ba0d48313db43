package users

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"

	"github.com/jackc/pgx/v5"

	"github.com/gocarto/carto/internal/pgscan"
)

// PublicRole is the role the public key, and requests without a key, run as. CARTO names it
// publicuser; as on CARTO it is shared by every account of the database and reads only what an
// account granted to it.
const PublicRole = "publicuser"

// InstallLockKey serializes installs and account changes of several cartolocal processes sharing
// one PostgreSQL (an advisory lock key: "cartolocal" in ASCII).
const InstallLockKey = 0x636172746f6c6f63

// ownerOnlyFunctions write, signal or wait across sessions: large objects (which belong to the
// role that makes them, so the shared public role's would be every account's), the signalling of
// other backends of the same role (a public caller could cancel or end another account's public
// queries), and advisory locks, whose keys are one space for the whole database: cartolocal's own
// per-account locks (Batch job creation, the dataset registry, account changes) are advisory, so
// an anonymous caller holding another account's key in a long statement stalled that account and
// the server connections waiting on it. PostgreSQL grants them to PUBLIC; cartolocal to account
// owners only (migrations take advisory locks in their Batch jobs). The unlock functions stay
// public: they release only the caller's own locks. (lo_import and lo_export are superuser-only
// already.)
const ownerOnlyFunctions = `lo_from_bytea(oid, bytea), lo_create(oid), lo_creat(integer),
	lo_put(oid, bigint, bytea), lowrite(integer, bytea), lo_unlink(oid), lo_truncate(integer, integer),
	lo_truncate64(integer, bigint), pg_cancel_backend(integer), pg_terminate_backend(integer, bigint),
	pg_advisory_lock(bigint), pg_advisory_lock(integer, integer),
	pg_advisory_lock_shared(bigint), pg_advisory_lock_shared(integer, integer),
	pg_advisory_xact_lock(bigint), pg_advisory_xact_lock(integer, integer),
	pg_advisory_xact_lock_shared(bigint), pg_advisory_xact_lock_shared(integer, integer),
	pg_try_advisory_lock(bigint), pg_try_advisory_lock(integer, integer),
	pg_try_advisory_lock_shared(bigint), pg_try_advisory_lock_shared(integer, integer),
	pg_try_advisory_xact_lock(bigint), pg_try_advisory_xact_lock(integer, integer),
	pg_try_advisory_xact_lock_shared(bigint), pg_try_advisory_xact_lock_shared(integer, integer)`

// Install creates, or brings up to date, what the directory keeps in the database: cartolocal's
// own schema (readable by superusers only; other parts of cartolocal add their tables to it), its
// settings and accounts tables, and the public role. It runs in the caller's transaction, under
// the install lock (taken here if the caller has not), and returns the public role's password.
func Install(ctx context.Context, tx pgx.Tx) (publicPassword string, err error) {
	if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", int64(InstallLockKey)); err != nil {
		return "", err
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
		return "", fmt.Errorf("cartolocal schema: %w", err)
	}

	// The public role's password is made once and kept, so that processes sharing a server agree.
	pw := randomHex(20)
	if err := tx.QueryRow(ctx, `
WITH ins AS (
	INSERT INTO cartolocal.settings (name, value) VALUES ('publicuser_password', $1)
	ON CONFLICT (name) DO NOTHING RETURNING value)
SELECT value FROM ins UNION ALL SELECT value FROM cartolocal.settings WHERE name = 'publicuser_password'
LIMIT 1`, pw).Scan(&publicPassword); err != nil {
		return "", err
	}
	var exists bool
	if err := tx.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1)", PublicRole).Scan(&exists); err != nil {
		return "", err
	}
	verb := "CREATE"
	if exists {
		verb = "ALTER"
	}
	var db string
	if err := tx.QueryRow(ctx, "SELECT current_database()").Scan(&db); err != nil {
		return "", err
	}
	db = pgx.Identifier{db}.Sanitize()
	if _, err := tx.Exec(ctx, fmt.Sprintf(`
%s ROLE %s LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS INHERIT PASSWORD %s;
GRANT CONNECT ON DATABASE %s TO %[2]s;
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
REVOKE TEMPORARY ON DATABASE %[4]s FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO %[2]s;
`, verb, PublicRole, pgscan.QuoteLiteral(publicPassword), db)); err != nil {
		return "", fmt.Errorf("public role: %w", err)
	}
	// The public role is shared by every account, so what it writes or signals crosses accounts:
	// those functions are the owners' only (granted again to the owners of earlier runs, whose
	// grants came through PUBLIC).
	if _, err := tx.Exec(ctx, fmt.Sprintf(`
REVOKE EXECUTE ON FUNCTION %[1]s FROM PUBLIC;
DO $$
DECLARE r text;
BEGIN
	FOR r IN SELECT u.role_name FROM cartolocal.users u JOIN pg_roles ON rolname = u.role_name LOOP
		EXECUTE format('GRANT EXECUTE ON FUNCTION %[1]s TO %%I', r);
	END LOOP;
END
$$;
`, ownerOnlyFunctions)); err != nil {
		return "", fmt.Errorf("owner-only functions: %w", err)
	}
	return publicPassword, nil
}

// randomHex returns n random bytes in lower-case hex: keys and role passwords.
func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := io.ReadFull(rand.Reader, b); err != nil {
		panic("cartolocal: crypto/rand failed: " + err.Error()) // cannot happen on supported systems
	}
	return hex.EncodeToString(b)
}
