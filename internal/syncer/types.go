// Package syncer is the sync engine: the first full sync with progress,
// the 15-minute incremental pull, the real-time push, manual syncs, links,
// the echo guard, conflict rules, retries, budget pauses and run logs.
package syncer

import "github.com/sfsync/sfsync/internal/store"

// Directions of a run.
const (
	DirToPlatform   = "to_platform"   // Salesforce → platform
	DirToSalesforce = "to_salesforce" // platform → Salesforce
)

// Triggers of a run.
const (
	TriggerInitial   = "initial"
	TriggerScheduled = "scheduled"
	TriggerManual    = "manual"
	TriggerRealtime  = "realtime"
	TriggerRetry     = "retry"
	TriggerFull      = "full_resync"
)

// Run statuses.
const (
	StatusRunning         = "running"
	StatusSucceeded       = "succeeded"
	StatusPartiallyFailed = "partially_failed"
	StatusFailed          = "failed"
	StatusPaused          = "paused"
)

// Kinds of per-record log entries.
const (
	KindFailed     = "failed"
	KindAmbiguous  = "ambiguous"
	KindConflict   = "conflict"
	KindOutOfScope = "out_of_scope"
	KindSkipped    = "skipped"
	KindUnlinked   = "unlinked"
	KindMerged     = "merged" // merged away in Salesforce: the link followed, or was held
)

// The run log types live with the store that keeps them; these names are
// what the engine's callers use.
type (
	// Run is one sync run (S21); Run.Percent gives its progress.
	Run = store.SyncRun
	// Counts are a run's per-outcome record counts.
	Counts = store.SyncCounts
	// RunRecord is one per-record log entry: a failure, an ambiguity, a
	// conflict, a record out of scope or unlinked.
	RunRecord = store.SyncRunRecord
	// ReasonGroup counts a run's records by kind and reason code.
	ReasonGroup = store.ReasonGroup
)

// RunFilter selects runs: Direction "" means both directions.
type RunFilter struct {
	Direction string
	Limit     int
	BeforeID  int64
}
