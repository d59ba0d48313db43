package maptemplate

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/gocarto/carto/internal/pgscan"
)

// Placeholder types of a named map.
const (
	phNumber     = "number"
	phCSSColor   = "css_color"
	phSQLLiteral = "sql_literal"
	phSQLIdent   = "sql_ident"
)

// placeholderRE finds <%= name %> in a template's sql and cartocss, as Windshaft's does.
var placeholderRE = regexp.MustCompile(`<%=\s*([a-zA-Z][0-9a-zA-Z_]*)\s*%>`)

// Windshaft's checks of number and css_color values (lib/backends/template-maps.js).
var (
	numberRE = regexp.MustCompile(`^([-+]?[\d\.]?\d+([eE][+-]?\d+)?)$`)
	colorRE  = regexp.MustCompile(`^([a-zA-Z]+|#[0-9a-fA-F]{3,6})$`)
)

// checkValue checks a value against its placeholder type with Windshaft's messages.
func checkValue(name, typ, v string) *Error {
	switch typ {
	case phNumber:
		if !numberRE.MatchString(v) {
			return errorf(400, fmt.Sprintf("Invalid number value for template parameter '%s': %s", name, v))
		}
	case phCSSColor:
		if !colorRE.MatchString(v) {
			return errorf(400, fmt.Sprintf("Invalid css_color value for template parameter '%s': %s", name, v))
		}
	case phSQLLiteral, phSQLIdent:
		if strings.ContainsRune(v, 0) {
			return errorf(400, fmt.Sprintf("Invalid %s value for template parameter '%s': it contains a NUL character", typ, name))
		}
	default:
		return errorf(400, fmt.Sprintf("Invalid placeholder type '%s'", typ))
	}
	return nil
}

// sqlContext is where a placeholder sits in a template's SQL, lexically: it decides how a value
// is written so that it stays inside that place.
type sqlContext int

const (
	ctxNormal       sqlContext = iota // outside any string, identifier or comment
	ctxString                         // '...' or N'...' (and their continuations): '' is a quote
	ctxEscapeString                   // E'...' or U&'...': a backslash escapes too
	ctxBitString                      // B'...' or X'...': a quote always ends it
	ctxQuotedIdent                    // "...": "" is a quote
	ctxUnicodeIdent                   // U&"...": a backslash escapes too
	ctxDollar                         // $tag$...$tag$
	ctxLineComment                    // -- to the end of the line
	ctxBlockComment                   // /* ... */
)

// marker stands for a placeholder while the template is scanned: two bytes PostgreSQL's scanner
// (and pgscan) read as letters, which change no construct they sit in.
const marker = "\x80\x80"

// substituteSQL replaces the placeholders of a template's SQL with values, each written so it
// stays one token of the place it lands in. Windshaft doubles ' for sql_literal and " for
// sql_ident, which is safe inside '...' and "..." only; here the place is known (the one scanner,
// internal/pgscan, reads the template with each placeholder as a marker), so:
//   - inside a string or quoted identifier the value is escaped as that kind of token needs (E”
//     and U&” double backslashes too; B” and X” take no quote);
//   - outside, a literal becomes a whole quoted literal (fenced by /**/ so PostgreSQL cannot
//     continue a neighbouring string constant into it), an identifier a quoted identifier, and a
//     number is padded with spaces (1-<%= n %> with -1 must not become a -- comment);
//   - values that could end a dollar quote or a comment are refused.
//
// The result is scanned again and must have the same tokens, kind for kind, as the template with
// its values in place: a value that changed the SQL's structure is refused, whatever the quoting
// above says. vals holds checked values by name; names not in vals are left as they are.
func substituteSQL(sql string, types, vals map[string]string) (string, *Error) {
	type hole struct {
		start, end int // of the placeholder in sql
		name       string
		mstart     int // of its marker in the marked text
	}
	var holes []hole
	var marked strings.Builder
	last := 0
	for _, m := range placeholderRE.FindAllStringSubmatchIndex(sql, -1) {
		name := sql[m[2]:m[3]]
		if _, ok := vals[name]; !ok {
			continue
		}
		marked.WriteString(sql[last:m[0]])
		holes = append(holes, hole{m[0], m[1], name, marked.Len()})
		marked.WriteString(marker)
		last = m[1]
	}
	if len(holes) == 0 {
		return sql, nil
	}
	marked.WriteString(sql[last:])
	mtext := marked.String()
	mtoks, err := scanAll(mtext)
	if err != nil {
		return "", errorf(400, "Invalid SQL in template: "+err.Error())
	}
	// Each placeholder's context is the token holding its marker.
	ctxs := make([]sqlContext, len(holes))
	tags := make([]string, len(holes))
	k := 0
	for i, h := range holes {
		for k < len(mtoks) && mtoks[k].End <= h.mstart {
			k++
		}
		if k == len(mtoks) || mtoks[k].End < h.mstart+len(marker) {
			return "", errorf(400, fmt.Sprintf("Invalid template: placeholder '%s' straddles two SQL tokens", h.name))
		}
		ctxs[i], tags[i] = contextOf(mtext, mtoks[k])
	}

	// The output, and the shape it must have: the template with each value's token in place.
	var out, shape strings.Builder
	last = 0
	for i, h := range holes {
		out.WriteString(sql[last:h.start])
		shape.WriteString(sql[last:h.start])
		typ, v := types[h.name], vals[h.name]
		rep, err := inContext(ctxs[i], tags[i], h.name, typ, v)
		if err != nil {
			return "", err
		}
		out.WriteString(rep)
		switch {
		case ctxs[i] != ctxNormal:
			shape.WriteString(marker)
		case typ == phSQLLiteral:
			shape.WriteString(" /**/'x'/**/ ")
		case typ == phSQLIdent:
			shape.WriteString(` "x" `)
		default:
			shape.WriteString(rep) // checked numbers and colors: they are their own shape
		}
		last = h.end
	}
	out.WriteString(sql[last:])
	shape.WriteString(sql[last:])
	result := out.String()
	want, err1 := scanAll(shape.String())
	got, err2 := scanAll(result)
	if err1 != nil || err2 != nil || !sameKinds(want, got) {
		return "", errorf(400, "Invalid template parameters: a value changes the structure of the template's SQL")
	}
	return result, nil
}

// scanAll splits text into pgscan tokens.
func scanAll(text string) ([]pgscan.Token, error) {
	var toks []pgscan.Token
	for i := 0; i < len(text); {
		t, err := pgscan.Next(text, i)
		if err != nil {
			return nil, err
		}
		toks = append(toks, t)
		i = t.End
	}
	return toks, nil
}

func sameKinds(a, b []pgscan.Token) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Kind != b[i].Kind {
			return false
		}
	}
	return true
}

// contextOf tells a token's context, and a dollar quote's tag.
func contextOf(text string, t pgscan.Token) (sqlContext, string) {
	s := text[t.Start:t.End]
	switch t.Kind {
	case pgscan.String:
		switch s[0] | 0x20 {
		case 'e':
			return ctxEscapeString, ""
		case 'u':
			return ctxEscapeString, ""
		case 'b', 'x':
			return ctxBitString, ""
		}
		return ctxString, ""
	case pgscan.QuotedIdent:
		if s[0] != '"' {
			return ctxUnicodeIdent, ""
		}
		return ctxQuotedIdent, ""
	case pgscan.Dollar:
		return ctxDollar, s[:strings.IndexByte(s[1:], '$')+2]
	case pgscan.Comment:
		if strings.HasPrefix(s, "--") {
			return ctxLineComment, ""
		}
		return ctxBlockComment, ""
	}
	return ctxNormal, ""
}

// inContext writes value v of placeholder name (of type typ) for context c.
func inContext(c sqlContext, tag, name, typ, v string) (string, *Error) {
	refuse := func(why string) (string, *Error) {
		return "", errorf(400, fmt.Sprintf("Invalid %s value for template parameter '%s': %s", typ, name, why))
	}
	if typ == phNumber || typ == phCSSColor {
		// Checked already: digits, sign, dot, e / letters and '#'. Inert in every context but
		// next to other tokens, which the padding keeps apart.
		if c == ctxNormal {
			return " " + v + " ", nil
		}
		if c == ctxBitString && strings.ContainsAny(v, "'\\") {
			return refuse("it cannot appear inside a bit string")
		}
		return v, nil
	}
	switch c {
	case ctxNormal:
		if typ == phSQLIdent {
			return " " + pgscan.QuoteIdent(v) + " ", nil
		}
		return " /**/" + pgscan.QuoteLiteral(v) + "/**/ ", nil
	case ctxString:
		// standard_conforming_strings is forced on for every query of a named map, so only '
		// is special here.
		return strings.ReplaceAll(v, "'", "''"), nil
	case ctxEscapeString:
		return strings.ReplaceAll(strings.ReplaceAll(v, `\`, `\\`), "'", "''"), nil
	case ctxBitString:
		if strings.ContainsAny(v, "'\\") {
			return refuse("it cannot appear inside a bit string")
		}
		return v, nil
	case ctxQuotedIdent:
		return strings.ReplaceAll(v, `"`, `""`), nil
	case ctxUnicodeIdent:
		return strings.ReplaceAll(strings.ReplaceAll(v, `\`, `\\`), `"`, `""`), nil
	case ctxDollar:
		if strings.Contains(v, "$") {
			return refuse(fmt.Sprintf("'$' cannot appear inside the dollar-quoted string %s", tag))
		}
		return v, nil
	case ctxLineComment:
		if strings.ContainsAny(v, "\r\n") {
			return refuse("a line break cannot appear inside a comment")
		}
		return v, nil
	case ctxBlockComment:
		if strings.ContainsAny(v, "*/") {
			return refuse("'*' and '/' cannot appear inside a comment")
		}
		return v, nil
	}
	return refuse("unknown SQL context")
}

// substituteCSS replaces placeholders in CartoCSS as Windshaft does: values checked, sql_literal
// with ' doubled and sql_ident with " doubled. CartoCSS is returned in the metadata, never run.
func substituteCSS(css string, types, vals map[string]string) string {
	return placeholderRE.ReplaceAllStringFunc(css, func(m string) string {
		name := placeholderRE.FindStringSubmatch(m)[1]
		v, ok := vals[name]
		if !ok {
			return m
		}
		switch types[name] {
		case phSQLLiteral:
			return strings.ReplaceAll(v, "'", "''")
		case phSQLIdent:
			return strings.ReplaceAll(v, `"`, `""`)
		}
		return v
	})
}
