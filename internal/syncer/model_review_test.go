package syncer_test

// The model test's review queue and merges (issue 11, item 8): merges made
// in Salesforce, an admin's decisions on open review items, and the
// queue's invariants at the end. Kept apart from model_test.go because
// they need the review queue's API and the emulator's merge.

import (
	"errors"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sfsync/sfsync/internal/contact"
	"github.com/sfsync/sfsync/internal/store"
	"github.com/sfsync/sfsync/internal/syncer"
)

// mergeExpect is a merge of a linked Salesforce contact, checked at the
// next pull (incremental or full): the link follows an unlinked survivor; with a
// survivor linked to another platform contact, it is held as a merge item
// and both platform contacts are kept.
type mergeExpect struct {
	survivor, loser               string
	loserContact, survivorContact string // their platform contacts before the merge
	pushed                        bool   // a push ran before the pull
}

// adminLinkExpect is an admin's "link this record", checked at the next
// pull: the record is linked to the platform contact holding its value,
// or to a new one.
type adminLinkExpect struct {
	item store.ReviewItem
	sfID string
}

// fixExpect is a shared member number fixed in Salesforce, checked at the
// next pull: the one holder left syncs.
type fixExpect struct{ key string }

// merge merges two live Salesforce contacts as an admin does in
// Salesforce's UI: mostly two holders of one member number (duplicates),
// sometimes any two.
func (m *model) merge() {
	keys, holders := m.sharedMembers()
	if k := m.pick(keys); k != "" && m.chance(0.7) {
		h := holders[k]
		i := m.rng.IntN(len(h))
		j := (i + 1 + m.rng.IntN(len(h)-1)) % len(h)
		m.mergeInto(h[i], h[j])
		return
	}
	live := m.liveSF()
	slices.Sort(live)
	a, b := m.pick(live), m.pick(live)
	if a != "" && a != b {
		m.mergeInto(a, b)
	}
}

func (m *model) mergeInto(survivor, loser string) {
	r, _ := m.Org.Record(loser)
	err := m.Org.MergeContacts(survivor, loser)
	m.logf("sf merge %s (%v, linked to %q) into %s (linked to %q): %v", loser, r["Member_Number__c"], m.pairs[loser], survivor, m.pairs[survivor], err)
	if err != nil {
		return
	}
	m.n.merges++
	e := &mergeExpect{survivor: survivor, loser: loser, loserContact: m.pairs[loser], survivorContact: m.pairs[survivor]}
	m.mergedFrom[survivor] = append(m.mergedFrom[survivor], loser)
	if mem := strings.TrimSpace(sfString(r["Member_Number__c"])); mem != "" {
		m.sfDeletedMembers[mem] = true
	}
	if e.loserContact != "" {
		// Whether the survivor's phone (to the platform) replaces the
		// contact's depends on what the loser's link had synced: the model
		// does not predict it.
		m.phoneLoose[e.loserContact] = true
		m.deletedPairs[e.loserContact] = loser
		m.merges = append(m.merges, e)
	}
	m.touch(loser, e.loserContact)
	m.touch(survivor, e.survivorContact)
	delete(m.decided, loser)
}

// followedMerge reports whether the new link s → c is a link of a record
// merged into s (at any depth) that moved to it.
func (m *model) followedMerge(s, c string, old map[string]string) bool {
	for _, l := range m.mergedFrom[s] {
		if old[l] == c || m.followedMerge(l, c, old) {
			return true
		}
	}
	return false
}

// openItems returns every open review item.
func (m *model) openItems() []store.ReviewItem {
	var out []store.ReviewItem
	for before := int64(0); ; {
		page, err := m.eng.ListReview(m.ctx, m.Tenant.ID, store.ReviewFilter{Status: store.ReviewOpen, Limit: 500, BeforeID: before})
		if err != nil {
			m.t.Fatal(err)
		}
		out = append(out, page...)
		if len(page) < 500 {
			return out
		}
		before = page[len(page)-1].ID
	}
}

// newestRun is the ID of the newest run, either direction.
func (m *model) newestRun() int64 {
	runs, err := m.Store.ListRuns(m.ctx, m.Tenant.ID, "", 1, 0)
	if err != nil || len(runs) == 0 {
		return 0
	}
	return runs[0].ID
}

// resolve resolves an open review item as an admin: link one candidate,
// keep them apart, or ignore them.
func (m *model) resolve() {
	items := m.openItems()
	if len(items) == 0 {
		return
	}
	slices.SortFunc(items, func(a, b store.ReviewItem) int { return int(a.ID - b.ID) })
	it := items[m.rng.IntN(len(items))]
	res := store.ResolutionApart
	sfID := ""
	// Linking a newcomer to a platform contact already linked to another
	// record is not honoured by the engine (the record is held again in a
	// new item: TestModelBugAdminLinkOfNewcomerHeldAgain); the model does
	// not ask for it.
	pairOf := ""
	if it.Kind == store.ReviewIdentity && it.ContactID != "" {
		pairOf = m.sfOf(it.ContactID)
	}
	switch r := m.rng.IntN(4); {
	case r < 2 && len(it.Candidates) > 0:
		res = store.ResolutionLinked
		sfID = it.Candidates[m.rng.IntN(len(it.Candidates))].SalesforceID
		if _, ok := it.Candidate(pairOf); ok {
			sfID = pairOf // the one the engine can honour
		} else if pairOf != "" {
			res, sfID = store.ResolutionApart, ""
		}
	case r == 3:
		res = store.ResolutionIgnored
	}
	mark := m.newestRun()
	_, err := m.eng.ResolveReview(m.ctx, m.Tenant.ID, it.ID, res, sfID, "u_admin")
	var ids []string
	for _, c := range it.Candidates {
		ids = append(ids, c.SalesforceID)
	}
	m.logf("review: item %d (%s %q, contact %q, candidates %v) resolved %s %s: %v", it.ID, it.Kind, it.IdentityKey, it.ContactID, ids, res, sfID, err)
	if errors.Is(err, syncer.ErrReviewLinkTaken) && it.ContactID != "" {
		return // a newcomer against a linked pair cannot be linked: refused, nothing changes
	}
	if err != nil {
		m.t.Errorf("ResolveReview(item %d, %s, %q): %v", it.ID, res, sfID, err)
		return
	}
	m.n.resolves++
	for _, c := range it.Candidates {
		d := store.ResolutionApart
		switch {
		case res == store.ResolutionIgnored:
			d = store.ResolutionIgnored
		case res == store.ResolutionLinked && c.SalesforceID == sfID:
			d = store.ResolutionLinked
		}
		m.decided[c.SalesforceID] = d
		m.decidedRun[c.SalesforceID] = mark
		m.decidedLinked[c.SalesforceID] = m.pairs[c.SalesforceID] != ""
	}
	if res == store.ResolutionLinked {
		m.adminLinks = append(m.adminLinks, &adminLinkExpect{item: it, sfID: sfID})
	}
}

// checkReviewExpectations checks, after a sync step that pulled, the
// outcomes of merges, admin links and fixes made before it.
func (m *model) checkReviewExpectations() {
	t := m.t
	sf := m.sfRecords()
	pf := m.pfContacts()
	failing := map[string]bool{}
	retries, err := m.Store.DuePullRetries(m.ctx, m.Tenant.ID, m.clock.Now().Add(1000*time.Hour), 100000)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range retries {
		failing[r.SalesforceID] = true
	}
	memberLinked := func(key, except string) bool {
		for cid, c := range pf {
			if c.MemberID == key && m.sfOf(cid) != "" && m.sfOf(cid) != except {
				return true
			}
		}
		return false
	}
	var open []store.ReviewItem
	if len(m.merges)+len(m.fixes) > 0 {
		open = m.openItems()
	}
	for _, e := range m.merges {
		_, live := sf[e.survivor]
		if !live || m.pfDeleted[e.loserContact] {
			continue
		}
		m.n.reviewChecked++
		if e.survivorContact == "" {
			if got := m.pairs[e.survivor]; got != e.loserContact {
				t.Errorf("%s was merged into %s in Salesforce: platform contact %s should now be linked to the survivor, which is linked to %q", e.loser, e.survivor, e.loserContact, got)
			}
			continue
		}
		if got := m.pairs[e.survivor]; got != e.survivorContact {
			t.Errorf("%s was merged into %s, which is linked to platform contact %s: that link should stay, the survivor is linked to %q", e.loser, e.survivor, e.survivorContact, got)
		}
		held := false
		for _, it := range open {
			if _, ok := it.Candidate(e.survivor); ok && it.Kind == store.ReviewMerge && it.ContactID == e.loserContact {
				held = true
			}
		}
		if !held {
			t.Errorf("%s (linked to %s) was merged into %s (linked to %s): want an open merge review item for %s, none found", e.loser, e.loserContact, e.survivor, e.survivorContact, e.loserContact)
		}
	}
	m.merges = nil
	for _, e := range m.adminLinks {
		v, ok := sf[e.sfID]
		if !ok || v.Member != e.item.IdentityKey || failing[e.sfID] || memberLinked(v.Member, e.sfID) {
			continue // changed since, failing for another reason, or the value's contact is linked elsewhere
		}
		m.n.reviewChecked++
		cid := m.pairs[e.sfID]
		if cid == "" {
			t.Errorf("an admin linked Salesforce contact %s (review item %d, %q): it is not linked after the next pull", e.sfID, e.item.ID, e.item.IdentityKey)
			continue
		}
		if c := pf[cid]; c.MemberID != v.Member {
			t.Errorf("an admin linked Salesforce contact %s (%q): linked to platform contact %s, whose member ID is %q", e.sfID, v.Member, cid, c.MemberID)
		}
	}
	m.adminLinks = nil
	for _, e := range m.fixes {
		var h []string
		for _, id := range slices.Sorted(maps.Keys(sf)) {
			if sf[id].Member == e.key {
				h = append(h, id)
			}
		}
		if len(h) != 1 || m.decided[h[0]] != "" || failing[h[0]] || memberLinked(e.key, h[0]) || m.pfDeletedMembers[e.key] {
			continue // (a record whose platform contact was deleted syncs again when it changes)
		}
		m.n.reviewChecked++
		if m.pairs[h[0]] == "" {
			t.Errorf("member number %q was fixed in Salesforce (one holder left, %s): it should sync at the next pull, it is not linked", e.key, h[0])
		}
	}
	m.fixes = nil
}

// reviewExempt reports Salesforce contacts the engine rightly leaves
// unsynced: held in an open review item, or kept apart or ignored by an
// admin.
func (m *model) reviewExempt(open []store.ReviewItem) func(sfID string) bool {
	held := map[string]bool{}
	for _, it := range open {
		for _, c := range it.Candidates {
			held[c.SalesforceID] = true
		}
	}
	return func(id string) bool {
		d := m.decided[id]
		return held[id] || d == store.ResolutionApart || d == store.ResolutionIgnored
	}
}

// checkReview checks the review queue of a settled sync:
//   - every member number several undecided live Salesforce contacts share
//     is one open item, holding each of them that is unlinked;
//   - no open item is stale (its value no longer shared, its merge gone);
//   - the admin's decisions are the ones remembered, and records kept apart
//     or ignored are neither linked since nor logged again;
//   - a settled sync's pulls hold nothing anew: not partially failed
//     because of records held already.
func (m *model) checkReview(sf map[string]sfView, pf map[string]contact.Contact, full syncer.Run, open []store.ReviewItem) {
	t := m.t
	holders := map[string][]string{}
	for _, id := range slices.Sorted(maps.Keys(sf)) {
		if v := sf[id].Member; v != "" {
			holders[v] = append(holders[v], id)
		}
	}
	byKey := map[string]store.ReviewItem{}
	for _, it := range open {
		if it.Kind != store.ReviewIdentity {
			if len(it.Candidates) == 0 {
				t.Errorf("open merge review item %d holds no candidate", it.ID)
			}
			for _, c := range it.Candidates {
				if _, ok := sf[c.SalesforceID]; !ok {
					t.Errorf("open merge review item %d: its survivor %s is deleted, the item should be released", it.ID, c.SalesforceID)
				}
			}
			continue
		}
		if prev, dup := byKey[it.IdentityKey]; dup {
			t.Errorf("member number %q is held by two open review items, %d and %d", it.IdentityKey, prev.ID, it.ID)
		}
		byKey[it.IdentityKey] = it
		var undecided, unlinked []string
		for _, id := range holders[it.IdentityKey] {
			if m.decided[id] == "" {
				undecided = append(undecided, id)
				if m.pairs[id] == "" {
					unlinked = append(unlinked, id)
				}
			}
		}
		linkedElsewhere := false
		for s, cid := range m.pairs { // sfID → contactID
			if c, ok := pf[cid]; ok && c.MemberID == it.IdentityKey && !slices.Contains(holders[it.IdentityKey], s) {
				linkedElsewhere = true
			}
		}
		if len(unlinked) == 0 || (len(undecided) < 2 && !linkedElsewhere && !m.heldAgainstLinkedPair(it, holders)) {
			var ids []string
			for _, c := range it.Candidates {
				ids = append(ids, c.SalesforceID)
			}
			t.Errorf("stale open review item %d: member number %q, candidates %v, contact %q; live holders %v (undecided %v, unlinked undecided %v)",
				it.ID, it.IdentityKey, ids, it.ContactID, holders[it.IdentityKey], undecided, unlinked)
		}
	}
	for _, k := range slices.Sorted(maps.Keys(holders)) {
		var undecided []string
		for _, id := range holders[k] {
			if m.decided[id] == "" {
				undecided = append(undecided, id)
			}
		}
		if len(undecided) < 2 {
			continue
		}
		it, ok := byKey[k]
		for _, id := range undecided {
			if m.pairs[id] != "" {
				continue
			}
			if _, held := it.Candidate(id); !ok || !held {
				t.Errorf("member number %q is shared by %v: unlinked Salesforce contact %s is not held in an open review item (item %d)", k, holders[k], id, it.ID)
			}
		}
	}
	// The engine remembers what the model's admin decided.
	ids := slices.Sorted(maps.Keys(m.decided))
	stored, err := m.Store.ReviewDecisions(m.ctx, m.Tenant.ID, ids)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		if _, live := sf[id]; live && stored[id] != m.decided[id] {
			t.Errorf("Salesforce contact %s: the admin decided %q, the engine remembers %q", id, m.decided[id], stored[id])
		}
	}
	// Records kept apart or ignored are not linked since, nor logged again.
	for id, d := range m.decided {
		if _, live := sf[id]; live && (d == store.ResolutionApart || d == store.ResolutionIgnored) && !m.decidedLinked[id] && len(m.mergedFrom[id]) == 0 && m.pairs[id] != "" {
			t.Errorf("Salesforce contact %s, %s by an admin while unlinked, is now linked to %s", id, d, m.pairs[id])
		}
	}
	var first int64 = -1
	for id, d := range m.decided {
		if d != store.ResolutionLinked && (first < 0 || m.decidedRun[id] < first) {
			first = m.decidedRun[id]
		}
	}
	if first >= 0 {
		for before := int64(0); ; {
			runs, err := m.Store.ListRuns(m.ctx, m.Tenant.ID, "", 500, before)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range runs {
				before = r.ID
				if r.ID <= first {
					continue
				}
				for _, rec := range m.runRecords(r.ID, "") {
					d := m.decided[rec.SalesforceID]
					if (d == store.ResolutionApart || d == store.ResolutionIgnored) && r.ID > m.decidedRun[rec.SalesforceID] && !m.decidedLinked[rec.SalesforceID] && len(m.mergedFrom[rec.SalesforceID]) == 0 && rec.Kind != syncer.KindUnlinked {
						t.Errorf("Salesforce contact %s, %s by an admin, was logged again by run %d: %s %s %s", rec.SalesforceID, d, r.ID, rec.Kind, rec.ReasonCode, rec.Reason)
					}
				}
			}
			if len(runs) < 500 || before <= first {
				break
			}
		}
	}
	// A settled sync holds nothing anew.
	var what []string
	for _, r := range m.runRecords(full.ID, syncer.KindAmbiguous) {
		if m.pfDeletedMembers[sf[r.SalesforceID].Member] {
			// Its platform contact was deleted: an unchanged record is read
			// again (and found held) only by a full pass.
			continue
		}
		if strings.Contains(r.Reason, "already linked to another Salesforce contact") {
			// A newcomer held against a pair whose Salesforce record left
			// the value while the platform contact kept it (its update was
			// refused): held, the safe side, but by the full pass only.
			m.logf("known engine limit: the settled full resync holds %s against a pair the platform did not follow: %s", r.SalesforceID, r.Reason)
			continue
		}
		what = append(what, r.SalesforceID+" ("+r.Reason+"; "+r.Detail+")")
	}
	if len(what) > 0 {
		t.Errorf("the full resync of a settled sync holds %d records the incremental pulls did not: %s", len(what), strings.Join(what, ", "))
	}
}

// heldAgainstLinkedPair reports an item that holds a newcomer against an
// already linked pair: its platform contact is linked to a live record
// that still holds the value.
func (m *model) heldAgainstLinkedPair(it store.ReviewItem, holders map[string][]string) bool {
	if it.ContactID == "" {
		return false
	}
	s := m.sfOf(it.ContactID)
	return s != "" && slices.Contains(holders[it.IdentityKey], s)
}

// Minimal scenarios the model test found in the decision core and review
// queue of issue 11, each failing on the engine as first merged and kept
// as a regression test.

// heldNewcomer syncs A (M1) to the platform, then creates B with the same
// member number and pulls: B is held against the linked pair.
func heldNewcomer(t *testing.T) (f *mfix, a, b string, p contact.Contact) {
	f, a, p = bugPair(t, map[string]any{"LastName": "Amy", "Member_Number__c": "M1"})
	b, err := f.Org.CreateAsHuman(map[string]any{"LastName": "Ann", "Member_Number__c": "M1"})
	if err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(time.Minute)
	if err := f.runPull(f.ctx, syncer.ModeIncremental, syncer.TriggerScheduled, 0); err != nil {
		t.Fatal(err)
	}
	open, err := f.eng.ListReview(f.ctx, f.Tenant.ID, store.ReviewFilter{Status: store.ReviewOpen})
	if err != nil || len(open) != 1 || len(open[0].Candidates) != 1 || open[0].Candidates[0].SalesforceID != b {
		t.Fatalf("open review items after the newcomer's pull: %+v (%v), want one holding %s", open, err, b)
	}
	f.clock.Advance(time.Minute)
	return f, a, b, p
}

// A newcomer is held against a linked pair; a full resync then finds the
// same shared value in its census, adds the linked record to the item and
// logs it as newly held: the run is partially failed though nothing new
// happened, and the linked record (which keeps syncing) reads as held.
func TestModelBugCensusHoldsLinkedRecords(t *testing.T) {
	f, a, _, _ := heldNewcomer(t)
	run, err := f.eng.FullResync(f.ctx, f.Tenant.ID)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.runPull(f.ctx, syncer.ModeFull, run.Trigger, run.ID); err != nil {
		t.Fatal(err)
	}
	got, _ := f.eng.GetRun(f.ctx, f.Tenant.ID, run.ID)
	if got.Counts.Ambiguous != 0 || got.Status != syncer.StatusSucceeded {
		t.Errorf("full resync after the newcomer was held: %s %+v, want succeeded with nothing newly held", got.Status, got.Counts)
	}
	open, _ := f.eng.ListReview(f.ctx, f.Tenant.ID, store.ReviewFilter{Status: store.ReviewOpen})
	for _, it := range open {
		if _, ok := it.Candidate(a); ok {
			t.Errorf("review item %d holds %s, which is linked and syncs", it.ID, a)
		}
	}
}

// A newcomer is held against a linked pair; Salesforce merges the linked
// record into the newcomer. The link follows to the survivor — and the
// survivor stays a candidate of its open item, which no longer holds
// anything back: a stale item in the admin's queue, never released.
func TestModelBugMergeLeavesSurvivorHeld(t *testing.T) {
	f, a, b, p := heldNewcomer(t)
	if err := f.Org.MergeContacts(b, a); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(time.Minute)
	if err := f.runPull(f.ctx, syncer.ModeIncremental, syncer.TriggerScheduled, 0); err != nil {
		t.Fatal(err)
	}
	links, _ := f.Store.LinksBySalesforceID(f.ctx, f.Tenant.ID, []string{b})
	if links[b].ContactID != p.ID {
		t.Fatalf("after the merge, %s is linked to %q, want %s (the link follows)", b, links[b].ContactID, p.ID)
	}
	if n, _ := f.eng.CountOpenReview(f.ctx, f.Tenant.ID); n != 0 {
		open, _ := f.eng.ListReview(f.ctx, f.Tenant.ID, store.ReviewFilter{Status: store.ReviewOpen})
		t.Errorf("%d open review items after the merge, want none (the survivor is linked): %+v", n, open)
	}
}

// A newcomer is held against a linked pair; Salesforce fixes it by giving
// the linked record another member number. Nothing else holds the
// newcomer's value now, but it is not released in that run (nor the
// next): only the item's candidates are looked at, and the linked record
// is not one of them.
func TestModelBugNewcomerNotReleasedWhenPairLeavesValue(t *testing.T) {
	f, a, b, _ := heldNewcomer(t)
	if err := f.Org.ModifyAsHuman(a, map[string]any{"Member_Number__c": "M2"}); err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		f.clock.Advance(time.Minute)
		if err := f.runPull(f.ctx, syncer.ModeIncremental, syncer.TriggerScheduled, 0); err != nil {
			t.Fatal(err)
		}
		links, _ := f.Store.LinksBySalesforceID(f.ctx, f.Tenant.ID, []string{b})
		if links[b].ContactID == "" {
			n, _ := f.eng.CountOpenReview(f.ctx, f.Tenant.ID)
			t.Errorf("pull %d after %s left M1: %s, the only holder of M1 now, is not linked (%d open review items)", i+1, a, b, n)
		}
	}
}

// A newcomer is held against a linked pair, and an admin resolves the item
// by linking the newcomer. The engine cannot honour it (the platform
// contact holding the value is linked to the other record, and links are
// never re-pointed), yet ResolveReview accepts it; the next pull holds the
// newcomer again in a new open item and logs it again, so the admin's
// decision comes back as a fresh ambiguity. The decision should be
// refused, or honoured — not silently undone.
func TestModelBugAdminLinkOfNewcomerHeldAgain(t *testing.T) {
	f, _, b, _ := heldNewcomer(t)
	open, _ := f.eng.ListReview(f.ctx, f.Tenant.ID, store.ReviewFilter{Status: store.ReviewOpen})
	if _, err := f.eng.ResolveReview(f.ctx, f.Tenant.ID, open[0].ID, store.ResolutionLinked, b, "u_admin"); err != nil {
		return // refused: fine
	}
	if err := f.runPull(f.ctx, syncer.ModeIncremental, syncer.TriggerScheduled, 0); err != nil {
		t.Fatal(err)
	}
	run := f.lastRun(syncer.DirToPlatform)
	again, _ := f.eng.ListReview(f.ctx, f.Tenant.ID, store.ReviewFilter{Status: store.ReviewOpen})
	if run.Counts.Ambiguous != 0 || len(again) != 0 {
		t.Errorf("after the admin linked %s: pull %s %+v, open items %+v; want the decision honoured or refused, not held and logged again", b, run.Status, run.Counts, again)
	}
}

// A linked Salesforce record is merged into an unlinked one, and the
// platform contact changes before the next pull. The push looks the link
// up with query (not queryAll), finds no record, treats the merge as a
// deletion and drops the link; the pull then sees the merged-away record
// with no link to follow, and the survivor — with another member number
// here — creates a second platform contact for the same person.
func TestModelBugPushDropsLinkOfMergedRecord(t *testing.T) {
	f, a, p := bugPair(t, map[string]any{"LastName": "Amy", "Member_Number__c": "M1"})
	b, err := f.Org.CreateAsHuman(map[string]any{"LastName": "Amy", "Member_Number__c": "M9"})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Org.MergeContacts(b, a); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(time.Minute)
	if _, _, err := f.Store.UpdateContact(f.ctx, f.Tenant.ID, p.ID, contact.Input{Email: contact.Some("amy@example.com")}, contact.OriginAPI); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(time.Minute)
	if err := f.runPush(f.ctx); err != nil {
		t.Fatal(err)
	}
	if err := f.runPull(f.ctx, syncer.ModeIncremental, syncer.TriggerScheduled, 0); err != nil {
		t.Fatal(err)
	}
	links, _ := f.Store.LinksBySalesforceID(f.ctx, f.Tenant.ID, []string{b})
	if links[b].ContactID != p.ID {
		all, _ := f.Store.ListContacts(f.ctx, f.Tenant.ID, store.ContactFilter{Limit: 10})
		t.Errorf("%s was merged into %s: want platform contact %s linked to the survivor, got %q; platform contacts %d", a, b, p.ID, links[b].ContactID, len(all))
	}
}

// A newcomer is held against a linked pair; the pair's platform contact is
// then deleted. The next pull that reads the linked record treats it as
// unmatched and creates a new platform contact for it — on the value the
// held newcomer shares, without the uniqueness check the unlinked records
// of the page get.
func TestModelBugRecreateOnSharedValue(t *testing.T) {
	f, a, _, p := heldNewcomer(t)
	if err := f.Store.DeleteContact(f.ctx, f.Tenant.ID, p.ID, contact.OriginAPI); err != nil {
		t.Fatal(err)
	}
	if err := f.Org.ModifyAsHuman(a, map[string]any{"LastName": "Amy Lin"}); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(time.Minute)
	if err := f.runPull(f.ctx, syncer.ModeIncremental, syncer.TriggerScheduled, 0); err != nil {
		t.Fatal(err)
	}
	if list, _ := f.Store.ListContacts(f.ctx, f.Tenant.ID, store.ContactFilter{MemberID: "M1"}); len(list) != 0 {
		t.Errorf("platform contacts with M1 after the pull: %+v; want none while two Salesforce contacts share M1", list)
	}
}

// A newcomer is held against a linked pair; the pair's Salesforce record
// is then deleted, and the next run is a full resync. The full pass finds
// the deletion among the links it did not see and unlinks the pair, but
// left the newcomer held against a platform contact no other record holds
// any more: its item stayed open until an admin came (make soak, seed
// 1796625578912603065). An incremental pull releases it; so must a full
// pass, and the newcomer then matches the unlinked platform contact.
func TestModelBugFullPassDeletionKeepsNewcomerHeld(t *testing.T) {
	f, a, b, p := heldNewcomer(t)
	if err := f.Org.DeleteAsHuman(a); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(time.Minute)
	run, err := f.eng.FullResync(f.ctx, f.Tenant.ID)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.runPull(f.ctx, syncer.ModeFull, run.Trigger, run.ID); err != nil {
		t.Fatal(err)
	}
	open, _ := f.eng.ListReview(f.ctx, f.Tenant.ID, store.ReviewFilter{Status: store.ReviewOpen})
	if len(open) != 0 {
		t.Errorf("after %s was deleted and a full pass unlinked it: %d open review items %+v, want the newcomer %s released", a, len(open), open, b)
	}
	f.clock.Advance(time.Minute)
	if err := f.runPull(f.ctx, syncer.ModeIncremental, syncer.TriggerScheduled, 0); err != nil {
		t.Fatal(err)
	}
	links, _ := f.Store.LinksBySalesforceID(f.ctx, f.Tenant.ID, []string{b})
	if links[b].ContactID != p.ID {
		t.Errorf("the pull after the release: %s linked to %q, want %s (the only platform contact holding M1)", b, links[b].ContactID, p.ID)
	}
}

// A linked pair's Salesforce record leaves its member number (edited to
// another) and, in the same pull page, a newcomer arrives with the old
// number. The platform contact still held the number when the page was
// matched, so the newcomer was held against the pair; the release of
// newcomers freed by the pair had already run, and the newcomer stayed
// held until an admin came, though after the page no one else holds its
// value (make soak; tolerated before as a "known engine limit"). It must
// be read again once the page is applied, and sync.
func TestModelBugNewcomerHeldInPagePairLeaves(t *testing.T) {
	f, a, p := bugPair(t, map[string]any{"LastName": "Amy", "Member_Number__c": "M1"})
	if err := f.Org.ModifyAsHuman(a, map[string]any{"Member_Number__c": "M2"}); err != nil {
		t.Fatal(err)
	}
	b, err := f.Org.CreateAsHuman(map[string]any{"LastName": "Ann", "Member_Number__c": "M1"})
	if err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(time.Minute)
	if err := f.runPull(f.ctx, syncer.ModeIncremental, syncer.TriggerScheduled, 0); err != nil {
		t.Fatal(err)
	}
	open, _ := f.eng.ListReview(f.ctx, f.Tenant.ID, store.ReviewFilter{Status: store.ReviewOpen})
	links, _ := f.Store.LinksBySalesforceID(f.ctx, f.Tenant.ID, []string{a, b})
	pa, err := f.Store.GetContact(f.ctx, f.Tenant.ID, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if links[a].ContactID != p.ID || pa.MemberID != "M2" {
		t.Fatalf("%s left M1 for M2: linked to %q, platform member ID %q; want still %s, M2", a, links[a].ContactID, pa.MemberID, p.ID)
	}
	if len(open) != 0 || links[b].ContactID == "" || links[b].ContactID == p.ID {
		t.Errorf("after one pull: %d open review items, %s (the only holder of M1 now) linked to %q; want none open and %s linked to a contact of its own", len(open), b, links[b].ContactID, b)
	}
}

// A newcomer is held against a linked pair; then the platform contact's
// member ID is changed and pushed, which moves the linked Salesforce
// record off the value. No other record holds it now, but the push never
// looked at the held newcomer and the pull sees its own write: the item
// stayed open until an admin came (found by the per-object model test,
// seed 3). Whichever side moves the pair off the value, the newcomer is
// released and syncs.
func TestModelBugNewcomerHeldAfterPushMovesPair(t *testing.T) {
	f, a, b, p := heldNewcomer(t)
	if _, _, err := f.Store.UpdateContact(f.ctx, f.Tenant.ID, p.ID, contact.Input{MemberID: contact.Some("M2")}, contact.OriginAPI); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(time.Minute)
	if err := f.runPush(f.ctx); err != nil {
		t.Fatal(err)
	}
	if rec, _ := f.Org.Record(a); sfString(rec["Member_Number__c"]) != "M2" {
		t.Fatalf("after the push %s holds %v, want M2", a, rec["Member_Number__c"])
	}
	for range 2 {
		f.clock.Advance(time.Minute)
		if err := f.runPull(f.ctx, syncer.ModeIncremental, syncer.TriggerScheduled, 0); err != nil {
			t.Fatal(err)
		}
	}
	open, _ := f.eng.ListReview(f.ctx, f.Tenant.ID, store.ReviewFilter{Status: store.ReviewOpen})
	links, _ := f.Store.LinksBySalesforceID(f.ctx, f.Tenant.ID, []string{b})
	if len(open) != 0 || links[b].ContactID == "" || links[b].ContactID == p.ID {
		t.Errorf("after the pair moved to M2 by a push: %d open review items, %s (the only holder of M1) linked to %q; want none open and %s synced to a contact of its own", len(open), b, links[b].ContactID, b)
	}
}
