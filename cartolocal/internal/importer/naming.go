package importer

import (
	"strconv"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// MaxIdentifier is PostgreSQL's identifier length, which CARTO's names respect.
const MaxIdentifier = 63

// DefaultTableName is the name of a table whose source gives none.
const DefaultTableName = "untitled_table"

// reservedWords are PostgreSQL's reserved key words (Carto::DB::Sanitize::RESERVED_WORDS).
var reservedWords = words(`all analyse analyze and any array as asc asymmetric authorization binary both
case cast check collate collation column concurrently constraint create cross
current_catalog current_date current_role current_schema current_time
current_timestamp current_user default deferrable desc distinct do else end
except false fetch for foreign freeze from full grant group having ilike in
initially inner intersect into is isnull join lateral leading left like limit
localtime localtimestamp natural not notnull null offset on only or order outer
overlaps placing primary references returning right select session_user similar
some symmetric table tablesample then to trailing true union unique user using
variadic verbose when where window with`)

// systemTableNames and reservedTableNames are taken in every account; additionalWords CARTO
// also refuses as names.
var (
	systemTableNames   = words("spatial_ref_sys geography_columns geometry_columns raster_columns raster_overviews cdb_tablemetadata geometry raster")
	reservedTableNames = words("layergroup all public")
	additionalWords    = words("between new off old format controller action")
	systemColumnNames  = words("tableoid xmin cmin xmax cmax ctid")
)

func words(s string) map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(s) {
		m[w] = true
	}
	return m
}

// SanitizeTableName turns a proposed name into a table name as CARTO does
// (Carto::DB::Sanitize.sanitize_identifier): lower case, trimmed, "table_" before a first
// character that is not a-z, every character outside a-z, 0-9, '_' and '|' replaced by '_', runs
// of '_' squeezed, cut to 63 characters, and "_t" after a reserved name.
func SanitizeTableName(s string) string {
	s = strings.TrimSpace(strings.ToLower(s))
	if s == "" {
		return s
	}
	if c := s[0]; c < 'a' || c > 'z' {
		s = "table_" + s
	}
	var b strings.Builder
	for _, r := range s {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_' || r == '|' {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	s = squeeze(b.String())
	if len(s) > MaxIdentifier {
		s = s[:MaxIdentifier]
	}
	if reservedWords[s] || reservedTableNames[s] || systemTableNames[s] || additionalWords[s] {
		s += "_t"
	}
	return s
}

func squeeze(s string) string {
	for strings.Contains(s, "__") {
		s = strings.ReplaceAll(s, "__", "_")
	}
	return s
}

// ProposeTableName is the first free name for a table proposed as base: base sanitized, then
// base_1, base_2, ... (each cut so that the suffix fits in 63 characters), skipping the names
// taken reports and the names no account may use (Carto::ValidTableNameProposer).
func ProposeTableName(base string, taken func(string) bool) (string, error) {
	if strings.TrimSpace(base) == "" {
		base = DefaultTableName
	}
	prefix := SanitizeTableName(base)
	used := func(n string) bool { return systemTableNames[n] || reservedTableNames[n] || taken(n) }
	proposal := prefix
	for i := 1; i <= 10000; i++ {
		if !used(proposal) {
			return proposal, nil
		}
		suffix := "_" + strconv.Itoa(i)
		p := prefix
		if len(p)+len(suffix) > MaxIdentifier {
			p = p[:MaxIdentifier-len(suffix)]
		}
		proposal = SanitizeTableName(p + suffix)
	}
	return "", Failf(1014, "no free table name for %q", base)
}

// SanitizeColumnName turns a source column name into a column name as CARTO's importer does
// (sanitization version 2): accents dropped, every character that is not an ASCII letter, digit
// or '_' replaced by '_', runs squeezed, lower case, '_' before a name that does not start with
// a letter or '_' or that is reserved, and cut to 63 characters.
func SanitizeColumnName(s string) string {
	var b strings.Builder
	for _, r := range norm.NFD.String(s) {
		switch {
		case unicode.Is(unicode.Mn, r):
		case r < 128 && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_'):
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	s = strings.ToLower(squeeze(b.String()))
	if s == "" || s == "_" {
		s = "untitled_column"
	}
	if c := s[0]; !(c >= 'a' && c <= 'z' || c == '_') || reservedWords[s] || additionalWords[s] || systemColumnNames[s] {
		s = "_" + s
	}
	if len(s) > MaxIdentifier {
		s = s[:MaxIdentifier]
	}
	return s
}

// SanitizeColumnNames sanitizes each name and makes repeated results unique with _1, _2, ...
// in order.
func SanitizeColumnNames(names []string) []string {
	out := make([]string, len(names))
	seen := map[string]bool{}
	for i, n := range names {
		s := SanitizeColumnName(n)
		base := s
		for k := 1; seen[s]; k++ {
			suffix := "_" + strconv.Itoa(k)
			b := base
			if len(b)+len(suffix) > MaxIdentifier {
				b = b[:MaxIdentifier-len(suffix)]
			}
			s = b + suffix
		}
		seen[s] = true
		out[i] = s
	}
	return out
}
