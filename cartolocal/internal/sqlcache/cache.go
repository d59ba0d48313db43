// Package sqlcache decides the caching headers of cartolocal's SQL API answers.
//
// CARTO's SQL API decides a query's caching headers from the tables the query touches, before
// running it (lib/api/middlewares/affected-tables.js, cache-control.js, cache-channel.js,
// surrogate-key.js, last-modified.js and the cartodb-query-tables library 0.7 they use):
//
//   - each statement of q, wrapped as SELECT * FROM (statement) __cdb_affected_tables_query, is
//     planned as the account's owner; the plan's relations are the affected tables, and
//     cartodb.CDB_TableMetadata gives each its updated_at. A statement that does not plan for a
//     syntax error (INSERT, DDL: they cannot be wrapped) touches no table; any other error (a
//     missing table or function, a division by zero folded by the planner) leaves the tables
//     unknown.
//   - Cache-Control: cache_policy=persist is public,max-age=31536000. Otherwise, when the tables
//     are known and every one has an updated_at (none at all counts), no-cache with max-age 0 for
//     SQL that may write and 31536000 for the rest; else max-age runs to the next 5-minute
//     boundary.
//   - X-Cache-Channel (db:schema.table,...) and Surrogate-Key (t:hash ...) name the tables that
//     have an updated_at, for SQL that may not write.
//   - Last-Modified is the newest updated_at of the tables (now when none has one); it is not
//     sent when the tables are unknown.
//
// cartolocal plans the statements with its cartodb.CDB_QueryTablesText on the owner's read-only
// look-up connection, one round trip per statement, and reads the metadata in the same query;
// statements the wrapper cannot take are not sent, a lone statement without FROM or TABLE is
// planned only if it fails, and reads are planned beside the query (Decision).
// Where it differs: statements are split with PostgreSQL's own lexical rules (internal/pgscan)
// and end at their last token (a trailing -- comment does not swallow the wrapper), where
// CARTO's regular expression knows neither comments nor E'' strings; foreign tables get the
// local CDB_TableMetadata's updated_at, not the remote server's.

package sqlcache

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/gocarto/carto/cartolocal/internal/users"
	"github.com/gocarto/carto/internal/pgscan"
)

// oneYear is CARTO's ttl for a cacheable answer, in seconds.
const oneYear = 60 * 60 * 24 * 365

// fallbackTTL is CARTO's default fallbackTtl: answers whose tables are not all known to
// CDB_TableMetadata expire at the next multiple of it.
const fallbackTTL = 5 * 60

// affectedTable is one table a query touches, as CARTO's QueryMetadata holds it.
type affectedTable struct {
	oid       uint32
	db        string
	name      string // schema.table, each quoted as quote_ident quotes it (X-Cache-Channel's form)
	updatedAt int64  // CDB_TableMetadata's updated_at in Unix milliseconds; 0: no row
}

// affectedTablesSQL plans one wrapped statement with CDB_QueryTablesText (whose names are
// format('%I.%I'), quote_ident's quoting) and reads what CARTO's getTablesMetadata reads of each
// table. Scalar subqueries rather than joins with the catalogs keep its own planning short.
const affectedTablesSQL = `SELECT t.name::regclass::oid, current_database(), t.name,
	coalesce((SELECT floor(extract(epoch FROM m.updated_at) * 1000)::int8
		FROM cartodb.CDB_TableMetadata m WHERE m.tabname = t.name::regclass), 0)
FROM unnest(cartodb.CDB_QueryTablesText($1)) AS t(name)`

// Decision sets a query's caching headers before the first byte of its answer goes out,
// from the tables the query touches, planned before it runs as CARTO plans them. Where the answer
// waits for its first byte anyway (the streamed formats), the planning need not delay the query:
//   - one statement that names no relation (no FROM, no TABLE: SELECT 1, SELECT f(x), VALUES) can
//     plan to no table only, and whether it plans at all is what its own run tells: an answer
//     that starts (rows, or an end without error) planned, hence touches no table, and only an
//     error costs the planning round trip (planning may be what failed: samples 09, 25). SELECT 1
//     costs nothing more.
//   - other SQL that may not write is planned beside the query, on the look-up connection, and
//     the first byte waits for it. A read does not move CDB_TableMetadata, so the stamps read are
//     those CARTO would read first; should the query hold a lock the planning needs, the look-up's
//     lock_timeout gives up and the headers fall back.
//   - SQL that may write is planned first, as on CARTO: its plan must not see its own changes nor
//     wait for its locks.
type Decision struct {
	logf     func(string, ...any)
	ctx      context.Context
	user     *users.User
	stmts    []string // the wrappable statements
	h        http.Header
	mayWrite bool
	persist  bool
	pending  bool              // decided by apply, when the answer starts or fails
	result   chan lookupResult // pending: the look-up running beside the query; nil: a lone statement's
}

// lookupResult is what a look-up found.
type lookupResult struct {
	tables []affectedTable
	known  bool
}

// MayWrite is CARTO's fuzzy "this query may write" check (lib/utils/query-may-write.js): such
// SQL gets max-age=0 and no X-Cache-Channel or Surrogate-Key.
var MayWrite = regexp.MustCompile(`(?i)\b(alter|insert|update|delete|create|drop|reindex|truncate|refresh)\b`)

// Decide sets the caching headers of q in h now, or arranges for Apply to set them. waitable says
// the caller calls Apply before anything goes out, and Wait before it returns. The look-up runs
// on u's owner look-up pool; logf hears why one could not be made.
func Decide(ctx context.Context, u *users.User, q string, h http.Header, persist, waitable bool, logf func(string, ...any)) *Decision {
	c := &Decision{logf: logf, ctx: ctx, user: u, h: h, mayWrite: MayWrite.MatchString(q), persist: persist}
	if q == "" {
		// CARTO's statement splitter throws on an empty q (sample 49).
		c.set(nil, false)
		return c
	}
	all := queryStatements(substituteTile0(q))
	c.stmts = all[:0:0]
	for _, stmt := range all {
		if wrappable(stmt) {
			c.stmts = append(c.stmts, stmt)
		}
	}
	switch {
	case !waitable || len(c.stmts) == 0:
		c.set(c.lookup())
	case len(all) == 1 && len(c.stmts) == 1 && !namesRelation(c.stmts[0]):
		c.pending = true
	case c.mayWrite:
		c.set(c.lookup())
	default:
		c.pending = true
		c.result = make(chan lookupResult, 1)
		go func() {
			tables, known := c.lookup()
			c.result <- lookupResult{tables, known}
		}()
	}
	return c
}

// Apply sets the headers of a decision that waited: failed says the query ended in an error
// before anything was sent.
func (c *Decision) Apply(failed bool) {
	if !c.pending {
		return
	}
	c.pending = false
	switch {
	case c.result != nil:
		r := <-c.result
		c.set(r.tables, r.known)
	case failed:
		c.set(c.lookup())
	default:
		c.set(nil, true)
	}
}

// Wait returns once no look-up of the decision runs: the handler calls it before it returns, after
// cancelling the request's context.
func (c *Decision) Wait() {
	if c.pending && c.result != nil {
		<-c.result
		c.pending = false
	}
}

func (c *Decision) set(tables []affectedTable, known bool) {
	setCacheHeaders(c.h, tables, known, c.mayWrite, c.persist, time.Now())
}

// lookup returns the tables the wrappable statements touch, ordered by OID, and whether they
// could be found (known false: CARTO's look-up failed, and the headers fall back). It runs as
// the account's owner whoever asks, as CARTO's does: a public request for a private table gets
// its headers too (samples 07, 38).
func (c *Decision) lookup() (tables []affectedTable, known bool) {
	if len(c.stmts) == 0 {
		return nil, true
	}
	conn, err := c.user.AcquireLookup(c.ctx)
	if err != nil {
		if c.ctx.Err() == nil {
			c.logf("cartolocal: user %s: the SQL API's table look-up: %v", c.user.Name, err)
		}
		return nil, false
	}
	defer conn.Release()
	for _, stmt := range c.stmts {
		rows, err := conn.Query(c.ctx, affectedTablesSQL, "SELECT * FROM ("+stmt+") __cdb_affected_tables_query")
		if err != nil {
			return nil, false
		}
		for rows.Next() {
			var t affectedTable
			if err := rows.Scan(&t.oid, &t.db, &t.name, &t.updatedAt); err != nil {
				rows.Close()
				return nil, false
			}
			if !slices.ContainsFunc(tables, func(o affectedTable) bool { return o.oid == t.oid }) {
				tables = append(tables, t)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			var pe *pgconn.PgError
			if errors.As(err, &pe) && pe.Code == "42601" {
				continue // a statement the wrapper does not take (SELECT ... INTO): no tables
			}
			return nil, false
		}
	}
	slices.SortFunc(tables, func(a, b affectedTable) int { return cmp.Compare(a.oid, b.oid) })
	return tables, true
}

// wrappable reports whether a statement can stand in SELECT * FROM (statement): PostgreSQL's
// grammar takes only a query there, which starts with SELECT, VALUES, TABLE, WITH or a
// parenthesis. Any other statement (INSERT, UPDATE, DELETE, DDL, SET, COPY, ...) is a syntax
// error in it, which CARTO's look-up counts as no tables, so it need not be planned.
func wrappable(stmt string) bool {
	t, err := pgscan.Next(stmt, 0)
	if err != nil {
		return true
	}
	switch t.Kind {
	case pgscan.Punct:
		return stmt[t.Start] == '('
	case pgscan.Ident:
		switch strings.ToUpper(stmt[t.Start:t.End]) {
		case "SELECT", "VALUES", "TABLE", "WITH":
			return true
		}
	}
	return false
}

// namesRelation reports whether a query may read a relation: in PostgreSQL's grammar only a FROM
// clause (JOINs and subqueries' included) or TABLE name brings one into a query's plan.
func namesRelation(stmt string) bool {
	for i := 0; i < len(stmt); {
		t, err := pgscan.Next(stmt, i)
		if err != nil {
			return true
		}
		i = t.End
		if t.Kind == pgscan.Ident && t.End-t.Start <= 5 {
			switch strings.ToUpper(stmt[t.Start:t.End]) {
			case "FROM", "TABLE":
				return true
			}
		}
	}
	return false
}

// queryStatements splits q into its statements, each without its semicolon or what follows its
// last token. Text that does not split (an unterminated string, unbalanced parentheses) gives
// none: planning it is the syntax error that CARTO's look-up counts as no tables, and it is never
// sent whole, where its semicolons could end the wrapper's statement.
func queryStatements(q string) []string {
	split, err := pgscan.Split(q)
	if err != nil {
		return nil
	}
	out := make([]string, 0, len(split))
	for _, s := range split {
		end := s.Start
		for i := s.Start; i < s.End; {
			t, err := pgscan.Next(q, i)
			if err != nil {
				end = s.End
				break
			}
			i = t.End
			if t.Kind != pgscan.Space && t.Kind != pgscan.Comment && !(t.Kind == pgscan.Punct && q[t.Start] == ';') {
				end = t.End
			}
		}
		if end > s.Start {
			out = append(out, q[s.Start:end])
		}
	}
	return out
}

// tile0 replaces Mapnik's tokens with their values for tile 0/0/0, as cartodb-query-tables does
// before planning, so that a map layer's SQL sent to the SQL API plans.
var tile0 = strings.NewReplacer(
	"!bbox!", "ST_MakeEnvelope(-20037508.342789245, -20037508.342789245, 20037508.342789245, 20037508.342789245, 3857)",
	"!scale_denominator!", "559082264.02871777343",
	"!pixel_width!", "156543.03392804097656",
	"!pixel_height!", "156543.03392804097656",
)

func substituteTile0(q string) string {
	if strings.IndexByte(q, '!') < 0 {
		return q
	}
	return tile0.Replace(q)
}

// setCacheHeaders sets Cache-Control, X-Cache-Channel, Surrogate-Key and Last-Modified as CARTO's
// middlewares do, from the look-up's result.
func setCacheHeaders(h http.Header, tables []affectedTable, known, mayWrite, persist bool, now time.Time) {
	allUpdated := known
	var stamped []affectedTable
	var newest int64
	for _, t := range tables {
		if t.updatedAt == 0 {
			allUpdated = false
			continue
		}
		stamped = append(stamped, t)
		newest = max(newest, t.updatedAt)
	}
	switch {
	case persist:
		h.Set("Cache-Control", "public,max-age="+strconv.Itoa(oneYear))
	case allUpdated:
		maxAge := oneYear
		if mayWrite {
			maxAge = 0
		}
		h.Set("Cache-Control", "no-cache,max-age="+strconv.Itoa(maxAge)+",must-revalidate,public")
	default:
		h.Set("Cache-Control", "no-cache,max-age="+strconv.FormatInt(nextTTL(now), 10)+",must-revalidate,public")
	}
	if known && !mayWrite && len(stamped) > 0 {
		h.Set("X-Cache-Channel", cacheChannel(stamped))
		h.Set("Surrogate-Key", surrogateKey(stamped))
	}
	if known {
		lm := now
		if newest != 0 {
			lm = time.UnixMilli(newest)
		}
		h.Set("Last-Modified", lm.UTC().Format(http.TimeFormat))
	}
}

// nextTTL is the number of seconds from now to the next multiple of fallbackTTL since the epoch
// (1 to fallbackTTL), counting now's second as begun.
func nextTTL(now time.Time) int64 {
	ms := now.UnixMilli()
	sec := ms / 1000
	if ms%1000 != 0 {
		sec++
	}
	return fallbackTTL - sec%fallbackTTL
}

// cacheChannel is X-Cache-Channel: per database (in order of appearance),
// db:schema.table,schema.table, the databases joined by ";;".
func cacheChannel(tables []affectedTable) string {
	var dbs []string
	for _, t := range tables {
		if !slices.Contains(dbs, t.db) {
			dbs = append(dbs, t.db)
		}
	}
	var b strings.Builder
	for i, db := range dbs {
		if i > 0 {
			b.WriteString(";;")
		}
		b.WriteString(db)
		b.WriteByte(':')
		first := true
		for _, t := range tables {
			if t.db != db {
				continue
			}
			if !first {
				b.WriteByte(',')
			}
			first = false
			b.WriteString(t.name)
		}
	}
	return b.String()
}

// surrogateKey is Surrogate-Key: per table, t: and the first 6 characters of the base64 SHA-256
// of db:schema.table, sorted, joined by spaces.
func surrogateKey(tables []affectedTable) string {
	keys := make([]string, 0, len(tables))
	for _, t := range tables {
		sum := sha256.Sum256([]byte(t.db + ":" + t.name))
		keys = append(keys, "t:"+base64.StdEncoding.EncodeToString(sum[:])[:6])
	}
	slices.Sort(keys)
	return strings.Join(keys, " ")
}
