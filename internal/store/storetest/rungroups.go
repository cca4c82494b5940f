package storetest

import (
	"context"
	"database/sql"
	"slices"
	"testing"
	"time"

	"github.com/sfsync/sfsync/internal/store"
)

// testRunGroups checks the counts by kind and reason that ReasonGroups
// reads (kept as entries are written, issue 14): they add up over
// batches and transactions, keep the smallest reason as the example,
// stay per tenant, start over with a restarted pass and follow the
// retention's pruning; and the count of records waiting for a pull retry
// kept beside pull_retries.
func testRunGroups(t *testing.T, s *store.Store) {
	ctx := context.Background()
	a, b := NewTenant(t, s, "Acme"), NewTenant(t, s, "Other")
	now := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	s.Now = func() time.Time { return now }
	run, err := s.CreateRun(ctx, store.SyncRun{TenantID: a.ID, Direction: "to_platform", Trigger: "initial", Status: "running"})
	if err != nil {
		t.Fatal(err)
	}
	other, err := s.CreateRun(ctx, store.SyncRun{TenantID: b.ID, Direction: "to_platform", Trigger: "initial", Status: "running"})
	if err != nil {
		t.Fatal(err)
	}
	rec := func(runID int64, kind store.RecordKind, code, reason string) store.SyncRunRecord {
		return store.SyncRunRecord{RunID: runID, Kind: kind, SalesforceID: "003X", ReasonCode: code, Reason: reason}
	}
	if err := s.Tx(ctx, func(tx *sql.Tx) error {
		return s.AddRunRecordsTx(ctx, tx, a.ID, []store.SyncRunRecord{rec(run.ID, "failed", "invalid_phone", "b phone"),
			rec(run.ID, "failed", "invalid_phone", "c phone"), rec(run.ID, "conflict", "platform_wins", "p")})
	}); err != nil {
		t.Fatal(err)
	}
	if err := s.AddRunRecords(ctx, b.ID, []store.SyncRunRecord{rec(other.ID, "failed", "invalid_phone", "x")}); err != nil {
		t.Fatal(err)
	}
	now = now.Add(48 * time.Hour)
	if err := s.AddRunRecords(ctx, a.ID, []store.SyncRunRecord{rec(run.ID, "failed", "invalid_phone", "a phone")}); err != nil {
		t.Fatal(err)
	}
	type g struct {
		kind, code, example string
		count               int64
	}
	groups := func(tenantID string, runID int64) []g {
		t.Helper()
		got, err := s.ReasonGroups(ctx, tenantID, runID)
		if err != nil {
			t.Fatal(err)
		}
		var out []g
		for _, x := range got {
			out = append(out, g{string(x.Kind), x.ReasonCode, x.Example, int64(x.Count)})
		}
		return out
	}
	want := []g{{"failed", "invalid_phone", "a phone", 3}, {"conflict", "platform_wins", "p", 1}}
	if got := groups(a.ID, run.ID); !slices.Equal(got, want) {
		t.Errorf("groups = %+v, want %+v", got, want)
	}
	if got := groups(b.ID, run.ID); len(got) != 0 {
		t.Errorf("tenant B sees tenant A's groups: %+v", got)
	}
	// Retention: the entries of two days ago go, the newest stays.
	n, err := s.PruneRunRecords(ctx, now.Add(-time.Hour))
	if err != nil || n != 4 {
		t.Fatalf("PruneRunRecords = %d, %v, want 4", n, err)
	}
	want = []g{{"failed", "invalid_phone", "a phone", 1}}
	if got := groups(a.ID, run.ID); !slices.Equal(got, want) {
		t.Errorf("groups after pruning = %+v, want %+v", got, want)
	}
	if got := groups(b.ID, other.ID); len(got) != 0 {
		t.Errorf("groups of a run whose entries were all pruned = %+v, want none", got)
	}
	// The count of records waiting for a pull retry follows the rows:
	// new failures add, repeated ones do not, successes (of records that
	// failed or not) take away.
	nextAt := func(n int) time.Time { return now.Add(time.Duration(n) * time.Minute) }
	steps := []struct {
		failed map[string]string
		ok     []string
		want   int64
	}{
		{map[string]string{"003A": "bad", "003B": "bad", "003C": "bad"}, nil, 3},
		{map[string]string{"003A": "still bad", "003D": "bad"}, []string{"003B", "003Z"}, 3},
		{map[string]string{"003E": "bad"}, []string{"003E", "003A"}, 2},
		{nil, []string{"003C", "003D"}, 0},
		// None waiting before the call: only what the call itself added
		// can be cleared (a success of a record it marks failed).
		{map[string]string{"003F": "bad", "003G": "bad"}, []string{"003F", "003H"}, 1},
	}
	for i, st := range steps {
		if err := s.Tx(ctx, func(tx *sql.Tx) error { return s.SetPullRetriesTx(ctx, tx, a.ID, st.failed, nextAt, st.ok) }); err != nil {
			t.Fatal(err)
		}
		pull, _, err := s.OpenFailures(ctx, a.ID)
		var rows int64
		if err == nil {
			err = s.DB.QueryRowContext(ctx, `SELECT COUNT(*) FROM pull_retries WHERE tenant_id = $1`, a.ID).Scan(&rows)
		}
		if err != nil || pull != st.want || rows != st.want {
			t.Errorf("step %d: open pull failures %d, rows %d (%v), want %d", i, pull, rows, err, st.want)
		}
		if other, _, _ := s.OpenFailures(ctx, b.ID); other != 0 {
			t.Errorf("step %d: tenant B has %d open pull failures, want 0", i, other)
		}
	}
	if err := s.UpdateRun(ctx, a.ID, run.ID, store.RunProgress{Restart: true}); err != nil {
		t.Fatal(err)
	}
	if got := groups(a.ID, run.ID); len(got) != 0 {
		t.Errorf("groups after a restart = %+v, want none", got)
	}
}
