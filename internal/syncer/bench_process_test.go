package syncer_test

import (
	"bufio"
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sfsync/sfsync/internal/contact"
	"github.com/sfsync/sfsync/internal/secret"
	"github.com/sfsync/sfsync/internal/sfconn"
	"github.com/sfsync/sfsync/internal/store"
	"github.com/sfsync/sfsync/internal/store/storetest"
	"github.com/sfsync/sfsync/internal/syncconf"
	"github.com/sfsync/sfsync/internal/syncer"
	"github.com/sfsync/sfsync/internal/tenant"
	"github.com/sfsync/sfsync/internal/testenv"
)

// BenchmarkFirstSyncOwnProcess runs the first sync against `sfsync
// emulator` in its own process, so this process's peak RSS is the sync's
// alone (the in-process benchmarks carry the emulator's records). 100k
// always; 1M with SFSYNC_BENCH_LARGE=1; SQLite, and PostgreSQL with
// SFSYNC_TEST_POSTGRES_URL. It reads through REST pages; the product's own
// read path (Bulk API 2.0 above 50,000) is BenchmarkFirstSyncProductPath.
// Both report the identity census apart (census_s, census_calls): it runs
// before the pass, so the pass alone is the rest.
func BenchmarkFirstSyncOwnProcess(b *testing.B) {
	benchFirstSyncOwnProcess(b, 1<<40)
}

// BenchmarkFirstSyncProductPath is BenchmarkFirstSyncOwnProcess on the
// read path the product chooses (the default Bulk API threshold).
func BenchmarkFirstSyncProductPath(b *testing.B) {
	benchFirstSyncOwnProcess(b, 0)
}

// BenchmarkCensusCost measures what the identity census costs (issue 11:
// at most 10% more time and 20% more API calls than the first sync
// without it): the product path's first sync (BenchmarkFirstSyncProductPath)
// on SQLite, with the census and with the same engine made to skip it
// (syncer.WithoutCensus, a switch only tests have), alternated twice in
// one run so that both meet the same machine. 100k; 1M with
// SFSYNC_BENCH_LARGE=1.
func BenchmarkCensusCost(b *testing.B) {
	bin, sizes := ownProcessSetup(b)
	for _, n := range sizes {
		for round := 1; round <= 2; round++ {
			for _, census := range []bool{false, true} {
				b.Run(fmt.Sprintf("%dk/census=%v/round%d", n/1000, census, round), func(b *testing.B) {
					for range b.N {
						firstSyncOwnProcess(b, bin, store.SQLite, n, 0, census)
					}
				})
			}
		}
	}
}

// ownProcessSetup skips in -short, builds the binary, and returns it with
// the sizes to run: 100k, and 1M with SFSYNC_BENCH_LARGE=1.
func ownProcessSetup(b *testing.B) (bin string, sizes []int) {
	if testing.Short() {
		b.Skip("benchmark")
	}
	sizes = []int{100_000}
	if os.Getenv("SFSYNC_BENCH_LARGE") != "" {
		sizes = append(sizes, 1_000_000)
	}
	if v, err := strconv.Atoi(os.Getenv("SFSYNC_BENCH_CONTACTS")); err == nil && v > 0 {
		sizes = []int{v} // records with an identity; the org holds v/0.7
	}
	bin = filepath.Join(b.TempDir(), "sfsync")
	if out, err := exec.Command("go", "build", "-o", bin, "../../cmd/sfsync").CombinedOutput(); err != nil {
		b.Fatalf("build sfsync: %v\n%s", err, out)
	}
	return bin, sizes
}

func benchFirstSyncOwnProcess(b *testing.B, bulkThreshold int64) {
	bin, sizes := ownProcessSetup(b)
	for _, d := range []store.Dialect{store.SQLite, store.Postgres} {
		for _, n := range sizes {
			b.Run(fmt.Sprintf("%s/%dk", d, n/1000), func(b *testing.B) {
				for range b.N {
					firstSyncOwnProcess(b, bin, d, n, bulkThreshold, true)
				}
			})
		}
	}
}

type emulatorProcess struct {
	url, clientID, secret, user, password string
	pid                                   int
}

func startEmulatorProcess(b *testing.B, bin string, contacts int, extra ...string) emulatorProcess {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cmd := exec.Command(bin, append([]string{"emulator", "--addr", addr, "--edition", "Enterprise", "--contacts", strconv.Itoa(contacts), "--contacts-seed", "7",
		"--callback", testenv.Callback}, extra...)...)
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	e := emulatorProcess{pid: cmd.Process.Pid}
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		v = strings.TrimSpace(v)
		switch strings.TrimSpace(k) {
		case "instance URL":
			e.url = v
		case "client id":
			e.clientID = v
		case "client secret":
			e.secret = v
		case "admin username":
			e.user = v
		case "admin password":
			e.password = v
		case "side door":
			go func() {
				for sc.Scan() {
				}
			}()
			return e
		}
	}
	b.Fatalf("the emulator process printed no side-door line (err %v)", sc.Err())
	return e
}

// procCPUSeconds is the user and system CPU time a process has used,
// from /proc/<pid>/stat (fields 14 and 15, in clock ticks of 1/100 s).
func procCPUSeconds(pid string) float64 {
	data, err := os.ReadFile("/proc/" + pid + "/stat")
	if err != nil {
		return 0
	}
	s := string(data)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:]) // fields from 3 on
	u, _ := strconv.ParseFloat(f[11], 64)
	k, _ := strconv.ParseFloat(f[12], 64)
	return (u + k) / 100
}

func firstSyncOwnProcess(b *testing.B, bin string, d store.Dialect, n int, bulkThreshold int64, withCensus bool) {
	firstSyncOwnProcessOf(b, bin, d, n, bulkThreshold, withCensus, syncconf.ObjectContact)
}

// firstSyncOwnProcessOf is firstSyncOwnProcess with the object chosen:
// the emulator process generates about n/0.7 records of it (70% carry a
// member number, the identity) and the configuration names its fields
// (benchObjectConfig).
func firstSyncOwnProcessOf(b *testing.B, bin string, d store.Dialect, n int, bulkThreshold int64, withCensus bool, object syncconf.ObjectChoice) {
	b.StopTimer()
	ctx := context.Background()
	s := storetest.Open(b, d) // skips (loudly) without PostgreSQL
	var emu emulatorProcess
	switch object {
	case syncconf.ObjectLead:
		emu = startEmulatorProcess(b, bin, 0, "--leads", strconv.Itoa(n*10/7))
	case syncconf.ObjectPersonAccount:
		emu = startEmulatorProcess(b, bin, 0, "--person-accounts", strconv.Itoa(n*10/7))
	default:
		emu = startEmulatorProcess(b, bin, n*10/7)
	}
	tn, err := s.CreateTenant(ctx, tenant.Tenant{Name: "Bench", Language: "en", Plan: tenant.Plan{SalesforceAddon: true}})
	if err != nil {
		b.Fatal(err)
	}
	key := make([]byte, 32)
	rand.Read(key)
	kr, _ := secret.NewKeyring(key)
	conn := &sfconn.Service{Store: s, Keyring: kr, ClientID: emu.clientID, ClientSecret: emu.secret, RedirectURL: testenv.Callback,
		DefaultLoginURL: emu.url, Logger: slog.New(slog.DiscardHandler)}
	u, err := conn.Start(ctx, tn.ID, "bench", "")
	if err != nil {
		b.Fatal(err)
	}
	q := testenv.BrowserAuthorize(b, u, emu.user, emu.password, "allow")
	if _, err := conn.Finish(ctx, tn.ID, "bench", sfconn.CallbackParams{State: q.Get("state"), Code: q.Get("code")}); err != nil {
		b.Fatal(err)
	}
	census := &censusLog{}
	eng := &syncer.Engine{Store: s, Conn: conn, Logger: slog.New(census), BulkThreshold: bulkThreshold, SliceDuration: time.Hour}
	if !withCensus {
		syncer.WithoutCensus(eng)
	}
	cfg := syncconf.Config{
		Identity: syncconf.IdentityMapping{SalesforceField: "Member_Number__c", PlatformIdentity: contact.IdentityMemberID,
			ToPlatformNoMatch: syncconf.NoMatchCreate, ToSalesforceNoMatch: syncconf.NoMatchUpdateOnly},
		Social: []syncconf.SocialMapping{{SalesforceField: "LINE_UID__c", ChannelType: "line", ChannelID: "OA1", Direction: syncconf.DirToPlatform}},
		Fields: []syncconf.FieldMapping{
			{SalesforceField: "LastName", PlatformField: "name", Direction: syncconf.DirToPlatform},
			{SalesforceField: "Email", PlatformField: "email", Direction: syncconf.DirToPlatform},
			{SalesforceField: "MobilePhone", PlatformField: "phone", Direction: syncconf.DirToPlatform},
			{SalesforceField: "Birthdate", PlatformField: "birthday", Direction: syncconf.DirToPlatform},
		},
	}
	if _, err := eng.SaveConfig(ctx, tn.ID, "bench", benchObjectConfig(cfg, object)); err != nil {
		b.Fatal(err)
	}
	run, err := eng.StartInitialSync(ctx, tn.ID)
	if err != nil {
		b.Fatal(err)
	}
	resetHWM()
	before := procStatusKB("VmRSS")
	selfCPU, emuCPU := testenv.CPUSeconds(), procCPUSeconds(strconv.Itoa(emu.pid))
	wrote := procIOBytes("wchar")
	start := time.Now()
	b.StartTimer()
	runToEnd(b, eng, tn.ID, run, syncer.ModeFull)
	b.StopTimer()
	wall := time.Since(start)
	selfCPU, emuCPU = testenv.CPUSeconds()-selfCPU, procCPUSeconds(strconv.Itoa(emu.pid))-emuCPU
	done, _ := s.GetRun(ctx, tn.ID, run.ID)
	b.ReportMetric(float64(done.Processed), "records")
	b.ReportMetric(float64(done.Processed)/wall.Seconds(), "records/s")
	b.ReportMetric(wall.Seconds(), "wall_s")
	b.ReportMetric(float64(done.APICalls), "api_calls")
	b.ReportMetric(hwmMB(), "peak_rss_MB")
	b.ReportMetric(before/1024, "rss_before_MB")
	b.ReportMetric(selfCPU, "sync_cpu_s")
	b.ReportMetric((procIOBytes("wchar")-wrote)/float64(max(1, done.Processed)), "written_B/record")
	b.ReportMetric(emuCPU, "emulator_cpu_s")
	b.ReportMetric(census.seconds, "census_s")
	b.ReportMetric(census.calls, "census_calls")
	b.ReportMetric(census.wait, "census_bulk_wait_s")
	testenv.ReportLoad(b)
	if done.Processed == 0 || done.Counts.Created == 0 {
		b.Fatalf("the first sync of %s processed %d records and created %d: %s", object, done.Processed, done.Counts.Created, done.Message)
	}
}

// censusLog keeps the figures of the engine's "identity census" line.
type censusLog struct{ seconds, wait, calls float64 }

func (c *censusLog) Enabled(context.Context, slog.Level) bool { return true }
func (c *censusLog) WithAttrs([]slog.Attr) slog.Handler       { return c }
func (c *censusLog) WithGroup(string) slog.Handler            { return c }
func (c *censusLog) Handle(_ context.Context, r slog.Record) error {
	if r.Message != "identity census" {
		return nil
	}
	r.Attrs(func(a slog.Attr) bool {
		switch a.Key {
		case "seconds":
			c.seconds += a.Value.Float64()
		case "bulk_wait_seconds":
			c.wait += a.Value.Float64()
		case "api_calls":
			c.calls += float64(a.Value.Int64())
		}
		return true
	})
	return nil
}
