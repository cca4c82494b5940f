package storetest

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"testing"

	"github.com/sfsync/sfsync/internal/store"
)

// hold runs HoldTx in its own transaction.
func hold(t *testing.T, s *store.Store, tenantID string, it store.ReviewItem) []string {
	t.Helper()
	var newIDs []string
	err := s.Tx(context.Background(), func(tx *sql.Tx) error {
		var err error
		newIDs, err = s.HoldTx(context.Background(), tx, tenantID, it)
		return err
	})
	if err != nil {
		t.Fatalf("HoldTx(%s): %v", it.IdentityKey, err)
	}
	return newIDs
}

func release(t *testing.T, s *store.Store, tenantID string, ids ...string) []store.ReviewItem {
	t.Helper()
	var out []store.ReviewItem
	err := s.Tx(context.Background(), func(tx *sql.Tx) error {
		var err error
		out, err = s.ReleaseTx(context.Background(), tx, tenantID, ids)
		return err
	})
	if err != nil {
		t.Fatalf("ReleaseTx(%v): %v", ids, err)
	}
	return out
}

func cands(ids ...string) []store.ReviewCandidate {
	out := make([]store.ReviewCandidate, len(ids))
	for i, id := range ids {
		out[i] = store.ReviewCandidate{SalesforceID: id, Values: map[string]any{"Email": "a@x.example", "LastName": "N" + id}}
	}
	return out
}

func candidateIDs(it store.ReviewItem) []string {
	var out []string
	for _, c := range it.Candidates {
		out = append(out, c.SalesforceID)
	}
	return out
}

func testReviewHold(t *testing.T, s *store.Store) {
	ctx := context.Background()
	a, b := NewTenant(t, s, "A"), NewTenant(t, s, "B")
	item := store.ReviewItem{Kind: store.ReviewIdentity, IdentityField: "Email", IdentityKey: "a@x.example", ContactID: "c1",
		ContactValues: map[string]any{"Email": "a@x.example", "LastName": "周"}, Candidates: cands("003A", "003B"), RunID: 7}
	if got := hold(t, s, a.ID, item); !slices.Equal(got, []string{"003A", "003B"}) {
		t.Errorf("first hold: got new %v, want [003A 003B]", got)
	}
	// Holding the same set again (the next run) is not news.
	if got := hold(t, s, a.ID, item); len(got) != 0 {
		t.Errorf("second hold of the same set: got new %v, want none", got)
	}
	// A third record joins the same item; values are refreshed.
	item.Candidates = append(cands("003A", "003C"), store.ReviewCandidate{SalesforceID: "003B", Values: map[string]any{"LastName": "Wilson"}})
	if got := hold(t, s, a.ID, item); !slices.Equal(got, []string{"003C"}) {
		t.Errorf("hold with a newcomer: got new %v, want [003C]", got)
	}
	if n, _ := s.CountOpenReviewItems(ctx, a.ID); n != 1 {
		t.Errorf("open items: got %d, want 1", n)
	}
	list, err := s.ListReviewItems(ctx, a.ID, store.ReviewFilter{Status: store.ReviewOpen})
	if err != nil || len(list) != 1 {
		t.Fatalf("ListReviewItems: got %d items, %v; want 1", len(list), err)
	}
	it := list[0]
	if it.Kind != store.ReviewIdentity || it.IdentityField != "Email" || it.IdentityKey != "a@x.example" || it.ContactID != "c1" ||
		it.ContactValues["LastName"] != "周" || it.RunID != 7 || it.Status != store.ReviewOpen || it.Resolved != nil {
		t.Errorf("item: got %+v", it)
	}
	if got := candidateIDs(it); !slices.Equal(got, []string{"003A", "003B", "003C"}) {
		t.Errorf("candidates: got %v, want [003A 003B 003C]", got)
	}
	if c, _ := it.Candidate("003B"); c.Values["LastName"] != "Wilson" {
		t.Errorf("candidate 003B values: got %v, want refreshed LastName Wilson", c.Values)
	}
	held, _ := s.HeldSalesforceIDs(ctx, a.ID, []string{"003A", "003C", "003Z"})
	if len(held) != 2 || held["003A"] != it.ID || held["003C"] != it.ID {
		t.Errorf("HeldSalesforceIDs: got %v, want 003A and 003C in item %d", held, it.ID)
	}

	// Tenant isolation: B sees, counts and resolves nothing of A's, and its
	// own hold of the same key is its own item.
	if n, _ := s.CountOpenReviewItems(ctx, b.ID); n != 0 {
		t.Errorf("tenant B open items: got %d, want 0", n)
	}
	if l, _ := s.ListReviewItems(ctx, b.ID, store.ReviewFilter{}); len(l) != 0 {
		t.Errorf("tenant B list: got %d items, want 0", len(l))
	}
	if _, err := s.GetReviewItem(ctx, b.ID, it.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("tenant B GetReviewItem(A's): got %v, want ErrNotFound", err)
	}
	if _, err := s.ResolveReviewItem(ctx, b.ID, it.ID, store.ResolutionIgnored, "", "admin-b"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("tenant B resolving A's item: got %v, want ErrNotFound", err)
	}
	if h, _ := s.HeldSalesforceIDs(ctx, b.ID, []string{"003A"}); len(h) != 0 {
		t.Errorf("tenant B held: got %v, want none", h)
	}
	if rel := release(t, s, b.ID, "003A", "003B", "003C"); len(rel) != 0 {
		t.Errorf("tenant B released A's: got %v", rel)
	}
	if got := hold(t, s, b.ID, item); len(got) != 3 {
		t.Errorf("tenant B hold of the same key: got new %v, want all 3", got)
	}
	if l, _ := s.ListReviewItems(ctx, b.ID, store.ReviewFilter{}); len(l) != 1 || l[0].ID == it.ID {
		t.Errorf("tenant B items: got %+v, want its own one", l)
	}
	if n, _ := s.CountOpenReviewItems(ctx, a.ID); n != 1 {
		t.Errorf("tenant A open items after B's hold: got %d, want 1", n)
	}

	// Another kind with the same key is another item; paging goes newest first.
	hold(t, s, a.ID, store.ReviewItem{Kind: store.ReviewMerge, IdentityField: "Email", IdentityKey: "a@x.example", ContactID: "c9", Candidates: cands("003M")})
	page, _ := s.ListReviewItems(ctx, a.ID, store.ReviewFilter{Limit: 1})
	if len(page) != 1 || page[0].Kind != store.ReviewMerge {
		t.Fatalf("first page: got %+v, want the merge item", page)
	}
	page, _ = s.ListReviewItems(ctx, a.ID, store.ReviewFilter{Limit: 1, BeforeID: page[0].ID})
	if len(page) != 1 || page[0].ID != it.ID {
		t.Errorf("second page: got %+v, want item %d", page, it.ID)
	}
	if err := s.Tx(ctx, func(tx *sql.Tx) error {
		_, err := s.HoldTx(ctx, tx, a.ID, store.ReviewItem{Kind: "guess", IdentityKey: "k", Candidates: cands("003Q")})
		return err
	}); err == nil {
		t.Error("HoldTx with an unknown kind: got nil error")
	}
}

func testReviewRelease(t *testing.T, s *store.Store) {
	ctx := context.Background()
	a := NewTenant(t, s, "A")
	// Three share a value held by no platform contact.
	hold(t, s, a.ID, store.ReviewItem{Kind: store.ReviewIdentity, IdentityField: "Email", IdentityKey: "k1", Candidates: cands("003A", "003B", "003C")})
	if rel := release(t, s, a.ID, "003A"); len(rel) != 0 {
		t.Errorf("release of one of three: got released %+v, want none", rel)
	}
	if h, _ := s.HeldSalesforceIDs(ctx, a.ID, []string{"003A", "003B"}); len(h) != 1 || h["003B"] == 0 {
		t.Errorf("held after releasing 003A: got %v, want only 003B", h)
	}
	rel := release(t, s, a.ID, "003B", "003Z")
	if len(rel) != 1 || rel[0].Status != store.ReviewResolved || rel[0].Resolution != store.ResolutionReleased ||
		rel[0].ResolvedBy != store.ReleasedBy || rel[0].Resolved == nil || !slices.Equal(candidateIDs(rel[0]), []string{"003C"}) {
		t.Fatalf("release down to one candidate: got %+v, want the item released with 003C left", rel)
	}
	if n, _ := s.CountOpenReviewItems(ctx, a.ID); n != 0 {
		t.Errorf("open items after release: got %d, want 0", n)
	}
	if h, _ := s.HeldSalesforceIDs(ctx, a.ID, []string{"003C"}); len(h) != 0 {
		t.Errorf("003C still held after its item was released: %v", h)
	}
	got, _ := s.GetReviewItem(ctx, a.ID, rel[0].ID)
	if got.Status != store.ReviewResolved || got.Resolution != store.ResolutionReleased {
		t.Errorf("stored item: got %+v, want resolved released", got)
	}
	if d, _ := s.ReviewDecisions(ctx, a.ID, []string{"003B", "003C"}); len(d) != 0 {
		t.Errorf("a release remembers no decision: got %v", d)
	}
	// Resolving a released item is a conflict.
	if _, err := s.ResolveReviewItem(ctx, a.ID, rel[0].ID, store.ResolutionIgnored, "", "adm"); !errors.Is(err, store.ErrConflict) {
		t.Errorf("resolve a released item: got %v, want ErrConflict", err)
	}
	// The same value held again opens a new item.
	if got := hold(t, s, a.ID, store.ReviewItem{Kind: store.ReviewIdentity, IdentityField: "Email", IdentityKey: "k1", Candidates: cands("003C", "003D")}); len(got) != 2 {
		t.Errorf("hold after release: got new %v, want both", got)
	}

	// A newcomer holding the value of a linked pair: one candidate, and
	// the item's contact c1 is linked to 003OLD; it stays open while that
	// link stays, and is released when the link goes.
	if err := s.Tx(ctx, func(tx *sql.Tx) error {
		return s.SaveLinksTx(ctx, tx, a.ID, []store.Link{{SalesforceID: "003OLD", ContactID: "c1"}, {SalesforceID: "003W", ContactID: "c2"}})
	}); err != nil {
		t.Fatal(err)
	}
	hold(t, s, a.ID, store.ReviewItem{Kind: store.ReviewIdentity, IdentityField: "Email", IdentityKey: "k2", ContactID: "c1", Candidates: cands("003NEW", "003X")})
	if rel := release(t, s, a.ID, "003X"); len(rel) != 0 {
		t.Errorf("newcomer item with c1 linked to 003OLD: got released %+v, want it open", rel)
	}
	// A merge whose survivor 003W is linked to c2, not to the item's c3.
	hold(t, s, a.ID, store.ReviewItem{Kind: store.ReviewMerge, IdentityField: "MasterRecordId", IdentityKey: "003W", ContactID: "c3", Candidates: cands("003W", "003L")})
	if rel := release(t, s, a.ID, "003L"); len(rel) != 0 {
		t.Errorf("merge item with the survivor linked elsewhere: got released %+v, want it open", rel)
	}
	if err := s.Tx(ctx, func(tx *sql.Tx) error { return s.DeleteLinksTx(ctx, tx, a.ID, []string{"003OLD", "003W"}) }); err != nil {
		t.Fatal(err)
	}
	rel = release(t, s, a.ID, "003NEW", "003W")
	if len(rel) != 2 {
		t.Fatalf("after the links went: got %d released, want both items", len(rel))
	}
	for _, it := range rel {
		if it.Candidates == nil || len(it.Candidates) > 1 {
			t.Errorf("released item %d: got candidates %#v, want at most one and never nil (an empty list in JSON)", it.ID, it.Candidates)
		}
	}
}

func testReviewResolve(t *testing.T, s *store.Store) {
	ctx := context.Background()
	a := NewTenant(t, s, "A")
	hold(t, s, a.ID, store.ReviewItem{Kind: store.ReviewIdentity, IdentityField: "Email", IdentityKey: "k1", ContactID: "c1", Candidates: cands("003A", "003B")})
	hold(t, s, a.ID, store.ReviewItem{Kind: store.ReviewIdentity, IdentityField: "Email", IdentityKey: "k2", Candidates: cands("003C", "003D")})
	hold(t, s, a.ID, store.ReviewItem{Kind: store.ReviewIdentity, IdentityField: "Email", IdentityKey: "k3", Candidates: cands("003E", "003F")})
	open, _ := s.ListReviewItems(ctx, a.ID, store.ReviewFilter{Status: store.ReviewOpen})
	if len(open) != 3 {
		t.Fatalf("open items: got %d, want 3", len(open))
	}
	k3, k2, k1 := open[0], open[1], open[2]

	if _, err := s.ResolveReviewItem(ctx, a.ID, k1.ID, store.ResolutionLinked, "003Z", "adm"); !errors.Is(err, store.ErrNotCandidate) {
		t.Errorf("link to a non-candidate: got %v, want ErrNotCandidate", err)
	}
	if _, err := s.ResolveReviewItem(ctx, a.ID, k1.ID, store.ResolutionReleased, "", "adm"); err == nil {
		t.Error("an admin resolving as released: got nil error")
	}
	if _, err := s.ResolveReviewItem(ctx, a.ID, 999999, store.ResolutionApart, "", "adm"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("resolve an unknown item: got %v, want ErrNotFound", err)
	}
	got, err := s.ResolveReviewItem(ctx, a.ID, k1.ID, store.ResolutionLinked, "003B", "adm")
	if err != nil || got.Status != store.ReviewResolved || got.Resolution != store.ResolutionLinked || got.LinkedSalesforceID != "003B" ||
		got.ResolvedBy != "adm" || got.Resolved == nil || len(got.Candidates) != 2 {
		t.Errorf("link: got %+v, %v", got, err)
	}
	if _, err := s.ResolveReviewItem(ctx, a.ID, k1.ID, store.ResolutionLinked, "003B", "adm"); !errors.Is(err, store.ErrConflict) {
		t.Errorf("resolve twice: got %v, want ErrConflict", err)
	}
	if _, err := s.ResolveReviewItem(ctx, a.ID, k2.ID, store.ResolutionApart, "", "adm"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ResolveReviewItem(ctx, a.ID, k3.ID, store.ResolutionIgnored, "", "adm"); err != nil {
		t.Fatal(err)
	}
	want := map[string]store.ReviewResolution{"003A": store.ResolutionApart, "003B": store.ResolutionLinked, "003C": store.ResolutionApart,
		"003D": store.ResolutionApart, "003E": store.ResolutionIgnored, "003F": store.ResolutionIgnored}
	d, err := s.ReviewDecisions(ctx, a.ID, []string{"003A", "003B", "003C", "003D", "003E", "003F", "003Z"})
	if err != nil || len(d) != len(want) {
		t.Fatalf("decisions: got %v, %v; want %v", d, err, want)
	}
	for id, w := range want {
		if d[id] != w {
			t.Errorf("decision of %s: got %q, want %q", id, d[id], w)
		}
	}
	if n, _ := s.CountOpenReviewItems(ctx, a.ID); n != 0 {
		t.Errorf("open after resolving all: got %d, want 0", n)
	}
	if l, _ := s.ListReviewItems(ctx, a.ID, store.ReviewFilter{Status: store.ReviewResolved}); len(l) != 3 {
		t.Errorf("resolved list: got %d, want 3", len(l))
	}
	if h, _ := s.HeldSalesforceIDs(ctx, a.ID, []string{"003A", "003C", "003E"}); len(h) != 0 {
		t.Errorf("held after resolving: got %v, want none", h)
	}
	// Decisions are per tenant and can be forgotten.
	b := NewTenant(t, s, "B")
	if d, _ := s.ReviewDecisions(ctx, b.ID, []string{"003A", "003B"}); len(d) != 0 {
		t.Errorf("tenant B decisions: got %v, want none", d)
	}
	if err := s.Tx(ctx, func(tx *sql.Tx) error { return s.ForgetDecisionsTx(ctx, tx, b.ID, []string{"003A"}) }); err != nil {
		t.Fatal(err)
	}
	if d, _ := s.ReviewDecisions(ctx, a.ID, []string{"003A"}); d["003A"] != store.ResolutionApart {
		t.Errorf("tenant B forgetting removed A's decision: got %v", d)
	}
	if err := s.Tx(ctx, func(tx *sql.Tx) error { return s.ForgetDecisionsTx(ctx, tx, a.ID, []string{"003A", "003B"}) }); err != nil {
		t.Fatal(err)
	}
	if d, _ := s.ReviewDecisions(ctx, a.ID, []string{"003A", "003B", "003C"}); len(d) != 1 || d["003C"] != store.ResolutionApart {
		t.Errorf("after forgetting 003A and 003B: got %v, want only 003C", d)
	}
}
