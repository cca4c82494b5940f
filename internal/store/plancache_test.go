package store_test

import (
	"context"
	"database/sql"
	"strings"
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

// TestPostgresSessionSettings: the store's sessions plan every statement
// with its parameters and compile none (jit off), unless the database URL
// sets either itself.
func TestPostgresSessionSettings(t *testing.T) {
	t.Parallel()
	s, dsn := storetest.OpenDSN(t, store.Postgres)
	ctx := context.Background()
	setting := func(s *store.Store, name string) string {
		t.Helper()
		var v string
		if err := s.DB.QueryRowContext(ctx, `SELECT current_setting($1)`, name).Scan(&v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	if got := setting(s, "jit"); got != "off" {
		t.Errorf("jit = %q, want off", got)
	}
	if got := setting(s, "plan_cache_mode"); got != "force_custom_plan" {
		t.Errorf("plan_cache_mode = %q, want force_custom_plan", got)
	}
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	own, err := store.Open(ctx, dsn+sep+"jit=on&plan_cache_mode=auto")
	if err != nil {
		t.Fatal(err)
	}
	defer own.Close()
	if got := setting(own, "jit"); got != "on" {
		t.Errorf("jit with jit=on in the URL = %q, want on", got)
	}
	if got := setting(own, "plan_cache_mode"); got != "auto" {
		t.Errorf("plan_cache_mode with plan_cache_mode=auto in the URL = %q, want auto", got)
	}
}
