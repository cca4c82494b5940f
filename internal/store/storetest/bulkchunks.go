package storetest

import (
	"context"
	"errors"
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

// testBulkUpsertChunksCarryOver writes chunks that depend on what the
// chunks before them wrote in the same transaction, which a look-up of
// the committed contacts (SQLite reads the next chunk's on a read-only
// connection while the writer writes the current one) does not see: a
// phone freed and taken in chunk 1 is still the old holder's in the
// committed state; a stored contact found by two values of one item comes
// back twice, and must keep its social identities.
func testBulkUpsertChunksCarryOver(t *testing.T, s *store.Store) {
	ctx := context.Background()
	a := NewTenant(t, s, "Acme")
	line := func(user string) contact.Opt[[]contact.SocialIdentity] {
		return contact.Some([]contact.SocialIdentity{{ChannelType: "line", ChannelID: "OA", UserID: user}})
	}
	stored, err := s.BulkUpsert(ctx, a.ID, []contact.Input{
		mustNormalize(t, contact.Input{MemberID: str("MA"), Phone: str("+886911000001"), Social: line("UA")}),
		mustNormalize(t, contact.Input{MemberID: str("MB"), Email: str("b@example.com"), Social: line("UB")}),
	}, contact.IdentityMemberID, contact.OriginAPI)
	if err != nil {
		t.Fatal(err)
	}
	chunks := [][]contact.Input{
		{ // A gives up its phone, C takes it.
			mustNormalize(t, contact.Input{MemberID: str("MA"), Phone: str("+886911000009")}),
			mustNormalize(t, contact.Input{MemberID: str("MC"), Phone: str("+886911000001")}),
		},
		{
			// The phone is C's now, not A's (as the committed state says).
			mustNormalize(t, contact.Input{MemberID: str("MD"), Phone: str("+886911000001")}),
			// A's new phone.
			mustNormalize(t, contact.Input{MemberID: str("ME"), Phone: str("+886911000009")}),
			// B, found by its member ID and its e-mail, with its own
			// LINE identity: unchanged.
			mustNormalize(t, contact.Input{MemberID: str("MB"), Email: str("b@example.com"), Social: line("UB")}),
			// A's LINE identity, named by another contact.
			mustNormalize(t, contact.Input{MemberID: str("MF"), Social: line("UA")}),
		},
	}
	k := 0
	res, err := s.BulkUpsertChunks(ctx, a.ID, 0, func() ([]contact.Input, error) {
		if k == len(chunks) {
			return nil, nil
		}
		k++
		return chunks[k-1], nil
	}, contact.IdentityMemberID, contact.OriginAPI)
	if err != nil {
		t.Fatal(err)
	}
	idA, idB := stored[0].Contact.ID, stored[1].Contact.ID
	want := []struct {
		outcome, field, holder string
	}{
		{store.OutcomeUpdated, "", ""},
		{store.OutcomeCreated, "", ""},
		{store.OutcomeFailed, "phone", res[1].Contact.ID},
		{store.OutcomeFailed, "phone", idA},
		{store.OutcomeUnchanged, "", ""},
		{store.OutcomeFailed, "social_identities[0]", idA},
	}
	if len(res) != len(want) {
		t.Fatalf("%d results, want %d", len(res), len(want))
	}
	for i, w := range want {
		r := res[i]
		var cc *store.ContactConflict
		errors.As(r.Err, &cc)
		switch {
		case w.field == "" && r.Outcome != w.outcome:
			t.Errorf("item %d: got %s (%v), want %s", i, r.Outcome, r.Err, w.outcome)
		case w.field != "" && (cc == nil || cc.Field != w.field || cc.ContactID != w.holder):
			t.Errorf("item %d: got %s %v, want a conflict on %s with %s", i, r.Outcome, r.Err, w.field, w.holder)
		}
	}
	if got := res[4].Contact; got.ID != idB || len(got.Social) != 1 || got.Social[0].UserID != "UB" {
		t.Errorf("B: got %s with %v, want %s with its LINE identity UB", got.ID, got.Social, idB)
	}
	all, err := s.ListContacts(ctx, a.ID, store.ContactFilter{Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 3 {
		t.Errorf("%d contacts stored, want 3 (A, B, C)", len(all))
	}
}
