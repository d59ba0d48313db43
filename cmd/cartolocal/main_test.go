package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// build compiles the command once per test binary.
func build(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "cartolocal")
	// go test puts its own GOROOT/bin first on the PATH of the processes a test starts.
	cmd := exec.Command("go", "build", "-o", bin, ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// syncBuffer is a bytes.Buffer that os/exec's copying goroutine can write while the test reads it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// server is a running cartolocal process.
type server struct {
	cmd    *exec.Cmd
	stderr *syncBuffer
	vars   []map[string]string // one per user, in order
	exited chan error
}

// launch starts the command and reads the variables it prints for n users.
func launch(t *testing.T, bin string, n int, args ...string) *server {
	t.Helper()
	cmd := exec.Command(bin, args...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	s := &server{cmd: cmd, stderr: &syncBuffer{}, exited: make(chan error, 1)}
	cmd.Stderr = s.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
		s.exited <- cmd.Wait()
	}()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
		}
	})
	timeout := time.After(2 * time.Minute)
	for len(s.vars) < n || len(s.vars[n-1]) < 4 {
		select {
		case line, ok := <-lines:
			if !ok {
				t.Fatalf("cartolocal exited before printing its users:\n%s", s.stderr)
			}
			k, v, found := strings.Cut(line, "=")
			if !found || !strings.HasPrefix(k, "CARTO_") {
				t.Fatalf("unexpected output line %q", line)
			}
			if k == "CARTO_USER" {
				s.vars = append(s.vars, map[string]string{})
			}
			s.vars[len(s.vars)-1][k] = v
		case <-timeout:
			t.Fatalf("no output after 2 minutes:\n%s", s.stderr)
		}
	}
	return s
}

// stop signals the process and checks that it exits 0.
func (s *server) stop(t *testing.T, sig os.Signal) {
	t.Helper()
	if err := s.cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-s.exited:
		if err != nil {
			t.Fatalf("exit after %v: %v\n%s", sig, err, s.stderr)
		}
	case <-time.After(time.Minute):
		t.Fatalf("still running a minute after %v", sig)
	}
}

func postmasterPID(t *testing.T, dataDir string) int {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dataDir, "postmaster.pid"))
	if err != nil {
		t.Fatal(err)
	}
	line, _, _ := strings.Cut(string(b), "\n")
	pid, err := strconv.Atoi(line)
	if err != nil {
		t.Fatal(err)
	}
	return pid
}

func assertGone(t *testing.T, pid int) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if err := syscall.Kill(pid, 0); err == syscall.ESRCH {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("postgres (pid %d) still runs", pid)
		}
	}
}

func TestCommand(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the command and starts PostgreSQL twice")
	}
	bin := build(t)
	dataDir := filepath.Join(t.TempDir(), "pg")

	s := launch(t, bin, 2, "--addr", "127.0.0.1:0", "--data-dir", dataDir, "--user", "alice", "--user", "bob", "--api-key", "alice-master-key")
	alice, bob := s.vars[0], s.vars[1]
	if alice["CARTO_USER"] != "alice" || bob["CARTO_USER"] != "bob" {
		t.Fatalf("users %v", s.vars)
	}
	if alice["CARTO_API_KEY"] != "alice-master-key" || len(bob["CARTO_API_KEY"]) != 40 || len(alice["CARTO_PUBLIC_KEY"]) != 40 {
		t.Errorf("keys %v", s.vars)
	}
	base := alice["CARTO_BASE_URL"]
	if !strings.HasPrefix(base, "http://127.0.0.1:") || !strings.HasSuffix(base, "/user/alice/") ||
		bob["CARTO_BASE_URL"] != strings.TrimSuffix(base, "alice/")+"bob/" {
		t.Errorf("base URLs %q %q", base, bob["CARTO_BASE_URL"])
	}
	resp, err := http.Get(base + "api/v1/version")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<10))
	resp.Body.Close()
	var version map[string]string
	if resp.StatusCode != 200 || json.Unmarshal(body, &version) != nil || version["cartodb_sql_api"] == "" {
		t.Errorf("version: %d %s", resp.StatusCode, body)
	}
	// A new map's preview URL is logged (issue 12), without the key, and the page opens.
	mapResp, err := http.Post(base+"api/v1/map?api_key=alice-master-key", "application/json",
		strings.NewReader(`{"version":"1.7.0","layers":[{"type":"mapnik","options":{"sql":"select 1 as cartodb_id, ST_SetSRID(ST_MakePoint(0, 0), 3857) as the_geom_webmercator"}}]}`))
	if err != nil {
		t.Fatal(err)
	}
	var lg struct {
		ID string `json:"layergroupid"`
	}
	err = json.NewDecoder(io.LimitReader(mapResp.Body, 1<<16)).Decode(&lg)
	mapResp.Body.Close()
	if mapResp.StatusCode != 200 || err != nil || lg.ID == "" {
		t.Fatalf("creating a map: %d %v", mapResp.StatusCode, err)
	}
	preview := base + "maps/preview?layergroup=" + lg.ID
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(s.stderr.String(), "preview: "+preview+"\n"); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no preview URL %s in the log:\n%s", preview, s.stderr)
		}
	}
	page, err := http.Get(preview)
	if err != nil {
		t.Fatal(err)
	}
	page.Body.Close()
	if page.StatusCode != 200 || !strings.HasPrefix(page.Header.Get("Content-Type"), "text/html") {
		t.Errorf("preview page: %d %s", page.StatusCode, page.Header.Get("Content-Type"))
	}
	if strings.Contains(s.stderr.String(), "alice-master-key") {
		t.Error("the key appears in the log")
	}
	pid := postmasterPID(t, dataDir)
	s.stop(t, os.Interrupt)
	assertGone(t, pid)

	// Again on the same data directory: the stored key stays, SIGTERM stops it as well.
	s = launch(t, bin, 1, "--addr", "127.0.0.1:0", "--data-dir", dataDir, "--user", "alice")
	if got := s.vars[0]["CARTO_API_KEY"]; got != "alice-master-key" {
		t.Errorf("key after restart %q", got)
	}
	pid = postmasterPID(t, dataDir)
	s.stop(t, syscall.SIGTERM)
	assertGone(t, pid)
}

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"--bogus"},
		{"extra"},
		{"--pg-url", "postgres://x@127.0.0.1/db", "--data-dir", "/tmp/x"},
		{"--statement-timeout", "soon"},
	} {
		var out, errOut bytes.Buffer
		if code := run(args, &out, &errOut); code != 2 {
			t.Errorf("%q: exit %d, want 2", args, code)
		}
		if out.Len() != 0 || errOut.Len() == 0 {
			t.Errorf("%q: stdout %q, stderr %q", args, out.String(), errOut.String())
		}
	}
	var out, errOut bytes.Buffer
	if code := run([]string{"-h"}, &out, &errOut); code != 0 || !strings.Contains(errOut.String(), "--data-dir") && !strings.Contains(errOut.String(), "-data-dir") {
		t.Errorf("-h: exit %d, %s", code, errOut.String())
	}
}

// TestErrorSaysCartolocalOnce: an error of the server is printed with the command's name once,
// and the user once (it printed `cartolocal: user "9bad": cartolocal: user name "9bad": ...`),
// before any cluster is started for nothing.
func TestErrorSaysCartolocalOnce(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := run([]string{"--addr", "127.0.0.1:0", "--user", "9bad"}, &out, &errOut); code != 1 {
		t.Fatalf("exit %d, want 1; stderr %q", code, errOut.String())
	}
	const want = `cartolocal: user name "9bad": use lower-case letters, digits, '-' and '_', starting with a letter` + "\n"
	if msg := errOut.String(); msg != want {
		t.Errorf("stderr\n got %q\nwant %q", msg, want)
	}
}
