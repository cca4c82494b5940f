package syncer_test

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/sfsync/sfsync/internal/store"
	"github.com/sfsync/sfsync/internal/syncer"
	"github.com/sfsync/sfsync/internal/testenv"
)

// drift runs a drift check to its end and returns its run and report.
func (f *fixture) drift(t *testing.T) (syncer.Run, store.DriftReport) {
	t.Helper()
	run, err := f.eng.DriftCheck(f.ctx, f.Tenant.ID)
	if err != nil {
		t.Fatalf("DriftCheck: %v", err)
	}
	if run.Trigger != syncer.TriggerDrift {
		t.Fatalf("DriftCheck answered run %d with trigger %s, want a drift check", run.ID, run.Trigger)
	}
	run = f.pull(t, run, syncer.ModeDrift)
	if run.Status != syncer.StatusSucceeded && run.Status != syncer.StatusPartiallyFailed {
		t.Fatalf("drift run %d: %s %q", run.ID, run.Status, run.Message)
	}
	rep, err := f.eng.DriftReport(f.ctx, f.Tenant.ID, run.ID)
	if err != nil {
		t.Fatalf("drift report: %v", err)
	}
	return run, rep
}

// Drift made through the emulator's side door — changes the incremental
// pulls cannot see — is found by the drift check and repaired through
// the pull's decision path, and only the drifted records are read in
// full (issue 13 item 5, SPEC Y2). On the old code there is no drift
// check: these four changes stay unseen for good.
func TestDriftCheckFindsAndRepairsSideDoorDrift(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, d store.Dialect) {
		f := setup(t, d)
		f.eng.DriftRangeSize = 10 // several ranges of a few records
		ids := make([]string, 60)
		for i := range ids {
			ids[i] = f.sfCreate(t, map[string]any{"LastName": fmt.Sprintf("P%02d", i), "Member_Number__c": fmt.Sprintf("M%02d", i)})
		}
		f.save(t, memberConfig())
		first, _ := f.eng.StartInitialSync(f.ctx, f.Tenant.ID)
		f.pull(t, first, syncer.ModeFull)

		// A clean org: nothing drifted.
		run, rep := f.drift(t)
		if rep.RecordsDrifted != 0 || rep.RangesDrifted != 0 || rep.RangesChecked < 6 || rep.RecordsChecked != 60 {
			t.Fatalf("clean org: %+v, want 60 records in at least 6 ranges and no drift", rep)
		}
		if run.APICalls != 2 {
			t.Errorf("clean check of 60 records: %d calls, want 2 (a COUNT() and one page of Id, SystemModstamp)", run.APICalls)
		}

		old := time.Now().Add(-3 * time.Hour) // far behind the cursor and its lookback
		// 1. An edit whose SystemModstamp is old (a late commit, or one
		// equal to the cursor's at a page boundary).
		if err := f.Org.ModifyAsHuman(ids[3], map[string]any{"LastName": "Late Commit"}); err != nil {
			t.Fatal(err)
		}
		if err := f.Org.SetTimestamps(ids[3], old, old); err != nil {
			t.Fatal(err)
		}
		// 2. A trigger's write that moved only SystemModstamp, seen late.
		if err := f.Org.TouchSystemModstamp(ids[25]); err != nil {
			t.Fatal(err)
		}
		if err := f.Org.SetTimestamps(ids[25], time.Time{}, old); err != nil {
			t.Fatal(err)
		}
		// 3. A record deleted (the pull unlinks it), then restored from the
		// Recycle Bin unseen.
		if err := f.Org.DeleteAsHuman(ids[40]); err != nil {
			t.Fatal(err)
		}
		f.syncNow(t)
		if l, _ := f.Store.LinksBySalesforceID(f.ctx, f.Tenant.ID, []string{ids[40]}); len(l) != 0 {
			t.Fatal("the deleted record is still linked after a pull")
		}
		if err := f.Org.UndeleteAsHuman(ids[40]); err != nil {
			t.Fatal(err)
		}
		if err := f.Org.SetTimestamps(ids[40], old, old); err != nil {
			t.Fatal(err)
		}
		// 4. A record deleted and purged from the Recycle Bin unseen.
		if err := f.Org.DeleteAsHuman(ids[55]); err != nil {
			t.Fatal(err)
		}
		f.Org.EmptyRecycleBin()
		contacts := f.countContacts(t)

		// The incremental pull sees none of it.
		inc := f.syncNow(t)
		if got := f.platform(t, "M03").Name; got != "P03" || inc.Counts.Unlinked != 0 {
			t.Fatalf("the incremental pull saw the side door's drift (name %q, unlinked %d); the test makes no drift", got, inc.Counts.Unlinked)
		}

		run, rep = f.drift(t)
		if rep.RecordsDrifted != 4 || rep.RecordsRepaired != 4 || rep.RangesDrifted != 4 || rep.RangesRepaired != 4 {
			t.Errorf("report: %+v, want 4 records drifted and repaired in 4 ranges", rep)
		}
		recs, err := f.eng.RunRecords(f.ctx, f.Tenant.ID, run.ID, syncer.KindDrift, "", 0)
		if err != nil {
			t.Fatal(err)
		}
		codes := map[string]string{}
		for _, r := range recs {
			codes[r.SalesforceID] = r.ReasonCode
		}
		want := map[string]string{ids[3]: "drift_changed", ids[25]: "drift_changed", ids[40]: "drift_unlinked", ids[55]: "drift_missing"}
		for id, code := range want {
			if codes[id] != code {
				t.Errorf("drift log of %s: %q, want %q (log: %v)", id, codes[id], code, codes)
			}
		}
		if got := f.platform(t, "M03").Name; got != "Late Commit" {
			t.Errorf("the late commit: platform name %q, want it repaired to %q", got, "Late Commit")
		}
		if l, _ := f.Store.LinksBySalesforceID(f.ctx, f.Tenant.ID, []string{ids[40], ids[55]}); len(l) != 1 || l[ids[40]].ContactID != f.platform(t, "M40").ID {
			t.Errorf("links after repair: %v; want the restored record linked to its old platform contact again, the purged one unlinked", l)
		}
		if n := f.countContacts(t); n != contacts {
			t.Errorf("platform contacts: %d after repair, want %d (nothing created twice)", n, contacts)
		}
		if run.Counts.Unlinked != 1 {
			t.Errorf("repair unlinked %d, want 1 (the purged record)", run.Counts.Unlinked)
		}
		// Calls: the COUNT(), one page of Ids, one call per drifted range,
		// one read of the four records in full, one to settle the purged one,
		// and the uniqueness check of the restored record's member number.
		if run.APICalls > 2+4+3 {
			t.Errorf("the check used %d calls, want at most 9", run.APICalls)
		}
		if !strings.Contains(run.Message, "4 drifted") {
			t.Errorf("run message %q, want the report in words", run.Message)
		}

		// Repaired: the next check finds nothing.
		_, rep = f.drift(t)
		if rep.RecordsDrifted != 0 {
			t.Errorf("second check: %+v, want no drift left", rep)
		}
	})
}

// The drift check's cost in calls at a moderate size, through the Bulk
// API above the threshold: a COUNT(), the job, its polls and one results
// page — not one call per record or per range.
func TestDriftCheckCostInCalls(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, d store.Dialect) {
		f := setup(t, d)
		f.eng.PageSize = 2000
		f.sfMembers(t, 3000)
		f.save(t, memberConfig())
		first, _ := f.eng.StartInitialSync(f.ctx, f.Tenant.ID)
		first = f.pull(t, first, syncer.ModeFull)
		if first.Counts.Created != 3000 {
			t.Fatalf("first sync created %d contacts, want 3,000", first.Counts.Created)
		}
		f.eng.BulkThreshold = 1000
		f.eng.DriftRangeSize = 500
		run, rep := f.drift(t)
		if rep.Method != "bulk" || rep.RangesChecked != 7 {
			t.Fatalf("report %+v, want a Bulk API read over 7 ranges", rep)
		}
		if rep.RecordsDrifted != 0 {
			t.Errorf("clean org: %d records drifted, want 0", rep.RecordsDrifted)
		}
		if run.APICalls > 1+5+1 {
			t.Errorf("a clean check of %d records through the Bulk API used %d calls, want at most 7", rep.RecordsChecked, run.APICalls)
		}
		est, err := f.eng.RunRecords(f.ctx, f.Tenant.ID, run.ID, syncer.KindEstimate, "", 0)
		if err != nil || len(est) != 1 || !strings.Contains(est[0].Reason, "Bulk API 2.0") {
			t.Errorf("the run's estimate: %v (%v), want one entry naming the Bulk API", est, err)
		}
	})
}

// The drift check runs daily by itself: a tenant's first is scheduled a
// day after the scheduler first sees it, and each check schedules the
// next.
func TestDriftCheckIsScheduledDaily(t *testing.T) {
	t.Parallel()
	f := setup(t, store.SQLite)
	f.sfMembers(t, 5)
	f.save(t, memberConfig())
	first, _ := f.eng.StartInitialSync(f.ctx, f.Tenant.ID)
	f.pull(t, first, syncer.ModeFull)
	now := time.Now().UTC()
	f.eng.Now = func() time.Time { return now }
	if n, err := f.eng.ScheduleDriftChecks(f.ctx); err != nil || n != 0 {
		t.Fatalf("first schedule: %d started (%v), want none yet", n, err)
	}
	now = now.Add(23 * time.Hour)
	if n, _ := f.eng.ScheduleDriftChecks(f.ctx); n != 0 {
		t.Errorf("after 23 hours: %d started, want none", n)
	}
	now = now.Add(2 * time.Hour)
	if n, err := f.eng.ScheduleDriftChecks(f.ctx); err != nil || n != 1 {
		t.Fatalf("after 25 hours: %d started (%v), want 1", n, err)
	}
	runs, _ := f.eng.ListRuns(f.ctx, f.Tenant.ID, syncer.RunFilter{Limit: 1})
	if len(runs) != 1 || runs[0].Trigger != syncer.TriggerDrift {
		t.Fatalf("newest run: %+v, want a drift check", runs)
	}
	f.pull(t, runs[0], syncer.ModeDrift)
	now = now.Add(time.Hour)
	if n, _ := f.eng.ScheduleDriftChecks(f.ctx); n != 0 {
		t.Errorf("an hour after a check: %d started, want none until the next day", n)
	}
}

// A record that waits anyway — here one that failed (a phone number
// without its country code) and is in the retry list — is not drift, and
// once a check has seen it, the next check does not read its range again
// while nothing about it changes: a daily check of an org with failed or
// held records costs no more than one of a clean org.
func TestDriftCheckRemembersWaitingRecords(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, d store.Dialect) {
		f := setup(t, d)
		f.eng.DriftRangeSize = 10
		f.sfMembers(t, 30)
		bad := f.sfCreate(t, map[string]any{"LastName": "Bad Phone", "Member_Number__c": "M9999", "MobilePhone": "0912345678"})
		f.save(t, memberConfig())
		first, _ := f.eng.StartInitialSync(f.ctx, f.Tenant.ID)
		if first = f.pull(t, first, syncer.ModeFull); first.Counts.Failed != 1 {
			t.Fatalf("first sync failed %d records, want the one with a bad phone", first.Counts.Failed)
		}
		run, rep := f.drift(t)
		if rep.RecordsDrifted != 0 || run.APICalls != 3 {
			t.Errorf("first check: %+v in %d calls, want no drift and 3 calls (the failed record's range read once)", rep, run.APICalls)
		}
		run, rep = f.drift(t)
		if rep.RecordsDrifted != 0 || rep.RangesDrifted != 0 || run.APICalls != 2 {
			t.Errorf("second check: %+v in %d calls, want no drift and 2 calls", rep, run.APICalls)
		}
		// The waiting record changes: its range is read again (and it
		// still waits for its retry).
		f.Emu.Advance(time.Minute) // a later SystemModstamp than its creation's
		if err := f.Org.ModifyAsHuman(bad, map[string]any{"LastName": "Still Bad"}); err != nil {
			t.Fatal(err)
		}
		if run, rep = f.drift(t); rep.RecordsDrifted != 0 || run.APICalls != 3 {
			t.Errorf("after the waiting record changed: %+v in %d calls, want its range read again (3 calls), no drift", rep, run.APICalls)
		}
	})
}

// A repair never guesses an identity: a record restored from the Recycle
// Bin unseen, whose member number another record has taken meanwhile
// (and is linked with), is held for review by the repair — the pull's own
// decision path — not linked; the next check leaves it waiting.
func TestDriftRepairHoldsASharedIdentity(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{Dialect: store.SQLite, CustomFields: modelCustomFields()}) // member numbers not unique
	env.Connect(t)
	f := &fixture{Env: env, eng: &syncer.Engine{Store: env.Store, Conn: env.Conn, Logger: slog.New(slog.DiscardHandler), PageSize: 200}, ctx: context.Background()}
	a := f.sfCreate(t, map[string]any{"LastName": "Amy", "Member_Number__c": "M01"})
	f.sfCreate(t, map[string]any{"LastName": "Bob", "Member_Number__c": "M02"})
	f.save(t, memberConfig())
	first, _ := f.eng.StartInitialSync(f.ctx, f.Tenant.ID)
	f.pull(t, first, syncer.ModeFull)
	if err := f.Org.DeleteAsHuman(a); err != nil {
		t.Fatal(err)
	}
	f.syncNow(t)
	b := f.sfCreate(t, map[string]any{"LastName": "Amy B", "Member_Number__c": "M01"})
	f.syncNow(t)
	if l, _ := f.Store.LinksBySalesforceID(f.ctx, f.Tenant.ID, []string{b}); len(l) != 1 {
		t.Fatal("the newcomer with M01 is not linked")
	}
	if err := f.Org.UndeleteAsHuman(a); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-3 * time.Hour)
	if err := f.Org.SetTimestamps(a, old, old); err != nil {
		t.Fatal(err)
	}
	_, rep := f.drift(t)
	if rep.RecordsDrifted != 1 || rep.RecordsRepaired != 0 {
		t.Errorf("report %+v, want the restored record found drifted and not linked", rep)
	}
	links, _ := f.Store.LinksBySalesforceID(f.ctx, f.Tenant.ID, []string{a, b})
	if _, linked := links[a]; linked || links[b].ContactID != f.platform(t, "M01").ID {
		t.Errorf("links %v: want the restored record unlinked and the newcomer still linked to M01's contact", links)
	}
	if n, err := f.eng.CountOpenReview(f.ctx, f.Tenant.ID); err != nil || n == 0 {
		t.Errorf("open review items: %d (%v), want the shared member number held", n, err)
	}
	if _, rep = f.drift(t); rep.RecordsDrifted != 0 {
		t.Errorf("next check: %+v, want the held record left waiting, not drift", rep)
	}
}
