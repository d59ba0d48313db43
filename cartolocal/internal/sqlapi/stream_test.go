package sqlapi_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/url"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/gocarto/carto/cartolocal/cartotest"
)

// tailWriter keeps the last bytes written to it.
type tailWriter struct{ b []byte }

func (w *tailWriter) Write(p []byte) (int, error) {
	w.b = append(w.b, p...)
	if len(w.b) > 4096 {
		w.b = append(w.b[:0], w.b[len(w.b)-1024:]...)
	}
	return len(p), nil
}

// TestSQLStreamFlatMemory streams 2M rows and checks that the process's heap (server and client
// share it here) stays flat: rows go out as they come, nothing holds the result.
func TestSQLStreamFlatMemory(t *testing.T) {
	acct := cartotest.New(t)
	q := "select i, i * 2 as d, 'row ' || i as s, (i % 3 = 0) as b from generate_series(1, 2000000) i"
	u := sqlURL(acct) + "?" + url.Values{"q": {q}, "api_key": {acct.MasterKey}}.Encode()

	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapInuse
	var peak atomic.Uint64
	peak.Store(base)
	stop, sampled := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(sampled)
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		var m runtime.MemStats
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				runtime.ReadMemStats(&m)
				if m.HeapInuse > peak.Load() {
					peak.Store(m.HeapInuse)
				}
			}
		}
	}()
	start := time.Now()
	res, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	var tail tailWriter
	n, err := io.Copy(&tail, res.Body)
	res.Body.Close()
	close(stop)
	<-sampled
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("status %d, %v", res.StatusCode, err)
	}
	if !bytes.HasSuffix(tail.b, []byte(`,"total_rows":2000000}`)) {
		t.Fatalf("trailer: %s", tail.b[max(0, len(tail.b)-200):])
	}
	growth := int64(peak.Load()) - int64(base)
	t.Logf("2M rows, %d MB in %v; heap in use grew by at most %.1f MB", n>>20, time.Since(start).Round(time.Millisecond), float64(growth)/(1<<20))
	if growth > 50<<20 {
		t.Errorf("heap grew by %d MB streaming 2M rows", growth>>20)
	}
}

const bench1MQuery = "select i, i * 2 as b, 'name ' || i as c, i::float8 / 3 as d, (i % 2 = 0) as e from generate_series(1, 1000000) i"

// BenchmarkStream1M streams a 1M-row, 5-column select through cartolocal's HTTP API (JSON), and
// the same query through pgx directly as the baseline. The two alternate within each iteration, so
// that a busy machine slows both alike; it reports rows/s of each and their ratio.
func BenchmarkStream1M(b *testing.B) {
	acct := cartotest.New(b)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, acct.PGURL)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close(ctx)
	u := sqlURL(acct) + "?" + url.Values{"q": {bench1MQuery}, "api_key": {acct.MasterKey}}.Encode()
	var viaHTTP, viaPgx time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		streamHTTP(b, u)
		viaHTTP += time.Since(start)
		start = time.Now()
		streamPgx(b, conn)
		viaPgx += time.Since(start)
	}
	httpRate := float64(b.N) * 1e6 / viaHTTP.Seconds()
	pgxRate := float64(b.N) * 1e6 / viaPgx.Seconds()
	b.ReportMetric(httpRate, "cartolocal-rows/s")
	b.ReportMetric(pgxRate, "pgx-rows/s")
	b.ReportMetric(httpRate/pgxRate, "ratio")
}

func streamHTTP(b *testing.B, u string) {
	res, err := http.Get(u)
	if err != nil {
		b.Fatal(err)
	}
	var tail tailWriter
	_, err = io.Copy(&tail, res.Body)
	res.Body.Close()
	if err != nil || !bytes.HasSuffix(tail.b, []byte(`,"total_rows":1000000}`)) {
		b.Fatalf("%v: %s", err, tail.b)
	}
}

func streamPgx(b *testing.B, conn *pgx.Conn) {
	rows, err := conn.Query(context.Background(), bench1MQuery)
	if err != nil {
		b.Fatal(err)
	}
	var (
		n       int
		i1, i2  int64
		s       string
		f       float64
		boolean bool
	)
	for rows.Next() {
		if err := rows.Scan(&i1, &i2, &s, &f, &boolean); err != nil {
			b.Fatal(err)
		}
		n++
	}
	if rows.Err() != nil || n != 1000000 {
		b.Fatalf("%d rows, %v", n, rows.Err())
	}
}
