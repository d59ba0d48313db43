package migrate

import (
	"fmt"
	"strings"

	"github.com/gocarto/carto/internal/pgscan"
)

// statement is one top-level SQL statement of a migration.
type statement struct {
	Start int    // byte offset of its first token in the migration
	Line  int    // 1-based line of that token
	Text  string // from its first token up to and including its terminating semicolon, if any
}

// splitStatements finds the top-level statements of sql with internal/pgscan's Split, the way
// PostgreSQL's own scanner and parser divide a simple-query string: semicolons inside string
// constants (E” continuations included), quoted identifiers, dollar-quoted bodies, comments,
// parentheses (CREATE RULE) and SQL-standard function bodies (BEGIN ATOMIC ... END) do not end a
// statement. Statements that are only comments and blanks are left out.
//
// ok is false when the text ends inside a literal, comment or body; the caller must then treat the
// migration as one opaque statement, because every offset after that point would be a guess.
func splitStatements(sql string) (stmts []statement, ok bool) {
	split, err := pgscan.Split(sql)
	if err != nil {
		return nil, false
	}
	line, at := 1, 0
	for _, s := range split {
		line += strings.Count(sql[at:s.Start], "\n")
		at = s.Start
		stmts = append(stmts, statement{Start: s.Start, Line: line, Text: sql[s.Start:s.End]})
	}
	return stmts, true
}

// checkTransactionControl refuses a migration that would end its transaction before its last
// statement. The job's first statements take the advisory lock and check the version in the same
// transaction as the migration; a COMMIT in the middle would release the lock and commit half the
// migration, and a ROLLBACK would undo it while the job still reported success. A leading BEGIN
// (or START TRANSACTION) and a trailing COMMIT (or END) are fine: PostgreSQL folds them into the
// one transaction the job already is.
func checkTransactionControl(stmts []statement) error {
	for i, s := range stmts {
		w1, w2 := firstWords(s.Text)
		last := i == len(stmts)-1
		bad := ""
		switch {
		case w1 == "BEGIN" || w1 == "START" && w2 == "TRANSACTION":
			if i > 0 {
				bad = "starts a transaction after the migration began"
			}
		case w1 == "COMMIT" && w2 == "PREPARED", w1 == "PREPARE" && w2 == "TRANSACTION", w1 == "ROLLBACK" && w2 == "PREPARED":
			bad = "uses two-phase commit"
		case w1 == "COMMIT" || w1 == "END":
			if !last {
				bad = "commits before the migration ends"
			}
		case (w1 == "ROLLBACK" || w1 == "ABORT") && w2 != "TO":
			bad = "rolls the migration back, yet its job would succeed"
		}
		if bad != "" {
			return fmt.Errorf("statement %d at line %d (%s) %s; cartomigrate runs each migration as one transaction, which may only begin with BEGIN and end with COMMIT",
				i+1, s.Line, shorten(s.Text, 60), bad)
		}
	}
	return nil
}

// firstWords returns the first two words of a statement, upper-cased; a statement's text starts
// at its first token, but comments may sit between the words.
func firstWords(text string) (string, string) {
	var words []string
	for i := 0; i < len(text) && len(words) < 2; {
		t, err := pgscan.Next(text, i)
		if err != nil {
			break
		}
		i = t.End
		switch t.Kind {
		case pgscan.Space, pgscan.Comment:
		case pgscan.Ident:
			words = append(words, strings.ToUpper(text[t.Start:t.End]))
		default:
			return pad2(words)
		}
	}
	return pad2(words)
}

func pad2(w []string) (string, string) {
	for len(w) < 2 {
		w = append(w, "")
	}
	return w[0], w[1]
}
