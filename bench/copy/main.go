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
// and prints wall time, throughput, the client's peak RSS, and the ratio of throughputs against
// psql's (above 1 is faster than psql). The data is COPY's text format in both directions.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
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
	child := flag.String("child", "", "internal: run one measured client (copyto or copyfrom)")
	baseURL := flag.String("url", "", "internal: the account's base URL")
	file := flag.String("file", "", "internal: the data file of copyfrom")
	noGzip := flag.Bool("nogzip", false, "internal: copyfrom without gzip")
	query := flag.String("sql", "", "internal: the COPY statement")
	rowsFlag := flag.String("rows", "1000000,10000000", "comma-separated table sizes to measure")
	flag.Parse()
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
	if err := run(sizes); err != nil {
		fmt.Fprintln(os.Stderr, "copy:", err)
		os.Exit(1)
	}
}

// runChild is one measured client: it prints its wall time and peak RSS.
func runChild(mode, baseURL, q, file string, noGzip bool) error {
	c, err := carto.NewClient(baseURL) // the key comes from $CARTO_API_KEY
	if err != nil {
		return err
	}
	api := sqlapi.New(c)
	ctx := context.Background()
	start := time.Now()
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
	elapsed := time.Since(start)
	fmt.Printf("%d %d\n", elapsed.Nanoseconds(), benchsrv.PeakRSS())
	return nil
}

// measurement is one timed run of one tool.
type measurement struct {
	wall time.Duration
	rss  int64 // bytes
}

func run(sizes []int) error {
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
			start := time.Now()
			p := exec.Command("psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", pgURL, "-c", cmd)
			if out, err := p.CombinedOutput(); err != nil {
				return measurement{}, fmt.Errorf("psql %s: %v\n%s", cmd, err, out)
			}
			return measurement{wall: time.Since(start), rss: benchsrv.ChildPeakRSS(p.ProcessState)}, nil
		}
		childRun := func(args ...string) (measurement, error) {
			self, err := os.Executable()
			if err != nil {
				return measurement{}, err
			}
			p := exec.Command(self, append([]string{"-url", baseURL}, args...)...)
			p.Env = append(os.Environ(), "CARTO_API_KEY="+key)
			out, err := p.Output()
			if err != nil {
				return measurement{}, fmt.Errorf("%v: %v", args, err)
			}
			var ns, rss int64
			if _, err := fmt.Sscan(string(out), &ns, &rss); err != nil {
				return measurement{}, fmt.Errorf("%v printed %q", args, out)
			}
			return measurement{wall: time.Duration(ns), rss: rss}, nil
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

		baseTo, err := psql(`\copy (SELECT * FROM bench.t) TO '/dev/null'`)
		if err != nil {
			return err
		}
		oursTo, err := childRun("-child", "copyto", "-sql", "COPY (SELECT * FROM t) TO STDOUT")
		if err != nil {
			return err
		}
		row("COPY TO", "psql \\copy", baseTo, baseTo)
		row("COPY TO", "sqlapi.CopyTo", oursTo, baseTo)

		baseFrom, err := psql(`\copy bench.t2 FROM '` + data + `'`)
		if err != nil {
			return err
		}
		row("COPY FROM", "psql \\copy", baseFrom, baseFrom)
		for _, gz := range []bool{true, false} {
			if _, err := psql(`TRUNCATE bench.t2`); err != nil {
				return err
			}
			args := []string{"-child", "copyfrom", "-sql", "COPY t2 FROM STDIN", "-file", data}
			name := "sqlapi.CopyFrom gzip"
			if !gz {
				args = append(args, "-nogzip")
				name = "sqlapi.CopyFrom plain"
			}
			m, err := childRun(args...)
			if err != nil {
				return err
			}
			row("COPY FROM", name, m, baseFrom)
		}
		_ = os.Remove(data)
		_ = tw.Flush()
	}
	return tw.Flush()
}
