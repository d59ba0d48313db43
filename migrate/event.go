package migrate

import (
	"time"

	"github.com/gocarto/carto/batch"
)

// Event reports the progress of a migration's Batch job to the function set with OnProgress.
type Event struct {
	Version int  // the migration's version
	Down    bool // a down migration
	// Job is the job as last seen: created, then at every status change, then final.
	Job *batch.Job
	// Started is when Run began; Created when the server answered the job's creation.
	Started, Created time.Time
	// Changes counts the status changes Wait reported so far.
	Changes int
	// Stats is set on the last event of a Run, and only there.
	Stats *RunStats
}

// RunStats describes where the time of one migration went.
type RunStats struct {
	JobID string
	// Total is Run's wall time; Create the POST that created the job; Wait the rest, until Run
	// saw the job final.
	Total, Create, Wait time.Duration
	// Server is the job's life as the server recorded it (created_at to updated_at): queueing
	// and running. Lag is how long after the server's updated_at Run noticed the job was final:
	// the price of polling. Both rest on the server's clock agreeing with ours, which holds for
	// cartolocal; against CARTO they are indications only.
	Server, Lag time.Duration
}

// OnProgress sets fn to receive an Event when a migration's job is created, whenever its status
// changes, and when it ends. fn runs on the goroutine of Run and must return quickly. Set it
// before migrating; nil turns it off.
func (d *Driver) OnProgress(fn func(Event)) {
	d.mu.Lock()
	d.observer = fn
	d.mu.Unlock()
}

func (d *Driver) emit(ev Event) {
	d.mu.Lock()
	fn := d.observer
	d.mu.Unlock()
	if fn != nil {
		fn(ev)
	}
}

// finish sends the last event of a Run, with its timing.
func (d *Driver) finish(ev Event, final *batch.Job) {
	now := time.Now()
	st := &RunStats{Total: now.Sub(ev.Started), Create: ev.Created.Sub(ev.Started), Wait: now.Sub(ev.Created)}
	if ev.Job != nil {
		st.JobID = ev.Job.ID
	}
	if final != nil {
		ev.Job = final
		if !final.CreatedAt.IsZero() && !final.UpdatedAt.IsZero() {
			st.Server = final.UpdatedAt.Sub(final.CreatedAt)
			st.Lag = max(now.Sub(final.UpdatedAt), 0)
		}
	}
	ev.Stats = st
	d.emit(ev)
}
