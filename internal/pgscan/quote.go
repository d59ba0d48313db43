package pgscan

import "strings"

// QuoteIdent quotes s as a PostgreSQL identifier: "a""b". PostgreSQL refuses a NUL byte in it.
func QuoteIdent(s string) string {
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}

// QuoteLiteral writes s as a string constant that means s whatever standard_conforming_strings
// is: '...' with quotes doubled, or, when s holds a backslash, E'...' with backslashes doubled
// too (a plain '\' means a backslash only with standard_conforming_strings on). PostgreSQL
// refuses a NUL byte and invalid UTF-8 in it; callers that take arbitrary strings check first.
func QuoteLiteral(s string) string { return string(AppendLiteral(nil, s)) }

// AppendLiteral appends QuoteLiteral(s) to b.
func AppendLiteral(b []byte, s string) []byte {
	if strings.IndexByte(s, '\\') >= 0 {
		b = append(b, 'E')
	}
	b = append(b, '\'')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\'':
			b = append(b, '\'', '\'')
		case '\\':
			b = append(b, '\\', '\\')
		default:
			b = append(b, c)
		}
	}
	return append(b, '\'')
}
