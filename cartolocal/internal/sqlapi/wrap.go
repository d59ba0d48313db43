package sqlapi

import (
	"math"
	"regexp"
	"strings"
	"unicode/utf8"
)

// jsSpaceClass is JavaScript's \s as an RE2 class (RE2's \s is ASCII only).
const jsSpaceClass = `[\t\n\v\f\r \x{00A0}\x{1680}\x{2000}-\x{200A}\x{2028}\x{2029}\x{202F}\x{205F}\x{3000}\x{FEFF}]`

var (
	selectRE = regexp.MustCompile(`(?i)^` + jsSpaceClass + `*SELECT` + jsSpaceClass)
	intoRE   = regexp.MustCompile(`(?i)` + jsSpaceClass + `INTO` + jsSpaceClass + `+([^\t\n\v\f\r \x{00A0}\x{1680}\x{2000}-\x{200A}\x{2028}\x{2029}\x{202F}\x{205F}\x{3000}\x{FEFF}]+|"([^"]|"")*")` + jsSpaceClass + `*$`)
	withRE   = regexp.MustCompile(`(?i)^` + jsSpaceClass + `*WITH` + jsSpaceClass)
)

// stripTrailingSemicolon removes one trailing ";" and the white space after it (/;\s*$/).
func stripTrailingSemicolon(sql string) string {
	t := strings.TrimRightFunc(sql, isJSSpace)
	if strings.HasSuffix(t, ";") {
		return t[:len(t)-1]
	}
	return sql
}

// wrapQuery is cartodb-psql's QueryWrapper: the trailing ";" goes, and when order_by or a page
// was asked for, a SELECT becomes SELECT * FROM (q) AS cdbq_1 ORDER BY "col" DIR LIMIT n OFFSET m,
// a leading WITH kept in front. Other statements pass unchanged, as on CARTO.
func wrapQuery(sql, orderBy, sortOrder string, limit, offset float64) string {
	sql = stripTrailingSemicolon(sql)
	var order, window string
	if orderBy != "" {
		order = ` ORDER BY "` + orderBy + `"`
		if so := strings.ToUpper(sortOrder); so == "ASC" || so == "DESC" {
			order += " " + so
		}
	}
	if !math.IsNaN(limit) && !math.IsNaN(offset) {
		window = " LIMIT " + formatD(limit) + " OFFSET " + formatD(offset)
	}
	if order == "" && window == "" {
		return sql
	}
	sql = stripLineComments(sql)
	cte := ""
	if withRE.MatchString(sql) {
		var ok bool
		cte, sql, ok = splitCTE(sql)
		if !ok {
			return cte + sql
		}
	}
	if selectRE.MatchString(sql) && !intoRE.MatchString(sql) {
		return cte + "SELECT * FROM (" + sql + ") AS cdbq_1" + order + window
	}
	return cte + sql
}

// formatD is Node's util.format("%d", n) for the numbers parseInt gives.
func formatD(f float64) string {
	if f == 0 {
		if math.Signbit(f) {
			return "-0"
		}
		return "0"
	}
	return string(appendJSFloatPlain(nil, f))
}

// stripLineComments is .replace(/--.*(\n|$)/g, ' '): a "--" up to and including the next \n (or the
// end) becomes a space. Like CARTO it knows nothing of string literals. A comment ended by \r, U+2028
// or U+2029 alone does not match, as "." stops there and (\n|$) fails.
func stripLineComments(s string) string {
	if !strings.Contains(s, "--") {
		return s
	}
	var sb strings.Builder
	i := 0
	for i < len(s) {
		if i+1 < len(s) && s[i] == '-' && s[i+1] == '-' {
			j := i + 2
			for j < len(s) {
				r, size := utf8.DecodeRuneInString(s[j:])
				if r == '\n' || r == '\r' || r == 0x2028 || r == 0x2029 {
					break
				}
				j += size
			}
			if j == len(s) {
				sb.WriteByte(' ')
				return sb.String()
			}
			if s[j] == '\n' {
				sb.WriteByte(' ')
				i = j + 1
				continue
			}
		}
		sb.WriteByte(s[i])
		i++
	}
	return sb.String()
}

// splitCTE is QueryWrapper's scan for the end of the WITH clauses: it follows parentheses and
// quotes up to the close of the first CTE body, and on while a "," follows directly. ok is false when
// the text ends first (CARTO then runs the query unwrapped).
func splitCTE(sql string) (cte, rem string, ok bool) {
	rem = sql
	n := 0 // parenthesis depth
	quoted := false
	var q byte
	for {
		l := strings.IndexAny(rem, `("')`)
		if l < 0 {
			return "", sql, false
		}
		f := rem[l]
		if !quoted {
			switch f {
			case '(':
				n++
			case ')':
				n--
				if n == 0 {
					cte += rem[:l+1]
					rem = rem[l+1:]
					if !startsWithSComma(rem) {
						return cte, rem, true
					}
					continue
				}
			default:
				quoted = true
				q = f
			}
		} else if f == q {
			if l+1 < len(rem) && rem[l+1] == f {
				l++
			} else {
				quoted = false
			}
		}
		cte += rem[:l+1]
		rem = rem[l+1:]
	}
}

// startsWithSComma is CARTO's /^s*,/ (sic: "s", not "\s").
func startsWithSComma(s string) bool {
	s = strings.TrimLeft(s, "s")
	return strings.HasPrefix(s, ",")
}
