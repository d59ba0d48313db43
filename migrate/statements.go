package migrate

import (
	"fmt"
	"strings"
)

// statement is one top-level SQL statement of a migration.
type statement struct {
	Start int    // byte offset of its first token in the migration
	Line  int    // 1-based line of that token
	Text  string // from its first token up to and including its terminating semicolon, if any
}

// splitStatements finds the top-level statements of sql the way PostgreSQL's own scanner would
// split a simple-query string: semicolons inside string literals ('...', E'...'), quoted
// identifiers, dollar-quoted bodies, comments (-- and nested /* */), parentheses (CREATE RULE) and
// SQL-standard function bodies (BEGIN ATOMIC ... END) do not end a statement. Statements that are
// only comments and blanks are left out.
//
// ok is false when the text ends inside a literal, comment or body; the caller must then treat the
// migration as one opaque statement, because every offset after that point would be a guess.
func splitStatements(sql string) (stmts []statement, ok bool) {
	var (
		start      = -1 // offset of the current statement's first token, -1 before it
		depth      int  // parentheses
		atomic     int  // nesting inside BEGIN ATOMIC ... END (CASE ... END counts too)
		prevWord   string
		line       = 1
		startLine  int
		i          int
		n          = len(sql)
		beginToken = func() {
			if start < 0 {
				start, startLine = i, line
			}
		}
	)
	endStatement := func(end int) {
		if start >= 0 {
			stmts = append(stmts, statement{Start: start, Line: startLine, Text: sql[start:end]})
		}
		start, prevWord = -1, ""
	}
	for i < n {
		c := sql[i]
		switch {
		case c == '\n':
			line++
			i++
		case c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v':
			i++
		case c == '-' && i+1 < n && sql[i+1] == '-':
			for i < n && sql[i] != '\n' {
				i++
			}
		case c == '/' && i+1 < n && sql[i+1] == '*':
			level := 0
			for {
				if i+1 >= n {
					return nil, false
				}
				switch {
				case sql[i] == '/' && sql[i+1] == '*':
					level++
					i += 2
				case sql[i] == '*' && sql[i+1] == '/':
					level--
					i += 2
				default:
					if sql[i] == '\n' {
						line++
					}
					i++
				}
				if level == 0 {
					break
				}
			}
		case c == '\'':
			beginToken()
			backslash := i > 0 && (sql[i-1] == 'E' || sql[i-1] == 'e') && (i < 2 || !isIdentChar(sql[i-2]))
			end, nl, found := scanQuoted(sql, i, '\'', backslash)
			if !found {
				return nil, false
			}
			line += nl
			i = end
			prevWord = ""
		case c == '"':
			beginToken()
			end, nl, found := scanQuoted(sql, i, '"', false)
			if !found {
				return nil, false
			}
			line += nl
			i = end
			prevWord = ""
		case c == '$' && (i == 0 || !isIdentChar(sql[i-1])):
			beginToken()
			tag, isTag := dollarTag(sql[i:])
			if !isTag {
				i++ // a $1 parameter or a lone dollar
				continue
			}
			close := strings.Index(sql[i+len(tag):], tag)
			if close < 0 {
				return nil, false
			}
			end := i + len(tag) + close + len(tag)
			line += strings.Count(sql[i:end], "\n")
			i = end
			prevWord = ""
		case c == '(':
			beginToken()
			depth++
			i++
		case c == ')':
			beginToken()
			if depth > 0 {
				depth--
			}
			i++
		case c == ';':
			if depth == 0 && atomic == 0 {
				endStatement(i + 1)
			} else {
				beginToken()
			}
			i++
		case isIdentStart(c):
			beginToken()
			j := i
			for j < n && isIdentChar(sql[j]) {
				j++
			}
			word := strings.ToUpper(sql[i:j])
			switch {
			case word == "ATOMIC" && prevWord == "BEGIN" && atomic == 0:
				atomic = 1
			case atomic > 0 && word == "CASE":
				atomic++
			case atomic > 0 && word == "END":
				atomic--
			}
			prevWord = word
			i = j
		default:
			beginToken()
			i++
		}
	}
	if depth != 0 || atomic != 0 {
		return nil, false
	}
	endStatement(n)
	return stmts, true
}

// scanQuoted returns the offset just past the literal or identifier opened at sql[i] by q. A
// doubled q stands for itself; with backslash set (E'...'), a backslash escapes the next byte.
func scanQuoted(sql string, i int, q byte, backslash bool) (end, newlines int, ok bool) {
	for j := i + 1; j < len(sql); j++ {
		switch sql[j] {
		case '\n':
			newlines++
		case '\\':
			if backslash {
				if j+1 < len(sql) && sql[j+1] == '\n' {
					newlines++
				}
				j++
			}
		case q:
			if j+1 < len(sql) && sql[j+1] == q {
				j++
				continue
			}
			return j + 1, newlines, true
		}
	}
	return 0, 0, false
}

// dollarTag returns the opening tag ($$ or $name$) at the start of s, if there is one.
func dollarTag(s string) (string, bool) {
	if len(s) < 2 || s[0] != '$' {
		return "", false
	}
	if s[1] == '$' {
		return "$$", true
	}
	if !isIdentStart(s[1]) {
		return "", false
	}
	for j := 2; j < len(s); j++ {
		switch {
		case s[j] == '$':
			return s[:j+1], true
		case !isIdentChar(s[j]):
			return "", false
		}
	}
	return "", false
}

// isIdentStart reports whether c may start an unquoted identifier or keyword. Bytes of multi-byte
// UTF-8 characters count as letters, as in PostgreSQL's scanner.
func isIdentStart(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || c >= 0x80
}

// isIdentChar reports whether c may continue an unquoted identifier.
func isIdentChar(c byte) bool {
	return isIdentStart(c) || c >= '0' && c <= '9' || c == '$'
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
		c := text[i]
		switch {
		case c == '-' && i+1 < len(text) && text[i+1] == '-':
			for i < len(text) && text[i] != '\n' {
				i++
			}
		case c == '/' && i+1 < len(text) && text[i+1] == '*':
			end := strings.Index(text[i+2:], "*/")
			if end < 0 {
				return "", ""
			}
			i += end + 4
		case isIdentStart(c):
			j := i
			for j < len(text) && isIdentChar(text[j]) {
				j++
			}
			words = append(words, strings.ToUpper(text[i:j]))
			i = j
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v':
			i++
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
