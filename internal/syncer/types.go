// Package syncer is the sync engine: the first full sync with progress,
// the 15-minute incremental pull, the real-time push, manual syncs, links,
// the echo guard, conflict rules, retries, budget pauses and run logs.
package syncer

import "time"

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

// Counts are a run's per-outcome record counts.
type Counts struct {
	Scanned    int64 `json:"scanned"`
	Created    int64 `json:"created"`
	Updated    int64 `json:"updated"`
	Unchanged  int64 `json:"unchanged"`
	Skipped    int64 `json:"skipped"` // by the no-match policy
	OutOfScope int64 `json:"out_of_scope"`
	Ambiguous  int64 `json:"ambiguous"`
	Failed     int64 `json:"failed"`
	Conflicts  int64 `json:"conflicts"`
	Unlinked   int64 `json:"unlinked"` // deleted in Salesforce
}

// Run is one sync run (S21).
type Run struct {
	ID            int64      `json:"id"`
	TenantID      string     `json:"-"`
	Direction     string     `json:"direction"`
	Trigger       string     `json:"trigger"`
	Status        string     `json:"status"`
	ConfigVersion int64      `json:"config_version"`
	StartedAt     time.Time  `json:"started_at"`
	FinishedAt    *time.Time `json:"finished_at,omitempty"`
	Counts        Counts     `json:"counts"`
	// Total is the number of records a full sync expects (COUNT()); 0 when unknown.
	Total     int64  `json:"total"`
	Processed int64  `json:"processed"`
	APICalls  int64  `json:"api_calls"`
	Message   string `json:"message,omitempty"`
}

// Percent is the run's progress in percent (0–100), from Processed/Total.
func (r Run) Percent() float64 {
	if r.Total <= 0 {
		if r.Status == StatusSucceeded || r.Status == StatusPartiallyFailed {
			return 100
		}
		return 0
	}
	p := float64(r.Processed) * 100 / float64(r.Total)
	if p > 100 {
		p = 100
	}
	return p
}

// Kinds of per-record log entries.
const (
	KindFailed     = "failed"
	KindAmbiguous  = "ambiguous"
	KindConflict   = "conflict"
	KindOutOfScope = "out_of_scope"
	KindSkipped    = "skipped"
	KindUnlinked   = "unlinked"
)

// RunRecord is one per-record log entry of a run: a failure, an
// ambiguity, a conflict or a record that left the conditions' scope.
type RunRecord struct {
	ID           int64     `json:"id"`
	RunID        int64     `json:"run_id"`
	Kind         string    `json:"kind"`
	SalesforceID string    `json:"salesforce_id,omitempty"`
	ContactID    string    `json:"contact_id,omitempty"`
	Field        string    `json:"field,omitempty"`
	ReasonCode   string    `json:"reason_code"`
	Reason       string    `json:"reason"`
	Detail       string    `json:"detail,omitempty"` // e.g. candidates, or both values and the decision of a conflict
	Created      time.Time `json:"created_at"`
}

// ReasonGroup counts a run's records by kind and reason code.
type ReasonGroup struct {
	Kind       string `json:"kind"`
	ReasonCode string `json:"reason_code"`
	Example    string `json:"example"`
	Count      int64  `json:"count"`
}

// RunFilter selects runs: Direction "" means both directions.
type RunFilter struct {
	Direction string
	Limit     int
	BeforeID  int64
}
