package migrate

import (
	"errors"
	"fmt"
	"strings"
)

// ErrTooLarge is wrapped by the error Run returns for a migration whose Batch job would exceed
// the Batch SQL API's 16 KiB limit.
var ErrTooLarge = errors.New("migration too large for one Batch SQL job")

// ErrInterrupted is wrapped by the error Run returns after Interrupt cancelled its job.
var ErrInterrupted = errors.New("migration interrupted")

// ErrConflict is wrapped by the error SetVersion returns when its guards refused to write: another
// migrator took the lease, or schema_migrations no longer holds what this driver last read there
// (a migration's Batch job recorded its version meanwhile, for one).
var ErrConflict = errors.New("another migrator got in between")

// BatchLimit is the Batch SQL API's limit on a job's body, measured as CARTO measures it: the
// length of JSON.stringify(body) in UTF-16 code units.
const BatchLimit = 16384

// Outcome says what became of a migration that did not succeed, which decides what to do next.
type Outcome int

const (
	// OutcomeRolledBack: the migration's Batch job ran as one transaction and failed or was
	// cancelled, so nothing of it is applied. The version stays dirty: fix the migration, force
	// the version it started from, and migrate again.
	OutcomeRolledBack Outcome = iota
	// OutcomeNotRun: the migration was refused before any Batch job was made (too large, not
	// valid UTF-8, COMMIT in the middle, interrupted first). Nothing ran, and Restored tells
	// whether the version golang-migrate had marked dirty was put back as it was.
	OutcomeNotRun
	// OutcomeUnknown: contact with the server was lost while the job was being created or waited
	// for, or its cancel failed. The job may have committed the migration (its last statement
	// records the version clean, in the same transaction), may still be queued or running, or
	// may have failed. Once it has ended the version tells: clean means applied, still dirty
	// means not applied. Forcing a version before that can make the migration run twice.
	OutcomeUnknown
)

// MigrationError is the error of a migration whose Batch job did not succeed; Outcome says
// whether it was rolled back (the version stays dirty as golang-migrate set it), never ran, or
// may yet have committed.
type MigrationError struct {
	// Version is the migration's own version (what golang-migrate shows as "3/u" or "3/d"); Down
	// tells which file it was. Target is the version golang-migrate recorded as dirty.
	Version int
	Down    bool
	Target  int
	// JobID is the Batch job, empty if none was created.
	JobID string
	// Statement is the statement that failed, StatementIndex its 1-based position among
	// Statements, Line the migration line it starts on. They are zero when the failing statement
	// could not be told.
	Statement      string
	StatementIndex int
	Statements     int
	Line           int
	// Reason is PostgreSQL's message, as the Batch SQL API reported it.
	Reason string
	// Outcome says whether the migration was rolled back, never ran, or may have committed.
	Outcome Outcome
	// Restored is set, with OutcomeNotRun, when the dirty version was put back as it was.
	Restored bool
	// Err is the underlying error (a *batch.JobError, ErrTooLarge, ErrInterrupted, a transport error).
	Err error
}

func (e *MigrationError) Error() string {
	var b strings.Builder
	dir := "up"
	if e.Down {
		dir = "down"
	}
	verb := "failed"
	switch {
	case e.Outcome == OutcomeUnknown:
		verb = "has an unknown outcome"
	case e.Outcome == OutcomeNotRun:
		verb = "was refused before it ran"
	case errors.Is(e.Err, ErrInterrupted):
		verb = "was interrupted"
	}
	fmt.Fprintf(&b, "migration %d (%s) %s", e.Version, dir, verb)
	if e.StatementIndex > 0 {
		fmt.Fprintf(&b, " at line %d, statement %d of %d: %s", e.Line, e.StatementIndex, e.Statements, shorten(e.Statement, 300))
	}
	switch {
	case e.Reason != "":
		fmt.Fprintf(&b, ": %s", e.Reason)
	case e.Err != nil:
		fmt.Fprintf(&b, ": %v", e.Err)
	}
	if e.JobID != "" {
		fmt.Fprintf(&b, " (Batch job %s)", e.JobID)
	}
	return b.String()
}

func (e *MigrationError) Unwrap() error { return e.Err }

// shorten cuts s to about n bytes on a rune boundary and folds it onto one line.
func shorten(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && s[cut]&0xC0 == 0x80 {
		cut--
	}
	return s[:cut] + "…"
}
