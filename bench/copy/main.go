// Command copy measures COPY through CARTO's SQL API (package sqlapi against cartolocal) beside
// psql's \copy on the same PostgreSQL + PostGIS, the baseline:
//
//	go run ./bench/copy -rows 1000000,10000000
//
// It starts a private PostgreSQL cluster, runs cmd/cartolocal on it as a separate process, fills a
// table of the asked number of rows (id, text, float, point), then for each size measures, each
// tool in a process of its own:
//
//	COPY TO    psql \copy (SELECT * FROM t) TO /dev/null   vs  sqlapi.CopyTo into /dev/null
//	COPY FROM  psql \copy t2 FROM file                     vs  sqlapi.CopyFrom from the same file,
//	                                                           gzip on (the default) and off
//
// and prints wall time (process start to exit, the best of -runs), throughput, the client's peak
// RSS, and the ratio of throughputs against psql's (above 1 is faster than psql). The data is
// COPY's text format in both directions.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/gocarto/carto"
	"github.com/gocarto/carto/bench/internal/benchsrv"
	"github.com/gocarto/carto/sqlapi"
)

func main() {
	version := flag.Bool("version", false, "print gocarto's version and exit")
	child := flag.String("child", "", "internal: run one measured client (copyto or copyfrom)")
	baseURL := flag.String("url", "", "internal: the account's base URL")
	file := flag.String("file", "", "internal: the data file of copyfrom")
	noGzip := flag.Bool("nogzip", false, "internal: copyfrom without gzip")
	query := flag.String("sql", "", "internal: the COPY statement")
	rowsFlag := flag.String("rows", "1000000,10000000", "comma-separated table sizes to measure")
	runs := flag.Int("runs", 3, "runs of each client; the best counts")
	flag.Parse()
	if *version {
		fmt.Println(carto.Version)
		return
	}
	if *child != "" {
		if err := runChild(*child, *baseURL, *query, *file, *noGzip); err != nil {
			fmt.Fprintln(os.Stderr, "child:", err)
			os.Exit(1)
		}
		return
	}
	var sizes []int
	for _, s := range strings.Split(*rowsFlag, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n <= 0 {
			fmt.Fprintln(os.Stderr, "copy: bad -rows:", s)
			os.Exit(2)
		}
		sizes = append(sizes, n)
	}
	if err := run(sizes, *runs); err != nil {
		fmt.Fprintln(os.Stderr, "copy:", err)
		os.Exit(1)
	}
}

// runChild is one measured client; the parent times it, start to exit, and samples its RSS.
func runChild(mode, baseURL, q, file string, noGzip bool) error {
	c, err := carto.NewClient(baseURL) // the key comes from $CARTO_API_KEY
	if err != nil {
		return err
	}
	api := sqlapi.New(c)
	ctx := context.Background()
	switch mode {
	case "copyto":
		out, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
		if err != nil {
			return err
		}
		defer out.Close()
		if _, err := api.CopyTo(ctx, q, out); err != nil {
			return err
		}
	case "copyfrom":
		f, err := os.Open(file)
		if err != nil {
			return err
		}
		defer f.Close()
		var opts []sqlapi.Option
		if noGzip {
			opts = append(opts, sqlapi.WithoutGzip())
		}
		if _, err := api.CopyFrom(ctx, q, f, opts...); err != nil {
			return err
		}
	default:
		return fmt.Errorf("unknown mode %q", mode)
	}
	return nil
}

// measurement is one timed run of one tool.
type measurement struct {
	wall time.Duration
	rss  int64 // bytes
}

func run(sizes []int, runs int) error {
	ctx := context.Background()
	tmp, err := os.MkdirTemp("", "copybench-*")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)

	srv, err := benchsrv.Start(ctx, "bench")
	if err != nil {
		return err
	}
	defer srv.Close()
	pgURL, baseURL, key := srv.PGURL, srv.BaseURL, srv.Key
	// The children take the key from the environment, never from their command line.
	if err := os.Setenv("CARTO_API_KEY", key); err != nil {
		return err
	}
	c, err := carto.NewClient(baseURL, carto.WithAPIKey(key))
	if err != nil {
		return err
	}
	api := sqlapi.New(c)
	exec1 := func(q string) error {
		_, err := api.Query(ctx, q, io.Discard)
		return err
	}

	tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "rows\tdirection\tclient\twall\tMB/s\trows/s\tpeak RSS\tthroughput vs psql\t")
	for _, n := range sizes {
		fmt.Fprintf(os.Stderr, "filling a table of %d rows...\n", n)
		if err := exec1(`DROP TABLE IF EXISTS t; DROP TABLE IF EXISTS t2;
			CREATE TABLE t AS SELECT g AS id, 'name '||g AS name, g/3.0::float8 AS v,
				ST_SetSRID(ST_MakePoint(g % 180, g % 90), 4326) AS the_geom FROM generate_series(1, ` + strconv.Itoa(n) + `) g;
			CREATE TABLE t2 (LIKE t)`); err != nil {
			return err
		}
		data := filepath.Join(tmp, "t.copy")
		psql := func(cmd string) (measurement, error) {
			wall, rss, err := benchsrv.Run("psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", pgURL, "-c", cmd)
			return measurement{wall: wall, rss: rss}, err
		}
		childRun := func(args ...string) (measurement, error) {
			self, err := os.Executable()
			if err != nil {
				return measurement{}, err
			}
			wall, rss, err := benchsrv.Run(self, append([]string{"-url", baseURL}, args...)...)
			return measurement{wall: wall, rss: rss}, err
		}
		if _, err := psql(`\copy bench.t TO '` + data + `'`); err != nil {
			return err
		}
		st, err := os.Stat(data)
		if err != nil {
			return err
		}
		size := float64(st.Size())
		row := func(dir, client string, m, base measurement) {
			fmt.Fprintf(tw, "%d\t%s\t%s\t%.2fs\t%.1f\t%.0f\t%.1f MB\t%.2fx\t\n", n, dir, client, m.wall.Seconds(),
				size/m.wall.Seconds()/1e6, float64(n)/m.wall.Seconds(), float64(m.rss)/(1<<20), base.wall.Seconds()/m.wall.Seconds())
		}

		// Each client runs `runs` times, in turn with the others, and its best run counts: other
		// work on the machine only ever slows a run down.
		type client struct {
			dir, name string
			prep      func() error
			measure   func() (measurement, error)
		}
		truncate := func() error { _, err := psql(`TRUNCATE bench.t2`); return err }
		none := func() error { return nil }
		clients := []client{
			{"COPY TO", "psql \\copy", none, func() (measurement, error) {
				return psql(`\copy (SELECT * FROM bench.t) TO '/dev/null'`)
			}},
			{"COPY TO", "sqlapi.CopyTo", none, func() (measurement, error) {
				return childRun("-child", "copyto", "-sql", "COPY (SELECT * FROM t) TO STDOUT")
			}},
			{"COPY FROM", "psql \\copy", truncate, func() (measurement, error) {
				return psql(`\copy bench.t2 FROM '` + data + `'`)
			}},
			{"COPY FROM", "sqlapi.CopyFrom gzip", truncate, func() (measurement, error) {
				return childRun("-child", "copyfrom", "-sql", "COPY t2 FROM STDIN", "-file", data)
			}},
			{"COPY FROM", "sqlapi.CopyFrom plain", truncate, func() (measurement, error) {
				return childRun("-child", "copyfrom", "-sql", "COPY t2 FROM STDIN", "-file", data, "-nogzip")
			}},
		}
		best := make([]measurement, len(clients))
		for r := range runs {
			for i, c := range clients {
				if err := c.prep(); err != nil {
					return err
				}
				m, err := c.measure()
				if err != nil {
					return fmt.Errorf("%s %s: %w", c.dir, c.name, err)
				}
				if r == 0 || m.wall < best[i].wall {
					best[i].wall = m.wall
				}
				best[i].rss = max(best[i].rss, m.rss)
			}
		}
		for i, c := range clients {
			base := best[0]
			if c.dir == "COPY FROM" {
				base = best[2]
			}
			row(c.dir, c.name, best[i], base)
		}
		_ = os.Remove(data)
		_ = tw.Flush()
	}
	return tw.Flush()
}
