package syncer_test

import (
	"testing"

	"github.com/sfsync/sfsync/internal/store"
	"github.com/sfsync/sfsync/internal/syncer"
)

// TestSpeculativePageMeetsTheWriteBefore: a full pass decides a page while
// the page before it is written (syncer.pipeline). Here the page before
// moves a linked record's identity value (R1: X → Y, so its platform
// contact's member ID becomes Y) and the next page's record R2 newly holds
// X. Decided against the database as it was before that write, R2 would
// find R1's contact under X, already linked, and be held for review;
// decided after it, R2 is a newcomer and gets a platform contact of its
// own. The speculative decision must be the second: the write touched an
// identity value it read, so the page is decided again.
func TestSpeculativePageMeetsTheWriteBefore(t *testing.T) {
	eachDialect(t, func(t *testing.T, d store.Dialect) {
		f := setup(t, d)
		f.save(t, memberConfig())
		r1 := f.sfCreate(t, map[string]any{"LastName": "Amy", "Member_Number__c": "X1"})
		first, err := f.eng.StartInitialSync(f.ctx, f.Tenant.ID)
		if err != nil {
			t.Fatal(err)
		}
		f.pull(t, first, syncer.ModeFull)
		c1 := f.platform(t, "X1")

		if err := f.Org.ModifyAsHuman(r1, map[string]any{"Member_Number__c": "Y1"}); err != nil {
			t.Fatal(err)
		}
		// More records after R2, so that the pass has pages beyond it too.
		r2 := f.sfCreate(t, map[string]any{"LastName": "Ben", "Member_Number__c": "X1"})
		for i, m := range []string{"Z1", "Z2", "Z3"} {
			f.sfCreate(t, map[string]any{"LastName": "Other" + string(rune('A'+i)), "Member_Number__c": m})
		}
		f.eng.PageSize = 1 // one record a page, in Id order: R1, R2, …
		syncer.WaitForNextPage(f.eng)
		full, err := f.eng.FullResync(f.ctx, f.Tenant.ID)
		if err != nil {
			t.Fatal(err)
		}
		run := f.pull(t, full, syncer.ModeFull)

		if got := f.platform(t, "Y1"); got.ID != c1.ID {
			t.Errorf("member Y1 is platform contact %s, want R1's %s", got.ID, c1.ID)
		}
		c2 := f.platform(t, "X1")
		if c2.ID == c1.ID {
			t.Fatalf("R2 (X1) was matched to R1's contact")
		}
		links, err := f.Store.LinksBySalesforceID(f.ctx, f.Tenant.ID, []string{r1, r2})
		if err != nil {
			t.Fatal(err)
		}
		if links[r1].ContactID != c1.ID || links[r2].ContactID != c2.ID {
			t.Errorf("links: R1 → %s, R2 → %s; want %s and %s", links[r1].ContactID, links[r2].ContactID, c1.ID, c2.ID)
		}
		if run.Counts.Ambiguous != 0 || run.Counts.Failed != 0 || run.Counts.Created != 4 {
			t.Errorf("run counts %+v: want 4 created, nothing held or failed", run.Counts)
		}
		spec, again := syncer.Speculation(f.eng)
		if spec < 4 || again < 1 {
			t.Errorf("%d pages decided speculatively, %d again; want 4 and at least 1 (R2's)", spec, again)
		}
		t.Logf("%d pages decided while the page before was written, %d of them again", spec, again)
	})
}
