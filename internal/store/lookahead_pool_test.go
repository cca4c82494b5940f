package store_test

import (
	"context"
	"database/sql"
	"fmt"
	"testing"
	"time"

	"github.com/sfsync/sfsync/internal/contact"
	"github.com/sfsync/sfsync/internal/store"
	"github.com/sfsync/sfsync/internal/store/storetest"
)

// TestLookAheadWithoutAFreeConnection: on PostgreSQL a bulk upsert reads
// its next chunk on a second connection of the pool (lookAhead) while its
// transaction holds the first. With every other connection taken (by
// other requests, which may themselves wait for this one's tenant lock),
// it must not wait for one for ever: it goes on without looking ahead.
func TestLookAheadWithoutAFreeConnection(t *testing.T) {
	s := storetest.Open(t, store.Postgres)
	ctx := context.Background()
	a := storetest.NewTenant(t, s, "Acme")
	var held []*sql.Conn
	defer func() {
		for _, c := range held {
			c.Close()
		}
	}()
	for range int(s.Pool.Config().MaxConns) - 1 {
		c, err := s.DB.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, c)
	}
	k := 0
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	start := time.Now()
	res, err := s.BulkUpsertChunks(ctx, a.ID, 0, func() ([]contact.Input, error) {
		if k == 3 {
			return nil, nil
		}
		k++
		in := make([]contact.Input, 100)
		for i := range in {
			in[i] = contact.Input{MemberID: contact.Some(fmt.Sprintf("M%d-%d", k, i))}
		}
		return in, nil
	}, contact.IdentityMemberID, contact.OriginAPI)
	if err != nil {
		t.Fatalf("bulk upsert with one free connection: %v (after %v)", err, time.Since(start))
	}
	if len(res) != 300 {
		t.Fatalf("%d results, want 300", len(res))
	}
	for _, r := range res {
		if r.Outcome != store.OutcomeCreated {
			t.Fatalf("outcome %v (%v), want created", r.Outcome, r.Err)
		}
	}
}
