package storetest

import (
	"context"
	"database/sql"
	"errors"
	"testing"

	"github.com/sfsync/sfsync/internal/contact"
	"github.com/sfsync/sfsync/internal/store"
)

// testRehearse: a rehearsal sees its own writes (also through the contact
// write path and nested transactions), a failed transaction inside it is
// undone alone, and nothing stays afterwards.
func testRehearse(t *testing.T, s *store.Store) {
	ctx := context.Background()
	a := NewTenant(t, s, "a")
	kept, err := s.CreateContact(ctx, a.ID, mustNormalize(t, contact.Input{MemberID: str("M1"), Name: str("Amy")}), contact.OriginAPI)
	if err != nil {
		t.Fatal(err)
	}
	errBoom := errors.New("boom")
	err = s.Rehearse(ctx, func(r *store.Store) error {
		c, err := r.CreateContact(ctx, a.ID, mustNormalize(t, contact.Input{MemberID: str("M2"), Name: str("Bob")}), contact.OriginAPI)
		if err != nil {
			return err
		}
		if _, _, err := r.UpdateContact(ctx, a.ID, kept.ID, contact.Input{Name: str("Amy Lin")}, contact.OriginAPI); err != nil {
			return err
		}
		// A transaction that fails inside the rehearsal is undone alone.
		if err := r.Tx(ctx, func(tx *sql.Tx) error {
			if _, err := tx.ExecContext(ctx, `DELETE FROM outbox WHERE tenant_id = $1`, a.ID); err != nil {
				return err
			}
			return errBoom
		}); !errors.Is(err, errBoom) {
			t.Errorf("failing Tx in a rehearsal: got %v, want boom", err)
		}
		// Unique values written in the rehearsal are enforced in it.
		if _, err := r.CreateContact(ctx, a.ID, mustNormalize(t, contact.Input{MemberID: str("M2")}), contact.OriginAPI); !errors.Is(err, store.ErrConflict) {
			t.Errorf("duplicate member ID in a rehearsal: got %v, want a conflict", err)
		}
		got, err := r.GetContact(ctx, a.ID, c.ID)
		if err != nil || got.Name != "Bob" {
			t.Errorf("rehearsal reads its own contact: got %+v, %v", got, err)
		}
		if got, _ := r.GetContact(ctx, a.ID, kept.ID); got.Name != "Amy Lin" {
			t.Errorf("rehearsal reads its own update: got %q, want Amy Lin", got.Name)
		}
		if n, _ := r.CountOutbox(ctx, a.ID); n != 3 {
			t.Errorf("rehearsal outbox: got %d entries, want 3 (the failed delete undone)", n)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	list, err := s.ListContacts(ctx, a.ID, store.ContactFilter{})
	if err != nil || len(list) != 1 || list[0].Name != "Amy" {
		t.Errorf("after the rehearsal: got %+v (%v), want only Amy, unchanged", list, err)
	}
	if n, _ := s.CountOutbox(ctx, a.ID); n != 1 {
		t.Errorf("outbox after the rehearsal: got %d, want 1", n)
	}
}
