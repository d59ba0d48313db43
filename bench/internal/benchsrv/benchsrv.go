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
	"strings"
	"syscall"
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

// PeakRSS is the peak resident set size of this process, in bytes.
func PeakRSS() int64 {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return ru.Maxrss << 10
}

// ChildPeakRSS is the peak resident set size of a finished child process, in bytes.
func ChildPeakRSS(ps *os.ProcessState) int64 {
	if ru, ok := ps.SysUsage().(*syscall.Rusage); ok {
		return ru.Maxrss << 10
	}
	return 0
}
