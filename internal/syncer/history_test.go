package syncer_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/sfsync/sfsync/internal/contact"
	"github.com/sfsync/sfsync/internal/store"
	"github.com/sfsync/sfsync/internal/syncer"
)

// change finds the newest recorded change of a Salesforce field in a
// contact's history, with its entry.
func change(h syncer.ContactHistory, sfField string) (store.FieldHistoryEntry, store.FieldChange, bool) {
	for _, en := range h.Entries {
		for _, ch := range en.Changes {
			if ch.SFField == sfField {
				return en, ch, true
			}
		}
	}
	return store.FieldHistoryEntry{}, store.FieldChange{}, false
}

// TestFieldHistory (Y3): every value the pull and the push write is
// recorded with its side, the value it replaced, the run and the rule
// that decided a conflict; the history is pruned after its retention.
func TestFieldHistory(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, d store.Dialect) {
		f := setup(t, d)
		a := f.sfCreate(t, map[string]any{"LastName": "Amy", "Member_Number__c": "M1", "Email": "amy@example.com"})
		f.save(t, memberConfig())
		run, _ := f.eng.StartInitialSync(f.ctx, f.Tenant.ID)
		first := f.pull(t, run, syncer.ModeFull)
		amy := f.platform(t, "M1")

		h, err := f.eng.ContactHistory(f.ctx, f.Tenant.ID, amy.ID, 0)
		if err != nil {
			t.Fatal(err)
		}
		if !h.Linked || h.SalesforceID != a {
			t.Fatalf("link: got linked %v to %q, want %s", h.Linked, h.SalesforceID, a)
		}
		en, ch, ok := change(h, "LastName")
		if !ok || en.RunID != first.ID || ch.Side != syncer.SideSalesforce || ch.Value != "Amy" || !ch.Created {
			t.Fatalf("first sync's LastName: got %+v in %+v, want Amy from Salesforce, created, run %d", ch, en, first.ID)
		}
		if h.LastPull == nil || h.LastPull.RunID != first.ID {
			t.Errorf("last pull: got %+v, want run %d", h.LastPull, first.ID)
		}

		// Salesforce changes the name: a dry run records nothing; the
		// pull records the change with the old value.
		if err := f.Org.ModifyAsHuman(a, map[string]any{"LastName": "Amy Chen"}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.eng.DryRun(f.ctx, f.Tenant.ID, memberConfig()); err != nil {
			t.Fatal(err)
		}
		if h2, _ := f.eng.ContactHistory(f.ctx, f.Tenant.ID, amy.ID, 0); len(h2.Entries) != len(h.Entries) {
			t.Errorf("a dry run recorded history: %d entries, want %d", len(h2.Entries), len(h.Entries))
		}
		inc := f.syncNow(t)
		h, _ = f.eng.ContactHistory(f.ctx, f.Tenant.ID, amy.ID, 0)
		en, ch, _ = change(h, "LastName")
		if en.RunID != inc.ID || ch.Value != "Amy Chen" || ch.Old != "Amy" || ch.Side != syncer.SideSalesforce || ch.Created || ch.Rule != "" {
			t.Errorf("Salesforce edit: got %+v in run %d, want Amy → Amy Chen from Salesforce in run %d, no rule", ch, en.RunID, inc.ID)
		}

		// A platform edit is pushed: recorded in the push run, platform side.
		if _, _, err := f.Store.UpdateContact(f.ctx, f.Tenant.ID, amy.ID, contact.Input{Name: contact.Some("Amy Lin")}, contact.OriginAPI); err != nil {
			t.Fatal(err)
		}
		if err := f.eng.RunPush(f.ctx, f.Tenant.ID); err != nil {
			t.Fatal(err)
		}
		h, _ = f.eng.ContactHistory(f.ctx, f.Tenant.ID, amy.ID, 0)
		en, ch, _ = change(h, "LastName")
		if en.Direction != syncer.DirToSalesforce || ch.Side != syncer.SidePlatform || ch.Value != "Amy Lin" || ch.Old != "Amy Chen" {
			t.Errorf("push: got %+v (%s), want Amy Chen → Amy Lin from the platform, to Salesforce", ch, en.Direction)
		}
		if h.LastPush == nil || h.LastPush.RunID != en.RunID {
			t.Errorf("last push: got %+v, want run %d", h.LastPush, en.RunID)
		}

		// Both sides change the e-mail; the newer platform value wins,
		// and the rule that decided is recorded.
		f.Emu.Advance(time.Minute)
		if err := f.Org.ModifyAsHuman(a, map[string]any{"Email": "amy.sf@example.com"}); err != nil {
			t.Fatal(err)
		}
		f.Store.Now = func() time.Time { return time.Now().Add(2 * time.Minute) }
		if _, _, err := f.Store.UpdateContact(f.ctx, f.Tenant.ID, amy.ID, contact.Input{Email: contact.Some("amy.pf@example.com")}, contact.OriginAPI); err != nil {
			t.Fatal(err)
		}
		f.Store.Now = time.Now
		inc = f.syncNow(t)
		h, _ = f.eng.ContactHistory(f.ctx, f.Tenant.ID, amy.ID, 0)
		en, ch, _ = change(h, "Email")
		if en.RunID != inc.ID || ch.Rule != "conflict_newest_wins" || ch.Side != syncer.SidePlatform || ch.Value != "amy.pf@example.com" {
			t.Errorf("conflict: got %+v in run %d, want the platform's amy.pf@example.com by conflict_newest_wins in run %d", ch, en.RunID, inc.ID)
		}

		// Pruning: nothing is younger than a day ago, all is older than tomorrow.
		if n, err := f.Store.PruneFieldHistory(f.ctx, time.Now().Add(-24*time.Hour)); err != nil || n != 0 {
			t.Errorf("prune of a day ago: got %d, %v; want 0", n, err)
		}
		f.eng.Now = func() time.Time { return time.Now().Add(91 * 24 * time.Hour) }
		if err := f.eng.Maintain(f.ctx); err != nil {
			t.Fatal(err)
		}
		if h, _ = f.eng.ContactHistory(f.ctx, f.Tenant.ID, amy.ID, 0); len(h.Entries) != 0 {
			t.Errorf("after 91 days: %d entries left, want 0 (90-day retention)", len(h.Entries))
		}
	})
}

// TestResyncContact: "resync this contact" reads the linked record by Id
// and applies it in a run of its own, then pushes the platform side.
func TestResyncContact(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, d store.Dialect) {
		f := setup(t, d)
		a := f.sfCreate(t, map[string]any{"LastName": "Amy", "Member_Number__c": "M1", "Email": "amy@example.com"})
		f.save(t, memberConfig())
		run, _ := f.eng.StartInitialSync(f.ctx, f.Tenant.ID)
		f.pull(t, run, syncer.ModeFull)
		amy := f.platform(t, "M1")
		// A Salesforce edit the poll has not seen yet, and a platform edit
		// to another field whose push was lost (written without an outbox
		// entry).
		if err := f.Org.ModifyAsHuman(a, map[string]any{"LastName": "Amy Chen"}); err != nil {
			t.Fatal(err)
		}
		if _, _, err := f.Store.UpdateContact(f.ctx, f.Tenant.ID, amy.ID, contact.Input{Birthday: contact.Some("1990-02-03")}, contact.OriginSalesforce); err != nil {
			t.Fatal(err)
		}
		if err := f.eng.RunPush(f.ctx, f.Tenant.ID); err != nil {
			t.Fatal(err)
		}
		if r, _ := f.Org.Record(a); r["Birthdate"] != nil {
			t.Fatalf("Salesforce Birthdate before the resync: got %v, want none (nothing asked for a push)", r["Birthdate"])
		}
		res, err := f.eng.ResyncContact(f.ctx, f.Tenant.ID, amy.ID)
		if err != nil {
			t.Fatal(err)
		}
		if res.PullRun.Trigger != syncer.TriggerContactResync || res.PullRun.Status != syncer.StatusSucceeded || res.PullRun.Counts.Scanned != 1 || !res.PushQueued {
			t.Fatalf("resync: got %+v, want a succeeded one-record run and a queued push", res)
		}
		if got := f.platform(t, "M1").Name; got != "Amy Chen" {
			t.Errorf("platform name after resync: got %q, want Amy Chen", got)
		}
		if err := f.eng.RunPush(f.ctx, f.Tenant.ID); err != nil {
			t.Fatal(err)
		}
		if r, _ := f.Org.Record(a); !strings.HasPrefix(fmt.Sprint(r["Birthdate"]), "1990-02-03") {
			t.Errorf("Salesforce Birthdate after resync: got %v, want 1990-02-03", r["Birthdate"])
		}
		// The cursor did not move: the next poll still reads the edit.
		h, _ := f.eng.ContactHistory(f.ctx, f.Tenant.ID, amy.ID, 0)
		if en, _, _ := change(h, "LastName"); en.RunID != res.PullRun.ID {
			t.Errorf("history of the resync: LastName in run %d, want %d", en.RunID, res.PullRun.ID)
		}
		// Another tenant's contact is not found.
		if _, err := f.eng.ResyncContact(f.ctx, "t_other", amy.ID); err == nil {
			t.Errorf("resync of another tenant's contact: got no error")
		}
	})
}

// TestPauseEachDirection: a paused direction's scheduled polls and
// real-time pushes skip; changes wait and go once it resumes.
func TestPauseEachDirection(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, d store.Dialect) {
		f := setup(t, d)
		a := f.sfCreate(t, map[string]any{"LastName": "Amy", "Member_Number__c": "M1"})
		f.save(t, memberConfig())
		run, _ := f.eng.StartInitialSync(f.ctx, f.Tenant.ID)
		f.pull(t, run, syncer.ModeFull)
		amy := f.platform(t, "M1")
		if err := f.eng.SetPause(f.ctx, f.Tenant.ID, store.SyncPause{ToPlatform: true, ToSalesforce: true}); err != nil {
			t.Fatal(err)
		}
		if p, _ := f.eng.Pause(f.ctx, f.Tenant.ID); !p.ToPlatform || !p.ToSalesforce {
			t.Fatalf("pause: got %+v, want both", p)
		}
		later := time.Now().Add(time.Hour)
		if due, _ := f.Store.DueForPull(f.ctx, later); len(due) != 0 {
			t.Errorf("due for pull while paused: %v, want none", due)
		}
		if err := f.Org.ModifyAsHuman(a, map[string]any{"LastName": "Amy Chen"}); err != nil {
			t.Fatal(err)
		}
		if err := f.eng.RunPull(f.ctx, f.Tenant.ID, syncer.ModeIncremental, syncer.TriggerScheduled, 0); err != nil {
			t.Fatal(err)
		}
		if got := f.platform(t, "M1").Name; got != "Amy" {
			t.Errorf("a scheduled poll while paused applied %q, want nothing applied", got)
		}
		if _, _, err := f.Store.UpdateContact(f.ctx, f.Tenant.ID, amy.ID, contact.Input{Birthday: contact.Some("1990-02-03")}, contact.OriginAPI); err != nil {
			t.Fatal(err)
		}
		if due, _ := f.Store.DueForPush(f.ctx, later); len(due) != 0 {
			t.Errorf("due for push while paused: %v, want none", due)
		}
		if err := f.eng.RunPush(f.ctx, f.Tenant.ID); err != nil {
			t.Fatal(err)
		}
		if r, _ := f.Org.Record(a); r["Birthdate"] != nil {
			t.Errorf("pushed while paused: Birthdate %v", r["Birthdate"])
		}
		// Resume: the change waited and goes; the poll is due again.
		if err := f.eng.SetPause(f.ctx, f.Tenant.ID, store.SyncPause{}); err != nil {
			t.Fatal(err)
		}
		if due, _ := f.Store.DueForPull(f.ctx, later); len(due) != 1 {
			t.Errorf("due for pull after resume: %v, want the tenant", due)
		}
		if err := f.eng.RunPush(f.ctx, f.Tenant.ID); err != nil {
			t.Fatal(err)
		}
		if r, _ := f.Org.Record(a); !strings.HasPrefix(fmt.Sprint(r["Birthdate"]), "1990-02-03") {
			t.Errorf("after resume: Birthdate %v, want 1990-02-03", r["Birthdate"])
		}
	})
}
