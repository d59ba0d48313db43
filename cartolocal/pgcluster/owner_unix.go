//go:build unix

package pgcluster

import (
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"
)

// clusterOwner is the operating-system account a private cluster runs as. PostgreSQL refuses to
// run as root, so root runs it as Debian's postgres user; anyone else runs it as themselves (nil).
type clusterOwner struct {
	name     string
	uid, gid int
}

// ownerForCluster returns nil unless the process runs as root.
func ownerForCluster() (*clusterOwner, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("cartolocal: running as root, PostgreSQL must run as an unprivileged user, "+
			"and there is no \"postgres\" user (%v): run as another user or %s", err, installHint)
	}
	uid, err1 := strconv.Atoi(u.Uid)
	gid, err2 := strconv.Atoi(u.Gid)
	if err1 != nil || err2 != nil {
		return nil, fmt.Errorf("cartolocal: user postgres has a non-numeric uid %q or gid %q", u.Uid, u.Gid)
	}
	return &clusterOwner{name: u.Username, uid: uid, gid: gid}, nil
}

// setup makes cmd run as the owner, in its own process group so that a Ctrl-C meant for this
// process does not reach PostgreSQL before we have shut down what talks to it. If this process
// dies without stopping the cluster, the kernel sends SIGINT (PostgreSQL's fast shutdown).
func (o *clusterOwner) setup(cmd *exec.Cmd, dieWithParent bool) {
	attr := &syscall.SysProcAttr{Setpgid: true}
	if dieWithParent {
		attr.Pdeathsig = syscall.SIGINT
	}
	if o != nil {
		attr.Credential = &syscall.Credential{Uid: uint32(o.uid), Gid: uint32(o.gid)}
	}
	cmd.SysProcAttr = attr
}

// chownAll gives path and everything below it to the owner.
func (o *clusterOwner) chownAll(path string) error {
	if o == nil {
		return nil
	}
	return filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, o.uid, o.gid)
	})
}

// makeTraversable lets the owner reach dir: every parent directory gets the search (x) bit for
// others if it lacks it, which lets a process walk through but not list it. Each change is logged.
func (o *clusterOwner) makeTraversable(dir string, logf func(string, ...any)) error {
	if o == nil {
		return nil
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	for p := filepath.Dir(abs); ; p = filepath.Dir(p) {
		fi, err := os.Stat(p)
		if err != nil {
			return err
		}
		st, _ := fi.Sys().(*syscall.Stat_t)
		reachable := fi.Mode().Perm()&0o001 != 0 ||
			st != nil && int(st.Uid) == o.uid && fi.Mode().Perm()&0o100 != 0 ||
			st != nil && int(st.Gid) == o.gid && fi.Mode().Perm()&0o010 != 0
		if !reachable {
			if err := os.Chmod(p, fi.Mode().Perm()|0o001); err != nil {
				return fmt.Errorf("cartolocal: user %s cannot reach %s: %w", o.name, p, err)
			}
			logf("cartolocal: added o+x to %s so that user %s can reach the data directory", p, o.name)
		}
		if p == filepath.Dir(p) {
			return nil
		}
	}
}

// signalStop asks PostgreSQL for a fast shutdown; escalate moves to an immediate one, then a kill.
func signalStop(p *os.Process, escalate int) error {
	sig := []syscall.Signal{syscall.SIGINT, syscall.SIGQUIT, syscall.SIGKILL}[min(escalate, 2)]
	return p.Signal(sig)
}

// processAlive reports whether a process with that id exists.
func processAlive(pid int) bool {
	if pid <= 0 {
		return false
	}
	err := syscall.Kill(pid, 0)
	return err == nil || err == syscall.EPERM
}
