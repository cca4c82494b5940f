package app

import (
	"context"
	"log/slog"
	"math"
	"net/http"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sfsync/sfsync/internal/jobs"
	"github.com/sfsync/sfsync/internal/store"
)

// The operator's metrics. Figures about tenants and runs are read from the
// database when Prometheus scrapes (cached for opsCacheFor), so they are
// the same on every process: aggregate them with max(), not sum(). The
// Salesforce request counters are per process: sum them. No metric has a
// per-tenant label except the bounded top-N list.
const (
	// opsWindow is how far back the "recent" metrics reach: one poll
	// interval, so every tenant's scheduled pull is in it.
	opsWindow = 15 * time.Minute
	// opsCacheFor spares the database when several Prometheus servers
	// (or a short scrape interval) ask often.
	opsCacheFor = 10 * time.Second
	// topLagging is how many of the most-behind tenants are named.
	topLagging = 5
)

var (
	lagQuantiles    = []float64{0.5, 0.9, 0.99}
	jobDelayBuckets = []float64{0.1, 0.5, 1, 5, 15, 30, 60, 120, 300, 900}
	jobRunBuckets   = []float64{0.1, 0.5, 1, 5, 15, 60, 180, 300, 900, 1800}
	usageBuckets    = []float64{0.1, 0.25, 0.5, 0.75, 0.9, 1}
)

func opsDesc(name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc(name, help, labels, nil)
}

var (
	descScrapeOK    = opsDesc("sfsync_ops_scrape_success", "1 if the last read of the database for these metrics succeeded, else 0.")
	descConnections = opsDesc("sfsync_salesforce_connections", "Salesforce connections by status (connected, broken, …).", "status")
	descLag         = opsDesc("sfsync_sync_lag_seconds", "Across tenants, how far each is behind: to_platform is the time since its last successful pull started; to_salesforce is the age of the oldest platform change Salesforce has not acknowledged.", "direction")
	descOverdue     = opsDesc("sfsync_pull_overdue_seconds", "Across tenants with pull on and not paused, how long the scheduled pull has been due without finishing (0 if not due).")
	descTopLag      = opsDesc("sfsync_top_lagging_tenant_seconds", "The tenants furthest behind Salesforce (to_platform lag), to find them: at most 5 series.", "rank", "tenant_id")
	descOutbox      = opsDesc("sfsync_outbox_rows", "Platform changes waiting to reach Salesforce.")
	descPaused      = opsDesc("sfsync_tenants_paused_for_budget", "Tenants whose sync waits for the Salesforce API budget.")
	descRunning     = opsDesc("sfsync_runs_running", "Runs in progress by direction.", "direction")
	descWindow      = opsDesc("sfsync_recent_window_seconds", "The window the sfsync_recent_* metrics cover; divide by it for a rate.")
	descRuns        = opsDesc("sfsync_recent_runs", "Runs finished in the recent window, by direction and status.", "direction", "status")
	descRecords     = opsDesc("sfsync_recent_records", "Records handled by runs finished in the recent window, by direction and outcome.", "direction", "outcome")
	descIssues      = opsDesc("sfsync_recent_record_issues", "Per-record log entries (failures, ambiguities, conflicts, …) written in the recent window, by kind and reason code (the 20 largest; the rest as other).", "kind", "reason")
	descAPICalls    = opsDesc("sfsync_salesforce_api_calls_24h", "Salesforce API calls made by runs started in the last 24 hours, all tenants.")
	descJobs        = opsDesc("sfsync_jobs", "River jobs not yet finished, by queue and state: the queue depth.", "queue", "state")
	descJobDelay    = opsDesc("sfsync_job_start_delay_seconds", "For jobs started in the recent window, the time from when they were due to when a worker took them.", "queue")
	descJobRun      = opsDesc("sfsync_job_duration_seconds", "For jobs finished in the recent window, how long their last attempt ran.", "queue")
	descUsage       = opsDesc("sfsync_salesforce_org_api_usage_ratio", "Across connections whose org reported in the last 24 hours, the org's API usage over its daily allocation (Sforce-Limit-Info, stored after each run; all clients of the org count).")
	descOverBudget  = opsDesc("sfsync_salesforce_orgs_over_budget", "Connections whose org's API usage has reached sfsync's share of its allocation (calls are refused locally until it falls).")
)

// instrumentSalesforce sends the connection service's Salesforce requests
// through a counting transport and registers the operator's metrics.
func (a *App) instrumentSalesforce() {
	// The settings salesforce.Client uses when given no HTTP client,
	// with one transport shared by every tenant's client.
	base := http.DefaultTransport.(*http.Transport).Clone()
	base.ResponseHeaderTimeout = 10 * time.Minute
	base.MaxIdleConnsPerHost = 16
	sf := newSFTransport(base)
	if a.Conn.HTTPClient == nil {
		a.Conn.HTTPClient = &http.Client{Transport: sf}
	}
	a.Metrics.MustRegister(sf.requests, &opsCollector{store: a.Store, log: a.Logger, now: time.Now})
}

// opsCollector turns the database's figures into metrics at scrape time.
type opsCollector struct {
	store *store.Store
	log   *slog.Logger
	now   func() time.Time

	mu     sync.Mutex
	at     time.Time
	cached []prometheus.Metric
}

func (c *opsCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descScrapeOK, descConnections, descLag, descOverdue, descTopLag, descOutbox, descPaused,
		descRunning, descWindow, descRuns, descRecords, descIssues, descAPICalls, descJobs, descJobDelay, descJobRun, descUsage, descOverBudget} {
		ch <- d
	}
}

func (c *opsCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	if c.cached == nil || now.Sub(c.at) >= opsCacheFor {
		c.cached, c.at = c.read(now), now
	}
	for _, m := range c.cached {
		ch <- m
	}
}

func (c *opsCollector) read(now time.Time) []prometheus.Metric {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	st, err := c.store.OpsStats(ctx, now, opsWindow)
	if err != nil {
		c.log.Warn("reading the database for metrics failed", "error", err)
		return []prometheus.Metric{prometheus.MustNewConstMetric(descScrapeOK, prometheus.GaugeValue, 0)}
	}
	gauge := func(d *prometheus.Desc, v float64, labels ...string) prometheus.Metric {
		return prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	ms := []prometheus.Metric{
		gauge(descScrapeOK, 1),
		gauge(descOutbox, float64(st.OutboxRows)),
		gauge(descPaused, float64(st.PausedTenants)),
		gauge(descWindow, opsWindow.Seconds()),
		gauge(descAPICalls, float64(st.APICalls24h)),
	}
	for status, n := range st.Connections {
		ms = append(ms, gauge(descConnections, float64(n), status))
	}
	pull := make([]float64, len(st.PullLag))
	for i, t := range st.PullLag {
		pull[i] = t.Seconds
	}
	ms = append(ms, summary(descLag, pull, "to_platform"), summary(descLag, st.PushLag, "to_salesforce"), summary(descOverdue, st.PullOverdue))
	top := append([]store.TenantSeconds(nil), st.PullLag...)
	sort.Slice(top, func(i, j int) bool { return top[i].Seconds > top[j].Seconds })
	for i, t := range top[:min(topLagging, len(top))] {
		ms = append(ms, gauge(descTopLag, t.Seconds, strconv.Itoa(i+1), t.TenantID))
	}
	for _, dir := range []string{"to_platform", "to_salesforce"} {
		ms = append(ms, gauge(descRunning, float64(st.RunsRunning[dir]), dir))
	}
	for k, n := range st.RunsFinished {
		ms = append(ms, gauge(descRuns, float64(n), k[0], k[1]))
	}
	for k, n := range st.Records {
		ms = append(ms, gauge(descRecords, float64(n), k[0], k[1]))
	}
	for k, n := range st.Issues {
		ms = append(ms, gauge(descIssues, float64(n), k[0], k[1]))
	}
	// The product's queues in every unfinished state, 0 included, so an
	// empty queue is a flat line rather than no data.
	for _, q := range []jobs.Queue{jobs.QueuePull, jobs.QueueBulk, jobs.QueuePush, jobs.QueueSchedule} {
		for _, state := range []string{"available", "pending", "running", "retryable", "scheduled"} {
			if _, ok := st.Jobs[[2]string{string(q), state}]; !ok {
				st.Jobs[[2]string{string(q), state}] = 0
			}
		}
	}
	for k, n := range st.Jobs {
		ms = append(ms, gauge(descJobs, float64(n), k[0], k[1]))
	}
	for q, v := range st.JobStartDelay {
		ms = append(ms, histogram(descJobDelay, jobDelayBuckets, v, q))
	}
	for q, v := range st.JobDuration {
		ms = append(ms, histogram(descJobRun, jobRunBuckets, v, q))
	}
	ms = append(ms, histogram(descUsage, usageBuckets, st.APIUsage), gauge(descOverBudget, float64(st.OverBudget)))
	return ms
}

// summary is a constant summary over one figure per tenant.
func summary(d *prometheus.Desc, v []float64, labels ...string) prometheus.Metric {
	v = append([]float64(nil), v...)
	sort.Float64s(v)
	var sum float64
	for _, x := range v {
		sum += x
	}
	q := make(map[float64]float64, len(lagQuantiles))
	for _, p := range lagQuantiles {
		q[p] = quantile(v, p)
	}
	return prometheus.MustNewConstSummary(d, uint64(len(v)), sum, q, labels...)
}

// quantile of sorted v (nearest rank); NaN when empty, as Prometheus
// summaries report an empty quantile.
func quantile(v []float64, p float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	i := int(math.Ceil(p*float64(len(v)))) - 1
	return v[max(0, min(i, len(v)-1))]
}

// histogram is a constant histogram of v.
func histogram(d *prometheus.Desc, bounds, v []float64, labels ...string) prometheus.Metric {
	buckets := make(map[float64]uint64, len(bounds))
	var sum float64
	for _, x := range v {
		sum += x
		for _, b := range bounds {
			if x <= b {
				buckets[b]++
			}
		}
	}
	for _, b := range bounds {
		buckets[b] += 0
	}
	return prometheus.MustNewConstHistogram(d, uint64(len(v)), sum, buckets, labels...)
}

// sfTransport counts this process's Salesforce requests by outcome.
type sfTransport struct {
	base     http.RoundTripper
	requests *prometheus.CounterVec
}

func newSFTransport(base http.RoundTripper) *sfTransport {
	return &sfTransport{base: base, requests: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "sfsync_salesforce_requests_total",
		Help: "HTTP requests this process sent to Salesforce, by outcome (2xx, 4xx, 5xx, error).",
	}, []string{"outcome"})}
}

func (t *sfTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(r)
	if err != nil {
		t.requests.WithLabelValues("error").Inc()
		return resp, err
	}
	t.requests.WithLabelValues(strconv.Itoa(resp.StatusCode/100) + "xx").Inc()
	return resp, nil
}
