package migrate

import (
	"fmt"

	"github.com/golang-migrate/migrate/v4/database"

	"github.com/gocarto/carto/internal/pgscan"
)

// Drop drops the account's own tables in its schema, with CASCADE, as golang-migrate's postgres
// driver does (views and functions go only when they depend on a dropped table). It leaves alone
// tables that belong to an extension (PostGIS's spatial_ref_sys), tables the account's role does
// not own (the server's own), and the lock table, which golang-migrate still needs to unlock after
// Drop. The migrations table goes too, so the version reads as none afterwards.
//
// It runs as one request, so one transaction: all of it or none.
func (d *Driver) Drop() error {
	q := fmt.Sprintf(`DO $cartomigrate$
DECLARE
  t record;
BEGIN
  PERFORM pg_advisory_xact_lock(%[1]d);
  FOR t IN
    SELECT c.relname FROM pg_class c
    WHERE c.relnamespace = %[2]s::regnamespace
      AND c.relkind IN ('r', 'p')
      AND NOT c.relispartition
      AND c.relname <> %[3]s
      AND pg_has_role(c.relowner, 'USAGE')
      AND NOT EXISTS (SELECT 1 FROM pg_depend e
                      WHERE e.classid = 'pg_class'::regclass AND e.objid = c.oid AND e.deptype = 'e')
    ORDER BY c.relname
  LOOP
    EXECUTE format('DROP TABLE IF EXISTS %%I.%%I CASCADE', %[4]s, t.relname);
  END LOOP;
END
$cartomigrate$`, d.lockKey, pgscan.QuoteLiteral(pgscan.QuoteIdent(d.schema)), pgscan.QuoteLiteral(d.cfg.LockTable), pgscan.QuoteLiteral(d.schema))
	ctx, cancel := d.metaContext()
	defer cancel()
	if _, err := d.db.ExecContext(ctx, q); err != nil {
		d.setState(versionState{})
		return fmt.Errorf("migrate: dropping the account's tables: %w", err)
	}
	d.setState(versionState{known: true, version: database.NilVersion})
	return nil
}
