package driver

import (
	"bytes"
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"reflect"
	"runtime"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

// prefetchBody is an answer of n rows whose values vary from row to row in every column (an
// integer, a text of varying length with escapes, a double, a geometry, a JSON value, a missing
// member every seventh row, a null every fifth), so that a row out of place or a value
// overwritten shows. bad, if positive, is a row whose integer is not one.
func prefetchBody(n, bad int) []byte {
	var b bytes.Buffer
	b.WriteString(`{"rows":[`)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		id := itoa(i)
		if i == bad {
			id = `"x` + id + `"`
		}
		fmt.Fprintf(&b, `{"i":%s,"s":"r%d\t%s","f":%g,"g":"0101%08x"`, id, i, strings.Repeat("é", i%40), float64(i)/3, i)
		switch {
		case i%5 == 0:
			b.WriteString(`,"j":null`)
		case i%7 != 0:
			fmt.Fprintf(&b, `,"j":{"k":[%d]}`, i)
		}
		b.WriteByte('}')
	}
	fmt.Fprintf(&b, `],"time":1,"fields":{"i":{"type":"number","pgtype":"int8"},"s":{"type":"string","pgtype":"text"},`+
		`"f":{"type":"number","pgtype":"float8"},"g":{"type":"geometry","wkbtype":"Point","dims":2,"srid":4326},`+
		`"j":{"type":"jsonb","pgtype":"jsonb"}},"total_rows":%d}`, n)
	return b.Bytes()
}

// readAhead reads body as readRows does and then has n decoders decode its rows ahead, whatever
// its size; n = 0 leaves Next to decode them.
func readAhead(t testing.TB, body []byte, limit int64, n int) *rows {
	t.Helper()
	r, _, err := readRows(bytes.NewReader(body), limit, http.MethodPost, "/")
	if err != nil {
		t.Fatal(err)
	}
	if r.pf != nil {
		t.Fatal("the answer is prefetched already: make it smaller than prefetchMinRows")
	}
	if n > 0 {
		r.pf = r.prefetch(n)
	}
	return r
}

// yieldAll calls Next until it fails and returns the rows and the error.
func yieldAll(r *rows) ([][]driver.Value, error) {
	var all [][]driver.Value
	for {
		dest := make([]driver.Value, len(r.Columns()))
		if err := r.Next(dest); err != nil {
			return all, err
		}
		all = append(all, dest)
	}
}

// sameRows compares rows as reflect.DeepEqual does, but with NaN equal to itself.
func sameRows(a, b [][]driver.Value) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		for j := range a[i] {
			x, y := a[i][j], b[i][j]
			if fx, ok := x.(float64); ok && math.IsNaN(fx) {
				if fy, ok := y.(float64); ok && math.IsNaN(fy) {
					continue
				}
			}
			if !reflect.DeepEqual(x, y) {
				return false
			}
		}
	}
	return true
}

// Rows decoded ahead are the rows decoded in Next, in order across batches, whether the spool
// stays in memory or goes to a file, with one decoder or two; values handed out early are not
// overwritten by later batches.
func TestPrefetchSameRows(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	const n = 3000 // over ten batches, the first small
	body := prefetchBody(n, -1)
	want, err := yieldAll(readAhead(t, body, 1<<30, 0))
	if err != io.EOF || len(want) != n {
		t.Fatalf("inline: %d rows, %v", len(want), err)
	}
	for _, limit := range []int64{1 << 30, 4096} {
		for _, decoders := range []int{1, 2, 3} {
			r := readAhead(t, body, limit, decoders)
			if r.sp.onDisk() != (limit == 4096) {
				t.Fatalf("limit %d: on disk %v", limit, r.sp.onDisk())
			}
			got, err := yieldAll(r)
			if err != io.EOF {
				t.Fatalf("limit %d, %d decoders: %v after %d rows", limit, decoders, err, len(got))
			}
			// Ended rows stay ended.
			if err := r.Next(make([]driver.Value, 5)); err != io.EOF {
				t.Errorf("Next after the end: %v", err)
			}
			if err := r.Close(); err != nil {
				t.Fatal(err)
			}
			if !sameRows(got, want) {
				for i := range min(len(got), len(want)) {
					if !sameRows(got[i:i+1], want[i:i+1]) {
						t.Fatalf("limit %d, %d decoders: row %d = %v, want %v", limit, decoders, i, got[i], want[i])
					}
				}
				t.Fatalf("limit %d, %d decoders: %d rows, want %d", limit, decoders, len(got), len(want))
			}
		}
	}
}

// An error met ahead (a value that does not convert, a corrupt record) comes out of Next at its
// row, after every row before it, with the message it has when Next decodes, and again from
// every later call.
func TestPrefetchErrorAtItsRow(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	corrupt := func(r *rows) {
		// Row 1234's record: its first member's name number made one the answer has not.
		for i := 0; i < 1234; i++ {
			if _, err := r.sp.next(); err != nil {
				t.Fatal(err)
			}
		}
		rec, err := r.sp.next()
		if err != nil {
			t.Fatal(err)
		}
		rec[0] = 0x7f
		r.sp.ci, r.sp.pos = 0, 0 // back to the first record
	}
	for _, tc := range []struct {
		name  string
		bad   int
		spoil func(*rows)
		at    int // the row of the error
	}{
		{"conversion", 1234, nil, 1234},
		{"conversion in the first batch", 3, nil, 3},
		{"conversion in the first row", 0, nil, 0},
		{"conversion in the last row", 1999, nil, 1999},
		{"corrupt record", -1, corrupt, 1234},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := prefetchBody(2000, tc.bad)
			at := tc.at
			var want error
			for _, decoders := range []int{0, 1, 2} {
				// In memory: the corrupt record is spoiled in the spool's chunk.
				r := readAhead(t, body, 1<<30, 0)
				if tc.spoil != nil {
					tc.spoil(r)
				}
				if decoders > 0 {
					r.pf = r.prefetch(decoders)
				}
				got, err := yieldAll(r)
				if len(got) != at || err == nil || err == io.EOF {
					t.Fatalf("%d decoders: %d rows, then %v; want %d rows, then an error", decoders, len(got), err, at)
				}
				// (Next decoding goes on with the next row; database/sql never asks.)
				if err2 := r.Next(make([]driver.Value, 5)); decoders > 0 && (err2 == nil || err2.Error() != err.Error()) {
					t.Errorf("%d decoders: Next after the error: %v", decoders, err2)
				}
				if err := r.Close(); err != nil {
					t.Fatal(err)
				}
				if decoders == 0 {
					want = err
				} else if err.Error() != want.Error() {
					t.Errorf("%d decoders: %q, want %q", decoders, err, want)
				}
			}
			t.Logf("%v", want)
		})
	}
}

// Close stops the decoders at any point (before the first row, mid-iteration while they wait
// for the caller, at the end), waits for them before the spool is released, and removes the
// temporary file; no goroutine stays behind.
func TestPrefetchCloseEarly(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	body := prefetchBody(4000, -1)
	for _, limit := range []int64{1 << 30, 4096} {
		for _, stopAt := range []int{0, 1, 17, 600, 3999, 4000} {
			for _, decoders := range []int{1, 2} {
				r := readAhead(t, body, limit, decoders)
				var name string
				if r.sp.onDisk() {
					name = r.sp.file.Name()
				}
				dest := make([]driver.Value, 5)
				for i := range stopAt {
					if err := r.Next(dest); err != nil {
						t.Fatalf("row %d: %v", i, err)
					}
					if dest[0] != int64(i) {
						t.Fatalf("row %d: %v", i, dest)
					}
				}
				if err := r.Close(); err != nil {
					t.Fatal(err)
				}
				if err := r.Close(); err != nil {
					t.Errorf("second Close: %v", err)
				}
				if name != "" {
					if _, err := os.Stat(name); !os.IsNotExist(err) {
						t.Errorf("temporary file %s remains", name)
					}
				}
			}
		}
	}
}

// Answers under prefetchMinRows start no goroutine; bigger ones do when there is more than one
// core.
func TestPrefetchOnlyBigAnswers(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	small, _, err := readRows(bytes.NewReader(prefetchBody(int(prefetchMinRows-1), -1)), 1<<30, http.MethodPost, "/")
	if err != nil {
		t.Fatal(err)
	}
	defer small.Close()
	if small.pf != nil {
		t.Errorf("an answer of %d rows is prefetched", prefetchMinRows-1)
	}
	big, _, err := readRows(bytes.NewReader(prefetchBody(int(prefetchMinRows), -1)), 1<<30, http.MethodPost, "/")
	if err != nil {
		t.Fatal(err)
	}
	defer big.Close()
	if (big.pf != nil) != (prefetchDecoders > 0 && runtime.GOMAXPROCS(0) > 1) {
		t.Errorf("an answer of %d rows: prefetched %v", prefetchMinRows, big.pf != nil)
	}
}

// Through database/sql, prefetched rows scan into RawBytes (which point to the driver's values
// until the next Next), strings and any, and a conversion error ends the rows at its row.
func TestPrefetchDatabaseSQL(t *testing.T) {
	const n = 10000
	defer func(old int64) { prefetchMinRows = old }(prefetchMinRows)
	prefetchMinRows = 1000
	answers := map[string][]byte{"good": prefetchBody(n, -1), "bad": prefetchBody(n, 7777)}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			t.Error(err)
		}
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.Write(answers[r.PostForm.Get("q")[len("SELECT "):]])
	}))
	defer srv.Close()
	u, _ := url.Parse(srv.URL)
	db := openDSN(t, "carto://alice:k@"+u.Host+"/user/alice?sslmode=disable")
	rows, err := db.QueryContext(context.Background(), "SELECT good")
	if err != nil {
		t.Fatal(err)
	}
	var prev []byte
	i := 0
	for ; rows.Next(); i++ {
		var (
			id   int64
			s    string
			f    any
			g, j sql.RawBytes
		)
		if err := rows.Scan(&id, &s, &f, &g, &j); err != nil {
			t.Fatal(err)
		}
		if id != int64(i) || !strings.HasPrefix(s, fmt.Sprintf("r%d\t", i)) || f != float64(i)/3 || string(g) != fmt.Sprintf("0101%08x", i) {
			t.Fatalf("row %d: %v %q %v %q", i, id, s, f, g)
		}
		if prev != nil && string(prev) != fmt.Sprintf("0101%08x", i-1) {
			t.Fatalf("row %d: the previous row's geometry became %q", i, prev)
		}
		prev = g
	}
	if err := rows.Err(); err != nil || i != n {
		t.Fatalf("%d rows, %v", i, err)
	}
	rows, err = db.QueryContext(context.Background(), "SELECT bad")
	if err != nil {
		t.Fatal(err)
	}
	for i = 0; rows.Next(); i++ {
	}
	if err := rows.Err(); i != 7777 || err == nil || !strings.Contains(err.Error(), `column "i": "x7777" is not an integer`) {
		t.Fatalf("%d rows, then %v", i, err)
	}
}
