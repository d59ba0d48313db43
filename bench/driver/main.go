// Command driver measures the database/sql driver as a user runs it, with cartolocal as a separate
// process, beside the baselines issue 14 names, each client in a process of its own:
//
//	go run ./bench/driver -rows 1000000,10000000
//
// For each size, the query select g as a, g*2 as b, g*0.5 as c, g%7 as d, g::float8/3 as e from
// generate_series(1, N) g is read by
//
//	psql \copy (...) TO /dev/null    the native limit, straight to PostgreSQL
//	curl                             cartolocal's JSON answer downloaded to /dev/null
//	pgx                              straight to PostgreSQL, rows.Scan into any
//	driver                           through cartolocal, rows.Scan into any for every column
//
// and the program prints wall time (process start to exit, the median of -runs), rows/s and peak RSS
// of each, and each wall time as a ratio of the download's and of native COPY's. Then it times SELECT 1
// round trips (median of -select1 runs): through the driver and cartolocal; through the driver
// against a server process that answers cartolocal's SELECT 1 answer from memory (the floor: the
// driver's own cost and one HTTP round trip between processes on this machine, see canned.go); and
// through pgx.
package main

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/gocarto/carto"
	"github.com/gocarto/carto/bench/internal/benchsrv"
	_ "github.com/gocarto/carto/driver"
)

// profileEnv hands -cpuprofile to the driver's child processes.
const profileEnv = "GOCARTO_BENCH_CPUPROFILE"

// idlePause is how long the idle pgx SELECT 1 waits before each round trip: longer than the
// kernel's idle polling (haltpoll polls up to 200 µs), shorter than anything a person notices.
const idlePause = time.Millisecond

const querySQL = "select g as a, g*2 as b, g*0.5 as c, g%%7 as d, g::float8/3 as e from generate_series(1,%d) g"

func main() {
	version := flag.Bool("version", false, "print gocarto's version and exit")
	child := flag.String("child", "", "internal: run one measured client (driver, pgx, select1-driver, select1-pgx, canned)")
	target := flag.String("target", "", "internal: the DSN or PostgreSQL URL")
	n := flag.Int("n", 0, "internal: rows, or SELECT 1 round trips")
	rowsFlag := flag.String("rows", "1000000,10000000", "comma-separated result sizes to measure")
	select1 := flag.Int("select1", 2000, "SELECT 1 round trips to time")
	runs := flag.Int("runs", 3, "runs of each client; the median counts")
	cpuProfile := flag.String("cpuprofile", "", "write the CPU profile of each driver client (its last run) to `prefix`.MODE-N.pprof")
	flag.Parse()
	if *version {
		fmt.Println(carto.Version)
		return
	}
	if *child != "" {
		if prefix := os.Getenv(profileEnv); prefix != "" && strings.Contains(*child, "driver") {
			f, err := os.Create(fmt.Sprintf("%s.%s-%d.pprof", prefix, *child, *n))
			if err == nil {
				err = pprof.StartCPUProfile(f)
			}
			if err != nil {
				fmt.Fprintln(os.Stderr, "child:", err)
				os.Exit(1)
			}
			defer pprof.StopCPUProfile()
		}
		if err := runChild(*child, *target, *n); err != nil {
			fmt.Fprintln(os.Stderr, "child:", err)
			pprof.StopCPUProfile()
			os.Exit(1)
		}
		return
	}
	if *cpuProfile != "" {
		if err := os.Setenv(profileEnv, *cpuProfile); err != nil {
			fmt.Fprintln(os.Stderr, "driver:", err)
			os.Exit(1)
		}
	}
	var sizes []int
	for _, s := range strings.Split(*rowsFlag, ",") {
		v, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || v <= 0 {
			fmt.Fprintln(os.Stderr, "driver: bad -rows:", s)
			os.Exit(2)
		}
		sizes = append(sizes, v)
	}
	if err := run(sizes, *select1, *runs); err != nil {
		fmt.Fprintln(os.Stderr, "driver:", err)
		os.Exit(1)
	}
}

// runChild is one measured client; it prints its wall time in ns (per round trip for the SELECT 1
// modes) and its peak RSS.
func runChild(mode, target string, n int) error {
	ctx := context.Background()
	var elapsed time.Duration
	switch mode {
	case "canned":
		return serveCanned()
	case "driver", "select1-driver":
		// target, when given, is another DSN than cartolocal's (the canned server's).
		dsn := os.Getenv("CARTO_DSN")
		if target != "" {
			dsn = target
		}
		db, err := sql.Open("carto", dsn)
		if err != nil {
			return err
		}
		defer db.Close()
		if mode == "driver" {
			elapsed, err = scanAll(ctx, func() (rowSource, error) { return db.QueryContext(ctx, fmt.Sprintf(querySQL, n)) }, n)
		} else {
			elapsed, err = roundTrips(n, 0, func() error {
				var one int
				return db.QueryRowContext(ctx, "SELECT 1").Scan(&one)
			})
		}
		if err != nil {
			return err
		}
	case "pgx", "select1-pgx", "select1-pgx-idle":
		conn, err := pgx.Connect(ctx, target)
		if err != nil {
			return err
		}
		defer conn.Close(ctx)
		if mode == "pgx" {
			elapsed, err = scanAll(ctx, func() (rowSource, error) {
				r, err := conn.Query(ctx, fmt.Sprintf(querySQL, n))
				return pgxRows{r}, err
			}, n)
		} else {
			// select1-pgx-idle pauses before each round trip, as a request finds cartolocal's
			// backend: idle for a while, so that both ends have gone to sleep, where a tight loop
			// keeps them awake.
			var pause time.Duration
			if mode == "select1-pgx-idle" {
				pause = idlePause
			}
			elapsed, err = roundTrips(n, pause, func() error {
				var one int
				return conn.QueryRow(ctx, "SELECT 1").Scan(&one)
			})
		}
		if err != nil {
			return err
		}
	default:
		return fmt.Errorf("unknown mode %q", mode)
	}
	fmt.Printf("%d %d\n", elapsed.Nanoseconds(), benchsrv.PeakRSS())
	return nil
}

// rowSource is what *sql.Rows and pgx's rows have in common for the measurement.
type rowSource interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
	Close() error
}

type pgxRows struct{ pgx.Rows }

func (r pgxRows) Close() error { r.Rows.Close(); return nil }

// scanAll runs the query and scans every column of every row into an any.
func scanAll(_ context.Context, query func() (rowSource, error), want int) (time.Duration, error) {
	start := time.Now()
	rows, err := query()
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	vals := make([]any, 5)
	ptrs := make([]any, 5)
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	got := 0
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return 0, err
		}
		got++
	}
	if err := rows.Err(); err != nil {
		return 0, err
	}
	if got != want {
		return 0, fmt.Errorf("%d rows, want %d", got, want)
	}
	return time.Since(start), nil
}

// median is the middle of ds (the mean of the two middle ones for an even count).
func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// roundTrips times n calls of f after a few to warm up, each after pause (not timed), and returns
// the median.
func roundTrips(n int, pause time.Duration, f func() error) (time.Duration, error) {
	for range 20 {
		if err := f(); err != nil {
			return 0, err
		}
	}
	times := make([]time.Duration, n)
	for i := range times {
		if pause > 0 {
			time.Sleep(pause)
		}
		start := time.Now()
		if err := f(); err != nil {
			return 0, err
		}
		times[i] = time.Since(start)
	}
	slices.Sort(times)
	return times[n/2], nil
}

type measurement struct {
	wall time.Duration
	rss  int64
}

func run(sizes []int, select1, runs int) error {
	ctx := context.Background()
	srv, err := benchsrv.Start(ctx, "bench")
	if err != nil {
		return err
	}
	defer srv.Close()
	self, err := os.Executable()
	if err != nil {
		return err
	}
	// The driver's children take the DSN, key and all, from the environment, never from their
	// command line.
	if err := os.Setenv("CARTO_DSN", srv.DSN()); err != nil {
		return err
	}
	child := func(mode, target string, n int) (measurement, error) {
		out, err := exec.Command(self, "-child", mode, "-target", target, "-n", strconv.Itoa(n)).Output()
		if err != nil {
			return measurement{}, fmt.Errorf("%s: %v", mode, err)
		}
		var ns, rss int64
		if _, err := fmt.Sscan(string(out), &ns, &rss); err != nil {
			return measurement{}, fmt.Errorf("%s printed %q", mode, out)
		}
		return measurement{time.Duration(ns), rss}, nil
	}
	timed := func(name string, args ...string) (measurement, error) {
		wall, rss, err := benchsrv.Run(name, args...)
		return measurement{wall, rss}, err
	}

	fmt.Printf("load average at the start: %s\n", loadAverage())
	tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "rows\tclient\twall\trows/s\tpeak RSS\tvs download\tvs native\t")
	for _, n := range sizes {
		q := fmt.Sprintf(querySQL, n)
		// Each client runs `runs` times, in turn with the others, timed from process start to exit;
		// the median counts, so that a burst of other work on a shared machine moves no ratio much.
		clients := []struct {
			name string
			run  func() (measurement, error)
		}{
			{"psql \\copy (native)", func() (measurement, error) {
				return timed("psql", "-X", "-q", srv.PGURL, "-c", `\copy (`+q+`) TO '/dev/null'`)
			}},
			{"curl (download)", func() (measurement, error) {
				return timed("curl", "-sS", "--fail", "-o", "/dev/null", "-u", srv.User+":"+srv.Key,
					"--data-urlencode", "q="+q, srv.BaseURL+"api/v2/sql")
			}},
			{"pgx", func() (measurement, error) {
				return timed(self, "-child", "pgx", "-target", srv.PGURL, "-n", strconv.Itoa(n))
			}},
			{"driver", func() (measurement, error) {
				return timed(self, "-child", "driver", "-n", strconv.Itoa(n))
			}},
		}
		walls := make([][]time.Duration, len(clients))
		best := make([]measurement, len(clients))
		for range runs {
			for i, c := range clients {
				m, err := c.run()
				if err != nil {
					return fmt.Errorf("%s: %w", c.name, err)
				}
				walls[i] = append(walls[i], m.wall)
				best[i].rss = max(best[i].rss, m.rss)
			}
		}
		for i := range clients {
			best[i].wall = median(walls[i])
		}
		native, download := best[0], best[1]
		for i, c := range clients {
			m := best[i]
			fmt.Fprintf(tw, "%d\t%s\t%.2fs\t%.0f\t%.1f MB\t%.2fx\t%.2fx\t\n", n, c.name, m.wall.Seconds(), float64(n)/m.wall.Seconds(),
				float64(m.rss)/(1<<20), m.wall.Seconds()/download.wall.Seconds(), m.wall.Seconds()/native.wall.Seconds())
		}
		_ = tw.Flush()
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	// The SELECT 1 clients also take turns, `runs` times each; each run's median round trip is one
	// sample, and the median of those is printed.
	canned, err := fetchCanned(ctx, srv.BaseURL, srv.Key)
	if err != nil {
		return err
	}
	cannedURL, stopCanned, err := startCanned(self, canned)
	if err != nil {
		return err
	}
	defer stopCanned()
	cannedDSN := "carto://" + srv.User + ":" + srv.Key + "@" + strings.TrimPrefix(cannedURL, "http://") + "?sslmode=disable"
	var ds, cs, ps, is []time.Duration
	for range runs {
		d, err := child("select1-driver", "", select1)
		if err != nil {
			return err
		}
		c, err := child("select1-driver", cannedDSN, select1)
		if err != nil {
			return err
		}
		p, err := child("select1-pgx", srv.PGURL, select1)
		if err != nil {
			return err
		}
		i, err := child("select1-pgx-idle", srv.PGURL, select1)
		if err != nil {
			return err
		}
		ds, cs, ps, is = append(ds, d.wall), append(cs, c.wall), append(ps, p.wall), append(is, i.wall)
	}
	d, c, p, i := median(ds), median(cs), median(ps), median(is)
	fmt.Printf("\nSELECT 1 round trip (median of %d runs of %d):\n", runs, select1)
	fmt.Printf("  %-38s %v\n", "driver through cartolocal", d)
	fmt.Printf("  %-38s %v (%.2fx of the above: the driver and one HTTP round trip, no server work)\n", "driver against a canned answer", c, c.Seconds()/d.Seconds())
	fmt.Printf("  %-38s %v (driver through cartolocal is %.1fx)\n", "pgx straight to PostgreSQL", p, d.Seconds()/p.Seconds())
	fmt.Printf("  %-38s %v (driver through cartolocal is %.1fx)\n", "pgx, each after "+idlePause.String()+" idle", i, d.Seconds()/i.Seconds())
	fmt.Printf("load average at the end: %s\n", loadAverage())
	return nil
}

// loadAverage is the first three fields of /proc/loadavg, the machine's load over 1, 5 and 15
// minutes: the measurements mean little without it on a shared machine.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}
