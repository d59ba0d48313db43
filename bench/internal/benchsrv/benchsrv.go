// Package benchsrv starts what the benchmark programs measure against: a private PostgreSQL +
// PostGIS cluster and cmd/cartolocal on it as a separate process, as a user would run them.
package benchsrv

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/gocarto/carto/cartolocal/pgcluster"
)

// Server is a running cartolocal with one account, and the PostgreSQL under it.
type Server struct {
	// PGURL is the superuser URL of the cluster; BaseURL, User and Key the account's.
	PGURL, BaseURL, User, Key string

	cluster *pgcluster.Cluster
	proc    *exec.Cmd
	tmp     string
}

// Start builds cmd/cartolocal (the program must run from the repository's root), starts a
// private cluster and the server on it with the account user.
func Start(ctx context.Context, user string) (*Server, error) {
	tmp, err := os.MkdirTemp("", "gocarto-bench-*")
	if err != nil {
		return nil, err
	}
	s := &Server{tmp: tmp, User: user}
	bin := filepath.Join(tmp, "cartolocal")
	if out, err := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/cartolocal").CombinedOutput(); err != nil {
		s.Close()
		return nil, fmt.Errorf("building cmd/cartolocal (run from the repository's root): %v\n%s", err, out)
	}
	if s.cluster, err = pgcluster.Start(ctx, pgcluster.Config{}); err != nil {
		s.Close()
		return nil, err
	}
	s.PGURL = s.cluster.URL()
	s.proc = exec.Command(bin, "-pg-url", s.PGURL, "-addr", "127.0.0.1:0", "-user", user)
	stdout, err := s.proc.StdoutPipe()
	if err != nil {
		s.Close()
		return nil, err
	}
	s.proc.Stderr = io.Discard
	if err := s.proc.Start(); err != nil {
		s.proc = nil
		s.Close()
		return nil, err
	}
	env := map[string]string{}
	sc := bufio.NewScanner(stdout)
	for len(env) < 4 && sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), "="); ok {
			env[k] = v
		}
	}
	go func() { _, _ = io.Copy(io.Discard, stdout) }()
	s.BaseURL, s.Key = env["CARTO_BASE_URL"], env["CARTO_API_KEY"]
	if s.BaseURL == "" || s.Key == "" {
		s.Close()
		return nil, fmt.Errorf("cartolocal did not start")
	}
	return s, nil
}

// DSN is the driver's data source name for the account.
func (s *Server) DSN() string {
	return "carto://" + s.User + ":" + s.Key + "@" + strings.TrimPrefix(s.BaseURL, "http://") + "?sslmode=disable"
}

// Close stops the server and the cluster and removes what Start made.
func (s *Server) Close() {
	if s.proc != nil {
		_ = s.proc.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { _ = s.proc.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = s.proc.Process.Kill()
			<-done
		}
	}
	if s.cluster != nil {
		_ = s.cluster.Stop()
	}
	_ = os.RemoveAll(s.tmp)
}

// PeakRSS is the peak resident set size of this process, in bytes: VmHWM of /proc/self/status.
// getrusage's ru_maxrss will not do: Linux carries it across fork and exec, so a child's starts at
// its parent's.
func PeakRSS() int64 { return vmHWM("self") }

// vmHWM reads the peak resident set size of process pid ("self" or a number) from /proc, in bytes;
// 0 when it cannot.
func vmHWM(pid string) int64 {
	b, err := os.ReadFile("/proc/" + pid + "/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// Run runs an external program to its end and returns its wall time and peak RSS, which it samples
// from /proc every few milliseconds while the program runs (the last moments may be missed).
func Run(name string, args ...string) (time.Duration, int64, error) {
	cmd := exec.Command(name, args...)
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return 0, 0, err
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	pid := strconv.Itoa(cmd.Process.Pid)
	var peak int64
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case err := <-done:
			wall := time.Since(start)
			if err != nil {
				return 0, 0, fmt.Errorf("%s: %v\n%s", name, err, out.String())
			}
			return wall, peak, nil
		case <-tick.C:
			peak = max(peak, vmHWM(pid))
		}
	}
}
