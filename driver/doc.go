// Package driver is a database/sql driver for CARTO's SQL API, registered as "carto".
//
//	import _ "github.com/gocarto/carto/driver"
//
//	db, err := sql.Open("carto", "carto://alice:API_KEY@alice.carto.com")
//
// Every statement is one HTTPS request to the account's SQL API (api/v2/sql); there is no
// session on the server, so a driver connection is only a handle on a shared *carto.Client and
// pooling is HTTP keep-alive. A program that already holds a *carto.Client (for batch, sqlapi or
// migrate) runs database/sql on it with OpenDBFromClient or NewConnectorFromClient: one account,
// one key, one HTTP transport. What follows from that:
//
//   - Arguments ($1, $2, … and @name for sql.Named) are interpolated into the SQL text as
//     literals by the driver; there are no server-side prepared statements. Use $n, not ?.
//
//   - A query's whole answer is read before QueryContext returns (CARTO sends the column types
//     after the rows), into memory up to Config.SpoolMemory and into a temporary file beyond it.
//     So an error anywhere in the answer, a cut connection or a row count that does not match is
//     an error from QueryContext, never a short result.
//
//   - Statements of a transaction are queued and sent as one request, BEGIN; …; COMMIT;, at
//     Commit: a Tx is atomic, but Exec inside it cannot report rows affected, and Query inside it
//     is an error.
//
//   - Several statements in one Query: CARTO concatenates the rows of all of them, gives the
//     columns (fields) of the last statement that has any, and counts (total_rows) only the last
//     statement. Earlier statements that return no rows (SET, INSERT, CREATE …) are fine. Rows
//     of earlier statements are an error from QueryContext when the answer shows them: when
//     the rows sent are not total_rows, or the first row's columns are not the fields. It cannot
//     always: when the last statement has no columns (INSERT, UPDATE or DELETE without
//     RETURNING, DDL, SET …) and its count is that of the rows before it, or 0, or it has none,
//     the answer is the same as without it. So "SELECT 1 AS a; INSERT INTO t VALUES (1)" runs
//     both and yields the SELECT's row with no error. Put a statement that returns rows last.
//
//   - Retries are the *carto.Client's (see carto.RetryPolicy and the max_retries DSN
//     parameter): a rate-limited request after its Retry-After, a request that never left, and
//     a 502, 503 or 504 only for a statement the driver can tell writes nothing (one SELECT,
//     WITH, VALUES, TABLE, SHOW or EXPLAIN without data-modifying words, FOR UPDATE or SHARE,
//     or calls of built-in functions that lock or have side effects, quoted or not: nextval,
//     setval, pg_advisory_lock and the other advisory lock functions, pg_cancel_backend,
//     pg_terminate_backend, lo_*, dblink* …; a SELECT calling a function of your own that
//     writes is not detected). A statement timeout (429) is never retried. The client's
//     retries are the only ones: no error is driver.ErrBadConn, which would have database/sql
//     repeat them, so max_retries means what it says.
//
//   - Cancelling a context, or the timeout DSN parameter, aborts the HTTP request; CARTO (and
//     cartolocal) then cancel the query in PostgreSQL.
//
//   - Exec reports CARTO's total_rows as RowsAffected; LastInsertId is an error: use
//     INSERT … RETURNING with QueryRow. Notices (RAISE NOTICE) go to Config.OnNotice.
//
// Values come out of Rows typed from CARTO's field list: integers as int64, floats as float64
// (NaN and ±Inf too), numeric as its exact decimal text (string), booleans as bool, date,
// timestamp and timestamptz as time.Time, time and timetz as string, json and jsonb as raw JSON
// []byte, bytea as []byte, arrays as their JSON text ([]byte, for json.Unmarshal), geometry,
// geography and raster as hex EWKB []byte (fresh for every value, so geo.Geometry can keep it),
// interval and point (which CARTO sends as JSON objects) as their JSON text []byte, and
// everything else (text, uuid, inet, money, enums, …) as string. Timestamps have the
// seconds precision CARTO sends; infinity comes as the string "infinity".
//
// sqlx works with the bindvar registered as sqlx.DOLLAR. sqlx's named queries mangle x::type
// casts; write CAST(x AS type) in them.
package driver
