// Package migrate is a golang-migrate (github.com/golang-migrate/migrate/v4) database driver for
// CARTO accounts, registered as "carto". Importing it is enough for migrate.New:
//
//	import (
//		"github.com/golang-migrate/migrate/v4"
//		_ "github.com/golang-migrate/migrate/v4/source/file"
//		_ "github.com/gocarto/carto/migrate"
//	)
//
//	m, err := migrate.New("file://migrations", "carto://alice:MASTER_KEY@alice.carto.com")
//	err = m.Up()
//
// The URL is the carto database/sql driver's DSN plus the driver's own parameters:
//
//	x-migrations-table  table holding the version (schema_migrations)
//	x-lock-table        table holding the lock leases (cartomigrate_lock)
//	x-lock-timeout      how long Lock waits for another migrator, "30s" or seconds (14s)
//	x-lock-lease        how long a lease lives unless renewed (30s)
//	x-batch-timeout     timeout of each migration's Batch query (the account's own)
//
// Each migration runs as one Batch SQL job whose query is a single string, so PostgreSQL runs it
// as one transaction, beyond the SQL API's statement timeout: it applies whole or not at all. A
// migration must fit the Batch API's 16 KiB job limit; it may begin with BEGIN and end with COMMIT
// but not commit or roll back in between. The bookkeeping (version, lease, drop) goes through the
// SQL API, one request and one transaction per call.
//
// Concurrency has two guards. Lock takes a lease row in the lock table with one
// INSERT ... ON CONFLICT DO UPDATE ... WHERE expires_at < now(), renewed in the background while
// held, so a migrator that dies blocks others only until its lease expires. And every migration's
// job, like every SetVersion, first takes a transaction-scoped advisory lock and checks that this
// migrator still holds the lease and that schema_migrations still holds what it last saw there:
// a migrator whose lease was taken over, or whose view is stale, cannot apply a migration twice
// or record a version over another's.
//
// golang-migrate marks the version dirty before each migration and clean after it. The job also
// records the version clean itself, as its last statement, inside the migration's transaction: a
// dirty version therefore always means the migration was not applied (it failed, was cancelled,
// or its job has not finished), even when the migrator died while its job ran.
//
// When a migration fails, the error is a *MigrationError with the migration's version, the
// statement that failed (found through a sequence that the job sets before each statement, which
// a rollback does not undo) and PostgreSQL's message. The version stays dirty; since the
// transaction was rolled back, the database is still at the version before, which is the one to
// force.
//
// Drop drops the tables the account owns in its schema, like golang-migrate's postgres driver
// (views go when they depend on a dropped table; functions stay), and never extension tables,
// tables the account does not own, or the lock table.
package migrate
