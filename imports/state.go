package imports

// State is an import's state, as CARTO spells it.
type State string

// An import goes pending → uploading → unpacking → importing → guessing → complete or failure
// (app/models/data_import.rb); enqueued comes before pending for long uploads, geocoding after
// importing when content guessing geocodes, and stuck is final.
const (
	Enqueued  State = "enqueued"
	Pending   State = "pending"
	Uploading State = "uploading"
	Unpacking State = "unpacking"
	Importing State = "importing"
	Guessing  State = "guessing"
	Geocoding State = "geocoding"
	Complete  State = "complete"
	Failure   State = "failure"
	Stuck     State = "stuck"
)

// Final reports whether the import has ended.
func (s State) Final() bool { return s == Complete || s == Failure || s == Stuck }

// SyncState is a sync table's state.
type SyncState string

// A sync goes created → queued → syncing → success or failure, and again on each run.
const (
	SyncCreated SyncState = "created"
	SyncQueued  SyncState = "queued"
	SyncSyncing SyncState = "syncing"
	SyncSuccess SyncState = "success"
	SyncFailure SyncState = "failure"
)

// Settled reports whether the sync is not running nor waiting to run.
func (s SyncState) Settled() bool { return s == SyncSuccess || s == SyncFailure }

// Privacy is a created dataset's privacy.
type Privacy string

// The privacies the Import API accepts.
const (
	Private Privacy = "private"
	Public  Privacy = "public"
	Link    Privacy = "link"
)

// Collision is what an import does when its table's name is taken.
type Collision string

// The collision strategies: the default picks a free name (name_1, name_2, ...).
const (
	// Skip leaves a taken name alone; an import that skips every table completes with code 1022.
	Skip Collision = "skip"
	// Overwrite replaces the table of that name, keeping its grants.
	Overwrite Collision = "overwrite"
)
