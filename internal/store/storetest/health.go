package storetest

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"github.com/sfsync/sfsync/internal/contact"
	"github.com/sfsync/sfsync/internal/store"
)

// testHealthHistory checks what the sync health page reads (issue 17): the
// calls runs record land in their hour, readings of the org's usage in
// theirs, failures are counted by hour and reason, and the last success
// per direction and the open failures are what the runs left.
func testHealthHistory(t *testing.T, s *store.Store) {
	ctx := context.Background()
	a, b := NewTenant(t, s, "Acme"), NewTenant(t, s, "Other")
	now := time.Date(2026, 12, 7, 10, 20, 0, 0, time.UTC)
	s.Now = func() time.Time { return now }
	if err := s.SaveConnection(ctx, store.SalesforceConnection{TenantID: a.ID, Status: store.ConnConnected, OrgID: "00D1", ConnectedAt: now, UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
	run, err := s.CreateRun(ctx, store.SyncRun{TenantID: a.ID, Direction: "to_platform", Trigger: "initial", Status: "running"})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.UpdateRun(ctx, a.ID, run.ID, store.RunProgress{APICalls: 7}); err != nil {
		t.Fatal(err)
	}
	now = now.Add(50 * time.Minute) // 11:10, the next hour
	if err := s.UpdateRun(ctx, a.ID, run.ID, store.RunProgress{APICalls: 5, Counts: store.SyncCounts{Failed: 2}}); err != nil {
		t.Fatal(err)
	}
	// A restarted pass resets the counts but still adds its calls. A run
	// that failed as a whole is no completed sync.
	failedRun, err := s.CreateRun(ctx, store.SyncRun{TenantID: a.ID, Direction: "to_salesforce", Trigger: "realtime", Status: "running"})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.UpdateRun(ctx, a.ID, failedRun.ID, store.RunProgress{Status: "failed", Finished: true}); err != nil {
		t.Fatal(err)
	}
	if err := s.UpdateRun(ctx, a.ID, run.ID, store.RunProgress{APICalls: 1, Restart: true}); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveAPIUsage(ctx, a.ID, 4200, 110000, now); err != nil {
		t.Fatal(err)
	}
	err = s.Tx(ctx, func(tx *sql.Tx) error {
		if err := s.AddRunRecordsTx(ctx, tx, a.ID, []store.SyncRunRecord{
			{RunID: run.ID, Kind: "failed", SalesforceID: "003A", ReasonCode: "invalid_phone"},
			{RunID: run.ID, Kind: "failed", SalesforceID: "003B", ReasonCode: "invalid_phone"},
			{RunID: run.ID, Kind: "failed", SalesforceID: "003C", ReasonCode: "too_long"},
			{RunID: run.ID, Kind: "conflict", SalesforceID: "003D", ReasonCode: "conflict_newest_wins"},
		}); err != nil {
			return err
		}
		return s.SetPullRetriesTx(ctx, tx, a.ID, map[string]string{"003A": "bad phone", "003B": "bad phone", "003C": "too long"},
			func(int) time.Time { return now.Add(time.Minute) }, nil)
	})
	if err != nil {
		t.Fatal(err)
	}
	msg := "done"
	if err := s.UpdateRun(ctx, a.ID, run.ID, store.RunProgress{Status: "partially_failed", Finished: true, Message: &msg}); err != nil {
		t.Fatal(err)
	}

	hours, err := s.APIUsageHours(ctx, a.ID, now.Add(-24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	h10 := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	want := []store.APIUsageHour{{Hour: h10, Calls: 7}, {Hour: h10.Add(time.Hour), Calls: 6, OrgUsed: 4200, OrgMax: 110000}}
	if len(hours) != len(want) {
		t.Fatalf("APIUsageHours: got %+v, want %+v", hours, want)
	}
	for i := range want {
		if !hours[i].Hour.Equal(want[i].Hour) || hours[i].Calls != want[i].Calls || hours[i].OrgUsed != want[i].OrgUsed || hours[i].OrgMax != want[i].OrgMax {
			t.Errorf("hour %d: got %+v, want %+v", i, hours[i], want[i])
		}
	}
	if got, _ := s.APIUsageHours(ctx, b.ID, now.Add(-24*time.Hour)); len(got) != 0 {
		t.Errorf("the other tenant sees usage hours: %+v", got)
	}
	if got, _ := s.APIUsageHours(ctx, a.ID, now); len(got) != 1 {
		t.Errorf("APIUsageHours since 11:10: got %d hours, want the 11:00 hour only", len(got))
	}

	fails, err := s.FailuresByHour(ctx, a.ID, now.Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if len(fails) != 2 || fails[0].ReasonCode != "invalid_phone" || fails[0].Count != 2 || fails[1].ReasonCode != "too_long" || fails[1].Count != 1 ||
		!fails[0].Hour.Equal(h10.Add(time.Hour)) {
		t.Errorf("FailuresByHour: got %+v, want invalid_phone 2 and too_long 1 at 11:00 (conflicts not counted)", fails)
	}

	last, err := s.LastCompleted(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got := last["to_platform"]; !got.Equal(now) || len(last) != 1 {
		t.Errorf("LastCompleted: got %v, want to_platform (partially failed) at %v only, not the failed push", last, now)
	}
	runs, err := s.RunsSince(ctx, a.ID, now.Add(-2*time.Hour), 10)
	if err != nil || len(runs) != 2 || runs[0].APICalls != 13 || runs[1].ID != failedRun.ID {
		t.Errorf("RunsSince: got %+v, %v; want the run with 13 calls, then the failed push", runs, err)
	}

	pull, push, err := s.OpenFailures(ctx, a.ID)
	if err != nil || pull != 3 || push != 0 {
		t.Errorf("OpenFailures: got %d, %d, %v; want 3 pull failures", pull, push, err)
	}
	open, err := s.OpenPullFailures(ctx, a.ID, 10)
	if err != nil || len(open) != 3 || open[0].SalesforceID != "003A" || open[0].ReasonCode != "invalid_phone" || !open[0].At.Equal(now) {
		t.Errorf("OpenPullFailures: got %+v, %v; want 003A invalid_phone at %v first", open, err, now)
	}

	c, err := s.CreateContact(ctx, a.ID, mustNormalize(t, contact.Input{MemberID: str("M1")}), contact.OriginAPI)
	if err != nil {
		t.Fatal(err)
	}
	at, err := s.ContactsUpdatedAt(ctx, a.ID, []string{c.ID, "c_missing"})
	if err != nil || len(at) != 1 || !at[c.ID].Equal(now) {
		t.Errorf("ContactsUpdatedAt: got %v, %v; want %s at %v", at, err, c.ID, now)
	}
	if at, _ := s.ContactsUpdatedAt(ctx, b.ID, []string{c.ID}); len(at) != 0 {
		t.Errorf("the other tenant sees a contact's time: %v", at)
	}

	// A change Salesforce refused is an open push failure.
	entries, err := s.ListOutbox(ctx, a.ID, 0, 10)
	if err != nil || len(entries) != 1 {
		t.Fatalf("outbox: got %d entries, %v; want the contact's", len(entries), err)
	}
	err = s.Tx(ctx, func(tx *sql.Tx) error {
		if err := s.AddRunRecordsTx(ctx, tx, a.ID, []store.SyncRunRecord{{RunID: failedRun.ID, Kind: "failed", ContactID: c.ID, ReasonCode: "STRING_TOO_LONG"}}); err != nil {
			return err
		}
		return s.FailOutboxTx(ctx, tx, a.ID, map[int64]string{entries[0].ID: "too long"}, func(int) time.Time { return now.Add(time.Minute) })
	})
	if err != nil {
		t.Fatal(err)
	}
	if pull, push, err := s.OpenFailures(ctx, a.ID); err != nil || pull != 3 || push != 1 {
		t.Errorf("OpenFailures: got %d, %d, %v; want 3 pull and 1 push failure", pull, push, err)
	}
	pushes, err := s.OpenPushFailures(ctx, a.ID, 10)
	if err != nil || len(pushes) != 1 || pushes[0].ContactID != c.ID || pushes[0].ReasonCode != "STRING_TOO_LONG" || !pushes[0].At.Equal(now) {
		t.Errorf("OpenPushFailures: got %+v, %v; want %s STRING_TOO_LONG at %v", pushes, err, c.ID, now)
	}
	if got, _ := s.OpenPushFailures(ctx, b.ID, 10); len(got) != 0 {
		t.Errorf("the other tenant sees push failures: %+v", got)
	}

	n, err := s.PruneAPIUsageHours(ctx, h10.Add(time.Hour))
	if err != nil || n != 1 {
		t.Errorf("PruneAPIUsageHours: got %d, %v; want the 10:00 hour pruned", n, err)
	}
}
