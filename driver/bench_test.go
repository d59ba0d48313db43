package driver

import (
	"bytes"
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/gocarto/carto/cartolocal/cartotest"
	"github.com/gocarto/carto/internal/httpclient"
)

// The benchmarks read 1k, 100k and 1M rows of two tables through the driver (HTTP + JSON from
// cartolocal) and through pgx straight to the PostGIS behind it, the baseline:
//
//	nums:  id int8, a int4, b float8, c float4, d numeric(14,4)   (five numeric columns)
//	geoms: the_geom geometry(Point, 4326)                          (one geometry column)
//
// cartolocal runs in the benchmark's own process, so the driver's numbers include the server's
// work (reading from PostgreSQL, writing JSON) on the same two cores, and the heap figures
// include the server's heap. Run them with
//
//	go test -run '^$' -bench . -benchtime 3x ./driver/
//
// Reported: ns/row (wall), cpu-ns/row (this process's CPU time), allocs/row (process-wide),
// peak-heap-MB (HeapInuse growth during the run).

const benchRows = 1_000_000

var bench struct {
	once sync.Once
	acct *cartotest.Account
}

// benchSetup makes the account and its tables once per process, and for each top-level
// benchmark a *sql.DB and a pgx connection, closed when it ends.
func benchSetup(b *testing.B) (*sql.DB, *pgx.Conn, *cartotest.Account) {
	b.Helper()
	bench.once.Do(func() {
		// The account must outlive the benchmark that happens to create it.
		bench.acct = cartotest.New(&exampleLikeTB{TB: b})
		bench.acct.Exec(b, fmt.Sprintf(`CREATE TABLE nums AS SELECT i::int8 AS id, (i %% 100000)::int4 AS a,
			i * 1.5::float8 AS b, (i %% 1000)::float4 / 7 AS c, (i * 3.1416)::numeric(14,4) AS d
			FROM generate_series(1, %d) i;
			CREATE TABLE geoms AS SELECT ST_SetSRID(ST_MakePoint(-180 + (i %% 36000) / 100.0, -90 + (i %% 18000) / 100.0), 4326)::geometry(Point, 4326) AS the_geom
			FROM generate_series(1, %d) i;
			ANALYZE nums; ANALYZE geoms;`, benchRows, benchRows))
	})
	if bench.acct == nil {
		b.Fatal("benchmark setup failed")
	}
	db, err := sql.Open("carto", bench.acct.DSN())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	pg, err := pgx.Connect(context.Background(), bench.acct.PGURL)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { pg.Close(context.Background()) })
	if _, err := pg.Exec(context.Background(), "SET search_path = "+bench.acct.User+", public"); err != nil {
		b.Fatal(err)
	}
	return db, pg, bench.acct
}

// exampleLikeTB keeps the shared benchmark account alive past the benchmark that made it: its
// cleanups are dropped (the server goes away with the process).
type exampleLikeTB struct{ testing.TB }

func (*exampleLikeTB) Cleanup(func()) {}

var sizes = []struct {
	name string
	n    int
}{{"1k", 1_000}, {"100k", 100_000}, {"1M", 1_000_000}}

// heapWatch samples the heap while rows are read, and the process's CPU time.
type heapWatch struct {
	base, peak uint64
	ms         runtime.MemStats
	cpu        time.Duration
}

func (h *heapWatch) start() {
	runtime.GC()
	runtime.ReadMemStats(&h.ms)
	h.base, h.peak = h.ms.HeapInuse, h.ms.HeapInuse
	h.cpu = processCPU()
}

func (h *heapWatch) sample() {
	runtime.ReadMemStats(&h.ms)
	if h.ms.HeapInuse > h.peak {
		h.peak = h.ms.HeapInuse
	}
}

func report(b *testing.B, rows int, mallocs uint64, h *heapWatch) {
	total := float64(rows) * float64(b.N)
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/total, "ns/row")
	b.ReportMetric(float64(mallocs)/total, "allocs/row")
	b.ReportMetric(float64(h.peak-h.base)/(1<<20), "peak-heap-MB")
	// CPU time of this process: with cartolocal in process, the driver's figure includes the
	// server's work; neither includes PostgreSQL's. It is steadier than wall time on a busy
	// machine.
	b.ReportMetric(float64(processCPU()-h.cpu)/total, "cpu-ns/row")
	b.ReportMetric(0, "ns/op")
}

// measureRows runs one query per iteration through scanAll, which calls tick after each row it
// scans, so that the driver and pgx are measured by the same loop: rows per iteration checked,
// heap sampled twenty times per query.
func measureRows(b *testing.B, want int, scanAll func(tick func()) error) {
	var h heapWatch
	h.start()
	before := h.ms.Mallocs
	sampleEvery := max(want/20, 1)
	n := 0
	tick := func() {
		if n++; n%sampleEvery == 0 {
			h.sample()
		}
	}
	for b.Loop() {
		n = 0
		if err := scanAll(tick); err != nil || n != want {
			b.Fatalf("%d rows, %v", n, err)
		}
	}
	h.sample()
	report(b, want, h.ms.Mallocs-before, &h)
}

// scanSQL scans every row of a database/sql query into dest.
func scanSQL(ctx context.Context, db *sql.DB, q string, tick func(), dest ...any) error {
	rows, err := db.QueryContext(ctx, q)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return err
		}
		tick()
	}
	return rows.Err()
}

// scanPgx scans every row of a pgx query into dest.
func scanPgx(ctx context.Context, pg *pgx.Conn, q string, tick func(), dest ...any) error {
	rows, err := pg.Query(ctx, q)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return err
		}
		tick()
	}
	return rows.Err()
}

func BenchmarkNumeric5(b *testing.B) {
	db, pg, _ := benchSetup(b)
	ctx := context.Background()
	for _, sz := range sizes {
		q := fmt.Sprintf("SELECT id, a, b, c, d FROM nums LIMIT %d", sz.n)
		b.Run("driver/"+sz.name, func(b *testing.B) {
			var (
				id, a int64
				x, y  float64
				d     string
			)
			measureRows(b, sz.n, func(tick func()) error { return scanSQL(ctx, db, q, tick, &id, &a, &x, &y, &d) })
		})
		b.Run("pgx/"+sz.name, func(b *testing.B) {
			var (
				id int64
				a  int32
				x  float64
				y  float32
				d  pgtype.Numeric
			)
			measureRows(b, sz.n, func(tick func()) error { return scanPgx(ctx, pg, q, tick, &id, &a, &x, &y, &d) })
		})
	}
}

func BenchmarkGeometry(b *testing.B) {
	db, pg, _ := benchSetup(b)
	ctx := context.Background()
	for _, sz := range sizes {
		q := fmt.Sprintf("SELECT the_geom FROM geoms LIMIT %d", sz.n)
		b.Run("driver/"+sz.name, func(b *testing.B) {
			var g sql.RawBytes
			measureRows(b, sz.n, func(tick func()) error { return scanSQL(ctx, db, q, tick, &g) })
		})
		b.Run("pgx/"+sz.name, func(b *testing.B) {
			// PostGIS sends geometry as hex EWKB text, as the driver yields it.
			var g []byte
			measureRows(b, sz.n, func(tick func()) error { return scanPgx(ctx, pg, q, tick, &g) })
		})
	}
}

// BenchmarkDecode measures the driver alone: a 100k-row answer, fetched once from cartolocal,
// read from memory into rows and yielded. yield-ns/row is the part after the trailer, the rows'
// Next loop and Close.
func BenchmarkDecode(b *testing.B) {
	_, _, acct := benchSetup(b)
	for _, tc := range []struct{ name, q string }{
		{"numeric5", "SELECT id, a, b, c, d FROM nums LIMIT 100000"},
		{"geometry", "SELECT the_geom FROM geoms LIMIT 100000"},
	} {
		hc := httpclient.New()
		c, err := (&Config{BaseURL: acct.URL, APIKey: acct.MasterKey}).newClient(hc)
		if err != nil {
			b.Fatal(err)
		}
		ctr := &connector{client: c}
		resp, _, done, err := ctr.post(context.Background(), tc.q)
		if err != nil {
			b.Fatal(err)
		}
		body, err := io.ReadAll(resp)
		resp.Close()
		done()
		if err != nil {
			b.Fatal(err)
		}
		hc.CloseIdleConnections()
		b.Run(tc.name, func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			before := ms.Mallocs
			var rows int
			var yield time.Duration // from the trailer on: Next until io.EOF, then Close
			for b.Loop() {
				r, _, err := readRows(bytes.NewReader(body), DefaultSpoolMemory, http.MethodPost, "/")
				if err != nil {
					b.Fatal(err)
				}
				start := time.Now()
				dest := make([]driver.Value, len(r.Columns()))
				for {
					if err := r.Next(dest); err == io.EOF {
						break
					} else if err != nil {
						b.Fatal(err)
					}
					rows++
				}
				r.Close()
				yield += time.Since(start)
			}
			runtime.ReadMemStats(&ms)
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(rows), "ns/row")
			b.ReportMetric(float64(yield.Nanoseconds())/float64(rows), "yield-ns/row")
			b.ReportMetric(float64(ms.Mallocs-before)/float64(rows), "allocs/row")
		})
	}
}

// BenchmarkRoundTrip is the fixed cost of one statement: SELECT 1 through the driver (HTTP to
// cartolocal, which takes a pooled connection as the account's role) and through pgx, and a
// one-row read of a table through the driver.
func BenchmarkRoundTrip(b *testing.B) {
	db, pg, _ := benchSetup(b)
	ctx := context.Background()
	b.Run("driver", func(b *testing.B) {
		b.ReportAllocs()
		var n int
		for b.Loop() {
			if err := db.QueryRowContext(ctx, "SELECT 1 AS n").Scan(&n); err != nil {
				b.Fatal(err)
			}
		}
	})
	// A statement that reads a table: cartolocal plans it first (as CARTO does) to set the SQL
	// API's caching headers from the tables it touches, one more round trip.
	b.Run("driver-table", func(b *testing.B) {
		b.ReportAllocs()
		var n int64
		for b.Loop() {
			if err := db.QueryRowContext(ctx, "SELECT id FROM nums LIMIT 1").Scan(&n); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("pgx", func(b *testing.B) {
		b.ReportAllocs()
		var n int
		for b.Loop() {
			if err := pg.QueryRow(ctx, "SELECT 1 AS n").Scan(&n); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkYield measures what follows the trailer as a user meets it: database/sql's Next and
// Scan into any over the rows of bench/driver's query (a, b, d int4, c numeric, e float8),
// QueryContext excluded, its answer served from memory. inline decodes each row in Next, as
// answers under prefetchMinRows are; decoders=N decode ahead on N goroutines.
func BenchmarkYield(b *testing.B) {
	const n = 200_000
	var body bytes.Buffer
	body.WriteString(`{"rows":[`)
	for g := 1; g <= n; g++ {
		if g > 1 {
			body.WriteByte(',')
		}
		fmt.Fprintf(&body, `{"a":%d,"b":%d,"c":%s,"d":%d,"e":%s}`, g, g*2,
			strconv.FormatFloat(float64(g)*0.5, 'f', -1, 64), g%7, strconv.FormatFloat(float64(g)/3, 'g', -1, 64))
	}
	fmt.Fprintf(&body, `],"time":1,"fields":{"a":{"type":"number","pgtype":"int4"},"b":{"type":"number","pgtype":"int4"},`+
		`"c":{"type":"number","pgtype":"numeric"},"d":{"type":"number","pgtype":"int4"},"e":{"type":"number","pgtype":"float8"}},"total_rows":%d}`, n)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.Write(body.Bytes())
	}))
	defer srv.Close()
	u, _ := url.Parse(srv.URL)
	db, err := sql.Open("carto", "carto://alice:k@"+u.Host+"/user/alice?sslmode=disable")
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	for _, mode := range []struct {
		name     string
		minRows  int64
		decoders int
	}{{"inline", n + 1, 0}, {"decoders=1", prefetchMinRows, 1}, {"decoders=2", prefetchMinRows, 2}, {"database-sql-floor", 0, 0}} {
		b.Run(mode.name, func(b *testing.B) {
			db := db
			if mode.name == "database-sql-floor" {
				// What no driver can take away after the trailer: database/sql's own Next and Scan
				// of the same rows, from a driver whose rows cost nothing (one row's values, made
				// once, yielded n times).
				db = sql.OpenDB(floorConnector{n: n})
				defer db.Close()
			}
			defer func(rows int64, decoders int) { prefetchMinRows, prefetchDecoders = rows, decoders }(prefetchMinRows, prefetchDecoders)
			prefetchMinRows, prefetchDecoders = mode.minRows, mode.decoders
			var yield, cpu time.Duration
			dest := make([]any, 5)
			ptrs := make([]any, 5)
			for i := range dest {
				ptrs[i] = &dest[i]
			}
			for b.Loop() {
				rows, err := db.Query("SELECT")
				if err != nil {
					b.Fatal(err)
				}
				start, cpu0 := time.Now(), processCPU()
				got := 0
				for rows.Next() {
					if err := rows.Scan(ptrs...); err != nil {
						b.Fatal(err)
					}
					got++
				}
				if err := rows.Err(); err != nil || got != n {
					b.Fatalf("%d rows, %v", got, err)
				}
				rows.Close()
				yield += time.Since(start)
				cpu += processCPU() - cpu0
			}
			b.ReportMetric(float64(yield.Nanoseconds())/float64(n*b.N), "yield-ns/row")
			// Over yield-ns/row when goroutines ran in parallel.
			b.ReportMetric(float64(cpu.Nanoseconds())/float64(n*b.N), "yield-cpu-ns/row")
			b.ReportMetric(0, "ns/op")
		})
	}
}

// floorConnector is a database/sql driver whose every query yields n copies of one row of
// bench/driver's columns, for BenchmarkYield's floor.
type floorConnector struct{ n int }

func (c floorConnector) Connect(context.Context) (driver.Conn, error) { return floorConn(c), nil }
func (c floorConnector) Driver() driver.Driver                        { return nil }

type floorConn struct{ n int }

func (floorConn) Prepare(string) (driver.Stmt, error) { return nil, driver.ErrSkip }
func (floorConn) Close() error                        { return nil }
func (floorConn) Begin() (driver.Tx, error)           { return nil, driver.ErrSkip }
func (c floorConn) QueryContext(context.Context, string, []driver.NamedValue) (driver.Rows, error) {
	return &floorRows{left: c.n, row: []driver.Value{int64(123456), int64(246912), "61728", int64(4), float64(41152)}}, nil
}

type floorRows struct {
	left int
	row  []driver.Value
}

func (r *floorRows) Columns() []string { return []string{"a", "b", "c", "d", "e"} }
func (r *floorRows) Close() error      { return nil }
func (r *floorRows) Next(dest []driver.Value) error {
	if r.left == 0 {
		return io.EOF
	}
	r.left--
	copy(dest, r.row)
	return nil
}
