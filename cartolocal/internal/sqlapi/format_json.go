package sqlapi

import (
	"strconv"

	"github.com/gocarto/carto/cartolocal/internal/httpapi"
	"github.com/gocarto/carto/cartolocal/internal/jsjson"
	"github.com/gocarto/carto/cartolocal/internal/pgvalue"
	"github.com/jackc/pgx/v5/pgconn"
)

// jsonFormat is CARTO's default answer (lib/models/formats/pg/json.js), rows first and metadata last:
// [callback(]{"rows":[...],"time":T,"fields":{...},"total_rows":N[,"error":[..]][,"notices":[..]..]}[)]
type jsonFormat struct {
	enc      pgvalue.Encoder
	names    pgvalue.TypeNames
	skip     func(string) bool
	callback string
	cols     []column // of the last row description: rows and "fields" follow it
	n        int64
}

func (f *jsonFormat) describe(fds []pgconn.FieldDescription) {
	f.cols = planColumns(fds, f.skip)
}

func (f *jsonFormat) open(b []byte) []byte {
	if f.callback != "" {
		b = append(b, f.callback...)
		b = append(b, '(')
	}
	return append(b, `{"rows":[`...)
}

func (f *jsonFormat) row(b []byte, vals [][]byte) []byte {
	if f.n > 0 {
		b = append(b, ',')
	}
	f.n++
	return appendRowObject(b, &f.enc, f.cols, vals)
}

func (f *jsonFormat) close(b []byte, run *sqlRun, late *httpapi.Error) ([]byte, bool) {
	b = append(b, `],"time":`...)
	b = run.appendTime(b)
	b = append(b, `,"fields":`...)
	b = appendFields(b, f.names, f.cols)
	b = append(b, `,"total_rows":`...)
	b = strconv.AppendInt(b, run.totalRows(), 10)
	if late != nil {
		b = append(b, `,"error":[`...)
		b = jsjson.AppendString(b, late.Message)
		b = append(b, ']')
	}
	b = run.appendNotices(b)
	b = append(b, '}')
	if f.callback != "" {
		b = append(b, ')')
	}
	return b, true
}
