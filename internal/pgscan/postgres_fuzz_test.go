package pgscan_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/gocarto/carto/cartolocal/cartotest"
	"github.com/gocarto/carto/internal/pgscan"
)

// The seed corpus lives in testdata/fuzz/FuzzScanPostgres and in seeds below; plain go test
// runs them. To fuzz:
//
//	go test ./internal/pgscan -run '^$' -fuzz FuzzScanPostgres -fuzztime 60s

// FuzzScanPostgres compares the scanner with PostgreSQL's own, on everything PostgreSQL tells
// about a text without the scanner's help. Each check fails only on a real disagreement:
//
//   - Tokens are contiguous and cover the text.
//   - PostgreSQL parses the text (Parse and Describe; nothing runs): the scanner splits it
//     into tokens, Split finds one statement (or declines, for BEGIN ATOMIC and parentheses),
//     and the highest $n is the number of parameters PostgreSQL sees.
//   - PostgreSQL says a construct is unterminated: so does the scanner.
//   - PostgreSQL says the text holds several commands: Split finds several (or declines), and
//     none of them is a syntax error on its own, so no cut fell inside a token.
//   - Rewriting what the scanner calls blanks and comments (each run becomes one space) and
//     putting spaces around every string constant, dollar-quoted string and quoted identifier
//     changes nothing in PostgreSQL's eyes when the scanner's token boundaries are PostgreSQL's:
//     the rewritten text describes the same parameters and columns and, for a query, returns
//     the same rows (run in a read-only transaction by a role without privileges). A boundary
//     inside what PostgreSQL calls a string would change the string's value; one inside a
//     token would change the tokens.
func FuzzScanPostgres(f *testing.F) {
	pg := newScanConn(f)
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		toks, scanErr := tokens(text)
		for k, tok := range toks {
			if tok.Start != prevEnd(toks, k) || tok.End <= tok.Start || tok.End > len(text) || tok.Kind < pgscan.Space || tok.Kind > pgscan.Punct {
				t.Fatalf("%q: bad token %d %+v", text, k, tok)
			}
		}
		if scanErr == nil && len(text) > 0 && toks[len(toks)-1].End != len(text) {
			t.Fatalf("%q: tokens end at %d", text, toks[len(toks)-1].End)
		}
		stmts, splitErr := pgscan.Split(text)
		if !utf8.ValidString(text) || strings.IndexByte(text, 0) >= 0 {
			return // PostgreSQL refuses these before its scanner sees them
		}

		sd, err := pg.prepare(t, text)
		if err != nil {
			msg := err.Error()
			switch {
			case strings.Contains(msg, "unterminated") && scanErr == nil:
				t.Fatalf("%q: PostgreSQL says %v; the scanner finds no unterminated construct", text, err)
			case strings.Contains(msg, "cannot insert multiple commands"):
				if scanErr != nil {
					t.Fatalf("%q: PostgreSQL parses several commands; the scanner says %v", text, scanErr)
				}
				if splitErr != nil {
					return // declined: BEGIN ATOMIC or parentheses
				}
				if len(stmts) < 2 {
					t.Fatalf("%q: PostgreSQL parses several commands, Split finds %d: %v", text, len(stmts), stmts)
				}
				for _, s := range stmts {
					one := text[s.Start:s.End]
					if _, err := pg.prepare(t, one); err != nil && isParseError(err) {
						t.Fatalf("%q: Split cut out %q, which PostgreSQL cannot parse: %v", text, one, err)
					}
				}
			}
			return
		}

		// PostgreSQL parsed one statement, or none.
		if scanErr != nil {
			t.Fatalf("%q parses in PostgreSQL, but the scanner says %v", text, scanErr)
		}
		if splitErr == nil && len(stmts) > 1 {
			t.Fatalf("%q is one statement for PostgreSQL, Split finds %d: %v", text, len(stmts), stmts)
		}
		if n := highestParam(text, toks); n != len(sd.ParamOIDs) {
			t.Fatalf("%q: PostgreSQL sees %d parameters, the scanner %d", text, len(sd.ParamOIDs), n)
		}

		respaced := respace(text, toks)
		sd2, err := pg.prepare(t, respaced)
		if err != nil {
			t.Fatalf("%q parses in PostgreSQL, but with the scanner's blanks rewritten, %q does not: %v", text, respaced, err)
		}
		if d1, d2 := describe(sd), describe(sd2); d1 != d2 {
			t.Fatalf("%q and, with the scanner's blanks rewritten, %q describe differently:\n%s\n%s", text, respaced, d1, d2)
		}
		if splitErr == nil && len(stmts) == 1 && runnable(text, toks) {
			r1, r2 := pg.run(t, text, len(sd.ParamOIDs)), pg.run(t, respaced, len(sd.ParamOIDs))
			if r1 != r2 {
				t.Fatalf("%q and, with the scanner's blanks rewritten, %q return different results:\n%s\n%s", text, respaced, r1, r2)
			}
		}
	})
}

// tokens splits text with pgscan.Next, up to its error.
func tokens(text string) ([]pgscan.Token, error) {
	var toks []pgscan.Token
	for i := 0; i < len(text); {
		tok, err := pgscan.Next(text, i)
		if err != nil {
			return toks, err
		}
		toks = append(toks, tok)
		i = tok.End
	}
	return toks, nil
}

func prevEnd(toks []pgscan.Token, k int) int {
	if k == 0 {
		return 0
	}
	return toks[k-1].End
}

// highestParam is the highest n of the $n tokens, which is how many parameters PostgreSQL
// counts.
func highestParam(text string, toks []pgscan.Token) int {
	highest := 0
	for _, tok := range toks {
		if tok.Kind != pgscan.Param {
			continue
		}
		n := 0
		for _, d := range text[tok.Start+1 : tok.End] {
			n = min(n*10+int(d-'0'), 1<<20)
		}
		highest = max(highest, n)
	}
	return highest
}

// respace rewrites each run of blanks and comments as one space (no newline, so that no
// string constant can continue across it), and puts a space before and after each string
// constant, dollar-quoted string and quoted identifier.
func respace(text string, toks []pgscan.Token) string {
	var b strings.Builder
	blank := false
	for _, tok := range toks {
		switch tok.Kind {
		case pgscan.Space, pgscan.Comment:
			blank = true
			continue
		case pgscan.String, pgscan.Dollar, pgscan.QuotedIdent:
			blank = true
		}
		if blank && b.Len() > 0 {
			b.WriteByte(' ')
		}
		blank = tok.Kind == pgscan.String || tok.Kind == pgscan.Dollar || tok.Kind == pgscan.QuotedIdent
		b.WriteString(text[tok.Start:tok.End])
	}
	return b.String()
}

// runnable reports whether the statement is a query that may run in a read-only transaction
// without touching the session: it starts with SELECT, VALUES, TABLE, WITH or a parenthesis.
func runnable(text string, toks []pgscan.Token) bool {
	for _, tok := range toks {
		switch tok.Kind {
		case pgscan.Space, pgscan.Comment:
			continue
		case pgscan.Ident:
			switch strings.ToLower(text[tok.Start:tok.End]) {
			case "select", "values", "table", "with":
				return true
			}
		case pgscan.Punct:
			return text[tok.Start:tok.End] == "("
		}
		return false
	}
	return false
}

// isParseError reports whether PostgreSQL's scanner or grammar refused the text, as opposed to
// the analysis of a statement that parsed (unknown tables, parameter types, ...).
func isParseError(err error) bool {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != "42601" {
		return false
	}
	for _, p := range []string{"syntax error", "unterminated", "trailing junk", "zero-length delimited identifier",
		"cannot insert multiple commands", "unsafe use of string constant", "invalid Unicode escape", "unsafe use of"} {
		if strings.HasPrefix(pe.Message, p) {
			return true
		}
	}
	return false
}

// describe writes what Describe told about a statement.
func describe(sd *pgconn.StatementDescription) string {
	var b strings.Builder
	fmt.Fprintf(&b, "params %v; fields", sd.ParamOIDs)
	for _, f := range sd.Fields {
		fmt.Fprintf(&b, " %q:%d/%d", f.Name, f.DataTypeOID, f.TypeModifier)
	}
	return b.String()
}

// scanConn is a connection as a role that owns nothing and may write nothing.
type scanConn struct {
	conn *pgconn.PgConn
}

func newScanConn(tb testing.TB) *scanConn {
	tb.Helper()
	acct := cartotest.New(tb)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	admin, err := pgx.Connect(ctx, acct.PGURL)
	if err != nil {
		tb.Fatal(err)
	}
	defer admin.Close(context.Background())
	var pw [16]byte
	_, _ = rand.Read(pw[:])
	role := "pgscan_fuzz_" + hex.EncodeToString(pw[:4])
	password := hex.EncodeToString(pw[4:])
	var db string
	if err := admin.QueryRow(ctx, "SELECT current_database()").Scan(&db); err != nil {
		tb.Fatal(err)
	}
	for _, q := range []string{
		fmt.Sprintf("CREATE ROLE %s LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD %s", role, pgscan.QuoteLiteral(password)),
		fmt.Sprintf("ALTER ROLE %s SET statement_timeout = '2s'", role),
		fmt.Sprintf("ALTER ROLE %s SET default_transaction_read_only = on", role),
		fmt.Sprintf("GRANT CONNECT ON DATABASE %s TO %s", pgscan.QuoteIdent(db), role),
	} {
		if _, err := admin.Exec(ctx, q); err != nil {
			tb.Fatalf("%s: %v", q, err)
		}
	}
	cfg, err := pgconn.ParseConfig(acct.PGURL)
	if err != nil {
		tb.Fatal(err)
	}
	cfg.User, cfg.Password = role, password
	cfg.OnNotice = func(*pgconn.PgConn, *pgconn.Notice) {}
	conn, err := pgconn.ConnectConfig(ctx, cfg)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = conn.Close(context.Background()) })
	return &scanConn{conn: conn}
}

// prepare parses and describes text as the unnamed statement. A connection that broke fails
// the test.
func (c *scanConn) prepare(t *testing.T, text string) (*pgconn.StatementDescription, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	sd, err := c.conn.Prepare(ctx, "", text, nil)
	var pe *pgconn.PgError
	if err != nil && !errors.As(err, &pe) {
		t.Fatalf("%q: %v", text, err)
	}
	return sd, err
}

// run runs a query with NULL for each parameter in a read-only transaction that it rolls
// back, the random seed fixed, and writes its result or error.
func (c *scanConn) run(t *testing.T, text string, params int) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := c.conn.Exec(ctx, "BEGIN READ ONLY; SELECT setseed(0.5)").ReadAll(); err != nil {
		t.Fatal(err)
	}
	res := c.conn.ExecParams(ctx, text, make([][]byte, params), nil, nil, nil).Read()
	if _, err := c.conn.Exec(ctx, "ROLLBACK").ReadAll(); err != nil {
		t.Fatalf("%q: rolling back: %v", text, err)
	}
	var pe *pgconn.PgError
	if res.Err != nil {
		if !errors.As(res.Err, &pe) {
			t.Fatalf("%q: %v", text, res.Err)
		}
		return "error " + pe.Code + ": " + pe.Message
	}
	var b bytes.Buffer
	b.WriteString(res.CommandTag.String())
	for _, row := range res.Rows {
		b.WriteString("\n")
		for _, v := range row {
			if v == nil {
				b.WriteString("NULL|")
			} else {
				fmt.Fprintf(&b, "%q|", v)
			}
		}
	}
	return b.String()
}
