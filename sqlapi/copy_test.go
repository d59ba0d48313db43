package sqlapi_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/gocarto/carto"
	"github.com/gocarto/carto/cartolocal/cartotest"
	"github.com/gocarto/carto/sqlapi"
)

// copyTable makes a table of n rows with awkward values: NULLs, tabs, quotes, backslashes,
// newlines, non-ASCII text, a geometry.
func copyTable(t *testing.T, acct *cartotest.Account, name string, n int) {
	t.Helper()
	acct.Exec(t, fmt.Sprintf(`CREATE TABLE %[1]s (id int PRIMARY KEY, name text, v float8, the_geom geometry(Point, 4326));
		INSERT INTO %[1]s SELECT g, CASE WHEN g %% 5 = 0 THEN NULL ELSE 'n'||g||E'\t"q",\\ ñ\n' END, g / 3.0,
			CASE WHEN g %% 7 = 0 THEN NULL ELSE ST_SetSRID(ST_MakePoint(g %% 180, g %% 90), 4326) END
		FROM generate_series(1, %[2]d) g`, name, n))
}

func emptyLike(t *testing.T, acct *cartotest.Account, name, like string) {
	t.Helper()
	acct.Exec(t, fmt.Sprintf(`CREATE TABLE %s (LIKE %s INCLUDING ALL)`, name, like))
}

// TestCopyRoundTrip copies a table out and into another one, in each of COPY's formats, with
// gzip on and off, and out again: the outputs are byte-identical and the counts right.
func TestCopyRoundTrip(t *testing.T) {
	acct := cartotest.New(t)
	api := sqlapi.New(acct.Client(t))
	ctx := testCtx(t)
	copyTable(t, acct, "src", 1000)
	formats := map[string]string{"text": "", "csv": " WITH (FORMAT csv, HEADER true)", "binary": " WITH (FORMAT binary)"}
	for name, with := range formats {
		for _, gz := range []bool{true, false} {
			dst := fmt.Sprintf("dst_%s_%v", name, gz)
			emptyLike(t, acct, dst, "src")
			var out bytes.Buffer
			if _, err := api.CopyTo(ctx, "COPY (SELECT * FROM src ORDER BY id) TO STDOUT"+with, &out); err != nil {
				t.Fatalf("%s: copy to: %v", name, err)
			}
			var opts []sqlapi.Option
			if !gz {
				opts = append(opts, sqlapi.WithoutGzip())
			}
			var last sqlapi.Progress
			opts = append(opts, sqlapi.WithProgress(func(p sqlapi.Progress) { last = p }))
			res, err := api.CopyFrom(ctx, "COPY "+dst+" FROM STDIN"+with, bytes.NewReader(out.Bytes()), opts...)
			if err != nil {
				t.Fatalf("%s gzip=%v: copy from: %v", name, gz, err)
			}
			if res.Rows != 1000 || res.Bytes != int64(out.Len()) || !last.Done || last.Rows != 1000 {
				t.Fatalf("%s gzip=%v: result %+v, progress %+v", name, gz, res, last)
			}
			if gz && res.WireBytes >= res.Bytes || !gz && res.WireBytes != res.Bytes {
				t.Fatalf("%s gzip=%v: %d bytes of data, %d on the wire", name, gz, res.Bytes, res.WireBytes)
			}
			var again bytes.Buffer
			if _, err := api.CopyTo(ctx, "COPY (SELECT * FROM "+dst+" ORDER BY id) TO STDOUT"+with, &again); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(out.Bytes(), again.Bytes()) {
				t.Fatalf("%s gzip=%v: the copy differs (%d and %d bytes)", name, gz, out.Len(), again.Len())
			}
		}
	}
}

func wantCartoError(t *testing.T, err error, status int, msg string) {
	t.Helper()
	var ce *carto.Error
	if !errors.As(err, &ce) || ce.StatusCode != status || ce.Message() != msg {
		t.Fatalf("err = %v, want %d %q", err, status, msg)
	}
}

// TestCopyErrors: each of CARTO's COPY error answers (samples 84-89).
func TestCopyErrors(t *testing.T) {
	acct := cartotest.New(t)
	client := acct.Client(t)
	api := sqlapi.New(client)
	ctx := testCtx(t)
	acct.Exec(t, `CREATE TABLE copytest (id int, name text, geom geometry)`)
	const copyIn = "COPY copytest (id,name,geom) FROM STDIN WITH (FORMAT csv, HEADER true)"
	data := "id,name,geom\n1,alpha,0101000020E6100000000000000000F03F0000000000000040\n2,beta,\n"

	_, err := api.CopyFrom(ctx, "select 1", strings.NewReader(data))
	wantCartoError(t, err, 400, "SQL must start with COPY")
	_, err = api.CopyTo(ctx, "select 1", io.Discard)
	wantCartoError(t, err, 400, "SQL must start with COPY")
	_, err = api.CopyFrom(ctx, copyIn, strings.NewReader("id,name,geom\nx,y,z\n"))
	wantCartoError(t, err, 400, `invalid input syntax for type integer: "x"`)
	_, err = api.CopyFrom(ctx, copyIn, strings.NewReader("id,name,geom\n"))
	wantCartoError(t, err, 400, "No rows copied")
	_, err = sqlapi.New(acct.PublicClient(t)).CopyFrom(ctx, copyIn, strings.NewReader(data))
	wantCartoError(t, err, 403, "permission denied for table copytest")
	_, err = api.CopyTo(ctx, "COPY nope TO STDOUT", io.Discard)
	wantCartoError(t, err, 400, `relation "nope" does not exist`)

	// Without q, on both endpoints (the client always sends one, so ask by hand).
	for _, path := range []string{"api/v2/sql/copyfrom", "api/v2/sql/copyto"} {
		_, err = client.Do(ctx, &carto.Request{Method: "POST", Path: path, Body: []byte(data), ContentType: "application/octet-stream"})
		wantCartoError(t, err, 400, "SQL is missing")
	}
	// A body that says gzip and is not.
	_, err = client.Do(ctx, &carto.Request{Method: "POST", Path: "api/v2/sql/copyfrom", Query: url.Values{"q": {copyIn}},
		Body: []byte(data), Header: http.Header{"Content-Encoding": {"gzip"}}})
	wantCartoError(t, err, 400, "Error while gunzipping: gzip: invalid header")

	res, err := api.CopyFrom(ctx, copyIn, strings.NewReader(data))
	if err != nil || res.Rows != 2 {
		t.Fatalf("copy from: %+v, %v", res, err)
	}
}

// TestCopyToLateError: an error after the output began is appended to it by the server; CopyTo
// returns it as a *carto.Error with status 200, and the writer gets the rows before it only.
func TestCopyToLateError(t *testing.T) {
	acct := cartotest.New(t)
	api := sqlapi.New(acct.Client(t))
	var out bytes.Buffer
	_, err := api.CopyTo(testCtx(t), "COPY (SELECT 1/(3-g) FROM generate_series(1, 5) g) TO STDOUT", &out)
	wantCartoError(t, err, 200, "division by zero")
	if out.String() != "0\n1\n" {
		t.Fatalf("output %q", out.String())
	}
}

// TestCopyFromReaderFails: a reader that fails mid-way aborts the request; the server rolls the
// COPY back, and CopyFrom returns the reader's error.
func TestCopyFromReaderFails(t *testing.T) {
	acct := cartotest.New(t)
	api := sqlapi.New(acct.Client(t))
	acct.Exec(t, `CREATE TABLE t (n int)`)
	broken := errors.New("disk on fire")
	for _, gz := range []bool{true, false} {
		var opts []sqlapi.Option
		if !gz {
			opts = append(opts, sqlapi.WithoutGzip())
		}
		r := io.MultiReader(strings.NewReader(strings.Repeat("1\n", 1<<20)), &failingReader{broken})
		_, err := api.CopyFrom(testCtx(t), "COPY t FROM STDIN", r, opts...)
		if !errors.Is(err, broken) {
			t.Fatalf("gzip=%v: err = %v", gz, err)
		}
	}
	waitCount(t, acct, "t", 0)
}

type failingReader struct{ err error }

func (f *failingReader) Read([]byte) (int, error) { return 0, f.err }

// waitCount checks that table holds want rows once no COPY runs on it any more.
func waitCount(t *testing.T, acct *cartotest.Account, table string, want int) {
	t.Helper()
	api := sqlapi.New(acct.Client(t))
	deadline := time.Now().Add(30 * time.Second)
	for {
		var buf bytes.Buffer
		_, err := api.Query(testCtx(t), `SELECT (SELECT count(*) FROM pg_stat_activity WHERE query ILIKE 'COPY%' AND state = 'active') AS copies,
			(SELECT count(*) FROM `+table+`) AS n`, &buf, sqlapi.WithFormat(sqlapi.CSV))
		if err != nil {
			t.Fatal(err)
		}
		if got := buf.String(); strings.HasPrefix(got, "copies,n\r\n0,") {
			if got != fmt.Sprintf("copies,n\r\n0,%d\r\n", want) {
				t.Fatalf("after the COPY: %q, want %d rows", got, want)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("a COPY still runs: %q", buf.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestCopyFromConnectionCut cuts the connection in the middle of a COPY FROM body, by hand on a
// raw TCP connection to cartolocal: nothing is copied.
func TestCopyFromConnectionCut(t *testing.T) {
	acct := cartotest.New(t)
	acct.Exec(t, `CREATE TABLE t (n int)`)
	u, err := url.Parse(acct.URL)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	q := url.Values{"q": {"COPY t FROM STDIN"}, "api_key": {acct.MasterKey}}.Encode()
	fmt.Fprintf(conn, "POST %sapi/v2/sql/copyfrom?%s HTTP/1.1\r\nHost: %s\r\nTransfer-Encoding: chunked\r\n\r\n", u.Path, q, u.Host)
	chunk := strings.Repeat("7\n", 4096)
	for range 64 {
		fmt.Fprintf(conn, "%x\r\n%s\r\n", len(chunk), chunk)
	}
	time.Sleep(200 * time.Millisecond) // the COPY is running
	conn.Close()
	waitCount(t, acct, "t", 0)
}

// TestCopyToClientGone: a client that goes away in the middle of a COPY TO ends the COPY on the
// server.
func TestCopyToClientGone(t *testing.T) {
	acct := cartotest.New(t)
	api := sqlapi.New(acct.Client(t))
	acct.Exec(t, `CREATE TABLE t (n int)`)
	ctx, cancel := context.WithCancel(testCtx(t))
	defer cancel()
	_, err := api.CopyTo(ctx, "COPY (SELECT g, repeat('x', 100) FROM generate_series(1, 100000000) g) TO STDOUT", io.Discard,
		sqlapi.WithProgress(func(p sqlapi.Progress) {
			if p.Bytes > 4<<20 {
				cancel()
			}
		}))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
	waitCount(t, acct, "t", 0)
}

// TestCopyCutByServer: an answer cut by the server is never a success, whichever way the COPY
// goes. A real server does not cut its answers on demand, so an httptest server stands in for
// CARTO here.
func TestCopyCutByServer(t *testing.T) {
	outputs := []struct {
		name  string
		write func(w http.ResponseWriter)
	}{
		{"chunked body broken off after a whole row", func(w http.ResponseWriter) {
			io.WriteString(w, "1\ta\n2\tb\n")
			w.(http.Flusher).Flush()
			panic(http.ErrAbortHandler)
		}},
		{"ends normally in the middle of a row", func(w http.ResponseWriter) {
			w.Header().Set("Content-Length", "11")
			io.WriteString(w, "1\ta\n2\tb\n3\tc")
		}},
		{"binary without its trailer", func(w http.ResponseWriter) {
			io.WriteString(w, "PGCOPY\n\xff\r\n\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x01x")
		}},
	}
	for _, o := range outputs {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.HasSuffix(r.URL.Path, "copyfrom") {
				// Read a little of the data, then cut the connection.
				_, _ = io.CopyN(io.Discard, r.Body, 1<<16)
				panic(http.ErrAbortHandler)
			}
			o.write(w)
		}))
		c, err := carto.NewClient(srv.URL+"/user/alice", carto.WithAPIKey("k"), carto.WithRetryPolicy(carto.NoRetries))
		if err != nil {
			t.Fatal(err)
		}
		api := sqlapi.New(c)
		if _, err := api.CopyTo(testCtx(t), "COPY t TO STDOUT", io.Discard); err == nil {
			t.Errorf("copy to, %s: no error", o.name)
		}
		if _, err := api.CopyFrom(testCtx(t), "COPY t FROM STDIN", strings.NewReader(strings.Repeat("1\n", 1<<20))); err == nil {
			t.Errorf("copy from cut by the server: no error")
		}
		srv.Close()
	}
}

// TestCopyMillionRows round-trips a table of a million rows through CopyTo and CopyFrom, by way of
// a file: the second table's output is byte-identical to the first's.
func TestCopyMillionRows(t *testing.T) {
	if testing.Short() {
		t.Skip("a million rows")
	}
	acct := cartotest.New(t)
	api := sqlapi.New(acct.Client(t))
	// Minutes under the race detector on a busy machine, not the two testCtx gives.
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	copyTable(t, acct, "big", 1_000_000)
	emptyLike(t, acct, "big2", "big")
	f, err := os.CreateTemp(t.TempDir(), "big-*.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	const with = " WITH (FORMAT csv, HEADER true)"
	h1 := sha256.New()
	bw := bufio.NewWriter(io.MultiWriter(f, h1))
	if _, err := api.CopyTo(ctx, "COPY (SELECT * FROM big ORDER BY id) TO STDOUT"+with, bw); err != nil {
		t.Fatal(err)
	}
	if err := bw.Flush(); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	res, err := api.CopyFrom(ctx, "COPY big2 FROM STDIN"+with, f)
	if err != nil || res.Rows != 1_000_000 {
		t.Fatalf("copy from: %+v, %v", res, err)
	}
	h2 := sha256.New()
	if _, err := api.CopyTo(ctx, "COPY (SELECT * FROM big2 ORDER BY id) TO STDOUT"+with, h2); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(h1.Sum(nil), h2.Sum(nil)) {
		t.Fatal("the copy of the copy differs")
	}
}

// gzipped compresses s, for the server-side gzip checks.
func gzipped(s string) []byte {
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	_, _ = io.WriteString(zw, s)
	_ = zw.Close()
	return b.Bytes()
}

// TestCopyFromGzipBody: a gzip body sent with Content-Encoding: gzip is gunzipped (sample 81).
func TestCopyFromGzipBody(t *testing.T) {
	acct := cartotest.New(t)
	client := acct.Client(t)
	acct.Exec(t, `CREATE TABLE t (n int)`)
	resp, err := client.Do(testCtx(t), &carto.Request{Method: "POST", Path: "api/v2/sql/copyfrom", Query: url.Values{"q": {"COPY t FROM STDIN"}},
		Body: gzipped("1\n2\n3\n"), Header: http.Header{"Content-Encoding": {"gzip"}}})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if !bytes.HasPrefix(body, []byte(`{"time":`)) || !bytes.HasSuffix(body, []byte(`,"total_rows":3}`)) {
		t.Fatalf("body %s", body)
	}
}
