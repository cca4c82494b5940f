package syncer_test

import (
	"testing"
	"time"

	"github.com/sfsync/sfsync/internal/contact"
	"github.com/sfsync/sfsync/internal/store/storetest"
	"github.com/sfsync/sfsync/internal/syncer"
)

// TestMaintainClosesIdlePushRuns: the scheduler's upkeep leaves a
// real-time push run open inside its window and closes it once the
// window has passed (it now finds such runs with one query instead of
// reading every tenant's state).
func TestMaintainClosesIdlePushRuns(t *testing.T) {
	t.Parallel()
	for _, d := range storetest.Dialects {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			f := setup(t, d)
			f.eng.PushWindow = time.Second
			f.save(t, memberConfig())
			f.sfMembers(t, 2)
			first, err := f.eng.StartInitialSync(f.ctx, f.Tenant.ID)
			if err != nil {
				t.Fatal(err)
			}
			f.pull(t, first, syncer.ModeFull)
			amy := f.platform(t, "M0001")
			if _, _, err := f.Store.UpdateContact(f.ctx, f.Tenant.ID, amy.ID, contact.Input{Name: contact.Some("Amy Lin")}, contact.OriginAPI); err != nil {
				t.Fatal(err)
			}
			if err := f.eng.RunPush(f.ctx, f.Tenant.ID); err != nil {
				t.Fatal(err)
			}
			st, err := f.Store.GetSyncState(f.ctx, f.Tenant.ID)
			if err != nil || st.PushRunID == 0 {
				t.Fatalf("push run ID = %d, %v; want a run", st.PushRunID, err)
			}
			status := func() syncer.Run {
				r, err := f.Store.GetRun(f.ctx, f.Tenant.ID, st.PushRunID)
				if err != nil {
					t.Fatal(err)
				}
				return r
			}
			if err := f.eng.Maintain(f.ctx); err != nil {
				t.Fatal(err)
			}
			if r := status(); r.Status != syncer.StatusRunning {
				t.Fatalf("push run inside its window = %s, want running", r.Status)
			}
			time.Sleep(1100 * time.Millisecond)
			if open, err := f.Store.OpenPushRuns(f.ctx, time.Now().Add(-time.Second)); err != nil || len(open) != 1 || open[0] != f.Tenant.ID {
				t.Errorf("OpenPushRuns = %v, %v; want [%s]", open, err, f.Tenant.ID)
			}
			if err := f.eng.Maintain(f.ctx); err != nil {
				t.Fatal(err)
			}
			if r := status(); r.Status == syncer.StatusRunning || r.FinishedAt == nil {
				t.Errorf("push run after its window = %s, finished %v; want it closed", r.Status, r.FinishedAt)
			}
			if open, err := f.Store.OpenPushRuns(f.ctx, time.Now()); err != nil || len(open) != 0 {
				t.Errorf("OpenPushRuns after the close = %v, %v; want none", open, err)
			}
		})
	}
}
