package pgcluster

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// orphanWait bounds the wait for the postmaster of a process that died: a fast shutdown of a
// small cluster takes well under a second, the checkpoint of a busy one longer.
const orphanWait = 60 * time.Second

// waitForOrphanedPostmaster waits for a postmaster still shutting down in the data directory,
// which is what a process killed with SIGKILL leaves: the kernel asked its postmaster to shut down
// (Pdeathsig), and until it has, a new postmaster refuses the directory ("lock file
// postmaster.pid already exists"), so a restart right after a crash would fail. It waits only for
// a postmaster that says it is stopping (postmaster.pid's status line) or whose parent is gone
// (reparented to init, on Linux): one that serves another live process is left alone, and the
// start then fails at once, as it should.
func (c *Cluster) waitForOrphanedPostmaster(ctx context.Context) {
	b, err := os.ReadFile(filepath.Join(c.dataDir, "postmaster.pid"))
	if err != nil {
		return
	}
	lines := strings.Split(string(b), "\n")
	pid, err := strconv.Atoi(strings.TrimSpace(lines[0]))
	if err != nil || !processAlive(pid) {
		return
	}
	// Line 8 is the postmaster's status: starting, stopping, ready or standby.
	stopping := len(lines) > 7 && strings.TrimSpace(lines[7]) == "stopping"
	if !stopping && parentPID(pid) != 1 {
		return
	}
	c.logf("cartolocal: the postmaster (pid %d) of a process that died is shutting down in %s; waiting for it", pid, c.dataDir)
	deadline := time.Now().Add(orphanWait)
	for processAlive(pid) && time.Now().Before(deadline) && ctx.Err() == nil {
		time.Sleep(50 * time.Millisecond)
	}
}

// parentPID is the parent process id of pid, from /proc (Linux); 0 when it cannot be read.
func parentPID(pid int) int {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	// The command name, in parentheses, may hold spaces: after its ')' come the state, then ppid.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 2 {
		return 0
	}
	ppid, _ := strconv.Atoi(f[1])
	return ppid
}
