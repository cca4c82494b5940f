package syncer_test

import (
	"strings"
	"testing"

	"github.com/sfsync/sfsync/internal/store"
	"github.com/sfsync/sfsync/internal/syncer"
)

// Before a full pass the engine estimates its cost — the COUNT() and the
// page size — against the calls left today under the admin's share, and
// reads through Bulk API 2.0 when REST would cross the cap, or defers the
// pass when neither fits; the estimate and the decision are in the run's
// log (issue 13 item 4). On the old code the pass read through REST and
// crossed the cap (then paused part-way by the client).
func TestPassEstimateChoosesBulkOrDefers(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name     string
		left     int // calls left under the share before the pass starts
		wantCode string
	}{
		{"bulk", 12, "estimate_bulk_to_stay_within"},
		{"deferred", 4, "estimate_deferred"},
		{"rest", 1000, "estimate_within_budget"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			f := setup(t, store.SQLite)
			f.sfMembers(t, 3000) // REST: 15 calls of 200 (PageSize); Bulk API: about 6
			f.save(t, memberConfig())
			_, max := f.Org.APIUsage()
			allowed := max / 2 // the default share
			f.Org.SetAPIUsage(allowed - c.left)
			run, _ := f.eng.StartInitialSync(f.ctx, f.Tenant.ID)
			err := f.eng.RunPull(f.ctx, f.Tenant.ID, syncer.ModeFull, run.Trigger, run.ID)
			for i := 0; err != nil && i < 100; i++ {
				err = f.eng.RunPull(f.ctx, f.Tenant.ID, syncer.ModeFull, run.Trigger, run.ID)
			}
			if err != nil {
				t.Fatal(err)
			}
			got, _ := f.Store.GetRun(f.ctx, f.Tenant.ID, run.ID)
			est, err := f.Store.RunRecords(f.ctx, f.Tenant.ID, run.ID, syncer.KindEstimate, "", 0)
			if err != nil || len(est) != 1 {
				t.Fatalf("estimate entries: %v (%v), want one", est, err)
			}
			if est[0].ReasonCode != c.wantCode || !strings.Contains(est[0].Reason, "3000 records") {
				t.Errorf("estimate %s %q, want %s naming the 3000 records", est[0].ReasonCode, est[0].Reason, c.wantCode)
			}
			used, _ := f.Org.APIUsage()
			switch c.name {
			case "bulk":
				if got.Status != syncer.StatusSucceeded || got.Counts.Created != 3000 || got.APICalls >= 15 {
					t.Errorf("run %s, created %d, %d calls; want it done through the Bulk API in fewer than 15 calls", got.Status, got.Counts.Created, got.APICalls)
				}
				if used > allowed {
					t.Errorf("org usage %d after the pass, over the share's %d calls", used, allowed)
				}
			case "deferred":
				st, _ := f.Store.GetSyncState(f.ctx, f.Tenant.ID)
				if got.Status != syncer.StatusPaused || got.Counts.Created != 0 || st.PausedUntil.IsZero() || !strings.Contains(got.Message, "budget") {
					t.Errorf("run %s %q, created %d, paused until %v; want it deferred before reading", got.Status, got.Message, got.Counts.Created, st.PausedUntil)
				}
			case "rest":
				if got.Status != syncer.StatusSucceeded || got.APICalls < 15 {
					t.Errorf("run %s with %d calls, want REST pages", got.Status, got.APICalls)
				}
			}
		})
	}
}
