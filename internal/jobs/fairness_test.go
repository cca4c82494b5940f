package jobs_test

import (
	"context"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/sfsync/sfsync/internal/jobs"
	"github.com/sfsync/sfsync/internal/sfconn"
	"github.com/sfsync/sfsync/internal/sfemu"
	"github.com/sfsync/sfsync/internal/store/storetest"
	"github.com/sfsync/sfsync/internal/syncer"
	"github.com/sfsync/sfsync/internal/tenant"
	"github.com/sfsync/sfsync/internal/testenv"
)

// TestPollTurnedFullPassMovesToBulk: a scheduled poll whose cursor is
// older than Salesforce's recycle bin becomes a full pass inside its job.
// With one slot per queue, that job must leave the poll queue (for the
// bulk queue) so that another tenant's poll, asked for while the full
// pass runs, finishes beside it. Before, the full pass kept the poll
// queue's only slot and the other poll waited for all of it.
func TestPollTurnedFullPassMovesToBulk(t *testing.T) {
	t.Parallel()
	for _, d := range storetest.Dialects {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			env := testenv.New(t, testenv.Options{Dialect: d})
			env.Connect(t)
			ctx := context.Background()
			if _, err := env.Emu.CreateOrg(sfemu.OrgOptions{Name: "Beta", Edition: sfemu.Enterprise, AdminUsername: "admin@beta.test", AdminPassword: "beta-pass-1"}); err != nil {
				t.Fatal(err)
			}
			small, err := env.Store.CreateTenant(ctx, tenant.Tenant{Name: "Small", Language: "en", Plan: tenant.Plan{SalesforceAddon: true}})
			if err != nil {
				t.Fatal(err)
			}
			u, err := env.Conn.Start(ctx, small.ID, "session:small", "")
			if err != nil {
				t.Fatal(err)
			}
			q := testenv.BrowserAuthorize(t, u, "admin@beta.test", "beta-pass-1", "allow")
			if _, err := env.Conn.Finish(ctx, small.ID, "session:small", sfconn.CallbackParams{State: q.Get("state"), Code: q.Get("code"), Error: q.Get("error")}); err != nil {
				t.Fatal(err)
			}
			for i := range 6000 {
				if _, err := env.Org.CreateAsHuman(map[string]any{"LastName": fmt.Sprintf("P%05d", i), "Member_Number__c": fmt.Sprintf("M%05d", i)}); err != nil {
					t.Fatal(err)
				}
			}
			quiet := slog.New(slog.DiscardHandler)
			eng := &syncer.Engine{Store: env.Store, Conn: env.Conn, Logger: quiet, PageSize: 200}
			r, err := jobs.New(ctx, env.Store, eng, jobs.Options{Workers: 1, BulkWorkers: 1, Logger: quiet})
			if err != nil {
				t.Fatal(err)
			}
			if err := r.Start(ctx); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() {
				if err := r.Stop(context.Background()); err != nil {
					t.Errorf("stop the workers: %v", err)
				}
			})
			run := func(tenantID string, id int64) syncer.Run {
				got, err := env.Store.GetRun(ctx, tenantID, id)
				if err != nil {
					t.Fatal(err)
				}
				return got
			}
			big := env.Tenant.ID
			for _, id := range []string{small.ID, big} {
				if _, err := eng.SaveConfig(ctx, id, "u", config()); err != nil {
					t.Fatal(err)
				}
				first, err := eng.StartInitialSync(ctx, id)
				if err != nil {
					t.Fatal(err)
				}
				waitFor(t, "a first sync", 60*time.Second, func() bool { return run(id, first.ID).Status == syncer.StatusSucceeded })
			}

			// River records a job's end after the run's: until the first
			// sync's job is completed, a new pull of the tenant would be
			// merged into it.
			noLivePulls := func() bool {
				var live int
				if err := env.Store.JobsDB().QueryRowContext(ctx, `SELECT COUNT(*) FROM river_job WHERE kind = 'sfsync.pull'
					AND state NOT IN ('completed', 'cancelled', 'discarded')`).Scan(&live); err != nil {
					t.Fatal(err)
				}
				return live == 0
			}
			waitFor(t, "the first syncs' jobs to complete", 30*time.Second, noLivePulls)
			// The big tenant's cursor is a month old: its next poll reads
			// everything, 30 pages at 300 ms a call. No scheduled poll may
			// come first (it would move the cursor back to now, and the
			// test's poll would be an ordinary one): the tenant is not due
			// for an hour.
			st, err := env.Store.GetSyncState(ctx, big)
			if err != nil {
				t.Fatal(err)
			}
			st.PullCursor = time.Now().Add(-30 * 24 * time.Hour)
			st.NextPullAt = time.Now().Add(time.Hour)
			if err := env.Store.SaveSyncState(ctx, st); err != nil {
				t.Fatal(err)
			}
			waitFor(t, "no pull job to be live", 30*time.Second, noLivePulls)
			env.Emu.SetFaults(sfemu.Faults{Latency: 300 * time.Millisecond})
			if err := r.EnqueuePull(ctx, big, syncer.ModeIncremental, syncer.TriggerScheduled, 0, time.Time{}); err != nil {
				t.Fatal(err)
			}
			var poll syncer.Run
			waitFor(t, "the big tenant's poll to read its first page", 60*time.Second, func() bool {
				runs, err := env.Store.ListRuns(ctx, big, syncer.DirToPlatform, 1, 0)
				if err != nil || len(runs) == 0 || runs[0].Trigger != syncer.TriggerScheduled {
					return false
				}
				poll = runs[0]
				return poll.Processed > 0
			})
			var queue string
			if err := env.Store.JobsDB().QueryRowContext(ctx, `SELECT queue FROM river_job WHERE kind = 'sfsync.pull' AND state = 'running'`).Scan(&queue); err != nil {
				t.Fatal(err)
			}
			if queue != string(jobs.QueueBulk) {
				t.Errorf("the full pass runs in queue %q, want %q", queue, jobs.QueueBulk)
			}
			asked := time.Now()
			other, err := eng.SyncNow(ctx, small.ID)
			if err != nil {
				t.Fatal(err)
			}
			waitFor(t, "the small tenant's poll", 60*time.Second, func() bool { return run(small.ID, other.ID).FinishedAt != nil })
			took := time.Since(asked)
			if b := run(big, poll.ID); b.Status != syncer.StatusRunning {
				t.Errorf("the poll took %s and ended after the big full pass (%s, %d of %d); want it to run beside it", took, b.Status, b.Processed, b.Total)
			}
			if took > 30*time.Second {
				t.Errorf("the poll took %s, want a few seconds", took)
			}
			waitFor(t, "the big full pass", 2*time.Minute, func() bool { return run(big, poll.ID).FinishedAt != nil })
			if b := run(big, poll.ID); b.Status != syncer.StatusSucceeded || b.Processed != 6000 {
				t.Errorf("the big full pass = %s with %d processed, want succeeded with 6000", b.Status, b.Processed)
			}
		})
	}
}
