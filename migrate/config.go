package migrate

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Defaults of Config.
const (
	DefaultMigrationsTable = "schema_migrations"
	DefaultLockTable       = "cartomigrate_lock"
	// DefaultLockTimeout is a second below golang-migrate's own (migrate.DefaultLockTimeout,
	// 15s): when golang-migrate gives up on Lock it leaves the call running, and a lease taken
	// after that would be held with nobody to release it.
	DefaultLockTimeout = 14 * time.Second
	DefaultLockLease   = 30 * time.Second
)

// Config configures a Driver. The zero value means every default.
type Config struct {
	// MigrationsTable holds the version, in the account's schema (schema_migrations).
	MigrationsTable string
	// LockTable holds the leases, one row per migrations table (cartomigrate_lock).
	LockTable string
	// LockTimeout bounds how long Lock waits for another migrator's lease (14s). Keep it below
	// golang-migrate's Migrate.LockTimeout.
	LockTimeout time.Duration
	// LockLease is how long a lease lasts unless renewed; a holder renews it every third of that
	// while it holds it, so only a migrator that died or lost the network loses it (30s).
	LockLease time.Duration
	// BatchTimeout, if set, is sent as the timeout of each migration's Batch query; the server
	// applies the smaller of it and the account's own Batch timeout.
	BatchTimeout time.Duration
	// Holder names this migrator in the lease row; by default host name, process id and a random tag.
	Holder string
}

// URL parameters read by Open; all other x- parameters are refused.
const (
	paramMigrationsTable = "x-migrations-table"
	paramLockTable       = "x-lock-table"
	paramLockTimeout     = "x-lock-timeout"
	paramLockLease       = "x-lock-lease"
	paramBatchTimeout    = "x-batch-timeout"
)

// splitURL separates the driver's own x- parameters from the DSN that the carto database/sql
// driver understands. It never echoes the URL back in an error, since it carries the API key.
func splitURL(raw string) (dsn string, cfg Config, err error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", cfg, errors.New("migrate: the database URL does not parse (expected carto://USER:API_KEY@HOST[:PORT][/user/USER][?...])")
	}
	q := u.Query()
	for key, vals := range q {
		if !strings.HasPrefix(key, "x-") {
			continue
		}
		val := vals[len(vals)-1]
		switch key {
		case paramMigrationsTable:
			cfg.MigrationsTable = val
		case paramLockTable:
			cfg.LockTable = val
		case paramLockTimeout:
			cfg.LockTimeout, err = parseDuration(key, val)
		case paramLockLease:
			cfg.LockLease, err = parseDuration(key, val)
		case paramBatchTimeout:
			cfg.BatchTimeout, err = parseDuration(key, val)
		default:
			err = fmt.Errorf("migrate: unknown URL parameter %s (known: %s, %s, %s, %s, %s)", key,
				paramMigrationsTable, paramLockTable, paramLockTimeout, paramLockLease, paramBatchTimeout)
		}
		if err != nil {
			return "", cfg, err
		}
		q.Del(key)
	}
	u.RawQuery = q.Encode()
	return u.String(), cfg, nil
}

// parseDuration reads a Go duration ("90s", "2m") or a bare number of seconds, like the CLI's
// -lock-timeout.
func parseDuration(key, val string) (time.Duration, error) {
	if n, err := strconv.ParseUint(val, 10, 32); err == nil {
		return time.Duration(n) * time.Second, nil
	}
	d, err := time.ParseDuration(val)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("migrate: %s=%q: want a duration such as 30s or a number of seconds", key, val)
	}
	return d, nil
}

// withDefaults fills in defaults and checks the table names.
func (c Config) withDefaults() (Config, error) {
	if c.MigrationsTable == "" {
		c.MigrationsTable = DefaultMigrationsTable
	}
	if c.LockTable == "" {
		c.LockTable = DefaultLockTable
	}
	if c.LockTimeout <= 0 {
		c.LockTimeout = DefaultLockTimeout
	}
	if c.LockLease <= 0 {
		c.LockLease = DefaultLockLease
	}
	if c.LockLease < time.Second {
		return c, fmt.Errorf("migrate: lock lease %s is too short; use at least 1s", c.LockLease)
	}
	for _, name := range []string{c.MigrationsTable, c.LockTable} {
		if err := checkTableName(name); err != nil {
			return c, err
		}
	}
	if c.MigrationsTable == c.LockTable {
		return c, fmt.Errorf("migrate: the migrations table and the lock table are both %q", c.LockTable)
	}
	if c.Holder == "" {
		c.Holder = defaultHolder()
	}
	return c, nil
}

// checkTableName accepts names that PostgreSQL keeps as they are: the driver quotes them, and a
// name longer than 63 bytes would be silently cut, which would make two names one table.
func checkTableName(name string) error {
	if len(name) > 63-len(stepSuffix) {
		return fmt.Errorf("migrate: table name %q is longer than %d bytes", name, 63-len(stepSuffix))
	}
	if strings.ContainsRune(name, 0) || strings.TrimSpace(name) != name {
		return fmt.Errorf("migrate: table name %q holds a NUL or leading or trailing blanks", name)
	}
	return nil
}
