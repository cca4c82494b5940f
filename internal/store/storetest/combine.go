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

// testUpdatesCombine sends a tenant's single-contact updates at once, as
// the API's clients do (issue 14: 1,000 changes a second): they share
// transactions, and each still gets its own answer — a refused update
// (a member ID another contact holds, a missing contact) fails alone,
// every other is written with its outbox row. On the old code every update
// was a transaction of its own (writes == updates).
func testUpdatesCombine(t *testing.T, s *store.Store) {
	ctx := context.Background()
	a := NewTenant(t, s, "Acme")
	const n = 64
	ids := make([]string, n)
	for i := range ids {
		c, err := s.CreateContact(ctx, a.ID, mustNormalize(t, contact.Input{MemberID: str(fmt.Sprintf("M%d", i))}), contact.OriginAPI)
		if err != nil {
			t.Fatal(err)
		}
		ids[i] = c.ID
	}
	outbox0, err := s.CountOutbox(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	ids = append(ids, "c_missing")
	const taken = 7 // contact 7 asks for contact 0's member ID
	writes0 := s.Writes()
	start := make(chan struct{})
	errs := make([]error, len(ids))
	var wg sync.WaitGroup
	for i, id := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			in := contact.Input{Name: str(fmt.Sprintf("Name %d", i))}
			if i == taken {
				in.MemberID = str("M0")
			}
			<-start
			_, _, errs[i] = s.UpdateContact(ctx, a.ID, id, in, contact.OriginAPI)
		}()
	}
	// The tenant's writes are held until every update has been asked for,
	// so that they queue: unheld, on a quick machine each update could end
	// before the next began and go alone (65 transactions in a CI run).
	release := holdTenantWrites(t, s, a.ID)
	close(start)
	time.Sleep(200 * time.Millisecond)
	release()
	wg.Wait()
	writes := s.Writes() - writes0

	for i, err := range errs {
		var cc *store.ContactConflict
		switch {
		case i == n:
			if !errors.Is(err, store.ErrNotFound) {
				t.Errorf("update of a missing contact: error %v, want ErrNotFound", err)
			}
		case i == taken:
			if !errors.As(err, &cc) || cc.Field != "member_id" {
				t.Errorf("update %d to a taken member ID: error %v, want a member_id conflict", i, err)
			}
		case err != nil:
			t.Errorf("update %d: %v", i, err)
		}
	}
	got, err := s.GetContacts(ctx, a.ID, ids[:n])
	if err != nil {
		t.Fatal(err)
	}
	for i, id := range ids[:n] {
		want := fmt.Sprintf("Name %d", i)
		if i == taken {
			want = ""
		}
		if got[id].Name != want || got[id].MemberID != fmt.Sprintf("M%d", i) {
			t.Errorf("contact %d: got name %q member ID %q, want %q and M%d", i, got[id].Name, got[id].MemberID, want, i)
		}
	}
	if outbox, _ := s.CountOutbox(ctx, a.ID); outbox-outbox0 != n-1 {
		t.Errorf("outbox rows added: got %d, want %d (one per written update)", outbox-outbox0, n-1)
	}
	// The rows name what changed (on PostgreSQL written in the updates'
	// statement).
	rows, err := s.ListOutbox(ctx, a.ID, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	named := 0
	for _, r := range rows[outbox0:] {
		if r.Op != store.OpUpdate || len(r.ChangedFields) != 1 || r.ChangedFields[0] != "name" || r.Origin != contact.OriginAPI {
			t.Errorf("outbox row %+v, want an update of name from the API", r)
		}
		named++
	}
	if named != n-1 {
		t.Errorf("%d outbox rows after the creates', want %d", named, n-1)
	}
	if writes >= int64(len(ids)) {
		t.Errorf("%d updates at once took %d transactions, want fewer (shared)", len(ids), writes)
	}
	t.Logf("%d concurrent updates in %d transactions", len(ids), writes)
}

// holdTenantWrites holds what a contact write of the tenant waits for
// (SQLite's one writing connection; PostgreSQL's advisory lock of the
// tenant's contacts) until release is called. The held transaction writes
// nothing and is rolled back.
func holdTenantWrites(t *testing.T, s *store.Store, tenantID string) (release func()) {
	t.Helper()
	ctx := context.Background()
	tx, err := s.DB.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if s.Dialect == store.Postgres {
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(hashtext($1))`, "contacts:"+tenantID); err != nil {
			_ = tx.Rollback()
			t.Fatal(err)
		}
	}
	return func() { _ = tx.Rollback() }
}
