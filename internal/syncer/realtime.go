package syncer

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/sfsync/sfsync/internal/contact"
	"github.com/sfsync/sfsync/internal/salesforce"
	"github.com/sfsync/sfsync/internal/salesforce/cdc"
	"github.com/sfsync/sfsync/internal/store"
	"github.com/sfsync/sfsync/internal/syncconf"
)

// Why a tenant's changes arrive by polling rather than in real time: codes
// the admin UI translates (issue 15).
const (
	// ReasonNoCDC: the org has no Change Data Capture (its edition), or
	// Contact is not selected in Setup → Change Data Capture.
	ReasonNoCDC = "cdc_unavailable"
	// ReasonStreamBroken: the subscription failed; it is being retried and
	// the pull catches up meanwhile.
	ReasonStreamBroken = "stream_broken"
	// ReasonConnection: the Salesforce connection is broken or missing.
	ReasonConnection = "connection"
)

// fetchChunk is how many records one fetch by Id asks for: the Ids of a
// batch of change events (at most 100 events) fit one or two queries.
const fetchChunk = 200

// Feed applies one tenant's change events (issue 15) through the same
// decision path as the pull: the records an event names are read by Id
// (with the fields the incremental pull reads, so conditions, transforms
// and the identity are evaluated on whole records) and applied as one
// page, in one transaction that also stores the batch's replay ID. The
// event is the trigger, the record's current state is what is applied:
// applying an event again, or an older one after a newer one, reads the
// same current state, so redelivery after a crash changes nothing.
//
// What is never read: UPDATE events that change no field the
// configuration pulls, identifies by, or selects on; and sfsync's own
// writes (changeOrigin client=sfsync) whose pulled values equal what the
// link last wrote (the echo guard, as the pull compares). A trigger's
// change inside sfsync's own transaction differs from the link, so that
// record is read and applied.
type Feed struct {
	e        *Engine
	tenantID string

	sess    *session
	version int64
	fields  []string
	sc      *scope
	// bySF maps a Salesforce field name to the indexes of the mappings
	// that pull it; watched are the fields an UPDATE must touch to matter.
	bySF    map[string][]int
	watched map[string]bool
	// conds are the (lower-cased) fields the conditions select on: an
	// event that changes one is applied on the whole record, read by Id.
	conds map[string]bool
	// mapFields are, by mapping, the (lower-cased) Salesforce fields each
	// reads.
	mapFields [][]string
	// usageSaved is when the API usage reading was last stored.
	usageSaved time.Time
}

// NewFeed returns the feed of a tenant's change events.
func (e *Engine) NewFeed(tenantID string) *Feed { return &Feed{e: e, tenantID: tenantID} }

// FeedResult says what a batch did.
type FeedResult struct {
	Gap        bool // a gap or overflow event: an incremental pull is owed
	Fetched    int  // records read by Id and applied
	FromEvents int  // records applied from their events' own values, unread
	Dropped    int  // events dropped without a read (echoes, irrelevant updates)
}

// Apply applies one batch and stores its replay ID (with the catch-up
// flag when the batch held a gap or overflow event). A tenant that no
// longer pulls only has the replay ID stored.
func (f *Feed) Apply(ctx context.Context, b cdc.Batch) (FeedResult, error) {
	e, t := f.e, f.tenantID
	var res FeedResult
	rs, err := e.Store.GetRealtimeStream(ctx, t)
	if err != nil {
		return res, err
	}
	catchUp := rs.CatchUp
	var events []cdc.Event
	for _, ev := range b.Events {
		switch {
		case ev.Type.IsGap():
			res.Gap, catchUp = true, true
		default:
			events = append(events, ev) // kept if of the object synced (below)
		}
	}
	save := func() error {
		if b.LatestReplayID == nil {
			return nil
		}
		return e.Store.SaveReplayID(ctx, t, b.LatestReplayID, catchUp)
	}
	st, err := e.Store.GetSyncState(ctx, t)
	if err != nil {
		return res, err
	}
	if !st.PullEnabled || st.ConfigVersion == 0 {
		// Stopped pulling (a disconnect, a configuration that only
		// pushes): nothing is applied, and no replay ID is kept for a
		// connection that may be gone.
		res.Dropped = len(events)
		return res, nil
	}
	if st.PullPaused && len(events) > 0 {
		// The admin paused Salesforce → platform: nothing is applied. The
		// replay ID moves on: the first poll after the resume reads every
		// change from the pull's cursor, which the stream never moves.
		res.Dropped = len(events)
		return res, save()
	}
	if len(events) == 0 {
		if bytes.Equal(b.LatestReplayID, rs.ReplayID) {
			return res, nil // a keep-alive where the stream already stands
		}
		return res, save()
	}
	if err := f.open(ctx, st); err != nil {
		return res, err
	}
	s := f.sess
	// Events of another object than the configuration's (the topic of an
	// earlier object, Contacts a Lead became) are not this sync's.
	kept := events[:0]
	for _, ev := range events {
		if ev.Entity == "" || strings.EqualFold(ev.Entity, s.describe.Name) {
			kept = append(kept, ev)
		} else {
			res.Dropped++
		}
	}
	events = kept
	// Which records each event asks for, in order; echoes of sfsync's own
	// creates and deletes are dropped, as are updates of fields the
	// configuration does not read.
	type target struct {
		ev *cdc.Event
		id string
	}
	var targets []target
	var candidates []string
	for i := range events {
		ev := &events[i]
		switch {
		case ev.Client() == salesforce.DefaultCallClient && (ev.Type == cdc.Create || ev.Type == cdc.Delete):
			// sfsync's own create (the push links the record) or delete
			// (the push deletes nothing it does not unlink): the
			// values are the link's; the poll reads it anyway.
			res.Dropped++
			continue
		case ev.Client() != salesforce.DefaultCallClient && ev.Type == cdc.Update && !f.touches(*ev):
			res.Dropped++
			continue
		}
		for _, id := range ev.RecordIDs {
			targets = append(targets, target{ev, id})
			candidates = append(candidates, id)
		}
	}
	// One read of the links and their contacts for the whole batch: the
	// echo guard compares with them, and an update applied from its own
	// values needs its record linked.
	var links map[string]store.Link
	contacts := map[string]contact.Contact{}
	if len(candidates) > 0 {
		if links, err = e.Store.LinksBySalesforceID(ctx, t, candidates); err != nil {
			return res, err
		}
		cids := make([]string, 0, len(links))
		for _, l := range links {
			cids = append(cids, l.ContactID)
		}
		if contacts, err = e.Store.GetContacts(ctx, t, cids); err != nil {
			return res, err
		}
	}
	// A record is applied from its events' own values while every event
	// of it in the batch allows that (partial); else it is read whole by
	// Id (whole), once for the batch.
	partial := map[string]*eventRecord{}
	whole := map[string]bool{}
	deleted := map[string]bool{}
	var ids []string
	for _, tg := range targets {
		ev, id := tg.ev, tg.id
		l, linked := links[id]
		if ev.Client() == salesforce.DefaultCallClient && ev.Type == cdc.Update && linked && !f.differs(*ev, l, contacts[l.ContactID]) {
			res.Dropped++
			continue
		}
		if ev.Type == cdc.Delete {
			deleted[id] = true
		}
		if whole[id] {
			continue
		}
		_, live := contacts[l.ContactID]
		if f.addEvent(partial, id, *ev, linked && live && !l.OutOfScope) {
			continue
		}
		whole[id] = true
		delete(partial, id)
		ids = append(ids, id)
	}
	slices.Sort(ids)
	ids = slices.Compact(ids)
	if len(ids) == 0 && len(partial) == 0 {
		return res, save()
	}
	calls0 := s.client.Calls()
	var recs []map[string]any
	got := map[string]bool{}
	for chunk := range slices.Chunk(ids, fetchChunk) {
		q, err := syncconf.NewQuery(s.describe).Select(f.fields...).IDIn(chunk).Build()
		if err != nil {
			return res, err
		}
		it := s.client.QueryAll(ctx, q, salesforce.QueryOptions{})
		for it.Next() {
			rec := it.Record()
			id, _ := rec["Id"].(string)
			got[id] = true
			recs = append(recs, rec)
		}
		if err := it.Err(); err != nil {
			return res, err
		}
	}
	for _, id := range ids {
		if deleted[id] && !got[id] {
			// Gone from the recycle bin already (a hard delete): deleted.
			recs = append(recs, map[string]any{"Id": id, "IsDeleted": true})
		}
	}
	res.Fetched = len(recs)
	present := make(map[string][]bool, len(partial))
	for id, p := range partial {
		recs = append(recs, p.rec)
		if p.present != nil {
			present[id] = p.present
		}
	}
	res.FromEvents = len(partial)
	pg := s.preparePartial(recs, f.sc, present)
	if len(ids) == 0 {
		// Nothing was read from Salesforce since the links and contacts
		// were: the page uses them.
		pg.links, pg.contacts = links, contacts
	}
	pg.apiCalls = func() int64 { return s.client.Calls() - calls0 }
	pg.onCommit = func(tx *sql.Tx) error {
		if b.LatestReplayID == nil {
			return nil
		}
		return e.Store.SaveReplayIDTx(ctx, tx, t, b.LatestReplayID, catchUp)
	}
	if err := e.applyPage(ctx, s, pg); err != nil {
		return res, err
	}
	if now := e.now(); now.Sub(f.usageSaved) >= time.Minute {
		// The org's usage reading, kept for the next client (X4): once a
		// minute is enough, and spares a write per batch.
		e.saveUsage(ctx, t, s.client)
		f.usageSaved = now
	}
	return res, nil
}

// open (re)opens the feed's session when the configuration version
// changed since the last batch, and finds the real-time run.
func (f *Feed) open(ctx context.Context, st store.SyncState) error {
	if err := f.warm(ctx, st); err != nil {
		return err
	}
	r := f.sess.run
	if r.ID != 0 && r.ConfigVersion == st.ConfigVersion && f.e.now().Sub(r.StartedAt) < f.e.pushWindow() {
		return nil // the window this feed opened or found is still open
	}
	run, err := f.e.streamRun(ctx, f.tenantID, st)
	if err != nil {
		return err
	}
	f.sess.run = run
	return nil
}

// Warm opens the feed's session before the first event (the describe of
// Contact, the configuration, the scope), so the first change of a
// subscription does not wait for them.
func (f *Feed) Warm(ctx context.Context) error {
	st, err := f.e.Store.GetSyncState(ctx, f.tenantID)
	if err != nil || !st.PullEnabled || st.ConfigVersion == 0 {
		return err
	}
	return f.warm(ctx, st)
}

func (f *Feed) warm(ctx context.Context, st store.SyncState) error {
	e, t := f.e, f.tenantID
	if f.sess != nil && f.version == st.ConfigVersion {
		return nil
	}
	// The run is found (or opened) with the first batch.
	s, err := e.openSession(ctx, t, Run{TenantID: t, ConfigVersion: st.ConfigVersion})
	if err != nil {
		return err
	}
	scopeQ, err := s.cfg.ScopeSelect(s.describe, "Id").Build()
	if err != nil {
		return err
	}
	sc, err := newScope(s.describe, scopeQ, e.now())
	if err != nil {
		return err
	}
	extra := []string{"IsDeleted"}
	if _, ok := s.describe.Field("MasterRecordId"); ok {
		extra = append(extra, "MasterRecordId")
	}
	watched, conds := map[string]bool{}, map[string]bool{}
	for _, c := range s.cfg.Conditions {
		extra = append(extra, c.SalesforceField)
		watched[c.SalesforceField] = true
		conds[strings.ToLower(c.SalesforceField)] = true
	}
	mapFields := make([][]string, len(s.maps))
	for i, m := range s.maps {
		for _, n := range m.sfFields() {
			mapFields[i] = append(mapFields[i], strings.ToLower(n))
		}
	}
	fields, err := s.selectList(extra...)
	if err != nil {
		return err
	}
	bySF := map[string][]int{}
	for i, m := range s.maps {
		if m.pulls || m.ident {
			bySF[m.sfField] = append(bySF[m.sfField], i)
			watched[m.sfField] = true
		}
	}
	f.sess, f.version, f.fields, f.sc, f.bySF, f.watched = s, st.ConfigVersion, fields, sc, bySF, watched
	f.conds, f.mapFields = conds, mapFields
	return nil
}

// eventRecord is a record built from its events' values: whole (from a
// CREATE or UNDELETE, which carry every field) or, for a linked record,
// partial — the fields the configuration reads that its UPDATE events
// changed.
type eventRecord struct {
	rec     map[string]any
	present []bool // by mapping: carried by the events; nil for a whole record
}

// addEvent adds an event's values to the record id in partial, and
// reports whether it could; linked says the record is linked, in scope,
// and its contact is there. An UPDATE can be applied from its values to a
// linked record, or to one this batch created from its event; a CREATE or
// UNDELETE to any record, whole. Not: a DELETE (the recycle bin has the
// answer, and the survivor of a merge); an UPDATE that changes a
// condition's field (the scope is decided on the whole record) or part of
// what a mapping reads (a name rule's FirstName without LastName); a
// CREATE whose schema leaves out a field the sync reads (a formula); any
// value whose event form is not the REST API's (dates, numbers).
func (f *Feed) addEvent(partial map[string]*eventRecord, id string, ev cdc.Event, linked bool) bool {
	if ev.CommitTimestamp.IsZero() {
		return false
	}
	switch ev.Type {
	case cdc.Create, cdc.Undelete:
		if partial[id] != nil {
			return false
		}
		rec, ok := f.wholeRecord(id, ev)
		if !ok {
			return false
		}
		partial[id] = &eventRecord{rec: rec}
		stampFrom(rec, ev)
		return true
	case cdc.Update:
		if p := partial[id]; !linked && (p == nil || p.present != nil) {
			return false
		}
	default:
		return false
	}
	touched := make(map[string]string, len(ev.ChangedFields)+len(ev.NulledFields)) // lower-cased → as named
	nulled := map[string]bool{}
	for _, n := range ev.ChangedFields {
		touched[strings.ToLower(n)] = n
	}
	for _, n := range ev.NulledFields {
		touched[strings.ToLower(n)] = n
		nulled[strings.ToLower(n)] = true
	}
	for n := range touched {
		if f.conds[n] || readWhole[n] {
			return false
		}
	}
	vals := map[string]any{}
	var present []bool
	for i, names := range f.mapFields {
		carried := 0
		for _, n := range names {
			if _, ok := touched[n]; ok {
				carried++
			}
		}
		if carried == 0 {
			continue
		}
		if carried < len(names) {
			return false
		}
		for _, n := range names {
			if nulled[n] {
				vals[n] = nil
				continue
			}
			v, ok := f.restValue(touched[n], ev.Fields[touched[n]])
			if !ok {
				return false
			}
			vals[n] = v
		}
		if present == nil {
			present = make([]bool, len(f.mapFields))
		}
		present[i] = true
	}
	p := partial[id]
	if p == nil {
		p = &eventRecord{rec: map[string]any{"Id": id}, present: make([]bool, len(f.mapFields))}
		partial[id] = p
	}
	if p.present == nil {
		// A record this batch created: its values are whole; drop the
		// ones of its created form under another spelling.
		for n := range vals {
			for k := range p.rec {
				if strings.EqualFold(k, n) {
					delete(p.rec, k)
				}
			}
		}
	}
	for n, v := range vals {
		p.rec[n] = v
	}
	for i, ok := range present {
		if p.present != nil {
			p.present[i] = p.present[i] || ok
		}
	}
	stampFrom(p.rec, ev)
	return true
}

// readWhole are fields whose change the pull handles on the whole record:
// a Lead's conversion (followed to the Contact it became), a merge.
var readWhole = map[string]bool{"isconverted": true, "convertedcontactid": true, "convertedaccountid": true,
	"masterrecordid": true, "isdeleted": true}

// restValue reports whether a non-null event value has the REST API's
// form (a string or a boolean, of a field that is not a date or time).
func (f *Feed) restValue(name string, v any) (any, bool) {
	switch v.(type) {
	case string, bool:
	default:
		return nil, false
	}
	fd, ok := f.sess.describe.Field(name)
	if !ok || fd.Type == "date" || fd.Type == "datetime" || fd.Type == "time" {
		return nil, false
	}
	return v, true
}

// wholeRecord builds a created or undeleted record from its event, when
// the event's schema carries every field the sync reads and each value
// has the REST form.
func (f *Feed) wholeRecord(id string, ev cdc.Event) (map[string]any, bool) {
	carried := make(map[string]string, len(ev.SchemaFields))
	for _, n := range ev.SchemaFields {
		carried[strings.ToLower(n)] = n
	}
	rec := map[string]any{"Id": id, "IsDeleted": false}
	for _, name := range f.fields {
		switch strings.ToLower(name) {
		case "id", "isdeleted", "systemmodstamp", "lastmodifieddate", "masterrecordid":
			continue // set here, or null for a live record
		}
		n, ok := carried[strings.ToLower(name)]
		if !ok {
			return nil, false
		}
		v, ok := ev.Fields[n]
		if !ok || v == nil {
			continue // null
		}
		if v, ok = f.restValue(n, v); !ok {
			return nil, false
		}
		rec[name] = v
	}
	return rec, true
}

// stampFrom sets a record's SystemModstamp and LastModifiedDate from its
// event.
func stampFrom(rec map[string]any, ev cdc.Event) {
	// The link's SystemModstamp is what the drift check compares with
	// Salesforce's, to the millisecond: the event's LastModifiedDate (a
	// user's edit moves both together), else its commit time.
	at := ev.CommitTimestamp
	switch v := ev.Fields["LastModifiedDate"].(type) {
	case int64:
		at = time.UnixMilli(v)
	case time.Time:
		at = v
	}
	stamp := at.UTC().Format(time.RFC3339Nano)
	rec["SystemModstamp"], rec["LastModifiedDate"] = stamp, stamp
}

// touches reports whether an UPDATE changed a field the configuration
// pulls, identifies by or selects on (field names compare as Salesforce
// does, without case).
func (f *Feed) touches(ev cdc.Event) bool {
	for _, name := range slices.Concat(ev.ChangedFields, ev.NulledFields) {
		for w := range f.watched {
			if equalFold(w, name) {
				return true
			}
		}
	}
	return false
}

// differs reports whether an echo event (sfsync's own write) carries a
// value of a pulled field other than what the link last wrote, or
// touches a condition's field: then a trigger or a flow changed the
// record inside the same transaction, and it is read and applied. A value
// the platform contact holds already counts as the same: the event can
// arrive before the push has stored the link's new values. Values that
// cannot be compared here (dates, numbers) count as different.
func (f *Feed) differs(ev cdc.Event, l store.Link, c contact.Contact) bool {
	nulled := map[string]bool{}
	for _, n := range ev.NulledFields {
		nulled[n] = true
	}
	for _, name := range slices.Concat(ev.ChangedFields, ev.NulledFields) {
		idx, pulled := f.lookup(name)
		if !pulled {
			if f.watchedField(name) {
				return true // a condition's field: the record may have left the scope
			}
			continue
		}
		var raw any
		if !nulled[name] {
			v, ok := ev.Fields[name]
			if !ok {
				return true
			}
			switch v.(type) {
			case string, bool:
				raw = v
			default:
				return true
			}
			if fd, ok := f.sess.describe.Field(name); ok && (fd.Type == "date" || fd.Type == "datetime" || fd.Type == "time") {
				return true
			}
		}
		for _, i := range idx {
			m := f.sess.maps[i]
			v, err := m.fromSalesforce(map[string]any{m.sfField: raw})
			if err != nil {
				return true
			}
			if cv := canon(v); cv != canon(l.SFValues[m.key]) && (c.ID == "" || cv != canon(m.fromPlatform(c))) {
				return true
			}
		}
	}
	return false
}

func (f *Feed) lookup(name string) ([]int, bool) {
	for k, idx := range f.bySF {
		if equalFold(k, name) {
			return idx, true
		}
	}
	return nil, false
}

func (f *Feed) watchedField(name string) bool {
	for w := range f.watched {
		if equalFold(w, name) {
			return true
		}
	}
	return false
}

func equalFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// streamRun returns the open real-time Salesforce → platform run, or opens
// a new one: arrivals are logged in windows of PushWindow (15 minutes),
// as the push's real-time runs are.
func (e *Engine) streamRun(ctx context.Context, tenantID string, st store.SyncState) (Run, error) {
	rs, err := e.Store.GetRealtimeStream(ctx, tenantID)
	if err != nil {
		return Run{}, err
	}
	if rs.RunID != 0 {
		r, err := e.Store.GetRun(ctx, tenantID, rs.RunID)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return Run{}, err
		}
		open := err == nil && r.Status == StatusRunning
		if open && e.now().Sub(r.StartedAt) < e.pushWindow() && r.ConfigVersion == st.ConfigVersion {
			return r, nil
		}
		if open {
			if err := e.finishPushRun(ctx, tenantID, r, ""); err != nil {
				return Run{}, err
			}
		}
	}
	r, err := e.Store.CreateRun(ctx, Run{TenantID: tenantID, Direction: DirToPlatform, Trigger: TriggerRealtime, Status: StatusRunning, ConfigVersion: st.ConfigVersion})
	if err != nil {
		return r, err
	}
	return r, e.Store.SetStreamRun(ctx, tenantID, r.ID)
}

// closeIdleStreamRun finishes the real-time pull run whose window has
// passed, or whose tenant stopped pulling.
func (e *Engine) closeIdleStreamRun(ctx context.Context, tenantID string) error {
	rs, err := e.Store.GetRealtimeStream(ctx, tenantID)
	if err != nil || rs.RunID == 0 {
		return err
	}
	r, err := e.Store.GetRun(ctx, tenantID, rs.RunID)
	if err != nil {
		return nil
	}
	if r.Status != StatusRunning {
		return nil
	}
	st, err := e.Store.GetSyncState(ctx, tenantID)
	if err != nil {
		return err
	}
	if !st.PullEnabled || e.now().Sub(r.StartedAt) >= e.pushWindow() {
		return e.finishPushRun(ctx, tenantID, r, "")
	}
	return nil
}

// CatchUp runs the incremental pull a stream owes after a gap, an
// overflow, an invalid replay ID or a break: enqueued when there is a job
// queue (a pull already queued or running absorbs it), else run here.
func (e *Engine) CatchUp(ctx context.Context, tenantID string) error {
	st, err := e.Store.GetSyncState(ctx, tenantID)
	if err != nil {
		return err
	}
	if !st.PullEnabled || st.ConfigVersion == 0 {
		return e.Store.SetCatchUp(ctx, tenantID, false)
	}
	if e.Queue != nil {
		if err := e.Queue.EnqueuePull(ctx, tenantID, ModeIncremental, TriggerCatchUp, 0, time.Time{}); err != nil {
			return err
		}
		return e.Store.SetCatchUp(ctx, tenantID, false)
	}
	if err := e.RunPull(ctx, tenantID, ModeIncremental, TriggerCatchUp, 0); err != nil {
		return fmt.Errorf("catch-up pull: %w", err)
	}
	return e.Store.SetCatchUp(ctx, tenantID, false)
}
