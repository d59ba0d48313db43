package cartolocal_test

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gocarto/carto/cartolocal"
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

// waitGone waits for a process to be gone: Close has waited for the postmaster, so this only
// tolerates the kernel's bookkeeping.
func waitGone(t *testing.T, pid int) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if err := syscall.Kill(pid, 0); err != nil && err != syscall.EPERM {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("process %d still runs", pid)
		}
	}
}

// TestRestartKeepsAccountsAndData stops a server on a data directory and starts another on it.
func TestRestartKeepsAccountsAndData(t *testing.T) {
	if testing.Short() {
		t.Skip("starts two clusters")
	}
	// cmd/cartolocal's test restarts a durable data directory; here speed matters more.
	defer cartolocal.SetClusterNoSync(true)()
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "missing", "parents", "pgdata")
	logf := func(string, ...any) {}
	s1, err := cartolocal.New(ctx, cartolocal.Config{DataDir: dir, Users: []cartolocal.UserConfig{{Name: "keeper"}}, Logf: logf})
	if err != nil {
		t.Fatal(err)
	}
	u1, _ := s1.User("keeper")
	conn, err := u1.Acquire(ctx, true)
	if err != nil {
		t.Fatal(err)
	}
	_, err = conn.Exec(ctx, "CREATE TABLE kept (v text); INSERT INTO kept VALUES ('still here')")
	conn.Release()
	if err != nil {
		t.Fatal(err)
	}
	pid := postmasterPID(t, dir)
	if err := s1.Close(); err != nil {
		t.Fatal(err)
	}
	waitGone(t, pid)
	if _, err := os.Stat(filepath.Join(dir, "PG_VERSION")); err != nil {
		t.Fatalf("data directory gone after Close: %v", err)
	}

	// No users configured: the stored account is served again, with its keys.
	s2, err := cartolocal.New(ctx, cartolocal.Config{DataDir: dir, Logf: logf})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	u2, ok := s2.User("keeper")
	if !ok {
		t.Fatal("account lost across the restart")
	}
	if u2.MasterKey != u1.MasterKey || u2.PublicKey != u1.PublicKey {
		t.Error("keys changed across the restart")
	}
	conn, err = u2.Acquire(ctx, true)
	if err != nil {
		t.Fatal(err)
	}
	var v string
	err = conn.QueryRow(ctx, "SELECT v FROM kept").Scan(&v)
	conn.Release()
	if err != nil || v != "still here" {
		t.Fatalf("data after restart: %q, %v", v, err)
	}

	// A configured key overrides the stored one, and is stored in turn.
	u3, err := s2.AddUser(ctx, cartolocal.UserConfig{Name: "keeper", MasterKey: "new-master-key"})
	if err != nil {
		t.Fatal(err)
	}
	if u3.MasterKey != "new-master-key" || u3.PublicKey != u1.PublicKey {
		t.Errorf("after override: master %q, public changed %v", u3.MasterKey, u3.PublicKey != u1.PublicKey)
	}
	if got, _ := s2.User("keeper"); got != u3 {
		t.Error("Server.User does not return the updated account")
	}
}
