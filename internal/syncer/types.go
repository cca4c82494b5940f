// Package syncer is the sync engine: the first full sync with progress,
// the 15-minute incremental pull, the real-time push, manual syncs, links,
// the echo guard, conflict rules, retries, budget pauses and run logs.
package syncer

import "github.com/sfsync/sfsync/internal/store"

// The run vocabulary is typed, so a misspelt direction, trigger, status
// or kind does not compile; the types live with the store that keeps runs.
type (
	// Direction is the way a run moves records.
	Direction = store.Direction
	// Trigger says what started a run.
	Trigger = store.Trigger
	// RunStatus is where a run stands.
	RunStatus = store.RunStatus
	// RecordKind is the kind of a per-record log entry.
	RecordKind = store.RecordKind
)

// Directions of a run.
const (
	DirToPlatform   Direction = "to_platform"   // Salesforce → platform
	DirToSalesforce Direction = "to_salesforce" // platform → Salesforce
)

// Triggers of a run.
const (
	TriggerInitial   Trigger = "initial"
	TriggerScheduled Trigger = "scheduled"
	TriggerManual    Trigger = "manual"
	TriggerRealtime  Trigger = "realtime"
	TriggerRetry     Trigger = "retry"
	TriggerFull      Trigger = "full_resync"
	// TriggerDrift is a drift check and repair (Y2), daily or on demand.
	TriggerDrift Trigger = "drift_check"
	// TriggerContactResync: an admin's "resync this contact" (one record).
	TriggerContactResync Trigger = "contact_resync"
	// TriggerCatchUp: the incremental pull a Change Data Capture stream
	// owes after a gap, an overflow or a break (issue 15).
	TriggerCatchUp Trigger = "catch_up"
)

// Run statuses.
const (
	StatusRunning         RunStatus = "running"
	StatusSucceeded       RunStatus = "succeeded"
	StatusPartiallyFailed RunStatus = "partially_failed"
	StatusFailed          RunStatus = "failed"
	StatusPaused          RunStatus = "paused"
)

// Kinds of per-record log entries.
const (
	KindFailed     RecordKind = "failed"
	KindAmbiguous  RecordKind = "ambiguous"
	KindConflict   RecordKind = "conflict"
	KindOutOfScope RecordKind = "out_of_scope"
	KindSkipped    RecordKind = "skipped"
	KindUnlinked   RecordKind = "unlinked"
	KindMerged     RecordKind = "merged" // merged away in Salesforce: the link followed, or was held
	// KindDrift is a record a drift check found differing (then repaired).
	KindDrift RecordKind = "drift"
	// KindEstimate is a pass's cost estimate against the API budget, and
	// what was decided (REST, Bulk API 2.0, or deferred).
	KindEstimate RecordKind = "estimate"
)

// PullMode is what a pull reads.
type PullMode string

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
	Direction Direction
	Limit     int
	BeforeID  int64
}
