package store_test

import (
	"context"
	"errors"
	"testing"

	"github.com/sfsync/sfsync/internal/contact"
	"github.com/sfsync/sfsync/internal/store"
	"github.com/sfsync/sfsync/internal/store/storetest"
)

// TestBulkTablesCheckTenantOnce: on PostgreSQL the tables a sync page
// fills row by row hold no foreign key to tenants (migration 00037), nor
// social identities to contacts (00038), and
// the write path still refuses a tenant that does not exist (its one
// check in writeTx), on both dialects.
func TestBulkTablesCheckTenantOnce(t *testing.T) {
	t.Parallel()
	for _, d := range []store.Dialect{store.SQLite, store.Postgres} {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			s := storetest.Open(t, d)
			ctx := context.Background()
			_, err := s.ApplyContacts(ctx, "t_missing", []store.ContactOp{{Input: contact.Input{MemberID: contact.Some("M1")}}}, contact.OriginAPI, nil)
			if !errors.Is(err, store.ErrNotFound) {
				t.Errorf("ApplyContacts for a missing tenant: got %v, want ErrNotFound", err)
			}
			if d != store.Postgres {
				return
			}
			var n int
			if err := s.DB.QueryRowContext(ctx, `SELECT count(*) FROM pg_constraint
				WHERE contype = 'f' AND confrelid = 'tenants'::regclass
				AND conrelid IN ('contacts'::regclass, 'links'::regclass, 'field_history'::regclass, 'pull_retries'::regclass)`).Scan(&n); err != nil {
				t.Fatal(err)
			}
			if n != 0 {
				t.Errorf("foreign keys to tenants on contacts, links, field_history, pull_retries = %d, want 0", n)
			}
			if err := s.DB.QueryRowContext(ctx, `SELECT count(*) FROM pg_constraint
				WHERE contype = 'f' AND conrelid = 'social_identities'::regclass`).Scan(&n); err != nil {
				t.Fatal(err)
			}
			if n != 0 {
				t.Errorf("foreign keys of social_identities = %d, want 0", n)
			}
		})
	}
}
