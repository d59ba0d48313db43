//go:build !unix

package pgcluster

import (
	"errors"
	"os"
	"os/exec"
)

type clusterOwner struct{}

var errNoCluster = errors.New("cartolocal: managing a private PostgreSQL cluster needs a Unix system; set Config.PGURL")

func ownerForCluster() (*clusterOwner, error)                              { return nil, errNoCluster }
func (o *clusterOwner) setup(cmd *exec.Cmd, dieWithParent bool)            {}
func (o *clusterOwner) chownAll(path string) error                         { return nil }
func (o *clusterOwner) makeTraversable(string, func(string, ...any)) error { return nil }
func signalStop(p *os.Process, escalate int) error                         { return p.Kill() }
func processAlive(pid int) bool                                            { return false }
