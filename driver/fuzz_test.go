package driver

import (
	"bytes"
	"database/sql/driver"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzReadRows feeds arbitrary bodies to the decoder: it must return rows or an error, never
// panic, and rows it returns must be readable to the end.
func FuzzReadRows(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "sqlapi", "*.txt"))
	for _, name := range files {
		f.Add(sampleBody(f, strings.TrimSuffix(filepath.Base(name), ".txt")))
	}
	for _, s := range []string{
		`{"rows":[{"a":{"type":"Buffer","data":[1,2,300]}}],"fields":{"a":{"type":"bytea","pgtype":"bytea"}},"total_rows":1}`,
		`{"rows":[{"a":"2020-02-30T25:61:61+9999"}],"fields":{"a":{"type":"date","pgtype":"timestamptz"}},"total_rows":1}`,
		`{"rows":[{"a":1e999,"b":"-Infinity"}],"fields":{"a":{"type":"number","pgtype":"int8"},"b":{"type":"number","pgtype":"float8"}},"total_rows":1}`,
		`{"rows":[{"a\u0000b":[{"x":"]}"}]}],"fields":{"a\u0000b":{"type":"number[]","pgtype":"_int4"}},"total_rows":1}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, limit := range []int64{1 << 20, 1} {
			r, _, err := readRows(bytes.NewReader(body), limit, http.MethodPost, "/")
			if err != nil {
				continue
			}
			dest := make([]driver.Value, len(r.Columns()))
			// A value of the wrong form is an error from Next; either way the rows end.
			for r.Next(dest) == nil {
			}
			for i := range r.Columns() {
				_ = r.ColumnTypeScanType(i)
				_ = r.ColumnTypeDatabaseTypeName(i)
			}
			if err := r.Close(); err != nil {
				t.Error(err)
			}
		}
	})
}
