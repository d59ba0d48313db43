package imports

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/jackc/pgx/v5"
)

// CARTO fails an import that got stuck (DataImport#stuck?, #mark_as_failed_if_stuck!): one past
// pending, created more than five minutes ago, that no worker runs, is failed with 6671 when it
// is fetched; and listing the imports fails those of the last day created more than an hour ago
// that no worker runs, and leaves them out (DataImportsService#process_recent_user_imports). An
// import stuck that way holds one of the account's three import slots until then.
//
// "No worker runs it" is, here: no runner holds its lock, and no server of its runner group is
// alive to take it up (each server holds a shared lock on its group while it runs). A cartolocal
// that restarts takes its unfinished imports up again, so they are never stuck; an import of a
// group whose servers are all gone is.
const (
	stuckAfter = 5 * time.Minute
	staleAfter = time.Hour
)

// groupLockClass is the first key of the shared lock a server holds on its runner group ("img").
const groupLockClass = 0x696d67

// holdGroup takes the shared lock on the server's runner group, on a connection of its own that
// lives as long as the server.
func (s *Server) holdGroup(ctx context.Context) error {
	conn, err := pgx.ConnectConfig(ctx, s.admin.Config().ConnConfig.Copy())
	if err != nil {
		return fmt.Errorf("imports: runner group lock: %w", err)
	}
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock_shared($1, hashtext($2))", groupLockClass, s.cfg.Group); err != nil {
		_ = conn.Close(ctx)
		return fmt.Errorf("imports: runner group lock: %w", err)
	}
	s.groupConn = conn
	return nil
}

// releaseGroup lets the group lock go (with the connection).
func (s *Server) releaseGroup() {
	if s.groupConn != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = s.groupConn.Close(ctx)
		s.groupConn = nil
	}
}

// failIfStuck fails rec with 6671 if it is stuck: unfinished (past pending, unless pendingToo),
// created more than after ago, and run by no runner now or later. It returns rec as it is now.
func (s *Server) failIfStuck(ctx context.Context, rec *record, after time.Duration, pendingToo bool) (*record, error) {
	if rec.final() || (rec.State == StatePending && !pendingToo) || time.Since(rec.CreatedAt) < after {
		return rec, nil // time.Since first spares a query on every fetch of a young import
	}
	conn, err := s.admin.Acquire(ctx)
	if err != nil {
		return rec, err
	}
	defer conn.Release()
	var mine bool
	if err := conn.QueryRow(ctx, "SELECT pg_try_advisory_lock($1, hashtext($2))", lockClass, rec.ID).Scan(&mine); err != nil || !mine {
		return rec, err // a runner runs it
	}
	defer func() {
		uctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if _, err := conn.Exec(uctx, "SELECT pg_advisory_unlock($1, hashtext($2))", lockClass, rec.ID); err != nil {
			_ = conn.Conn().Close(uctx)
		}
	}()
	// The import's row says its group; the lock table says whether a server of it is alive.
	tag, err := conn.Exec(ctx, `UPDATE cartolocal.imports i SET state = 'failure', error_code = $3, error_detail = 'stuck: no runner', updated_at = now()
WHERE i.id = $1 AND i.state NOT IN ('complete', 'failure') AND ($4 OR i.state <> 'pending') AND i.created_at < now() - make_interval(secs => $2)
	AND NOT EXISTS (SELECT 1 FROM pg_locks l WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2
		AND l.classid::bigint = $5 AND l.objid::bigint = (hashtext(i.runner_group)::bigint & 4294967295))`,
		rec.ID, after.Seconds(), 6671, pendingToo, groupLockClass)
	if err != nil || tag.RowsAffected() == 0 {
		return rec, err
	}
	s.logf("imports: import %s of %s was stuck (%s, no runner): failed with 6671", rec.ID, rec.User, rec.State)
	if rec.DataType == TypeFile && rec.DataSource != "" {
		_ = os.RemoveAll(filepath.Dir(rec.DataSource))
	}
	if rec.SyncID != nil {
		s.syncImportEnded(ctx, rec, nil, 6671)
	}
	return s.get(ctx, conn, rec.ID, "")
}
