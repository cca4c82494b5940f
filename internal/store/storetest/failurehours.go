package storetest

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/sfsync/sfsync/internal/store"
)

// testFailureHoursKept: the failures by hour and reason that the health
// card reads are counted as the log's entries are written (issue 14), and
// stay equal to counting the log itself when a run restarts (its entries
// go) and when old entries are pruned part-way through an hour.
func testFailureHoursKept(t *testing.T, s *store.Store) {
	ctx := context.Background()
	a, b := NewTenant(t, s, "Acme"), NewTenant(t, s, "Other")
	now := time.Date(2026, 12, 7, 9, 50, 0, 0, time.UTC)
	s.Now = func() time.Time { return now }
	newRun := func(tenantID string) int64 {
		r, err := s.CreateRun(ctx, store.SyncRun{TenantID: tenantID, Direction: "to_platform", Trigger: "initial", Status: "running"})
		if err != nil {
			t.Fatal(err)
		}
		return r.ID
	}
	add := func(tenantID string, runID int64, reasons ...string) {
		t.Helper()
		var recs []store.SyncRunRecord
		for i, r := range reasons {
			kind := store.RecordKind("failed")
			if r == "" {
				kind, r = "created", "created"
			}
			recs = append(recs, store.SyncRunRecord{RunID: runID, Kind: kind, SalesforceID: fmt.Sprintf("003%s%d", r, i), ReasonCode: r})
		}
		if err := s.Tx(ctx, func(tx *sql.Tx) error { return s.AddRunRecordsTx(ctx, tx, tenantID, recs) }); err != nil {
			t.Fatal(err)
		}
	}
	// What the log itself says, counted the old way.
	truth := func(tenantID string) []store.FailureCount {
		rows, err := s.DB.QueryContext(ctx, `SELECT created_at / 3600000000, reason_code, COUNT(*) FROM sync_run_records
			WHERE tenant_id = $1 AND kind = 'failed' GROUP BY created_at / 3600000000, reason_code ORDER BY 1, 2`, tenantID)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var out []store.FailureCount
		for rows.Next() {
			var f store.FailureCount
			var h int64
			if err := rows.Scan(&h, &f.ReasonCode, &f.Count); err != nil {
				t.Fatal(err)
			}
			f.Hour = time.UnixMicro(h * 3600000000).UTC()
			out = append(out, f)
		}
		return out
	}
	check := func(step string, wantHours int) {
		t.Helper()
		for _, tn := range []string{a.ID, b.ID} {
			got, err := s.FailuresByHour(ctx, tn, now.Add(-48*time.Hour))
			if err != nil {
				t.Fatal(err)
			}
			want := truth(tn)
			if !slices.EqualFunc(got, want, func(x, y store.FailureCount) bool {
				return x.Hour.Equal(y.Hour) && x.ReasonCode == y.ReasonCode && x.Count == y.Count
			}) {
				t.Errorf("%s, tenant %s: FailuresByHour = %+v, the log counts %+v", step, tn, got, want)
			}
			if tn == a.ID && len(got) != wantHours {
				t.Errorf("%s: %d hour-and-reason rows for Acme, want %d: %+v", step, len(got), wantHours, got)
			}
		}
	}

	first, other := newRun(a.ID), newRun(b.ID)
	add(a.ID, first, "invalid_phone", "invalid_phone", "", "too_long") // 09:50
	add(b.ID, other, "invalid_phone")
	now = now.Add(20 * time.Minute) // 10:10
	add(a.ID, first, "invalid_phone", "")
	second := newRun(a.ID)
	now = now.Add(20 * time.Minute) // 10:30
	add(a.ID, second, "too_long", "too_long")
	check("written", 4) // 09:00 ×2 reasons, 10:00 ×2

	// The first run restarts: its entries (both hours) are deleted.
	if err := s.UpdateRun(ctx, a.ID, first, store.RunProgress{Restart: true}); err != nil {
		t.Fatal(err)
	}
	check("after a restart", 1) // 10:00 too_long (the second run's)
	add(a.ID, first, "invalid_phone")
	now = now.Add(time.Hour) // 11:30
	add(a.ID, second, "invalid_phone")
	check("written again", 3)

	// Pruning before 10:20 leaves the 10:00 hour its entries of 10:30.
	if _, err := s.PruneRunRecords(ctx, time.Date(2026, 12, 7, 10, 20, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	check("after pruning to 10:20", 3)
	if _, err := s.PruneRunRecords(ctx, now.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	check("after pruning everything", 0)
}
