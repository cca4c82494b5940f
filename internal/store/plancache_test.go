package store_test

import (
	"context"
	"database/sql"
	"testing"

	"github.com/sfsync/sfsync/internal/contact"
	"github.com/sfsync/sfsync/internal/store"
	"github.com/sfsync/sfsync/internal/store/storetest"
	"github.com/sfsync/sfsync/internal/tenant"
)

// TestPlanCacheModeRestored: the contact inserts let PostgreSQL keep the
// plans of their foreign-key checks, and the store's force_custom_plan is
// back before the caller's statements in the same transaction run.
func TestPlanCacheModeRestored(t *testing.T) {
	t.Parallel()
	s := storetest.Open(t, store.Postgres)
	ctx := context.Background()
	tn, err := s.CreateTenant(ctx, tenant.Tenant{Name: "Plans"})
	if err != nil {
		t.Fatal(err)
	}
	ops := []store.ContactOp{{Input: contact.Input{MemberID: contact.Some("M1"),
		Social: contact.Some([]contact.SocialIdentity{{ChannelType: "line", ChannelID: "@oa", UserID: "U1"}})}}}
	var mode string
	if _, err := s.ApplyContacts(ctx, tn.ID, ops, contact.OriginAPI, func(tx *sql.Tx, _ []store.UpsertResult) error {
		return tx.QueryRowContext(ctx, `SELECT current_setting('plan_cache_mode')`).Scan(&mode)
	}); err != nil {
		t.Fatal(err)
	}
	if mode != "force_custom_plan" {
		t.Errorf("plan_cache_mode after the inserts = %q, want force_custom_plan", mode)
	}
}
