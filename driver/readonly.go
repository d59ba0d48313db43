package driver

import "strings"

// readOnly reports whether q surely changes nothing, so that its request may be sent again
// after a 502, 503 or 504 (which leave unknown whether it ran). It is conservative: one
// statement, starting with SELECT, WITH, VALUES, TABLE, SHOW or EXPLAIN (without ANALYZE), with
// none of the words that write (INSERT, UPDATE, DELETE, INTO, FOR UPDATE, nextval, …), no call
// of a built-in function that locks or has side effects (nextval, pg_advisory_lock, lo_*,
// dblink*, …), bare or quoted, and nothing it cannot lex with certainty. It cannot see inside functions: a SELECT that calls a
// function which writes is taken as read-only.
func readOnly(q string) bool {
	first := ""
	for i := 0; i < len(q); {
		c := q[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f':
			i++
		case c == '-' && i+1 < len(q) && q[i+1] == '-':
			j := strings.IndexByte(q[i:], '\n')
			if j < 0 {
				return first != ""
			}
			i += j + 1
		case c == '/' && i+1 < len(q) && q[i+1] == '*':
			depth, j := 1, i+2
			for depth > 0 {
				if j+1 >= len(q) {
					return false
				}
				switch {
				case q[j] == '/' && q[j+1] == '*':
					depth++
					j += 2
				case q[j] == '*' && q[j+1] == '/':
					depth--
					j += 2
				default:
					j++
				}
			}
			i = j
		case c == '\'' || c == '"':
			// A backslash anywhere might be an E'' escape: give up rather than mis-lex.
			j := i + 1
			for {
				k := strings.IndexByte(q[j:], c)
				if k < 0 {
					return false
				}
				if strings.IndexByte(q[j:j+k], '\\') >= 0 {
					return false
				}
				j += k + 1
				if j < len(q) && q[j] == c { // doubled quote
					j++
					continue
				}
				break
			}
			// A quoted name is still a function call: "nextval"('s') calls nextval. Quoted
			// keywords ("insert" as a column) are only names, so only functions are checked.
			if c == '"' && sideEffectFunc(strings.ToLower(q[i+1:j-1])) {
				return false
			}
			i = j
		case c == '$':
			j := i + 1
			for j < len(q) && q[j] != '$' && isIdentByte(q[j]) && !(q[j] >= '0' && q[j] <= '9' && j == i+1) {
				j++
			}
			if j < len(q) && q[j] == '$' {
				tag := q[i : j+1]
				end := strings.Index(q[j+1:], tag)
				if end < 0 {
					return false
				}
				i = j + 1 + end + len(tag)
			} else {
				i = j // a $1 parameter or a $ inside a name
				for i < len(q) && q[i] >= '0' && q[i] <= '9' {
					i++
				}
			}
		case c == ';':
			// Only semicolons, blanks and comments may follow.
			return first != "" && onlyTrivia(q[i+1:])
		case isIdentByte(c) && !(c >= '0' && c <= '9'):
			j := i
			for j < len(q) && isIdentByte(q[j]) {
				j++
			}
			w := strings.ToLower(q[i:j])
			if first == "" {
				switch w {
				case "select", "with", "values", "table", "show", "explain":
					first = w
				default:
					return false
				}
			} else if writesWord(w) || first == "explain" && (w == "analyze" || w == "analyse") {
				return false
			}
			i = j
		default:
			if c >= 0x80 {
				// A non-ASCII identifier: skip it whole; it cannot be a keyword.
				j := i
				for j < len(q) && (q[j] >= 0x80 || isIdentByte(q[j])) {
					j++
				}
				i = j
				continue
			}
			i++
		}
	}
	return first != ""
}

func isIdentByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '$'
}

// writesWord lists words whose presence may mean the statement writes, locks or has effects
// outside the statement.
func writesWord(w string) bool {
	switch w {
	case "insert", "update", "delete", "merge", "truncate", "into", "create", "drop", "alter",
		"grant", "revoke", "copy", "call", "do", "lock", "for", "refresh", "vacuum", "analyze",
		"cluster", "reindex", "comment", "notify", "listen", "prepare", "execute", "set", "reset":
		return true
	}
	return sideEffectFunc(w)
}

// sideEffectFunc reports whether w (lower case) names a built-in function that writes, takes a
// lock or acts outside the statement. Whole families are matched by prefix (every lo_* large
// object and dblink* function, every advisory lock and unlock): a column that happens to share
// a prefix only costs the retry.
func sideEffectFunc(w string) bool {
	switch w {
	case "nextval", "setval", "set_config", "pg_terminate_backend", "pg_cancel_backend",
		"pg_reload_conf", "pg_rotate_logfile", "loread", "lowrite", "pg_notify", "txid_current",
		"pg_current_xact_id", "cdb_cartodbfytable", "cdb_cartodbfytabledefault", "cdb_invalidate",
		"cdb_tablemetadatatouch":
		return true
	}
	for _, p := range [...]string{"pg_advisory_", "pg_try_advisory_", "lo_", "dblink"} {
		if strings.HasPrefix(w, p) {
			return true
		}
	}
	return false
}

// onlyTrivia reports whether s holds nothing but blanks, semicolons and comments.
func onlyTrivia(s string) bool {
	for i := 0; i < len(s); {
		switch c := s[i]; {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == ';':
			i++
		case c == '-' && i+1 < len(s) && s[i+1] == '-':
			j := strings.IndexByte(s[i:], '\n')
			if j < 0 {
				return true
			}
			i += j + 1
		case c == '/' && i+1 < len(s) && s[i+1] == '*':
			// Nested comments are rare after the last statement; refuse rather than count.
			j := strings.Index(s[i+2:], "*/")
			if j < 0 || strings.Contains(s[i+2:i+2+j], "/*") {
				return false
			}
			i += j + 4
		default:
			return false
		}
	}
	return true
}
