package pgcluster_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/gocarto/carto/cartolocal/pgcluster"
)

// postmasterPID reads the postmaster's process id from the first line of postmaster.pid.
func postmasterPID(t *testing.T, dataDir string) int {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dataDir, "postmaster.pid"))
	if err != nil {
		t.Fatal(err)
	}
	line, _, _ := strings.Cut(string(b), "\n")
	pid, err := strconv.Atoi(strings.TrimSpace(line))
	if err != nil {
		t.Fatalf("postmaster.pid: %v", err)
	}
	return pid
}

func alive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || err == syscall.EPERM
}

// waitGone waits for a process to be gone: Stop has waited for the postmaster, so this only
// tolerates the kernel's bookkeeping.
func waitGone(t *testing.T, pid int) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); alive(pid); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("process %d still runs", pid)
		}
	}
}

// deadPID returns the id of a process that has exited.
func deadPID(t *testing.T) int {
	t.Helper()
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	return cmd.Process.Pid
}

func TestClusterStartStop(t *testing.T) {
	ctx := context.Background()
	// Directories left by a dead process go; those of a live one stay.
	abandoned, err := os.MkdirTemp("", "cartolocal-")
	if err != nil {
		t.Fatal(err)
	}
	live, err := os.MkdirTemp("", "cartolocal-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(live)
	for dir, pid := range map[string]int{abandoned: deadPID(t), live: os.Getpid()} {
		if err := os.WriteFile(filepath.Join(dir, "cartolocal_owner_pid"), []byte(strconv.Itoa(pid)), 0o644); err != nil {
			t.Fatal(err)
		}
	}

	start := time.Now()
	c, err := pgcluster.Start(ctx, pgcluster.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("temporary cluster up in %v", time.Since(start).Round(time.Millisecond))
	dir := c.DataDir()
	pid := postmasterPID(t, dir)
	if _, err := os.Stat(abandoned); !os.IsNotExist(err) {
		t.Errorf("abandoned %s kept (%v)", abandoned, err)
	}
	if _, err := os.Stat(live); err != nil {
		t.Errorf("live %s removed: %v", live, err)
	}
	if pid != c.PID() {
		t.Errorf("postmaster.pid says %d, PID() %d", pid, c.PID())
	}
	conn, err := pgx.Connect(ctx, c.URL())
	if err != nil {
		t.Fatal(err)
	}
	var addr, sockets, fsync string
	if err := conn.QueryRow(ctx, "SELECT current_setting('listen_addresses'), current_setting('unix_socket_directories'), current_setting('fsync')").Scan(&addr, &sockets, &fsync); err != nil {
		t.Fatal(err)
	}
	conn.Close(ctx)
	if addr != "127.0.0.1" || sockets != "" || fsync != "off" {
		t.Errorf("listen_addresses %q, unix_socket_directories %q, fsync %q", addr, sockets, fsync)
	}
	// Every login needs the password.
	bad := strings.Replace(c.URL(), "postgres:", "postgres:wrong", 1)
	if conn, err := pgx.Connect(ctx, bad); err == nil {
		conn.Close(ctx)
		t.Error("a wrong password logged in")
	}

	if err := c.Stop(); err != nil {
		t.Fatal(err)
	}
	waitGone(t, pid)
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("temporary data directory %s left behind (%v)", dir, err)
	}
	if err := c.Stop(); err != nil {
		t.Errorf("second Stop: %v", err)
	}
}

func TestClusterRefusesForeignDirectory(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("mine"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := pgcluster.Start(context.Background(), pgcluster.Config{DataDir: dir})
	if err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Fatalf("err = %v, want a non-empty directory error", err)
	}
}

// TestClusterTemplate builds the cluster template in an empty cache, then starts from it.
func TestClusterTemplate(t *testing.T) {
	if testing.Short() {
		t.Skip("runs initdb")
	}
	cache := t.TempDir()
	t.Setenv("XDG_CACHE_HOME", cache)
	ctx := context.Background()
	var logs []string
	logf := func(format string, args ...any) { logs = append(logs, fmt.Sprintf(format, args...)) }
	start := time.Now()
	c1, err := pgcluster.Start(ctx, pgcluster.Config{Logf: logf})
	if err != nil {
		t.Fatal(err)
	}
	built := time.Since(start)
	c1.Stop()
	templates, _ := filepath.Glob(filepath.Join(cache, "cartolocal", "template-*", "PG_VERSION"))
	if len(templates) != 1 {
		t.Fatalf("templates after the first start: %v (log %q)", templates, logs)
	}
	start = time.Now()
	c2, err := pgcluster.Start(ctx, pgcluster.Config{Logf: logf})
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Stop()
	t.Logf("first start (initdb, PostGIS, template) %v; from the template %v", built.Round(time.Millisecond), time.Since(start).Round(time.Millisecond))
	// The copy has PostGIS already, and a password of its own.
	if strings.Contains(c2.URL(), strings.Split(strings.TrimPrefix(c1.URL(), "postgres://postgres:"), "@")[0]) {
		t.Error("the copy kept the template's superuser password")
	}
	conn, err := pgx.Connect(ctx, c2.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var version string
	if err := conn.QueryRow(ctx, "SELECT extversion FROM pg_extension WHERE extname = 'postgis'").Scan(&version); err != nil {
		t.Fatalf("PostGIS in the copy: %v", err)
	}
	if err := conn.QueryRow(ctx, "SELECT extversion FROM pg_extension WHERE extname = 'postgis_raster'").Scan(&version); err != nil {
		t.Fatalf("postgis_raster in the copy: %v", err)
	}
}
