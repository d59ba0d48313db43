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

// BatchLimit is the Batch SQL API's limit on a job's body, measured as CARTO measures it: the
// length of JSON.stringify(body) in UTF-16 code units.
const BatchLimit = 16384

// MigrationError is the error of a migration whose Batch job did not succeed. golang-migrate set
// the version dirty before running it, and it stays dirty: fix the database, then force a version.
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
	if errors.Is(e.Err, ErrInterrupted) {
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
