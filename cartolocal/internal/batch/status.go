package batch

// Job statuses as CARTO spells them on the wire (cancelled with two l's).
const (
	jobPending   = "pending"
	jobRunning   = "running"
	jobDone      = "done"
	jobFailed    = "failed"
	jobCancelled = "cancelled"
	jobSkipped   = "skipped"
	jobUnknown   = "unknown"
)

// validTransition is CARTO's job-state-machine: the only moves a job, a query of a job or a
// fallback may make. running→pending is how a multi-query job goes back to the queue between
// queries, and how a job interrupted by a shutdown (or a crash) is queued again.
func validTransition(from, to string) bool {
	switch from {
	case jobPending:
		return to == jobRunning || to == jobCancelled || to == jobUnknown || to == jobSkipped
	case jobRunning:
		return to == jobDone || to == jobFailed || to == jobCancelled || to == jobPending || to == jobUnknown
	}
	return false
}

// isFinal is CARTO's JobStatus.isFinal; skipped is not final there, although nothing leaves it.
func isFinal(s string) bool {
	return s == jobDone || s == jobFailed || s == jobCancelled || s == jobUnknown
}
