package bind

import (
	"bytes"
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// The seed corpora live in testdata/fuzz/FuzzLexer and testdata/fuzz/FuzzInterpolateRoundTrip;
// plain go test runs them. To fuzz:
//
//	go test ./driver -run '^$' -fuzz FuzzLexer -fuzztime 60s
//	go test ./driver -run '^$' -fuzz FuzzInterpolateRoundTrip -fuzztime 60s

// FuzzLexer feeds arbitrary queries to the lexer and to interpolate. Without arguments the query
// must come back unchanged (or be refused for a $n without argument). With arguments, the query
// itself (plus a few placeholders) is written in as the string value of each $n: if any literal
// broke out of its quotes, the placeholders inside it would show up when the result is lexed
// again. So the result must lex cleanly, with no $n left and the @name placeholders kept.
func FuzzLexer(f *testing.F) {
	f.Fuzz(func(t *testing.T, query string) {
		phs, lexErr := lexPlaceholders(query)
		for _, ph := range phs {
			if ph.start < 0 || ph.end > len(query) || ph.start >= ph.end {
				t.Fatalf("placeholder %+v out of the query", ph)
			}
			if text := query[ph.start:ph.end]; ph.name != "" && text != "@"+ph.name ||
				ph.name == "" && (text[0] != '$' || ph.num < 0) {
				t.Fatalf("placeholder %+v does not match its text %q", ph, text)
			}
		}

		got, err := Interpolate(query, nil)
		positional := 0
		highest := 0
		for _, ph := range phs {
			if ph.name == "" {
				positional++
				highest = max(highest, ph.num)
			}
		}
		switch {
		case err == nil && got != query:
			t.Fatalf("Interpolate(%q, nil) = %q", query, got)
		case err != nil && positional == 0 && !strings.Contains(err.Error(), "trailing junk"):
			t.Fatalf("Interpolate(%q, nil): %v", query, err)
		}

		if lexErr != nil || positional == 0 || highest > 200 {
			return
		}
		// Use the query as the value of every argument whose number appears, and -1 for $1
		// (to try 1-$1 comments).
		value := strings.ToValidUTF8(strings.ReplaceAll(query, "\x00", ""), "") + " $1 @a -- $2\n"
		args := make([]driver.NamedValue, max(highest, 1))
		for i := range args {
			args[i] = driver.NamedValue{Ordinal: i + 1, Value: value}
		}
		args[0].Value = int64(-1)
		got, err = Interpolate(query, args)
		if err != nil {
			// Only $0 or numbers left unused may fail.
			if !strings.Contains(err.Error(), "is not used") && !strings.Contains(err.Error(), "$0") &&
				!strings.Contains(err.Error(), "numbered from $1") {
				t.Fatalf("Interpolate(%q): %v", query, err)
			}
			return
		}
		outPhs, err := lexPlaceholders(got)
		if err != nil {
			t.Fatalf("Interpolate(%q) = %q, which does not lex: %v", query, got, err)
		}
		var inNames, outNames []string
		for _, ph := range phs {
			if ph.name != "" {
				inNames = append(inNames, ph.name)
			}
		}
		for _, ph := range outPhs {
			if ph.name == "" {
				t.Fatalf("Interpolate(%q) = %q still has %s", query, got, got[ph.start:ph.end])
			}
			outNames = append(outNames, ph.name)
		}
		// An @ right after $n (as in $1@a) is not a placeholder, but after the padded literal it
		// is one; PostgreSQL reads the same tokens either way, so only losing one is wrong.
		if !isSubsequence(inNames, outNames) {
			t.Fatalf("Interpolate(%q) = %q: named placeholders %q became %q", query, got, inNames, outNames)
		}
	})
}

func isSubsequence(sub, seq []string) bool {
	for _, s := range seq {
		if len(sub) > 0 && sub[0] == s {
			sub = sub[1:]
		}
	}
	return len(sub) == 0
}

// FuzzInterpolateRoundTrip writes a string, bytes, a float64 (from its bits) and a time into a
// query and runs it on a real PostgreSQL with standard_conforming_strings on or off: each value
// must come back exactly (the time rounded to the microsecond), or be refused with the
// documented error (NUL or invalid UTF-8 in the string, a time out of timestamptz's range).
func FuzzInterpolateRoundTrip(f *testing.F) {
	conn, notices := literalConn(f)
	const query = "SELECT $1::text, '$1' AS \"$2\", $2::bytea, $3::float8 /* $3 */, " +
		"$4::timestamptz, $$ $4 $$ -- $1"
	if _, err := execText(conn, "SET TimeZone = 'UTC'"); err != nil {
		f.Fatal(err)
	}
	scs := "on" // the connection's standard_conforming_strings
	f.Fuzz(func(t *testing.T, s string, b []byte, fbits uint64, sec, nsec int64, scsOff bool) {
		fl := math.Float64frombits(fbits)
		tm := time.Unix(sec, nsec)
		args := pos(s, b, fl, tm)
		_, err := Interpolate(query, args)
		switch {
		case strings.IndexByte(s, 0) >= 0:
			if err == nil || !errors.Is(err, errNullInText) {
				t.Fatalf("string %q with NUL: error %v", s, err)
			}
			s = strings.ReplaceAll(s, "\x00", "")
		case !utf8.ValidString(s):
			if err == nil || !errors.Is(err, errBadUTF8) {
				t.Fatalf("invalid UTF-8 %q: error %v", s, err)
			}
		case tm.Before(minTimestamp) || tm.Round(time.Microsecond).After(maxTimestamp):
			if err == nil || !strings.Contains(err.Error(), "timestamptz range") {
				t.Fatalf("time %s: error %v", tm, err)
			}
			return
		case err != nil:
			t.Fatalf("interpolate: %v", err)
		}
		s = strings.ToValidUTF8(strings.ReplaceAll(s, "\x00", ""), "\uFFFD")
		if tm.Before(minTimestamp) || tm.Round(time.Microsecond).After(maxTimestamp) {
			tm = time.Unix(0, nsec%1e9)
		}
		args = pos(s, b, fl, tm)
		sql, err := Interpolate(query, args)
		if err != nil {
			t.Fatalf("interpolate: %v", err)
		}
		// A SET of its own: PostgreSQL lexes a whole query string before it runs any of it.
		if want := map[bool]string{false: "on", true: "off"}[scsOff]; want != scs {
			if _, err := execText(conn, "SET standard_conforming_strings = "+want); err != nil {
				t.Fatal(err)
			}
			scs = want
		}
		results, err := execText(conn, sql)
		if err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
		// With standard_conforming_strings off, a backslash in a plain '...' constant warns.
		for _, n := range notices.take() {
			t.Errorf("PostgreSQL notice: %s (%s)", n, sql)
		}
		if len(results) != 1 || len(results[0].Rows) != 1 || len(results[0].Rows[0]) != 6 {
			t.Fatalf("%s: %d results, want one row of 6 columns", sql, len(results))
		}
		row := results[0].Rows[0]
		if string(row[0]) != s {
			t.Errorf("text: sent %q, got %q (%s)", s, row[0], sql)
		}
		if string(row[1]) != "$1" || string(row[5]) != " $4 " {
			t.Errorf("constants of the query changed: %q, %q (%s)", row[1], row[5], sql)
		}
		var gotB []byte
		if err := conn.TypeMap().Scan(results[0].FieldDescriptions[2].DataTypeOID, 0, row[2], &gotB); err != nil || !bytes.Equal(gotB, b) {
			t.Errorf("bytea: sent %x, got %x, %v (%s)", b, gotB, err, sql)
		}
		// float8 text output is the shortest exact decimal (extra_float_digits 1, the default).
		gotF, err := strconv.ParseFloat(string(row[3]), 64)
		if string(row[3]) == "Infinity" || string(row[3]) == "-Infinity" {
			gotF, err = math.Inf(1), nil
			if row[3][0] == '-' {
				gotF = math.Inf(-1)
			}
		}
		if err != nil || math.Float64bits(gotF) != math.Float64bits(fl) && !(math.IsNaN(fl) && math.IsNaN(gotF)) {
			t.Errorf("float8: sent %v (%#x), got %s, %v (%s)", fl, fbits, row[3], err, sql)
		}
		if gotT, err := parseTimestamptzUTC(string(row[4])); err != nil || !gotT.Equal(tm.Round(time.Microsecond)) {
			t.Errorf("timestamptz: sent %s, got %q (%s), %v (%s)", tm, row[4], gotT, err, sql)
		}
	})
}

// parseTimestamptzUTC reads PostgreSQL's ISO output of a timestamptz with TimeZone UTC, such as
// "294276-12-31 23:59:59.999999+00" or "0044-03-15 12:00:00+00 BC", which time.Parse cannot.
func parseTimestamptzUTC(s string) (time.Time, error) {
	body, bc := strings.CutSuffix(s, " BC")
	body, ok := strings.CutSuffix(body, "+00")
	if !ok {
		return time.Time{}, fmt.Errorf("no +00 in %q", s)
	}
	head, frac, hasFrac := strings.Cut(body, ".")
	var y, mo, d, h, mi, sec int
	if _, err := fmt.Sscanf(head, "%d-%d-%d %d:%d:%d", &y, &mo, &d, &h, &mi, &sec); err != nil {
		return time.Time{}, fmt.Errorf("%q: %w", s, err)
	}
	us := 0
	if hasFrac {
		v, err := strconv.Atoi(frac + strings.Repeat("0", 6-len(frac)))
		if err != nil {
			return time.Time{}, err
		}
		us = v
	}
	if bc {
		y = 1 - y
	}
	return time.Date(y, time.Month(mo), d, h, mi, sec, us*1000, time.UTC), nil
}

// FuzzLexerPostgres compares the lexer with PostgreSQL's own: for every query PostgreSQL can
// parse (Parse and Describe only; nothing runs), the number of parameters it finds must be the
// highest $n of the lexer, and a query the lexer refuses must not parse.
func FuzzLexerPostgres(f *testing.F) {
	conn, notices := literalConn(f)
	for _, q := range lexerCorpus() {
		f.Add(q)
	}
	f.Fuzz(func(t *testing.T, query string) {
		if !utf8.ValidString(query) || strings.IndexByte(query, 0) >= 0 {
			return // PostgreSQL refuses these before its lexer sees them
		}
		phs, lexErr := lexPlaceholders(query)
		highest := 0
		for _, ph := range phs {
			highest = max(highest, ph.num)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		sd, err := conn.PgConn().Prepare(ctx, "", query, nil)
		notices.take() // such as "identifier will be truncated"
		if err != nil {
			if ctx.Err() != nil {
				t.Fatalf("%q: %v", query, err)
			}
			return // a syntax error, several statements, or a parameter of unknown type
		}
		if lexErr != nil {
			t.Fatalf("%q parses in PostgreSQL, but the lexer says %v", query, lexErr)
		}
		if len(sd.ParamOIDs) != highest {
			t.Fatalf("%q: PostgreSQL sees %d parameters, the lexer %d (%v)", query, len(sd.ParamOIDs), highest, phs)
		}
	})
}
