package bind

import (
	"strings"
	"testing"
	"time"
)

func BenchmarkInterpolate(b *testing.B) {
	query := "INSERT INTO t (id, name, score, at, tags, blob) VALUES ($1, $2, $3, $4, $5, $6) -- $7\n" +
		"ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name WHERE t.note <> 'it''s $1' AND t.body <> $$ $2 $$"
	args := pos(int64(42), `O'Reilly \ co`, 3.25, time.Date(2024, 5, 6, 7, 8, 9, 123456000, time.UTC),
		[]string{"a", "b"}, []byte(strings.Repeat("x", 64)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Interpolate(query, args); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkLexLargeQuery(b *testing.B) {
	// A 1 MiB multi-row INSERT with one placeholder at the end.
	var sb strings.Builder
	sb.WriteString("INSERT INTO t VALUES ")
	for sb.Len() < 1<<20 {
		sb.WriteString("(1, 'it''s', E'a\\'b', $$x$$, \"q\" /* c */), -- row\n")
	}
	sb.WriteString("($1, '', '', '', '')")
	query := sb.String()
	args := pos(int64(1))
	b.SetBytes(int64(len(query)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Interpolate(query, args); err != nil {
			b.Fatal(err)
		}
	}
}
