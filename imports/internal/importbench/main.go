// Command importbench measures an import of a large CSV with lat/lon columns from disk through
// the imports client and cartolocal, against ogr2ogr loading the same file straight into the
// same PostGIS (the baseline), run beside it. It is a benchmark program, not a test:
//
//	go run ./imports/internal/importbench -size 1GiB
//
// The CSV (id, name, lat, lon, value, day) is generated in a temporary directory (-dir, default
// $TMPDIR) and deleted at the end: it needs the file's size free on disk, and PostgreSQL about
// three times as much for the tables. Issue 11's goals are a 1 GiB file, client memory under
// 64 MB and at least 0.7 of the baseline's throughput.
//
// It starts cartolocal (a private cluster) in a child process, so that the memory it reports is
// the client's alone: the peak resident set of this process and the Go heap's peak while
// uploading. Both sides load into that one cluster. Throughput is the file's size over the wall
// time from the first byte sent to the import's end (upload, ogr2ogr, guessing, cartodbfy,
// registration; the import is polled every 100 to 500 ms), and over ogr2ogr's run for the
// baseline. The runs alternate, baseline first, -runs times each; medians are reported, with the
// time the import spent in each state it was seen in and the load average during the runs (the
// machine's other work slows both sides).
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"math"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/gocarto/carto"
	"github.com/gocarto/carto/cartolocal"
	"github.com/gocarto/carto/imports"
)

func main() {
	serve := flag.Bool("serve", false, "internal: run cartolocal and print its address and PostgreSQL URL")
	size := flag.String("size", "1GiB", "the CSV's size (KiB, MiB, GiB)")
	runs := flag.Int("runs", 1, "runs of each side")
	dir := flag.String("dir", "", "where to write the CSV (default $TMPDIR)")
	version := flag.Bool("version", false, "print gocarto's version and exit")
	flag.Parse()
	if *version {
		fmt.Println(carto.Version)
		return
	}
	if *serve {
		if err := runServer(); err != nil {
			log.Fatal(err)
		}
		return
	}
	n, err := parseSize(*size)
	if err != nil {
		log.Fatal(err)
	}
	if err := bench(n, *runs, *dir); err != nil {
		log.Fatal(err)
	}
}

func parseSize(s string) (int64, error) {
	mult := int64(1)
	for suffix, m := range map[string]int64{"KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30} {
		if v, ok := strings.CutSuffix(s, suffix); ok {
			s, mult = v, m
		}
	}
	v, err := strconv.ParseFloat(s, 64)
	return int64(v * float64(mult)), err
}

// runServer is the child: cartolocal on a private cluster, one account "bench".
func runServer() error {
	ctx := context.Background()
	srv, err := cartolocal.New(ctx, cartolocal.Config{Users: []cartolocal.UserConfig{{Name: "bench", MasterKey: "bench-master-key"}}, Logf: func(string, ...any) {}})
	if err != nil {
		return err
	}
	defer srv.Close()
	hs := srv.HTTPServer()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	fmt.Printf("%s %s\n", ln.Addr(), srv.PGURL())
	go hs.Serve(ln)
	// The parent closes our stdin to stop us.
	io.Copy(io.Discard, os.Stdin)
	return hs.Close()
}

// writeCSV writes a CSV of about size bytes: id, name, lat, lon, value, day.
func writeCSV(path string, size int64) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	var written int64
	n, _ := w.WriteString("id,name,lat,lon,value,day\n")
	written += int64(n)
	for i := 1; written < size; i++ {
		n, err := fmt.Fprintf(w, "%d,place %d,%.5f,%.5f,%d.%02d,2024-%02d-%02d\n", i, i, float64(i%17000)/100-85, float64(i%35000)/100-175, i%100000, i%100, i%12+1, i%28+1)
		if err != nil {
			return err
		}
		written += int64(n)
	}
	if err := w.Flush(); err != nil {
		return err
	}
	return f.Close()
}

func bench(size int64, runs int, parent string) error {
	dir, err := os.MkdirTemp(parent, "importbench")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	csv := filepath.Join(dir, "points.csv")
	if err := writeCSV(csv, size); err != nil {
		return err
	}
	st, _ := os.Stat(csv)
	size = st.Size()
	mb := float64(size) / 1e6

	self, err := os.Executable()
	if err != nil {
		return err
	}
	child := exec.Command(self, "-serve")
	child.Stderr = os.Stderr
	stdin, _ := child.StdinPipe()
	stdout, _ := child.StdoutPipe()
	if err := child.Start(); err != nil {
		return err
	}
	defer func() { stdin.Close(); child.Wait() }()
	var addr, pgURL string
	if _, err := fmt.Fscan(stdout, &addr, &pgURL); err != nil {
		return fmt.Errorf("starting cartolocal: %w", err)
	}
	client, err := carto.NewClient("http://"+addr+"/user/bench/", carto.WithAPIKey("bench-master-key"),
		carto.WithHTTPClient(&http.Client{}))
	if err != nil {
		return err
	}
	c := imports.New(client)
	ctx := context.Background()

	var base, imp []float64
	var peakHeap atomic.Uint64
	load := sampleLoad()
	for r := range runs {
		d, err := baseline(ctx, pgURL, csv, r)
		if err != nil {
			return fmt.Errorf("baseline: %w", err)
		}
		base = append(base, mb/d.Seconds())
		fmt.Printf("baseline ogr2ogr: %.1f s, %.1f MB/s\n", d.Seconds(), mb/d.Seconds())

		stop := sampleHeap(&peakHeap)
		start := time.Now()
		f, err := os.Open(csv)
		if err != nil {
			return err
		}
		i, err := c.Upload(ctx, "points.csv", f, nil)
		f.Close()
		if err != nil {
			stop()
			return err
		}
		uploaded := time.Now()
		var steps []string
		last, lastAt := "upload", start
		done, err := c.Wait(ctx, i.ID, imports.PollInterval(100*time.Millisecond, 500*time.Millisecond),
			imports.OnChange(func(i *imports.Import) {
				now := time.Now()
				if last == "upload" {
					now = uploaded
				}
				steps = append(steps, fmt.Sprintf("%s %.1f s", last, now.Sub(lastAt).Seconds()))
				last, lastAt = string(i.State), now
			}))
		d = time.Since(start)
		stop()
		if err != nil {
			return err
		}
		imp = append(imp, mb/d.Seconds())
		fmt.Printf("import %s: %.1f s, %.1f MB/s (%s)\n", done.TableName, d.Seconds(), mb/d.Seconds(), strings.Join(steps, ", "))
	}
	mean, peak := load()
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	slices.Sort(base)
	slices.Sort(imp)
	b, i := base[len(base)/2], imp[len(imp)/2]
	fmt.Printf("file: %.0f MB; client peak RSS %.1f MB, peak Go heap %.1f MB\n", mb, float64(ru.Maxrss)/1024, float64(peakHeap.Load())/1e6)
	fmt.Printf("throughput: import %.1f MB/s, ogr2ogr %.1f MB/s, ratio %.2f\n", i, b, i/b)
	fmt.Printf("load average (1 min) during the runs: mean %.1f, peak %.1f, on %d CPUs\n", mean, peak, runtime.NumCPU())
	return nil
}

// baseline loads the CSV with ogr2ogr straight into a schema of the same database, with the
// same CSV options the import uses, and times it.
func baseline(ctx context.Context, pgURL, csv string, run int) (time.Duration, error) {
	cfg, err := pgx.ParseConfig(pgURL)
	if err != nil {
		return 0, err
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return 0, err
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE SCHEMA IF NOT EXISTS bench; DROP TABLE IF EXISTS bench.baseline"); err != nil {
		return 0, err
	}
	args := []string{"-f", "PostgreSQL", "-oo", "AUTODETECT_TYPE=YES", "-oo", "X_POSSIBLE_NAMES=lon", "-oo", "Y_POSSIBLE_NAMES=lat",
		"-s_srs", "EPSG:4326", "-t_srs", "EPSG:4326",
		fmt.Sprintf("PG:host=%s port=%d user=%s dbname=%s", cfg.Host, cfg.Port, cfg.User, cfg.Database), csv, "-nln", "bench.baseline"}
	cmd := exec.CommandContext(ctx, "ogr2ogr", args...)
	cmd.Env = append(os.Environ(), "PG_USE_COPY=YES", "PGPASSWORD="+cfg.Password)
	start := time.Now()
	out, err := cmd.CombinedOutput()
	d := time.Since(start)
	if err != nil {
		return 0, fmt.Errorf("%w: %s", err, out)
	}
	_, err = conn.Exec(ctx, "DROP TABLE bench.baseline")
	_ = run
	return d, err
}

// sampleHeap records the Go heap's peak until stopped.
func sampleHeap(peak *atomic.Uint64) (stop func()) {
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		for {
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > peak.Load() {
				peak.Store(ms.HeapInuse)
			}
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	return func() { close(done); <-finished }
}

// sampleLoad samples the 1-minute load average every 5 s until its result is called, which
// returns the mean and the peak (0 where /proc/loadavg is missing).
func sampleLoad() func() (mean, peak float64) {
	done := make(chan struct{})
	var sum, max float64
	var n int
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(5 * time.Second)
		defer t.Stop()
		for {
			if b, err := os.ReadFile("/proc/loadavg"); err == nil {
				if f := strings.Fields(string(b)); len(f) > 0 {
					if v, err := strconv.ParseFloat(f[0], 64); err == nil {
						sum, n, max = sum+v, n+1, math.Max(max, v)
					}
				}
			}
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	return func() (float64, float64) {
		close(done)
		<-finished
		if n == 0 {
			return 0, 0
		}
		return sum / float64(n), max
	}
}
