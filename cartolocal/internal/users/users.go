// Package users is cartolocal's directory of CARTO accounts: provisioning (a schema, an owner role
// for the master key, the shared public role for the public key and for requests without a key),
// the key lookup of each request (which account, which role), and the connection pools each
// account's roles run on. Every API server finds its caller here.
package users

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgconn/ctxwatch"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/gocarto/carto/cartolocal/internal/apikeys"
	"github.com/gocarto/carto/internal/pgscan"
)

// User is one account: a schema, an owner role used by the master key, and keys.
type User struct {
	Name      string // the CARTO user name, as in /user/NAME/
	Schema    string // the account's schema, named as the user
	Role      string // the owner role the master key runs as, cartodb_user_NAME
	MasterKey string // the API key that runs SQL as Role
	PublicKey string // the API key that runs SQL as the read-only public role

	conns *userConns
}

// Config describes one account. Empty keys keep the ones stored by an earlier run, or are
// generated.
type Config struct {
	Name      string
	MasterKey string
	PublicKey string
}

// Directory holds the accounts a server serves, and makes them.
type Directory struct {
	admin            *pgxpool.Pool // superuser pool: provisioning, and the template of the accounts' pools
	postgisSchema    string
	publicPassword   string
	statementTimeout time.Duration

	mu    sync.RWMutex
	users map[string]*User
	keys  *apikeys.Store // regular API keys; nil until SetKeys
}

// Options are what a Directory needs from the server.
type Options struct {
	// Admin is a superuser pool on the server's database.
	Admin *pgxpool.Pool
	// PostGISSchema is the quoted schema holding PostGIS (cartodb.InstallPostGIS says which).
	PostGISSchema string
	// PublicPassword is the public role's password, from Install.
	PublicPassword string
	// StatementTimeout is set on every account's roles; zero means none.
	StatementTimeout time.Duration
}

// New returns an empty directory; Load serves the accounts stored by earlier runs, Add makes more.
func New(o Options) *Directory {
	return &Directory{
		admin: o.Admin, postgisSchema: o.PostGISSchema, publicPassword: o.PublicPassword,
		statementTimeout: o.StatementTimeout, users: map[string]*User{},
	}
}

// Get returns the account named name.
func (d *Directory) Get(name string) (*User, bool) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	u, ok := d.users[name]
	return u, ok
}

// All returns every account, in no particular order.
func (d *Directory) All() []*User {
	d.mu.RLock()
	defer d.mu.RUnlock()
	out := make([]*User, 0, len(d.users))
	for _, u := range d.users {
		out = append(out, u)
	}
	return out
}

// Close closes every account's pools. Pools are closed outside the lock: closing waits for
// connections in use, whose holders may still look accounts up.
func (d *Directory) Close() {
	for _, u := range d.All() {
		u.close()
	}
}

// rolePrefix names an account's owner role after CARTO's cartodb_user_ roles, which keeps them
// apart from the roles a shared server already has (postgres, publicuser, ...).
const rolePrefix = "cartodb_user_"

// maxUserName keeps rolePrefix+name within PostgreSQL's 63-byte identifiers.
const maxUserName = 63 - len(rolePrefix)

// reservedNames are schemas an account must not take.
var reservedNames = map[string]bool{
	"public": true, "cartodb": true, "cartolocal": true, "information_schema": true,
	"topology": true, "tiger": true, "tiger_data": true, PublicRole: true, "postgres": true,
}

// ValidateName accepts CARTO user names: lower-case letters, digits, '-' and '_', starting
// with a letter, that are not one of the schemas cartolocal or PostgreSQL use. Its error names
// the user: "user name "9bad": ...".
func ValidateName(name string) error {
	if name == "" || len(name) > maxUserName {
		return fmt.Errorf("user name %q must have 1 to %d characters", name, maxUserName)
	}
	for i, r := range name {
		switch {
		case r >= 'a' && r <= 'z':
		case i > 0 && (r >= '0' && r <= '9' || r == '-' || r == '_'):
		default:
			return fmt.Errorf("user name %q: use lower-case letters, digits, '-' and '_', starting with a letter", name)
		}
	}
	if reservedNames[name] || strings.HasPrefix(name, "pg_") {
		return fmt.Errorf("user name %q is reserved", name)
	}
	return nil
}

// Add creates an account, or takes over an existing one of that name: its schema (owned by
// the account's role, readable by the public role only where granted), its owner role, and its
// keys. Keys left empty keep the ones stored by an earlier run, or are generated.
func (d *Directory) Add(ctx context.Context, cfg Config) (*User, error) {
	if err := ValidateName(cfg.Name); err != nil {
		return nil, fmt.Errorf("cartolocal: %w", err)
	}
	if cfg.MasterKey != "" && cfg.MasterKey == cfg.PublicKey {
		return nil, fmt.Errorf("cartolocal: user %q: the master and public keys must differ", cfg.Name)
	}
	if cfg.MasterKey == PublicToken {
		return nil, fmt.Errorf("cartolocal: user %q: %q is the public token, not a master key", cfg.Name, PublicToken)
	}
	u := &User{Name: cfg.Name, Schema: cfg.Name, Role: rolePrefix + cfg.Name}
	var password string
	err := pgx.BeginFunc(ctx, d.admin, func(tx pgx.Tx) error {
		// One lock for every account, not one per name: GRANT ... ON DATABASE rewrites the one
		// pg_database row, and two accounts granted at once fail with "tuple concurrently updated".
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock(hashtextextended('cartolocal users', 0))"); err != nil {
			return err
		}
		var stored struct{ master, public, password string }
		err := tx.QueryRow(ctx, "SELECT master_key, public_key, role_password FROM cartolocal.users WHERE name = $1", cfg.Name).
			Scan(&stored.master, &stored.public, &stored.password)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		u.MasterKey = firstNonEmpty(cfg.MasterKey, stored.master, randomHex(20))
		u.PublicKey = firstNonEmpty(cfg.PublicKey, stored.public, randomHex(20))
		if u.MasterKey == u.PublicKey {
			u.PublicKey = randomHex(20)
		}
		password = firstNonEmpty(stored.password, randomHex(20))

		var roleExists bool
		if err := tx.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1)", u.Role).Scan(&roleExists); err != nil {
			return err
		}
		verb := "CREATE"
		if roleExists {
			verb = "ALTER"
		}
		var db string
		if err := tx.QueryRow(ctx, "SELECT current_database()").Scan(&db); err != nil {
			return err
		}
		db = pgx.Identifier{db}.Sanitize()
		role, schema := pgx.Identifier{u.Role}.Sanitize(), pgx.Identifier{u.Schema}.Sanitize()
		timeout := "RESET statement_timeout"
		if ms, ok := d.timeoutMillis(); ok {
			timeout = "SET statement_timeout = " + ms
		}
		ddl := fmt.Sprintf(`
%[1]s ROLE %[2]s LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS INHERIT PASSWORD %[3]s;
ALTER ROLE %[2]s SET search_path = %[4]s;
ALTER ROLE %[2]s %[5]s;
GRANT CONNECT, TEMPORARY ON DATABASE %[6]s TO %[2]s;
CREATE SCHEMA IF NOT EXISTS %[7]s AUTHORIZATION %[2]s;
ALTER SCHEMA %[7]s OWNER TO %[2]s;
GRANT USAGE ON SCHEMA %[7]s TO %[8]s;
GRANT EXECUTE ON FUNCTION %[9]s TO %[2]s;
`, verb, role, pgscan.QuoteLiteral(password), d.searchPath(u.Schema), timeout, db, schema, PublicRole, ownerOnlyFunctions)
		if _, err := tx.Exec(ctx, ddl); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `
INSERT INTO cartolocal.users (name, role_name, schema_name, master_key, public_key, role_password)
VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (name) DO UPDATE SET role_name = EXCLUDED.role_name, schema_name = EXCLUDED.schema_name,
	master_key = EXCLUDED.master_key, public_key = EXCLUDED.public_key,
	role_password = EXCLUDED.role_password, updated_at = now()`,
			u.Name, u.Role, u.Schema, u.MasterKey, u.PublicKey, password)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("cartolocal: user %q: %w", cfg.Name, err)
	}
	d.register(u, password)
	return u, nil
}

// register makes u served. An account added again keeps its connection pools: its role and
// password have not changed.
func (d *Directory) register(u *User, password string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if old, ok := d.users[u.Name]; ok && old.conns.password == password {
		u.conns = old.conns
	} else {
		if ok {
			old.close()
		}
		u.conns = &userConns{dir: d, user: u.Name, schema: u.Schema, role: u.Role, password: password}
	}
	d.users[u.Name] = u
}

// Load serves the accounts stored by earlier runs on the same database.
func (d *Directory) Load(ctx context.Context) error {
	rows, err := d.admin.Query(ctx, "SELECT name, role_name, schema_name, master_key, public_key, role_password FROM cartolocal.users")
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		u := &User{}
		var password string
		if err := rows.Scan(&u.Name, &u.Role, &u.Schema, &u.MasterKey, &u.PublicKey, &password); err != nil {
			return err
		}
		d.register(u, password)
	}
	return rows.Err()
}

// PublicStatementTimeout limits the statements of the public role (requests without a key or
// with the public key) when Options.StatementTimeout sets none.
const PublicStatementTimeout = 5 * time.Minute

// timeoutMillis is Options.StatementTimeout in milliseconds (at least 1), as PostgreSQL takes it,
// and whether there is one.
func (d *Directory) timeoutMillis() (string, bool) {
	if d.statementTimeout <= 0 {
		return "", false
	}
	return fmt.Sprint(max(1, d.statementTimeout.Milliseconds())), true
}

// searchPath is an account's search_path: its schema, the CARTO functions, PostGIS.
func (d *Directory) searchPath(schema string) string {
	parts := []string{pgx.Identifier{schema}.Sanitize(), "cartodb"}
	if d.postgisSchema != "" && d.postgisSchema != "public" {
		parts = append(parts, d.postgisSchema)
	}
	return strings.Join(append(parts, "public"), ", ")
}

// Acquire returns a connection that runs as the master role (master) or the public role, with the
// account's schema first on the search_path. Release it with Release when done.
//
// Cancelling ctx while a query runs sends PostgreSQL a cancel request, so a client that goes away
// stops its query. Queries default to pgx.QueryExecModeExec (no statement cache, which DDL would
// make stale). Session state cannot leak from one request to the next: a connection released
// inside a transaction is closed, and any other is reset with DISCARD ALL before reuse.
func (u *User) Acquire(ctx context.Context, master bool) (*pgxpool.Conn, error) {
	p, err := u.conns.pool(ctx, master)
	if err != nil {
		return nil, err
	}
	return p.Acquire(ctx)
}

// ResetConns closes the account's idle connections now, and the others when they are released,
// leaving the account usable. Tests call it when done with an account so that idle connections
// do not add up on the server.
func (u *User) ResetConns() {
	u.conns.mu.Lock()
	defer u.conns.mu.Unlock()
	for _, p := range u.conns.pools {
		if p != nil {
			p.Reset()
		}
	}
	for _, p := range u.conns.keyPools {
		p.Reset()
	}
	if u.conns.lookup != nil {
		u.conns.lookup.Reset()
	}
}

func (u *User) close() {
	if u.conns != nil {
		u.conns.close()
	}
}

// userConns holds an account's two connection pools, created on first use.
type userConns struct {
	dir                          *Directory
	user, schema, role, password string

	mu       sync.Mutex
	pools    [2]*pgxpool.Pool         // [0] public role, [1] owner role
	keyPools map[string]*pgxpool.Pool // regular keys' roles, by role name
	lookup   *pgxpool.Pool            // the owner role, read-only, for AcquireLookup
	closed   bool
}

var errUserClosed = errors.New("cartolocal: the server is closed")

func (c *userConns) pool(ctx context.Context, master bool) (*pgxpool.Pool, error) {
	i := 0
	if master {
		i = 1
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil, errUserClosed
	}
	if c.pools[i] != nil {
		return c.pools[i], nil
	}
	role, password, maxConns := PublicRole, c.dir.publicPassword, int32(4)
	if master {
		role, password, maxConns = c.role, c.password, 8
	}
	pcfg, err := c.poolConfig(role, password)
	if err != nil {
		return nil, err
	}
	pcfg.MaxConns = maxConns
	p, err := pgxpool.NewWithConfig(ctx, pcfg)
	if err != nil {
		return nil, fmt.Errorf("connection pool: %w", err) // callers name the user
	}
	c.pools[i] = p
	return p, nil
}

// poolConfig is the configuration of a pool of connections as role: the account's search_path,
// settings and session reset, with cancel-on-abort.
func (c *userConns) poolConfig(role, password string) (*pgxpool.Config, error) {
	pcfg := c.dir.admin.Config().Copy()
	cc := pcfg.ConnConfig
	cc.User, cc.Password = role, password
	pcfg.MinConns = 0
	pcfg.MaxConnIdleTime = 30 * time.Second
	pcfg.AfterConnect, pcfg.PrepareConn, pcfg.BeforeClose = nil, nil, nil
	pcfg.AfterRelease = resetSession
	cc.DefaultQueryExecMode = pgx.QueryExecModeExec
	cc.RuntimeParams = map[string]string{
		"application_name": "cartolocal/" + c.user,
		"search_path":      c.dir.searchPath(c.schema),
		"TimeZone":         "UTC", // as CARTO's servers run: timestamptz text (CSV) in UTC
	}
	cc.OnNotice = dispatchNotice // the SQL API collects RAISE NOTICE/WARNING/INFO per request
	if ms, ok := c.dir.timeoutMillis(); ok {
		cc.RuntimeParams["statement_timeout"] = ms
	} else if role == PublicRole {
		// Anonymous callers always get a limit, as on CARTO, whose plans all set one.
		cc.RuntimeParams["statement_timeout"] = fmt.Sprint(PublicStatementTimeout.Milliseconds())
	}
	cc.BuildContextWatcherHandler = func(pc *pgconn.PgConn) ctxwatch.Handler {
		// Cancel the query on the server at once; should it not end within DeadlineDelay, the
		// connection is closed (and the server ends the backend).
		return &pgconn.CancelRequestContextWatcherHandler{Conn: pc, DeadlineDelay: 5 * time.Second}
	}
	return pcfg, nil
}

// resetSession puts a released connection back as new: RESET ALL (back to the login's settings,
// search_path and statement_timeout included), no prepared statements, temporary tables, LISTENs,
// advisory locks or role changes. A connection that cannot be reset is closed.
func resetSession(conn *pgx.Conn) bool {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	// The SQL API queues the reset behind each query (QueueReset): only its answer is left to read.
	if handled, ok := finishQueuedReset(ctx, conn.PgConn()); handled {
		return ok
	}
	// One round trip: DISCARD ALL also deallocates prepared statements on the server, and pgx holds
	// none on its side (QueryExecModeExec caches nothing and nothing here calls Prepare).
	_, err := conn.PgConn().Exec(ctx, resetQuery).ReadAll()
	return err == nil
}

func (c *userConns) close() {
	c.mu.Lock()
	pools := []*pgxpool.Pool{c.pools[0], c.pools[1], c.lookup}
	for _, p := range c.keyPools {
		pools = append(pools, p)
	}
	c.pools, c.keyPools, c.lookup = [2]*pgxpool.Pool{}, nil, nil
	c.closed = true
	c.mu.Unlock()
	for _, p := range pools {
		if p != nil {
			p.Close()
		}
	}
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
