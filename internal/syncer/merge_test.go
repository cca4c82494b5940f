package syncer_test

import (
	"testing"

	"github.com/sfsync/sfsync/internal/store"
	"github.com/sfsync/sfsync/internal/syncer"
)

// A linked Salesforce contact merged away follows MasterRecordId to the
// survivor when the survivor is linked to nobody: the platform contact
// keeps its link (now to the survivor) and takes the survivor's values;
// no second platform contact appears. Before, the merge read as a
// deletion: the link went and the survivor created a new contact.
func TestMergeFollowsSurvivor(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, d store.Dialect) {
		f := setup(t, d)
		loser := f.sfCreate(t, map[string]any{"LastName": "Amy", "Email": "amy@example.com"})
		f.save(t, emailConfig())
		run, _ := f.eng.StartInitialSync(f.ctx, f.Tenant.ID)
		f.pull(t, run, syncer.ModeFull)
		list, _ := f.Store.ListContacts(f.ctx, f.Tenant.ID, store.ContactFilter{Email: "amy@example.com"})
		if len(list) != 1 {
			t.Fatalf("platform contacts after the first sync: %+v", list)
		}
		c := list[0]
		survivor := f.sfCreate(t, map[string]any{"LastName": "Amy Lin", "Email": "amy.lin@example.com"})
		if err := f.Org.MergeContacts(survivor, loser); err != nil {
			t.Fatal(err)
		}
		next := f.syncNow(t)
		links, err := f.Store.LinksByContactID(f.ctx, f.Tenant.ID, []string{c.ID})
		if err != nil || links[c.ID].SalesforceID != survivor {
			t.Errorf("link of the platform contact %+v (%v), want the survivor %s", links[c.ID], err, survivor)
		}
		got, _ := f.Store.GetContact(f.ctx, f.Tenant.ID, c.ID)
		if got.Email != "amy.lin@example.com" || got.Name != "Amy Lin" {
			t.Errorf("platform contact %q %q, want the survivor's values", got.Name, got.Email)
		}
		if all, _ := f.Store.ListContacts(f.ctx, f.Tenant.ID, store.ContactFilter{}); len(all) != 1 {
			t.Errorf("%d platform contacts after the merge, want 1", len(all))
		}
		recs, _ := f.eng.RunRecords(f.ctx, f.Tenant.ID, next.ID, syncer.KindMerged, "", 10)
		if len(recs) != 1 || recs[0].SalesforceID != loser {
			t.Errorf("merge log %+v, want one entry for the merged-away record", recs)
		}
	})
}

// When the survivor is linked to another platform contact, nothing is
// merged on the platform: the merged-away record's link goes, both
// platform contacts stay, and the pair waits in the review queue.
func TestMergeIntoLinkedSurvivorIsHeld(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, d store.Dialect) {
		f := setup(t, d)
		a := f.sfCreate(t, map[string]any{"LastName": "Amy", "Email": "amy@example.com"})
		b := f.sfCreate(t, map[string]any{"LastName": "Amy Lin", "Email": "amy.lin@example.com"})
		f.save(t, emailConfig())
		run, _ := f.eng.StartInitialSync(f.ctx, f.Tenant.ID)
		f.pull(t, run, syncer.ModeFull)
		if err := f.Org.MergeContacts(b, a); err != nil {
			t.Fatal(err)
		}
		f.syncNow(t)
		if all, _ := f.Store.ListContacts(f.ctx, f.Tenant.ID, store.ContactFilter{}); len(all) != 2 {
			t.Errorf("%d platform contacts, want both kept", len(all))
		}
		if l, _ := f.Store.LinksBySalesforceID(f.ctx, f.Tenant.ID, []string{a, b}); len(l) != 1 || l[b].SalesforceID != b {
			t.Errorf("links %+v, want only the survivor's", l)
		}
		open, err := f.eng.ListReview(f.ctx, f.Tenant.ID, store.ReviewFilter{Status: store.ReviewOpen})
		if err != nil || len(open) != 1 || open[0].Kind != store.ReviewMerge || len(open[0].Candidates) != 1 || open[0].Candidates[0].SalesforceID != b {
			t.Fatalf("review items %+v (%v), want one merge item naming the survivor", open, err)
		}
		// Held once: the next run does not log it again.
		next := f.syncNow(t)
		if next.Counts.Ambiguous != 0 {
			t.Errorf("next run counts %+v, want nothing ambiguous", next.Counts)
		}
	})
}

// A merge that the next run to see is a full resync (not an incremental
// pull) is followed too: the full pass reads only live records, so the
// merged-away record never reaches a page. Before, the survivor was read
// as a newcomer (a second platform contact, or held against the pair) and
// the link to the merged-away record was dropped as a deletion.
func TestMergeFollowedByFullResync(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, d store.Dialect) {
		f := setup(t, d)
		loser := f.sfCreate(t, map[string]any{"LastName": "Amy", "Email": "amy@example.com"})
		f.save(t, emailConfig())
		run, _ := f.eng.StartInitialSync(f.ctx, f.Tenant.ID)
		f.pull(t, run, syncer.ModeFull)
		list, _ := f.Store.ListContacts(f.ctx, f.Tenant.ID, store.ContactFilter{Email: "amy@example.com"})
		if len(list) != 1 {
			t.Fatalf("platform contacts after the first sync: %+v", list)
		}
		c := list[0]
		survivor := f.sfCreate(t, map[string]any{"LastName": "Amy Lin", "Email": "amy.lin@example.com"})
		if err := f.Org.MergeContacts(survivor, loser); err != nil {
			t.Fatal(err)
		}
		full, err := f.eng.FullResync(f.ctx, f.Tenant.ID)
		if err != nil {
			t.Fatal(err)
		}
		f.pull(t, full, syncer.ModeFull)
		links, err := f.Store.LinksByContactID(f.ctx, f.Tenant.ID, []string{c.ID})
		if err != nil || links[c.ID].SalesforceID != survivor {
			t.Errorf("link of the platform contact %+v (%v), want the survivor %s", links[c.ID], err, survivor)
		}
		if all, _ := f.Store.ListContacts(f.ctx, f.Tenant.ID, store.ContactFilter{}); len(all) != 1 {
			t.Errorf("%d platform contacts after the merge and a full resync, want 1", len(all))
		}
		got, _ := f.Store.GetContact(f.ctx, f.Tenant.ID, c.ID)
		if got.Email != "amy.lin@example.com" {
			t.Errorf("platform contact e-mail %q, want the survivor's", got.Email)
		}
		recs, _ := f.eng.RunRecords(f.ctx, f.Tenant.ID, full.ID, syncer.KindMerged, "", 10)
		if len(recs) != 1 || recs[0].SalesforceID != loser {
			t.Errorf("merge log %+v, want one entry for the merged-away record", recs)
		}
		if un, _ := f.eng.RunRecords(f.ctx, f.Tenant.ID, full.ID, syncer.KindUnlinked, "", 10); len(un) != 0 {
			t.Errorf("unlinked entries %+v, want none (the record was merged, not deleted)", un)
		}
	})
}
