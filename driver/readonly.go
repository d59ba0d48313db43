package driver

import (
	"strings"

	"github.com/gocarto/carto/internal/pgscan"
)

// readOnly reports whether q surely changes nothing, so that its request may be sent again
// after a 502, 503 or 504 (which leave unknown whether it ran). It is conservative: one
// statement, starting with SELECT, WITH, VALUES, TABLE, SHOW or EXPLAIN (without ANALYZE), with
// none of the words that write (INSERT, UPDATE, DELETE, INTO, FOR UPDATE, nextval, …), no call
// of a built-in function that locks or has side effects (nextval, pg_advisory_lock, lo_*,
// dblink*, …), bare or quoted, and text that internal/pgscan splits into tokens (E'...' escapes
// and continuations included). It cannot see inside functions: a SELECT that calls a function
// which writes is taken as read-only.
func readOnly(q string) bool {
	first := ""
	for i := 0; i < len(q); {
		t, err := pgscan.Next(q, i)
		if err != nil {
			return false
		}
		i = t.End
		switch text := q[t.Start:t.End]; t.Kind {
		case pgscan.Punct:
			if text == ";" {
				// Only semicolons, blanks and comments may follow.
				return first != "" && onlyTrivia(q[i:])
			}
		case pgscan.QuotedIdent:
			// A quoted name is still a function call: "nextval"('s') calls nextval. Quoted
			// keywords ("insert" as a column) are only names, so only functions are checked.
			// U&"..." may spell a name in escapes: refuse it rather than decode it.
			if text[0] != '"' || sideEffectFunc(strings.ToLower(strings.ReplaceAll(text[1:len(text)-1], `""`, `"`))) {
				return false
			}
		case pgscan.Ident:
			w := strings.ToLower(text)
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
		}
		if first == "" && t.Kind != pgscan.Space && t.Kind != pgscan.Comment && t.Kind != pgscan.Ident &&
			q[t.Start:t.End] != "(" { // (SELECT 1) UNION (SELECT 2)
			return false
		}
	}
	return first != ""
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
		t, err := pgscan.Next(s, i)
		if err != nil || t.Kind != pgscan.Space && t.Kind != pgscan.Comment && s[t.Start:t.End] != ";" {
			return false
		}
		i = t.End
	}
	return true
}
