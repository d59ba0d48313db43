package sqlapi_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/gocarto/carto/cartolocal/cartotest"
)

// cacheHeaders is what a test checks of an answer's caching headers; absent headers are "".
type cacheHeaders struct {
	control, channel, key, modified string
}

// cacheOnly is r without its body, for check's messages.
func cacheOnly(r sqlResp) sqlResp { r.body = "(" + strconv.Itoa(len(r.body)) + " bytes)"; return r }

func cacheOf(r sqlResp) cacheHeaders {
	return cacheHeaders{r.header.Get("Cache-Control"), r.header.Get("X-Cache-Channel"), r.header.Get("Surrogate-Key"), r.header.Get("Last-Modified")}
}

// fallbackControl matches the Cache-Control of an answer whose tables are not all stamped in
// CDB_TableMetadata: max-age runs to the next 5-minute boundary.
func fallbackControl(t *testing.T, what, got string) {
	t.Helper()
	rest, ok := strings.CutPrefix(got, "no-cache,max-age=")
	n, err := strconv.Atoi(strings.TrimSuffix(rest, ",must-revalidate,public"))
	if !ok || !strings.HasSuffix(rest, ",must-revalidate,public") || err != nil || n < 1 || n > 300 {
		t.Errorf("%s: Cache-Control %q, want no-cache,max-age=1..300,must-revalidate,public", what, got)
	}
}

// recent reports whether an HTTP date is within a minute of now.
func recent(t *testing.T, what, date string) {
	t.Helper()
	d, err := http.ParseTime(date)
	if err != nil || time.Since(d).Abs() > time.Minute {
		t.Errorf("%s: Last-Modified %q, want about now", what, date)
	}
}

const (
	stamped  = "no-cache,max-age=31536000,must-revalidate,public"
	noStore  = "no-cache,max-age=0,must-revalidate,public"
	sample07 = "Thu, 01 Jan 2015 23:31:30 GMT" // the updated_at of CARTO's sample tables
)

// TestSQLCacheHeaders checks Cache-Control, X-Cache-Channel, Surrogate-Key and Last-Modified
// against CARTO's rules and samples (sqlapi.md §3): reads of cartodbfied tables (kept in
// CDB_TableMetadata by their track_updates trigger) and of plain ones, queries that touch no
// table, errors and writes, for the master key and the public role.
func TestSQLCacheHeaders(t *testing.T) {
	acct := cartotest.New(t)
	// Cartodbfying adds the trigger; the first write after it stamps the table.
	acct.Exec(t, `CREATE TABLE places (name text); SELECT CDB_CartodbfyTable('places');
		INSERT INTO places (name) VALUES ('a');
		CREATE TABLE "Odd Name" (v int); SELECT CDB_CartodbfyTable('"Odd Name"'); TRUNCATE "Odd Name";
		CREATE TABLE plain (v int); INSERT INTO plain VALUES (1);
		CREATE VIEW places_view AS SELECT * FROM places`)
	ctx := context.Background()
	pg, err := pgx.Connect(ctx, acct.PGURL)
	if err != nil {
		t.Fatal(err)
	}
	defer pg.Close(ctx)
	var db string
	if err := pg.QueryRow(ctx, "SELECT current_database()").Scan(&db); err != nil {
		t.Fatal(err)
	}
	// Put the tables' stamps where CARTO's samples have them, so the dates are exact.
	if tag, err := pg.Exec(ctx, `UPDATE cartodb.CDB_TableMetadata SET updated_at = '2015-01-01 23:31:30.5+00'
		WHERE tabname IN ($1::regclass, $2::regclass)`, acct.User+".places", acct.User+`."Odd Name"`); err != nil || tag.RowsAffected() != 2 {
		t.Fatalf("stamping the tables: %v %v", tag, err)
	}
	key := func(table string) string {
		sum := sha256.Sum256([]byte(db + ":" + acct.User + "." + table))
		return "t:" + base64.StdEncoding.EncodeToString(sum[:])[:6]
	}
	placesChannel := db + ":" + acct.User + ".places"

	check := func(what string, r sqlResp, status int, want cacheHeaders) {
		t.Helper()
		if r.status != status {
			t.Errorf("%s: status %d, want %d: %s", what, r.status, status, r.body)
		}
		got := cacheOf(r)
		if want.control == "fallback" {
			fallbackControl(t, what, got.control)
			got.control, want.control = "", ""
		}
		if want.modified == "now" {
			recent(t, what, got.modified)
			got.modified, want.modified = "", ""
		}
		if got != want {
			t.Errorf("%s:\n got %+v\nwant %+v", what, got, want)
		}
	}

	// A read of a stamped table: cached a year, named in the channel and key (samples 37, 49c).
	check("read", sqlMaster(t, acct, "select * from places"), 200,
		cacheHeaders{stamped, placesChannel, key("places"), sample07})
	// Through a view, the planner reads the table (and paging wraps the SQL, not the look-up).
	check("view", sqlMaster(t, acct, "select name from places_view", "rows_per_page", "1"), 200,
		cacheHeaders{stamped, placesChannel, key("places"), sample07})
	// The public role may not read it, yet the look-up runs as the owner (samples 07, 38).
	check("public", sqlGet(t, acct, "q", "select * from places"), 403,
		cacheHeaders{stamped, placesChannel, key("places"), sample07})
	// Names are quoted as quote_ident quotes them; several statements add up, by OID.
	check("quoted", sqlMaster(t, acct, `select 1 from places; select * from "Odd Name" -- comment`), 200,
		cacheHeaders{stamped, placesChannel + `,` + acct.User + `."Odd Name"`,
			strings.Join(slices.Sorted(slices.Values([]string{key("places"), key(`"Odd Name"`)})), " "), sample07})
	// cache_policy=persist changes Cache-Control only (sample 36).
	check("persist", sqlMaster(t, acct, "select * from places", "cache_policy", "persist"), 200,
		cacheHeaders{"public,max-age=31536000", placesChannel, key("places"), sample07})
	// Mapnik's tokens are planned at tile 0/0/0.
	check("!bbox!", sqlMaster(t, acct, "select * from places where the_geom_webmercator && !bbox!"), 400,
		cacheHeaders{stamped, placesChannel, key("places"), sample07})

	// The look-up runs beside a read: a lock the read takes delays it (a small answer is all sent
	// and committed before the first byte goes out), or, when the read holds it while its answer
	// waits for the headers, the look-up gives up and the headers fall back; the look-up may also
	// come first. Never does the answer wait on a look-up that waits on it.
	check("locked", sqlMaster(t, acct, "begin; lock table places; select * from places; commit"), 200,
		cacheHeaders{stamped, placesChannel, key("places"), sample07})
	r := sqlMaster(t, acct, "begin; lock table places; select g from places, generate_series(1, 300000) g; commit")
	if got := cacheOf(r); got.control != stamped || got.channel != placesChannel || got.modified != sample07 {
		check("locked, long", cacheOnly(r), 200, cacheHeaders{"fallback", "", "", ""})
	}
	if !strings.HasSuffix(r.body, `"total_rows":300000}`) {
		t.Errorf("locked, long: %s", r.body[max(0, len(r.body)-100):])
	}
	// A table without a stamp: the fallback max-age, Last-Modified now, no channel (sample 01);
	// with a stamped one, the channel names the stamped one only.
	check("plain", sqlMaster(t, acct, "select * from plain"), 200, cacheHeaders{"fallback", "", "", "now"})
	check("mixed", sqlMaster(t, acct, "select * from plain, places"), 200,
		cacheHeaders{"fallback", placesChannel, key("places"), sample07})
	// No table at all (sample 02), and a syntax error (sample 05): every table (none) is stamped.
	check("select 1", sqlGet(t, acct, "q", "select 1"), 200, cacheHeaders{stamped, "", "", "now"})
	check("syntax", sqlMaster(t, acct, "selec 1"), 400, cacheHeaders{stamped, "", "", "now"})
	// Errors the planner meets leave the tables unknown: no Last-Modified (samples 06, 09, 25, 49).
	check("missing table", sqlMaster(t, acct, "select * from no_such_table"), 400, cacheHeaders{"fallback", "", "", ""})
	check("missing function", sqlMaster(t, acct, "select no_such_fn(1)"), 400, cacheHeaders{"fallback", "", "", ""})
	check("folded error", sqlMaster(t, acct, "insert into plain values (10); select 1/0"), 400, cacheHeaders{"fallback", "", "", ""})
	check("folded alone", sqlMaster(t, acct, "select 1/0"), 400, cacheHeaders{"fallback", "", "", ""})
	// An error when running, not planning: the plan touched no table.
	check("run-time error", sqlMaster(t, acct, "select 1/(random()*0)::int"), 400, cacheHeaders{stamped, "", "", "now"})
	check("empty q", sqlMaster(t, acct, ""), 200, cacheHeaders{"fallback", "", "", ""})
	// The look-up plans one statement at a time, as the owner: text that would end the wrapper's
	// statement and start another never runs (a public caller could otherwise run SQL as the owner).
	check("smuggled", sqlGet(t, acct, "q", "select 1) x; create table smuggled (a int); select (1"), 400, cacheHeaders{noStore, "", "", "now"})
	check("smuggled in parentheses", sqlGet(t, acct, "q", "select 1 from (select 1) x, (select 1; create table smuggled (a int); select 1) y"), 400, cacheHeaders{noStore, "", "", "now"})
	var smuggled *string
	if err := pg.QueryRow(ctx, "SELECT to_regclass($1)::text", acct.User+".smuggled").Scan(&smuggled); err != nil || smuggled != nil {
		t.Errorf("a smuggled statement ran: %v %v", smuggled, err)
	}
	// Errors before the query (parameters, keys) have no caching headers (samples 12, 16, 17).
	check("no q", sqlGet(t, acct, "api_key", acct.MasterKey), 400, cacheHeaders{})
	check("bad key", sqlGet(t, acct, "q", "select 1", "api_key", "nope"), 401, cacheHeaders{})

	// A read whose text looks like a write is treated as one, channel withheld.
	check("may write", sqlMaster(t, acct, "select name as update from places"), 200, cacheHeaders{noStore, "", "", sample07})

	// A write: max-age 0, no channel, Last-Modified now (samples 10, 23, 39, 96).
	check("write", sqlMaster(t, acct, "insert into places (name) values ('x')"), 200, cacheHeaders{noStore, "", "", "now"})
	check("public write", sqlGet(t, acct, "q", "insert into places (name) values ('x')"), 403, cacheHeaders{noStore, "", "", "now"})
	check("ddl", sqlMaster(t, acct, "create table t2 (a int)"), 200, cacheHeaders{noStore, "", "", "now"})

	// The write moved the table's stamp: the next read says so, and so does the channel's date.
	r = sqlMaster(t, acct, "select * from places")
	check("read after write", r, 200, cacheHeaders{stamped, placesChannel, key("places"), "now"})
	var updated time.Time
	if err := pg.QueryRow(ctx, "SELECT updated_at FROM cartodb.CDB_TableMetadata WHERE tabname = $1::regclass", acct.User+".places").Scan(&updated); err != nil {
		t.Fatal(err)
	}
	if want := updated.UTC().Format(http.TimeFormat); r.header.Get("Last-Modified") != want {
		t.Errorf("Last-Modified after the write %q, want the stamp %q", r.header.Get("Last-Modified"), want)
	}
}
