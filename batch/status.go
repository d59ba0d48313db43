package batch

// Status is the state of a job, of one of its queries, or of a fallback, as CARTO spells it.
type Status string

// The statuses of CARTO's job state machine: pending → running → done | failed | cancelled.
// A multi-query job goes back to pending between its queries. Skipped marks queries and
// fallbacks that will not run; Unknown exists in CARTO but nothing sets it.
const (
	Pending   Status = "pending"
	Running   Status = "running"
	Done      Status = "done"
	Failed    Status = "failed"
	Cancelled Status = "cancelled"
	Skipped   Status = "skipped"
	Unknown   Status = "unknown"
)

// Final reports whether nothing moves the status any more, as CARTO's JobStatus.isFinal: done,
// failed, cancelled and unknown. (Skipped is not final in CARTO's list, but nothing leaves it.)
func (s Status) Final() bool {
	return s == Done || s == Failed || s == Cancelled || s == Unknown
}
