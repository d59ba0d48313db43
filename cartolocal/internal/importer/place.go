package importer

// The last step of an import: each staged table gets its place in the account, by the import's
// collision strategy (a new name, skip, overwrite), is moved into the account's schema, owned and
// cartodbfied as the account's role, and made a dataset with its privacy; a sync table's run
// replaces its rows instead.

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"
)

// Target is the account staged tables go into.
type Target struct {
	Name       string // the user name: table names are chosen under a lock of this account's
	Schema     string // the account's schema
	Role       string // the role owning the account's tables, which cartodbfies them
	PublicRole string // the role reading public datasets
	// Register makes a placed table a dataset with its privacy, inside tx, and returns the
	// dataset's id. When nil, the public role is granted SELECT (public, link) or has it revoked,
	// and there is no id.
	Register func(ctx context.Context, tx pgx.Tx, table, privacy string) (string, error)
}

// LockNames serializes the choice of table names in the account, until tx ends.
func (acct *Target) LockNames(ctx context.Context, tx pgx.Tx) error {
	_, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock(hashtextextended('cartolocal imports names ' || $1, 0))", acct.Name)
	return err
}

// taken reports whether a relation of that name is in the account's schema.
func (acct *Target) taken(ctx context.Context, tx pgx.Tx) func(string) bool {
	return func(name string) bool {
		var ok bool
		err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = $1 AND c.relname = $2)`, acct.Schema, name).Scan(&ok)
		return err != nil || ok
	}
}

// Place gives one staged table its place in the account, in tx (which holds LockNames), and
// returns its name and its dataset's id; an empty name means it was skipped. collision is the
// import's collision_strategy (skip, overwrite, or anything else for a new name) and privacy its
// privacy ("" keeps an overwritten table's).
func (acct *Target) Place(ctx context.Context, tx pgx.Tx, st Staged, collision, privacy string) (name, id string, err error) {
	exists := acct.taken(ctx, tx)
	switch collision {
	case "skip", "overwrite":
		name = SanitizeTableName(st.Base)
		if name == "" {
			name = DefaultTableName
		}
		if exists(name) {
			if collision == "skip" {
				return "", "", nil
			}
			id, err := acct.overwrite(ctx, tx, st.Table, name, privacy)
			return name, id, err
		}
	default:
		if name, err = ProposeTableName(st.Base, exists); err != nil {
			return "", "", err
		}
	}
	if err := acct.adopt(ctx, tx, st.Table, name); err != nil {
		return "", "", err
	}
	id, err = acct.register(ctx, tx, name, privacy)
	return name, id, err
}

// adopt moves a prepared staging table into the account as name, owned by the account's role,
// and cartodbfies it as that role.
func (acct *Target) adopt(ctx context.Context, tx pgx.Tx, staging, name string) error {
	schema := pgx.Identifier{acct.Schema}.Sanitize()
	role := pgx.Identifier{acct.Role}.Sanitize()
	qt := pgx.Identifier{acct.Schema, name}.Sanitize()
	// A temporary name first: the staging name may clash in the schema, the final one not.
	if _, err := tx.Exec(ctx, fmt.Sprintf("ALTER TABLE %s SET SCHEMA %s; ALTER TABLE %s.%s RENAME TO %s; ALTER TABLE %s OWNER TO %s",
		pgx.Identifier{StagingSchema, staging}.Sanitize(), schema, schema, pgx.Identifier{staging}.Sanitize(), pgx.Identifier{name}.Sanitize(), qt, role)); err != nil {
		return fmt.Errorf("moving the table: %w", err)
	}
	if _, err := tx.Exec(ctx, "SAVEPOINT cartodbfy; SET LOCAL ROLE "+role); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, "SELECT cartodb.CDB_CartodbfyTable($1::text, $2::regclass)", acct.Schema, qt); err != nil {
		return Fail(CodeCartodbfy, err)
	}
	_, err := tx.Exec(ctx, "RESET ROLE; RELEASE SAVEPOINT cartodbfy; ANALYZE "+qt)
	return err
}

// register makes the table a dataset with its privacy.
func (acct *Target) register(ctx context.Context, tx pgx.Tx, name, privacy string) (string, error) {
	if acct.Register != nil {
		id, err := acct.Register(ctx, tx, name, privacy)
		if err != nil {
			return "", fmt.Errorf("registering %s: %w", name, err)
		}
		return id, nil
	}
	qt := pgx.Identifier{acct.Schema, name}.Sanitize()
	pub := pgx.Identifier{acct.PublicRole}.Sanitize()
	sql := "REVOKE ALL ON " + qt + " FROM " + pub
	if privacy == "public" || privacy == "link" {
		sql = "GRANT SELECT ON " + qt + " TO " + pub
	}
	_, err := tx.Exec(ctx, sql)
	return "", err
}

// overwrite replaces the account's table name by the staged one (collision_strategy=overwrite):
// the new table takes the name, the old one's grants and, unless the import gives one, its
// privacy. A table others depend on cannot be replaced (2013).
func (acct *Target) overwrite(ctx context.Context, tx pgx.Tx, staging, name, privacy string) (string, error) {
	grants, err := acct.tableGrants(ctx, tx, name)
	if err != nil {
		return "", err
	}
	if privacy == "" {
		privacy = "private"
		for _, g := range grants {
			if g.grantee == acct.PublicRole && g.privilege == "SELECT" {
				privacy = "public"
			}
		}
	}
	if _, err := tx.Exec(ctx, "SAVEPOINT overwrite"); err != nil {
		return "", err
	}
	if _, err := tx.Exec(ctx, "DROP TABLE "+pgx.Identifier{acct.Schema, name}.Sanitize()); err != nil {
		return "", Fail(CodeCannotOverwrite, err)
	}
	if err := acct.adopt(ctx, tx, staging, name); err != nil {
		return "", err
	}
	if err := acct.restoreGrants(ctx, tx, name, grants); err != nil {
		return "", err
	}
	return acct.register(ctx, tx, name, privacy)
}

// grant is a privilege another role holds on a table.
type grant struct{ grantee, privilege string }

// tableGrants are the privileges others hold on the account's table.
func (acct *Target) tableGrants(ctx context.Context, tx pgx.Tx, name string) ([]grant, error) {
	rows, err := tx.Query(ctx, `SELECT grantee, privilege_type FROM information_schema.role_table_grants
WHERE table_schema = $1 AND table_name = $2 AND grantee <> $3`, acct.Schema, name, acct.Role)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (grant, error) {
		var g grant
		err := r.Scan(&g.grantee, &g.privilege)
		return g, err
	})
}

// restoreGrants gives a replaced table the grants of the table it replaced.
func (acct *Target) restoreGrants(ctx context.Context, tx pgx.Tx, name string, grants []grant) error {
	for _, g := range grants {
		if g.grantee == "PUBLIC" {
			continue
		}
		if _, err := tx.Exec(ctx, fmt.Sprintf("GRANT %s ON %s TO %s", g.privilege, pgx.Identifier{acct.Schema, name}.Sanitize(), pgx.Identifier{g.grantee}.Sanitize())); err != nil {
			return err
		}
	}
	return nil
}

// ReplaceRows puts the rows of the staging table in place of the account's table's rows, in tx
// (which holds LockNames): the table keeps its identity (name, grants, privacy, dataset,
// triggers, indexes). When the staged columns differ from the table's, the table is replaced as
// collision_strategy=overwrite replaces it. A sync table's run ends so.
func (acct *Target) ReplaceRows(ctx context.Context, tx pgx.Tx, staging, name string) error {
	qt := pgx.Identifier{acct.Schema, name}.Sanitize()
	st := pgx.Identifier{StagingSchema, staging}.Sanitize()
	oldCols, err := columnTypes(ctx, tx, qt)
	if err != nil {
		return Fail(CodeCannotOverwrite, err)
	}
	newCols, err := columnTypes(ctx, tx, st)
	if err != nil {
		return err
	}
	// The trigger computes the_geom_webmercator of the inserted rows.
	delete(oldCols, "the_geom_webmercator")
	delete(newCols, "the_geom_webmercator")
	same := len(oldCols) == len(newCols)
	var cols []string
	for n, t := range newCols {
		if oldCols[n] != t && !(n == "cartodb_id" && oldCols[n] != "") && !(n == "the_geom" && oldCols[n] != "") {
			same = false
		}
		cols = append(cols, n)
	}
	if !same {
		_, err := acct.overwrite(ctx, tx, staging, name, "")
		return err
	}
	slices.Sort(cols)
	list := ""
	for i, c := range cols {
		if i > 0 {
			list += ", "
		}
		list += pgx.Identifier{c}.Sanitize()
	}
	if _, err := tx.Exec(ctx, "SAVEPOINT replace_rows"); err != nil {
		return err
	}
	_, err = tx.Exec(ctx, fmt.Sprintf(`DELETE FROM %s; INSERT INTO %[1]s (%s) SELECT %[2]s FROM %s;
SELECT setval(pg_get_serial_sequence('%[1]s', 'cartodb_id'), GREATEST(1, (SELECT max(cartodb_id) FROM %[1]s)))`, qt, list, st))
	if err != nil {
		var code = CodeCannotOverwrite
		if errors.Is(err, context.Canceled) {
			return err
		}
		return Fail(code, err)
	}
	return nil
}

// columnTypes maps a table's columns to their types.
func columnTypes(ctx context.Context, q Querier, qtable string) (map[string]string, error) {
	rows, err := q.Query(ctx, `SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute
WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped`, qtable)
	if err != nil {
		return nil, err
	}
	m := map[string]string{}
	for rows.Next() {
		var n, t string
		if err := rows.Scan(&n, &t); err != nil {
			rows.Close()
			return nil, err
		}
		m[n] = t
	}
	return m, rows.Err()
}
