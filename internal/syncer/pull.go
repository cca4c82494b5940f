package syncer

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"database/sql"
	"encoding/json"

	"github.com/sfsync/sfsync/internal/contact"
	"github.com/sfsync/sfsync/internal/logctx"
	"github.com/sfsync/sfsync/internal/salesforce"
	"github.com/sfsync/sfsync/internal/sfconn"
	"github.com/sfsync/sfsync/internal/store"
	"github.com/sfsync/sfsync/internal/syncconf"
)

// session is everything one run needs about its tenant.
type session struct {
	tenantID string
	client   *salesforce.Client
	describe *salesforce.SObjectDescribe
	cfg      syncconf.Config
	maps     []mapping
	rules    contact.Rules
	run      Run
	calls0   int64
	// fullPass: a full pass, whose census has held every identity value
	// two in-scope records share (census.go).
	fullPass bool
	// released are records this run released from the review queue: read
	// again at its end even if it saw them (they were held then).
	released map[string]bool
	// review: the tenant has open review items or remembered decisions,
	// so its records are looked up in the queue (checked when the session
	// opens; set when this run holds something).
	review bool
	// A dry run's pass (dryrun.go): at most limit records, through REST,
	// each outcome shown to observe.
	limit   int
	observe func(dryOutcome, syncconf.DryRunRow)
	// personRT is the org's person record type, once looked up (create.go).
	personRT string
	// conv is the Contact half of the pair "Lead, then the converted
	// Contact" (pair.go); nil for every other choice.
	conv *session
}

// describe returns the tenant's describe of the object (Contact, Lead,
// Account), read again when the cached one is older than maxAge or
// belongs to another org.
func (e *Engine) describe(ctx context.Context, tenantID, object string, client *salesforce.Client, maxAge time.Duration) (*salesforce.SObjectDescribe, error) {
	conn, err := e.Store.GetConnection(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	key := tenantID + "\x00" + object
	e.describes.mu.Lock()
	ent, ok := e.describes.m[key]
	e.describes.mu.Unlock()
	if ok && ent.org == conn.OrgID && e.now().Sub(ent.at) <= maxAge {
		if ent.d == nil {
			return nil, fmt.Errorf("describe %s: %w", object, salesforce.ErrNotFound)
		}
		return ent.d, nil
	}
	d, err := client.DescribeSObject(ctx, object)
	if errors.Is(err, salesforce.ErrNotFound) {
		// The org has no such object (no Person Accounts, say): the
		// answer is remembered as long as a describe would be.
		e.describes.mu.Lock()
		if e.describes.m == nil {
			e.describes.m = map[string]describeEntry{}
		}
		e.describes.m[key] = describeEntry{org: conn.OrgID, at: e.now()}
		e.describes.mu.Unlock()
	}
	if err != nil {
		return nil, fmt.Errorf("describe %s: %w", object, err)
	}
	e.describes.mu.Lock()
	if e.describes.m == nil {
		e.describes.m = map[string]describeEntry{}
	}
	e.describes.m[key] = describeEntry{d: d, org: conn.OrgID, at: e.now()}
	e.describes.mu.Unlock()
	return d, nil
}

// forgetDescribes drops a tenant's cached describes (of every object).
func (e *Engine) forgetDescribes(tenantID string) {
	e.describes.mu.Lock()
	defer e.describes.mu.Unlock()
	for k := range e.describes.m {
		if strings.HasPrefix(k, tenantID+"\x00") {
			delete(e.describes.m, k)
		}
	}
}

// describeCache keeps each tenant's describe of its object between runs,
// so an idle incremental poll costs one API call, not two.
type describeCache struct {
	mu sync.Mutex
	m  map[string]describeEntry // by tenant and object; nil until first use
}

type describeEntry struct {
	d   *salesforce.SObjectDescribe
	org string
	at  time.Time
}

const describeTTL = time.Hour

func (e *Engine) openSession(ctx context.Context, tenantID string, run Run) (*session, error) {
	client, err := e.Conn.Client(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	v, err := e.Store.GetSyncConfig(ctx, tenantID, run.ConfigVersion)
	if err != nil {
		return nil, fmt.Errorf("config version %d: %w", run.ConfigVersion, err)
	}
	cfg, err := syncconf.DecodeConfig(v.Config)
	if err != nil {
		return nil, err
	}
	d, err := e.describe(ctx, tenantID, cfg.Object(), client, describeTTL)
	if err != nil {
		return nil, err
	}
	env, err := e.envWith(ctx, tenantID, d)
	if err != nil {
		return nil, err
	}
	if conv := cfg.Choice().ConvertedObject(); conv != "" {
		if env.Converted, err = e.describe(ctx, tenantID, conv, client, describeTTL); err != nil {
			return nil, err
		}
	}
	bound, err := cfg.Bind(env)
	if err != nil {
		// The org changed under a saved configuration (a field was
		// deleted…); the describe may be stale, so read it again once.
		e.forgetDescribes(tenantID)
		return nil, fmt.Errorf("configuration version %d no longer fits the org: %w", run.ConfigVersion, err)
	}
	rules, err := e.Store.ContactRules(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	review, err := e.Store.HasReviewState(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	s := &session{tenantID: tenantID, client: client, describe: d, cfg: cfg, maps: mappingsOf(bound),
		rules: rules, run: run, calls0: client.Calls(), review: review}
	return s, s.openConverted(env)
}

func (s *session) calls() int64 { return s.client.Calls() - s.calls0 }

// RunPull executes a Salesforce → platform run; the job worker calls it.
// runID 0 starts a new scheduled run. It returns an error only for
// transient failures, which the job queue retries; the run then resumes
// from its last checkpoint. Everything else ends the run with a status.
func (e *Engine) RunPull(ctx context.Context, tenantID string, mode PullMode, trigger Trigger, runID int64) error {
	st, err := e.Store.GetSyncState(ctx, tenantID)
	if err != nil {
		return err
	}
	var run Run
	if runID != 0 {
		if run, err = e.Store.GetRun(ctx, tenantID, runID); err != nil {
			return err
		}
		if run.Status != StatusRunning && run.Status != StatusPaused {
			return nil // finished already: a duplicate delivery
		}
	} else {
		if !st.PullEnabled || st.ConfigVersion == 0 {
			return nil
		}
		if trigger == TriggerScheduled && st.PullPaused {
			// An admin's pause holds scheduled polls back (a poll queued
			// before the pause finds it here).
			return nil
		}
		// A run started by the admin whose own job was merged into this
		// one (jobs are unique per tenant) is carried on here.
		existing, busy, err := e.runningPull(ctx, tenantID)
		if err != nil {
			return err
		}
		if busy {
			run, mode, trigger = existing, modeOf(existing.Trigger), existing.Trigger
		} else if run, err = e.Store.CreateRun(ctx, Run{TenantID: tenantID, Direction: DirToPlatform, Trigger: trigger, Status: StatusRunning, ConfigVersion: st.ConfigVersion}); err != nil {
			return err
		}
	}
	// Every line logged about this run from here on, by the engine, the
	// Salesforce client or the store, names the tenant and the run.
	ctx = logctx.With(ctx, "tenant_id", tenantID, "run_id", run.ID)
	if mode == ModeIncremental && (st.PullCursor.IsZero() || e.now().Sub(st.PullCursor) > e.recycleBin()) {
		// No cursor yet, or one older than Salesforce's recycle bin:
		// deletions may be gone from queryAll, so read everything.
		mode = ModeFull
	}
	if mode == ModeFull && onPollSlot(ctx) {
		// A full pass may take hours: not on a slot kept for polls and
		// pushes. The job queue moves the job to the full-pass queue; the
		// run, created or not, is carried on there.
		return ErrFullPass
	}
	wasPaused := run.Status == StatusPaused
	if wasPaused {
		msg := ""
		if err := e.Store.UpdateRun(ctx, tenantID, run.ID, RunProgress{Status: StatusRunning, Message: &msg}); err != nil {
			return err
		}
	}
	sess, err := e.openSession(ctx, tenantID, run)
	if err != nil {
		return e.endPull(ctx, tenantID, run, nil, err)
	}
	if wasPaused {
		// The stored reading paused the run; one call reads the org's usage
		// again before the run goes on (or pauses anew).
		if _, err := sess.client.Limits(ctx); err != nil {
			return e.endPull(ctx, tenantID, run, sess, err)
		}
	}
	log := e.log().With("tenant_id", tenantID, "run_id", run.ID, "mode", mode)
	log.InfoContext(ctx, "pull started", "trigger", trigger, "config_version", run.ConfigVersion)
	if mode == ModeDrift {
		return e.endPull(ctx, tenantID, run, sess, e.driftCheck(ctx, sess))
	}
	var cursor time.Time
	if mode == ModeFull {
		sess.fullPass = true
		err = e.pullFull(ctx, sess)
		cursor = run.StartedAt
	} else {
		cursor, err = e.pullIncremental(ctx, sess, st.PullCursor)
		if err == nil && sess.conv != nil {
			cursor, err = e.pullConverted(ctx, sess, st.PullCursor, cursor)
		}
	}
	return e.endPull(ctx, tenantID, run, sess, err, cursor)
}

func modeOf(trigger Trigger) PullMode {
	if trigger == TriggerInitial || trigger == TriggerFull {
		return ModeFull
	}
	if trigger == TriggerDrift {
		return ModeDrift
	}
	return ModeIncremental
}

// endPull records how a run ended, and schedules the next one.
func (e *Engine) endPull(ctx context.Context, tenantID string, run Run, sess *session, runErr error, cursor ...time.Time) error {
	var calls int64
	if sess != nil {
		calls = sess.calls()
		e.saveUsage(ctx, tenantID, sess.client)
	}
	e.observeSalesforce(ctx, tenantID, run.ID, runErr)
	st, err := e.Store.GetSyncState(ctx, tenantID)
	if err != nil {
		return err
	}
	switch until, why, paused := e.pauseFor(runErr); {
	case runErr == nil:
		final, err := e.Store.GetRun(ctx, tenantID, run.ID)
		if err != nil {
			return err
		}
		status := StatusSucceeded
		if final.Counts.Failed > 0 || final.Counts.Ambiguous > 0 {
			status = StatusPartiallyFailed
		}
		if err := e.Store.UpdateRun(ctx, tenantID, run.ID, RunProgress{APICalls: calls, Status: status, Finished: true}); err != nil {
			return err
		}
		if len(cursor) > 0 && cursor[0].After(st.PullCursor) {
			st.PullCursor = cursor[0]
		}
		st.NextPullAt = e.nextPoll()
		st.PausedUntil = time.Time{}
		e.log().InfoContext(ctx, "pull finished", "tenant_id", tenantID, "run_id", run.ID, "status", status, "api_calls", calls)
		return e.Store.SaveSyncState(ctx, st)
	case paused:
		msg := "paused: " + why + "; the run resumes by itself"
		if err := e.Store.UpdateRun(ctx, tenantID, run.ID, RunProgress{APICalls: calls, Status: StatusPaused, Message: &msg}); err != nil {
			return err
		}
		st.PausedUntil = until
		st.NextPullAt = until
		if err := e.Store.SaveSyncState(ctx, st); err != nil {
			return err
		}
		e.log().WarnContext(ctx, "pull paused", "tenant_id", tenantID, "run_id", run.ID, "until", until, "why", why)
		if e.Queue != nil {
			return e.Queue.EnqueuePull(ctx, tenantID, modeOf(run.Trigger), run.Trigger, run.ID, until)
		}
		return nil
	case errors.Is(runErr, ErrContinue):
		if calls > 0 {
			if err := e.Store.UpdateRun(ctx, tenantID, run.ID, RunProgress{APICalls: calls}); err != nil {
				return err
			}
		}
		return ErrContinue
	case transient(runErr):
		if calls > 0 {
			if err := e.Store.UpdateRun(ctx, tenantID, run.ID, RunProgress{APICalls: calls}); err != nil {
				return errors.Join(runErr, err)
			}
		}
		e.log().WarnContext(ctx, "pull interrupted; it will resume from its checkpoint", "tenant_id", tenantID, "run_id", run.ID, "error", runErr)
		return runErr
	default:
		msg := "failed: " + runErr.Error()
		var ref *sfconn.Refusal
		if errors.As(runErr, &ref) {
			msg = "failed: " + ref.MessageEN
		}
		if err := e.Store.UpdateRun(ctx, tenantID, run.ID, RunProgress{APICalls: calls, Status: StatusFailed, Message: &msg, Finished: true}); err != nil {
			return err
		}
		st.NextPullAt = e.nextPoll()
		e.log().ErrorContext(ctx, "pull failed", "tenant_id", tenantID, "run_id", run.ID, "error", runErr)
		return e.Store.SaveSyncState(ctx, st)
	}
}

// pauseFor tells whether err pauses a run for the API budget or
// Salesforce's request limit, until when, and why (for the run's log).
func (e *Engine) pauseFor(err error) (until time.Time, why string, ok bool) {
	var budget *salesforce.BudgetError
	var limit *salesforce.LimitError
	switch {
	case errors.As(err, &budget):
		until = e.now().Add(time.Hour)
		if budget.Until.After(e.now()) {
			until = budget.Until
		}
		return until, "the Salesforce API budget is spent until " + until.Format(time.RFC3339), true
	case errors.As(err, &limit) && limit.Max > 0 && limit.Used >= limit.Max:
		// The org's 24-hour allocation is spent: wait until enough calls
		// have left Salesforce's rolling window (estimated from the reading,
		// as the budget is; the first call after it re-checks).
		u := salesforce.Usage{Used: limit.Used, Max: limit.Max, ObservedAt: e.now()}
		until = u.Until(1)
		if !until.After(e.now()) {
			until = e.now().Add(time.Minute)
		}
		return until, fmt.Sprintf("Salesforce's daily API allocation is spent (%d of %d calls); waiting until %s",
			limit.Used, limit.Max, until.Format(time.RFC3339)), true
	case errors.As(err, &limit):
		// A burst or concurrency limit, not the day's allocation: back off
		// with jitter, from seconds to a couple of minutes.
		until = e.now().Add(10*time.Second + rand.N(110*time.Second))
		return until, "Salesforce answered REQUEST_LIMIT_EXCEEDED (a burst or concurrency limit; the daily allocation is not spent); retrying at " + until.Format(time.RFC3339), true
	}
	return time.Time{}, "", false
}

// ErrContinue is returned by RunPull when a run used its time slice and
// must go on in a new job (the worker snoozes the job for no time). Short
// jobs let a crashed worker's job be rescued quickly and resumed from its
// checkpoint.
var ErrContinue = errors.New("syncer: run continues in the next job")

// ErrFullPass is returned by RunPull, before it does any work, when the
// run is a full pass (a first sync or full resync carried on by a poll's
// job, or a poll whose cursor is too old) and ctx was marked by
// OnPollSlot: the caller runs the job again where full passes run.
var ErrFullPass = errors.New("syncer: this pull is a full pass; run it on the full-pass queue")

type pollSlotKey struct{}

// OnPollSlot marks ctx as running on a slot meant for short work (polls);
// RunPull then refuses to start a full pass with ErrFullPass.
func OnPollSlot(ctx context.Context) context.Context {
	return context.WithValue(ctx, pollSlotKey{}, true)
}

func onPollSlot(ctx context.Context) bool {
	v, _ := ctx.Value(pollSlotKey{}).(bool)
	return v
}

// transient reports errors worth retrying the job for: Salesforce or
// network trouble, or the process being stopped mid-run.
func transient(err error) bool {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, store.ErrBusy) {
		return true
	}
	var ref *sfconn.Refusal
	if errors.As(err, &ref) || errors.Is(err, salesforce.ErrRefreshRevoked) {
		return false
	}
	return salesforce.Retryable(err)
}

func (s *session) selectList(extra ...string) ([]string, error) {
	return s.cfg.SelectFields(s.describe, append([]string{"Id", "SystemModstamp", "LastModifiedDate", "LastModifiedById"}, extra...))
}

// scopeQuery reads what the pull needs of the records in scope.
func (s *session) scopeQuery() *syncconf.Query {
	return s.cfg.ScopeQuery(s.describe, "LastModifiedDate")
}

// pullFull reads every Salesforce contact that matches the conditions,
// page by page, committing a checkpoint (the last Id) with every page, so
// a crash or restart resumes where it stopped.
func (e *Engine) pullFull(ctx context.Context, s *session) error {
	run, err := e.Store.GetRun(ctx, s.tenantID, s.run.ID)
	if err != nil {
		return err
	}
	if run.Total == 0 {
		q, err := s.cfg.ScopeCount(s.describe).Build()
		if err != nil {
			return err
		}
		n, err := s.client.Count(ctx, q)
		if err != nil {
			return err
		}
		total := int64(n)
		if err := e.Store.UpdateRun(ctx, s.tenantID, run.ID, RunProgress{Total: &total}); err != nil {
			return err
		}
		run.Total = total
	}
	deadline := e.now().Add(e.sliceDuration())
	bulk := run.Total > e.bulkThreshold() && run.Checkpoint == "" && s.limit == 0
	if run.Checkpoint == "" && run.Processed == 0 && s.limit == 0 {
		// Before the pass: its cost against the budget left today (X4).
		if bulk, err = e.planPass(ctx, s, "full pass", run.Total, min(2000, max(200, e.pageSize())), bulk); err != nil {
			return err
		}
	}
	if bulk && run.Processed > 0 {
		// A Bulk API result cannot be resumed part-way in a new job (its
		// order is not Id's, so it sets no checkpoint), so the bulk read
		// runs in one slice; applying is idempotent if a crash makes it
		// start over, and the counts start over with it.
		if err := e.Store.UpdateRun(ctx, s.tenantID, run.ID, RunProgress{Restart: true}); err != nil {
			return err
		}
	}
	var sp *spool
	if run.Checkpoint == "" {
		// Before anything is applied: hold every value two in-scope
		// records share, wherever they fall (a resumed pass did this in
		// its first job). A census read through the Bulk API is the pass's
		// read too.
		if !e.noCensus {
			if sp, err = e.census(ctx, s, run.Total); err != nil {
				return err
			}
			defer sp.Close()
		}
		if err := e.followEarlierMerges(ctx, s, run.StartedAt); err != nil {
			return err
		}
	}
	if bulk {
		q, err := s.scopeQuery().Build()
		if err != nil {
			return err
		}
		err = e.pipeline(ctx, s, nil, false, time.Time{}, func(ctx context.Context, emit func(map[string]any) error) error {
			if sp != nil {
				return sp.replay(emit)
			}
			rows, err := s.client.BulkQuery(ctx, q, salesforce.BulkQueryOptions{})
			if err != nil {
				return err
			}
			defer rows.Close()
			for rows.Next() {
				if err := emit(rows.Record()); err != nil {
					return err
				}
			}
			return rows.Err()
		})
		if err != nil {
			return err
		}
		return e.reconcileUnseen(ctx, s, run.StartedAt)
	}
	sq := s.scopeQuery()
	if run.Checkpoint != "" {
		sq.IDAfter(run.Checkpoint)
	}
	sq.OrderBy("Id")
	truncated := false
	if s.limit > 0 {
		// A dry run applies the first records only; unseen links then
		// tell nothing.
		left := int64(s.limit) - run.Processed
		if left <= 0 {
			return nil
		}
		sq.Limit(int(left))
		truncated = run.Total > int64(s.limit)
	}
	q, err := sq.Build()
	if err != nil {
		return err
	}
	err = e.pipeline(ctx, s, nil, true, deadline, func(ctx context.Context, emit func(map[string]any) error) error {
		it := s.client.Query(ctx, q, salesforce.QueryOptions{BatchSize: min(2000, max(200, e.pageSize()))})
		for it.Next() {
			if err := emit(it.Record()); err != nil {
				return err
			}
		}
		return it.Err()
	})
	if err != nil || truncated {
		return err
	}
	return e.reconcileUnseen(ctx, s, run.StartedAt)
}

// followEarlierMerges runs before a full pass applies anything. The pass
// reads live records only, so a linked record merged away since the last
// run never reaches one of its pages: its survivor would read as a
// newcomer (a second platform contact, or held against the pair) and the
// link would go as a deletion. The linked records that a merge deleted and
// the recycle bin still holds are read (queryAll, one call when there are
// few) and applied as an incremental pull applies them: the link follows
// the survivor, or is held for review when the survivor is linked to
// another platform contact. A first sync has no links and skips it.
func (e *Engine) followEarlierMerges(ctx context.Context, s *session, since time.Time) error {
	if _, ok := s.describe.Field("MasterRecordId"); !ok {
		return nil
	}
	if old, err := e.Store.LinksSavedBefore(ctx, s.tenantID, since, 1); err != nil || len(old) == 0 {
		return err
	}
	q, err := syncconf.NewQuery(s.describe).Select("Id", "IsDeleted", "MasterRecordId").MergedAway().Build()
	if err != nil {
		return err
	}
	var merged []map[string]any
	it := s.client.QueryAll(ctx, q, salesforce.QueryOptions{})
	for it.Next() {
		merged = append(merged, it.Record())
	}
	if err := it.Err(); err != nil || len(merged) == 0 {
		return err
	}
	return e.pipeline(ctx, s, nil, false, time.Time{}, func(ctx context.Context, emit func(map[string]any) error) error {
		for chunk := range slices.Chunk(merged, 500) {
			ids := make([]string, len(chunk))
			for i, rec := range chunk {
				ids[i], _ = rec["Id"].(string)
			}
			links, err := e.Store.LinksBySalesforceID(ctx, s.tenantID, ids)
			if err != nil {
				return err
			}
			for i, rec := range chunk {
				if _, linked := links[ids[i]]; linked {
					if err := emit(rec); err != nil {
						return err
					}
				}
			}
		}
		return nil
	})
}

// reconcileUnseen looks at the links a full pass did not see (every link
// it saw was saved after the run started): their Salesforce contacts were
// deleted — unlinked, the platform contact kept — or no longer match the
// conditions — kept linked, logged as out of scope. A full pass thus also
// catches deletions older than Salesforce's 15-day recycle bin (X6).
func (e *Engine) reconcileUnseen(ctx context.Context, s *session, since time.Time) error {
	for {
		links, err := e.Store.LinksSavedBefore(ctx, s.tenantID, since, 300)
		if err != nil || len(links) == 0 {
			return err
		}
		if err := e.settleUnseen(ctx, s, links); err != nil {
			return err
		}
	}
}

// settleUnseen settles links whose records a read did not return (at most
// 300): deleted ones are unlinked, the rest marked out of scope, and every
// one saved again.
func (e *Engine) settleUnseen(ctx context.Context, s *session, links []store.Link) error {
	t := s.tenantID
	// Links that followed a converted Lead name another object: kept.
	var other []store.Link
	links = slices.DeleteFunc(links, func(l store.Link) bool {
		if !s.ofObject(l.SalesforceID) {
			other = append(other, l)
			return true
		}
		return false
	})
	other, err := e.settleConverted(ctx, s, other)
	if err != nil {
		return err
	}
	if len(links) == 0 {
		return e.Store.Tx(ctx, func(tx *sql.Tx) error { return e.Store.SaveLinksTx(ctx, tx, t, other) })
	}
	ids := make([]string, len(links))
	for i, l := range links {
		ids[i] = l.SalesforceID
	}
	q, err := syncconf.NewQuery(s.describe).Select("Id", "IsDeleted").IDIn(ids).Build()
	if err != nil {
		return err
	}
	alive := map[string]bool{}
	it := s.client.QueryAll(ctx, q, salesforce.QueryOptions{})
	for it.Next() {
		rec := it.Record()
		if del, _ := rec["IsDeleted"].(bool); !del {
			id, _ := rec["Id"].(string)
			alive[id] = true
		}
	}
	if err := it.Err(); err != nil {
		return err
	}
	var prog RunProgress
	var logs []RunRecord
	var unlink, freed []string
	var keep []store.Link
	for _, l := range links {
		if !alive[l.SalesforceID] {
			unlink = append(unlink, l.SalesforceID)
			freed = append(freed, l.ContactID)
			prog.Counts.Unlinked++
			logs = append(logs, RunRecord{RunID: s.run.ID, Kind: KindUnlinked, SalesforceID: l.SalesforceID, ContactID: l.ContactID,
				ReasonCode: "deleted_in_salesforce", Reason: "deleted in Salesforce; the platform contact is kept and unlinked"})
			continue
		}
		if !l.OutOfScope {
			l.OutOfScope = true
			prog.Counts.OutOfScope++
			logs = append(logs, RunRecord{RunID: s.run.ID, Kind: KindOutOfScope, SalesforceID: l.SalesforceID, ContactID: l.ContactID,
				ReasonCode: "out_of_scope", Reason: "no longer matches the sync conditions; it stays linked but is not updated"})
		}
		keep = append(keep, l) // saved again, so it is not looked at twice
	}
	keep = append(keep, other...)
	err = e.Store.Tx(ctx, func(tx *sql.Tx) error {
		if err := e.Store.DeleteLinksTx(ctx, tx, t, unlink); err != nil {
			return err
		}
		if err := e.Store.SaveLinksTx(ctx, tx, t, keep); err != nil {
			return err
		}
		if err := e.Store.AddRunRecordsTx(ctx, tx, t, logs); err != nil {
			return err
		}
		return e.Store.UpdateRunTx(ctx, tx, t, s.run.ID, prog)
	})
	if err != nil {
		return err
	}
	// Newcomers held against the unlinked pairs are free to match now, as
	// when an incremental pull sees the deletion.
	return e.releaseHeldAgainst(ctx, s, freed)
}

// pullIncremental reads what changed since the cursor (minus the
// lookback), deleted records included, plus failed records due for a
// retry, and returns the new cursor: the newest SystemModstamp seen.
func (e *Engine) pullIncremental(ctx context.Context, s *session, cursor time.Time) (time.Time, error) {
	fields, sc, err := e.changeFields(s)
	if err != nil {
		return cursor, err
	}
	since := cursor.Add(-e.lookback())
	q, err := syncconf.NewQuery(s.describe).Select(fields...).ModifiedAfter(since).OrderBy("SystemModstamp", "Id").Build()
	if err != nil {
		return cursor, err
	}
	newest := cursor
	seen := map[string]bool{}
	// newest and seen belong to the reading goroutine until pipeline returns.
	err = e.pipeline(ctx, s, sc, false, time.Time{}, func(ctx context.Context, emit func(map[string]any) error) error {
		it := s.client.QueryAll(ctx, q, salesforce.QueryOptions{BatchSize: min(2000, max(200, e.pageSize()))})
		for it.Next() {
			rec := it.Record()
			if t := parseSFTime(fieldValue(rec, "SystemModstamp")); t.After(newest) {
				newest = t
			}
			id, _ := rec["Id"].(string)
			seen[id] = true
			if err := emit(rec); err != nil {
				return err
			}
		}
		return it.Err()
	})
	if err != nil {
		return cursor, err
	}
	// Failed records whose retry is due (X7), unless just re-read.
	due, err := e.Store.DuePullRetries(ctx, s.tenantID, e.now(), 500)
	if err != nil {
		return cursor, err
	}
	var ids []string
	for _, r := range due {
		if !seen[r.SalesforceID] || s.released[r.SalesforceID] {
			ids = append(ids, r.SalesforceID)
		}
	}
	if len(ids) > 0 {
		q, err := syncconf.NewQuery(s.describe).Select(fields...).IDIn(ids).Build()
		if err != nil {
			return cursor, err
		}
		err = e.pipeline(ctx, s, sc, false, time.Time{}, func(ctx context.Context, emit func(map[string]any) error) error {
			it := s.client.QueryAll(ctx, q, salesforce.QueryOptions{})
			for it.Next() {
				if err := emit(it.Record()); err != nil {
					return err
				}
			}
			return it.Err()
		})
		if err != nil {
			return cursor, err
		}
	}
	return newest, nil
}

// parseSFTime reads a dateTime value of a record; zero if it is none.
func parseSFTime(v any) time.Time {
	s, _ := v.(string)
	t, _ := salesforce.ParseDateTime(s)
	return t
}

// pipeline reads records with read on a goroutine of its own, gathers
// them into pages, works out on that goroutine everything about a page
// that needs no database (prepare), and applies the pages here, one at a
// time and in order: reading and transforming the next page uses the
// second core while the store writes this one. At most two pages wait
// besides the one being applied. Once deadline (if set) has passed, the
// reading stops after the page it just handed over (a page of records is
// a whole REST page, so no record read is left unused); the pages read
// are applied and ErrContinue is returned, for the next job to go on from
// the checkpoint.
func (e *Engine) pipeline(ctx context.Context, s *session, sc *scope, checkpoint bool, deadline time.Time, read func(ctx context.Context, emit func(map[string]any) error) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	size := e.pageSize()
	// want is the page size the applier asks the reader for: size, or
	// less when PageTime bounds a page's transaction (adapt, below).
	var want atomic.Int64
	want.Store(int64(size))
	adapt := e.PageTime > 0 && !checkpoint && e.Store.Dialect == store.SQLite
	pages := make(chan *page, 1)
	var readErr error
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer close(pages)
		defer func() {
			// A panic here would take the whole worker down, where one in
			// the job itself is caught by the queue: make it the run's error.
			if r := recover(); r != nil {
				readErr = fmt.Errorf("syncer: reading records panicked: %v\n%s", r, debug.Stack())
			}
		}()
		buf := make([]map[string]any, 0, size)
		send := func() error {
			if len(buf) == 0 {
				return nil
			}
			pg := s.prepare(buf, sc)
			pg.checkpoint = checkpoint
			buf = make([]map[string]any, 0, size)
			select {
			case pages <- pg:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		readErr = read(ctx, func(rec map[string]any) error {
			buf = append(buf, rec)
			if len(buf) < int(want.Load()) {
				return nil
			}
			if err := send(); err != nil {
				return err
			}
			if !deadline.IsZero() && e.now().After(deadline) {
				return errSliceEnd
			}
			return nil
		})
		if readErr == nil {
			readErr = send()
		}
	}()
	// Each page is decided (decidePage: its reads and decisions) and then
	// written (writePage: one transaction). In a full pass the next page,
	// when the reader has it ready, is decided speculatively while this
	// one is written, on the other core, and its reads overlap the write
	// (on PostgreSQL, its round trips). The write may have changed what
	// the speculation read only where the two pages share a Salesforce Id,
	// a platform contact or an identity value (a full pass's pages share
	// none but by a record's change of identity, as the census held every
	// value two records share); then, or when the page would need a write
	// of its own first (a hold or release), it is decided again after the
	// write. Writes by others (the API) are met as they are without the
	// pipeline: the transaction's own checks (store.ApplyContacts). Only on
	// PostgreSQL, whose reads wait on the server: on SQLite, with two
	// cores, the decisions took the CPU River's fetch needed during a 1M
	// first sync (job start p99 288 and 299 ms against 219 ms without, one
	// run each; issue 14's bound is 250 ms), for about 8% at 100k and none
	// at 1M. Tests (waitNext) speculate on both.
	applyErr := func() error {
		pg, ok := <-pages
		var pl *pagePlan
		for ok {
			if pl == nil {
				var err error
				if pl, err = e.decidePage(ctx, s, pg, false); err != nil {
					return err
				}
			}
			var next *page
			if e.waitNext {
				next, ok = <-pages
			} else {
				select {
				case next, ok = <-pages:
				default:
				}
			}
			var spec *pagePlan
			var specErr error
			specDone := make(chan struct{})
			if next != nil && s.speculates(next) && (e.Store.Dialect == store.Postgres || e.waitNext) {
				go func() {
					defer close(specDone)
					defer func() {
						if r := recover(); r != nil {
							specErr = fmt.Errorf("syncer: deciding a page panicked: %v", r) // decided again, where a panic stops the job
						}
					}()
					spec, specErr = e.decidePage(ctx, s, next, true)
				}()
			} else {
				close(specDone)
			}
			if e.waitNext {
				<-specDone // tests: the next page's reads all before this write
			}
			e.Store.YieldWriter(ctx) // River's fetch and the API's writes go first
			started := time.Now()
			err := e.writePage(ctx, s, pl)
			took := time.Since(started)
			<-specDone
			if err != nil {
				return err
			}
			if adapt && len(pg.items) > 0 && took > 0 {
				// The next pages' size from this one's time per record,
				// half-way between the two (pages already read keep theirs).
				fit := int64(float64(len(pg.items)) * float64(e.PageTime) / float64(took))
				n := (want.Load() + fit) / 2
				want.Store(min(int64(size), max(int64(size/8), n)))
			}
			if next == nil {
				pg, ok = <-pages
				pl = nil
				continue
			}
			written := pl
			pg, pl = next, nil
			if spec != nil || specErr != nil {
				e.speculated.Add(1)
				if spec != nil && specErr == nil && !spec.overlaps(written) {
					pl = spec
				} else {
					e.redecided.Add(1)
					next.undecide() // decided again at the top of the loop
				}
			}
		}
		return nil
	}()
	if applyErr != nil {
		cancel()
		for range pages {
			// drain, so the reader can stop
		}
	}
	<-done
	switch {
	case applyErr != nil:
		return applyErr
	case errors.Is(readErr, errSliceEnd):
		return ErrContinue
	}
	return readErr
}

// errSliceEnd stops a pipeline's reading when the job's slice is over.
var errSliceEnd = errors.New("syncer: the job's time slice is over")

// page is a page of Salesforce records with what prepare worked out.
type page struct {
	items []*pullItem
	ids   []string // every record's Id, in order
	// checkpoint: the last Id is saved as the run's checkpoint (a full
	// pass ordered by Id; not a Bulk API result, whose order is not Id's).
	checkpoint bool
	// apiCalls, when set, gives the Salesforce calls added to the run
	// with the page: a change event batch's, its read by Id and the
	// identity checks of its newcomers (a pull counts its calls when the
	// run ends).
	apiCalls func() int64
	// links and contacts, when set, were read for the page's records
	// just before (a change event batch applied from its events, with no
	// call to Salesforce between): not read again.
	links    map[string]store.Link
	contacts map[string]contact.Contact
	// onCommit runs inside the page's transaction (a change event batch
	// stores its replay ID there).
	onCommit func(tx *sql.Tx) error
}

// loadLinks returns the links of the page's records.
func (pg *page) loadLinks(ctx context.Context, st *store.Store, tenantID string) (map[string]store.Link, error) {
	if pg.links == nil {
		return st.LinksBySalesforceID(ctx, tenantID, pg.ids)
	}
	out := make(map[string]store.Link, len(pg.ids))
	for _, id := range pg.ids {
		if l, ok := pg.links[id]; ok {
			out[id] = l
		}
	}
	return out, nil
}

// loadContacts returns the platform contacts of ids (the page's linked
// ones).
func (pg *page) loadContacts(ctx context.Context, st *store.Store, tenantID string, ids []string) (map[string]contact.Contact, error) {
	if pg.contacts == nil {
		return st.GetContacts(ctx, tenantID, ids)
	}
	out := make(map[string]contact.Contact, len(ids))
	var missing []string
	for _, id := range ids {
		if c, ok := pg.contacts[id]; ok {
			out[id] = c
		} else {
			missing = append(missing, id)
		}
	}
	if len(missing) > 0 {
		more, err := st.GetContacts(ctx, tenantID, missing)
		if err != nil {
			return nil, err
		}
		maps.Copy(out, more)
	}
	return out, nil
}

// prepare works out what needs no database: each record's ID, deletion,
// identity key and scope, and every pulled mapping's value in the
// platform's form. It only reads the session, so it runs on the reading
// goroutine.
func (s *session) prepare(recs []map[string]any, sc *scope) *page {
	return s.preparePartial(recs, sc, nil)
}

// preparePartial is prepare for a page in which some records are not
// whole: present[id], when set, says which mappings (by index) the record
// carries — a change event's changed fields, applied without reading the
// record (issue 15). Such a record is linked and in scope (its event
// touched no condition's field); mappings it does not carry keep the
// link's values, and without its identity field its identity is the
// link's.
func (s *session) preparePartial(recs []map[string]any, sc *scope, present map[string][]bool) *page {
	pg := &page{items: make([]*pullItem, 0, len(recs)), ids: make([]string, 0, len(recs))}
	for _, rec := range recs {
		id, _ := rec["Id"].(string)
		if id == "" {
			continue
		}
		it := &pullItem{sfID: id, rec: rec, present: present[id]}
		pg.items = append(pg.items, it)
		pg.ids = append(pg.ids, id)
		if it.present != nil {
			s.preparePresent(it, rec)
			continue
		}
		if del, _ := rec["IsDeleted"].(bool); del {
			it.deleted = true
			it.master, _ = fieldValue(rec, "MasterRecordId").(string)
			continue
		}
		if to, ok := convertedTo(s, rec); ok {
			// A converted lead is read-only and done with: its link
			// follows it to the Contact (or Person Account) it became, as
			// a merge's follows the survivor (followMerges).
			it.deleted, it.converted, it.master = true, true, to
			continue
		}
		keyVal, err := s.maps[0].fromSalesforce(rec)
		key, _ := keyVal.(string)
		it.key, it.keyErr = key, err
		it.inScope = sc == nil || sc.match(rec)
		if err == nil && key == "" {
			it.inScope = false
		}
		if !it.inScope || err != nil {
			continue
		}
		it.modstamp = parseSFTime(fieldValue(rec, "SystemModstamp"))
		it.lastModified = parseSFTime(fieldValue(rec, "LastModifiedDate"))
		it.vals = make([]pulled, len(s.maps))
		created := make(map[string]any, len(s.maps))
		for i, m := range s.maps {
			v := &it.vals[i]
			if i == 0 {
				v.v = keyVal
			} else if v.v, v.err = m.fromSalesforce(rec); v.err != nil {
				if m.pulls {
					created = nil
				}
				continue
			}
			v.canon, v.json = canon(v.v), jsonable(v.v)
			if created != nil && m.createsOnPlatform() {
				created[m.key] = v.json
			}
		}
		if created != nil {
			// Unescaped, as the store writes link values: '>' in every
			// mapping key stays one byte.
			var b strings.Builder
			enc := json.NewEncoder(&b)
			enc.SetEscapeHTML(false)
			if err := enc.Encode(created); err == nil {
				it.createJSON = strings.TrimSuffix(b.String(), "\n")
			}
		}
	}
	return pg
}

// preparePresent prepares a record that carries only the mappings
// it.present marks.
func (s *session) preparePresent(it *pullItem, rec map[string]any) {
	it.inScope = true
	if it.present[0] {
		keyVal, err := s.maps[0].fromSalesforce(rec)
		it.key, _ = keyVal.(string)
		it.keyErr = err
		if err == nil && it.key == "" {
			it.inScope = false // blanked: as the pull treats a record without one
		}
	}
	it.modstamp = parseSFTime(fieldValue(rec, "SystemModstamp"))
	it.lastModified = parseSFTime(fieldValue(rec, "LastModifiedDate"))
	it.vals = make([]pulled, len(s.maps))
	for i, m := range s.maps {
		v := &it.vals[i]
		if !it.present[i] {
			v.absent = true
			continue
		}
		if v.v, v.err = m.fromSalesforce(rec); v.err == nil {
			v.canon, v.json = canon(v.v), jsonable(v.v)
		}
	}
}

// pulled is one mapping's value of a record, in the platform's form, with
// its comparable and stored forms.
type pulled struct {
	v     any
	err   error
	canon string
	json  any
	// absent: a partial record (a change event's fields) does not carry
	// this mapping's field; the link's value stands.
	absent bool
}

// pullItem is one Salesforce record on its way to the platform.
type pullItem struct {
	sfID string
	// Worked out by prepare.
	deleted bool
	master  string // a deleted record merged into another: the survivor's Id
	// converted: a Lead converted in Salesforce; master is the record it
	// became (ConvertedContactId, else ConvertedAccountId).
	converted bool
	// relinked: linked until its platform contact was deleted, now matched
	// afresh — after the census, so its value is checked against the others.
	relinked bool
	key      string
	keyErr   error
	inScope  bool
	vals     []pulled // by mapping (every one); nil unless in scope with a key
	// createJSON is a new link's values, encoded, for a record that
	// creates a platform contact: every pulled mapping's value on both
	// sides. Empty if a value failed.
	createJSON   string
	modstamp     time.Time
	lastModified time.Time

	rec       map[string]any // the record as read, for the review queue
	link      *store.Link    // existing link
	contactID string         // matched or linked contact
	done      bool           // decided without a write
	// present is set for a partial record (see preparePartial): the
	// mappings it carries, by index.
	present []bool
	// needPush: the platform holds values Salesforce lacks (found at a
	// first match); an outbox entry asks the push to send them.
	needPush bool
	// hist are the field changes this page decided for the record (Y3),
	// recorded with the write that carries them.
	hist []store.FieldChange
}

// pagePlan is a page with what decidePage worked out: the writes, the log
// entries and retries, and the keys its decisions read and its write
// changes, by which a speculative plan is checked (overlaps).
type pagePlan struct {
	pg          *page
	runID       int64
	prog        RunProgress
	logs        []RunRecord
	failedRetry map[string]string
	okRetry     []string
	unlink      []string
	byID        map[string]*pullItem
	ops         []store.ContactOp
	opItems     []*pullItem
	opLinks     []store.Link
	opCur       []contact.Contact // dry runs: each op's contact before
	keepLinks   []store.Link
	hist        []store.FieldHistoryEntry
	read, wrote keySet
}

func (pl *pagePlan) record(kind RecordKind, sfID, contactID, field, code, reason, detail string) {
	pl.logs = append(pl.logs, RunRecord{RunID: pl.runID, Kind: kind, SalesforceID: sfID, ContactID: contactID, Field: field, ReasonCode: code, Reason: reason, Detail: detail})
}

func (pl *pagePlan) fail(it *pullItem, field, code, reason string) {
	pl.prog.Counts.Failed++
	pl.record(KindFailed, it.sfID, it.contactID, field, code, reason, "")
	pl.failedRetry[it.sfID] = reason
	it.done = true
}

func (pl *pagePlan) failErr(it *pullItem, field string, err error) {
	var re *syncconf.RecordError
	if errors.As(err, &re) {
		pl.fail(it, field, re.Reason, re.Error())
	} else {
		pl.fail(it, field, "invalid_value", err.Error())
	}
}

// keySet is the Salesforce Ids, platform contact IDs and identity values
// a plan read, or its write changed.
type keySet struct{ m map[string]bool }

func (k *keySet) add(kind byte, vals []string) {
	if k.m == nil {
		k.m = map[string]bool{}
	}
	for _, v := range vals {
		if v != "" {
			k.m[string(kind)+v] = true
		}
	}
}

func (k *keySet) salesforce(ids []string) { k.add('s', ids) }
func (k *keySet) contacts(ids []string)   { k.add('c', ids) }
func (k *keySet) keys(vals []string)      { k.add('k', vals) }

// overlaps says whether the write of written changed anything pl's
// decisions read: then pl, decided while that write ran, is decided again.
func (pl *pagePlan) overlaps(written *pagePlan) bool {
	a, b := pl.read.m, written.wrote.m
	if len(b) < len(a) {
		a, b = b, a
	}
	for k := range a {
		if b[k] {
			return true
		}
	}
	return false
}

// speculates says whether pg may be decided while the page before it is
// written: in a full pass (not a dry run, nor a Lead's converted Contact),
// a page of whole records read for this pass alone.
func (s *session) speculates(pg *page) bool {
	if !s.fullPass || s.observe != nil || s.conv != nil || pg.links != nil || pg.contacts != nil || pg.onCommit != nil || pg.apiCalls != nil {
		return false
	}
	return !slices.ContainsFunc(pg.items, func(it *pullItem) bool { return it.present != nil })
}

// errSerial: a speculative decision found that the page needs a write of
// its own before its transaction; it is decided again, not speculatively.
var errSerial = errors.New("syncer: the page is decided after the write before it")

// undecide clears what decidePage set on a page's records, for deciding
// them again.
func (pg *page) undecide() {
	for _, it := range pg.items {
		it.relinked, it.link, it.contactID, it.done, it.needPush, it.hist = false, nil, "", false, false, nil
	}
}

// applyPage applies one page of Salesforce records in one transaction:
// match by link, else by identity; create or update per the no-match
// policy (S7); social identities (S9); mapped fields (S11) through their
// transforms; echo guard (X1) and conflict rules (X2) against each link's
// last-synced values; then links, log entries, retries and the run's
// progress and checkpoint, all committed together.
func (e *Engine) applyPage(ctx context.Context, s *session, pg *page) error {
	pl, err := e.decidePage(ctx, s, pg, false)
	if err != nil {
		return err
	}
	return e.writePage(ctx, s, pl)
}

// decidePage reads what a page's records rest on (links, held records,
// platform contacts by link and by identity) and decides each record: the
// whole of applyPage before its transaction. It writes nothing unless
// holding or releasing records for review (its own transaction), or
// following a merge. With spec (a speculative decision, taken while the
// page before is still being written: pipeline) it writes nothing at all:
// a page that would need to answers errSerial, and is decided again once
// the write before it has ended.
func (e *Engine) decidePage(ctx context.Context, s *session, pg *page, spec bool) (*pagePlan, error) {
	t := s.tenantID
	pl := &pagePlan{pg: pg, runID: s.run.ID, failedRetry: map[string]string{}}

	items, ids := pg.items, pg.ids
	pl.prog.Counts.Scanned = int64(len(items))
	pl.prog.Processed = int64(len(items))
	byID := make(map[string]*pullItem, len(items))
	for _, it := range items {
		byID[it.sfID] = it
	}
	links, err := pg.loadLinks(ctx, e.Store, t)
	if err != nil {
		return nil, err
	}
	identity := s.maps[0]
	held := map[string]int64{}
	if s.review {
		if held, err = e.Store.HeldSalesforceIDs(ctx, t, ids); err != nil {
			return nil, err
		}
	}
	var release []string // held records that no longer hold their value
	var changedLinks []store.Link
	if spec && slices.ContainsFunc(items, func(it *pullItem) bool { return it.deleted && it.master != "" }) {
		return nil, errSerial // following a merge writes (hold)
	}
	merged, err := e.followMerges(ctx, s, items, links, &changedLinks)
	if err != nil {
		return nil, err
	}
	// The linked platform contacts, loaded now: a record whose contact was
	// deleted on the platform is matched afresh, through the same
	// uniqueness check as any unlinked record.
	var linkedCIDs []string
	for _, l := range links {
		linkedCIDs = append(linkedCIDs, l.ContactID)
	}
	contacts, err := pg.loadContacts(ctx, e.Store, t, linkedCIDs)
	if err != nil {
		return nil, err
	}
	pl.read.contacts(linkedCIDs)
	// freed are platform contacts whose linked record stopped holding their
	// identity value (deleted, or edited to another): newcomers held
	// against those pairs are looked at again.
	var freed []string
	var unlinked []*pullItem // in scope, with a key, not linked: matched by identity
	for _, it := range items {
		if it.present != nil {
			l, ok := links[it.sfID]
			if _, live := contacts[l.ContactID]; !ok || !live || l.OutOfScope {
				// A partial record needs its link as it was when the feed
				// looked: read whole by the next poll instead.
				it.done = true
				pl.failedRetry[it.sfID] = "the change event could not be applied without reading the record"
				continue
			}
		}
		if l, ok := links[it.sfID]; ok {
			it.link = &l
			it.contactID = l.ContactID
			if _, ok := contacts[l.ContactID]; !ok && !it.deleted {
				// The linked contact was deleted on the platform: unlink,
				// and treat the record as unmatched.
				pl.unlink = append(pl.unlink, it.sfID)
				it.link, it.contactID, it.relinked = nil, "", true
			}
		}
		keyKnown := it.present == nil || it.present[0] // a partial record without its identity field keeps the link's
		if it.link != nil && (it.deleted || it.inScope && it.keyErr == nil && keyKnown && canon(it.key) != canon(it.link.SFValues[identity.key])) {
			if _, followed := merged[it.sfID]; !followed || it.deleted {
				freed = append(freed, it.link.ContactID)
			}
		}
		_, isHeld := held[it.sfID]
		if isHeld && (it.deleted || !it.inScope || it.keyErr != nil) {
			release = append(release, it.sfID)
		}
		if it.deleted {
			it.done = true
			if it.link != nil {
				pl.unlink = append(pl.unlink, it.sfID)
				if m, ok := merged[it.sfID]; ok {
					pl.record(KindMerged, it.sfID, it.contactID, "", m.code, m.reason, "")
					continue
				}
				pl.prog.Counts.Unlinked++
				pl.record(KindUnlinked, it.sfID, it.contactID, "", "deleted_in_salesforce", "deleted in Salesforce; the platform contact is kept and unlinked", "")
			}
			continue
		}
		if !it.inScope {
			it.done = true
			if it.link != nil {
				pl.prog.Counts.OutOfScope++
				if !it.link.OutOfScope {
					it.link.OutOfScope = true
					changedLinks = append(changedLinks, *it.link)
					pl.record(KindOutOfScope, it.sfID, it.contactID, "", "out_of_scope", "no longer matches the sync conditions; it stays linked but is not updated", "")
				}
			}
			continue
		}
		if it.keyErr != nil {
			pl.failErr(it, identity.sfField, it.keyErr)
			continue
		}
		if it.link == nil {
			unlinked = append(unlinked, it)
		}
	}
	pl.read.contacts(freed)
	if len(freed) > 0 {
		waiting, err := e.Store.HeldForContacts(ctx, t, freed)
		if err != nil {
			return nil, err
		}
		release = append(release, waiting...)
	}
	groups, err := e.uniqueness(ctx, s, unlinked, held, &release, &pl.prog)
	if err != nil {
		return nil, err
	}
	// Match what is left by identity; a value two in-scope records share is
	// held (above), never guessed (X3).
	byKey := map[string]*pullItem{}
	var keys []string
	for _, it := range unlinked {
		if !it.done {
			byKey[it.key] = it
			keys = append(keys, it.key)
		}
	}
	pl.read.keys(keys)
	matched, err := e.Store.FindContactsByIdentity(ctx, t, identity.binding.Platform.Name, keys)
	if err != nil {
		return nil, err
	}
	var matchedIDs []string
	for _, cid := range matched {
		matchedIDs = append(matchedIDs, cid)
	}
	pl.read.contacts(matchedIDs)
	taken, err := e.Store.LinksByContactID(ctx, t, matchedIDs)
	if err != nil {
		return nil, err
	}
	freedSet := make(map[string]bool, len(freed))
	for _, cid := range freed {
		freedSet[cid] = true
	}
	var contactIDs []string
	for _, it := range items {
		if it.done {
			continue
		}
		if it.link == nil {
			cid, ok := matched[it.key]
			if ok {
				if other, linked := taken[cid]; linked && other.SalesforceID != it.sfID {
					// A newcomer with the value of a linked pair: the link
					// stays (links are never re-pointed); the newcomer waits.
					it.done = true
					if freedSet[cid] {
						// The pair leaves the value in this very page: read
						// the newcomer again once the page is applied.
						release = append(release, it.sfID)
						continue
					}
					groups[it.key] = holdGroup{recs: []map[string]any{it.rec},
						reason: "%[2]q is the identity value of a platform contact already linked to another Salesforce contact (" + other.SalesforceID + ")"}
					continue
				}
				it.contactID = cid
			}
		}
		if it.contactID != "" {
			contactIDs = append(contactIDs, it.contactID)
		}
	}
	if spec && (len(groups) > 0 || len(release) > 0) {
		return nil, errSerial // holding and releasing write
	}
	if err := e.hold(ctx, s, groups, release); err != nil {
		return nil, err
	}
	for _, it := range items {
		// Deleted, out of scope or held: nothing left to retry — unless
		// just released, to be read again once this page is applied.
		if _, failed := pl.failedRetry[it.sfID]; it.done && !failed && !s.released[it.sfID] {
			pl.okRetry = append(pl.okRetry, it.sfID)
		}
	}
	pl.read.contacts(contactIDs)
	more, err := e.Store.GetContacts(ctx, t, slices.DeleteFunc(contactIDs, func(id string) bool { _, ok := contacts[id]; return ok }))
	if err != nil {
		return nil, err
	}
	maps.Copy(contacts, more)

	var ops []store.ContactOp
	var opItems []*pullItem
	var opLinks []store.Link
	var opCur []contact.Contact // dry runs: each op's contact before
	var keepLinks []store.Link
	var hist []store.FieldHistoryEntry
	for _, it := range items {
		if it.done {
			continue
		}
		cur, exists := contacts[it.contactID]
		if it.contactID != "" && !exists {
			// The linked contact was deleted on the platform: unlink, and
			// treat the record as unmatched.
			pl.unlink = append(pl.unlink, it.sfID)
			it.link, it.contactID, exists = nil, "", false
		}
		if !exists && s.cfg.Identity.ToPlatformNoMatch != syncconf.NoMatchCreate {
			pl.prog.Counts.Skipped++
			s.sample(drySkipped, it, cur, cur)
			continue
		}
		if !exists {
			cur = contact.Contact{Custom: map[string]any{}}
		}
		link := store.Link{SalesforceID: it.sfID, ContactID: it.contactID, SFValues: map[string]any{}, PFValues: map[string]any{}}
		if it.link != nil {
			link = cloneLink(*it.link)
			link.OutOfScope = false
		}
		link.SFModstamp = it.modstamp
		next := cloneContact(cur)
		failed := false
		for i, m := range s.maps {
			val := &it.vals[i]
			if val.absent {
				continue // a partial record without this field: the link's value stands
			}
			if val.err != nil {
				if !m.pulls {
					continue // Salesforce's value of a mapping that only pushes: the push decides
				}
				pl.failErr(it, m.sfField, val.err)
				failed = true
				break
			}
			var pv any
			var pf Side
			if exists {
				pv = m.fromPlatform(cur)
				pf = Side{Known: true, Canon: canon(pv), Modified: cur.Updated}
			}
			f := m.state(it.link, Side{Known: true, Canon: val.canon, Modified: it.lastModified}, pf)
			d := decideField(f)
			if !exists && d.Write == WriteNone {
				continue // a new contact records only what it is created with
			}
			if d.Write == WriteToPlatform {
				if err := m.setPlatform(&next, val.v); err != nil {
					pl.fail(it, m.sfField, "invalid_value", err.Error())
					failed = true
					break
				}
			}
			if d.Write == WriteToSalesforce {
				// The pull writes only to the platform: the push sends the
				// platform's value (at a first match no outbox entry asks
				// for it yet).
				it.needPush = true
			}
			var rule string
			if d.Verdict != VerdictQuiet {
				pl.prog.Counts.Conflicts++
				code, reason, detail := m.verdictEntry(f, d)
				rule = code
				pl.record(KindConflict, it.sfID, it.contactID, m.sfField, code, reason, detail)
			}
			if ch, ok := historyOf(m, d, rule, !exists, val.json, jsonable(pv)); ok {
				it.hist = append(it.hist, ch)
			}
			settle(&link, m.key, f, d, val.json, jsonable(pv), true)
		}
		if failed {
			continue
		}
		if !exists && it.link == nil {
			link.ValuesJSON = it.createJSON // what the loop put in both maps
		}
		in := inputFrom(cur, next)
		if !inputEmpty(in) {
			norm, err := s.rules.Normalize(in)
			if err != nil {
				pl.fail(it, "", "invalid_value", err.Error())
				continue
			}
			pl.wrote.keys([]string{it.key})
			if exists {
				if v, ok := identity.fromPlatform(cur).(string); ok {
					pl.wrote.keys([]string{v, canon(v)})
				}
			}
			ops = append(ops, store.ContactOp{ID: it.contactID, Input: norm})
			opItems = append(opItems, it)
			opLinks = append(opLinks, link)
			if s.observe != nil {
				opCur = append(opCur, cur)
			}
			continue
		}
		pl.prog.Counts.Unchanged++
		s.sample(dryUnchanged, it, cur, cur)
		pl.okRetry = append(pl.okRetry, it.sfID)
		keepLinks = append(keepLinks, link)
		if len(it.hist) > 0 {
			// Only decisions for the push to carry (the platform's value
			// won): recorded now, with the rule that decided.
			hist = append(hist, s.historyEntry(it.contactID, it.sfID, it.hist))
		}
	}
	keepLinks = append(keepLinks, changedLinks...)
	pl.read.salesforce(ids)
	pl.byID, pl.ops, pl.opItems, pl.opLinks, pl.opCur, pl.keepLinks, pl.hist = byID, ops, opItems, opLinks, opCur, keepLinks, hist
	return pl, nil
}

// writePage writes what decidePage decided, in one transaction.
func (e *Engine) writePage(ctx context.Context, s *session, pl *pagePlan) error {
	t, pg := s.tenantID, pl.pg
	items, ids, byID := pg.items, pg.ids, pl.byID
	ops, opItems, opLinks, opCur, keepLinks, hist := pl.ops, pl.opItems, pl.opLinks, pl.opCur, pl.keepLinks, pl.hist
	prog := &pl.prog
	fail := pl.fail
	_, err := e.Store.ApplyContacts(ctx, t, ops, contact.OriginSalesforce, func(tx *sql.Tx, res []store.UpsertResult) error {
		saved := keepLinks
		for i, r := range res {
			it := opItems[i]
			switch r.Outcome {
			case store.OutcomeCreated:
				prog.Counts.Created++
				if s.observe != nil {
					s.sample(dryCreate, it, opCur[i], r.Contact)
				}
			case store.OutcomeUpdated:
				prog.Counts.Updated++
				if s.observe != nil {
					s.sample(dryUpdate, it, opCur[i], r.Contact)
				}
			case store.OutcomeUnchanged:
				prog.Counts.Unchanged++
				if s.observe != nil {
					s.sample(dryUnchanged, it, opCur[i], r.Contact)
				}
			default:
				var cc *store.ContactConflict
				if errors.As(r.Err, &cc) {
					fail(it, cc.Field, "platform_conflict", fmt.Sprintf("%s %q already belongs to platform contact %s", cc.Field, cc.Value, cc.ContactID))
				} else {
					fail(it, "", "platform_rejected", fmt.Sprint(r.Err))
				}
				continue
			}
			l := opLinks[i]
			l.ContactID = r.Contact.ID
			saved = append(saved, l)
			if r.Outcome != store.OutcomeUnchanged && len(it.hist) > 0 {
				hist = append(hist, s.historyEntry(r.Contact.ID, it.sfID, it.hist))
			}
			pl.okRetry = append(pl.okRetry, it.sfID)
		}
		// Linked records read but not written (failed, ambiguous, out of
		// scope) are touched too: a full pass must tell the links it saw
		// from the ones whose records are gone (reconcileUnseen).
		inSaved := map[string]bool{}
		for _, l := range saved {
			inSaved[l.SalesforceID] = true
		}
		for _, id := range pl.unlink {
			inSaved[id] = true
		}
		for _, it := range items {
			if it.link != nil && !inSaved[it.sfID] {
				saved = append(saved, *it.link)
				inSaved[it.sfID] = true
			}
		}
		for _, l := range saved {
			pl.wrote.salesforce([]string{l.SalesforceID})
			pl.wrote.contacts([]string{l.ContactID})
		}
		pl.wrote.salesforce(pl.unlink)
		if err := e.Store.DeleteLinksTx(ctx, tx, t, pl.unlink); err != nil {
			return err
		}
		if err := e.Store.SaveLinksTx(ctx, tx, t, saved); err != nil {
			return err
		}
		var pushes []store.OutboxEntry
		for _, l := range saved {
			if it := byID[l.SalesforceID]; it != nil && it.needPush && l.ContactID != "" {
				pushes = append(pushes, store.OutboxEntry{TenantID: t, ContactID: l.ContactID, Op: store.OpUpdate, Origin: contact.OriginReconcile})
			}
		}
		if err := e.Store.InsertOutboxTx(ctx, tx, pushes); err != nil {
			return err
		}
		if err := e.Store.AddRunRecordsTx(ctx, tx, t, pl.logs); err != nil {
			return err
		}
		if err := e.Store.AddFieldHistoryTx(ctx, tx, t, hist); err != nil {
			return err
		}
		if err := e.Store.SetPullRetriesTx(ctx, tx, t, pl.failedRetry, e.retryAt, pl.okRetry); err != nil {
			return err
		}
		if pg.checkpoint && len(ids) > 0 {
			cp := ids[len(ids)-1]
			prog.Checkpoint = &cp
		}
		if pg.apiCalls != nil {
			prog.APICalls = pg.apiCalls()
		}
		if pg.onCommit != nil {
			if err := pg.onCommit(tx); err != nil {
				return err
			}
		}
		return e.Store.UpdateRunTx(ctx, tx, t, s.run.ID, *prog)
	})
	return err
}

// retryAt is when a record that failed for the attempts-th time is tried
// again: 1, 2, 4 … minutes, at most 6 hours.
func (e *Engine) retryAt(attempts int) time.Time {
	d := time.Minute << min(attempts-1, 9)
	if d > 6*time.Hour {
		d = 6 * time.Hour
	}
	return e.now().Add(d)
}
