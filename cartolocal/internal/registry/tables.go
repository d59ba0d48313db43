package registry

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// RegisterTable makes a table of the user's schema a dataset (or updates the dataset it already
// is) with the given privacy, granting or revoking SELECT to the account's public role to match.
// The Import API calls it after cartodbfying a table it created, with q its transaction (run as a
// superuser) so that the registration commits with the import; a nil q uses the registry's pool.
// An empty privacy means private, CARTO's default for a new dataset.
func (r *Registry) RegisterTable(ctx context.Context, q Querier, user, table, privacy string) (Visualization, error) {
	if privacy == "" {
		privacy = PrivacyPrivate
	}
	privacy = strings.ToLower(privacy)
	if !ValidPrivacy(privacy) {
		return Visualization{}, ErrBadPrivacy
	}
	a, err := r.account(user)
	if err != nil {
		return Visualization{}, err
	}
	var v Visualization
	err = r.inTx(ctx, q, func(tx pgx.Tx) error {
		if err := lockUser(ctx, tx, a.Name); err != nil {
			return err
		}
		if err := sync(ctx, tx, a); err != nil {
			return err
		}
		var oid uint32
		err := tx.QueryRow(ctx, `
SELECT c.oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r', 'p', 'v', 'm', 'f')`, a.Schema, table).Scan(&oid)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("registry: %q: %w", table, ErrNoTable)
		}
		if err != nil {
			return err
		}
		var id string
		err = tx.QueryRow(ctx, `
INSERT INTO cartolocal.visualizations (user_name, name, type, privacy, table_oid, tables)
VALUES ($1, $2, 'table', $3, $4, ARRAY[$2])
ON CONFLICT (table_oid) WHERE type = 'table'
DO UPDATE SET privacy = EXCLUDED.privacy, name = EXCLUDED.name, updated_at = now()
RETURNING id::text`, a.Name, table, privacy, oid).Scan(&id)
		if err != nil {
			return err
		}
		if err := grantPrivacy(ctx, tx, a, table, privacy); err != nil {
			return err
		}
		v, err = getByID(ctx, tx, a.Name, id)
		return err
	})
	if err != nil {
		return Visualization{}, fmt.Errorf("registry: register %q: %w", table, err)
	}
	return v, nil
}

// TableByName returns the dataset that is the user's table of that name.
func (r *Registry) TableByName(ctx context.Context, user, table string) (Visualization, error) {
	return r.Get(ctx, user, table, TypeTable)
}

// grantPrivacy makes what the public role may read match privacy.
func grantPrivacy(ctx context.Context, q Querier, a Account, table, privacy string) error {
	qt := pgx.Identifier{a.Schema, table}.Sanitize()
	role := pgx.Identifier{a.PublicRole}.Sanitize()
	var sql string
	if publicReadable(privacy) {
		sql = "GRANT SELECT ON " + qt + " TO " + role
	} else {
		sql = "REVOKE SELECT ON " + qt + " FROM " + role
	}
	if _, err := q.Exec(ctx, sql); err != nil {
		return fmt.Errorf("privacy of %s: %w", qt, err)
	}
	return nil
}

// SanitizeTableName turns a wanted name into a table name as CARTO does: lower case, every run of
// other characters than letters, digits and '_' becomes one '_', a name that does not start with
// a letter or '_' gets "table_" in front, and it fits PostgreSQL's 63 bytes.
func SanitizeTableName(name string) string {
	var b strings.Builder
	under := false
	for _, r := range strings.ToLower(strings.TrimSpace(name)) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '_':
			b.WriteRune(r)
			under = r == '_'
		default:
			if !under {
				b.WriteByte('_')
				under = true
			}
		}
	}
	s := strings.Trim(b.String(), "_")
	if s == "" {
		s = "untitled_table"
	}
	if s[0] >= '0' && s[0] <= '9' {
		s = "table_" + s
	}
	if len(s) > 63 {
		s = s[:63]
	}
	return s
}

// renameTable renames a dataset's table (and so the dataset and the maps that use it).
func renameTable(ctx context.Context, tx pgx.Tx, a Account, v Visualization, to string) error {
	if to == v.Table {
		return nil
	}
	if to != SanitizeTableName(to) {
		return fmt.Errorf("%w: %q (use lower-case letters, digits and '_')", ErrInvalidName, to)
	}
	_, err := tx.Exec(ctx, "ALTER TABLE "+pgx.Identifier{a.Schema, v.Table}.Sanitize()+" RENAME TO "+pgx.Identifier{to}.Sanitize())
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "42P07" { // duplicate_table
		return fmt.Errorf("%w: %q", ErrNameTaken, to)
	}
	if err != nil {
		return err
	}
	return renamed(ctx, tx, a, v.Table, to)
}

// qualifiedJSON is "schema"."table" as it appears inside a JSON string.
func qualifiedJSON(schema, table string) string {
	q := pgx.Identifier{schema, table}.Sanitize()
	return strings.ReplaceAll(strings.ReplaceAll(q, `\`, `\\`), `"`, `\"`)
}
