package bind

import (
	"errors"
	"fmt"
	"math"

	"github.com/gocarto/carto/internal/pgscan"
)

// The lexer finds the placeholders of a query: $n and @name outside string constants, quoted
// identifiers, dollar-quoted bodies and comments. The tokens are internal/pgscan's, which
// follows PostgreSQL's own scanner (string continuation, E'' escapes, U&, dollar quotes, nested
// comments; see that package). On top of them:
//
//   - $n: a Param token. Like PostgreSQL 15, a letter right after the digits ($1a) is an error
//     ("trailing junk").
//   - @name: an @ that starts a token (it does not follow an operator character, a letter, a
//     digit or _ or $), followed by an identifier: in "a @@ b", "x @> y", "x=@y" and "a@b" the
//     @ belongs to an operator or follows a name, so none of them holds a placeholder. Whether
//     @name is a placeholder at all depends on the arguments: only named arguments (sql.Named)
//     turn it into one, since @ is also PostgreSQL's absolute-value operator (@x is abs(x)).
//     In @e'x' the e starts an E'' string, as PostgreSQL reads it: no placeholder.
//
// There are no ? placeholders: ?, ?| and ?& are jsonb operators.

// placeholder is one $n or @name in a query: query[start:end] is its text.
type placeholder struct {
	start, end int
	num        int    // n of $n (clamped to math.MaxInt32); 0 for @name
	name       string // name of @name; "" for $n
	// after tells what comes before the placeholder, blanks and comments left out: a string
	// constant (afterString) or another placeholder (afterPlaceholder), which ends at gap. A
	// string constant written in its place could continue either.
	after int
	gap   int
}

// What comes before a placeholder (placeholder.after).
const (
	afterOther = iota
	afterString
	afterPlaceholder
)

// lexError is a query the lexer cannot split safely.
type lexError struct {
	msg    string
	offset int  // byte offset in the query
	junk   bool // trailing junk after $n, rather than an unterminated construct
}

func (e *lexError) Error() string {
	return fmt.Sprintf("carto driver: %s (at byte %d of the query)", e.msg, e.offset)
}

// lexPlaceholders returns the placeholders of query in order. The error reports an unterminated
// string, identifier, dollar quote or comment, or junk after $n; placeholders before it are
// returned too.
func lexPlaceholders(query string) ([]placeholder, error) {
	var phs []placeholder
	var prev pgscan.Kind // the token just before, when no blank or comment separates them
	after, gap := afterOther, 0
	for i := 0; i < len(query); {
		t, err := pgscan.Next(query, i)
		if err != nil {
			return phs, lexErrorOf(query, err)
		}
		switch t.Kind {
		case pgscan.Param:
			num := 0
			for _, d := range query[t.Start+1 : t.End] {
				if num > (math.MaxInt32-9)/10 {
					num = math.MaxInt32 // far beyond any argument list; reported as missing
					break
				}
				num = num*10 + int(d-'0')
			}
			phs = append(phs, placeholder{start: t.Start, end: t.End, num: num, after: after, gap: gap})
		case pgscan.Op:
			if query[t.Start] != '@' || t.End != t.Start+1 || t.End == len(query) ||
				prev == pgscan.Ident || prev == pgscan.Number || prev == pgscan.Param {
				break
			}
			name, err := pgscan.Next(query, t.End)
			if err != nil || name.Kind != pgscan.Ident {
				break // the error, if any, is the next token's
			}
			phs = append(phs, placeholder{start: t.Start, end: name.End, name: query[name.Start:name.End], after: after, gap: gap})
			t.End, t.Kind = name.End, pgscan.Ident
		}
		switch {
		case t.Kind == pgscan.Space || t.Kind == pgscan.Comment:
		case len(phs) > 0 && phs[len(phs)-1].end == t.End:
			after, gap = afterPlaceholder, t.End
		case t.Kind == pgscan.String:
			after, gap = afterString, t.End
		default:
			after = afterOther
		}
		i, prev = t.End, t.Kind
	}
	return phs, nil
}

// lexErrorOf turns the scanner's error into the driver's, in the driver's words.
func lexErrorOf(query string, err error) error {
	var se *pgscan.Error
	if !errors.As(err, &se) {
		return err
	}
	if se.Junk {
		j := se.Offset + 1
		for j < len(query) && pgscan.IsDigit(query[j]) {
			j++
		}
		return &lexError{fmt.Sprintf("trailing junk after placeholder %s", query[se.Offset:j]), se.Offset, true}
	}
	return &lexError{se.Msg, se.Offset, false}
}
