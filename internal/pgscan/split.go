package pgscan

import "strings"

// Statement is one top-level statement of a text: text[Start:End] runs from its first token up
// to and including the semicolon that ends it, or to the end of the text for a last statement
// without one.
type Statement struct {
	Start, End int
}

// Split returns the top-level statements of text, divided as PostgreSQL's parser divides a
// simple-query string: a semicolon ends a statement, except inside a string constant, quoted
// identifier, dollar-quoted body or comment, inside parentheses (CREATE RULE ... DO (a; b)), and
// inside the body of an SQL-standard function (BEGIN ATOMIC ... END, in which CASE ... END
// nests). Statements that hold only blanks and comments are left out.
//
// The error reports text that does not split into tokens (see Next), or that ends inside
// parentheses or a BEGIN ATOMIC body: every offset after such a point would be a guess.
func Split(text string) ([]Statement, error) {
	var (
		stmts  []Statement
		start  = -1 // the current statement's first token, -1 before it
		depth  int  // parentheses
		atomic int  // BEGIN ATOMIC ... END, CASE ... END inside it counted too
		prev   string
	)
	for i := 0; i < len(text); {
		t, err := Next(text, i)
		if err != nil {
			return nil, err
		}
		i = t.End
		if t.Kind == Space || t.Kind == Comment {
			continue
		}
		if t.Kind == Punct && text[t.Start] == ';' && depth == 0 && atomic == 0 {
			if start >= 0 {
				stmts = append(stmts, Statement{start, t.End})
			}
			start, prev = -1, ""
			continue
		}
		if start < 0 {
			start = t.Start
		}
		word := ""
		switch {
		case t.Kind == Punct && text[t.Start] == '(':
			depth++
		case t.Kind == Punct && text[t.Start] == ')':
			if depth > 0 {
				depth--
			}
		case t.Kind == Ident:
			word = strings.ToUpper(text[t.Start:t.End])
			switch {
			case word == "ATOMIC" && prev == "BEGIN" && atomic == 0:
				atomic = 1
			case atomic > 0 && word == "CASE":
				atomic++
			case atomic > 0 && word == "END":
				atomic--
			}
		}
		prev = word
	}
	if depth != 0 || atomic != 0 {
		what := "parentheses"
		if atomic != 0 {
			what = "a BEGIN ATOMIC body"
		}
		return nil, &Error{Msg: "the text ends inside " + what, Offset: start}
	}
	if start >= 0 {
		stmts = append(stmts, Statement{start, len(text)})
	}
	return stmts, nil
}
