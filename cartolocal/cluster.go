package cartolocal

// OWNED BY the "cartolocal postgres" helper: replace this placeholder.

import "context"

// Cluster is a private PostgreSQL cluster managed with the machine's initdb and pg_ctl.
type Cluster struct{}

// Stop stops the cluster and waits for its processes to exit.
func (c *Cluster) Stop() error { return nil }

// start brings up PostgreSQL (a private cluster unless Config.PGURL is set), fills s.admin and
// s.pgURL, and installs the cartodb schema and the server's own tables.
func (s *Server) start(ctx context.Context) error { panic("not yet") }
