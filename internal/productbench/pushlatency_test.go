package productbench

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sfsync/sfsync/internal/sfapi"
	"github.com/sfsync/sfsync/internal/store"
	"github.com/sfsync/sfsync/internal/testenv"
)

// BenchmarkProductPushLatency is a steady stream of platform changes
// pushed to Salesforce as users meet it (issue 14 target: p99 ≤ 1 s at
// 1,000 changes/s, ≤ 2 calls per 200 changes). `sfsync emulator` and
// `sfsync serve` run in processes of their own; Salesforce is connected
// through the JSON API and the emulator's login page; the configuration
// (member number as identity, LastName ↔ name both ways) is saved
// through the API and a first sync links the org's contacts (the
// emulator seeds 1.5 times as many as the run changes, 70% with a member
// number). Once the service is quiet, the benchmark sends
// PATCH /api/v1/contacts/{id} {"name": "Lat 0000123"}, each change to a
// contact of its own, SFSYNC_BENCH_PUSH_RATE changes a second (1,000) for
// SFSYNC_BENCH_PUSH_SECONDS (20), from SFSYNC_BENCH_PUSH_CLIENTS clients
// (50), each request started on schedule if a client is free (a request
// that had to wait for one starts late: client_behind_ms, and
// sched_p99_ms counts its latency from its schedule).
//
// Each change's latency runs from the start of its API request to the
// moment an observer outside the service sees the value in Salesforce:
// every SFSYNC_BENCH_PUSH_POLL (100 ms) it asks the emulator's REST API
// for the Contacts whose SystemModstamp is at or after the oldest change
// not seen yet (SystemModstamp has whole seconds, as in Salesforce, so
// the time seen is the observer's; it is late by up to one poll period
// and the query's own time, never early). calls/200changes is the org's
// API usage meanwhile (read from the emulator's uncounted side door)
// less the observer's own queries, over the changes delivered: pushes,
// and any scheduled poll that fell in the window. The org selects no
// object for Change Data Capture (the emulator's default) and serve runs
// with SFSYNC_PUBSUB_ENDPOINT=off: it polls. SQLite, and PostgreSQL with
// SFSYNC_TEST_POSTGRES_URL.
func BenchmarkProductPushLatency(b *testing.B) {
	if testing.Short() {
		b.Skip("benchmark")
	}
	rate := envInt("SFSYNC_BENCH_PUSH_RATE", 1000)
	secs := envInt("SFSYNC_BENCH_PUSH_SECONDS", 20)
	clients := envInt("SFSYNC_BENCH_PUSH_CLIENTS", 50)
	poll := 100 * time.Millisecond
	if v := os.Getenv("SFSYNC_BENCH_PUSH_POLL"); v != "" {
		if d, err := time.ParseDuration(v); err == nil && d > 0 {
			poll = d
		}
	}
	for _, d := range []store.Dialect{store.SQLite, store.Postgres} {
		b.Run(fmt.Sprintf("%s/%dps", d, rate), func(b *testing.B) {
			for range b.N {
				productPushLatency(b, d, rate, secs, clients, poll)
			}
		})
	}
}

func envInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}

func productPushLatency(b *testing.B, d store.Dialect, rate, secs, clients int, poll time.Duration) {
	b.StopTimer()
	total := rate * secs
	p := newProduct(b, d, total*3/2+1000)
	// The org selects no object for Change Data Capture (the emulator's
	// default), so the service polls; no subscription is tried.
	p.env = append(p.env, "SFSYNC_PUBSUB_ENDPOINT=off")
	p.setUp()
	p.connect()
	p.api("PUT", "/salesforce/config", pushConfig(), http.StatusOK)
	run := p.api("POST", "/salesforce/sync", map[string]string{"kind": "initial"}, http.StatusAccepted)
	p.waitRun(int64(run["id"].(float64)))
	ids := p.contactIDs(total)
	if len(ids) < total {
		b.Fatalf("the first sync linked %d contacts, want at least %d", len(ids), total)
	}
	p.waitQuiet(3*time.Second, 2*time.Minute)

	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients}, Timeout: time.Minute}
	obs := newPushObserver(p, total, poll)
	pid := p.serve.Process.Pid
	cpu0, _ := procStat(pid)
	emuCPU0, _ := procStat(p.emu.cmd.Process.Pid)
	stopProfile := p.profileServe() // with SFSYNC_BENCH_PROFILE
	defer stopProfile()
	used0 := p.emuUsage()
	runs0 := p.lastRunID()

	value := func(i int) string { return fmt.Sprintf("Lat %07d", i) }
	var apiLat latencies
	var writeErrs atomic.Int64
	var wg sync.WaitGroup
	inFlight := make(chan struct{}, clients) // a free client
	send := func(i int) {
		defer wg.Done()
		defer func() { <-inFlight }()
		body := fmt.Sprintf(`{"name":%q}`, value(i))
		req, _ := http.NewRequest(http.MethodPatch, p.base+"/api/v1/contacts/"+ids[i], strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+p.apiKey)
		req.Header.Set("Content-Type", "application/json")
		start := time.Now()
		obs.sent(i, start)
		resp, err := client.Do(req)
		ok := err == nil && resp.StatusCode == http.StatusOK
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		apiLat.add(time.Since(start), ok)
		if !ok {
			writeErrs.Add(1)
			obs.failed(i)
		}
	}

	stop := make(chan struct{})
	obsDone := make(chan struct{})
	go func() { defer close(obsDone); obs.run(stop) }()
	interval := time.Second / time.Duration(rate)
	start := time.Now()
	b.StartTimer()
	for i := range total {
		if d := time.Until(start.Add(time.Duration(i) * interval)); d > 0 {
			time.Sleep(d)
		}
		inFlight <- struct{}{}
		wg.Add(1)
		go send(i)
	}
	wg.Wait()
	answered := time.Since(start)
	deadline := time.Now().Add(60 * time.Second)
	for obs.pending() > 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	b.StopTimer()
	stopProfile()
	close(stop)
	<-obsDone
	used1 := p.emuUsage()
	cpu1, hwm := procStat(pid)
	emuCPU1, _ := procStat(p.emu.cmd.Process.Pid)
	pushCalls, pushRuns := p.pushRunCalls(runs0)

	lat := obs.latencies(nil)
	delivered := len(lat)
	quantile := func(lat []time.Duration, q float64) float64 {
		if len(lat) == 0 {
			return 0
		}
		return float64(lat[min(len(lat)-1, int(math.Ceil(q*float64(len(lat))))-1)].Microseconds()) / 1000
	}
	pct := func(q float64) float64 { return quantile(lat, q) }
	schedP99 := quantile(obs.latencies(func(i int) time.Time { return start.Add(time.Duration(i) * interval) }), 0.99)
	calls := used1 - used0 - int(obs.calls.Load())
	per200 := 0.0
	if delivered > 0 {
		per200 = float64(calls) / (float64(delivered) / 200)
	}
	sent := total - int(writeErrs.Load())
	// The rate the clients kept: a request starts late when every client
	// is waiting for an answer (the API is slower than the stream).
	last, behind := obs.sendTimes(start, interval)
	achieved := float64(sent) / (last + interval).Seconds()
	b.ReportMetric(achieved, "changes/s")
	b.ReportMetric(float64(behind.Microseconds())/1000, "client_behind_ms")
	b.ReportMetric(pct(0.50), "p50_ms")
	b.ReportMetric(pct(0.99), "p99_ms")
	b.ReportMetric(pct(1), "max_ms")
	b.ReportMetric(schedP99, "sched_p99_ms")
	b.ReportMetric(float64(delivered), "delivered")
	b.ReportMetric(per200, "calls/200changes")
	b.ReportMetric(apiLat.pct(0.99), "api_p99_ms")
	b.ReportMetric(cpu1-cpu0, "serve_cpu_s")
	b.ReportMetric(hwm, "serve_peak_rss_MB")
	b.ReportMetric(emuCPU1-emuCPU0, "emulator_cpu_s")
	testenv.ReportLoad(b)
	b.Logf("%s: %d changes sent by %d clients at %.0f/s (at most %s behind the schedule; %d refused), %d seen in Salesforce, %d not after 60 s; latency p50 %.0f p90 %.0f p99 %.0f max %.0f ms (p99 %.0f ms from schedule) "+
		"(observer polls every %s: %d queries, %d calls); API PATCH p50/p99/max %.0f/%.0f/%.0f ms, the last answered at %.1fs; %d product API calls (%.0f by %d push runs) = %.2f per 200 changes; serve CPU %.1fs, peak RSS %.0f MB",
		d, total, clients, achieved, behind.Round(time.Millisecond), writeErrs.Load(), delivered, obs.pending(),
		pct(0.5), pct(0.9), pct(0.99), pct(1), schedP99, poll, obs.polls.Load(), obs.calls.Load(), apiLat.pct(0.5), apiLat.pct(0.99), apiLat.pct(1), answered.Seconds(),
		calls, pushCalls, pushRuns, per200, cpu1-cpu0, hwm)
	if achieved < 0.95*float64(rate) {
		b.Logf("%s: the clients sent %.0f changes/s, not %d: the API answered too slowly for the stream (see api_p99_ms)", d, achieved, rate)
	}
	if n := writeErrs.Load(); n > 0 {
		b.Errorf("%d API requests failed", n)
	}
	if n := obs.pending(); n > 0 {
		b.Errorf("%d changes never reached Salesforce", n)
	}
}

// contactIDs lists up to n platform contacts through the JSON API.
func (p *product) contactIDs(n int) []string {
	var ids []string
	cursor := ""
	for len(ids) < n {
		path := "/contacts?limit=500"
		if cursor != "" {
			path += "&cursor=" + url.QueryEscape(cursor)
		}
		out := p.api("GET", path, nil, http.StatusOK)
		data, _ := out["data"].([]any)
		for _, c := range data {
			ids = append(ids, c.(map[string]any)["id"].(string))
		}
		next, _ := out["next_cursor"].(string)
		if next == "" || len(data) == 0 {
			break
		}
		cursor = next
	}
	return ids[:min(n, len(ids))]
}

// waitQuiet waits until the org's API usage has not moved for quiet (the
// first sync's follow-ups are done), at most limit.
func (p *product) waitQuiet(quiet, limit time.Duration) {
	deadline := time.Now().Add(limit)
	last, since := p.emuUsage(), time.Now()
	for time.Since(since) < quiet && time.Now().Before(deadline) {
		time.Sleep(250 * time.Millisecond)
		if u := p.emuUsage(); u != last {
			last, since = u, time.Now()
		}
	}
}

// emuUsage reads the org's API requests used through the emulator's side
// door, which no call counts.
func (p *product) emuUsage() int {
	resp, err := http.Get(p.emu.url + "/__emulator__/orgs/default/api-usage")
	if err != nil {
		p.tb.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Used int `json:"used"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != http.StatusOK {
		p.tb.Fatalf("emulator api-usage: %d, %v", resp.StatusCode, err)
	}
	return out.Used
}

// lastRunID is the newest run's id (0 if none).
func (p *product) lastRunID() int64 {
	out := p.api("GET", "/salesforce/runs?limit=1", nil, http.StatusOK)
	runs, _ := out["data"].([]any)
	if len(runs) == 0 {
		return 0
	}
	id, _ := runs[0].(map[string]any)["id"].(float64)
	return int64(id)
}

// pushRunCalls sums the API calls the push runs after run id after
// recorded (a push run is a window of passes).
func (p *product) pushRunCalls(after int64) (calls float64, runs int) {
	out := p.api("GET", "/salesforce/runs?direction=to_salesforce&limit=500", nil, http.StatusOK)
	list, _ := out["data"].([]any)
	for _, r := range list {
		m := r.(map[string]any)
		if id, _ := m["id"].(float64); int64(id) <= after {
			continue
		}
		c, _ := m["api_calls"].(float64)
		calls += c
		runs++
	}
	return calls, runs
}

// pushObserver watches Salesforce for the values the benchmark wrote,
// from outside: it queries the emulator's REST API as any client would.
type pushObserver struct {
	p      *product
	period time.Duration
	mu     sync.Mutex
	start  []time.Time // when change i's API request started
	seen   []time.Time // when the observer first saw its value
	done   []bool      // seen or refused
	left   int
	polls  atomic.Int64
	calls  atomic.Int64 // REST calls the observer made (counted by the org)
	client *http.Client
}

func newPushObserver(p *product, n int, period time.Duration) *pushObserver {
	return &pushObserver{p: p, period: period, start: make([]time.Time, n), seen: make([]time.Time, n), done: make([]bool, n), left: n,
		client: &http.Client{Timeout: time.Minute}}
}

func (o *pushObserver) sent(i int, at time.Time) {
	o.mu.Lock()
	o.start[i] = at
	o.mu.Unlock()
}

func (o *pushObserver) failed(i int) {
	o.mu.Lock()
	if !o.done[i] {
		o.done[i], o.left = true, o.left-1
	}
	o.mu.Unlock()
}

func (o *pushObserver) pending() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.left
}

// since is the lower bound of the next query: the start of the oldest
// change sent and not seen, to the second, less a second. A push of a
// change starts after the change's API request did, and Salesforce
// stamps a write with its request's start, so no value is missed.
func (o *pushObserver) since() (time.Time, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	var oldest time.Time
	for i, t := range o.start {
		if !t.IsZero() && !o.done[i] && (oldest.IsZero() || t.Before(oldest)) {
			oldest = t
		}
	}
	if oldest.IsZero() {
		return oldest, false
	}
	return oldest.Truncate(time.Second).Add(-time.Second), true
}

func (o *pushObserver) run(stop <-chan struct{}) {
	t := time.NewTicker(o.period)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		if from, ok := o.since(); ok {
			o.poll(from)
		}
	}
}

// poll queries the Contacts modified at or after from and marks the
// values it finds seen now.
func (o *pushObserver) poll(from time.Time) {
	o.polls.Add(1)
	soql := "SELECT Id, LastName FROM Contact WHERE SystemModstamp >= " + from.UTC().Format("2006-01-02T15:04:05Z")
	next := "/services/data/v" + sfapi.Version + "/query?q=" + url.QueryEscape(soql)
	var names []string
	for next != "" {
		req, _ := http.NewRequest("GET", o.p.emu.url+next, nil)
		req.Header.Set("Authorization", "Bearer "+o.p.emu.token)
		o.calls.Add(1)
		resp, err := o.client.Do(req)
		if err != nil {
			o.p.tb.Errorf("observer query: %v", err)
			return
		}
		var page struct {
			Records []struct {
				LastName string `json:"LastName"`
			} `json:"records"`
			NextRecordsURL string `json:"nextRecordsUrl"`
		}
		err = json.NewDecoder(resp.Body).Decode(&page)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK {
			o.p.tb.Errorf("observer query: %d, %v", resp.StatusCode, err)
			return
		}
		for _, r := range page.Records {
			names = append(names, r.LastName)
		}
		next = page.NextRecordsURL
	}
	now := time.Now()
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, v := range names {
		s, ok := strings.CutPrefix(v, "Lat ")
		if !ok {
			continue
		}
		i, err := strconv.Atoi(s)
		if err != nil || i < 0 || i >= len(o.seen) || o.done[i] {
			continue
		}
		o.seen[i], o.done[i], o.left = now, true, o.left-1
	}
}

// sendTimes returns when the last request started, after start, and how
// far behind its schedule (start + i·interval) a request started at most.
func (o *pushObserver) sendTimes(start time.Time, interval time.Duration) (last, behind time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for i, t := range o.start {
		if t.IsZero() {
			continue
		}
		last = max(last, t.Sub(start))
		behind = max(behind, t.Sub(start.Add(time.Duration(i)*interval)))
	}
	return last, behind
}

// latencies returns each seen change's latency, sorted.
// With sched, a change's latency runs from when it was due instead
// (start + i·interval): the wait for a free client counts.
func (o *pushObserver) latencies(sched func(i int) time.Time) []time.Duration {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []time.Duration
	for i, t := range o.seen {
		if t.IsZero() || o.start[i].IsZero() {
			continue
		}
		from := o.start[i]
		if sched != nil {
			from = sched(i)
		}
		out = append(out, t.Sub(from))
	}
	slices.Sort(out)
	return out
}
