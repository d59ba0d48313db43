package migrate

import (
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/golang-migrate/migrate/v4/database"

	"github.com/gocarto/carto/internal/pgscan"
)

// Version reads schema_migrations: the version and whether it is dirty, or database.NilVersion
// when the table is empty or missing (after Drop).
func (d *Driver) Version() (version int, dirty bool, err error) {
	ctx, cancel := d.metaContext()
	defer cancel()
	q := fmt.Sprintf("SELECT version, dirty FROM %s LIMIT 1", d.versionTable)
	var v int64
	err = d.db.QueryRowContext(ctx, q).Scan(&v, &dirty)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		// The table is gone after Drop: that reads as no version, as with the postgres driver.
		var missing bool
		if isUndefinedTable(err) && d.db.QueryRowContext(ctx, fmt.Sprintf("SELECT to_regclass(%s) IS NULL", pgscan.QuoteLiteral(d.versionTable))).Scan(&missing) == nil && missing {
			err = sql.ErrNoRows
		}
	}
	switch {
	case errors.Is(err, sql.ErrNoRows):
		d.setState(versionState{known: true, version: database.NilVersion})
		return database.NilVersion, false, nil
	case err != nil:
		return 0, false, fmt.Errorf("migrate: reading the version from %s: %w", d.cfg.MigrationsTable, err)
	}
	d.setState(versionState{known: true, version: int(v), dirty: dirty})
	return int(v), dirty, nil
}

// isUndefinedTable tells the error PostgreSQL gives for a missing table. The SQL API passes on
// only the message, so the message is what we have.
func isUndefinedTable(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "relation") && strings.Contains(msg, "does not exist")
}

// SetVersion replaces the row of schema_migrations, in one transaction that first takes the
// migrations table's advisory lock and checks two guards: that this driver still holds the
// lease, if it locked, and that the table still holds what this driver last read or wrote there.
// Either failing means another migrator got in between; writing anyway could record a migration
// as applied that was not, or apply one twice.
func (d *Driver) SetVersion(version int, dirty bool) error {
	if version < database.NilVersion {
		return fmt.Errorf("migrate: version %d is invalid, it must be >= -1", version)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "DO $cartomigrate$\nBEGIN\n  PERFORM pg_advisory_xact_lock(%d);\n", d.lockKey)
	d.writeGuards(&b, "recording version "+versionString(version, dirty))
	fmt.Fprintf(&b, "  CREATE TABLE IF NOT EXISTS %s (version bigint NOT NULL PRIMARY KEY, dirty boolean NOT NULL);\n", d.versionTable)
	fmt.Fprintf(&b, "  TRUNCATE %s;\n", d.versionTable)
	// A dirty NilVersion is kept as a row, as golang-migrate's postgres driver does, so that a
	// failed down migration of the first version is not mistaken for an empty database.
	if version >= 0 || dirty {
		fmt.Fprintf(&b, "  INSERT INTO %s (version, dirty) VALUES (%d, %t);\n", d.versionTable, version, dirty)
	}
	b.WriteString("END\n$cartomigrate$")
	q := b.String()

	ctx, cancel := d.metaContext()
	defer cancel()
	if _, err := d.db.ExecContext(ctx, q); err != nil {
		// The row is unknown now: the request may have committed before the answer was lost.
		d.setState(versionState{})
		if strings.Contains(err.Error(), guardPrefix) {
			return fmt.Errorf("migrate: recording version %s in %s: %w: %w", versionString(version, dirty), d.cfg.MigrationsTable, ErrConflict, err)
		}
		return fmt.Errorf("migrate: recording version %s in %s: %w", versionString(version, dirty), d.cfg.MigrationsTable, err)
	}
	d.mu.Lock()
	d.prev, d.state = d.state, versionState{known: true, version: version, dirty: dirty}
	d.mu.Unlock()
	return nil
}

// writeGuards writes the PL/pgSQL checks shared by SetVersion and every migration job: the lease
// is still ours (when this driver locked) and schema_migrations holds what we last saw there
// (when we saw anything). doing names the action refused, for the message.
func (d *Driver) writeGuards(b *strings.Builder, doing string) {
	if d.heldLease() != nil {
		fmt.Fprintf(b, "  IF NOT EXISTS (SELECT 1 FROM %s WHERE name = %s AND holder = %s) THEN\n    RAISE EXCEPTION USING MESSAGE = %s;\n  END IF;\n",
			d.lockTable, pgscan.QuoteLiteral(d.cfg.MigrationsTable), pgscan.QuoteLiteral(d.cfg.Holder),
			pgscan.QuoteLiteral(guardPrefix+"the lock on "+d.cfg.MigrationsTable+" is no longer held by "+d.cfg.Holder+" (its lease expired and another migrator took it); not "+doing))
	}
	if s := d.getState(); s.known {
		var cond string
		if s.version == database.NilVersion && !s.dirty {
			cond = fmt.Sprintf("NOT EXISTS (SELECT 1 FROM %s)", d.versionTable)
		} else {
			cond = fmt.Sprintf("(SELECT count(*) FROM %[1]s) = 1 AND EXISTS (SELECT 1 FROM %[1]s WHERE version = %[2]d AND dirty = %[3]t)",
				d.versionTable, s.version, s.dirty)
		}
		// Nested IFs: PL/pgSQL plans an expression only when it runs, and the inner one names a
		// table that may be gone.
		fmt.Fprintf(b, "  IF to_regclass(%s) IS NOT NULL THEN\n    IF NOT (%s) THEN\n      RAISE EXCEPTION USING MESSAGE = %s;\n    END IF;\n",
			pgscan.QuoteLiteral(d.versionTable), cond,
			pgscan.QuoteLiteral(guardPrefix+d.cfg.MigrationsTable+" no longer holds "+versionString(s.version, s.dirty)+": another migrator changed it; not "+doing))
		if !(s.version == database.NilVersion && !s.dirty) {
			// A table that vanished while we expected a row is a change too.
			fmt.Fprintf(b, "  ELSE\n    RAISE EXCEPTION USING MESSAGE = %s;\n",
				pgscan.QuoteLiteral(guardPrefix+d.cfg.MigrationsTable+" was dropped while it held "+versionString(s.version, s.dirty)+"; not "+doing))
		}
		b.WriteString("  END IF;\n")
	}
}

// guardPrefix starts the message of every guard, so that a failure can be told from the
// migration's own errors.
const guardPrefix = "cartomigrate guard: "

// versionString writes a version as the CLI shows it: "3", "3 (dirty)", "none".
func versionString(v int, dirty bool) string {
	s := fmt.Sprint(v)
	if v == database.NilVersion {
		s = "no version"
	}
	if dirty {
		s += " (dirty)"
	}
	return s
}
