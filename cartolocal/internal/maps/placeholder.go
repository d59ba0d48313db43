package maps

import (
	"fmt"
	"regexp"
	"strings"
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
func checkValue(name, typ, v string) *wsError {
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

// substituteSQL replaces the placeholders of a template's SQL with values, each written so it
// stays one token of the context it lands in: Windshaft doubles ' for sql_literal and " for
// sql_ident, which is safe inside '...' and "..." only. Here the context is known (sqlScanner),
// so a literal outside quotes becomes a whole quoted literal, an identifier a quoted identifier,
// a number is padded with spaces (1-<%= n %> with -1 must not become a -- comment), and values
// that could end a dollar quote or a comment are refused. vals holds checked values by name;
// names not in vals are left as they are.
func substituteSQL(sql string, types, vals map[string]string) (string, *wsError) {
	var out strings.Builder
	var sc sqlScanner
	last := 0
	for _, m := range placeholderRE.FindAllStringSubmatchIndex(sql, -1) {
		name := sql[m[2]:m[3]]
		v, ok := vals[name]
		if !ok {
			continue
		}
		text := sql[last:m[0]]
		sc.feed(text)
		out.WriteString(text)
		rep, err := inContext(sc.state, sc.tag, name, types[name], v)
		if err != nil {
			return "", err
		}
		out.WriteString(rep)
		if sc.state == stNormal {
			sc.prev = ' ' // what was written ends in a space, whatever the template had
		}
		last = m[1]
	}
	rest := sql[last:]
	sc.feed(rest)
	out.WriteString(rest)
	return out.String(), nil
}

// inContext writes value v of placeholder name (of type typ) for SQL state st.
func inContext(st sqlState, tag, name, typ, v string) (string, *wsError) {
	refuse := func(why string) (string, *wsError) {
		return "", errorf(400, fmt.Sprintf("Invalid %s value for template parameter '%s': %s", typ, name, why))
	}
	if typ == phNumber || typ == phCSSColor {
		// Checked already: digits, sign, dot, e / letters, '#'. Inert in every context but
		// next to other tokens, which the padding keeps apart.
		if st == stNormal {
			return " " + v + " ", nil
		}
		return v, nil
	}
	switch st {
	case stNormal:
		if typ == phSQLIdent {
			return " " + quoteIdent(v) + " ", nil
		}
		return " " + quoteLiteral(v) + " ", nil
	case stString:
		// standard_conforming_strings is forced on for every Maps query, so only ' is special.
		return strings.ReplaceAll(v, "'", "''"), nil
	case stEString, stUString:
		return strings.ReplaceAll(strings.ReplaceAll(v, `\`, `\\`), "'", "''"), nil
	case stIdent:
		return strings.ReplaceAll(v, `"`, `""`), nil
	case stDollar:
		if strings.Contains(v, "$") {
			return refuse(fmt.Sprintf("'$' cannot appear inside the dollar-quoted string %s", tag))
		}
		return v, nil
	case stLineComment:
		if strings.ContainsAny(v, "\r\n") {
			return refuse("a line break cannot appear inside a comment")
		}
		return v, nil
	case stBlockComment:
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
