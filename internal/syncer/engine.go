package syncer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"sync/atomic"
	"time"

	"github.com/sfsync/sfsync/internal/salesforce"
	"github.com/sfsync/sfsync/internal/sfconn"
	"github.com/sfsync/sfsync/internal/store"
	"github.com/sfsync/sfsync/internal/syncconf"
)

// Pull modes.
const (
	ModeFull        PullMode = "full"        // every matching Salesforce contact (first sync, full resync)
	ModeIncremental PullMode = "incremental" // changes since the cursor, with a lookback
)

// Enqueuer puts sync work on the job queue (River); internal/jobs
// implements it. Without one, the engine's callers run work directly.
type Enqueuer interface {
	EnqueuePull(ctx context.Context, tenantID string, mode PullMode, trigger Trigger, runID int64, at time.Time) error
	EnqueuePush(ctx context.Context, tenantID string) error
}

// Engine runs sync for every tenant. Its exported methods are what the
// admin UI and the JSON API call; RunPull, RunPush and Tick are what the
// job workers call.
type Engine struct {
	Store  *store.Store
	Conn   *sfconn.Service
	Logger *slog.Logger
	Now    func() time.Time
	Queue  Enqueuer

	// PollInterval is the incremental pull's period (SPEC S16: 15 minutes).
	PollInterval time.Duration
	// Lookback is re-read on every incremental pull, because
	// SystemModstamp values can commit late (X6). Default 10 minutes.
	Lookback time.Duration
	// PageSize is the number of records applied per transaction (2,000).
	PageSize int
	// PageTime, on SQLite, bounds how long a Bulk API pass's page
	// transaction holds the one writing connection: pages shrink (to an
	// eighth of PageSize at least) when they take longer, so the API's
	// writes never wait long behind one (River's tables are in a file of
	// their own, store.JobsDB). 0: pages are PageSize records whatever
	// they take.
	PageTime time.Duration
	// BulkThreshold is the record count above which a full sync reads
	// through Bulk API 2.0 instead of REST queries (default 10,000: above
	// it the identity census reads one Bulk API job, which the pass then
	// replays, so a larger threshold costs the REST pages on top).
	BulkThreshold int64
	// PushBatch is the number of contacts per Salesforce collections call
	// (at most 200).
	PushBatch int
	// Retention is how long per-record log entries are kept (90 days).
	Retention time.Duration
	// HistoryRetention is how long field history (Y3) is kept (90 days).
	HistoryRetention time.Duration
	// Alerts, when set, is checked at every Maintain (the scheduler's
	// period): it tells admins when a watched condition changes state.
	Alerts interface {
		CheckAll(ctx context.Context) error
	}
	// RecycleBinWindow is how far back Salesforce still reports deletions
	// (15 days); a cursor older than that triggers a full pass.
	RecycleBinWindow time.Duration
	// PushWindow groups real-time pushes into one logged run (15 minutes).
	PushWindow time.Duration
	// PushBulkThreshold is the number of contacts waiting to be pushed
	// from which a push pass reads and writes them through Bulk API 2.0
	// (DefaultPushBulkThreshold when zero; negative: never).
	PushBulkThreshold int
	// PushCoalesce is how long a change may wait for a push batch of 200
	// contacts to fill (0: no wait): fewer than a batch wait until the
	// oldest has waited this long, and the partial last batch behind full
	// ones waits for the next round. The service uses DefaultPushCoalesce.
	PushCoalesce time.Duration
	// describes caches each tenant's describe of Contact between runs, so
	// an idle incremental poll costs one API call, not two.
	describes describeCache
	// SliceDuration bounds one job of a long REST full sync (4 minutes);
	// the run then continues in a fresh job from its checkpoint.
	SliceDuration time.Duration
	// DriftInterval is how often each tenant's drift check runs
	// (DefaultDriftInterval: daily).
	DriftInterval time.Duration
	// DriftRangeSize is the number of links per range a drift check
	// compares (DefaultDriftRangeSize).
	DriftRangeSize int

	// noCensus skips the identity census (set only by the benchmark that
	// measures what the census costs; export_test.go).
	noCensus bool
	// speculated and redecided count the pages decided while the page
	// before was written (pipeline) and, of those, the ones decided again
	// because that write touched what they read or they needed a write of
	// their own; waitNext makes the pipeline wait for the next page, and
	// for its decision before writing the page before, so that every page
	// after the first is decided speculatively, on reads older than the
	// write before it (tests).
	speculated, redecided atomic.Int64
	waitNext              bool
}

func (e *Engine) now() time.Time {
	if e.Now != nil {
		return e.Now().UTC()
	}
	return time.Now().UTC()
}

func (e *Engine) log() *slog.Logger {
	if e.Logger != nil {
		return e.Logger
	}
	return slog.Default()
}

func orDefault[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

func (e *Engine) pollInterval() time.Duration { return orDefault(e.PollInterval, 15*time.Minute) }
func (e *Engine) lookback() time.Duration     { return orDefault(e.Lookback, 10*time.Minute) }
func (e *Engine) pageSize() int               { return orDefault(e.PageSize, 2000) }
func (e *Engine) bulkThreshold() int64        { return orDefault(e.BulkThreshold, censusRESTMax) }
func (e *Engine) pushBatch() int              { return min(orDefault(e.PushBatch, 200), 200) }
func (e *Engine) retention() time.Duration    { return orDefault(e.Retention, 90*24*time.Hour) }
func (e *Engine) recycleBin() time.Duration   { return orDefault(e.RecycleBinWindow, 15*24*time.Hour) }
func (e *Engine) pushWindow() time.Duration   { return orDefault(e.PushWindow, 15*time.Minute) }
func (e *Engine) sliceDuration() time.Duration {
	return orDefault(e.SliceDuration, 4*time.Minute)
}

// ErrNotConfigured reports a tenant with no saved sync configuration.
var ErrNotConfigured = errors.New("syncer: no sync configuration has been saved")

// ErrNoPull reports a sync that needs the Salesforce → platform direction
// when the configuration has none.
var ErrNoPull = errors.New("syncer: the configuration syncs nothing from Salesforce to the platform")

// ErrNothingToRetry reports a retry of failed records when none are left
// to retry (in that run, or that reason group): no run starts.
var ErrNothingToRetry = errors.New("syncer: there are no failed records to retry")

// Env gathers what a configuration is validated against: the org's
// describe of the object the tenant's current configuration syncs
// (Contact before one is saved), the tenant's custom fields and its
// entitlements.
func (e *Engine) Env(ctx context.Context, tenantID string) (syncconf.Env, error) {
	cur, _, err := e.CurrentConfig(ctx, tenantID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return syncconf.Env{}, err
	}
	return e.EnvFor(ctx, tenantID, cur.Choice())
}

// EnvFor is Env for the object the admin chose: the describe of Contact,
// Lead or Account. Env.PersonAccounts says whether the org has Person
// Accounts, so the wizard offers that choice only then.
func (e *Engine) EnvFor(ctx context.Context, tenantID string, object syncconf.ObjectChoice) (syncconf.Env, error) {
	c, err := e.Conn.Client(ctx, tenantID)
	if err != nil {
		return syncconf.Env{}, err
	}
	// The setup wizard asks on every step; a few minutes' cache saves API
	// calls and still shows a field an admin has just added soon enough.
	d, err := e.describe(ctx, tenantID, object.SObject(), c, setupDescribeTTL)
	if err != nil {
		return syncconf.Env{}, err
	}
	env, err := e.envWith(ctx, tenantID, d)
	if err != nil {
		return env, err
	}
	acct := d
	if object.SObject() != "Account" {
		acct, err = e.describe(ctx, tenantID, "Account", c, setupDescribeTTL)
		if errors.Is(err, salesforce.ErrNotFound) {
			acct, err = nil, nil // an org (or emulator) without Account
		}
		if err != nil {
			return env, err
		}
	}
	env.PersonAccounts = syncconf.PersonAccountsEnabled(acct)
	if conv := object.ConvertedObject(); conv != "" {
		if env.Converted, err = e.describe(ctx, tenantID, conv, c, setupDescribeTTL); err != nil {
			return env, err
		}
	}
	return env, nil
}

const setupDescribeTTL = 2 * time.Minute

func (e *Engine) envWith(ctx context.Context, tenantID string, d *salesforce.SObjectDescribe) (syncconf.Env, error) {
	t, err := e.Store.GetTenant(ctx, tenantID)
	if err != nil {
		return syncconf.Env{}, err
	}
	defs, err := e.Store.ListCustomFields(ctx, tenantID)
	if err != nil {
		return syncconf.Env{}, err
	}
	env := syncconf.Env{Describe: d, CustomFields: defs}
	if t.Plan.SocialCDP {
		env.Entitlements = append(env.Entitlements, syncconf.EntitlementSocialCDP)
	}
	return env, nil
}

// ValidateConfig checks a configuration against the org (S13). It returns
// syncconf.ValidationErrors when the configuration is invalid.
func (e *Engine) ValidateConfig(ctx context.Context, tenantID string, cfg syncconf.Config) error {
	env, err := e.EnvFor(ctx, tenantID, cfg.Choice())
	if err != nil {
		return err
	}
	return cfg.Validate(env)
}

// SaveConfig validates and stores a new configuration version and makes
// it the one runs use from the next run on (S15). A configuration that
// pushes starts real-time sync at once (S17); one that pulls waits for
// the admin's Start sync (S16) unless a first sync already ran, in which
// case the schedule goes on with the new version.
func (e *Engine) SaveConfig(ctx context.Context, tenantID, adminID string, cfg syncconf.Config) (store.SyncConfigVersion, error) {
	if err := e.ValidateConfig(ctx, tenantID, cfg); err != nil {
		return store.SyncConfigVersion{}, err
	}
	body, err := cfg.CanonicalJSON()
	if err != nil {
		return store.SyncConfigVersion{}, err
	}
	prev, prevVersion, err := e.CurrentConfig(ctx, tenantID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return store.SyncConfigVersion{}, err
	}
	v, err := e.Store.SaveSyncConfig(ctx, tenantID, adminID, body)
	if err != nil {
		return v, err
	}
	st, err := e.Store.GetSyncState(ctx, tenantID)
	if err != nil {
		return v, err
	}
	if prevVersion != 0 && prev.Choice() != cfg.Choice() {
		// Another Salesforce object: the links name records of the old
		// one, and an incremental pull would read only what changes from
		// now on. The links go, and the first sync is offered again, as
		// after connecting another org.
		n, err := e.Store.DeleteAllLinks(ctx, tenantID)
		if err != nil {
			return v, err
		}
		st.InitialRunID, st.PullEnabled = 0, false
		st.PullCursor, st.NextPullAt = time.Time{}, time.Time{}
		// A replay ID is the old object's channel's: the stream starts
		// afresh on the new one's.
		if err := e.Store.SaveReplayID(ctx, tenantID, nil, true); err != nil {
			return v, err
		}
		e.log().InfoContext(ctx, "sync object changed; links dropped, a first sync is needed", "tenant_id", tenantID,
			"from", prev.Choice(), "to", cfg.Choice(), "links", n)
	}
	st.ConfigVersion = v.Version
	st.PushEnabled = cfg.PushesToSalesforce()
	if !cfg.PullsFromSalesforce() {
		st.PullEnabled = false
	} else if st.InitialRunID != 0 {
		st.PullEnabled = true
	}
	if err := e.Store.SaveSyncState(ctx, st); err != nil {
		return v, err
	}
	e.log().InfoContext(ctx, "sync configuration saved", "tenant_id", tenantID, "version", v.Version,
		"pull", cfg.PullsFromSalesforce(), "push", cfg.PushesToSalesforce())
	if st.PushEnabled && e.Queue != nil {
		if err := e.Queue.EnqueuePush(ctx, tenantID); err != nil {
			e.log().WarnContext(ctx, "enqueue push after save failed", "tenant_id", tenantID, "error", err)
		}
	}
	return v, nil
}

// CurrentConfig returns the configuration runs use now and its version.
func (e *Engine) CurrentConfig(ctx context.Context, tenantID string) (syncconf.Config, int64, error) {
	st, err := e.Store.GetSyncState(ctx, tenantID)
	if err != nil {
		return syncconf.Config{}, 0, err
	}
	v, err := e.Store.GetSyncConfig(ctx, tenantID, st.ConfigVersion)
	if err != nil {
		return syncconf.Config{}, 0, err
	}
	cfg, err := syncconf.DecodeConfig(v.Config)
	return cfg, v.Version, err
}

// StartInitialSync begins the first full Salesforce → platform sync (S16)
// in the background; its progress survives closing the page (S18).
func (e *Engine) StartInitialSync(ctx context.Context, tenantID string) (Run, error) {
	return e.startPull(ctx, tenantID, ModeFull, TriggerInitial)
}

// SyncNow pulls Salesforce's changes now (S20).
func (e *Engine) SyncNow(ctx context.Context, tenantID string) (Run, error) {
	return e.startPull(ctx, tenantID, ModeIncremental, TriggerManual)
}

// FullResync re-reads every matching Salesforce contact.
func (e *Engine) FullResync(ctx context.Context, tenantID string) (Run, error) {
	return e.startPull(ctx, tenantID, ModeFull, TriggerFull)
}

// RetryFailed makes failed records due now and starts the runs that retry
// them (X7): with runID 0, every failed record in both directions; with a
// run, that run's failed records, or only those with reasonCode (one
// group of the run's log).
func (e *Engine) RetryFailed(ctx context.Context, tenantID string, runID int64, reasonCode string) (Run, error) {
	pull, push := true, true
	if runID != 0 {
		run, err := e.Store.GetRun(ctx, tenantID, runID)
		if err != nil {
			return Run{}, err
		}
		recs, err := e.Store.RunRecords(ctx, tenantID, runID, KindFailed, reasonCode, 0)
		if err != nil {
			return Run{}, err
		}
		var ids []string
		for _, r := range recs {
			if run.Direction == DirToPlatform && r.SalesforceID != "" {
				ids = append(ids, r.SalesforceID)
			} else if run.Direction == DirToSalesforce && r.ContactID != "" {
				ids = append(ids, r.ContactID)
			}
		}
		if len(ids) == 0 {
			return Run{}, ErrNothingToRetry
		}
		pull, push = run.Direction == DirToPlatform, run.Direction == DirToSalesforce
		if pull {
			if err := e.Store.ClearPullRetries(ctx, tenantID, ids...); err != nil {
				return Run{}, err
			}
		} else if err := e.Store.RetryOutboxNow(ctx, tenantID, ids...); err != nil {
			return Run{}, err
		}
	} else {
		if err := e.Store.ClearPullRetries(ctx, tenantID); err != nil {
			return Run{}, err
		}
		if err := e.Store.RetryOutboxNow(ctx, tenantID); err != nil {
			return Run{}, err
		}
	}
	if push && e.Queue != nil {
		if err := e.Queue.EnqueuePush(ctx, tenantID); err != nil {
			return Run{}, err
		}
	}
	cfg, _, err := e.CurrentConfig(ctx, tenantID)
	if err != nil {
		return Run{}, err
	}
	if pull && cfg.PullsFromSalesforce() {
		return e.startPull(ctx, tenantID, ModeIncremental, TriggerRetry)
	}
	if !push || !cfg.PushesToSalesforce() {
		return Run{}, ErrNothingToRetry
	}
	// The retried pushes are logged in the real-time push run.
	st, err := e.Store.GetSyncState(ctx, tenantID)
	if err != nil {
		return Run{}, err
	}
	return e.pushRun(ctx, tenantID, st)
}

func (e *Engine) startPull(ctx context.Context, tenantID string, mode PullMode, trigger Trigger) (Run, error) {
	st, err := e.Store.GetSyncState(ctx, tenantID)
	if err != nil {
		return Run{}, err
	}
	if st.ConfigVersion == 0 {
		return Run{}, ErrNotConfigured
	}
	cfg, _, err := e.CurrentConfig(ctx, tenantID)
	if err != nil {
		return Run{}, err
	}
	if !cfg.PullsFromSalesforce() {
		return Run{}, ErrNoPull
	}
	client, err := e.Conn.Client(ctx, tenantID)
	if err != nil {
		return Run{}, err
	}
	if running, ok, err := e.runningPull(ctx, tenantID); err != nil {
		return Run{}, err
	} else if ok {
		if running.Status == StatusPaused {
			return e.resumePaused(ctx, tenantID, client, running)
		}
		return running, nil // one run at a time per tenant and direction
	}
	run, err := e.Store.CreateRun(ctx, Run{TenantID: tenantID, Direction: DirToPlatform, Trigger: trigger, Status: StatusRunning, ConfigVersion: st.ConfigVersion})
	if err != nil {
		return Run{}, err
	}
	if trigger == TriggerInitial {
		st.InitialRunID = run.ID
	}
	st.PullEnabled = true
	if st.NextPullAt.IsZero() {
		st.NextPullAt = e.nextPoll()
	}
	if err := e.Store.SaveSyncState(ctx, st); err != nil {
		return Run{}, err
	}
	if e.Queue != nil {
		if err := e.Queue.EnqueuePull(ctx, tenantID, mode, trigger, run.ID, time.Time{}); err != nil {
			return run, err
		}
	}
	return run, nil
}

// PausedError answers a request to sync while the run is paused for the
// API budget or Salesforce's limit and one call says it still must wait.
type PausedError struct {
	Run   Run
	Until time.Time
	Why   string
}

func (e *PausedError) Error() string {
	return fmt.Sprintf("syncer: run %d is paused until %s: %s", e.Run.ID, e.Until.UTC().Format(time.RFC3339), e.Why)
}

// resumePaused is "sync now" on a paused pull: one call reads the org's
// usage; when the budget allows, the run goes on at once, else a
// *PausedError says until when and why.
func (e *Engine) resumePaused(ctx context.Context, tenantID string, client *salesforce.Client, run Run) (Run, error) {
	limits, err := client.Limits(ctx)
	if err != nil {
		if until, why, paused := e.pauseFor(err); paused {
			return run, &PausedError{Run: run, Until: until, Why: why}
		}
		return run, err
	}
	if l, ok := limits["DailyApiRequests"]; ok && l.Max > 0 {
		u := salesforce.Usage{Used: int(l.Max - l.Remaining), Max: int(l.Max), ObservedAt: e.now()}
		if until := u.Until(client.Budget()); !until.IsZero() {
			return run, &PausedError{Run: run, Until: until, Why: fmt.Sprintf("the Salesforce API budget is spent (%d of %d calls used, sfsync may use %d)", u.Used, u.Max, u.Allowed(client.Budget()))}
		}
	}
	st, err := e.Store.GetSyncState(ctx, tenantID)
	if err != nil {
		return run, err
	}
	st.PausedUntil, st.NextPullAt = time.Time{}, e.now()
	if err := e.Store.SaveSyncState(ctx, st); err != nil {
		return run, err
	}
	if e.Queue != nil {
		if err := e.Queue.EnqueuePull(ctx, tenantID, modeOf(run.Trigger), run.Trigger, run.ID, time.Time{}); err != nil {
			return run, err
		}
	}
	return run, nil
}

// runningPull returns the tenant's Salesforce → platform run that is
// still running or paused, if any.
// An older run still open beside it (its process died, or a newer run was
// started beside a paused one) is closed, saying which run superseded it.
func (e *Engine) runningPull(ctx context.Context, tenantID string) (Run, bool, error) {
	runs, err := e.Store.ListRuns(ctx, tenantID, DirToPlatform, 20, 0)
	if err != nil {
		return Run{}, false, err
	}
	var cur Run
	found := false
	for _, r := range runs {
		if r.Status != StatusRunning && r.Status != StatusPaused || r.Trigger == TriggerRealtime {
			continue // real-time arrivals are logged beside the pulls (realtime.go)
		}
		if !found {
			cur, found = r, true
			continue
		}
		msg := fmt.Sprintf("superseded by run %d", cur.ID)
		if err := e.Store.UpdateRun(ctx, tenantID, r.ID, RunProgress{Status: StatusFailed, Message: &msg, Finished: true}); err != nil {
			return Run{}, false, err
		}
	}
	return cur, found, nil
}

// ResyncAdvised reports whether the identity or the conditions changed
// since the last completed full sync: records matched or selected under
// the old ones are not re-read by incremental pulls, so the admin is
// offered a full resync.
func (e *Engine) ResyncAdvised(ctx context.Context, tenantID string) (bool, error) {
	cur, version, err := e.CurrentConfig(ctx, tenantID)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return false, nil
		}
		return false, err
	}
	runs, err := e.Store.ListRuns(ctx, tenantID, DirToPlatform, 100, 0)
	if err != nil {
		return false, err
	}
	for _, r := range runs {
		full := r.Trigger == TriggerInitial || r.Trigger == TriggerFull
		if !full || (r.Status != StatusSucceeded && r.Status != StatusPartiallyFailed) {
			continue
		}
		if r.ConfigVersion == version {
			return false, nil
		}
		v, err := e.Store.GetSyncConfig(ctx, tenantID, r.ConfigVersion)
		if err != nil {
			return false, err
		}
		old, err := syncconf.DecodeConfig(v.Config)
		if err != nil {
			return false, err
		}
		a, _ := json.Marshal([]any{old.Canonical().Identity, old.Canonical().Conditions, old.Choice()})
		b, _ := json.Marshal([]any{cur.Canonical().Identity, cur.Canonical().Conditions, cur.Choice()})
		return string(a) != string(b), nil
	}
	return false, nil
}

// InitialRun returns the tenant's first full sync, for its progress bar.
func (e *Engine) InitialRun(ctx context.Context, tenantID string) (Run, bool, error) {
	st, err := e.Store.GetSyncState(ctx, tenantID)
	if err != nil || st.InitialRunID == 0 {
		return Run{}, false, err
	}
	r, err := e.Store.GetRun(ctx, tenantID, st.InitialRunID)
	if errors.Is(err, store.ErrNotFound) {
		return Run{}, false, nil
	}
	return r, err == nil, err
}

// ListRuns lists a tenant's runs, newest first (S21).
func (e *Engine) ListRuns(ctx context.Context, tenantID string, f RunFilter) ([]Run, error) {
	return e.Store.ListRuns(ctx, tenantID, f.Direction, f.Limit, f.BeforeID)
}

// GetRun returns one run.
func (e *Engine) GetRun(ctx context.Context, tenantID string, runID int64) (Run, error) {
	return e.Store.GetRun(ctx, tenantID, runID)
}

// RunRecords lists a run's per-record entries.
func (e *Engine) RunRecords(ctx context.Context, tenantID string, runID int64, kind RecordKind, reasonCode string, limit int) ([]RunRecord, error) {
	if _, err := e.Store.GetRun(ctx, tenantID, runID); err != nil {
		return nil, err
	}
	return e.Store.RunRecords(ctx, tenantID, runID, kind, reasonCode, limit)
}

// ReasonGroups groups a run's records by reason (X7).
func (e *Engine) ReasonGroups(ctx context.Context, tenantID string, runID int64) ([]ReasonGroup, error) {
	if _, err := e.Store.GetRun(ctx, tenantID, runID); err != nil {
		return nil, err
	}
	return e.Store.ReasonGroups(ctx, tenantID, runID)
}

// WriteRunCSV exports a run's records as CSV: all of them, or one group
// (kind and reason code).
func (e *Engine) WriteRunCSV(ctx context.Context, tenantID string, runID int64, kind RecordKind, reasonCode string, w io.Writer) error {
	if _, err := e.Store.GetRun(ctx, tenantID, runID); err != nil {
		return err
	}
	return e.Store.WriteRunCSV(ctx, tenantID, runID, kind, reasonCode, w)
}

// Usage reports the org's API usage and sfsync's budget share (X4).
func (e *Engine) Usage(ctx context.Context, tenantID string) (used, max int, budget float64, err error) {
	c, err := e.Conn.Client(ctx, tenantID)
	if err != nil {
		return 0, 0, 0, err
	}
	if _, err := c.Limits(ctx); err != nil {
		return 0, 0, 0, err
	}
	u := c.Usage()
	return u.Used, u.Max, c.Budget(), nil
}

// Disconnect stops the tenant's schedules and pushes, revokes the token
// and forgets the connection; contacts and links stay (S22).
func (e *Engine) Disconnect(ctx context.Context, tenantID string) error {
	st, err := e.Store.GetSyncState(ctx, tenantID)
	if err != nil {
		return err
	}
	pushRunID := st.PushRunID
	st.PullEnabled, st.PushEnabled, st.PushRunID = false, false, 0
	// A later connection may be another org: it starts with its own first
	// sync (issue 17), so this connection's first run, cursor and schedule
	// are forgotten. The saved configuration stays as the setup's draft;
	// the first sync of the new connection is offered again.
	st.InitialRunID = 0
	st.PullCursor, st.NextPullAt, st.PausedUntil = time.Time{}, time.Time{}, time.Time{}
	if err := e.Store.SaveSyncState(ctx, st); err != nil {
		return err
	}
	// The real-time subscription ends with the pull (its holder drops it
	// at its next lease renewal); its replay ID belongs to this org.
	if err := e.closeIdleStreamRun(ctx, tenantID); err != nil {
		return err
	}
	if err := e.Store.ResetRealtimeStream(ctx, tenantID); err != nil {
		return err
	}
	if pushRunID != 0 {
		// The real-time push run ends with the pushes.
		pr, err := e.Store.GetRun(ctx, tenantID, pushRunID)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		if err == nil && (pr.Status == StatusRunning || pr.Status == StatusPaused) {
			if err := e.finishPushRun(ctx, tenantID, pr, "ended: Salesforce was disconnected"); err != nil {
				return err
			}
		}
	}
	r, ok, err := e.runningPull(ctx, tenantID)
	if err != nil {
		return err
	}
	if ok {
		msg := "stopped: Salesforce was disconnected"
		if err := e.Store.UpdateRun(ctx, tenantID, r.ID, RunProgress{Status: StatusFailed, Message: &msg, Finished: true}); err != nil {
			return err
		}
	}
	return e.Conn.Disconnect(ctx, tenantID)
}

// RunProgress is store.RunProgress, named here for the engine's code.
type RunProgress = store.RunProgress

// SchedulePulls enqueues the incremental pull of every tenant whose
// durable schedule (sync_state.next_pull_at) is due. The job queue's
// uniqueness keeps one pull per tenant queued or running.
func (e *Engine) SchedulePulls(ctx context.Context) (int, error) {
	if e.Queue == nil {
		return 0, nil
	}
	due, err := e.Store.DueForPull(ctx, e.now())
	if err != nil {
		return 0, err
	}
	n := 0
	for _, t := range due {
		if err := e.Queue.EnqueuePull(ctx, t, ModeIncremental, TriggerScheduled, 0, time.Time{}); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// DispatchPushes enqueues a push for every tenant with outbox entries due.
func (e *Engine) DispatchPushes(ctx context.Context) (int, error) {
	if e.Queue == nil {
		return 0, nil
	}
	due, err := e.Store.DueForPush(ctx, e.now())
	if err != nil {
		return 0, err
	}
	for _, t := range due {
		if err := e.Queue.EnqueuePush(ctx, t); err != nil {
			return 0, err
		}
	}
	return len(due), nil
}

// Maintain closes real-time push runs whose window passed and prunes log
// entries older than the retention period.
func (e *Engine) Maintain(ctx context.Context) error {
	open, err := e.Store.OpenPushRuns(ctx, e.now().Add(-e.pushWindow()))
	if err != nil {
		return err
	}
	for _, t := range open {
		if err := e.closeIdlePushRun(ctx, t); err != nil {
			return err
		}
	}
	streams, err := e.Store.OpenStreamRuns(ctx, e.now().Add(-e.pushWindow()))
	if err != nil {
		return err
	}
	for _, t := range streams {
		if err := e.closeIdleStreamRun(ctx, t); err != nil {
			return err
		}
	}
	n, err := e.Store.PruneRunRecords(ctx, e.now().Add(-e.retention()))
	if n > 0 {
		e.log().InfoContext(ctx, "pruned old sync log entries", "count", n)
	}
	if err != nil {
		return err
	}
	// The health charts show 7 days of hourly API usage; 30 are kept.
	if _, err := e.Store.PruneAPIUsageHours(ctx, e.now().Add(-usageRetention)); err != nil {
		return err
	}
	n, err = e.Store.PruneFieldHistory(ctx, e.now().Add(-e.historyRetention()))
	if n > 0 {
		e.log().InfoContext(ctx, "pruned old field history", "count", n)
	}
	if err != nil {
		return err
	}
	if e.Alerts != nil {
		// A failed delivery is the alert's to record; the schedule goes on.
		if err := e.Alerts.CheckAll(ctx); err != nil {
			e.log().WarnContext(ctx, "checking alerts failed", "error", err)
		}
	}
	return nil
}

// usageRetention is how long hourly API usage is kept.
const usageRetention = 30 * 24 * time.Hour

// nextPoll is when a tenant's next scheduled pull is due: one poll
// interval from now plus a random part of up to a tenth of it (at most a
// minute), so tenants that started together (a deploy, the end of an
// outage) spread out instead of waking in the same second.
func (e *Engine) nextPoll() time.Time {
	next := e.now().Add(e.pollInterval())
	if spread := min(e.pollInterval()/10, time.Minute); spread > 0 {
		next = next.Add(rand.N(spread))
	}
	return next
}

// saveUsage keeps a client's last API usage reading with the connection,
// so that the next run's client respects a spent budget from its first
// call (X4). A failure only costs that: it is logged.
func (e *Engine) saveUsage(ctx context.Context, tenantID string, c *salesforce.Client) {
	u := c.Usage()
	if u.Max == 0 {
		return
	}
	if err := e.Store.SaveAPIUsage(ctx, tenantID, int64(u.Used), int64(u.Max), u.ObservedAt); err != nil {
		e.log().WarnContext(ctx, "storing the API usage reading failed", "tenant_id", tenantID, "error", err)
	}
}
