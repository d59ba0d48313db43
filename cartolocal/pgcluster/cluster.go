// Package pgcluster runs a private PostgreSQL + PostGIS cluster with the machine's initdb and
// postgres binaries: on a free port of 127.0.0.1 only, with a superuser password, in a temporary
// directory (removed by Stop) or in a data directory kept across runs. cartolocal runs on one; so
// can any test suite that wants a real PostGIS of its own.
//
// Temporary clusters start from a template kept in the user's cache directory (a stopped cluster
// with PostGIS installed, built by the first start of a machine), which makes a start take a
// fraction of initdb's time. Running as root, the cluster runs as the postgres user, since
// PostgreSQL refuses to run as root.
package pgcluster

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

// Config describes a private PostgreSQL cluster.
type Config struct {
	// DataDir is the cluster's data directory (PGDATA). An existing cluster there is restarted;
	// an empty or missing directory gets a new one. Empty means a temporary directory that Stop
	// removes; only then are fsync and synchronous commit turned off, for speed.
	DataDir string
	// Logf receives notable events; nil discards them.
	Logf func(format string, args ...any)
	// NoSync turns fsync and synchronous commit off for a DataDir too, for tests that restart a
	// cluster on a data directory and need it to survive a stop, not a power cut.
	NoSync bool
}

// Cluster is a private PostgreSQL cluster run with the machine's initdb and postgres binaries. It
// listens on a free port of 127.0.0.1 only, with no Unix socket, and every login needs a password.
// The postgres process is a child of this process: Stop shuts it down (fast mode) and waits for it,
// and should this process die first, the kernel asks it to shut down.
type Cluster struct {
	dataDir  string
	tempRoot string // removed by Stop; empty when the data directory is the user's
	binDir   string
	owner    *clusterOwner
	logf     func(string, ...any)
	noSync   bool
	password string
	port     int

	cmd     *exec.Cmd
	logFile *os.File
	exited  chan struct{} // closed when the postgres process has exited

	stopOnce sync.Once
	stopErr  error
}

const (
	// superuser is the cluster's bootstrap superuser, whatever OS account runs it.
	superuser = "postgres"
	// passwordFile holds the superuser's password inside the data directory, so that a restart
	// on the same directory can log in.
	passwordFile = "cartolocal_superuser_password"
	// logFileName is PostgreSQL's log (its stderr), rewritten at each start.
	logFileName = "cartolocal_postgres.log"
)

// Start creates (or reuses) and starts a private cluster, and returns once it accepts
// connections. Stop it with Stop.
func Start(ctx context.Context, cfg Config) (*Cluster, error) {
	c := &Cluster{dataDir: cfg.DataDir, logf: cfg.Logf, noSync: cfg.NoSync}
	if c.logf == nil {
		c.logf = func(string, ...any) {}
	}
	if err := c.start(ctx); err != nil {
		_ = c.Stop()
		return nil, err
	}
	return c, nil
}

// URL is the superuser's connection URL.
func (c *Cluster) URL() string {
	return fmt.Sprintf("postgres://%s:%s@127.0.0.1:%d/postgres?sslmode=disable", superuser, c.password, c.port)
}

// DataDir is the cluster's data directory.
func (c *Cluster) DataDir() string { return c.dataDir }

// Port is the TCP port the cluster listens on, on 127.0.0.1.
func (c *Cluster) Port() int { return c.port }

// PID is the process id of the postmaster, or 0 when it is not running.
func (c *Cluster) PID() int {
	if c.cmd == nil || c.cmd.Process == nil {
		return 0
	}
	select {
	case <-c.exited:
		return 0
	default:
		return c.cmd.Process.Pid
	}
}

func (c *Cluster) start(ctx context.Context) error {
	var err error
	if c.binDir, err = findBinDir(); err != nil {
		return err
	}
	if c.owner, err = ownerForCluster(); err != nil {
		return err
	}
	if c.dataDir == "" {
		removeAbandoned(c.logf)
		if c.tempRoot, err = os.MkdirTemp("", tempPrefix); err != nil {
			return fmt.Errorf("cartolocal: temporary directory: %w", err)
		}
		if err := os.WriteFile(filepath.Join(c.tempRoot, ownerFile), []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
			return fmt.Errorf("cartolocal: %w", err)
		}
		if err := c.owner.chownAll(c.tempRoot); err != nil {
			return fmt.Errorf("cartolocal: %w", err)
		}
		c.dataDir = filepath.Join(c.tempRoot, "data")
	} else {
		if c.dataDir, err = filepath.Abs(c.dataDir); err != nil {
			return fmt.Errorf("cartolocal: data directory: %w", err)
		}
		// Missing parents are made reachable by anyone, as mkdir -p makes them.
		if err := os.MkdirAll(filepath.Dir(c.dataDir), 0o755); err != nil {
			return fmt.Errorf("cartolocal: data directory: %w", err)
		}
	}
	if err := c.owner.makeTraversable(c.dataDir, c.logf); err != nil {
		return err
	}
	tmpl := findTemplate(c.binDir)
	if tmpl != nil && tmpl.complete() && isEmptyDir(c.dataDir) {
		err := c.fromTemplate(ctx, tmpl)
		if err == nil {
			return nil
		}
		// A damaged template costs this start its speed, nothing else.
		c.logf("cartolocal: not using the cluster template %s: %v", tmpl.dir, err)
		c.stopProcess()
		if err := os.RemoveAll(c.dataDir); err != nil {
			return fmt.Errorf("cartolocal: %w", err)
		}
	}
	fresh := isEmptyDir(c.dataDir)
	if !fresh {
		c.waitForOrphanedPostmaster(ctx)
	}
	if err := c.prepareDataDir(ctx); err != nil {
		return err
	}
	if err := c.launchRetrying(ctx); err != nil {
		return err
	}
	if tmpl != nil && fresh && c.tempRoot != "" {
		return c.buildTemplate(ctx, tmpl)
	}
	return nil
}

// durable reports whether the cluster's data must survive a crash: it must unless temporary or
// Config.NoSync.
func (c *Cluster) durable() bool { return c.tempRoot == "" && !c.noSync }

// isEmptyDir reports whether dir is missing or empty.
func isEmptyDir(dir string) bool {
	entries, err := os.ReadDir(dir)
	return os.IsNotExist(err) || err == nil && len(entries) == 0
}

// fromTemplate starts a new cluster as a copy of the template. A data directory that is to last
// is flushed to disk first, as initdb would.
func (c *Cluster) fromTemplate(ctx context.Context, t *template) error {
	if err := os.Remove(c.dataDir); err != nil && !os.IsNotExist(err) {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(c.dataDir), 0o755); err != nil {
		return err
	}
	if err := t.copyTo(c.dataDir); err != nil {
		return err
	}
	if c.durable() {
		if err := syncTree(c.dataDir); err != nil {
			return err
		}
	}
	if err := c.owner.chownAll(c.dataDir); err != nil {
		return err
	}
	pw, err := os.ReadFile(filepath.Join(c.dataDir, passwordFile))
	if err != nil {
		return err
	}
	c.password = strings.TrimSpace(string(pw))
	if err := c.launchRetrying(ctx); err != nil {
		return err
	}
	return c.setPassword(ctx)
}

// launchRetrying launches postgres; a port found free can be taken before postgres binds it, and
// then another is tried.
func (c *Cluster) launchRetrying(ctx context.Context) error {
	for attempt := 0; ; attempt++ {
		err := c.launch(ctx)
		if err == nil || !errors.Is(err, errPortTaken) || attempt == 4 {
			return err
		}
	}
}

// prepareDataDir runs initdb unless the directory already holds a cluster made by cartolocal.
func (c *Cluster) prepareDataDir(ctx context.Context) error {
	if _, err := os.Stat(filepath.Join(c.dataDir, "PG_VERSION")); err == nil {
		pw, err := os.ReadFile(filepath.Join(c.dataDir, passwordFile))
		if err != nil {
			return fmt.Errorf("cartolocal: %s holds a PostgreSQL cluster that cartolocal did not create "+
				"(no %s): use another data directory, or point cartolocal's Config.PGURL at that cluster", c.dataDir, passwordFile)
		}
		c.password = strings.TrimSpace(string(pw))
		return c.owner.chownAll(c.dataDir)
	}
	if entries, err := os.ReadDir(c.dataDir); err == nil && len(entries) > 0 {
		return fmt.Errorf("cartolocal: data directory %s is not empty and holds no PostgreSQL cluster", c.dataDir)
	}
	if err := os.MkdirAll(c.dataDir, 0o700); err != nil {
		return fmt.Errorf("cartolocal: data directory: %w", err)
	}
	if err := os.Chmod(c.dataDir, 0o700); err != nil {
		return fmt.Errorf("cartolocal: data directory: %w", err)
	}
	if err := c.owner.chownAll(c.dataDir); err != nil {
		return fmt.Errorf("cartolocal: %w", err)
	}
	c.password = randomHex(20)
	// initdb reads the password from a file, which must not sit in the (still empty) data
	// directory; a private temporary directory the owner can read does.
	pwDir, err := os.MkdirTemp("", "cartolocal-initdb-")
	if err != nil {
		return fmt.Errorf("cartolocal: %w", err)
	}
	defer os.RemoveAll(pwDir)
	pwPath := filepath.Join(pwDir, "pw")
	if err := os.WriteFile(pwPath, []byte(c.password+"\n"), 0o600); err != nil {
		return fmt.Errorf("cartolocal: %w", err)
	}
	if err := c.owner.chownAll(pwDir); err != nil {
		return fmt.Errorf("cartolocal: %w", err)
	}
	args := []string{"-D", c.dataDir, "-U", superuser, "--pwfile=" + pwPath,
		"--auth=scram-sha-256", "-E", "UTF8", "--locale=C.UTF-8", "--no-instructions"}
	if !c.durable() {
		args = append(args, "--no-sync")
	}
	cmd := exec.CommandContext(ctx, filepath.Join(c.binDir, "initdb"), args...)
	cmd.Dir = os.TempDir()
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	c.owner.setup(cmd, false)
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("cartolocal: initdb %s: %w\n%s", c.dataDir, err, tail(out.Bytes(), 2000))
	}
	pwFile := filepath.Join(c.dataDir, passwordFile)
	if err := os.WriteFile(pwFile, []byte(c.password+"\n"), 0o600); err != nil {
		return fmt.Errorf("cartolocal: %w", err)
	}
	return c.owner.chownAll(pwFile)
}

var errPortTaken = errors.New("port taken")

// launch starts postgres on a free port and waits until it accepts a login.
func (c *Cluster) launch(ctx context.Context) error {
	port, err := freePort()
	if err != nil {
		return err
	}
	c.port = port
	args := []string{"-D", c.dataDir, "-p", strconv.Itoa(port),
		"-c", "listen_addresses=127.0.0.1",
		"-c", "unix_socket_directories=",
		"-c", "max_connections=300",
		"-c", "shared_buffers=64MB",
		"-c", "password_encryption=scram-sha-256",
	}
	if !c.durable() {
		// A throwaway cluster needs no durability.
		args = append(args, "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off")
	}
	logPath := filepath.Join(c.dataDir, logFileName)
	if c.tempRoot != "" {
		logPath = filepath.Join(c.tempRoot, logFileName)
	}
	lf, err := os.OpenFile(logPath, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("cartolocal: postgres log: %w", err)
	}
	// Not CommandContext: the cluster outlives the context that started it.
	cmd := exec.Command(filepath.Join(c.binDir, "postgres"), args...)
	cmd.Dir = c.dataDir
	cmd.Stdout, cmd.Stderr = lf, lf
	c.owner.setup(cmd, true)
	if err := cmd.Start(); err != nil {
		lf.Close()
		return fmt.Errorf("cartolocal: starting postgres: %w", err)
	}
	c.cmd, c.logFile, c.exited = cmd, lf, make(chan struct{})
	exited := c.exited
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()

	cfg, err := pgconn.ParseConfig(c.URL())
	if err != nil {
		return fmt.Errorf("cartolocal: %w", err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for delay := 10 * time.Millisecond; ; delay = min(delay*2, 100*time.Millisecond) {
		select {
		case <-exited:
			c.logFile.Close()
			log, _ := os.ReadFile(logPath)
			c.cmd = nil
			if bytes.Contains(log, []byte("could not bind")) || bytes.Contains(log, []byte("already in use")) {
				return errPortTaken
			}
			return fmt.Errorf("cartolocal: postgres exited during start-up:\n%s", tail(log, 2000))
		default:
		}
		cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		conn, err := pgconn.ConnectConfig(cctx, cfg)
		cancel()
		if err == nil {
			_ = conn.Close(ctx)
			return nil
		}
		if ctx.Err() != nil || time.Now().After(deadline) {
			log, _ := os.ReadFile(logPath)
			return fmt.Errorf("cartolocal: postgres did not accept connections: %w\n%s", errors.Join(ctx.Err(), err), tail(log, 2000))
		}
		time.Sleep(delay)
	}
}

// Stop shuts the cluster down (fast mode: sessions are ended, nothing is lost), waits for the
// postmaster to exit, and removes a temporary data directory. It is safe to call more than once.
func (c *Cluster) Stop() error {
	c.stopOnce.Do(func() {
		c.stopProcess()
		if c.tempRoot != "" {
			if err := removeTempRoot(c.tempRoot); err != nil {
				c.stopErr = fmt.Errorf("cartolocal: removing %s: %w", c.tempRoot, err)
			}
		}
	})
	return c.stopErr
}

// stopProcess shuts postgres down (fast mode, escalating to immediate, then a kill, should it
// hang) and waits for the postmaster to exit.
func (c *Cluster) stopProcess() {
	if c.cmd == nil {
		return
	}
escalation:
	for step, wait := range []time.Duration{60 * time.Second, 10 * time.Second, 10 * time.Second} {
		if err := signalStop(c.cmd.Process, step); err != nil {
			break // already gone
		}
		select {
		case <-c.exited:
			break escalation
		case <-time.After(wait):
			c.logf("cartolocal: postgres (pid %d) did not stop in %v; escalating", c.cmd.Process.Pid, wait)
		}
	}
	<-c.exited
	c.logFile.Close()
	c.cmd = nil
}

const (
	// tempPrefix starts the names of temporary cluster directories.
	tempPrefix = "cartolocal-"
	// ownerFile, in a temporary cluster directory, holds the id of the process that made it.
	ownerFile = "cartolocal_owner_pid"
)

// removeAbandoned removes the temporary cluster directories of processes that died without
// stopping theirs (a test binary killed at its timeout, say): the owner is gone and no
// postmaster runs there. Each is a whole cluster, tens of megabytes.
func removeAbandoned(logf func(string, ...any)) {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), tempPrefix+"*"))
	for _, dir := range dirs {
		b, err := os.ReadFile(filepath.Join(dir, ownerFile))
		if err != nil {
			continue // not ours, or being made
		}
		if owner, err := strconv.Atoi(strings.TrimSpace(string(b))); err != nil || processAlive(owner) {
			continue
		}
		if pidFile, err := os.ReadFile(filepath.Join(dir, "data", "postmaster.pid")); err == nil {
			line, _, _ := strings.Cut(string(pidFile), "\n")
			if pm, err := strconv.Atoi(strings.TrimSpace(line)); err == nil && processAlive(pm) {
				continue
			}
		}
		if err := removeTempRoot(dir); err == nil {
			logf("cartolocal: removed %s, left by a process that died without stopping its cluster", dir)
		}
	}
}

// removeTempRoot removes a temporary cluster directory, its owner file last: a removal cut short
// (the process killed meanwhile) leaves a directory the next start still recognizes as abandoned.
func removeTempRoot(dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil && !os.IsNotExist(err) {
		return err
	}
	for _, e := range entries {
		if e.Name() != ownerFile {
			if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
				return err
			}
		}
	}
	return os.RemoveAll(dir)
}

// freePort asks the kernel for a free port on 127.0.0.1.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("cartolocal: finding a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// randomHex returns n random bytes in lower-case hex.
func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := io.ReadFull(rand.Reader, b); err != nil {
		panic("cartolocal: crypto/rand failed: " + err.Error()) // cannot happen on supported systems
	}
	return hex.EncodeToString(b)
}

// tail returns the last n bytes of b, for error messages quoting a log.
func tail(b []byte, n int) string {
	if len(b) > n {
		b = b[len(b)-n:]
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			b = b[i+1:]
		}
	}
	return strings.TrimSpace(string(b))
}
