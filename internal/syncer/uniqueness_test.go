package syncer_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/sfsync/sfsync/internal/contact"
	"github.com/sfsync/sfsync/internal/store"
	"github.com/sfsync/sfsync/internal/syncconf"
	"github.com/sfsync/sfsync/internal/syncer"
)

func emailConfig() syncconf.Config {
	return syncconf.Config{
		Identity: syncconf.IdentityMapping{SalesforceField: "Email", PlatformIdentity: contact.IdentityEmail,
			ToPlatformNoMatch: syncconf.NoMatchCreate, ToSalesforceNoMatch: syncconf.NoMatchCreate},
		Fields: []syncconf.FieldMapping{{SalesforceField: "LastName", PlatformField: "name", Direction: syncconf.DirBoth}},
	}
}

// An identity value two Salesforce contacts share is never guessed,
// wherever they fall: the first sync reads pages of 200, and the
// duplicates sit 300 records apart (different pages). Before the census,
// the record on the earlier page created a platform contact and got
// linked. Then: held once, not logged again by later runs, released by
// itself when Salesforce is fixed, and the survivor syncs.
func TestIdentityUniqueAcrossPages(t *testing.T) {
	t.Parallel()
	for _, bulk := range []bool{false, true} {
		t.Run(fmt.Sprintf("bulk=%v", bulk), func(t *testing.T) {
			t.Parallel()
			identityUniqueAcrossPages(t, bulk, false)
		})
	}
	// Pages shrunk to fit PageTime (SQLite): the same outcome, in more
	// transactions.
	t.Run("bulk=true/shrunk", func(t *testing.T) {
		t.Parallel()
		identityUniqueAcrossPages(t, true, true)
	})
}

// identityUniqueAcrossPages: with bulk, the census reads one Bulk API job
// and the pass replays its spool; with shrink, pages shrink to an eighth
// (PageTime far shorter than any page takes; 21 transactions in all when
// pages of 80 keep their size).
func identityUniqueAcrossPages(t *testing.T, bulk, shrink bool) {
	eachDialect(t, func(t *testing.T, d store.Dialect) {
		f := setup(t, d)
		if bulk {
			f.eng.BulkThreshold = 100
		}
		if shrink {
			// Pages of 80, shrinking to 10 once the first has been applied
			// (the reader is two pages ahead by then).
			f.eng.PageSize, f.eng.PageTime = 80, time.Nanosecond
		}
		writes := f.Store.Writes()
		var twins [][2]string
		for i := range 600 {
			id := f.sfCreate(t, map[string]any{"LastName": fmt.Sprintf("P%04d", i), "Email": fmt.Sprintf("p%04d@example.com", i)})
			if i%100 == 0 {
				// The same e-mail, in other case, 300 records later.
				twins = append(twins, [2]string{id, ""})
			}
		}
		for i := range twins {
			twins[i][1] = f.sfCreate(t, map[string]any{"LastName": fmt.Sprintf("Twin %d", i), "Email": fmt.Sprintf("P%04d@Example.com", i*100)})
		}
		f.save(t, emailConfig())
		run, err := f.eng.StartInitialSync(f.ctx, f.Tenant.ID)
		if err != nil {
			t.Fatal(err)
		}
		run = f.pull(t, run, syncer.ModeFull)
		if w := f.Store.Writes() - writes; shrink && d == store.SQLite && w < 40 {
			t.Errorf("with pages shrunk to fit PageTime, the run committed %d transactions, want ≥ 40 (pages of 10 after the first three)", w)
		}
		if bulk && run.APICalls > 8 {
			t.Errorf("first sync through the Bulk API used %d calls, want ≤ 8 (one job for the census and the pass)", run.APICalls)
		}
		if run.Counts.Created != int64(600-len(twins)) || run.Counts.Ambiguous != int64(2*len(twins)) {
			t.Errorf("first sync counts %+v, want %d created and %d ambiguous", run.Counts, 600-len(twins), 2*len(twins))
		}
		for i := range twins {
			email := fmt.Sprintf("p%04d@example.com", i*100)
			if list, _ := f.Store.ListContacts(f.ctx, f.Tenant.ID, store.ContactFilter{Email: email}); len(list) != 0 {
				t.Errorf("platform contact for the shared e-mail %s: %+v, want none (held, not guessed)", email, list)
			}
		}
		open, err := f.eng.ListReview(f.ctx, f.Tenant.ID, store.ReviewFilter{Status: store.ReviewOpen})
		if err != nil {
			t.Fatal(err)
		}
		if len(open) != len(twins) {
			t.Fatalf("%d open review items, want %d (one per shared value)", len(open), len(twins))
		}
		for _, it := range open {
			if len(it.Candidates) != 2 {
				t.Errorf("review item %s: %d candidates, want 2", it.IdentityKey, len(it.Candidates))
			}
		}
		// A later run neither logs nor counts the held records again.
		f.Org.ModifyAsHuman(twins[1][0], map[string]any{"LastName": "Still twin"})
		next := f.syncNow(t)
		if next.Counts.Ambiguous != 0 || next.Status != syncer.StatusSucceeded {
			t.Errorf("incremental run after the first sync: %s %+v, want succeeded with nothing ambiguous", next.Status, next.Counts)
		}
		// Fixing Salesforce releases the item; the survivor is linked.
		if err := f.Org.ModifyAsHuman(twins[0][1], map[string]any{"Email": "twin0@example.com"}); err != nil {
			t.Fatal(err)
		}
		next = f.syncNow(t)
		if list, _ := f.Store.ListContacts(f.ctx, f.Tenant.ID, store.ContactFilter{Email: "p0000@example.com"}); len(list) != 1 || list[0].Name != "P0000" {
			t.Errorf("after the fix: platform contacts for p0000@example.com %+v, want P0000's", list)
		}
		if list, _ := f.Store.ListContacts(f.ctx, f.Tenant.ID, store.ContactFilter{Email: "twin0@example.com"}); len(list) != 1 {
			t.Errorf("after the fix: platform contacts for twin0@example.com %+v, want one", list)
		}
		if n, _ := f.eng.CountOpenReview(f.ctx, f.Tenant.ID); n != int64(len(twins)-1) {
			t.Errorf("%d open review items after the fix, want %d", n, len(twins)-1)
		}
		// An incremental newcomer whose value another record holds, outside
		// its page, is held too; the linked record stays linked.
		f.sfCreate(t, map[string]any{"LastName": "Newcomer", "Email": "p0005@example.com"})
		next = f.syncNow(t)
		if next.Counts.Ambiguous != 1 {
			t.Errorf("newcomer run counts %+v, want 1 ambiguous", next.Counts)
		}
		if list, _ := f.Store.ListContacts(f.ctx, f.Tenant.ID, store.ContactFilter{Email: "p0005@example.com"}); len(list) != 1 || list[0].Name != "P0005" {
			t.Errorf("platform contact for p0005@example.com %+v, want P0005's kept", list)
		}
	})
}

// The push holds a platform contact whose value several Salesforce
// contacts hold, once, acknowledges its changes rather than retrying them
// forever, and honours an admin's choice: linking one of them.
func TestPushHoldsSharedValueUntilAnAdminLinks(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, d store.Dialect) {
		f := setup(t, d)
		a := f.sfCreate(t, map[string]any{"LastName": "Amy A", "Email": "amy@example.com"})
		f.sfCreate(t, map[string]any{"LastName": "Amy B", "Email": "AMY@example.com"})
		cfg := emailConfig()
		cfg.Identity.ToPlatformNoMatch = syncconf.NoMatchUpdateOnly
		f.save(t, cfg)
		in, err := (contact.Rules{}).Normalize(contact.Input{Name: contact.Some("Amy"), Email: contact.Some("amy@example.com")})
		if err != nil {
			t.Fatal(err)
		}
		c, err := f.Store.CreateContact(f.ctx, f.Tenant.ID, in, contact.OriginAPI)
		if err != nil {
			t.Fatal(err)
		}
		for range 2 {
			if err := f.eng.RunPush(f.ctx, f.Tenant.ID); err != nil {
				t.Fatal(err)
			}
		}
		if n := f.Org.ContactCount(); n != 2 {
			t.Errorf("%d Salesforce contacts after the push, want 2 (nothing created)", n)
		}
		if n, _ := f.Store.CountOutbox(f.ctx, f.Tenant.ID); n != 0 {
			t.Errorf("%d outbox entries left, want 0 (held, not retried)", n)
		}
		open, err := f.eng.ListReview(f.ctx, f.Tenant.ID, store.ReviewFilter{Status: store.ReviewOpen})
		if err != nil || len(open) != 1 || len(open[0].Candidates) != 2 || open[0].ContactID != c.ID {
			t.Fatalf("open review items %+v (%v), want one with both records and the platform contact", open, err)
		}
		runs, _ := f.eng.ListRuns(f.ctx, f.Tenant.ID, syncer.RunFilter{Direction: syncer.DirToSalesforce})
		var ambiguous int64
		for _, r := range runs {
			ambiguous += r.Counts.Ambiguous
		}
		if ambiguous != 2 {
			t.Errorf("push runs counted %d ambiguous records, want 2 (each held once)", ambiguous)
		}
		if _, err := f.eng.ResolveReview(f.ctx, f.Tenant.ID, open[0].ID, store.ResolutionLinked, a, "u_admin"); err != nil {
			t.Fatal(err)
		}
		f.syncNow(t)
		links, err := f.Store.LinksByContactID(f.ctx, f.Tenant.ID, []string{c.ID})
		if err != nil || links[c.ID].SalesforceID != a {
			t.Errorf("link of the platform contact %+v (%v), want the record the admin chose, %s", links[c.ID], err, a)
		}
	})
}
