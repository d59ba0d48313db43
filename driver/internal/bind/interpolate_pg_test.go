package bind

import (
	"context"
	"database/sql/driver"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/paulmach/orb"

	"github.com/gocarto/carto/cartolocal/cartotest"
	"github.com/gocarto/carto/geo"
)

// Round trips through a real PostgreSQL: each interpolated literal is sent as SQL text with the
// simple query protocol, as CARTO's SQL API runs it, once with standard_conforming_strings on
// and once off, and what comes back must be the Go value.

// literalConn is a superuser connection to the PostgreSQL behind a fresh cartolocal account.
// The notices PostgreSQL sends on it pile up in its noticeLog.
func literalConn(t testing.TB) (*pgx.Conn, *noticeLog) {
	t.Helper()
	acct := cartotest.New(t)
	cfg, err := pgx.ParseConfig(acct.PGURL)
	if err != nil {
		t.Fatal(err)
	}
	notices := &noticeLog{}
	cfg.OnNotice = func(_ *pgconn.PgConn, n *pgconn.Notice) {
		notices.mu.Lock()
		defer notices.mu.Unlock()
		notices.msgs = append(notices.msgs, n.Severity+": "+n.Message)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close(context.Background()) })
	return conn, notices
}

// noticeLog collects a connection's notices.
type noticeLog struct {
	mu   sync.Mutex
	msgs []string
}

// take returns the notices so far and forgets them.
func (l *noticeLog) take() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	msgs := l.msgs
	l.msgs = nil
	return msgs
}

// forEachSCS runs f with standard_conforming_strings on and then off, and fails on any notice:
// with it off, PostgreSQL warns about every backslash in a plain '...' constant, and the
// literals must never hold one.
func forEachSCS(t *testing.T, conn *pgx.Conn, notices *noticeLog, f func(t *testing.T)) {
	for _, scs := range []string{"on", "off"} {
		if _, err := conn.Exec(context.Background(), "SET standard_conforming_strings = "+scs); err != nil {
			t.Fatal(err)
		}
		t.Run("scs="+scs, func(t *testing.T) {
			f(t)
			for _, n := range notices.take() {
				t.Errorf("PostgreSQL notice: %s", n)
			}
		})
	}
}

// execText runs sql with the simple query protocol straight on pgconn (pgx's own simple-protocol
// path refuses standard_conforming_strings off, and re-lexes the text for its own placeholders)
// and returns every result.
func execText(conn *pgx.Conn, sql string) ([]*pgconn.Result, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return conn.PgConn().Exec(ctx, sql).ReadAll()
}

// selectLiteral interpolates v into query (which uses $1) and decodes the one value it returns
// into dst.
func selectLiteral(conn *pgx.Conn, query string, v any, dst any) (string, error) {
	nv := driver.NamedValue{Ordinal: 1, Value: v}
	if err := CheckNamedValue(&nv); err != nil {
		return "", err
	}
	q, err := Interpolate(query, []driver.NamedValue{nv})
	if err != nil {
		return "", err
	}
	results, err := execText(conn, q)
	if err != nil {
		return q, err
	}
	if len(results) != 1 || len(results[0].Rows) != 1 || len(results[0].Rows[0]) != 1 {
		return q, fmt.Errorf("want one result of one row and one column, got %d results", len(results))
	}
	r := results[0]
	return q, conn.TypeMap().Scan(r.FieldDescriptions[0].DataTypeOID, pgx.TextFormatCode, r.Rows[0][0], dst)
}

// textColumns returns the one row of a one-statement answer as text (nil for NULL).
func textColumns(results []*pgconn.Result) ([]*string, error) {
	if len(results) != 1 || len(results[0].Rows) != 1 {
		return nil, fmt.Errorf("want one result of one row, got %d results", len(results))
	}
	var out []*string
	for _, c := range results[0].Rows[0] {
		if c == nil {
			out = append(out, nil)
			continue
		}
		s := string(c)
		out = append(out, &s)
	}
	return out, nil
}

func TestLiteralRoundTripPostgres(t *testing.T) {
	conn, notices := literalConn(t)
	strs := []string{
		"", "a", "it's", "''", "'", `\`, `\\`, `\'`, `'\`, `E'\''`, "$1", "$$", "$a$ x $a$", "--", "/*", "*/",
		"@a", "\n'", "\r\n", "\t", "é", "日本語", "\U0001F600", "\u00a0", "\ufeff", "\x7f", "\x01",
		"'; drop table t; --", `\'; drop table t; --`, strings.Repeat(`\'`, 100),
	}
	floats := []float64{
		0, math.Copysign(0, -1), 1, -1, 0.1, 1.0 / 3, math.Pi, 1e21, 1e-7, 123456789012345678,
		math.MaxFloat64, -math.MaxFloat64, math.SmallestNonzeroFloat64, 2.2250738585072014e-308,
		math.Nextafter(1, 2), math.NaN(), math.Inf(1), math.Inf(-1), float64(float32(0.1)),
	}
	ints := []int64{0, 1, -1, math.MaxInt32, math.MinInt32, math.MaxInt32 + 1, math.MinInt32 - 1, math.MaxInt64, math.MinInt64}
	times := []time.Time{
		{}, time.Unix(0, 0), time.Date(2024, 2, 29, 23, 59, 59, 999999000, time.UTC),
		time.Date(2024, 2, 29, 23, 59, 59, 999999999, time.FixedZone("x", 5*3600+30*60)),
		time.Date(1969, 12, 31, 23, 59, 59, 500, time.UTC), time.Date(9999, 12, 31, 23, 59, 59, 999999000, time.UTC),
		time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(0, 12, 31, 0, 0, 0, 1000, time.UTC),
		time.Date(-4713, 11, 24, 0, 0, 0, 0, time.UTC), time.Date(294276, 12, 31, 23, 59, 59, 999999000, time.UTC),
	}
	forEachSCS(t, conn, notices, func(t *testing.T) {
		for _, s := range strs {
			var got string
			if q, err := selectLiteral(conn, "SELECT $1", s, &got); err != nil || got != s {
				t.Errorf("string %q: %s gave %q, %v", s, q, got, err)
			}
		}
		for _, f := range floats {
			var got float64
			q, err := selectLiteral(conn, "SELECT $1", f, &got)
			if err != nil || math.Float64bits(got) != math.Float64bits(f) && !(math.IsNaN(f) && math.IsNaN(got)) {
				t.Errorf("float %v (%#x): %s gave %v (%#x), %v", f, math.Float64bits(f), q, got, math.Float64bits(got), err)
			}
		}
		for _, i := range ints {
			var got int64
			if q, err := selectLiteral(conn, "SELECT $1", i, &got); err != nil || got != i {
				t.Errorf("int %d: %s gave %d, %v", i, q, got, err)
			}
			// The parentheses keep a cast on the whole number.
			var text string
			if q, err := selectLiteral(conn, "SELECT $1::text", i, &text); err != nil || text != fmt.Sprint(i) {
				t.Errorf("int %d: %s gave %q, %v", i, q, text, err)
			}
		}
		for _, u := range []uint64{math.MaxInt64 + 1, math.MaxUint64} {
			var got string
			if q, err := selectLiteral(conn, "SELECT $1::text", u, &got); err != nil || got != fmt.Sprint(u) {
				t.Errorf("uint64 %d: %s gave %q, %v", u, q, got, err)
			}
		}
		for _, b := range [][]byte{{}, {0}, []byte(`\'`), {0xff, 0xfe, 0x27, 0x5c}, []byte(strings.Repeat("\x00\\'", 50))} {
			var got []byte
			if q, err := selectLiteral(conn, "SELECT $1", b, &got); err != nil || string(got) != string(b) || got == nil {
				t.Errorf("bytes %x: %s gave %x, %v", b, q, got, err)
			}
		}
		for _, tm := range times {
			var got time.Time
			want := tm.Round(time.Microsecond)
			if q, err := selectLiteral(conn, "SELECT $1", tm, &got); err != nil || !got.Equal(want) {
				t.Errorf("time %s: %s gave %s, %v", tm, q, got, err)
			}
		}
		for _, b := range []bool{true, false} {
			var got bool
			if q, err := selectLiteral(conn, "SELECT $1", b, &got); err != nil || got != b {
				t.Errorf("bool %v: %s gave %v, %v", b, q, got, err)
			}
		}
		var null *string
		if q, err := selectLiteral(conn, "SELECT $1", nil, &null); err != nil || null != nil {
			t.Errorf("nil: %s gave %v, %v", q, null, err)
		}
	})
}

// TestLiteralTypesPostgres checks the SQL type of each literal and of the arrays.
func TestLiteralTypesPostgres(t *testing.T) {
	conn, notices := literalConn(t)
	point := geo.New(orb.Point{1.5, -2}, 4326)
	pointHex, _ := point.EWKBHex()
	tests := []struct {
		v              any
		typ, asText    string
		query          string // default SELECT pg_typeof($1)::text, ($1)::text
		wantTypeIsText bool
	}{
		{v: int64(1), typ: "integer", asText: "1"},
		{v: int64(-1 << 40), typ: "bigint", asText: "-1099511627776"},
		{v: uint64(math.MaxUint64), typ: "numeric", asText: "18446744073709551615"},
		{v: 0.5, typ: "double precision", asText: "0.5"},
		{v: "x", typ: "unknown", asText: "x"},
		{v: true, typ: "boolean", asText: "true"},
		{v: []byte{1}, typ: "bytea", asText: `\x01`},
		{v: time.Date(2020, 1, 2, 3, 4, 5, 6000, time.UTC), typ: "timestamp with time zone", asText: "2020-01-02 03:04:05.000006+00"},
		{v: point, typ: "geometry", asText: pointHex},
		{v: orb.Point{1.5, -2}, typ: "geometry", asText: pointHex},
		{v: geo.Geometry{}, typ: "geometry", asText: ""},
		{v: []int64{1, -2}, typ: "bigint[]", asText: "{1,-2}"},
		{v: []int{}, typ: "bigint[]", asText: "{}"},
		{v: []int(nil), typ: "bigint[]", asText: ""},
		{v: []uint64{math.MaxUint64}, typ: "numeric[]", asText: "{18446744073709551615}"},
		{v: []float64{0.5, math.Inf(-1)}, typ: "double precision[]", asText: "{0.5,-Infinity}"},
		{v: []string{"a", "it's", `\`, `"`, "", "NULL"}, typ: "text[]", asText: `{a,it's,"\\","\"","","NULL"}`},
		{v: []*string{nil}, typ: "text[]", asText: "{NULL}"},
		{v: []bool{true}, typ: "boolean[]", asText: "{t}"},
		{v: [][]byte{{0xab}}, typ: "bytea[]", asText: `{"\\xab"}`},
		{v: []time.Time{time.Unix(0, 0)}, typ: "timestamp with time zone[]", asText: `{"1970-01-01 00:00:00+00"}`},
		{v: [][]int64{{1, 2}, {3, 4}}, typ: "bigint[]", asText: "{{1,2},{3,4}}"},
		{v: []geo.Geometry{point}, typ: "geometry[]", asText: "{" + pointHex + "}"},
		{v: []any{int64(1), int64(2)}, typ: "integer[]", asText: "{1,2}"},
		{v: []any{"a", nil}, typ: "text[]", asText: "{a,NULL}"},
		{v: []any{}, typ: "unknown", asText: "{}"},
	}
	forEachSCS(t, conn, notices, func(t *testing.T) {
		for _, tt := range tests {
			nv := driver.NamedValue{Ordinal: 1, Value: tt.v}
			if err := CheckNamedValue(&nv); err != nil {
				t.Errorf("%T: %v", tt.v, err)
				continue
			}
			q, err := Interpolate("SELECT pg_typeof($1)::text, ($1)::text", []driver.NamedValue{nv})
			if err != nil {
				t.Errorf("%T: %v", tt.v, err)
				continue
			}
			results, err := execText(conn, q)
			var cols []*string
			if err == nil {
				cols, err = textColumns(results)
			}
			if err != nil {
				t.Errorf("%T %v: %s: %v", tt.v, tt.v, q, err)
				continue
			}
			typ, got := *cols[0], ""
			if cols[1] != nil {
				got = *cols[1]
			}
			if typ != tt.typ || got != tt.asText {
				t.Errorf("%T %v: %s\n gave %s %q\n want %s %q", tt.v, tt.v, q, typ, got, tt.typ, tt.asText)
			}
		}
	})
}

// TestInterpolateInjectionPostgres puts hostile values into every position of a query with
// quotes, comments and dollar quotes around the placeholders, and checks that PostgreSQL reads
// back exactly the values and the query's own constants.
func TestInterpolateInjectionPostgres(t *testing.T) {
	conn, notices := literalConn(t)
	hostile := []string{
		"'; SELECT 'pwned' --", `\'; SELECT 'pwned' --`, `\`, "$1", "*/ SELECT 'pwned' /*", "\n'", `E'\''`,
		"$$; SELECT 'pwned'; $$",
	}
	queries := []struct {
		sql  string
		want []string // the constants the query adds around the value, "" for the value
		// scsOn marks a query whose own text has a backslash in a plain '...' constant: it means
		// what it says only with standard_conforming_strings on, the setting the lexer assumes.
		scsOn bool
	}{
		{sql: "SELECT $1::text", want: []string{""}},
		{sql: "SELECT $1::text, '$1'", want: []string{"", "$1"}},
		{sql: "SELECT '\\', $1::text", want: []string{`\`, ""}, scsOn: true},
		{sql: "SELECT E'\\'', $1::text", want: []string{"'", ""}},
		{sql: "SELECT $1::text /* $1 */, $$ $1 $$", want: []string{"", " $1 "}},
		{sql: "SELECT $1::text -- $1\n, 'x'", want: []string{"", "x"}},
		{sql: "SELECT E'a'\n'\\' , $1 --', $1::text", want: []string{"a' , $1 --", ""}},
		{sql: "SELECT $1::text, 'x'\n'y'", want: []string{"", "xy"}},
	}
	forEachSCS(t, conn, notices, func(t *testing.T) {
		scsOn := strings.HasSuffix(t.Name(), "=on")
		for _, q := range queries {
			if q.scsOn && !scsOn {
				continue
			}
			for _, h := range hostile {
				sql, err := Interpolate(q.sql, pos(h))
				if err != nil {
					t.Errorf("%q with %q: %v", q.sql, h, err)
					continue
				}
				results, err := execText(conn, sql)
				var got []*string
				if err == nil {
					got, err = textColumns(results)
				}
				if err != nil {
					t.Errorf("%s: %v", sql, err)
					continue
				}
				var gotText []string
				for _, c := range got {
					if c == nil {
						gotText = append(gotText, "NULL")
					} else {
						gotText = append(gotText, *c)
					}
				}
				want := slices.Clone(q.want)
				for i, w := range want {
					if w == "" {
						want[i] = h
					}
				}
				if !slices.Equal(gotText, want) {
					t.Errorf("%s\n gave %q\n want %q", sql, gotText, want)
				}
			}
		}
		// GHSA-m7wr-2xf7-cm9p: 1-$1 with a negative number stays arithmetic.
		sql, _ := Interpolate("SELECT 1-$1, $2::text", pos(int64(-1), "\nx"))
		results, err := execText(conn, sql)
		var cols []*string
		if err == nil {
			cols, err = textColumns(results)
		}
		if err != nil || *cols[0] != "2" || *cols[1] != "\nx" {
			t.Errorf("%s: %v %v", sql, cols, err)
		}
	})
}

// TestLexerAgreesWithPostgres prepares every lexer test query that PostgreSQL can parse and
// compares the number of parameters PostgreSQL sees with the highest $n the lexer found.
func TestLexerAgreesWithPostgres(t *testing.T) {
	conn, _ := literalConn(t)
	checked := 0
	for _, q := range lexerCorpus() {
		phs, err := lexPlaceholders(q)
		if err != nil {
			continue
		}
		highest := 0
		for _, ph := range phs {
			highest = max(highest, ph.num)
		}
		sd, err := conn.PgConn().Prepare(context.Background(), "", q, nil)
		if err != nil {
			continue // a syntax error, or a parameter whose type PostgreSQL cannot tell
		}
		checked++
		if len(sd.ParamOIDs) != highest {
			t.Errorf("%q: PostgreSQL sees %d parameters, the lexer %d (%v)", q, len(sd.ParamOIDs), highest, phs)
		}
	}
	if checked < 20 {
		t.Errorf("only %d queries could be checked", checked)
	}
}

// lexerCorpus is the queries of the lexer tests and of the fuzz seeds that PostgreSQL may parse.
func lexerCorpus() []string {
	return []string{
		"select $1::int", "select $1::text, $2::text, $3::text",
		"select '$2', $1::text", "select 'it''s $2', $1::text", "select '\\', $1::text",
		"select 'a\\'||$1::text", "select N'$2', $1::text", "select B'101', X'1F', $1::text",
		"select U&'d\\0061t$2', $1::text", "select U&'d!0061t$2' UESCAPE '!', $1::text",
		"select E'\\'$2', $1::text", "select e'\\'$2', $1::text", "select E'\\\\', $1::text",
		"select E'''$2', $1::text", "select E'\\\\\\'$2', $1::text",
		"select E'a'\n'\\' , $2 --'\n, $1::text", "select E'a'\r'\\' , $2 --'\n, $1::text",
		"select E'a'  \t\n  \n '\\' , $2 --'\n, $1::text", "select E'a' -- c $3\n'\\' , $2 --'\n, $1::text",
		"select E'a'\n-- c $3\n'\\' , $2 --'\n, $1::text", "select E'a'\n'b'\n'\\' , $2 --'\n, $1::text",
		"select 'a'\n'\\' , $1::text", "select 'a' -- $2\n'b', $1::text",
		`select "$2" from (select 1 as "$2") s where $1::int = 1`,
		"select $$ $2 $$, $1::text", "select $$$$, $1::text", "select $tag$ $2 $$ $3 $tag$, $1::text",
		"select $a$ $b$ $2 $a$, $1::text", "select $_x1$ $2 $_x1$, $1::text", "select $Tag$ $2 $tag$ $3 $Tag$, $1::text",
		"select $é$ $2 $é$, $1::text", "select $a$ $$a$ $1::text",
		"select a$2 from (select 1 as a$2) s where $1::int = 1", "select 1 as a$$, $1::text",
		"select $1::text -- $2", "select $1::text -- $3\n, $2::text", "select $1::text /* $3 */, $2::text",
		"select /* /* $2 */ $3 */ $1::text", "select /*/ $2 */ $1::text", "select /* **/ $1::text",
		"select 1+/*$2*/$1::int", "select $$--$$, $1::text", "select '/*', $1::text, '*/'",
		"select array[1] @> array[$1::int]", "select @ $1::int", "select '{\"a\":1}'::jsonb ? 'a', $1::text",
		"select $1::int as x", "select 1-$1::int", "select $2::text, $1::text, $2::text",
	}
}

// TestBackslashWarningIsSeen makes sure the notice check of forEachSCS can fail: a plain
// constant with a backslash, under standard_conforming_strings off, warns.
func TestBackslashWarningIsSeen(t *testing.T) {
	conn, notices := literalConn(t)
	// Separately: PostgreSQL lexes the whole query string before it runs the SET.
	if _, err := execText(conn, `SET standard_conforming_strings = off`); err != nil {
		t.Fatal(err)
	}
	if _, err := execText(conn, `SELECT 'a\\b'`); err != nil {
		t.Fatal(err)
	}
	if got := notices.take(); len(got) != 1 || !strings.Contains(got[0], "nonstandard use of \\\\") {
		t.Errorf("notices %q, want the nonstandard use of \\\\ warning", got)
	}
}

// TestLexerAgreesWithPostgresRandom builds random select lists out of expressions that hide
// placeholders in every kind of constant and comment, next to real ones, and checks that the
// lexer counts the parameters PostgreSQL counts.
func TestLexerAgreesWithPostgresRandom(t *testing.T) {
	conn, _ := literalConn(t)
	rng := rand.New(rand.NewPCG(1, 2))
	// %d is a hidden placeholder number; %r is the next real parameter.
	exprs := []string{
		"%r::text", "%r::int + 1", "1-%r::int", "@ %r::int", "array[1] @> array[%r::int]",
		"'x$%d'", "'it''s $%d'", `E'\'$%d'`, `E'\\'`, `e'$%d\\'`, "$$ $%d $$", "$t$ $%d $$ $t$", "$é$ $%d $é$",
		`U&'d\0061t $%d'`, "N'$%d'", "B'1'", "X'1f'", "1 /* $%d /* $%d */ */", "1 -- $%d\n", `1 AS "$%d"`,
		`1 AS "a""$%d"`, "1 AS a$%d", "1 AS a$$", "E'a'\n'\\' , $%d --'", "E'a' -- c $%d\n  '\\' $%d'",
		"E'a'\r\n\t'b\\'$%d'", "'a'\n'b $%d'", "'\\'", "'--$%d'", "'/*'", "$$--$$", "E'\\\\' AS \"$%d\"",
	}
	seps := []string{", ", ",\n", ",\t", ", /**/ ", ", -- $9\n", ",\n\n", ", /* $9 */\n"}
	checked := 0
	for range 1500 {
		var sb strings.Builder
		sb.WriteString("SELECT ")
		params := 0
		for i := range 1 + rng.IntN(6) {
			if i > 0 {
				sb.WriteString(seps[rng.IntN(len(seps))])
			}
			e := exprs[rng.IntN(len(exprs))]
			for strings.Contains(e, "%d") {
				e = strings.Replace(e, "%d", strconv.Itoa(1+rng.IntN(9)), 1)
			}
			if strings.Contains(e, "%r") {
				params++
				e = strings.Replace(e, "%r", "$"+strconv.Itoa(params), 1)
			}
			sb.WriteString(e)
		}
		q := sb.String()
		phs, err := lexPlaceholders(q)
		if err != nil {
			t.Fatalf("%q: %v", q, err)
		}
		highest := 0
		for _, ph := range phs {
			highest = max(highest, ph.num)
		}
		sd, err := conn.PgConn().Prepare(context.Background(), "", q, nil)
		if err != nil {
			t.Errorf("%q does not parse: %v", q, err)
			continue
		}
		checked++
		if len(sd.ParamOIDs) != highest || highest != params {
			t.Errorf("%q: PostgreSQL sees %d parameters, the lexer %d, the test wrote %d", q, len(sd.ParamOIDs), highest, params)
		}
	}
	t.Logf("%d random queries checked", checked)
}

// TestContinuationAroundPlaceholdersPostgres: where PostgreSQL, with real bind parameters,
// refuses a string constant next to a parameter across a newline, the interpolated query is
// refused too, instead of the two strings becoming one (issue 9 item 11); where it accepts
// the query, the interpolated one gives the argument back.
func TestContinuationAroundPlaceholdersPostgres(t *testing.T) {
	conn, _ := literalConn(t)
	for _, q := range []string{
		"SELECT 'a'\n$1::text", "SELECT 'a' -- c\n$1::text", "SELECT E'a\\\\'\n$1::text",
		"SELECT $1::text\n'a'", "SELECT $1\n$2::text", "SELECT 'a' /**/\n$1::text", "SELECT 'a', $1::text",
	} {
		_, bindErr := conn.PgConn().Prepare(context.Background(), "", q, nil)
		args := pos("b")
		if strings.Contains(q, "$2") {
			args = pos("b", "c")
		}
		sql, err := Interpolate(q, args)
		if err != nil {
			t.Fatalf("%q: %v", q, err)
		}
		results, err := execText(conn, sql)
		if (err != nil) != (bindErr != nil) {
			t.Errorf("%q as %q: %v; with bind parameters: %v", q, sql, err, bindErr)
			continue
		}
		if err != nil {
			continue
		}
		cols, err := textColumns(results)
		if err != nil || *cols[len(cols)-1] != "b" {
			t.Errorf("%q as %q: %v, %v", q, sql, cols, err)
		}
	}
}
