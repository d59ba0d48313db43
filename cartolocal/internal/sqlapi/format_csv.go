package sqlapi

import (
	"slices"
	"strings"

	"github.com/gocarto/carto/cartolocal/internal/httpapi"
	"github.com/gocarto/carto/internal/pgscan"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// csvColumnsQuery is the query CARTO's ogr formats run first to learn the columns.
func csvColumnsQuery(sql string) string {
	return "SELECT * FROM (" + sql + ") as _cartodbsqlapi LIMIT 0"
}

// csvQuery is the query CARTO hands ogr2ogr for a CSV export: the columns minus skipfields,
// the_geom first, every one cast to text (so geometries are hex EWKB and numbers keep all digits).
func csvQuery(sql string, names []string) string {
	var sb strings.Builder
	sb.WriteString("SELECT ")
	for i, n := range names {
		if i > 0 {
			sb.WriteByte(',')
		}
		sb.WriteString(pgscan.QuoteIdent(n))
		sb.WriteString("::text")
	}
	sb.WriteString(" FROM (")
	sb.WriteString(sql)
	sb.WriteString(") as _cartodbsqlapi")
	return sb.String()
}

// csvColumnNames runs the LIMIT 0 query and returns the export's columns in CARTO's order.
func csvColumnNames(run *sqlRun, conn *pgxpool.Conn, sql string, skip func(string) bool) ([]string, error) {
	mrr := conn.Conn().PgConn().Exec(run.ctx, csvColumnsQuery(sql))
	var names []string
	for mrr.NextResult() {
		rr := mrr.ResultReader()
		if fds := rr.FieldDescriptions(); fds != nil {
			names = names[:0]
			for _, fd := range fds {
				if skip == nil || !skip(fd.Name) {
					names = append(names, fd.Name)
				}
			}
		}
		if _, err := rr.Close(); err != nil {
			break
		}
	}
	if err := mrr.Close(); err != nil {
		return nil, err
	}
	// the_geom first; the sort is stable, as V8's.
	slices.SortStableFunc(names, func(a, b string) int {
		switch {
		case a == geomColumn && b != geomColumn:
			return -1
		case b == geomColumn && a != geomColumn:
			return 1
		}
		return 0
	})
	return names, nil
}

// csvFormat writes what ogr2ogr's CSV driver writes with CARTO's options (LINEFORMAT=CRLF,
// STRING_QUOTING=IF_NEEDED): a header row, CRLF line ends, a field quoted only when it holds one of
// " , ; tab CR LF, NULL as an empty field, and GDAL's extra trailing separator on single-column
// lines that would otherwise be empty (and on a single-column header).
type csvFormat struct {
	header []string
}

func (f *csvFormat) describe([]pgconn.FieldDescription) {}

func (f *csvFormat) open(b []byte) []byte {
	for i, n := range f.header {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendCSVField(b, []byte(n))
	}
	if len(f.header) == 1 {
		b = append(b, ',')
	}
	return append(b, '\r', '\n')
}

func (f *csvFormat) row(b []byte, vals [][]byte) []byte {
	nonEmpty := false
	for i, v := range vals {
		if i > 0 {
			b = append(b, ',')
		}
		if len(v) > 0 {
			nonEmpty = true
		}
		b = appendCSVField(b, v)
	}
	if len(vals) == 1 && !nonEmpty {
		b = append(b, ',')
	}
	return append(b, '\r', '\n')
}

// close: CSV has no place for an error, so an error after the first row aborts the response.
func (f *csvFormat) close(b []byte, run *sqlRun, late *httpapi.Error) ([]byte, bool) {
	return b, late == nil
}

// appendCSVField is GDAL's CPLEscapeString(CPLES_CSV).
func appendCSVField(b []byte, v []byte) []byte {
	needs := false
	for _, c := range v {
		if c == '"' || c == ',' || c == ';' || c == '\t' || c == '\n' || c == '\r' {
			needs = true
			break
		}
	}
	if !needs {
		return append(b, v...)
	}
	b = append(b, '"')
	for _, c := range v {
		if c == '"' {
			b = append(b, '"')
		}
		b = append(b, c)
	}
	return append(b, '"')
}
