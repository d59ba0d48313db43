package users_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/gocarto/carto/cartolocal"
	"github.com/gocarto/carto/cartolocal/cartotest"
)

// acquire returns a connection of the account, as master or public role, released at cleanup.
func acquire(t *testing.T, a *cartotest.Account, master bool) *pgxpool.Conn {
	t.Helper()
	u, ok := a.Server.User(a.User)
	if !ok {
		t.Fatalf("no user %q", a.User)
	}
	conn, err := u.Acquire(context.Background(), master)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(conn.Release)
	return conn
}

// sqlState is the SQLSTATE of err, or "".
func sqlState(err error) string {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code
	}
	return ""
}

func TestAccountRoles(t *testing.T) {
	a := cartotest.New(t)
	ctx := context.Background()
	master := acquire(t, a, true)
	var user, path string
	if err := master.QueryRow(ctx, "SELECT current_user, current_setting('search_path')").Scan(&user, &path); err != nil {
		t.Fatal(err)
	}
	if user != "cartodb_user_"+a.User || !strings.HasPrefix(path, pgx.Identifier{a.User}.Sanitize()+", cartodb") {
		t.Errorf("master runs as %q with search_path %q", user, path)
	}
	public := acquire(t, a, false)
	if err := public.QueryRow(ctx, "SELECT current_user, current_schema()").Scan(&user, &path); err != nil {
		t.Fatal(err)
	}
	if user != "publicuser" || path != a.User {
		t.Errorf("public runs as %q in schema %q", user, path)
	}
}

func TestPublicRoleIsReadOnly(t *testing.T) {
	a := cartotest.New(t)
	ctx := context.Background()
	a.Exec(t, "CREATE TABLE private_t (v int); INSERT INTO private_t VALUES (1); CREATE TABLE shared_t (v int); INSERT INTO shared_t VALUES (2)")
	a.Exec(t, "GRANT SELECT ON shared_t TO publicuser")
	public := acquire(t, a, false)

	denied := map[string]string{
		"read an ungranted table":    "SELECT v FROM private_t",
		"write a granted table":      "INSERT INTO shared_t VALUES (3)",
		"update a granted table":     "UPDATE shared_t SET v = 4",
		"create a table":             "CREATE TABLE mine (v int)",
		"create a table in public":   "CREATE TABLE public.mine (v int)",
		"create a temporary table":   "CREATE TEMP TABLE mine (v int)",
		"drop a table":               "DROP TABLE shared_t",
		"write through cartodbfying": "SELECT CDB_CartodbfyTable('shared_t')",
	}
	for what, sql := range denied {
		if _, err := public.Exec(ctx, sql); sqlState(err) != "42501" {
			t.Errorf("public role could %s (%s): err = %v", what, sql, err)
		}
	}
	var v int
	if err := public.QueryRow(ctx, "SELECT v FROM shared_t").Scan(&v); err != nil || v != 2 {
		t.Errorf("reading a granted table: %d, %v", v, err)
	}

	// cartolocal's own tables (which hold every account's keys) are for superusers only.
	owner := acquire(t, a, true)
	for _, conn := range []*pgxpool.Conn{public, owner} {
		for _, sql := range []string{"SELECT * FROM cartolocal.users", "SELECT * FROM cartolocal.settings"} {
			if _, err := conn.Exec(ctx, sql); sqlState(err) != "42501" {
				t.Errorf("%s as a non-superuser: %v", sql, err)
			}
		}
	}

	// Another account sees neither table as its owner, and only the granted one as public.
	b := cartotest.New(t)
	other := acquire(t, b, true)
	qualified := pgx.Identifier{a.User, "private_t"}.Sanitize()
	if _, err := other.Exec(ctx, "SELECT * FROM "+qualified); sqlState(err) != "42501" {
		t.Errorf("another account's owner read %s: %v", qualified, err)
	}
}

func TestStatementTimeout(t *testing.T) {
	a := cartotest.New(t)
	ctx := context.Background()
	// A second server on the same PostgreSQL, with a statement timeout, and a URL naming no
	// database (PostgreSQL then takes the user's name, postgres).
	url := strings.Replace(a.PGURL, "/postgres?", "?", 1)
	if url == a.PGURL {
		t.Fatalf("unexpected URL form %s", a.PGURL)
	}
	s, err := cartolocal.New(ctx, cartolocal.Config{
		PGURL:            url,
		StatementTimeout: 100 * time.Millisecond,
		Users:            []cartolocal.UserConfig{{Name: a.User + "_slow"}},
		Logf:             t.Logf,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	u, _ := s.User(a.User + "_slow")
	for _, master := range []bool{true, false} {
		conn, err := u.Acquire(ctx, master)
		if err != nil {
			t.Fatal(err)
		}
		_, err = conn.Exec(ctx, "SELECT pg_sleep(2)")
		conn.Release()
		if sqlState(err) != "57014" {
			t.Errorf("master=%v: pg_sleep(2) with a 100ms timeout: %v", master, err)
		}
	}
}

func TestCancelStopsTheQuery(t *testing.T) {
	a := cartotest.New(t)
	conn := acquire(t, a, true)
	var pid uint32
	if err := conn.QueryRow(context.Background(), "SELECT pg_backend_pid()").Scan(&pid); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := conn.Exec(ctx, "SELECT pg_sleep(30)")
	if err == nil {
		t.Fatal("pg_sleep(30) ended without error")
	}
	if elapsed := time.Since(start); elapsed > 5*time.Second {
		t.Errorf("cancel took %v", elapsed)
	}
	// The server must have stopped the query, not merely the client its wait.
	admin := a.Server.AdminPool()
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		var state string
		err := admin.QueryRow(context.Background(), "SELECT coalesce(state, '') || ':' || query FROM pg_stat_activity WHERE pid = $1", pid).Scan(&state)
		if errors.Is(err, pgx.ErrNoRows) || err == nil && !strings.HasPrefix(state, "active:") {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if time.Now().After(deadline) {
			t.Fatalf("backend %d still runs: %s", pid, state)
		}
	}
}

// TestSessionStateDoesNotLeak changes a connection's session and checks the next user of that
// same connection starts clean.
func TestSessionStateDoesNotLeak(t *testing.T) {
	a := cartotest.New(t)
	u, _ := a.Server.User(a.User)
	ctx := context.Background()
	conn, err := u.Acquire(ctx, true)
	if err != nil {
		t.Fatal(err)
	}
	var pid uint32
	_, err = conn.Exec(ctx, "SET search_path = public; SET statement_timeout = 1234; CREATE TEMP TABLE scratch (v int); PREPARE p AS SELECT 1; SELECT pg_advisory_lock(42)")
	if err == nil {
		err = conn.QueryRow(ctx, "SELECT pg_backend_pid()").Scan(&pid)
	}
	conn.Release()
	if err != nil {
		t.Fatal(err)
	}
	// Take connections until the one just used comes back (the pool may hand out another while
	// it is being reset).
	var held []*pgxpool.Conn
	defer func() {
		for _, c := range held {
			c.Release()
		}
	}()
	for deadline := time.Now().Add(5 * time.Second); ; {
		c, err := u.Acquire(ctx, true)
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, c)
		var got uint32
		if err := c.QueryRow(ctx, "SELECT pg_backend_pid()").Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got == pid {
			var path, timeout string
			var temps, prepared, locks int
			err := c.QueryRow(ctx, `SELECT current_setting('search_path'), current_setting('statement_timeout'),
				(SELECT count(*) FROM pg_class WHERE relpersistence = 't' AND relname = 'scratch'),
				(SELECT count(*) FROM pg_prepared_statements),
				(SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid())`).
				Scan(&path, &timeout, &temps, &prepared, &locks)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(path, pgx.Identifier{a.User}.Sanitize()+", cartodb") || timeout != "0" || temps != 0 || prepared != 0 || locks != 0 {
				t.Errorf("state leaked: search_path %q, statement_timeout %q, %d temp tables, %d prepared, %d advisory locks",
					path, timeout, temps, prepared, locks)
			}
			return
		}
		if time.Now().After(deadline) || len(held) == 8 {
			t.Skipf("the pool did not hand back backend %d", pid)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestAddUserValidates(t *testing.T) {
	a := cartotest.New(t)
	ctx := context.Background()
	for _, name := range []string{"", "Upper", "1abc", "a b", "public", "cartodb", "pg_x", "x'y", strings.Repeat("a", 60)} {
		if _, err := a.Server.AddUser(ctx, cartolocal.UserConfig{Name: name}); err == nil {
			t.Errorf("AddUser(%q) succeeded", name)
		}
	}
	if _, err := a.Server.AddUser(ctx, cartolocal.UserConfig{Name: "samekeys", MasterKey: "k", PublicKey: "k"}); err == nil {
		t.Error("equal master and public keys accepted")
	}
}

func TestAddUserTakesOver(t *testing.T) {
	a := cartotest.New(t)
	ctx := context.Background()
	a.Exec(t, "CREATE TABLE survivor (v int)")
	u, err := a.Server.AddUser(ctx, cartolocal.UserConfig{Name: a.User, PublicKey: "chosen-public-key"})
	if err != nil {
		t.Fatal(err)
	}
	if u.MasterKey != a.MasterKey || u.PublicKey != "chosen-public-key" {
		t.Errorf("keys after taking over: master kept %v, public %q", u.MasterKey == a.MasterKey, u.PublicKey)
	}
	conn, err := u.Acquire(ctx, true)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, "INSERT INTO survivor VALUES (1)"); err != nil {
		t.Errorf("table lost when taking over the account: %v", err)
	}
}

// TestAddUserConcurrently creates accounts from several goroutines at once, as parallel tests do:
// their GRANTs on the one database row must not race ("tuple concurrently updated").
func TestAddUserConcurrently(t *testing.T) {
	srv := cartotest.New(t).Server
	ctx := context.Background()
	errs := make(chan error, 8)
	for i := range 8 {
		go func() {
			_, err := srv.AddUser(ctx, cartolocal.UserConfig{Name: fmt.Sprintf("conc%d_%d", i, time.Now().UnixNano()%1e6)})
			errs <- err
		}()
	}
	for range 8 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}
