package migrate

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gocarto/carto"
	"github.com/gocarto/carto/batch"
	"github.com/gocarto/carto/internal/pgscan"
)

// Statement markers: before each statement the job sets the step sequence to nonce<<stepBits + i.
// setval is never rolled back, so after a failed job the sequence still tells which statement
// ran last, and the nonce tells that it was this job that set it.
const (
	stepBits = 20
	stepMask = 1<<stepBits - 1
)

// Polling of a migration's job. Most migrations take a few tens of milliseconds on the server,
// so the first polls come sooner than batch's default 250ms: with it, noticing that a job had
// ended took most of the time of `up` (measured on cartolocal). The interval still grows by half
// after every poll that sees no change, up to pollMax, so a long migration costs few requests.
const (
	pollMin = 50 * time.Millisecond
	pollMax = 5 * time.Second
)

// cancelTimeout bounds the cleanup after Interrupt: the DELETE of the job and the wait for it to
// reach a final state.
const cancelTimeout = 30 * time.Second

// Run applies one migration as one Batch SQL job, and waits for it. The job is a single query
// string, so PostgreSQL runs it as one transaction: it either applies whole or not at all. The
// job first takes the migrations table's advisory lock and checks that schema_migrations still
// holds the dirty version golang-migrate just set (and that this driver still holds the lease),
// so even a migrator whose lease was stolen cannot apply a migration twice. When the version is
// dirty, the job's last statement records it clean, in the same transaction.
//
// The migration must fit in one Batch job, 16 KiB of JSON (see BatchLimit); a larger one is an
// error wrapping ErrTooLarge. Splitting it over several queries of a multi-query job would commit
// each part on its own, and a failure in the middle would leave it half applied.
//
// A failure is a *MigrationError naming the migration, the statement that failed and
// PostgreSQL's message, and its Outcome: rolled back (the version stays dirty), not run (refused
// before any job was made; the version is put back as it was), or unknown (contact was lost and
// the job may have committed: read the version once the job has ended).
func (d *Driver) Run(migration io.Reader) error {
	started := time.Now()
	mig := d.currentMigration() // again below, once the version is known
	fail := func(err error) *MigrationError {
		e := &MigrationError{Version: mig.version, Down: mig.down, Target: mig.target, Err: err}
		switch {
		case errors.Is(err, ErrTooLarge):
			e.Reason = err.Error()
		case errors.Is(err, ErrInterrupted):
			e.Reason = strings.TrimPrefix(err.Error(), ErrInterrupted.Error()+": ")
		}
		return e
	}
	// notRun fails a migration for which no job was made: nothing of it ran, so the dirty mark
	// golang-migrate set just before is put back, and the database reads as it did.
	notRun := func(err error) error {
		e := fail(err)
		e.Outcome = OutcomeNotRun
		e.Restored = d.restoreVersion()
		return e
	}
	if d.ctx.Err() != nil {
		return notRun(fmt.Errorf("%w before it started", ErrInterrupted))
	}
	body, err := readMigration(migration)
	if err != nil {
		return notRun(err)
	}
	stmts, ok := splitStatements(body)
	if ok && len(stmts) == 0 {
		return nil // only comments and blanks: nothing to run, no job to create
	}
	if ok {
		if err := checkTransactionControl(stmts); err != nil {
			return notRun(err)
		}
	}
	if !d.getState().known {
		if _, _, err := d.Version(); err != nil {
			return fail(err) // nothing ran, but without the version nothing can be put back
		}
		mig = d.currentMigration()
	}
	if l := d.heldLease(); l != nil {
		if err := l.lostErr(); err != nil {
			return fail(err) // nothing ran; the version is another migrator's to fix now
		}
	}

	nonce := randomNonce()
	marked := ok
	st := d.getState()
	clean := ok && st.known && st.dirty
	q := d.jobSQL(body, stmts, clean, marked, nonce, mig)
	if d.jobLen(q) > BatchLimit && marked {
		// The markers cost about 40 bytes a statement; without them a failure names the whole
		// migration instead of the statement.
		marked = false
		q = d.jobSQL(body, stmts, clean, marked, nonce, mig)
	}
	if n := d.jobLen(q); n > BatchLimit {
		return notRun(fmt.Errorf("%w: its Batch job would be %d characters of JSON (the migration is %d bytes), over the Batch SQL API's limit of %d (16 KiB); split it into several migrations, and load bulk data with the COPY or Import API",
			ErrTooLarge, n, len(body), BatchLimit))
	}

	ev := Event{Version: mig.version, Down: mig.down, Started: started}
	created := false
	onChange := batch.OnChange(func(j *batch.Job) {
		ev.Job = j
		if !created {
			// The create answer: the job exists from here on.
			created, ev.Created = true, time.Now()
		} else {
			ev.Changes++
		}
		d.emit(ev)
	})
	poll := batch.PollInterval(pollMin, pollMax)
	var final *batch.Job
	if d.cfg.BatchTimeout > 0 {
		final, err = d.jobs.RunJob(d.ctx, batch.JobSpec{Queries: []batch.Query{{SQL: q, Timeout: d.cfg.BatchTimeout}}}, poll, onChange)
	} else {
		final, err = d.jobs.Run(d.ctx, q, poll, onChange)
	}
	if final == nil {
		return d.createFailed(fail, notRun, err)
	}
	job := final

	if err != nil && d.ctx.Err() != nil && !errors.As(err, new(*batch.JobError)) {
		final, err = d.cancelJob(job.ID)
		if err == nil && final.Status == batch.Done {
			// The job finished before the DELETE reached it: the migration is applied, and
			// saying otherwise would be a lie. golang-migrate records it clean and stops.
			d.finish(ev, final)
			d.applied(clean, mig)
			return nil
		}
		e := fail(fmt.Errorf("%w: its Batch job was cancelled on the server and rolled back", ErrInterrupted))
		e.JobID = job.ID
		if err != nil {
			e.Err = errors.Join(fmt.Errorf("%w: cancelling its Batch job %s failed, and it may have committed or still run", ErrInterrupted, job.ID), err)
			e.Outcome = OutcomeUnknown
			e.Reason = fmt.Sprintf("interrupted, and cancelling its Batch job failed (%v): whether it was applied is unknown", err)
			d.setState(versionState{}) // the job may yet record the version clean
		}
		d.finish(ev, final)
		return e
	}
	d.finish(ev, final)

	var jobErr *batch.JobError
	switch {
	case errors.As(err, &jobErr):
		e := fail(err)
		e.JobID, e.Reason = job.ID, jobErr.FailedReason
		if jobErr.Status != batch.Failed {
			// Someone cancelled it (a DELETE from elsewhere): it was rolled back all the same.
			e.Reason = fmt.Sprintf("its Batch job ended %s, not by this migrator", jobErr.Status)
			return e
		}
		if strings.HasPrefix(jobErr.FailedReason, guardPrefix) {
			return e
		}
		if marked {
			d.locateFailure(e, stmts, nonce)
		}
		if e.StatementIndex == 0 && ok {
			// No statement began: PostgreSQL refused the text before running any of it.
			d.locateSyntaxError(e, stmts, jobErr.FailedReason)
		}
		return e
	case err != nil:
		e := fail(fmt.Errorf("lost contact while waiting for Batch job %s, which may have committed the migration or may still run: %w", job.ID, err))
		e.JobID, e.Outcome = job.ID, OutcomeUnknown
		d.setState(versionState{}) // the job may yet record the version clean
		return e
	case final.Status != batch.Done:
		e := fail(fmt.Errorf("the Batch job %s ended %s", job.ID, statusOf(final)))
		e.JobID = job.ID
		if final.FailedReason != "" {
			e.Reason = final.FailedReason
		}
		return e
	}
	d.applied(clean, mig)
	return nil
}

// createFailed reports a job whose creation failed. When the server refused it, or the request
// never left this process, no job exists; otherwise (the answer was lost) one may.
func (d *Driver) createFailed(fail func(error) *MigrationError, notRun func(error) error, err error) error {
	var ce *carto.Error
	refused := errors.As(err, &ce) && (!ce.Sent || ce.StatusCode >= 400 && ce.StatusCode < 500)
	if d.ctx.Err() != nil {
		err = fmt.Errorf("%w while its Batch job was being created: %w", ErrInterrupted, err)
	} else {
		err = fmt.Errorf("creating the Batch job: %w", err)
	}
	if refused {
		return notRun(err)
	}
	e := fail(fmt.Errorf("%w; the job may have been created and may run", err))
	e.Outcome = OutcomeUnknown
	d.setState(versionState{}) // a job may yet record the version clean
	return e
}

// restoreVersion puts schema_migrations back as it was before golang-migrate marked it dirty for
// the migration that Run refused, and tells whether it did.
func (d *Driver) restoreVersion() bool {
	d.mu.Lock()
	prev, cur := d.prev, d.state
	d.mu.Unlock()
	if !prev.known || !cur.known || !cur.dirty || prev.dirty {
		return false
	}
	return d.SetVersion(prev.version, false) == nil
}

// applied notes that the job recorded the version clean, so that golang-migrate's SetVersion
// that follows finds what it expects.
func (d *Driver) applied(clean bool, mig migrationInfo) {
	if clean {
		d.mu.Lock()
		d.state = versionState{known: true, version: mig.target}
		d.mu.Unlock()
	}
}

func statusOf(j *batch.Job) string {
	if j == nil {
		return "in an unknown state"
	}
	return string(j.Status)
}

// migrationInfo says which migration Run is applying, worked out from the version golang-migrate
// set dirty just before and the one it replaced.
type migrationInfo struct {
	version, target int
	down            bool
}

func (d *Driver) currentMigration() migrationInfo {
	d.mu.Lock()
	defer d.mu.Unlock()
	m := migrationInfo{version: d.state.version, target: d.state.version}
	if d.prev.known && !d.prev.dirty && d.state.known && d.state.dirty && d.prev.version > d.state.version {
		m.version, m.down = d.prev.version, true
	}
	return m
}

// readMigration reads a migration, refusing more than could ever fit in a Batch job, and text
// PostgreSQL would refuse anyway.
func readMigration(r io.Reader) (string, error) {
	// A UTF-16 code unit of the job is at most 3 bytes of UTF-8.
	const maxBytes = 3 * BatchLimit
	raw, err := io.ReadAll(io.LimitReader(r, maxBytes+1))
	if err != nil {
		return "", fmt.Errorf("reading the migration: %w", err)
	}
	if len(raw) > maxBytes {
		return "", fmt.Errorf("%w: it is over %d bytes, and a Batch SQL job is limited to %d characters (16 KiB); split it into several migrations, and load bulk data with the COPY or Import API",
			ErrTooLarge, maxBytes, BatchLimit)
	}
	body := string(raw)
	if !utf8.ValidString(body) {
		return "", errors.New("the migration is not valid UTF-8")
	}
	if i := strings.IndexByte(body, 0); i >= 0 {
		return "", fmt.Errorf("the migration holds a NUL byte at line %d, which PostgreSQL refuses", strings.Count(body[:i], "\n")+1)
	}
	return body, nil
}

// jobSQL builds the job's single query: advisory lock, guards, then the migration, with a marker
// before each statement when marked. When golang-migrate has set the version dirty (as it does
// before every migration), the job ends by recording it clean, in the same transaction as the
// migration: dirty then means exactly "not applied", even if this process dies while the job
// runs. A trailing COMMIT of the migration's own comes after that record, or the record would
// fall outside the transaction.
func (d *Driver) jobSQL(body string, stmts []statement, clean, marked bool, nonce int64, mig migrationInfo) string {
	type insertion struct {
		at   int
		text string
	}
	var ins []insertion
	if marked {
		seq := pgscan.QuoteLiteral(d.stepSeq)
		for i, s := range stmts {
			ins = append(ins, insertion{s.Start, fmt.Sprintf("SELECT setval(%s, %d); ", seq, nonce<<stepBits+int64(i+1))})
		}
	}
	if clean {
		rec := fmt.Sprintf("TRUNCATE %s;", d.versionTable)
		if mig.target >= 0 {
			rec += fmt.Sprintf(" INSERT INTO %s (version, dirty) VALUES (%d, false);", d.versionTable, mig.target)
		}
		last := stmts[len(stmts)-1]
		if w, _ := firstWords(last.Text); w == "COMMIT" || w == "END" {
			ins = append(ins, insertion{last.Start, rec + "\n"})
		} else {
			// The migration may end without a semicolon, or in a -- comment.
			ins = append(ins, insertion{len(body), "\n;\n" + rec + "\n"})
		}
	}
	slices.SortStableFunc(ins, func(x, y insertion) int { return x.at - y.at })

	var b strings.Builder
	b.Grow(len(body) + 1024 + 48*len(stmts))
	fmt.Fprintf(&b, "SELECT pg_advisory_xact_lock(%d);\nDO $cartomigrate$\nBEGIN\n", d.lockKey)
	dir := "up"
	if mig.down {
		dir = "down"
	}
	d.writeGuards(&b, fmt.Sprintf("applying migration %d (%s)", mig.version, dir))
	b.WriteString("  NULL;\nEND\n$cartomigrate$;\n")
	prev := 0
	for _, in := range ins {
		b.WriteString(body[prev:in.at])
		b.WriteString(in.text)
		prev = in.at
	}
	b.WriteString(body[prev:])
	return b.String()
}

// jobLen is the size CARTO will measure for the job that carries q.
func (d *Driver) jobLen(q string) int {
	if d.cfg.BatchTimeout > 0 {
		// {"query":{"query":[{"query":"...","timeout":N}]}}
		return len(`{"query":{"query":[{"query":,"timeout":}]}}`) + jsStringLen(q) + len(fmt.Sprint(d.cfg.BatchTimeout.Milliseconds()))
	}
	return len(`{"query":}`) + jsStringLen(q)
}

// cancelJob cancels the job after an interrupt, on a context of its own (the driver's has ended),
// and waits until the server reports it final, so that no query of it is left running when Run
// returns.
func (d *Driver) cancelJob(id string) (*batch.Job, error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(d.ctx), cancelTimeout)
	defer cancel()
	job, cerr := d.jobs.Cancel(ctx, id)
	if cerr == nil && job != nil && job.Status.Final() {
		return job, nil
	}
	// The DELETE failed (the job may have finished first) or left it not yet final: look.
	job, err := d.jobs.Wait(ctx, id)
	var jobErr *batch.JobError
	if errors.As(err, &jobErr) {
		err = nil
		if job == nil {
			job = &batch.Job{ID: id, Status: batch.Failed, FailedReason: jobErr.FailedReason}
		}
	}
	if err != nil {
		return job, errors.Join(cerr, err)
	}
	return job, nil
}

// locateFailure reads the step sequence to learn which statement the failed job was running.
func (d *Driver) locateFailure(e *MigrationError, stmts []statement, nonce int64) {
	ctx, cancel := d.metaContext()
	defer cancel()
	var last int64
	if err := d.db.QueryRowContext(ctx, "SELECT last_value FROM "+d.stepSeq).Scan(&last); err != nil {
		return
	}
	i := int(last & stepMask)
	if last>>stepBits != nonce || i < 1 || i > len(stmts) {
		return
	}
	s := stmts[i-1]
	e.Statement, e.StatementIndex, e.Statements, e.Line = strings.TrimSpace(s.Text), i, len(stmts), s.Line
}

// randomNonce returns a positive number below 2^31, so that nonce<<stepBits + i fits a sequence.
func randomNonce() int64 {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return int64(binary.BigEndian.Uint32(b[:])>>1) + 1
}

// locateSyntaxError finds the statement PostgreSQL refused to parse. A syntax error stops the
// whole job before its first statement runs, so no marker tells which one it was. PostgreSQL
// parses every statement of a simple-query string before it runs the first, so a probe that
// starts with a statement failing at run time (1/0) and goes on with the first k statements of
// the migration answers with the syntax error when it lies among them, and with the division by
// zero otherwise; nothing of the migration ever runs. A binary search over k costs a few small
// SQL API requests, on the failure path only.
func (d *Driver) locateSyntaxError(e *MigrationError, stmts []statement, reason string) {
	ctx, cancel := d.metaContext()
	defer cancel()
	// inPrefix tells whether the first k statements hold the error; ok is false when the probe
	// answered something else (the network), and the search gives up.
	inPrefix := func(k int) (in, ok bool) {
		var b strings.Builder
		b.WriteString("SELECT 1/0 AS cartomigrate_parse_probe;\n")
		for _, s := range stmts[:k] {
			b.WriteString(s.Text)
			if !strings.HasSuffix(strings.TrimSpace(s.Text), ";") {
				b.WriteString(";")
			}
			b.WriteString("\n")
		}
		_, err := d.db.ExecContext(ctx, b.String())
		switch {
		case err == nil:
			return false, false // 1/0 ran: this server does not parse first
		case strings.Contains(err.Error(), reason):
			return true, true
		case strings.Contains(err.Error(), "division by zero"):
			return false, true
		}
		return false, false
	}
	if in, ok := inPrefix(len(stmts)); !in || !ok {
		return
	}
	lo, hi := 1, len(stmts) // the smallest k whose prefix holds the error is in [lo, hi]
	for lo < hi {
		mid := (lo + hi) / 2
		in, ok := inPrefix(mid)
		if !ok {
			return
		}
		if in {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	s := stmts[lo-1]
	e.Statement, e.StatementIndex, e.Statements, e.Line = strings.TrimSpace(s.Text), lo, len(stmts), s.Line
}
