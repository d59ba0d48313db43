package driver

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/gocarto/carto"
	"github.com/gocarto/carto/cartolocal/cartotest"
)

// openDB opens a *sql.DB on a fresh cartolocal account and closes it when the test ends.
func openDB(t testing.TB) (*sql.DB, *cartotest.Account) {
	t.Helper()
	acct := cartotest.New(t)
	return openDSN(t, acct.DSN()), acct
}

func openDSN(t testing.TB, dsn string) *sql.DB {
	t.Helper()
	db, err := sql.Open("carto", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestQuerySimple(t *testing.T) {
	db, _ := openDB(t)
	ctx := context.Background()
	if err := db.PingContext(ctx); err != nil {
		t.Fatal(err)
	}
	var n int
	var s string
	if err := db.QueryRowContext(ctx, "SELECT 41 + 1 AS n, 'x' || 'y' AS s").Scan(&n, &s); err != nil {
		t.Fatal(err)
	}
	if n != 42 || s != "xy" {
		t.Errorf("got %d %q", n, s)
	}
	// Arguments are written in as literals.
	if err := db.QueryRowContext(ctx, "SELECT $1::int + 1 AS n, $2 || '!' AS s", 1, "it's").Scan(&n, &s); err != nil {
		t.Fatal(err)
	}
	if n != 2 || s != "it's!" {
		t.Errorf("got %d %q", n, s)
	}
}

func TestQueryErrors(t *testing.T) {
	db, acct := openDB(t)
	ctx := context.Background()

	_, err := db.QueryContext(ctx, "SELEC 1")
	var ce *carto.Error
	if !errors.As(err, &ce) || ce.StatusCode != 400 || !strings.Contains(ce.Message(), "syntax error") {
		t.Errorf("syntax error: %v", err)
	}

	// A failure after rows began to stream: HTTP 200 with the error in the trailer.
	rows, err := db.QueryContext(ctx, "SELECT 1/(3-i) AS r FROM generate_series(1, 5) i")
	if err == nil {
		rows.Close()
		t.Fatal("division by zero mid-stream: no error from QueryContext")
	}
	if !errors.As(err, &ce) || !strings.Contains(ce.Message(), "division by zero") {
		t.Errorf("mid-stream error: %v", err)
	}

	// Rows of several statements.
	_, err = db.QueryContext(ctx, "SELECT 1 AS a; SELECT 2 AS b")
	if err == nil || !strings.Contains(err.Error(), "several statements") {
		t.Errorf("two SELECTs: %v", err)
	}
	// The last statement returns no rows: CARTO's total_rows then counts the rows streamed, so
	// only the columns tell.
	for _, q := range []string{"SELECT 1 AS a; SELECT 'x' AS b WHERE false", "SELECT 1 AS a; SELECT 1 AS a, 2 AS b WHERE false"} {
		rows, err := db.QueryContext(ctx, q)
		if err == nil {
			n := 0
			for rows.Next() {
				n++
			}
			t.Errorf("%s: no error from QueryContext (%d rows, rows.Err %v)", q, n, rows.Err())
			rows.Close()
		} else if !strings.Contains(err.Error(), "several statements") {
			t.Errorf("%s: %v", q, err)
		}
	}
	// Statements before the last that return no rows are fine.
	var v int
	if err := db.QueryRowContext(ctx, "SET LOCAL work_mem = '8MB'; SELECT 7 AS v").Scan(&v); err != nil || v != 7 {
		t.Errorf("SET; SELECT: %v, %d", err, v)
	}

	// Unknown key: 401 from the server.
	bad := openDSN(t, strings.Replace(acct.DSN(), acct.MasterKey, "nope", 1))
	err = bad.PingContext(ctx)
	if !errors.As(err, &ce) || ce.StatusCode != 401 || !carto.IsPermissionDenied(err) {
		t.Errorf("bad key: %v", err)
	}
	if strings.Contains(err.Error(), acct.MasterKey) {
		t.Errorf("error shows the key: %v", err)
	}
}

// TestQueryRowsBeforeWrite pins what the package doc says about rows of earlier statements
// when the last statement has no row description (INSERT without RETURNING, DDL, SET): CARTO's
// fields stay those of the last statement that had one and total_rows is the last command's
// count (or the rows streamed when that is 0), so the answer is caught only when the counts
// differ, and otherwise cannot be told from that of the earlier statements alone.
func TestQueryRowsBeforeWrite(t *testing.T) {
	db, acct := openDB(t)
	ctx := context.Background()
	acct.Exec(t, "CREATE TABLE w (i int)")

	// Caught: the INSERT's count (3) is not the rows sent (1).
	rows, err := db.QueryContext(ctx, "SELECT 1 AS a; INSERT INTO w SELECT generate_series(1, 3)")
	if err == nil {
		rows.Close()
		t.Error("SELECT; INSERT of 3 rows: no error from QueryContext")
	} else if !strings.Contains(err.Error(), "several statements") {
		t.Errorf("SELECT; INSERT of 3 rows: %v", err)
	}
	// Not caught, as documented: the answer is exactly that of SELECT 1 AS a.
	for _, q := range []string{
		"SELECT 1 AS a; INSERT INTO w VALUES (1)",
		"SELECT 1 AS a; INSERT INTO w SELECT 1 WHERE false",
		"SELECT 1 AS a; CREATE TEMP TABLE tt (i int)",
	} {
		var a int
		if err := db.QueryRowContext(ctx, q).Scan(&a); err != nil || a != 1 {
			t.Errorf("%s: %v, %d (the package doc says this yields the SELECT's row)", q, err, a)
		}
	}
}

func TestExec(t *testing.T) {
	db, _ := openDB(t)
	ctx := context.Background()
	if _, err := db.ExecContext(ctx, "CREATE TABLE t (id int PRIMARY KEY, v text)"); err != nil {
		t.Fatal(err)
	}
	res, err := db.ExecContext(ctx, "INSERT INTO t VALUES (1, 'a'), (2, 'b'), (3, $1)", "c")
	if err != nil {
		t.Fatal(err)
	}
	if n, err := res.RowsAffected(); err != nil || n != 3 {
		t.Errorf("RowsAffected = %d, %v; want 3", n, err)
	}
	if _, err := res.LastInsertId(); err == nil || !strings.Contains(err.Error(), "RETURNING") {
		t.Errorf("LastInsertId: %v", err)
	}
	res, err = db.ExecContext(ctx, "UPDATE t SET v = upper(v) WHERE id >= $1", 2)
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := res.RowsAffected(); n != 2 {
		t.Errorf("UPDATE RowsAffected = %d", n)
	}
	var id int
	if err := db.QueryRowContext(ctx, "INSERT INTO t VALUES (4, 'd') RETURNING id").Scan(&id); err != nil || id != 4 {
		t.Errorf("RETURNING: %d, %v", id, err)
	}
	// Exec of a statement that returns rows skips them.
	if res, err := db.ExecContext(ctx, "SELECT * FROM t"); err != nil {
		t.Error(err)
	} else if n, _ := res.RowsAffected(); n != 4 {
		t.Errorf("SELECT RowsAffected = %d", n)
	}
	_, err = db.ExecContext(ctx, "INSERT INTO t VALUES (1, 'dup')")
	var ce *carto.Error
	if !errors.As(err, &ce) || !strings.Contains(ce.Message(), "duplicate key") || ce.Detail == "" {
		t.Errorf("duplicate key: %v", err)
	}
	// A prepared statement is the SQL text, run with each call's arguments.
	st, err := db.PrepareContext(ctx, "SELECT v FROM t WHERE id = $1")
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var v string
	if err := st.QueryRowContext(ctx, 3).Scan(&v); err != nil || v != "C" {
		t.Errorf("prepared: %q, %v", v, err)
	}
}

func TestTx(t *testing.T) {
	db, acct := openDB(t)
	ctx := context.Background()
	acct.Exec(t, "CREATE TABLE acct (id int PRIMARY KEY, balance int CHECK (balance >= 0))")
	acct.Exec(t, "INSERT INTO acct VALUES (1, 100), (2, 0)")
	balances := func() (a, b int) {
		t.Helper()
		if err := db.QueryRowContext(ctx, "SELECT (SELECT balance FROM acct WHERE id = 1) AS a, (SELECT balance FROM acct WHERE id = 2) AS b").Scan(&a, &b); err != nil {
			t.Fatal(err)
		}
		return a, b
	}

	// Commit sends both statements at once.
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := tx.ExecContext(ctx, "UPDATE acct SET balance = balance - $1 WHERE id = 1 -- a comment", 30)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := res.RowsAffected(); err == nil || !strings.Contains(err.Error(), "Commit") {
		t.Errorf("RowsAffected in a Tx: %v", err)
	}
	if _, err := tx.ExecContext(ctx, "UPDATE acct SET balance = balance + $1 WHERE id = 2;", 30); err != nil {
		t.Fatal(err)
	}
	if _, err := tx.QueryContext(ctx, "SELECT 1 AS one"); err == nil || !strings.Contains(err.Error(), "not supported") {
		t.Errorf("Query in a Tx: %v", err)
	}
	if a, b := balances(); a != 100 || b != 0 {
		t.Errorf("before Commit: %d %d; nothing should have been sent", a, b)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if a, b := balances(); a != 70 || b != 30 {
		t.Errorf("after Commit: %d %d, want 70 30", a, b)
	}

	// A failing statement undoes the whole transaction.
	tx, _ = db.BeginTx(ctx, nil)
	tx.ExecContext(ctx, "UPDATE acct SET balance = balance + 1000 WHERE id = 2")
	tx.ExecContext(ctx, "UPDATE acct SET balance = balance - 1000 WHERE id = 1") // violates the CHECK
	err = tx.Commit()
	var ce *carto.Error
	if !errors.As(err, &ce) || !strings.Contains(ce.Message(), "check constraint") {
		t.Errorf("Commit of a failing Tx: %v", err)
	}
	if a, b := balances(); a != 70 || b != 30 {
		t.Errorf("after a failed Commit: %d %d, want 70 30", a, b)
	}

	// Rollback sends nothing.
	tx, _ = db.BeginTx(ctx, nil)
	tx.ExecContext(ctx, "DELETE FROM acct")
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); !errors.Is(err, sql.ErrTxDone) {
		t.Errorf("Commit after Rollback: %v", err)
	}
	if a, b := balances(); a != 70 || b != 30 {
		t.Errorf("after Rollback: %d %d", a, b)
	}

	// Options become BEGIN's.
	tx, _ = db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true, Isolation: sql.LevelSerializable})
	tx.ExecContext(ctx, "UPDATE acct SET balance = 0")
	if err := tx.Commit(); err == nil || !strings.Contains(err.Error(), "read-only transaction") {
		t.Errorf("write in a read-only Tx: %v", err)
	}
	tx, _ = db.BeginTx(ctx, &sql.TxOptions{Isolation: sql.LevelRepeatableRead})
	tx.ExecContext(ctx, "CREATE TABLE iso AS SELECT current_setting('transaction_isolation') AS level")
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	var level string
	if err := db.QueryRowContext(ctx, "SELECT level FROM iso").Scan(&level); err != nil || level != "repeatable read" {
		t.Errorf("isolation level %q, %v", level, err)
	}
	if _, err := db.BeginTx(ctx, &sql.TxOptions{Isolation: sql.LevelWriteCommitted}); err == nil {
		t.Error("LevelWriteCommitted accepted")
	}
}

// Cancelling a query's context aborts its request, and cartolocal then cancels the query in
// PostgreSQL, as CARTO does.
func TestContextCancelStopsQuery(t *testing.T) {
	db, acct := openDB(t)
	pg := pgConn(t, acct.PGURL)
	marker := "cancel_me_" + acct.User
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	errc := make(chan error, 1)
	go func() {
		_, err := db.QueryContext(ctx, "SELECT pg_sleep(30) AS "+marker)
		errc <- err
	}()
	// Cancel only once PostgreSQL runs it, so that the test shows the cancellation reach it.
	waitQuery(t, pg, marker, true)
	start := time.Now()
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("QueryContext returned %v after cancel", d)
	}
	waitQuery(t, pg, marker, false)

	// The DSN's timeout does the same for every request.
	short := openDSN(t, acct.DSN()+"&timeout=300ms")
	marker2 := "timeout_me_" + acct.User
	_, err := short.ExecContext(context.Background(), "SELECT pg_sleep(30) AS "+marker2)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("timeout=300ms: err = %v, want context.DeadlineExceeded", err)
	}
	waitQuery(t, pg, marker2, false)
}

func pgConn(t *testing.T, pgURL string) *pgx.Conn {
	t.Helper()
	pg, err := pgx.Connect(context.Background(), pgURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pg.Close(context.Background()) })
	return pg
}

// waitQuery waits up to ten seconds until a query containing marker runs in PostgreSQL (running
// true) or runs no more (false), and fails the test if that does not happen.
func waitQuery(t *testing.T, pg *pgx.Conn, marker string, running bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for {
		var n int
		err := pg.QueryRow(ctx, "SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND query LIKE '%' || $1 || '%' AND pid <> pg_backend_pid()", marker).Scan(&n)
		if err != nil {
			t.Fatal(err)
		}
		if (n > 0) == running {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("waiting for the query %s to be running=%v in PostgreSQL: timed out", marker, running)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func TestBigAnswerThroughTempFile(t *testing.T) {
	acct := cartotest.New(t)
	small := openDSN(t, acct.DSN()+"&spool_memory=64k")
	rows, err := small.QueryContext(context.Background(),
		"SELECT i, md5(i::text) AS h, ST_SetSRID(ST_MakePoint(i, -i), 4326) AS g FROM generate_series(1, 20000) i")
	if err != nil {
		t.Fatal(err)
	}
	tmp := rows
	n := 0
	for tmp.Next() {
		var i int
		var h string
		var g []byte
		if err := tmp.Scan(&i, &h, &g); err != nil {
			t.Fatal(err)
		}
		n++
		if i != n || len(h) != 32 || len(g) != 50 {
			t.Fatalf("row %d: %d %q %q", n, i, h, g)
		}
	}
	if err := tmp.Err(); err != nil {
		t.Fatal(err)
	}
	if n != 20000 {
		t.Errorf("%d rows", n)
	}
	tmp.Close()
	// No temporary file stays behind.
	left, _ := os.ReadDir(os.TempDir())
	for _, e := range left {
		if strings.HasPrefix(e.Name(), "carto-rows-") {
			t.Errorf("temporary file %s left behind", e.Name())
		}
	}
}

func TestPublicRole(t *testing.T) {
	acct := cartotest.New(t)
	acct.Exec(t, "CREATE TABLE private_t (a int)")
	t.Setenv("CARTO_API_KEY", "")
	pub := openDSN(t, strings.Replace(acct.DSN(), ":"+acct.MasterKey, "", 1))
	var one int
	if err := pub.QueryRow("SELECT 1 AS one").Scan(&one); err != nil || one != 1 {
		t.Fatalf("public SELECT 1: %v", err)
	}
	_, err := pub.Exec("INSERT INTO private_t VALUES (1)")
	if !carto.IsPermissionDenied(err) {
		t.Errorf("public write: %v, want permission denied", err)
	}
}

func TestNotices(t *testing.T) {
	acct := cartotest.New(t)
	cfg, err := ParseDSN(acct.DSN())
	if err != nil {
		t.Fatal(err)
	}
	var got []Notice
	cfg.OnNotice = func(n Notice) { got = append(got, n) }
	db := OpenDB(cfg)
	defer db.Close()
	var one int
	err = db.QueryRow(`DO $$ BEGIN RAISE NOTICE 'n1'; RAISE WARNING 'w1'; RAISE NOTICE 'n2'; END $$; SELECT 1 AS one`).Scan(&one)
	if err != nil {
		t.Fatal(err)
	}
	want := []Notice{{"notice", "n1"}, {"notice", "n2"}, {"warning", "w1"}}
	if len(got) != len(want) {
		t.Fatalf("notices %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("notice %d = %v, want %v", i, got[i], want[i])
		}
	}
}

func TestOpenDBBadConfig(t *testing.T) {
	db := OpenDB(&Config{})
	defer db.Close()
	if err := db.Ping(); err == nil || !strings.Contains(err.Error(), "BaseURL is empty") {
		t.Errorf("Ping with an empty Config: %v", err)
	}
}
