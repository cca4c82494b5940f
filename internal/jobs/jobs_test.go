package jobs_test

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/sfsync/sfsync/internal/contact"
	"github.com/sfsync/sfsync/internal/jobs"
	"github.com/sfsync/sfsync/internal/sfconn"
	"github.com/sfsync/sfsync/internal/sfemu"
	"github.com/sfsync/sfsync/internal/store"
	"github.com/sfsync/sfsync/internal/store/storetest"
	"github.com/sfsync/sfsync/internal/syncconf"
	"github.com/sfsync/sfsync/internal/syncer"
	"github.com/sfsync/sfsync/internal/tenant"
	"github.com/sfsync/sfsync/internal/testenv"
)

func config() syncconf.Config {
	return syncconf.Config{
		Identity: syncconf.IdentityMapping{SalesforceField: "Member_Number__c", PlatformIdentity: contact.IdentityMemberID,
			ToPlatformNoMatch: syncconf.NoMatchCreate, ToSalesforceNoMatch: syncconf.NoMatchCreate},
		Fields: []syncconf.FieldMapping{{SalesforceField: "LastName", PlatformField: "name", Direction: syncconf.DirBoth}},
	}
}

func waitFor(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestJobsRunTheEngine drives a first sync, a real-time push and the
// durable schedule through River on both drivers.
func TestJobsRunTheEngine(t *testing.T) {
	t.Parallel()
	for _, d := range storetest.Dialects {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			env := testenv.New(t, testenv.Options{Dialect: d})
			env.Connect(t)
			for i := range 300 {
				if _, err := env.Org.CreateAsHuman(map[string]any{"LastName": fmt.Sprintf("P%03d", i), "Member_Number__c": fmt.Sprintf("M%03d", i)}); err != nil {
					t.Fatal(err)
				}
			}
			ctx := context.Background()
			eng := &syncer.Engine{Store: env.Store, Conn: env.Conn, Logger: slog.New(slog.DiscardHandler), PollInterval: time.Minute}
			r, err := jobs.New(ctx, env.Store, eng, jobs.Options{Workers: 2, ScheduleEvery: 200 * time.Millisecond, Logger: slog.New(slog.DiscardHandler)})
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
			if _, err := eng.SaveConfig(ctx, env.Tenant.ID, "u", config()); err != nil {
				t.Fatal(err)
			}
			run, err := eng.StartInitialSync(ctx, env.Tenant.ID)
			if err != nil {
				t.Fatal(err)
			}
			waitFor(t, "the first sync", 30*time.Second, func() bool {
				r, _ := env.Store.GetRun(ctx, env.Tenant.ID, run.ID)
				return r.Status == syncer.StatusSucceeded
			})
			done, _ := env.Store.GetRun(ctx, env.Tenant.ID, run.ID)
			if done.Counts.Created != 300 || done.Percent() != 100 {
				t.Errorf("first sync = %+v, want 300 created at 100%%", done.Counts)
			}
			// A platform change reaches Salesforce without anyone asking.
			list, _ := env.Store.ListContacts(ctx, env.Tenant.ID, store.ContactFilter{MemberID: "M007"})
			if _, _, err := env.Store.UpdateContact(ctx, env.Tenant.ID, list[0].ID, contact.Input{Name: contact.Some("Pushed")}, contact.OriginAPI); err != nil {
				t.Fatal(err)
			}
			waitFor(t, "the real-time push", 10*time.Second, func() bool {
				for _, id := range env.Org.ContactIDs(false) {
					if r, _ := env.Org.Record(id); r["Member_Number__c"] == "M007" {
						return r["LastName"] == "Pushed"
					}
				}
				return false
			})
			// The durable schedule starts an incremental pull when due.
			st, _ := env.Store.GetSyncState(ctx, env.Tenant.ID)
			st.NextPullAt = time.Now().Add(-time.Second)
			if err := env.Store.SaveSyncState(ctx, st); err != nil {
				t.Fatal(err)
			}
			waitFor(t, "a scheduled pull", 10*time.Second, func() bool {
				runs, _ := env.Store.ListRuns(ctx, env.Tenant.ID, syncer.DirToPlatform, 10, 0)
				for _, r := range runs {
					if r.Trigger == syncer.TriggerScheduled && r.Status == syncer.StatusSucceeded {
						return true
					}
				}
				return false
			})
		})
	}
}

// TestWorkersShareJobsOnPostgres runs three worker processes' clients on
// one PostgreSQL database: every tenant is synced exactly once.
func TestWorkersShareJobsOnPostgres(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{Dialect: store.Postgres})
	ctx := context.Background()
	env.Connect(t)
	for i := range 20 {
		if _, err := env.Org.CreateAsHuman(map[string]any{"LastName": fmt.Sprintf("P%03d", i), "Member_Number__c": fmt.Sprintf("M%03d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	var engines []*syncer.Engine
	for range 3 {
		s, err := store.Open(ctx, env.DSN)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		conn := *env.Conn
		conn.Store = s
		eng := &syncer.Engine{Store: s, Conn: &conn, Logger: slog.New(slog.DiscardHandler)}
		r, err := jobs.New(ctx, s, eng, jobs.Options{Workers: 4, Logger: slog.New(slog.DiscardHandler)})
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
		engines = append(engines, eng)
	}
	if _, err := engines[0].SaveConfig(ctx, env.Tenant.ID, "u", config()); err != nil {
		t.Fatal(err)
	}
	// Ask every process for a sync at once: one run, run once.
	for _, eng := range engines {
		if _, err := eng.SyncNow(ctx, env.Tenant.ID); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "the sync", 30*time.Second, func() bool {
		runs, _ := env.Store.ListRuns(ctx, env.Tenant.ID, syncer.DirToPlatform, 10, 0)
		return len(runs) > 0 && runs[0].Status == syncer.StatusSucceeded
	})
	runs, _ := env.Store.ListRuns(ctx, env.Tenant.ID, syncer.DirToPlatform, 10, 0)
	if len(runs) != 1 || runs[0].Counts.Created != 20 {
		t.Errorf("runs = %d, first %+v; want one run that created 20", len(runs), runs[0].Counts)
	}
	var n int
	if err := env.Store.JobsDB().QueryRowContext(ctx, `SELECT COUNT(*) FROM river_job WHERE kind = 'sfsync.pull' AND attempt > 1`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("%d pull jobs ran more than once", n)
	}
}

// TestHeartbeatHandsBackDeadWorkersJobs leaves a pull job "running" under
// a worker whose last heartbeat is old (a process killed mid-job): a live
// worker hands it back at its next sweep and runs it, instead of River's
// rescue after 35 minutes. cmd/sfsync's TestKilledWorkerResumes does the
// same with a real kill -9 of a real process.
func TestHeartbeatHandsBackDeadWorkersJobs(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{Dialect: store.Postgres})
	env.Connect(t)
	for i := range 20 {
		if _, err := env.Org.CreateAsHuman(map[string]any{"LastName": fmt.Sprintf("P%03d", i), "Member_Number__c": fmt.Sprintf("M%03d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	ctx := context.Background()
	quiet := slog.New(slog.DiscardHandler)
	eng := &syncer.Engine{Store: env.Store, Conn: env.Conn, Logger: quiet}
	if _, err := jobs.New(ctx, env.Store, eng, jobs.Options{InsertOnly: true, Logger: quiet}); err != nil {
		t.Fatal(err)
	}
	if _, err := eng.SaveConfig(ctx, env.Tenant.ID, "u", config()); err != nil {
		t.Fatal(err)
	}
	run, err := eng.StartInitialSync(ctx, env.Tenant.ID)
	if err != nil {
		t.Fatal(err)
	}
	// The job as a dead process leaves it: running, held by a worker that
	// beat for the last time a minute ago.
	if _, err := env.Store.JobsDB().ExecContext(ctx, `UPDATE river_job SET state = 'running', attempt = 1, attempted_at = now(),
		attempted_by = '{ghost}' WHERE kind = 'sfsync.pull'`); err != nil {
		t.Fatal(err)
	}
	if _, err := env.Store.DB.ExecContext(ctx, `INSERT INTO sfsync_job_heartbeats (client_id, beat_at) VALUES ('ghost', now() - interval '1 minute')`); err != nil {
		t.Fatal(err)
	}
	s, err := store.Open(ctx, env.DSN)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	conn := *env.Conn
	conn.Store = s
	live := &syncer.Engine{Store: s, Conn: &conn, Logger: quiet}
	r, err := jobs.New(ctx, s, live, jobs.Options{Workers: 2, BeatEvery: 100 * time.Millisecond, DeadAfter: time.Second, Logger: quiet})
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
	waitFor(t, "the dead worker's run to finish", 30*time.Second, func() bool {
		got, _ := env.Store.GetRun(ctx, env.Tenant.ID, run.ID)
		return got.Status == syncer.StatusSucceeded
	})
	// The dead worker's row is final, so nothing it might still write
	// about it counts; a new job with the same arguments ran the run.
	var oldState, holder, errs string
	var jobs int
	if err := env.Store.JobsDB().QueryRowContext(ctx, `SELECT COUNT(*) FROM river_job WHERE kind = 'sfsync.pull'`).Scan(&jobs); err != nil {
		t.Fatal(err)
	}
	if err := env.Store.JobsDB().QueryRowContext(ctx, `SELECT state FROM river_job WHERE kind = 'sfsync.pull' ORDER BY id LIMIT 1`).Scan(&oldState); err != nil {
		t.Fatal(err)
	}
	if err := env.Store.JobsDB().QueryRowContext(ctx, `SELECT attempted_by[array_length(attempted_by, 1)], array_to_string(errors, ' ')
		FROM river_job WHERE kind = 'sfsync.pull' ORDER BY id DESC LIMIT 1`).Scan(&holder, &errs); err != nil {
		t.Fatal(err)
	}
	if jobs != 2 || oldState != "cancelled" {
		t.Errorf("got %d pull jobs, the dead worker's %s; want 2, the first cancelled", jobs, oldState)
	}
	if holder != r.ClientID() || !strings.Contains(errs, "ghost stopped beating") {
		t.Errorf("new job held by %q with errors %q; want %q and an error naming the ghost", holder, errs, r.ClientID())
	}
	// A worker that stops gracefully marks its beat old, so what it could
	// not finish moves at once.
	if err := r.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	var old bool
	if err := env.Store.DB.QueryRowContext(ctx, `SELECT beat_at < now() - interval '1 hour' FROM sfsync_job_heartbeats WHERE client_id = $1`, r.ClientID()).Scan(&old); err != nil {
		t.Fatal(err)
	}
	if !old {
		t.Errorf("beat of a stopped worker is recent, want it marked old")
	}
}

// TestLongFullSyncDoesNotDelayPolls runs one worker slot per queue: a
// tenant's long first sync holds the bulk queue's slot while another
// tenant's poll runs at once in the pull queue (before, both shared the
// pull queue and the poll waited for the first sync's slice to end).
func TestLongFullSyncDoesNotDelayPolls(t *testing.T) {
	t.Parallel()
	for _, d := range storetest.Dialects {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			env := testenv.New(t, testenv.Options{Dialect: d})
			env.Connect(t)
			ctx := context.Background()
			// A second tenant with its own org.
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
			status := func(tenantID string, id int64) syncer.Run {
				got, err := env.Store.GetRun(ctx, tenantID, id)
				if err != nil {
					t.Fatal(err)
				}
				return got
			}
			for _, id := range []string{small.ID, env.Tenant.ID} {
				if _, err := eng.SaveConfig(ctx, id, "u", config()); err != nil {
					t.Fatal(err)
				}
			}
			first, err := eng.StartInitialSync(ctx, small.ID)
			if err != nil {
				t.Fatal(err)
			}
			waitFor(t, "the small tenant's first sync", 30*time.Second, func() bool { return status(small.ID, first.ID).Status == syncer.StatusSucceeded })

			// Every Salesforce call now takes 300 ms: the big first sync
			// takes 30 pages, well over 10 s.
			env.Emu.SetFaults(sfemu.Faults{Latency: 300 * time.Millisecond})
			big, err := eng.StartInitialSync(ctx, env.Tenant.ID)
			if err != nil {
				t.Fatal(err)
			}
			waitFor(t, "the big first sync to start", 30*time.Second, func() bool { return status(env.Tenant.ID, big.ID).Processed > 0 })
			asked := time.Now()
			poll, err := eng.SyncNow(ctx, small.ID)
			if err != nil {
				t.Fatal(err)
			}
			waitFor(t, "the small tenant's poll", 60*time.Second, func() bool { return status(small.ID, poll.ID).FinishedAt != nil })
			took := time.Since(asked)
			if b := status(env.Tenant.ID, big.ID); b.Status != syncer.StatusRunning {
				t.Errorf("the poll took %s and ended after the big first sync (%s, %d of %d); want it to run beside it", took, b.Status, b.Processed, b.Total)
			}
			if took > 30*time.Second { // a few seconds; loose for a loaded machine
				t.Errorf("the poll took %s, want a few seconds", took)
			}
		})
	}
}

// TestLiveWorkersKeepTheirJobs: with a dead-after of two seconds, a first
// sync that runs for several seconds in one worker is never handed to the
// other worker sweeping beside it, because its worker keeps beating.
func TestLiveWorkersKeepTheirJobs(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{Dialect: store.Postgres})
	env.Connect(t)
	for i := range 4000 {
		if _, err := env.Org.CreateAsHuman(map[string]any{"LastName": fmt.Sprintf("P%04d", i), "Member_Number__c": fmt.Sprintf("M%04d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	env.Emu.SetFaults(sfemu.Faults{Latency: 200 * time.Millisecond}) // 20 pages: over 4 s
	ctx := context.Background()
	quiet := slog.New(slog.DiscardHandler)
	var first *syncer.Engine
	for i := range 2 {
		s, err := store.Open(ctx, env.DSN)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		conn := *env.Conn
		conn.Store = s
		eng := &syncer.Engine{Store: s, Conn: &conn, Logger: quiet, PageSize: 200}
		r, err := jobs.New(ctx, s, eng, jobs.Options{Workers: 2, BeatEvery: 200 * time.Millisecond, DeadAfter: 2 * time.Second, Logger: quiet})
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
		if i == 0 {
			first = eng
		}
	}
	if _, err := first.SaveConfig(ctx, env.Tenant.ID, "u", config()); err != nil {
		t.Fatal(err)
	}
	started := time.Now()
	run, err := first.StartInitialSync(ctx, env.Tenant.ID)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the first sync", 2*time.Minute, func() bool {
		got, _ := env.Store.GetRun(ctx, env.Tenant.ID, run.ID)
		return got.FinishedAt != nil
	})
	took := time.Since(started)
	got, _ := env.Store.GetRun(ctx, env.Tenant.ID, run.ID)
	var attempts int
	var errs string
	if err := env.Store.JobsDB().QueryRowContext(ctx, `SELECT attempt, COALESCE(array_to_string(errors, ' '), '') FROM river_job WHERE kind = 'sfsync.pull'`).Scan(&attempts, &errs); err != nil {
		t.Fatal(err)
	}
	if took < 4*time.Second {
		t.Errorf("the first sync took only %s; the test needs it to outlast the dead-after period twice", took)
	}
	if got.Status != syncer.StatusSucceeded || got.Counts.Created != 4000 || attempts != 1 || errs != "" {
		t.Errorf("run %s created %d; job attempt %d, errors %q; want one attempt creating 4000 with no error", got.Status, got.Counts.Created, attempts, errs)
	}
}
