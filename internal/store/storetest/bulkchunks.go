package storetest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/sfsync/sfsync/internal/contact"
	"github.com/sfsync/sfsync/internal/store"
)

// testBulkUpsertChunksConcurrent runs two chunked bulk upserts of the same
// member IDs at once, each pausing between its chunks (as the API does
// while it decodes the next one): the tenant's write lock is held across
// the chunks, so every member ID ends up on one contact, created by one
// request and matched by the other.
func testBulkUpsertChunksConcurrent(t *testing.T, s *store.Store) {
	ctx := context.Background()
	a := NewTenant(t, s, "Acme")
	const chunks, per = 3, 200
	run := func(name string) ([]store.UpsertResult, error) {
		k := 0
		return s.BulkUpsertChunks(ctx, a.ID, 0, func() ([]contact.Input, error) {
			if k == chunks {
				return nil, nil
			}
			if k > 0 {
				time.Sleep(5 * time.Millisecond)
			}
			var items []contact.Input
			for i := k * per; i < (k+1)*per; i++ {
				items = append(items, mustNormalize(t, contact.Input{MemberID: str(fmt.Sprintf("M%d", i)), Name: str(name)}))
			}
			k++
			return items, nil
		}, contact.IdentityMemberID, contact.OriginAPI)
	}
	var wg sync.WaitGroup
	res := make([][]store.UpsertResult, 2)
	errs := make([]error, 2)
	for g := range 2 {
		wg.Go(func() { res[g], errs[g] = run(fmt.Sprintf("Writer %d", g)) })
	}
	wg.Wait()
	created := 0
	for g := range 2 {
		if errs[g] != nil {
			t.Fatalf("writer %d: %v", g, errs[g])
		}
		if len(res[g]) != chunks*per {
			t.Fatalf("writer %d: %d results, want %d", g, len(res[g]), chunks*per)
		}
		for i, r := range res[g] {
			switch r.Outcome {
			case store.OutcomeCreated:
				created++
			case store.OutcomeUpdated:
			default:
				t.Errorf("writer %d item %d: %s %v, want created or updated", g, i, r.Outcome, r.Err)
			}
			if other := res[1-g]; len(other) == len(res[g]) && other[i].Contact.ID != r.Contact.ID {
				t.Errorf("item %d: writer %d has contact %s, the other %s", i, g, r.Contact.ID, other[i].Contact.ID)
			}
		}
	}
	all, err := s.ListContacts(ctx, a.ID, store.ContactFilter{Limit: 2 * chunks * per})
	if err != nil {
		t.Fatal(err)
	}
	if created != chunks*per || len(all) != chunks*per {
		t.Errorf("%d created, %d contacts stored; want %d of each", created, len(all), chunks*per)
	}
}
