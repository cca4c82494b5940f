package syncer_test

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"database/sql"
	"encoding/base64"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sfsync/sfsync/internal/salesforce"
	"github.com/sfsync/sfsync/internal/secret"
	"github.com/sfsync/sfsync/internal/sfconn"
	"github.com/sfsync/sfsync/internal/sfemu"
	"github.com/sfsync/sfsync/internal/sfemu/pubsub"
	"github.com/sfsync/sfsync/internal/store"
	"github.com/sfsync/sfsync/internal/store/storetest"
	"github.com/sfsync/sfsync/internal/syncer"
	"github.com/sfsync/sfsync/internal/tenant"
	"github.com/sfsync/sfsync/internal/testenv"
)

// Benchmarks of real-time pulls (issue 15): Change Data Capture from the
// emulator's Pub/Sub API to the platform's store. Sizes come from the
// environment so a quick run proves the code works:
//
//	SFSYNC_BENCH_CDC_SECONDS   how long changes are written (20)
//	SFSYNC_BENCH_CDC_IDLE      idle subscriptions (1000)
//	SFSYNC_BENCH_CDC_KILL      changes in the kill -9 stream (10000)

func benchEnvInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// cdcBench is one emulator (REST and Pub/Sub over TLS) with an org per
// tenant, and one store whose tenants are connected to them.
type cdcBench struct {
	emu      *sfemu.Server
	url      string
	app      sfemu.ConnectedApp
	store    *store.Store
	dsn      string
	key      []byte
	conn     *sfconn.Service
	eng      *syncer.Engine
	svc      *pubsub.Service
	endpoint string
	certFile string
	tls      *tls.Config
	ctx      context.Context
}

type cdcTenant struct {
	id    string
	org   *sfemu.Org
	sfIDs []string // linked Salesforce contacts
	cids  []string // their platform contacts, in the same order
}

func newCDCBench(b *testing.B, d store.Dialect) *cdcBench {
	b.Helper()
	emu := sfemu.New(sfemu.Options{})
	srv := httptest.NewServer(emu)
	b.Cleanup(srv.Close)
	emu.SetBaseURL(srv.URL)
	app, err := emu.RegisterConnectedApp(sfemu.ConnectedAppOptions{Name: "sfsync", CallbackURLs: []string{testenv.Callback}})
	if err != nil {
		b.Fatal(err)
	}
	s, dsn := storetest.OpenDSN(b, d)
	key := make([]byte, 32)
	rand.Read(key)
	kr, _ := secret.NewKeyring(key)
	logger := slog.New(slog.DiscardHandler)
	conn := &sfconn.Service{Store: s, Keyring: kr, ClientID: app.ClientID, ClientSecret: app.ClientSecret, RedirectURL: testenv.Callback,
		DefaultLoginURL: srv.URL, Logger: logger, HTTPClient: &http.Client{Timeout: 2 * time.Minute},
		ClientOptions: salesforce.Options{BackoffBase: time.Millisecond, BackoffMax: 20 * time.Millisecond}}
	f := &cdcBench{emu: emu, url: srv.URL, app: app, store: s, dsn: dsn, key: key, conn: conn, ctx: context.Background(),
		eng: &syncer.Engine{Store: s, Conn: conn, Logger: logger}}
	cert, certPEM, err := pubsub.SelfSignedCert("127.0.0.1")
	if err != nil {
		b.Fatal(err)
	}
	f.certFile = filepath.Join(b.TempDir(), "pubsub.pem")
	if err := os.WriteFile(f.certFile, certPEM, 0o644); err != nil {
		b.Fatal(err)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	f.svc = pubsub.New(emu, pubsub.Options{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- pubsub.Serve(ctx, lis, f.svc, &tls.Config{Certificates: []tls.Certificate{cert}}) }()
	b.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			b.Logf("pub/sub server: %v", err)
		}
	})
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(certPEM)
	f.endpoint, f.tls = lis.Addr().String(), &tls.Config{RootCAs: pool}
	return f
}

// addTenant creates an org with Contact selected for CDC and n members, a
// tenant connected to it with memberConfig, and runs its first sync (or,
// with no contacts, only sets its cursor).
func (f *cdcBench) addTenant(b *testing.B, i, n int) *cdcTenant {
	b.Helper()
	user := fmt.Sprintf("admin%d@org%d.test", i, i)
	org, err := f.emu.CreateOrg(sfemu.OrgOptions{Name: fmt.Sprintf("Org %d", i), Edition: sfemu.Enterprise, AdminUsername: user, AdminPassword: testenv.AdminPassword})
	if err != nil {
		b.Fatal(err)
	}
	if err := org.SetCDCSettings(sfemu.CDCSettings{Entities: []string{"Contact"}}); err != nil {
		b.Fatal(err)
	}
	tn, err := f.store.CreateTenant(f.ctx, tenant.Tenant{Name: fmt.Sprintf("Shop %d", i), Language: "en", Plan: tenant.Plan{SalesforceAddon: true}})
	if err != nil {
		b.Fatal(err)
	}
	u, err := f.conn.Start(f.ctx, tn.ID, "session:bench", "")
	if err != nil {
		b.Fatal(err)
	}
	q := testenv.BrowserAuthorize(b, u, user, testenv.AdminPassword, "allow")
	if _, err := f.conn.Finish(f.ctx, tn.ID, "session:bench", sfconn.CallbackParams{State: q.Get("state"), Code: q.Get("code")}); err != nil {
		b.Fatal(err)
	}
	t := &cdcTenant{id: tn.ID, org: org}
	for j := range n {
		id, err := org.CreateAsHuman(map[string]any{"LastName": fmt.Sprintf("T%d P%05d", i, j), "Member_Number__c": fmt.Sprintf("M%05d", j)})
		if err != nil {
			b.Fatal(err)
		}
		t.sfIDs = append(t.sfIDs, id)
	}
	if _, err := f.eng.SaveConfig(f.ctx, tn.ID, "u_bench", memberConfig()); err != nil {
		b.Fatal(err)
	}
	if n == 0 {
		st, err := f.store.GetSyncState(f.ctx, tn.ID)
		if err != nil {
			b.Fatal(err)
		}
		st.PullEnabled, st.PullCursor, st.NextPullAt = true, time.Now(), time.Now().Add(time.Hour)
		if err := f.store.SaveSyncState(f.ctx, st); err != nil {
			b.Fatal(err)
		}
		return t
	}
	run, err := f.eng.StartInitialSync(f.ctx, tn.ID)
	if err != nil {
		b.Fatal(err)
	}
	runToEnd(b, f.eng, tn.ID, run, syncer.ModeFull)
	links, err := f.store.LinksBySalesforceID(f.ctx, tn.ID, t.sfIDs)
	if err != nil || len(links) != n {
		b.Fatalf("links after the first sync: %d, %v; want %d", len(links), err, n)
	}
	for _, id := range t.sfIDs {
		t.cids = append(t.cids, links[id].ContactID)
	}
	return t
}

func (f *cdcBench) streamer(b *testing.B, owner string) (*syncer.Streamer, func()) {
	s := &syncer.Streamer{Engine: f.eng, Owner: owner, Endpoint: f.endpoint, TLS: f.tls, ScanEvery: 200 * time.Millisecond,
		CatchUpDelay: 50 * time.Millisecond, MaxTenants: 100_000}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = s.Run(ctx) }()
	stop := sync.OnceFunc(func() { cancel(); <-done })
	b.Cleanup(stop)
	return s, stop
}

// waitStreaming waits until every tenant streams and owes no catch-up.
func (f *cdcBench) waitStreaming(b *testing.B, tenants []*cdcTenant, within time.Duration) {
	b.Helper()
	deadline := time.Now().Add(within)
	for _, t := range tenants {
		for {
			rs, err := f.store.GetRealtimeStream(f.ctx, t.id)
			if err == nil && rs.Mode == store.StreamRealtime && !rs.CatchUp {
				break
			}
			if time.Now().After(deadline) {
				b.Fatalf("tenant %s not streaming after %v: %+v %v", t.id, within, rs, err)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}

// BenchmarkCDCLatency writes Contact changes in the emulator (as a user
// in the UI would) at a steady rate and measures when each is visible in
// the platform's store (what the platform API reads): one tenant at 100
// changes/s, and 100 tenants at 1,000 changes/s in all. Targets: p50 ≤
// 500 ms, p99 ≤ 2 s.
func BenchmarkCDCLatency(b *testing.B) {
	if testing.Short() {
		b.Skip("benchmark")
	}
	secs := benchEnvInt("SFSYNC_BENCH_CDC_SECONDS", 20)
	for _, d := range storetest.Dialects {
		for _, c := range []struct{ tenants, rate int }{{1, 100}, {100, 1000}} {
			b.Run(fmt.Sprintf("%s/%dtenants_%dps", d, c.tenants, c.rate), func(b *testing.B) {
				for range b.N {
					benchCDCLatency(b, d, c.tenants, c.rate, secs)
				}
			})
		}
	}
}

func benchCDCLatency(b *testing.B, d store.Dialect, tenants, rate, secs int) {
	b.StopTimer()
	f := newCDCBench(b, d)
	total := rate * secs
	per := (total + tenants - 1) / tenants
	var ts []*cdcTenant
	for i := range tenants {
		ts = append(ts, f.addTenant(b, i, per))
	}
	f.streamer(b, "bench")
	f.waitStreaming(b, ts, 2*time.Minute)

	// Change i goes to tenant i%tenants, to that tenant's (i/tenants)-th
	// contact: every change is to a contact of its own, so each is seen.
	type change struct {
		t    *cdcTenant
		j    int
		sent time.Time
		seen time.Time
	}
	changes := make([]*change, total)
	for i := range total {
		changes[i] = &change{t: ts[i%tenants], j: i / tenants}
	}
	value := func(i int) string { return fmt.Sprintf("Lat %06d", i) }
	// The watcher reads every pending contact every 5 ms, in one query
	// (by contact ID, which is unique across tenants), so the measurement
	// costs the same whatever the number of tenants.
	var mu sync.Mutex
	pending := map[int]bool{}
	byCID := map[string]int{}
	for i, c := range changes {
		byCID[c.t.cids[c.j]] = i
	}
	stopWatch := make(chan struct{})
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stopWatch:
				return
			case <-tick.C:
			}
			mu.Lock()
			var args []any
			for i := range pending {
				args = append(args, changes[i].t.cids[changes[i].j])
			}
			mu.Unlock()
			if len(args) == 0 {
				continue
			}
			ph := make([]string, len(args))
			for k := range args {
				ph[k] = "$" + strconv.Itoa(k+1)
			}
			rows, err := f.store.DB.QueryContext(f.ctx, "SELECT id, name FROM contacts WHERE id IN ("+strings.Join(ph, ",")+")", args...)
			if err != nil {
				continue
			}
			now := time.Now()
			mu.Lock()
			for rows.Next() {
				var id string
				var name sql.NullString
				if rows.Scan(&id, &name) == nil {
					if i, ok := byCID[id]; ok && pending[i] && name.String == value(i) {
						changes[i].seen = now
						delete(pending, i)
					}
				}
			}
			mu.Unlock()
			rows.Close()
		}
	}()
	interval := time.Second / time.Duration(rate)
	start := time.Now()
	cpu0 := testenv.CPUSeconds()
	b.StartTimer()
	work := make(chan int, total)
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				c := changes[i]
				mu.Lock()
				c.sent = time.Now()
				pending[i] = true
				mu.Unlock()
				if err := c.t.org.ModifyAsHuman(c.t.sfIDs[c.j], map[string]any{"LastName": value(i)}); err != nil {
					b.Error(err)
				}
			}
		}()
	}
	for i := range total {
		if d := time.Until(start.Add(time.Duration(i) * interval)); d > 0 {
			time.Sleep(d)
		}
		work <- i
	}
	close(work)
	wg.Wait()
	produced := time.Since(start)
	deadline := time.Now().Add(60 * time.Second)
	for {
		mu.Lock()
		left := len(pending)
		mu.Unlock()
		if left == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	b.StopTimer()
	close(stopWatch)
	<-watched
	cpu := testenv.CPUSeconds() - cpu0
	var lat []time.Duration
	missing := 0
	for _, c := range changes {
		if c.seen.IsZero() {
			missing++
			continue
		}
		lat = append(lat, c.seen.Sub(c.sent))
	}
	slices.Sort(lat)
	pct := func(p float64) time.Duration {
		if len(lat) == 0 {
			return 0
		}
		return lat[min(len(lat)-1, max(0, int(math.Ceil(p*float64(len(lat))))-1))]
	}
	testenv.ReportLoad(b)
	b.ReportMetric(float64(total)/produced.Seconds(), "changes/s")
	b.ReportMetric(float64(pct(0.50).Microseconds())/1000, "p50_ms")
	b.ReportMetric(float64(pct(0.99).Microseconds())/1000, "p99_ms")
	b.ReportMetric(float64(pct(1).Microseconds())/1000, "max_ms")
	b.ReportMetric(float64(missing), "missing")
	b.ReportMetric(cpu/produced.Seconds()*100, "cpu_%")
	b.Logf("%s: %d tenants, %d changes written in %s; p50 %s p90 %s p99 %s max %s; %d missing after 60 s; CPU %.1f s (emulator included)",
		d, tenants, total, produced.Round(time.Millisecond), pct(0.5).Round(time.Millisecond), pct(0.9).Round(time.Millisecond),
		pct(0.99).Round(time.Millisecond), pct(1).Round(time.Millisecond), missing, cpu)
	if missing > 0 {
		b.Errorf("%d changes never reached the platform", missing)
	}
}

// BenchmarkCDCIdleSubscriptions holds 1,000 idle subscriptions (one per
// tenant, each its own org) in a subscribing process of their own — the
// test binary run again (TestCDCChildProcess), as `sfsync worker` would
// hold them — while the emulator and its 1,000 orgs stay in this process.
// It reports the subscribing process's RSS (after a GC, and its peak),
// its CPU while idle (keep-alives every 60 s per stream included), and
// this process's RSS (emulator, store, harness) apart. Targets: RSS ≤
// 300 MB, CPU near zero.
func BenchmarkCDCIdleSubscriptions(b *testing.B) {
	if testing.Short() {
		b.Skip("benchmark")
	}
	n := benchEnvInt("SFSYNC_BENCH_CDC_IDLE", 1000)
	idle := time.Duration(benchEnvInt("SFSYNC_BENCH_CDC_IDLE_SECONDS", 30)) * time.Second
	for _, d := range storetest.Dialects {
		b.Run(fmt.Sprintf("%s/%d", d, n), func(b *testing.B) {
			for range b.N {
				b.StopTimer()
				f := newCDCBench(b, d)
				var ts []*cdcTenant
				for i := range n {
					ts = append(ts, f.addTenant(b, i, 0))
				}
				child := f.child(b, "idle")
				f.waitStreaming(b, ts, 5*time.Minute)
				held := 0
				for _, t := range ts {
					if rs, err := f.store.GetRealtimeStream(f.ctx, t.id); err == nil && rs.LeaseOwner == "idle" {
						held++
					}
				}
				if held != n {
					b.Fatalf("the subscribing process holds %d subscriptions, want %d", held, n)
				}
				time.Sleep(2 * time.Second)
				cpu0, wall0 := procCPUSeconds(strconv.Itoa(child.Process.Pid)), time.Now()
				b.StartTimer()
				time.Sleep(idle)
				b.StopTimer()
				cpu := procCPUSeconds(strconv.Itoa(child.Process.Pid)) - cpu0
				wall := time.Since(wall0)
				// The child collects garbage and returns it to the OS on
				// SIGUSR1 (and writes a heap profile if asked), as settle()
				// does here.
				if err := child.Process.Signal(syscall.SIGUSR1); err != nil {
					b.Fatal(err)
				}
				time.Sleep(2 * time.Second)
				rss, peak := procStatusKBOf(child.Process.Pid, "VmRSS")/1024, procStatusKBOf(child.Process.Pid, "VmHWM")/1024
				settle()
				testenv.ReportLoad(b)
				b.ReportMetric(rss, "subs_rss_MB")
				b.ReportMetric(peak, "subs_peak_MB")
				b.ReportMetric(rssMB(), "emulator_rss_MB")
				b.ReportMetric(cpu/wall.Seconds()*100, "idle_cpu_%")
				b.Logf("%s: %d subscriptions in their own process: RSS %.0f MB (peak %.0f MB), CPU %.2f s over %s idle; the emulator's process (1 org per tenant, the store, the harness): %.0f MB",
					d, n, rss, peak, cpu, wall.Round(time.Second), rssMB())
			}
		})
	}
}

// procStatusKBOf reads a /proc/<pid>/status field in kB.
func procStatusKBOf(pid int, key string) float64 {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if rest, ok := strings.CutPrefix(line, key+":"); ok {
			v, _ := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 64)
			return v
		}
	}
	return 0
}

// BenchmarkCDCKill9 streams changes (10,000 by default, 10 to each of
// 1,000 contacts) while the subscribing process is killed with SIGKILL a
// third of the way through; a second process takes the lease over (its
// default 20 s) and resumes from the stored replay ID. It reports the
// contacts whose final state differs from Salesforce's (lost: target 0)
// and the time from the kill until events were applied again.
func BenchmarkCDCKill9(b *testing.B) {
	if testing.Short() {
		b.Skip("benchmark")
	}
	n := benchEnvInt("SFSYNC_BENCH_CDC_KILL", 10_000)
	for _, d := range storetest.Dialects {
		b.Run(fmt.Sprintf("%s/%d", d, n), func(b *testing.B) {
			for range b.N {
				benchCDCKill9(b, d, n)
			}
		})
	}
}

const cdcChildEnv = "SFSYNC_CDC_CHILD"

// TestCDCChildProcess is the subscribing process of BenchmarkCDCKill9 (the
// test binary run again with SFSYNC_CDC_CHILD set); it skips otherwise.
func TestCDCChildProcess(t *testing.T) {
	if os.Getenv(cdcChildEnv) == "" {
		t.Skip("the subscribing process of BenchmarkCDCKill9")
	}
	ctx := context.Background()
	s, err := store.Open(ctx, os.Getenv("SFSYNC_CDC_DSN"))
	if err != nil {
		t.Fatal(err)
	}
	key, _ := base64.StdEncoding.DecodeString(os.Getenv("SFSYNC_CDC_KEY"))
	kr, err := secret.NewKeyring(key)
	if err != nil {
		t.Fatal(err)
	}
	conn := &sfconn.Service{Store: s, Keyring: kr, ClientID: os.Getenv("SFSYNC_CDC_CLIENT_ID"), ClientSecret: os.Getenv("SFSYNC_CDC_CLIENT_SECRET"),
		RedirectURL: testenv.Callback, DefaultLoginURL: os.Getenv("SFSYNC_CDC_EMULATOR"), Logger: slog.New(slog.DiscardHandler)}
	pem, err := os.ReadFile(os.Getenv("SFSYNC_CDC_CERT"))
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	eng := &syncer.Engine{Store: s, Conn: conn, Logger: slog.New(slog.DiscardHandler)}
	st := &syncer.Streamer{Engine: eng, Owner: os.Getenv(cdcChildEnv), Endpoint: os.Getenv("SFSYNC_CDC_ENDPOINT"), TLS: &tls.Config{RootCAs: pool},
		ScanEvery: time.Second}
	// SIGUSR1: collect garbage and return it to the OS, so the parent
	// reads a settled RSS; with SFSYNC_BENCH_CDC_HEAPPROFILE set, write a
	// heap profile there too.
	usr1 := make(chan os.Signal, 1)
	signal.Notify(usr1, syscall.SIGUSR1)
	go func() {
		for range usr1 {
			settle()
			objects, live := readHeap()
			fmt.Fprintf(os.Stderr, "subscribing process %s: %d goroutines, heap %.1f MB in objects (%.1f MB live)\n",
				os.Getenv(cdcChildEnv), runtime.NumGoroutine(), float64(objects)/(1<<20), float64(live)/(1<<20))
			if path := os.Getenv("SFSYNC_BENCH_CDC_HEAPPROFILE"); path != "" {
				if fh, err := os.Create(path); err == nil {
					if err := pprof.WriteHeapProfile(fh); err != nil {
						t.Logf("heap profile: %v", err)
					}
					if err := fh.Close(); err != nil {
						t.Logf("heap profile: %v", err)
					}
				}
			}
		}
	}()
	fmt.Println("child streaming")
	_ = st.Run(ctx) // until killed
}

// child starts a subscribing process named name (the test binary run
// again, TestCDCChildProcess) on the bench's store and emulator; it is
// killed when the benchmark ends.
func (f *cdcBench) child(b *testing.B, name string) *exec.Cmd {
	b.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCDCChildProcess$", "-test.v")
	cmd.Env = append(os.Environ(), cdcChildEnv+"="+name, "SFSYNC_CDC_DSN="+f.dsn, "SFSYNC_CDC_KEY="+base64.StdEncoding.EncodeToString(f.key),
		"SFSYNC_CDC_CLIENT_ID="+f.app.ClientID, "SFSYNC_CDC_CLIENT_SECRET="+f.app.ClientSecret, "SFSYNC_CDC_EMULATOR="+f.url,
		"SFSYNC_CDC_CERT="+f.certFile, "SFSYNC_CDC_ENDPOINT="+f.endpoint)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	return cmd
}

func benchCDCKill9(b *testing.B, d store.Dialect, total int) {
	b.StopTimer()
	f := newCDCBench(b, d)
	contacts := min(1000, total)
	t := f.addTenant(b, 0, contacts)
	first := f.child(b, "first")
	f.waitStreaming(b, []*cdcTenant{t}, 2*time.Minute)

	rate := 1000
	interval := time.Second / time.Duration(rate)
	b.StartTimer()
	begin := time.Now()
	var killedAt time.Time
	var replayAtKill []byte
	for i := range total {
		if i == total/3 {
			if err := first.Process.Signal(syscall.SIGKILL); err != nil {
				b.Fatal(err)
			}
			killedAt = time.Now()
			_ = first.Wait()
			rs, _ := f.store.GetRealtimeStream(f.ctx, t.id)
			replayAtKill = rs.ReplayID
			f.child(b, "second")
		}
		if d := time.Until(begin.Add(time.Duration(i) * interval)); d > 0 {
			time.Sleep(d)
		}
		j := i % contacts
		if err := t.org.ModifyAsHuman(t.sfIDs[j], map[string]any{"LastName": fmt.Sprintf("K%05d", i)}); err != nil {
			b.Fatal(err)
		}
	}
	// When events flow again: the stored replay ID moves past the kill's.
	var resumed time.Duration
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		rs, _ := f.store.GetRealtimeStream(f.ctx, t.id)
		if rs.LeaseOwner == "second" && !slices.Equal(rs.ReplayID, replayAtKill) {
			resumed = time.Since(killedAt)
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	// Every contact ends with Salesforce's last value.
	want := map[string]string{}
	for j, id := range t.sfIDs {
		rec, _ := t.org.Record(id)
		want[t.cids[j]], _ = rec["LastName"].(string)
	}
	lost := 0
	for time.Now().Before(deadline) {
		got, err := f.store.GetContacts(f.ctx, t.id, t.cids)
		if err != nil {
			b.Fatal(err)
		}
		lost = 0
		for cid, name := range want {
			if got[cid].Name != name {
				lost++
			}
		}
		if lost == 0 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	b.StopTimer()
	testenv.ReportLoad(b)
	b.ReportMetric(float64(lost), "lost")
	b.ReportMetric(resumed.Seconds(), "resume_s")
	b.Logf("%s: %d changes to %d contacts, SIGKILL after %d; events flowed again %s after the kill (lease takeover included); %d contacts differ from Salesforce at the end",
		d, total, contacts, total/3, resumed.Round(time.Millisecond), lost)
	if lost > 0 {
		b.Errorf("%d contacts lost a change", lost)
	}
	if resumed == 0 {
		b.Error("events never flowed again after the kill")
	}
}
