package store_test

import (
	"context"
	"testing"

	"github.com/sfsync/sfsync/internal/contact"
	"github.com/sfsync/sfsync/internal/store"
	"github.com/sfsync/sfsync/internal/store/storetest"
)

// TestLookAheadPanic: on SQLite a bulk upsert asks for its chunks on
// another goroutine (lookAhead); a panic there fails the call and rolls
// back what the chunks before it wrote, as it did when next ran on the
// caller's goroutine, instead of ending the process.
func TestLookAheadPanic(t *testing.T) {
	t.Parallel()
	s := storetest.Open(t, store.SQLite)
	ctx := context.Background()
	a := storetest.NewTenant(t, s, "Acme")
	k := 0
	_, err := s.BulkUpsertChunks(ctx, a.ID, 0, func() ([]contact.Input, error) {
		k++
		if k == 2 {
			panic("decoder broke")
		}
		return []contact.Input{{MemberID: contact.Some("M1")}}, nil
	}, contact.IdentityMemberID, contact.OriginAPI)
	if err == nil {
		t.Fatal("got no error, want the panic as one")
	}
	all, err := s.ListContacts(ctx, a.ID, store.ContactFilter{Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 0 {
		t.Errorf("%d contacts stored, want none (rolled back)", len(all))
	}
}
