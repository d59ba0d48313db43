package apikeys

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/go-json-experiment/json/jsontext"
	"github.com/jackc/pgx/v5"
)

// Create makes a regular key named name for the account with the grants of an Auth API create
// request (its "grants" JSON), validated as CARTO validates them: a refused key is a
// *ValidationError with CARTO's messages. The key's role is created with exactly those table and
// schema grants, each of which the account's owner must hold.
func (s *Store) Create(ctx context.Context, a Account, name string, grants jsontext.Value) (Key, error) {
	g, grantMsgs := ParseGrants(grants)
	var msgs []string
	for _, m := range grantMsgs {
		msgs = append(msgs, "Grants "+m)
	}
	var k Key
	err := pgx.BeginFunc(ctx, s.admin, func(tx pgx.Tx) error {
		// One key change of an account at a time: the name check and the insert agree.
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock(hashtextextended('cartolocal apikeys ' || $1, 0))", a.Name); err != nil {
			return err
		}
		if strings.TrimSpace(name) == "" {
			msgs = append(msgs, "Name can't be blank")
		} else {
			var taken bool
			if err := tx.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM cartolocal.api_keys WHERE user_name = $1 AND name = $2)", a.Name, name).Scan(&taken); err != nil {
				return err
			}
			if taken || name == NameMaster || name == NameDefaultPublic {
				// The master and default keys exist on every account, so their names are taken too.
				msgs = append(msgs, "Name has already been taken")
			}
			if name == NameMaster || name == NameDefaultPublic {
				msgs = append(msgs, "Name api_key name cannot be "+NameMaster+" nor "+NameDefaultPublic)
			}
		}
		if len(grantMsgs) == 0 {
			ok, err := ownerHasTables(ctx, tx, a, g.Tables)
			if err != nil {
				return err
			}
			if !ok {
				msgs = append(msgs, "Grants can only grant table permissions you have")
			} else if ok, err = ownerHasSchemas(ctx, tx, a, g.Schemas); err != nil {
				return err
			} else if !ok {
				msgs = append(msgs, "Grants can only grant schema permissions you have")
			}
		}
		if len(msgs) > 0 {
			// Grants' messages come first, as Rails lists errors by attribute.
			return &ValidationError{Messages: sortByAttribute(msgs)}
		}
		k = Key{User: a.Name, Name: name, Token: NewToken(), Role: "carto_role_" + NewToken()[:32], Password: NewToken(), Grants: g}
		if err := createRole(ctx, tx, a, k); err != nil {
			return err
		}
		row := tx.QueryRow(ctx, `
INSERT INTO cartolocal.api_keys (user_name, name, token, role_name, role_password, apis, services, user_data, datasets, database, table_metadata)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING `+keyColumns,
			a.Name, name, k.Token, k.Role, k.Password, nonNil(g.APIs), nonNil(g.Services), nonNil(g.UserData), nonNil(g.Datasets), g.Database, g.Metadata)
		_, err := scanKey(row)
		return err
	})
	var ve *ValidationError
	if errors.As(err, &ve) {
		return Key{}, ve
	}
	if err != nil {
		return Key{}, fmt.Errorf("apikeys: create %q: %w", name, err)
	}
	return s.Get(ctx, a.Name, name)
}

func sortByAttribute(msgs []string) []string {
	var grants, other []string
	for _, m := range msgs {
		if strings.HasPrefix(m, "Grants ") {
			grants = append(grants, m)
		} else {
			other = append(other, m)
		}
	}
	return append(grants, other...)
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// ownerHasTables reports whether the account's owner holds every permission asked on each table
// (CARTO's "can only grant table permissions you have"); a table that does not exist fails too.
func ownerHasTables(ctx context.Context, q Querier, a Account, tables []TableGrant) (bool, error) {
	for _, t := range tables {
		var ok bool
		err := q.QueryRow(ctx, `
SELECT coalesce((SELECT bool_and(has_table_privilege($1, r, p)) FROM unnest($3::text[]) p), true)
FROM to_regclass(format('%I.%I', $2::text, $4::text)) r WHERE r IS NOT NULL`,
			a.OwnerRole, t.Schema, t.Permissions, t.Name).Scan(&ok)
		if errors.Is(err, pgx.ErrNoRows) {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		if !ok {
			return false, nil
		}
	}
	return true, nil
}

// ownerHasSchemas reports whether the account's owner may create in each schema asked.
func ownerHasSchemas(ctx context.Context, q Querier, a Account, schemas []SchemaGrant) (bool, error) {
	for _, sg := range schemas {
		var ok bool
		err := q.QueryRow(ctx, `
SELECT coalesce((SELECT bool_and(has_schema_privilege($1, n.oid, p)) FROM unnest($3::text[]) p), true)
FROM pg_namespace n WHERE n.nspname = $2`, a.OwnerRole, sg.Name, sg.Permissions).Scan(&ok)
		if errors.Is(err, pgx.ErrNoRows) {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		if !ok {
			return false, nil
		}
	}
	return true, nil
}

// createRole makes the key's role as CARTO's setup_db_role does: a login role that inherits the
// account's public role, with the owner's settings (search_path, statement_timeout), exactly the
// table grants asked (plus the sequences of those tables, so INSERT can draw cartodb_id), USAGE
// on the schemas of those tables, and the schema grants asked. The owner is made a member, so
// that it can manage what the key creates.
func createRole(ctx context.Context, tx pgx.Tx, a Account, k Key) error {
	role := pgx.Identifier{k.Role}.Sanitize()
	var b strings.Builder
	fmt.Fprintf(&b, "CREATE ROLE %s NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS INHERIT LOGIN PASSWORD '%s';\n", role, k.Password)
	fmt.Fprintf(&b, "GRANT %s TO %s;\n", pgx.Identifier{a.PublicRole}.Sanitize(), role)
	fmt.Fprintf(&b, "GRANT %s TO %s;\n", role, pgx.Identifier{a.OwnerRole}.Sanitize())
	if _, err := tx.Exec(ctx, b.String()); err != nil {
		return err
	}
	// The owner's per-role settings, copied one by one (ALTER ROLE ... SET takes no parameters).
	rows, err := tx.Query(ctx, `
SELECT split_part(c, '=', 1), substr(c, strpos(c, '=') + 1)
FROM pg_db_role_setting s, unnest(s.setconfig) c
WHERE s.setrole = (SELECT oid FROM pg_roles WHERE rolname = $1) AND s.setdatabase = 0`, a.OwnerRole)
	if err != nil {
		return err
	}
	var settings [][2]string
	for rows.Next() {
		var kv [2]string
		if err := rows.Scan(&kv[0], &kv[1]); err != nil {
			rows.Close()
			return err
		}
		settings = append(settings, kv)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, kv := range settings {
		// search_path's value is a list of identifiers, already quoted as the owner's was set.
		if _, err := tx.Exec(ctx, fmt.Sprintf("ALTER ROLE %s SET %s = %s", role, pgx.Identifier{kv[0]}.Sanitize(), settingValue(kv[0], kv[1]))); err != nil {
			return err
		}
	}
	schemas := map[string]bool{}
	for _, t := range k.Grants.Tables {
		if len(t.Permissions) == 0 {
			continue
		}
		qt := pgx.Identifier{t.Schema, t.Name}.Sanitize()
		if _, err := tx.Exec(ctx, fmt.Sprintf("GRANT %s ON TABLE %s TO %s", strings.ToUpper(strings.Join(t.Permissions, ", ")), qt, role)); err != nil {
			return err
		}
		// The sequences the table's columns draw from (cartodb_id's), for INSERT.
		seqs, err := tx.Query(ctx, `
SELECT DISTINCT d.objid::regclass::text FROM pg_depend d JOIN pg_class s ON s.oid = d.objid AND s.relkind = 'S'
WHERE d.refobjid = to_regclass($1) AND d.classid = 'pg_class'::regclass`, qt)
		if err != nil {
			return err
		}
		var names []string
		for seqs.Next() {
			var n string
			if err := seqs.Scan(&n); err != nil {
				seqs.Close()
				return err
			}
			names = append(names, n)
		}
		seqs.Close()
		if err := seqs.Err(); err != nil {
			return err
		}
		for _, n := range names {
			if _, err := tx.Exec(ctx, fmt.Sprintf("GRANT USAGE, SELECT ON SEQUENCE %s TO %s", n, role)); err != nil {
				return err
			}
		}
		schemas[t.Schema] = true
	}
	for _, sg := range k.Grants.Schemas {
		if len(sg.Permissions) == 0 {
			continue
		}
		if _, err := tx.Exec(ctx, fmt.Sprintf("GRANT USAGE, %s ON SCHEMA %s TO %s", strings.ToUpper(strings.Join(sg.Permissions, ", ")), pgx.Identifier{sg.Name}.Sanitize(), role)); err != nil {
			return err
		}
	}
	for s := range schemas {
		if _, err := tx.Exec(ctx, fmt.Sprintf("GRANT USAGE ON SCHEMA %s TO %s", pgx.Identifier{s}.Sanitize(), role)); err != nil {
			return err
		}
	}
	return nil
}

// settingValue writes a stored role setting back as ALTER ROLE takes it: search_path as the list
// it is, anything else as a string literal.
func settingValue(name, value string) string {
	if name == "search_path" {
		return value
	}
	return "'" + strings.ReplaceAll(value, "'", "''") + "'"
}
