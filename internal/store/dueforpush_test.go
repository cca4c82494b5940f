package store_test

import (
	"context"
	"database/sql"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sfsync/sfsync/internal/contact"
	"github.com/sfsync/sfsync/internal/store"
	"github.com/sfsync/sfsync/internal/store/storetest"
	"github.com/sfsync/sfsync/internal/tenant"
)

// TestDueForPush lists exactly the tenants that push and have a due
// outbox row, and on SQLite finds them without reading the outbox: every
// step of the plan that touches it is an index search by tenant. The
// dispatcher runs the query ten times a second; the old join scanned
// every outbox row each time ("SCAN o USING INDEX outbox_tenant"; this
// test fails on it).
func TestDueForPush(t *testing.T) {
	t.Parallel()
	for _, d := range storetest.Dialects {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			s := storetest.Open(t, d)
			ctx := context.Background()
			now := time.Now()
			newTenant := func(name string, push bool, rows int) string {
				tn, err := s.CreateTenant(ctx, tenant.Tenant{Name: name})
				if err != nil {
					t.Fatal(err)
				}
				if err := s.SaveSyncState(ctx, store.SyncState{TenantID: tn.ID, PushEnabled: push}); err != nil {
					t.Fatal(err)
				}
				var in []contact.Input
				for i := range rows {
					in = append(in, contact.Input{MemberID: contact.Some(name + string(rune('a'+i)))})
				}
				if rows > 0 {
					if _, err := s.BulkUpsert(ctx, tn.ID, in, contact.IdentityMemberID, contact.OriginAPI); err != nil {
						t.Fatal(err)
					}
				}
				return tn.ID
			}
			due := newTenant("due", true, 3)
			newTenant("pushoff", false, 3)
			newTenant("empty", true, 0)
			paused := newTenant("paused", true, 2)
			if err := s.SetSyncPause(ctx, paused, store.SyncPause{ToSalesforce: true}); err != nil {
				t.Fatal(err)
			}
			later := newTenant("later", true, 2)
			entries, err := s.ListOutbox(ctx, later, 0, 10)
			if err != nil {
				t.Fatal(err)
			}
			failed := map[int64]string{}
			for _, e := range entries {
				failed[e.ID] = "refused"
			}
			if err := s.Tx(ctx, func(tx *sql.Tx) error {
				return s.FailOutboxTx(ctx, tx, later, failed, func(int) time.Time { return now.Add(time.Hour) })
			}); err != nil {
				t.Fatal(err)
			}

			got, err := s.DueForPush(ctx, now)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, []string{due}) {
				t.Errorf("DueForPush = %v, want [%s] (the one pushing tenant with a due row)", got, due)
			}
			if got, _ := s.DueForPush(ctx, now.Add(2*time.Hour)); len(got) != 2 {
				t.Errorf("DueForPush two hours later = %v, want the due tenant and the one whose retry came", got)
			}

			if d != store.SQLite {
				return
			}
			rows, err := s.DB.QueryContext(ctx, "EXPLAIN QUERY PLAN "+store.DueForPushQuery, true, now.UnixMicro(), false)
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			var plan []string
			for rows.Next() {
				var id, parent, unused int
				var detail string
				if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
					t.Fatal(err)
				}
				plan = append(plan, detail)
			}
			for _, step := range plan {
				if strings.Contains(step, " o ") && !strings.HasPrefix(step, "SEARCH o ") {
					t.Errorf("plan step %q reads the outbox beyond one tenant's rows; plan %q", step, plan)
				}
			}
		})
	}
}
