package bind

import (
	"database/sql/driver"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/gocarto/carto/internal/pgscan"
)

// Interpolate writes the arguments into the query as SQL literals, since CARTO's SQL API takes
// no bind parameters. It is the one place where values become SQL text, so it is strict:
//
//   - Positional arguments fill $1…$n, found by lexPlaceholders (never inside strings, quoted
//     identifiers, dollar quotes or comments). $01 is $1, as for PostgreSQL; $0 is an error.
//     Every placeholder needs an argument and every argument must be used, as in database/sql.
//   - Named arguments (sql.Named) fill @name, matched exactly (case-sensitively); then $n is an
//     error, and so is mixing named and positional arguments or naming one twice. Without named
//     arguments @name is left alone: it is the absolute-value operator applied to a column.
//   - Each literal is padded with a space on both sides, so it cannot join its neighbours into
//     another token: 1-$1 with -1 must not become the comment 1--1 (pgx GHSA-m7wr-2xf7-cm9p).
//     A literal with a ::cast is wrapped in parentheses (see literal.go).
//   - A literal that ends in a quote, followed in the query by whitespace, a newline and a
//     quote, gets an empty /**/ comment after it. Otherwise PostgreSQL would continue the
//     constant into the next string, and an E'...' constant would take that string's
//     backslashes as escapes, which the lexer did not; now $1<newline>'x' is the syntax error
//     it is with real bind parameters. Likewise a literal that starts with a quote gets /**/
//     before it when a string constant (of the query, or another argument's) comes before it
//     across such whitespace: 'a'<newline>$1 does not become 'a'<newline>'b', which is 'ab'.
//
// Without arguments the query is returned as it is, unless it has a $n placeholder.
func Interpolate(query string, args []driver.NamedValue) (string, error) {
	phs, lexErr := lexPlaceholders(query)
	if len(args) == 0 {
		for _, ph := range phs {
			if ph.name == "" {
				return "", fmt.Errorf("carto driver: placeholder %s has no argument: no arguments were given", query[ph.start:ph.end])
			}
		}
		// The server reports an unterminated string itself; $1a is about placeholders.
		if le := (*lexError)(nil); errors.As(lexErr, &le) && le.junk {
			return "", lexErr
		}
		return query, nil
	}
	if lexErr != nil {
		return "", lexErr
	}

	named := args[0].Name != ""
	byName := make(map[string]int, len(args))
	for i, a := range args {
		if (a.Name != "") != named {
			return "", fmt.Errorf("carto driver: arguments mix named (sql.Named) and positional ones (argument %d is %s)",
				i+1, describeArg(a, i))
		}
		if named {
			if _, dup := byName[a.Name]; dup {
				return "", fmt.Errorf("carto driver: named argument @%s is given twice", a.Name)
			}
			byName[a.Name] = i
		}
	}

	// Resolve every placeholder to an argument index before writing anything.
	targets := make([]int, 0, len(phs))
	used := make([]bool, len(args))
	for _, ph := range phs {
		text := query[ph.start:ph.end]
		idx := -1
		switch {
		case ph.name != "" && !named:
			// @name with positional arguments is PostgreSQL's @ operator.
		case ph.name != "":
			i, ok := byName[ph.name]
			if !ok {
				return "", fmt.Errorf("carto driver: placeholder %s has no argument (named arguments: %s); "+
					"write @ %s or abs(%s) for the absolute value", text, namesOf(args), ph.name, ph.name)
			}
			idx = i
		case named:
			return "", fmt.Errorf("carto driver: placeholder %s is positional but the arguments are named (sql.Named); write @name", text)
		case ph.num == 0:
			return "", fmt.Errorf("carto driver: placeholder %s: placeholders are numbered from $1", text)
		case ph.num > len(args):
			return "", fmt.Errorf("carto driver: placeholder %s has no argument (%d given)", text, len(args))
		default:
			idx = ph.num - 1
		}
		targets = append(targets, idx)
		if idx >= 0 {
			used[idx] = true
		}
	}
	for i, u := range used {
		if !u {
			if named {
				return "", fmt.Errorf("carto driver: named argument @%s is not used by the query", args[i].Name)
			}
			return "", fmt.Errorf("carto driver: argument $%d is not used by the query", i+1)
		}
	}

	literals := make([][]byte, len(args))
	typed := make([]bool, len(args))
	var out strings.Builder
	out.Grow(len(query) + 16*len(phs))
	last := 0
	prevQuote := false // the literal written for the previous placeholder ends in a quote
	for k, ph := range phs {
		idx := targets[k]
		if idx < 0 {
			prevQuote = false
			continue
		}
		if literals[idx] == nil {
			lit, t, err := appendLiteral(nil, args[idx].Value)
			if err != nil {
				return "", fmt.Errorf("carto driver: argument %s: %w", describeArg(args[idx], idx), err)
			}
			literals[idx], typed[idx] = lit, t
		}
		out.WriteString(query[last:ph.start])
		if lit := literals[idx]; lit[0] == '\'' && (ph.after == afterString || ph.after == afterPlaceholder && prevQuote) &&
			pgscan.Continuation(query[ph.gap:ph.start]+" '", 0) >= 0 {
			// 'a'<newline>$1 must stay two constants, a syntax error as with bind parameters.
			out.WriteString("/**/")
		}
		out.WriteByte(' ')
		prevQuote = false
		if typed[idx] {
			out.WriteByte('(')
			out.Write(literals[idx])
			out.WriteByte(')')
		} else {
			out.Write(literals[idx])
			lit := literals[idx]
			prevQuote = lit[len(lit)-1] == '\''
			if prevQuote && pgscan.Continuation(query, ph.end) >= 0 {
				out.WriteString("/**/")
			}
		}
		out.WriteByte(' ')
		last = ph.end
	}
	out.WriteString(query[last:])
	return out.String(), nil
}

// describeArg names the argument at index i as the query refers to it, $n or @name.
func describeArg(a driver.NamedValue, i int) string {
	if a.Name != "" {
		return "@" + a.Name
	}
	return "$" + strconv.Itoa(i+1)
}

func namesOf(args []driver.NamedValue) string {
	names := make([]string, len(args))
	for i, a := range args {
		names[i] = "@" + a.Name
	}
	slices.Sort(names)
	return strings.Join(names, ", ")
}
