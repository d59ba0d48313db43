package migrate

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"hash/crc32"
	"sync"
	"time"

	"github.com/golang-migrate/migrate/v4/database"

	"github.com/gocarto/carto"
	"github.com/gocarto/carto/batch"
	cartodriver "github.com/gocarto/carto/driver"
	"github.com/gocarto/carto/internal/pgscan"
)

func init() {
	database.Register("carto", &Driver{})
}

// metaTimeout bounds each SQL API request of the bookkeeping (version, lease, drop). They are
// small statements; one that takes longer is stuck behind a lock and should fail loudly.
const metaTimeout = 60 * time.Second

// stepSuffix names the sequence that records which statement of a migration ran last.
const stepSuffix = "_step"

// Driver is a golang-migrate database.Driver for a CARTO account. Bookkeeping (version, lease,
// drop) goes through the SQL API, each call one request and so one transaction; every migration
// runs as one Batch SQL job, so it is not cut short by the SQL API's request timeout.
//
// The zero Driver is only good for Open; use Open or WithInstance.
type Driver struct {
	cfg     Config
	client  *carto.Client
	jobs    *batch.Client
	db      *sql.DB
	ownsDB  bool
	schema  string // the account's schema, where the tables live
	lockKey int64  // pg_advisory_xact_lock key of this migrations table

	// Qualified, quoted names.
	versionTable, lockTable, stepSeq string

	// ctx ends when Interrupt is called: it stops Run and a waiting Lock, nothing else, so that
	// the lease can still be released and the version read after an interrupt.
	ctx       context.Context
	interrupt context.CancelFunc

	// lockMu guards the lease and a Lock in progress: golang-migrate may run Lock on a goroutine
	// of its own while Close or Run run on another.
	lockMu     sync.Mutex
	lease      *lease       // set while locked
	acquiring  *acquisition // set while a Lock waits for the lease
	renewEvery time.Duration

	mu       sync.Mutex
	state    versionState // what schema_migrations held when this driver last read or wrote it
	prev     versionState // what it held before the last SetVersion, to tell up from down
	observer func(Event)
}

// versionState is a row of schema_migrations as this driver last saw it.
type versionState struct {
	known   bool
	version int // database.NilVersion when the table is empty
	dirty   bool
}

// Open opens the account a URL describes: the carto driver's DSN
// (carto://USER:API_KEY@HOST[:PORT][/user/USER]?sslmode=...) plus the optional parameters
// x-migrations-table, x-lock-table, x-lock-timeout, x-lock-lease and x-batch-timeout. It creates
// the migrations table, the lock table and the statement sequence if they are missing.
func Open(rawURL string) (*Driver, error) {
	dsn, cfg, err := splitURL(rawURL)
	if err != nil {
		return nil, err
	}
	dc, err := cartodriver.ParseDSN(dsn)
	if err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	// One client, so one HTTP transport, serves both the bookkeeping and the Batch jobs.
	client, err := dc.NewClient()
	if err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	db := cartodriver.OpenDBFromClient(client, cartodriver.WithTimeout(dc.Timeout),
		cartodriver.WithSpoolMemory(dc.SpoolMemory))
	d, err := WithInstance(client, db, cfg)
	if err != nil {
		db.Close()
		return nil, err
	}
	d.ownsDB = true
	return d, nil
}

// Open implements database.Driver; it is what migrate.New calls for carto:// URLs.
func (*Driver) Open(url string) (database.Driver, error) {
	d, err := Open(url)
	if err != nil {
		return nil, err
	}
	return d, nil
}

// WithInstance returns a Driver on an account: client for Batch jobs (it needs the master key),
// db for the bookkeeping. With a nil db the Driver opens one on client itself
// (driver.OpenDBFromClient), so that one client and one HTTP transport carry everything, and
// closes it in Close; otherwise the caller keeps ownership of db. A db of the carto database/sql
// driver must reach the same account as client: WithInstance refuses two accounts, since the
// version would be kept in one and the migrations run in the other.
func WithInstance(client *carto.Client, db *sql.DB, cfg Config) (*Driver, error) {
	if client == nil {
		return nil, errors.New("migrate: WithInstance needs a *carto.Client")
	}
	owns := false
	if db == nil {
		db, owns = cartodriver.OpenDBFromClient(client), true
	} else if err := sameAccount(client, db); err != nil {
		return nil, err
	}
	cfg, err := cfg.withDefaults()
	if err != nil {
		if owns {
			db.Close()
		}
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	d := &Driver{cfg: cfg, client: client, jobs: batch.New(client), db: db, ownsDB: owns, ctx: ctx, interrupt: cancel}
	if err := d.setup(); err != nil {
		cancel()
		if owns {
			db.Close()
		}
		return nil, err
	}
	return d, nil
}

// sameAccount checks that db, when it is of the carto database/sql driver, reaches client's
// account. A connection of that driver sends nothing when it opens, so this costs no request.
func sameAccount(client *carto.Client, db *sql.DB) error {
	ctx, cancel := context.WithTimeout(context.Background(), metaTimeout)
	defer cancel()
	conn, err := db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("migrate: WithInstance: %w", err)
	}
	defer conn.Close()
	var other *carto.Client
	_ = conn.Raw(func(dc any) error {
		if api, err := cartodriver.SQLAPI(dc); err == nil {
			other = api.Carto()
		}
		return nil
	})
	if other != nil && other != client && other.BaseURL() != client.BaseURL() {
		return fmt.Errorf("migrate: WithInstance: the *carto.Client is for %s but the *sql.DB reaches %s; both must be the same account",
			client.BaseURL(), other.BaseURL())
	}
	return nil
}

// setup finds the account's schema and creates the driver's objects in it. The creation is
// serialised with the advisory lock, since two CREATE TABLE IF NOT EXISTS racing each other can
// still fail on the catalog's unique index.
func (d *Driver) setup() error {
	ctx, cancel := context.WithTimeout(context.Background(), metaTimeout)
	defer cancel()
	var schema sql.NullString
	if err := d.db.QueryRowContext(ctx, "SELECT current_schema()").Scan(&schema); err != nil {
		return fmt.Errorf("migrate: reading the account's schema: %w", err)
	}
	if !schema.Valid || schema.String == "" {
		return errors.New("migrate: the account has no current schema")
	}
	d.schema = schema.String
	q := pgscan.QuoteIdent(d.schema) + "."
	d.versionTable = q + pgscan.QuoteIdent(d.cfg.MigrationsTable)
	d.lockTable = q + pgscan.QuoteIdent(d.cfg.LockTable)
	d.stepSeq = q + pgscan.QuoteIdent(d.cfg.MigrationsTable+stepSuffix)
	d.lockKey = advisoryKey(d.schema, d.cfg.MigrationsTable)

	stmt := fmt.Sprintf(`SELECT pg_advisory_xact_lock(%d);
CREATE TABLE IF NOT EXISTS %s (version bigint NOT NULL PRIMARY KEY, dirty boolean NOT NULL);
CREATE TABLE IF NOT EXISTS %s (name text PRIMARY KEY, holder text NOT NULL, acquired_at timestamptz NOT NULL, expires_at timestamptz NOT NULL);
CREATE SEQUENCE IF NOT EXISTS %s`, d.lockKey, d.versionTable, d.lockTable, d.stepSeq)
	if _, err := d.db.ExecContext(ctx, stmt); err != nil {
		return fmt.Errorf("migrate: creating %s, %s and %s: %w", d.cfg.MigrationsTable, d.cfg.LockTable, d.cfg.MigrationsTable+stepSuffix, err)
	}
	return nil
}

// advisoryKey is the pg_advisory_xact_lock key that serialises every job and bookkeeping
// transaction of one migrations table.
func advisoryKey(schema, table string) int64 {
	sum := crc32.ChecksumIEEE([]byte("cartomigrate\x00" + schema + "\x00" + table))
	return int64(sum)
}

// Close stops a Lock still waiting, releases a lease still held, and closes the *sql.DB if Open made it.
func (d *Driver) Close() error {
	var errs []error
	if err := d.Unlock(); err != nil && !errors.Is(err, database.ErrNotLocked) {
		errs = append(errs, err)
	}
	if d.interrupt != nil {
		d.interrupt()
	}
	if d.ownsDB && d.db != nil {
		errs = append(errs, d.db.Close())
	}
	return errors.Join(errs...)
}

// Interrupt cancels the migration that is running, if any: its Batch job is cancelled on the
// server (which stops the query) and Run returns an error, leaving the version dirty as
// golang-migrate set it. A Lock still waiting gives up. Everything else keeps working, so the
// lease can be released and the version read afterwards. It is safe to call from a signal handler
// goroutine, more than once.
func (d *Driver) Interrupt() { d.interrupt() }

// Schema is the account's schema, where the driver's tables live.
func (d *Driver) Schema() string { return d.schema }

// Config is the driver's configuration, defaults filled in.
func (d *Driver) Config() Config { return d.cfg }

func (d *Driver) metaContext() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), metaTimeout)
}

func (d *Driver) setState(s versionState) {
	d.mu.Lock()
	d.state, d.prev = s, versionState{}
	d.mu.Unlock()
}

func (d *Driver) getState() versionState {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.state
}

var _ database.Driver = (*Driver)(nil)
