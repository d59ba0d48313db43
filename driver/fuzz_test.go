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
	addSeeds(f)
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

// FuzzPrefetch checks that rows decoded ahead (prefetch.go) are those decoded in Next, with the
// same error at the same row, whatever the body. It is a target of its own because the decoders'
// goroutines make coverage vary from run to run: the fuzzer then spends most of its time
// minimizing inputs, which would slow FuzzReadRows's search.
func FuzzPrefetch(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, limit := range []int64{1 << 20, 1} {
			r, _, err := readRows(bytes.NewReader(body), limit, http.MethodPost, "/")
			if err != nil {
				continue
			}
			want, wantErr := yieldAll(r)
			if err := r.Close(); err != nil {
				t.Error(err)
			}
			r, _, err = readRows(bytes.NewReader(body), limit, http.MethodPost, "/")
			if err != nil {
				t.Fatalf("read again: %v", err)
			}
			if r.pf == nil {
				r.pf = r.prefetch(2)
			}
			got, gotErr := yieldAll(r)
			if err := r.Close(); err != nil {
				t.Error(err)
			}
			if !sameRows(got, want) || gotErr.Error() != wantErr.Error() {
				t.Errorf("decoded ahead: %d rows, then %v; decoded in Next: %d rows, then %v", len(got), gotErr, len(want), wantErr)
			}
		}
	})
}

// addSeeds adds the recorded answers and a few odd bodies to a fuzz target's corpus.
func addSeeds(f *testing.F) {
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
}
