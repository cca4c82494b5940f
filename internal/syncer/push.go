package syncer

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/sfsync/sfsync/internal/contact"
	"github.com/sfsync/sfsync/internal/logctx"
	"github.com/sfsync/sfsync/internal/salesforce"
	"github.com/sfsync/sfsync/internal/store"
	"github.com/sfsync/sfsync/internal/syncconf"
)

// RunPush pushes the tenant's platform changes to Salesforce (S8, S17):
// it drains the outbox in batches of up to PushBatch contacts, each costing
// one SOQL query (to find targets by link or identity and read their
// current values) and one collections call per kind of write. An outbox
// entry is removed only after Salesforce acknowledged it; a refused record
// keeps its entries, retried with backoff (X7). It returns an error only
// for transient failures, which the job queue retries.
func (e *Engine) RunPush(ctx context.Context, tenantID string) error {
	deadline := e.now().Add(time.Minute) // yield to other tenants now and then
	var sess *session                    // opened by the first pass, kept while its config holds
	for e.now().Before(deadline) {
		// Read every pass: the previous one may have opened a push run or
		// paused pushes, and a disconnect may have stopped them.
		st, err := e.Store.GetSyncState(ctx, tenantID)
		// Paused by the admin: the changes wait in the outbox.
		if err != nil || !st.PushEnabled || st.PushPaused || st.PausedUntil.After(e.now()) {
			return err
		}
		entries, err := e.dueOutbox(ctx, tenantID)
		if err != nil {
			return err
		}
		if len(entries) == 0 {
			return nil
		}
		for d := e.fillWait(entries); d > 0; d = e.fillWait(entries) {
			// A trickle of changes: let a batch fill, so a steady stream
			// costs two calls per 200 changes rather than two per change
			// (X4); while changes keep coming (a burst), a little longer.
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(d):
			}
			if entries, err = e.dueOutbox(ctx, tenantID); err != nil {
				return err
			}
		}
		if err := e.pushEntries(ctx, tenantID, st, entries, &sess); err != nil {
			return err
		}
	}
	return nil
}

// DefaultPushCoalesce is the service's Engine.PushCoalesce. At a steady
// 500 changes a second a batch of 200 fills in 400 ms.
const DefaultPushCoalesce = 500 * time.Millisecond

// fillWait is how long to wait for a batch of entries to fill: none if a
// full batch of contacts is waiting or coalescing is off. Fewer wait until
// the oldest change has waited PushCoalesce; then, while changes keep
// arriving (the newest is younger than half of PushCoalesce), a burst
// is still under way and they wait on, in short steps, until the oldest
// has waited three times PushCoalesce. A burst of 200 changes within a
// second is one batch (two calls), not two (issue 14). A backlog for a
// bulk pass (PushBulkThreshold contacts or more) waits while requests of
// many contacts still land (importing): until none has come for
// pushBulkQuiet, at most pushBulkWait after its oldest change, or until
// it holds pushBulkMax contacts.
func (e *Engine) fillWait(entries []store.OutboxEntry) time.Duration {
	wait := e.PushCoalesce
	if wait <= 0 {
		return 0
	}
	contacts := map[string]bool{}
	var oldest, newest time.Time
	for _, en := range entries {
		if !pushable(en) {
			continue
		}
		contacts[en.ContactID] = true
		if oldest.IsZero() || en.Created.Before(oldest) {
			oldest = en.Created
		}
		if en.Created.After(newest) {
			newest = en.Created
		}
	}
	// The clock DueOutbox compares created_at with; a change from the
	// future (another host's clock) waits the whole time.
	now := e.now()
	if b := e.pushBulkThreshold(); b > 0 && len(contacts) >= b {
		// A backlog for Bulk API 2.0 (an import sent in many requests):
		// while its requests still land, it waits, so that one bulk pass
		// carries it rather than one per request. A backlog that grows
		// change by change (a steady stream the push fell behind on) goes
		// at once: a stream is never quiet, and waiting for it held each
		// change up to pushBulkWait (BenchmarkProductPushLatency at 1,000
		// changes/s: p50 17 s, where it met p99 ≤ 1 s until a stall of
		// two seconds let the backlog reach the threshold).
		last, ok := lastImport(entries, b/2)
		if ok && len(contacts) < pushBulkMax && now.Sub(last) >= 0 && now.Sub(last) < pushBulkQuiet && now.Sub(oldest) < pushBulkWait {
			return min(pushBulkQuiet-now.Sub(last), pushBulkWait-now.Sub(oldest))
		}
		return 0
	}
	if len(contacts) == 0 || len(contacts) >= e.pushBatch() {
		return 0
	}
	age := now.Sub(oldest)
	if age < 0 {
		return wait
	}
	if age < wait {
		return wait - age
	}
	quiet := wait / 2
	if left := 3*wait - age; left > 0 && now.Sub(newest) < quiet {
		return min(left, quiet-max(0, now.Sub(newest)))
	}
	return 0
}

// lastImport returns when the newest write of at least minChanges
// changes at once (an import's request, a segment resync: one
// transaction, one created_at) left its entries. Single-contact changes
// come at most a few hundred to a transaction (the store's group commit
// of API updates: 256), so a stream of them has none.
func lastImport(entries []store.OutboxEntry, minChanges int) (time.Time, bool) {
	perWrite := map[time.Time]int{}
	var last time.Time
	found := false
	for _, en := range entries {
		if !pushable(en) {
			continue
		}
		perWrite[en.Created]++
		if perWrite[en.Created] >= minChanges && (!found || en.Created.After(last)) {
			last, found = en.Created, true
		}
	}
	return last, found
}

// pushable reports outbox entries that need a push: not the sync's own
// writes, and not deletions (which only unlink).
func pushable(en store.OutboxEntry) bool {
	return en.Origin != contact.OriginSalesforce && en.Op != store.OpDelete
}

// pushRun returns the open real-time push run, or opens a new one: pushes
// are logged in windows of PushWindow rather than one run per change.
func (e *Engine) pushRun(ctx context.Context, tenantID string, st store.SyncState) (Run, error) {
	if st.PushRunID != 0 {
		r, err := e.Store.GetRun(ctx, tenantID, st.PushRunID)
		open := err == nil && (r.Status == StatusRunning || r.Status == StatusPaused)
		if open && e.now().Sub(r.StartedAt) < e.pushWindow() && r.ConfigVersion == st.ConfigVersion {
			if r.Status == StatusPaused {
				// The pause is over: the same run goes on.
				msg := ""
				if err := e.Store.UpdateRun(ctx, tenantID, r.ID, RunProgress{Status: StatusRunning, Message: &msg}); err != nil {
					return r, err
				}
				r.Status, r.Message = StatusRunning, ""
			}
			return r, nil
		}
		if open {
			why := ""
			if r.Status == StatusPaused {
				why = "paused, then superseded: pushes went on in a new run"
			}
			if err := e.finishPushRun(ctx, tenantID, r, why); err != nil {
				return r, err
			}
		}
	}
	r, err := e.Store.CreateRun(ctx, Run{TenantID: tenantID, Direction: DirToSalesforce, Trigger: TriggerRealtime, Status: StatusRunning, ConfigVersion: st.ConfigVersion})
	if err != nil {
		return r, err
	}
	cur, err := e.Store.GetSyncState(ctx, tenantID)
	if err != nil {
		return r, err
	}
	cur.PushRunID = r.ID
	return r, e.Store.SaveSyncState(ctx, cur)
}

func (e *Engine) finishPushRun(ctx context.Context, tenantID string, r Run, why string) error {
	status := StatusSucceeded
	if r.Counts.Failed > 0 || r.Counts.Ambiguous > 0 {
		status = StatusPartiallyFailed
	}
	p := RunProgress{Status: status, Finished: true}
	if why != "" {
		p.Message = &why
	}
	return e.Store.UpdateRun(ctx, tenantID, r.ID, p)
}

// CloseIdlePushRuns finishes real-time push runs whose window has passed.
func (e *Engine) closeIdlePushRun(ctx context.Context, tenantID string) error {
	st, err := e.Store.GetSyncState(ctx, tenantID)
	if err != nil || st.PushRunID == 0 {
		return err
	}
	r, err := e.Store.GetRun(ctx, tenantID, st.PushRunID)
	if err != nil {
		return nil
	}
	if r.Status == StatusRunning && e.now().Sub(r.StartedAt) >= e.pushWindow() {
		return e.finishPushRun(ctx, tenantID, r, "")
	}
	return nil
}

type pushItem struct {
	c         contact.Contact
	entryIDs  []int64
	link      *store.Link
	key       string // identity key on the platform
	sfID      string
	sfRec     map[string]any
	record    salesforce.Record
	newLink   store.Link
	create    bool
	pfUpdates contact.Contact // platform values that won a conflict for Salesforce
	pfChanged bool
	hist      []store.FieldChange // what the decisions wrote (Y3)
	// movesIdentity: the push moves the linked record off its identity
	// value (the newcomers held against its pair are then released).
	movesIdentity bool
}

// pushEntries pushes one pass of outbox entries. *cur is the session of
// the previous pass of the same RunPush, reused while the run's
// configuration version is the same, else opened anew.
func (e *Engine) pushEntries(ctx context.Context, tenantID string, st store.SyncState, entries []store.OutboxEntry, cur **session) error {
	t := tenantID
	run, err := e.pushRun(ctx, t, st)
	if err != nil {
		return err
	}
	// Every line logged about this pass names the tenant and its run.
	ctx = logctx.With(ctx, "tenant_id", t, "run_id", run.ID)
	sess := *cur
	if sess != nil && sess.run.ConfigVersion == run.ConfigVersion {
		sess.run, sess.calls0 = run, sess.client.Calls() // calls are counted per pass
	} else {
		sess, err = e.openSession(ctx, t, run)
		*cur = sess
	}
	if err != nil {
		msg := "failed: " + err.Error()
		if uerr := e.Store.UpdateRun(ctx, t, run.ID, RunProgress{Message: &msg}); uerr != nil {
			return errors.Join(err, uerr)
		}
		if transient(err) {
			return err
		}
		// Not connected or the configuration no longer fits: pushes wait.
		st.PausedUntil = e.now().Add(e.pollInterval())
		return e.Store.SaveSyncState(ctx, st)
	}
	// Coalesce per contact; our own writes (origin salesforce) and deletes
	// need no push.
	var ack []int64
	var deletedContacts []string
	byContact := map[string][]int64{}
	var order []string
	for _, en := range entries {
		switch {
		case en.Origin == contact.OriginSalesforce:
			ack = append(ack, en.ID)
		case en.Op == store.OpDelete:
			ack = append(ack, en.ID)
			deletedContacts = append(deletedContacts, en.ContactID)
			delete(byContact, en.ContactID)
		default:
			if _, ok := byContact[en.ContactID]; !ok {
				order = append(order, en.ContactID)
			}
			byContact[en.ContactID] = append(byContact[en.ContactID], en.ID)
		}
	}
	order = slices.DeleteFunc(order, func(id string) bool { _, ok := byContact[id]; return !ok })
	if len(ack) > 0 || len(deletedContacts) > 0 {
		err := e.Store.Tx(ctx, func(tx *sql.Tx) error {
			if err := e.Store.DeleteLinksOfContactsTx(ctx, tx, t, deletedContacts); err != nil {
				return err
			}
			return e.Store.AckOutboxTx(ctx, tx, t, ack)
		})
		if err != nil {
			return err
		}
	}
	if err := e.settleIngestJobs(ctx, sess); err != nil {
		return e.pushFailed(ctx, t, run, sess, err)
	}
	bulk := e.pushBulkThreshold() > 0 && len(order) >= e.pushBulkThreshold()
	if n := len(order) % e.pushBatch(); n > 0 && len(order) > e.pushBatch() && e.PushCoalesce > 0 && !bulk {
		// Full batches go now; the contacts of a last, partial one wait for
		// the next round (their entries stay in the outbox) unless their
		// oldest change has waited PushCoalesce already.
		rest := order[len(order)-n:]
		if age := e.now().Sub(firstSeen(entries, rest[0])); age >= 0 && age < e.PushCoalesce {
			order = order[:len(order)-n]
		}
	}
	size := e.pushBatch()
	if bulk {
		size = pushBulkMax
	}
	for start := 0; start < len(order); start += size {
		batch := order[start:min(start+size, len(order))]
		if err := e.pushBatchOf(ctx, sess, batch, byContact, bulk && len(batch) >= e.pushBulkThreshold()); err != nil {
			return e.pushFailed(ctx, t, run, sess, err)
		}
	}
	e.saveUsage(ctx, t, sess.client)
	e.observeSalesforce(ctx, t, run.ID, nil)
	return e.Store.UpdateRun(ctx, t, run.ID, RunProgress{APICalls: sess.calls()})
}

// firstSeen is the time of the oldest change of the contact id that
// entries hold for a push (after its last deletion, if any).
func firstSeen(entries []store.OutboxEntry, id string) time.Time {
	var t time.Time
	for _, en := range entries {
		switch {
		case en.ContactID != id || en.Origin == contact.OriginSalesforce:
		case en.Op == store.OpDelete:
			t = time.Time{}
		case t.IsZero():
			t = en.Created
		}
	}
	return t
}

// pushFailed handles an error that stopped a push batch.
func (e *Engine) pushFailed(ctx context.Context, tenantID string, run Run, sess *session, err error) error {
	calls := sess.calls()
	e.saveUsage(ctx, tenantID, sess.client)
	e.observeSalesforce(ctx, tenantID, run.ID, err)
	if until, why, paused := e.pauseFor(err); paused {
		msg := "paused: " + why + "; pushes resume by themselves"
		if uerr := e.Store.UpdateRun(ctx, tenantID, run.ID, RunProgress{APICalls: calls, Status: StatusPaused, Message: &msg}); uerr != nil {
			return uerr
		}
		st, serr := e.Store.GetSyncState(ctx, tenantID)
		if serr != nil {
			return serr
		}
		st.PausedUntil = until // the run stays st.PushRunID: pushRun resumes or closes it
		return e.Store.SaveSyncState(ctx, st)
	}
	if transient(err) {
		return errors.Join(err, e.Store.UpdateRun(ctx, tenantID, run.ID, RunProgress{APICalls: calls}))
	}
	msg := "push stopped: " + err.Error()
	return errors.Join(err, e.Store.UpdateRun(ctx, tenantID, run.ID, RunProgress{APICalls: calls, Message: &msg}))
}

// pushBatchOf pushes the changes of the contacts ids: one query finds
// their Salesforce targets, the decisions are made, and one write per kind
// (updates, creates) sends them. A batch of up to PushBatch contacts reads
// through a SOQL query and writes through sObject Collections; a bulk
// batch (a backlog above PushBulkThreshold) reads through a Bulk API 2.0
// query and writes through Bulk API 2.0 ingest jobs, whose per-record
// results are mapped back exactly as the collections results are
// (pushBulk, push_bulk.go).
func (e *Engine) pushBatchOf(ctx context.Context, s *session, ids []string, byContact map[string][]int64, bulk bool) error {
	if s.conv != nil {
		// The pair: contacts of converted Leads go to Contact (pair.go).
		var err error
		if ids, err = e.pushConverted(ctx, s, ids, byContact); err != nil || len(ids) == 0 {
			return err
		}
	}
	if bulk {
		return e.pushBulk(ctx, s, ids, byContact)
	}
	pl := newPushLog()
	items, linkedIDs, keyLits, err := e.pushItems(ctx, s, ids, byContact, pl)
	if err != nil {
		return err
	}
	// One query finds the targets: by link (Id) and by identity, with the
	// current values of every mapped field, for the decisions.
	found := map[string]map[string]any{}
	byKey := map[string][]map[string]any{}
	if len(linkedIDs)+len(keyLits) > 0 {
		if err := findTargets(ctx, s, s.targetFields(), linkedIDs, keyLits, addTarget(s, found, byKey)); err != nil {
			return err
		}
	}
	updates, creates, err := e.decidePush(ctx, s, items, found, byKey, pl)
	if err != nil {
		return err
	}

	// done are the items Salesforce acknowledged (or that needed no call);
	// their links, platform-side winners and acknowledgements are written
	// in one transaction (commitPush).
	var done []*pushItem
	var dupItems []dupItem
	write := func(list []*pushItem, call func(context.Context, string, []salesforce.Record) ([]salesforce.SaveResult, error), created bool) error {
		var recs []salesforce.Record
		var sent []*pushItem
		for _, it := range list {
			if it.record == nil {
				done = append(done, it)
				continue
			}
			recs = append(recs, it.record)
			sent = append(sent, it)
		}
		if len(recs) == 0 {
			return nil
		}
		res, err := call(ctx, s.describe.Name, recs)
		if err != nil {
			return err
		}
		for _, r := range res {
			if err := e.pushResult(ctx, s, sent[r.Index], r, created, pl, &done, &dupItems); err != nil {
				return err
			}
		}
		return nil
	}
	if err := write(updates, s.client.UpdateRecords, false); err != nil {
		return err
	}
	if err := write(creates, s.createRecords, true); err != nil {
		return err
	}
	return e.commitPush(ctx, s, pl, done, dupItems, nil)
}

// createRecords creates records through sObject Collections with the
// configuration's assignment rule and duplicate rule options.
func (s *session) createRecords(ctx context.Context, sobject string, recs []salesforce.Record) ([]salesforce.SaveResult, error) {
	return s.client.CreateRecordsWith(ctx, sobject, recs, s.writeOptions())
}

// pushLog gathers what a push batch records in the transaction that
// closes it: the run's counts, its log entries, the outbox entries
// acknowledged and those failed (with their reason). Its fields are
// exported for a bulk pass's spool (pushSpool).
type pushLog struct {
	Prog   RunProgress
	Logs   []RunRecord
	Failed map[int64]string
	Ack    []int64
}

func newPushLog() *pushLog { return &pushLog{Failed: map[int64]string{}} }

func (pl *pushLog) record(s *session, kind RecordKind, it *pushItem, field, code, reason, detail string) {
	pl.Logs = append(pl.Logs, RunRecord{RunID: s.run.ID, Kind: kind, SalesforceID: it.sfID, ContactID: it.c.ID, Field: field, ReasonCode: code, Reason: reason, Detail: detail})
}

func (pl *pushLog) fail(s *session, it *pushItem, field, code, reason string) {
	pl.Prog.Counts.Failed++
	pl.record(s, KindFailed, it, field, code, reason, "")
	for _, id := range it.entryIDs {
		pl.Failed[id] = reason
	}
}

// pushItems reads the contacts ids and their links and makes the items
// to push, with the Salesforce Ids they are linked to and the identity
// literals of the unlinked ones: what the query for their targets asks.
func (e *Engine) pushItems(ctx context.Context, s *session, ids []string, byContact map[string][]int64, pl *pushLog) (items []*pushItem, linkedIDs, keyLits []string, err error) {
	t := s.tenantID
	contacts, err := e.Store.GetContacts(ctx, t, ids)
	if err != nil {
		return nil, nil, nil, err
	}
	links, err := e.Store.LinksByContactID(ctx, t, ids)
	if err != nil {
		return nil, nil, nil, err
	}
	identity := s.maps[0]
	for _, id := range ids {
		c, ok := contacts[id]
		if !ok {
			pl.Ack = append(pl.Ack, byContact[id]...) // deleted since
			continue
		}
		it := &pushItem{c: c, entryIDs: byContact[id]}
		if l, ok := links[id]; ok && !s.ofObject(l.SalesforceID) {
			// Linked to the record a converted Lead became, which this
			// configuration does not sync (convert.go).
			it.sfID = l.SalesforceID
			pl.Prog.Counts.Skipped++
			pl.record(s, KindSkipped, it, "", "lead_converted", "linked to "+l.SalesforceID+", the record its Lead was converted into; a configuration that syncs Leads does not update it", "")
			pl.Ack = append(pl.Ack, it.entryIDs...)
			continue
		}
		if l, ok := links[id]; ok {
			it.link = &l
			it.sfID = l.SalesforceID
			linkedIDs = append(linkedIDs, l.SalesforceID)
		} else if v := identity.fromPlatform(c); !isBlank(v) {
			it.key, _ = v.(string)
			keyLits = append(keyLits, identityLiterals(identity, it.key)...)
		}
		items = append(items, it)
	}
	pl.Prog.Counts.Scanned += int64(len(items))
	pl.Prog.Processed += int64(len(items))
	return items, linkedIDs, keyLits, nil
}

// targetFields are the fields a push reads of its targets: their Id,
// modstamps, identity value and every mapped field's current value.
func (s *session) targetFields() []string {
	fields := []string{"Id", "SystemModstamp", "LastModifiedDate", s.maps[0].sfField}
	for _, m := range s.maps {
		for _, f := range m.sfFields() {
			if !slices.Contains(fields, f) {
				fields = append(fields, f)
			}
		}
	}
	return fields
}

// addTarget files a target record found by a push's query by Id and by
// its identity key.
func addTarget(s *session, found map[string]map[string]any, byKey map[string][]map[string]any) func(map[string]any) {
	identity := s.maps[0]
	return func(rec map[string]any) {
		id, _ := rec["Id"].(string)
		found[id] = rec
		if k, err := identity.fromSalesforce(rec); err == nil && k != nil {
			byKey[k.(string)] = append(byKey[k.(string)], rec)
		}
	}
}

// decidePush makes the decisions for items given their targets (found by
// Id, byKey by identity key): what each writes to Salesforce (updates,
// creates) and to the platform, its new link and its history. Items that
// need no write or cannot be pushed are recorded in pl; values held by
// several records are held for review.
func (e *Engine) decidePush(ctx context.Context, s *session, items []*pushItem, found map[string]map[string]any, byKey map[string][]map[string]any, pl *pushLog) (updates, creates []*pushItem, err error) {
	t := s.tenantID
	identity := s.maps[0]
	var foundIDs []string
	for id := range found {
		foundIDs = append(foundIDs, id)
	}
	sfLinks, err := e.Store.LinksBySalesforceID(ctx, t, foundIDs)
	if err != nil {
		return nil, nil, err
	}
	decided, err := e.Store.ReviewDecisions(ctx, t, foundIDs)
	if err != nil {
		return nil, nil, err
	}
	prog := &pl.Prog
	holds := map[string]holdGroup{}
	for _, it := range items {
		if it.link != nil {
			rec, ok := found[it.sfID]
			if !ok {
				// Deleted in Salesforce — or merged into another record,
				// which only the pull sees (queryAll, MasterRecordId): the
				// pull unlinks or follows the merge, and these changes are
				// retried after it, matched afresh or through the new link.
				for _, id := range it.entryIDs {
					pl.Failed[id] = "the linked Salesforce contact is gone (deleted or merged); waiting for the next pull"
				}
				continue
			}
			it.sfRec = rec
		} else if it.key != "" {
			// Candidates already linked to another platform contact are
			// not free to match: holding them keeps links one-to-one.
			// Records an admin kept apart from this value's holders, or
			// ignored, are not candidates; one an admin linked is the match.
			var free, taken, chosen []map[string]any
			for _, rec := range byKey[it.key] {
				id := rec["Id"].(string)
				if l, ok := sfLinks[id]; ok && l.ContactID != it.c.ID {
					taken = append(taken, rec)
					continue
				}
				switch decided[id] {
				case store.ResolutionApart, store.ResolutionIgnored:
					continue
				case store.ResolutionLinked:
					chosen = append(chosen, rec)
				}
				free = append(free, rec)
			}
			if len(chosen) == 1 {
				free = chosen
			}
			switch {
			case len(free) > 1:
				// Several Salesforce contacts hold the value: held in the
				// review queue (logged once), the changes acknowledged; the
				// contact is pushed again once an admin or Salesforce
				// settles it.
				holds[it.key] = holdGroup{recs: free}
				prog.Counts.Skipped++
				pl.Ack = append(pl.Ack, it.entryIDs...)
				continue
			case len(free) == 0 && len(taken) > 0:
				var ids []string
				for _, r := range append(free, taken...) {
					ids = append(ids, r["Id"].(string))
				}
				prog.Counts.Ambiguous++
				pl.record(s, KindAmbiguous, it, identity.sfField, "ambiguous_salesforce",
					fmt.Sprintf("the identity value %q matches Salesforce contacts that are taken or several: %s", it.key, strings.Join(ids, ", ")),
					"candidates: "+strings.Join(ids, ", "))
				for _, id := range it.entryIDs {
					pl.Failed[id] = "ambiguous identity"
				}
				continue
			case len(free) == 1:
				it.sfRec = free[0]
				it.sfID = free[0]["Id"].(string)
			}
		}
		if it.sfRec == nil {
			if it.key == "" || s.cfg.Identity.ToSalesforceNoMatch != syncconf.NoMatchCreate {
				prog.Counts.Skipped++
				pl.Ack = append(pl.Ack, it.entryIDs...)
				continue
			}
			it.create = true
		}
		link := store.Link{SalesforceID: it.sfID, ContactID: it.c.ID, SFValues: map[string]any{}, PFValues: map[string]any{}}
		if it.link != nil {
			link = cloneLink(*it.link)
		}
		rec := salesforce.Record{}
		bad := false
		pf := cloneContact(it.c)
		for _, m := range s.maps {
			pv := m.fromPlatform(it.c)
			var sfv any
			var sf Side
			if it.sfRec != nil {
				// A Salesforce value that does not convert counts as none:
				// a mapping that pushes may replace it.
				if v, err := m.fromSalesforce(it.sfRec); err == nil {
					sfv = v
					sf = Side{Known: true, Canon: canon(v), Modified: parseSFTime(fieldValue(it.sfRec, "LastModifiedDate"))}
				}
			}
			f := m.state(it.link, sf, Side{Known: true, Canon: canon(pv), Modified: it.c.Updated})
			d := decideField(f)
			var rule string
			if d.Verdict != VerdictQuiet {
				prog.Counts.Conflicts++
				code, reason, detail := m.verdictEntry(f, d)
				rule = code
				pl.record(s, KindConflict, it, m.sfField, code, reason, detail)
			}
			if ch, ok := historyOf(m, d, rule, it.create, jsonable(sfv), jsonable(pv)); ok {
				it.hist = append(it.hist, ch)
			}
			switch d.Write {
			case WriteToPlatform:
				if err := m.setPlatform(&pf, sfv); err != nil {
					continue // the platform refuses Salesforce's value: the link keeps what it had
				}
				it.pfChanged = true
			case WriteToSalesforce:
				if err := m.writeSalesforce(rec, it.c); err != nil {
					var re *syncconf.RecordError
					if errors.As(err, &re) {
						pl.fail(s, it, m.sfField, re.Reason, re.Error())
					} else {
						pl.fail(s, it, m.sfField, "invalid_value", err.Error())
					}
					bad = true
				}
			}
			if bad {
				break
			}
			settle(&link, m.key, f, d, jsonable(sfv), jsonable(pv), false)
		}
		if bad {
			continue
		}
		it.newLink = link
		it.movesIdentity = it.link != nil && canon(it.link.SFValues[identity.key]) != canon(link.SFValues[identity.key])
		it.pfUpdates = pf
		if it.create {
			if _, ok := rec[identity.sfField]; !ok {
				v, err := identity.toSalesforce(it.c)
				if err != nil {
					pl.fail(s, it, identity.sfField, "invalid_value", err.Error())
					continue
				}
				rec[identity.sfField] = v
			}
			if err := s.createDefaults(ctx, rec); err != nil {
				return nil, nil, err
			}
			it.record = rec
			creates = append(creates, it)
			continue
		}
		if len(rec) == 0 {
			// Nothing to write to Salesforce; the link (new at a first
			// match) and any platform-side winner are still saved.
			prog.Counts.Unchanged++
			updates = append(updates, it)
			continue
		}
		rec["Id"] = it.sfID
		it.record = rec
		updates = append(updates, it)
	}
	if err := e.hold(ctx, s, holds, nil); err != nil {
		return nil, nil, err
	}
	return updates, creates, nil
}

// pushResult maps Salesforce's result r for the item it back: a success is
// done (a create's new Id in its link); a create a duplicate rule refused
// joins dups (sent again alone when the error names no record); any other
// refusal fails the item with Salesforce's reason.
func (e *Engine) pushResult(ctx context.Context, s *session, it *pushItem, r salesforce.SaveResult, created bool, pl *pushLog, done *[]*pushItem, dups *[]dupItem) error {
	if !r.Success && created && isDuplicate(r) {
		if ids := duplicateIDs(r); len(ids) > 0 {
			*dups = append(*dups, dupItem{it: it, ids: ids})
			return nil
		}
		// sObject Collections may send the bare error: one
		// single-record create names the matched records.
		id, ids, err := s.createOne(ctx, it.record)
		switch {
		case err != nil:
			var ae *salesforce.APIError
			if !errors.As(err, &ae) {
				return err
			}
			pl.fail(s, it, strings.Join(ae.Fields, ","), ae.ErrorCode, ae.ErrorCode+": "+ae.Message)
		case len(ids) > 0:
			*dups = append(*dups, dupItem{it: it, ids: ids})
		default:
			pl.Prog.Counts.Created++
			it.newLink.SalesforceID = id
			*done = append(*done, it)
		}
		return nil
	}
	if !r.Success {
		var msgs, fields []string
		code := "salesforce_error"
		for _, re := range r.Errors {
			msgs = append(msgs, re.StatusCode+": "+re.Message)
			fields = append(fields, re.Fields...)
			code = re.StatusCode
		}
		pl.fail(s, it, strings.Join(fields, ","), code, strings.Join(msgs, "; "))
		return nil
	}
	if created {
		pl.Prog.Counts.Created++
		it.newLink.SalesforceID = r.ID
	} else {
		pl.Prog.Counts.Updated++
	}
	*done = append(*done, it)
	return nil
}

// commitPush records a batch's outcome in one transaction: the records a
// duplicate rule refused are linked or held (Config.Create.OnDuplicate),
// the platform takes the values that won for it, and the done items'
// links, history and acknowledgements are saved with pl's log, failures
// and counts; the ingest jobs named are forgotten in the same
// transaction. Then the newcomers held against a linked record the push
// moved off its identity value are released.
func (e *Engine) commitPush(ctx context.Context, s *session, pl *pushLog, done []*pushItem, dupItems []dupItem, jobs []string) error {
	t := s.tenantID
	record := func(kind RecordKind, it *pushItem, field, code, reason, detail string) {
		pl.record(s, kind, it, field, code, reason, detail)
	}
	// Records a duplicate rule refused: linked to the record it named, or
	// held for review with it as the match (Config.Create.OnDuplicate).
	linkedDup, err := e.duplicates(ctx, s, dupItems, &pl.Prog, record, &pl.Ack)
	if err != nil {
		return err
	}
	done = append(done, linkedDup...)
	var pfOps []store.ContactOp
	var pfItems []*pushItem
	for _, it := range done {
		if it.pfChanged {
			pfOps = append(pfOps, store.ContactOp{ID: it.c.ID, Input: inputFrom(it.c, it.pfUpdates)})
			pfItems = append(pfItems, it)
		}
	}
	var unlink []string
	refused := map[*pushItem]bool{}
	_, err = e.Store.ApplyContacts(ctx, t, pfOps, contact.OriginSalesforce, func(tx *sql.Tx, res []store.UpsertResult) error {
		for i, r := range res {
			if r.Outcome != store.OutcomeFailed {
				continue
			}
			// The platform refused Salesforce's winning value (it is
			// another contact's unique value): the record fails, its
			// entries stay for a retry, and the link keeps its old values.
			it := pfItems[i]
			refused[it] = true
			var cc *store.ContactConflict
			if errors.As(r.Err, &cc) {
				pl.fail(s, it, cc.Field, "platform_conflict", fmt.Sprintf("%s %q already belongs to platform contact %s", cc.Field, cc.Value, cc.ContactID))
			} else {
				pl.fail(s, it, "", "platform_rejected", fmt.Sprint(r.Err))
			}
		}
		var saveLinks []store.Link
		var hist []store.FieldHistoryEntry
		ack := pl.Ack
		for _, it := range done {
			if refused[it] {
				continue
			}
			saveLinks = append(saveLinks, it.newLink)
			ack = append(ack, it.entryIDs...)
			if len(it.hist) > 0 {
				hist = append(hist, s.historyEntry(it.c.ID, it.newLink.SalesforceID, it.hist))
			}
		}
		if err := e.Store.AddFieldHistoryTx(ctx, tx, t, hist); err != nil {
			return err
		}
		if err := e.Store.DeletePushIngestJobsTx(ctx, tx, t, jobs); err != nil {
			return err
		}
		if err := e.Store.DeleteLinksTx(ctx, tx, t, unlink); err != nil {
			return err
		}
		if err := e.Store.SaveLinksTx(ctx, tx, t, saveLinks); err != nil {
			return err
		}
		if err := e.Store.AckOutboxTx(ctx, tx, t, ack); err != nil {
			return err
		}
		if err := e.Store.FailOutboxTx(ctx, tx, t, pl.Failed, e.retryAt); err != nil {
			return err
		}
		if err := e.Store.AddRunRecordsTx(ctx, tx, t, pl.Logs); err != nil {
			return err
		}
		return e.Store.UpdateRunTx(ctx, tx, t, s.run.ID, pl.Prog)
	})
	if err != nil {
		return err
	}
	// A linked record this push moved off its identity value frees the
	// newcomers held against its pair, as a pull that sees such an edit
	// does: they are released and read again by the next pull.
	var freed []string
	for _, it := range done {
		if !refused[it] && it.movesIdentity {
			freed = append(freed, it.c.ID)
		}
	}
	return e.releaseHeldAgainst(ctx, s, freed)
}

// identityLiterals are the spellings an identity key may have in
// Salesforce, where phone fields are free text: E.164 with and without
// the plus. Other formats are matched only once read by a pull.
func identityLiterals(m mapping, key string) []string {
	if contact.Identity(m.binding.Platform.Name) == contact.IdentityPhone {
		return []string{key, strings.TrimPrefix(key, "+")}
	}
	return []string{key}
}
