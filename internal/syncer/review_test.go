package syncer_test

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/sfsync/sfsync/internal/store"
	"github.com/sfsync/sfsync/internal/syncer"
)

// recordingQueue is an Enqueuer that remembers what was put on it.
type recordingQueue struct {
	mu    sync.Mutex
	pulls []string // "tenant mode trigger"
}

func (q *recordingQueue) EnqueuePull(_ context.Context, tenantID string, mode syncer.PullMode, trigger syncer.Trigger, _ int64, _ time.Time) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.pulls = append(q.pulls, tenantID+" "+string(mode)+" "+string(trigger))
	return nil
}

func (q *recordingQueue) EnqueuePush(context.Context, string) error { return nil }

func TestResolveReview(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, d store.Dialect) {
		f := setup(t, d)
		f.save(t, memberConfig())
		q := &recordingQueue{}
		f.eng.Queue = q
		hold := func(key string, ids ...string) int64 {
			t.Helper()
			var cands []store.ReviewCandidate
			for _, id := range ids {
				cands = append(cands, store.ReviewCandidate{SalesforceID: id, Values: map[string]any{"Member_Number__c": key}})
			}
			err := f.Store.Tx(f.ctx, func(tx *sql.Tx) error {
				_, err := f.Store.HoldTx(f.ctx, tx, f.Tenant.ID, store.ReviewItem{Kind: store.ReviewIdentity, IdentityField: "Member_Number__c", IdentityKey: key, Candidates: cands})
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			held, _ := f.Store.HeldSalesforceIDs(f.ctx, f.Tenant.ID, ids[:1])
			return held[ids[0]]
		}
		linkItem, apartItem := hold("M1", "003A", "003B"), hold("M2", "003C", "003D")
		if n, err := f.eng.CountOpenReview(f.ctx, f.Tenant.ID); err != nil || n != 2 {
			t.Fatalf("CountOpenReview: got %d, %v; want 2", n, err)
		}
		if l, _ := f.eng.ListReview(f.ctx, f.Tenant.ID, store.ReviewFilter{Status: store.ReviewOpen}); len(l) != 2 || l[0].ID != apartItem {
			t.Errorf("ListReview: got %+v, want both, newest (%d) first", l, apartItem)
		}

		// Apart: nothing to read again, no pull.
		if _, err := f.eng.ResolveReview(f.ctx, f.Tenant.ID, apartItem, store.ResolutionApart, "", "adm"); err != nil {
			t.Fatal(err)
		}
		if len(q.pulls) != 0 {
			t.Errorf("pulls after apart: got %v, want none", q.pulls)
		}
		// Linked: the chosen record is due for a re-read now and a pull starts.
		it, err := f.eng.ResolveReview(f.ctx, f.Tenant.ID, linkItem, store.ResolutionLinked, "003B", "adm")
		if err != nil || it.LinkedSalesforceID != "003B" || it.ResolvedBy != "adm" {
			t.Fatalf("ResolveReview linked: got %+v, %v", it, err)
		}
		due, _ := f.Store.DuePullRetries(f.ctx, f.Tenant.ID, time.Now().Add(time.Second), 100)
		var ids []string
		for _, r := range due {
			ids = append(ids, r.SalesforceID)
		}
		if !slices.Equal(ids, []string{"003B"}) {
			t.Errorf("due pull retries: got %v, want [003B]", ids)
		}
		if len(q.pulls) != 1 {
			t.Errorf("pulls after linked: got %v, want one", q.pulls)
		}
		if _, err := f.eng.ResolveReview(f.ctx, f.Tenant.ID, linkItem, store.ResolutionIgnored, "", "adm"); !errors.Is(err, store.ErrConflict) {
			t.Errorf("resolve twice: got %v, want ErrConflict", err)
		}
		if got, err := f.eng.GetReview(f.ctx, f.Tenant.ID, linkItem); err != nil || got.Resolution != store.ResolutionLinked {
			t.Errorf("GetReview: got %+v, %v", got, err)
		}
		dec, _ := f.Store.ReviewDecisions(f.ctx, f.Tenant.ID, []string{"003A", "003B", "003C", "003D"})
		want := map[string]store.ReviewResolution{"003A": "apart", "003B": "linked", "003C": "apart", "003D": "apart"}
		for id, w := range want {
			if dec[id] != w {
				t.Errorf("decision of %s: got %q, want %q", id, dec[id], w)
			}
		}
	})
}
