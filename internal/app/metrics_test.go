package app

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/sfsync/sfsync/internal/config"
	"github.com/sfsync/sfsync/internal/contact"
	"github.com/sfsync/sfsync/internal/store"
	"github.com/sfsync/sfsync/internal/store/storetest"
	"github.com/sfsync/sfsync/internal/tenant"
)

// openDialect opens the service on a fresh database of dialect d.
func openDialect(t *testing.T, d store.Dialect) *App {
	t.Helper()
	args := []string{"--data-dir", t.TempDir()}
	if d == store.Postgres {
		key := make([]byte, 32)
		rand.Read(key)
		args = append(args, "--database-url", storetest.PostgresSchema(t), "--secret-key", base64.StdEncoding.EncodeToString(key))
	}
	cfg, _, err := config.Parse("serve", args, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	a, err := Open(context.Background(), cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	return a
}

// TestOperatorMetrics checks the figures /metrics derives from known
// state (populate), on both databases.
func TestOperatorMetrics(t *testing.T) {
	t.Parallel()
	for _, d := range storetest.Dialects {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			a := openDialect(t, d)
			tenants := populate(t, a)

			mf := gather(t, a)
			for _, tc := range []struct {
				name   string
				labels map[string]string
				want   float64
			}{
				{"sfsync_ops_scrape_success", nil, 1},
				{"sfsync_salesforce_connections", map[string]string{"status": store.ConnConnected}, 1},
				{"sfsync_salesforce_connections", map[string]string{"status": store.ConnBroken}, 1},
				{"sfsync_outbox_rows", nil, 1},
				{"sfsync_recent_runs", map[string]string{"direction": "to_platform", "status": "partially_failed"}, 1},
				{"sfsync_recent_records", map[string]string{"direction": "to_platform", "outcome": "created"}, 3},
				{"sfsync_recent_records", map[string]string{"direction": "to_platform", "outcome": "failed"}, 1},
				{"sfsync_recent_record_issues", map[string]string{"kind": "failed", "reason": "invalid_phone"}, 1},
				{"sfsync_salesforce_api_calls_24h", nil, 4},
				{"sfsync_recent_window_seconds", nil, opsWindow.Seconds()},
				{"sfsync_salesforce_orgs_over_budget", nil, 1},
			} {
				if got, ok := value(mf, tc.name, tc.labels); !ok || got != tc.want {
					t.Errorf("%s%v: got %v (found %v), want %v", tc.name, tc.labels, got, ok, tc.want)
				}
			}
			lag := find(mf, "sfsync_sync_lag_seconds", map[string]string{"direction": "to_platform"})
			if lag == nil || lag.GetSummary().GetSampleCount() != 2 {
				t.Fatalf("to_platform lag: got %v, want a summary over 2 tenants", lag)
			}
			if q := quantileOf(lag, 0.99); math.Abs(q-3600) > 60 {
				t.Errorf("to_platform lag p99: got %v s, want about 3600", q)
			}
			top := find(mf, "sfsync_top_lagging_tenant_seconds", map[string]string{"rank": "1"})
			if top == nil || labelOf(top, "tenant_id") != tenants[0].ID {
				t.Errorf("top lagging tenant: got %v, want %s", top, tenants[0].ID)
			}
			push := find(mf, "sfsync_sync_lag_seconds", map[string]string{"direction": "to_salesforce"})
			if push == nil || push.GetSummary().GetSampleCount() != 1 {
				t.Errorf("to_salesforce lag: got %v, want one tenant with a pending change", push)
			}
			overdue := find(mf, "sfsync_pull_overdue_seconds", nil)
			if q := quantileOf(overdue, 0.99); math.Abs(q-1800) > 60 {
				t.Errorf("pull overdue p99: got %v s, want about 1800", q)
			}
			usage := find(mf, "sfsync_salesforce_org_api_usage_ratio", nil)
			if h := usage.GetHistogram(); h.GetSampleCount() != 2 || math.Abs(h.GetSampleSum()-0.7) > 1e-9 {
				t.Errorf("org API usage: got %d readings summing %v, want 2 summing 0.7", h.GetSampleCount(), h.GetSampleSum())
			}
			delay := find(mf, "sfsync_job_start_delay_seconds", map[string]string{"queue": "schedule"})
			if delay == nil || delay.GetHistogram().GetSampleCount() < 1 {
				t.Errorf("job start delay of the schedule queue: got %v, want the scheduler's job", delay)
			}
		})
	}
}

// populate puts known state in a's database: two tenants, one whose last
// successful pull started an hour ago, one pending platform change, a pull
// finished just now with counts and a failure, a connected and a broken
// connection, and the scheduler's job started by the workers.
func populate(t *testing.T, a *App) []tenant.Tenant {
	t.Helper()
	ctx := context.Background()
	now := time.Now()
	var tenants []tenant.Tenant
	for _, name := range []string{"Behind", "Current"} {
		tn, err := a.Store.CreateTenant(ctx, tenant.Tenant{Name: name, Language: "en"})
		if err != nil {
			t.Fatal(err)
		}
		tenants = append(tenants, tn)
	}
	for i, lag := range []time.Duration{time.Hour, time.Minute} {
		st := store.SyncState{TenantID: tenants[i].ID, PullEnabled: true, PushEnabled: true, NextPullAt: now.Add(-lag / 2)}
		if err := a.Store.SaveSyncState(ctx, st); err != nil {
			t.Fatal(err)
		}
	}
	// The tenant behind last pulled successfully an hour ago.
	a.Store.Now = func() time.Time { return now.Add(-time.Hour) }
	old, err := a.Store.CreateRun(ctx, store.SyncRun{TenantID: tenants[0].ID, Direction: "to_platform", Trigger: "scheduled", Status: "running"})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Store.UpdateRun(ctx, tenants[0].ID, old.ID, store.RunProgress{Status: "succeeded", Finished: true}); err != nil {
		t.Fatal(err)
	}
	a.Store.Now = func() time.Time { return now.Add(-time.Minute) }
	for i, status := range []string{store.ConnConnected, store.ConnBroken} {
		c := store.SalesforceConnection{TenantID: tenants[i].ID, Status: status, LoginURL: "https://login.example", InstanceURL: "https://org" + tenants[i].ID + ".example",
			IdentityURL: "https://id.example", APIBudget: 0.5, ConnectedAt: now, UpdatedAt: now}
		if err := a.Store.SaveConnection(ctx, c); err != nil {
			t.Fatal(err)
		}
		// The org of the first uses 60 % of its allocation (over the 50 %
		// share), the second's 10 %.
		if err := a.Store.SaveAPIUsage(ctx, tenants[i].ID, []int64{3000, 500}[i], 5000, now); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := a.Store.CreateContact(ctx, tenants[1].ID, contact.Input{MemberID: contact.Some("M1")}, contact.OriginAPI); err != nil {
		t.Fatal(err)
	}
	run, err := a.Store.CreateRun(ctx, store.SyncRun{TenantID: tenants[1].ID, Direction: "to_platform", Trigger: "scheduled", Status: "running"})
	if err != nil {
		t.Fatal(err)
	}
	a.Store.Now = time.Now
	if err := a.Store.UpdateRun(ctx, tenants[1].ID, run.ID, store.RunProgress{Counts: store.SyncCounts{Created: 3, Updated: 2, Failed: 1},
		APICalls: 4, Status: "partially_failed", Finished: true}); err != nil {
		t.Fatal(err)
	}
	if err := a.Store.AddRunRecords(ctx, tenants[1].ID, []store.SyncRunRecord{{RunID: run.ID, Kind: "failed", ReasonCode: "invalid_phone", Reason: "bad phone"}}); err != nil {
		t.Fatal(err)
	}
	if err := a.StartWorkers(ctx); err != nil {
		t.Fatal(err)
	}
	waitForJob(t, a)
	return tenants
}

// waitForJob waits until the scheduler's first job has finished, so River's
// table has a job with both a start delay and a duration. (Waiting only
// for its start let the duration histogram be missing when the metrics
// were read while the job still ran.)
func waitForJob(t *testing.T, a *App) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		var n int
		if err := a.Store.JobsDB().QueryRow(`SELECT COUNT(*) FROM river_job WHERE queue = 'schedule' AND attempted_at IS NOT NULL AND finalized_at IS NOT NULL`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatal("the scheduler's job did not finish within 20 s")
}

func TestSalesforceTransportCountsRequests(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/fail" {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}))
	defer srv.Close()
	tr := newSFTransport(http.DefaultTransport)
	c := &http.Client{Transport: tr}
	for _, p := range []string{"/ok", "/fail"} {
		resp, err := c.Get(srv.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	if _, err := c.Get("http://127.0.0.1:1/"); err == nil {
		t.Fatal("a request to a closed port succeeded")
	}
	reg := gatherer(tr)
	for _, outcome := range []string{"2xx", "5xx", "error"} {
		if got, _ := value(reg, "sfsync_salesforce_requests_total", map[string]string{"outcome": outcome}); got != 1 {
			t.Errorf("requests %s: got %v, want 1", outcome, got)
		}
	}
}

func TestQuantile(t *testing.T) {
	t.Parallel()
	v := []float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	for _, tc := range []struct{ p, want float64 }{{0.5, 5}, {0.9, 9}, {0.99, 10}, {0, 1}} {
		if got := quantile(v, tc.p); got != tc.want {
			t.Errorf("quantile(%v): got %v, want %v", tc.p, got, tc.want)
		}
	}
	if got := quantile(nil, 0.5); !math.IsNaN(got) {
		t.Errorf("quantile of nothing: got %v, want NaN", got)
	}
}

func gather(t *testing.T, a *App) []*dto.MetricFamily {
	t.Helper()
	mf, err := a.Metrics.Gather()
	if err != nil {
		t.Fatal(err)
	}
	return mf
}

func gatherer(tr *sfTransport) []*dto.MetricFamily {
	reg := prometheus.NewRegistry()
	reg.MustRegister(tr.requests)
	mf, _ := reg.Gather()
	return mf
}

func find(mf []*dto.MetricFamily, name string, labels map[string]string) *dto.Metric {
	for _, f := range mf {
		if f.GetName() != name {
			continue
		}
	next:
		for _, m := range f.GetMetric() {
			for k, v := range labels {
				if labelOf(m, k) != v {
					continue next
				}
			}
			return m
		}
	}
	return nil
}

func value(mf []*dto.MetricFamily, name string, labels map[string]string) (float64, bool) {
	m := find(mf, name, labels)
	switch {
	case m == nil:
		return 0, false
	case m.Gauge != nil:
		return m.GetGauge().GetValue(), true
	case m.Counter != nil:
		return m.GetCounter().GetValue(), true
	}
	return 0, false
}

func labelOf(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}

func quantileOf(m *dto.Metric, p float64) float64 {
	for _, q := range m.GetSummary().GetQuantile() {
		if q.GetQuantile() == p {
			return q.GetValue()
		}
	}
	return math.NaN()
}
