package jobs_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/sfsync/sfsync/internal/api"
	"github.com/sfsync/sfsync/internal/contact"
	"github.com/sfsync/sfsync/internal/jobs"
	"github.com/sfsync/sfsync/internal/store"
	"github.com/sfsync/sfsync/internal/syncconf"
	"github.com/sfsync/sfsync/internal/syncer"
	"github.com/sfsync/sfsync/internal/testenv"
)

// BenchmarkQueueDuringFirstSync runs a first sync on SQLite through the
// job queue (River) and, while it writes, measures every 100 ms: the
// JSON API's answer (GET /api/v1/salesforce/runs/{id}) and the start
// latency of a trivial River job (a push job for the tenant, which
// returns at once while the first sync runs: River's own fetch and
// update, from scheduled_at to attempted_at). Issue 14 item 2: each p99
// ≤ 250 ms; the benchmark fails above it. 100k contacts, 1M with
// SFSYNC_BENCH_LARGE=1, or SFSYNC_BENCH_CONTACTS. It fails too when a
// pull job is attempted twice (rescued) or River's leader changes (its
// election time in river_leader, sampled every 100 ms: a leader that
// lost its lease). The admin UI's latency
// during a sync is in internal/productbench (BenchmarkProductFirstSync).
func BenchmarkQueueDuringFirstSync(b *testing.B) {
	if testing.Short() {
		b.Skip("benchmark")
	}
	n := 100_000
	if os.Getenv("SFSYNC_BENCH_LARGE") != "" {
		n = 1_000_000
	}
	if v, err := strconv.Atoi(os.Getenv("SFSYNC_BENCH_CONTACTS")); err == nil && v > 0 {
		n = v
	}
	for range b.N {
		queueDuringFirstSync(b, n)
	}
}

func quantile(d []time.Duration, p float64) float64 {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	return float64(s[min(len(s)-1, int(math.Ceil(p*float64(len(s))))-1)].Microseconds()) / 1000
}

func queueDuringFirstSync(b *testing.B, n int) {
	b.StopTimer()
	ctx := context.Background()
	env := testenv.New(b, testenv.Options{Dialect: store.SQLite})
	if _, err := env.Org.SeedContacts(n, 7); err != nil {
		b.Fatal(err)
	}
	env.Connect(b)
	eng := &syncer.Engine{Store: env.Store, Conn: env.Conn, Logger: slog.New(slog.DiscardHandler), PushCoalesce: syncer.DefaultPushCoalesce}
	if d, err := time.ParseDuration(os.Getenv("SFSYNC_BENCH_PAGE_TIME")); err == nil {
		eng.PageTime = d
	}
	cfg := syncconf.Config{
		Identity: syncconf.IdentityMapping{SalesforceField: "Member_Number__c", PlatformIdentity: contact.IdentityMemberID,
			ToPlatformNoMatch: syncconf.NoMatchCreate, ToSalesforceNoMatch: syncconf.NoMatchUpdateOnly},
		Fields: []syncconf.FieldMapping{
			{SalesforceField: "LastName", PlatformField: "name", Direction: syncconf.DirToPlatform},
			{SalesforceField: "Email", PlatformField: "email", Direction: syncconf.DirToPlatform},
			{SalesforceField: "MobilePhone", PlatformField: "phone", Direction: syncconf.DirToPlatform},
		},
	}
	if _, err := eng.SaveConfig(ctx, env.Tenant.ID, "bench", cfg); err != nil {
		b.Fatal(err)
	}
	r, err := jobs.New(ctx, env.Store, eng, jobs.Options{Workers: 2, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	if err := r.Start(ctx); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = r.Stop(context.Background()) })
	srv := httptest.NewServer(api.NewWithSync(env.Store, nil, api.Sync{Engine: eng, Conn: env.Conn}))
	b.Cleanup(srv.Close)
	_, key, err := env.Store.CreateAPIKey(ctx, env.Tenant.ID, "bench")
	if err != nil {
		b.Fatal(err)
	}

	b.StartTimer()
	run, err := eng.StartInitialSync(ctx, env.Tenant.ID)
	if err != nil {
		b.Fatal(err)
	}
	var apiLat []time.Duration
	var pushes int
	// River's leader: its election time changes only when the leader
	// lost its lease (or stepped down) and one was elected again.
	type leader struct {
		id string
		at time.Time
	}
	var leaders []leader
	var noLeader int
	start := time.Now()
	for {
		time.Sleep(100 * time.Millisecond)
		var l leader
		switch err := env.Store.JobsDB().QueryRowContext(ctx, `SELECT leader_id, elected_at FROM river_leader`).Scan(&l.id, &l.at); {
		case err == nil:
			if len(leaders) == 0 || leaders[len(leaders)-1] != l {
				leaders = append(leaders, l)
			}
		case errors.Is(err, sql.ErrNoRows):
			if len(leaders) > 0 {
				noLeader++
			}
		default:
			b.Fatal(err)
		}
		req, _ := http.NewRequest("GET", fmt.Sprintf("%s/api/v1/salesforce/runs/%d", srv.URL, run.ID), nil)
		req.Header.Set("Authorization", "Bearer "+key)
		t0 := time.Now()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		resp.Body.Close()
		apiLat = append(apiLat, time.Since(t0))
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("GET run = %d", resp.StatusCode)
		}
		if err := r.EnqueuePush(ctx, env.Tenant.ID); err == nil {
			pushes++
		}
		got, err := env.Store.GetRun(ctx, env.Tenant.ID, run.ID)
		if err != nil {
			b.Fatal(err)
		}
		if got.Status != syncer.StatusRunning && got.Status != syncer.StatusPaused {
			break
		}
		if time.Since(start) > 2*time.Hour {
			b.Fatal("the first sync did not end within 2 hours")
		}
	}
	b.StopTimer()
	time.Sleep(500 * time.Millisecond) // the last push jobs start
	// River's own start latency of each push job, from its own columns.
	rows, err := env.Store.JobsDB().QueryContext(ctx, `SELECT scheduled_at, attempted_at FROM river_job WHERE kind = 'sfsync.push' AND attempted_at IS NOT NULL`)
	if err != nil {
		b.Fatal(err)
	}
	var riverLat []time.Duration
	var riverDue []time.Time
	for rows.Next() {
		var sched, att time.Time
		if err := rows.Scan(&sched, &att); err != nil {
			b.Fatal(err)
		}
		riverLat = append(riverLat, max(0, att.Sub(sched)))
		riverDue = append(riverDue, sched)
	}
	rows.Close()
	var rescued int
	if err := env.Store.JobsDB().QueryRowContext(ctx, `SELECT COUNT(*) FROM river_job WHERE kind = 'sfsync.pull' AND attempt > 1`).Scan(&rescued); err != nil {
		b.Fatal(err)
	}
	apiP99, riverP99 := quantile(apiLat, 0.99), quantile(riverLat, 0.99)
	b.ReportMetric(apiP99, "api_p99_ms")
	b.ReportMetric(riverP99, "river_start_p99_ms")
	b.ReportMetric(float64(len(riverLat)), "river_jobs")
	b.ReportMetric(float64(rescued), "pulls_rescued")
	b.ReportMetric(float64(len(leaders)-1), "leader_reelections")
	var slow []string // the starts over 200 ms, and when they were due
	for i, d := range riverLat {
		if d > 200*time.Millisecond {
			slow = append(slow, fmt.Sprintf("%d ms at +%.1f s", d.Milliseconds(), riverDue[i].Sub(start).Seconds()))
		}
	}
	b.Logf("%d contacts: API p50/p99 %.0f/%.0f ms over %d; River push-job start p50/p99 %.0f/%.0f ms over %d (%d enqueued; over 200 ms: %v); %d pull jobs attempted more than once; %d leader elections seen, %d samples without a leader",
		n, quantile(apiLat, 0.5), apiP99, len(apiLat), quantile(riverLat, 0.5), riverP99, len(riverLat), pushes, slow, rescued, len(leaders), noLeader)
	if apiP99 > 250 || riverP99 > 250 {
		b.Errorf("p99 API %.0f ms, River job start %.0f ms during the first sync, want each ≤ 250 ms", apiP99, riverP99)
	}
	if len(leaders) != 1 || noLeader > 0 {
		b.Errorf("River's leadership changed during the first sync: %d elections seen (%v), %d samples without a leader; want the first leader to keep its lease", len(leaders), leaders, noLeader)
	}
	if rescued > 0 {
		b.Errorf("%d pull jobs were attempted more than once, want none rescued during a healthy sync", rescued)
	}
}
