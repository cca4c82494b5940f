package syncer_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/sfsync/sfsync/internal/contact"
	"github.com/sfsync/sfsync/internal/sfemu"
	"github.com/sfsync/sfsync/internal/store"
	"github.com/sfsync/sfsync/internal/syncer"
)

func TestForecastDay(t *testing.T) {
	t.Parallel()
	taipei, err := time.LoadLocation("Asia/Taipei")
	if err != nil {
		t.Fatal(err)
	}
	// 2026-12-07 14:30 in Taipei (06:30 UTC). Each of the three days before
	// made 10 calls at 15:00 and 20 at 22:00 local; on one of them 30 more
	// at 14:00. Today made 4 calls at 09:00 and 6 in the 14:00 hour so far.
	now := time.Date(2026, 12, 7, 14, 30, 0, 0, taipei)
	at := func(day, hour int) time.Time { return time.Date(2026, 12, day, hour, 0, 0, 0, taipei).UTC() }
	var hours []store.APIUsageHour
	for _, d := range []int{4, 5, 6} {
		hours = append(hours, store.APIUsageHour{Hour: at(d, 15), Calls: 10}, store.APIUsageHour{Hour: at(d, 22), Calls: 20})
	}
	hours = append(hours, store.APIUsageHour{Hour: at(6, 14), Calls: 30}, // averages 10 over 3 days
		store.APIUsageHour{Hour: at(1, 15), Calls: 1000}, // older than the days looked at
		store.APIUsageHour{Hour: at(7, 9), Calls: 4}, store.APIUsageHour{Hour: at(7, 14), Calls: 6})

	f := syncer.ForecastDay(hours, now, taipei, 3)
	if f.SoFar != 10 {
		t.Errorf("so far: got %d, want 10", f.SoFar)
	}
	// 14:00: 10 expected, 6 made → 4 more; 15:00: 10; 22:00: 20.
	if f.Rest != 34 || f.Total() != 44 {
		t.Errorf("rest: got %d (total %d), want 34 (total 44)", f.Rest, f.Total())
	}
	if len(f.ByHour) != 10 || !f.ByHour[0].Hour.Equal(at(7, 14)) || f.ByHour[0].Calls != 4 || f.ByHour[1].Calls != 10 || f.ByHour[8].Calls != 20 {
		t.Errorf("by hour: got %+v, want 10 hours from 14:00 (4, 10, … 20 at 22:00)", f.ByHour)
	}
	// With no history, nothing is forecast beyond what was made.
	if f := syncer.ForecastDay(hours[len(hours)-2:], now, taipei, 7); f.Rest != 0 || f.SoFar != 10 {
		t.Errorf("without history: got %+v, want 10 so far and nothing more", f)
	}
}

// The retry check counts the failed records whose data has not changed
// since they failed, in Salesforce (SystemModstamp) or on the platform,
// and those deleted since; the health line counts the open failures and
// the last success; the hourly usage holds the runs' calls.
func TestRetryCheckAndHealth(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, d store.Dialect) {
		f := setup(t, d)
		for i := range 20 {
			f.sfCreate(t, map[string]any{"LastName": fmt.Sprintf("Good %02d", i), "Member_Number__c": fmt.Sprintf("M%04d", i), "MobilePhone": fmt.Sprintf("+886 912 345 %03d", i)})
		}
		var bad []string
		for i := range 5 {
			bad = append(bad, f.sfCreate(t, map[string]any{"LastName": fmt.Sprintf("Bad %d", i), "Member_Number__c": fmt.Sprintf("B%04d", i), "MobilePhone": "0912"}))
		}
		// Salesforce stamps whole seconds: the records are read a second
		// after they were written, so their stamps predate the failures.
		time.Sleep(1100 * time.Millisecond)
		f.save(t, memberConfig())
		run, err := f.eng.StartInitialSync(f.ctx, f.Tenant.ID)
		if err != nil {
			t.Fatal(err)
		}
		run = f.pull(t, run, syncer.ModeFull)
		if run.Counts.Failed != 5 {
			t.Fatalf("first sync: %+v, want 5 failed", run.Counts)
		}

		h, err := f.eng.Health(f.ctx, f.Tenant.ID)
		if err != nil {
			t.Fatal(err)
		}
		if h.OpenFailures != 5 || !h.LastToPlatform.Equal(*run.FinishedAt) || !h.LastToSalesforce.IsZero() || h.RealTimePull || !h.Pulls || h.APIMax == 0 || h.Budget != 0.5 {
			// The first sync went through but for 5 records.
			t.Errorf("health: got %+v, want 5 open failures, the first sync's end, polling, a usage reading and the default budget", h)
		}
		usage, err := f.Store.APIUsageHours(f.ctx, f.Tenant.ID, time.Now().Add(-2*time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		var calls int64
		for _, u := range usage {
			calls += u.Calls
		}
		if calls != run.APICalls || calls == 0 {
			t.Errorf("hourly usage holds %d calls, want the run's %d", calls, run.APICalls)
		}

		check := func(runID int64) syncer.RetryCheck {
			t.Helper()
			rc, err := f.eng.CheckRetry(f.ctx, f.Tenant.ID, runID, "")
			if err != nil {
				t.Fatal(err)
			}
			return rc
		}
		rc := check(run.ID)
		if rc.Failed != 5 || rc.Unchanged != 5 || rc.Changed != 0 || rc.Reasons["invalid_phone"] != 5 || rc.APICalls < 1 {
			t.Errorf("before any edit: got %+v, want 5 unchanged for invalid_phone, read with at least one call", rc)
		}
		// One is edited in Salesforce (still wrong), one is deleted.
		if err := f.Org.ModifyAsHuman(bad[0], map[string]any{"MobilePhone": "0913"}); err != nil {
			t.Fatal(err)
		}
		if err := f.Org.DeleteAsHuman(bad[1]); err != nil {
			t.Fatal(err)
		}
		for _, id := range []int64{run.ID, 0} {
			rc = check(id)
			if rc.Failed != 5 || rc.Unchanged != 3 || rc.Changed != 1 || rc.Gone != 1 || rc.Reasons["invalid_phone"] != 3 {
				t.Errorf("check of run %d after edits: got %+v, want 3 unchanged, 1 changed, 1 gone", id, rc)
			}
		}
		// A platform edit Salesforce refuses is a push failure, unchanged
		// until the contact is edited again.
		if err := f.Org.AddValidationRule(sfemu.ValidationRule{Name: "no_bang", Field: "LastName", Pattern: `^[^!]*$`}); err != nil {
			t.Fatal(err)
		}
		good := f.platform(t, "M0003")
		if _, _, err := f.Store.UpdateContact(f.ctx, f.Tenant.ID, good.ID, contact.Input{Name: contact.Some("Good!")}, contact.OriginAPI); err != nil {
			t.Fatal(err)
		}
		if err := f.eng.RunPush(f.ctx, f.Tenant.ID); err != nil {
			t.Fatal(err)
		}
		rc = check(0)
		if rc.Failed != 6 || rc.Unchanged != 4 || rc.Changed != 1 || rc.Gone != 1 || rc.Reasons["FIELD_CUSTOM_VALIDATION_EXCEPTION"] != 1 {
			t.Errorf("check with a refused push: got %+v, want 6 failed, 4 unchanged (one refused by the validation rule)", rc)
		}
		if _, _, err := f.Store.UpdateContact(f.ctx, f.Tenant.ID, good.ID, contact.Input{Name: contact.Some("Good")}, contact.OriginAPI); err != nil {
			t.Fatal(err)
		}
		if rc = check(0); rc.Unchanged != 3 || rc.Changed != 2 {
			t.Errorf("check after the contact was fixed: got %+v, want 3 unchanged, 2 changed", rc)
		}

		// Real time once a Change Data Capture subscription is up.
		if err := f.Store.SetStreamMode(f.ctx, f.Tenant.ID, store.StreamRealtime, "", time.Now()); err != nil {
			t.Fatal(err)
		}
		if h, _ := f.eng.Health(f.ctx, f.Tenant.ID); !h.RealTimePull {
			t.Error("health: a subscription that is up does not read as real time")
		}
	})
}
