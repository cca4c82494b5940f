package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sfsync/sfsync/internal/contact"
	"github.com/sfsync/sfsync/internal/jobs"
	"github.com/sfsync/sfsync/internal/secret"
	"github.com/sfsync/sfsync/internal/sfemu"
	"github.com/sfsync/sfsync/internal/store"
	"github.com/sfsync/sfsync/internal/store/storetest"
	"github.com/sfsync/sfsync/internal/syncconf"
	"github.com/sfsync/sfsync/internal/syncer"
	"github.com/sfsync/sfsync/internal/testenv"
)

// These tests run the real sfsync binary as separate processes, the way
// an operator deploys it: that is the only way to see races between
// processes and what a kill -9 leaves behind.

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
	buildOut  []byte
)

// TestMain removes the binary sfsyncBinary built.
func TestMain(m *testing.M) {
	code := m.Run()
	if binPath != "" {
		os.RemoveAll(filepath.Dir(binPath))
	}
	os.Exit(code)
}

// sfsyncBinary builds cmd/sfsync once per test binary.
func sfsyncBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "sfsync-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "sfsync")
		cmd := exec.Command("go", "build", "-o", binPath, ".")
		buildOut, buildErr = cmd.CombinedOutput()
	})
	if buildErr != nil {
		t.Fatalf("build sfsync: %v\n%s", buildErr, buildOut)
	}
	return binPath
}

// proc is one sfsync process with its output captured.
type proc struct {
	name string
	cmd  *exec.Cmd
	mu   sync.Mutex
	out  bytes.Buffer
	done chan struct{}
	err  error
}

func (p *proc) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.Write(b)
}

// Output is everything the process wrote so far.
func (p *proc) Output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.String()
}

// Exited reports whether the process has ended.
func (p *proc) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// startProc starts `sfsync args…` with env added to a minimal environment;
// the process is killed when the test ends.
func startProc(t *testing.T, name string, env []string, args ...string) *proc {
	t.Helper()
	p := &proc{name: name, done: make(chan struct{})}
	p.cmd = exec.Command(sfsyncBinary(t), args...)
	p.cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}, env...)
	p.cmd.Stdout, p.cmd.Stderr = p, p
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		if !p.Exited() {
			p.cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-p.done:
			case <-time.After(20 * time.Second):
				p.cmd.Process.Kill()
				<-p.done
			}
		}
		if t.Failed() {
			t.Logf("--- output of %s:\n%s", p.name, p.Output())
		}
	})
	return p
}

// Stop ends the process with SIGTERM and waits for it.
func (p *proc) Stop(t *testing.T) {
	t.Helper()
	if p.Exited() {
		return
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		t.Errorf("%s did not stop within 30 s of SIGTERM", p.name)
		p.cmd.Process.Kill()
		<-p.done
	}
}

// Kill9 ends the process the way a crash or the OOM killer does.
func (p *proc) Kill9(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatalf("kill -9 %s: %v", p.name, err)
	}
	<-p.done
}

// postgresEnv is the environment of processes sharing a fresh PostgreSQL
// schema and one secret key.
func postgresEnv(t *testing.T) (env []string, dsn, key string) {
	t.Helper()
	dsn = storetest.PostgresSchema(t)
	raw := make([]byte, 32)
	rand.Read(raw)
	key = base64.StdEncoding.EncodeToString(raw)
	return []string{"SFSYNC_DATABASE_URL=" + dsn, "SFSYNC_SECRET_KEY=" + key, "SFSYNC_DATA_DIR=" + t.TempDir()}, dsn, key
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func waitUntil(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestConcurrentStartOnPostgres starts `serve` and two `worker`s at the
// same moment on an empty PostgreSQL schema: all three must come up (the
// migrations, sfsync's and River's, run under an advisory lock), and
// `sfsync migrate` must leave River's tables in place too.
func TestConcurrentStartOnPostgres(t *testing.T) {
	t.Parallel()
	sfsyncBinary(t)
	// The race is a matter of timing: a few rounds make it show.
	var dsns []string
	for round := range 3 {
		dsns = append(dsns, startThreeAtOnce(t, round))
	}

	// `sfsync migrate` alone, on another empty schema, creates River's
	// tables as well as sfsync's.
	env2, dsn2, _ := postgresEnv(t)
	var out bytes.Buffer
	if err := run(context.Background(), []string{"migrate"}, &out, envLookup(env2)); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	for _, d := range append(dsns, dsn2) {
		if !hasTable(t, d, "river_job") || !hasTable(t, d, "contacts") {
			t.Errorf("after start/migrate on %s: river_job %v, contacts %v; want both", d, hasTable(t, d, "river_job"), hasTable(t, d, "contacts"))
		}
	}
}

func envLookup(env []string) func(string) string {
	m := map[string]string{}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		m[k] = v
	}
	return func(k string) string { return m[k] }
}

// hasTable reports whether the schema of dsn has the table.
func hasTable(t *testing.T, dsn, table string) bool {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var ok bool
	if err := conn.QueryRow(ctx, `SELECT to_regclass($1) IS NOT NULL`, table).Scan(&ok); err != nil {
		t.Fatal(err)
	}
	return ok
}

// startThreeAtOnce starts serve and two workers at the same moment on a
// fresh schema, checks that all three come up and stay up, and stops
// them; it returns the schema's DSN.
func startThreeAtOnce(t *testing.T, round int) string {
	t.Helper()
	env, dsn, _ := postgresEnv(t)
	addr := freeAddr(t)
	start := make(chan struct{})
	procs := make([]*proc, 3)
	var wg sync.WaitGroup
	for i, args := range [][]string{{"serve", "--addr", addr}, {"worker"}, {"worker"}} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			procs[i] = startProc(t, fmt.Sprintf("round %d: %s #%d", round, strings.Join(args, " "), i), env, args...)
		}()
	}
	close(start)
	wg.Wait()
	waitUntil(t, "serve to answer /readyz", 60*time.Second, func() bool {
		if procs[0].Exited() {
			t.Fatalf("serve exited: %v\n%s", procs[0].err, procs[0].Output())
		}
		resp, err := http.Get("http://" + addr + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	for _, p := range procs[1:] {
		waitUntil(t, p.name+" to run", 60*time.Second, func() bool {
			if p.Exited() {
				t.Fatalf("%s exited: %v\n%s", p.name, p.err, p.Output())
			}
			return strings.Contains(p.Output(), "sfsync worker running")
		})
	}
	time.Sleep(time.Second)
	for _, p := range procs {
		if p.Exited() {
			t.Errorf("%s exited after starting: %v\n%s", p.name, p.err, p.Output())
		}
	}

	for _, p := range procs {
		p.Stop(t)
	}
	return dsn
}

// TestKilledWorkerResumes kills (SIGKILL) the `sfsync worker` process
// that is running a first sync and measures how long it takes until
// another worker process runs the job: on PostgreSQL a second worker that
// was running all along, on SQLite (one process) the restarted worker.
// The run then finishes from its checkpoint with every contact once.
func TestKilledWorkerResumes(t *testing.T) {
	t.Parallel()
	sfsyncBinary(t)
	for _, d := range storetest.Dialects {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			testKilledWorkerResumes(t, d)
		})
	}
}

func testKilledWorkerResumes(t *testing.T, d store.Dialect) {
	const contacts = 16000 // eight REST pages of 2,000
	env := testenv.New(t, testenv.Options{Dialect: d})
	raw := make([]byte, 32)
	rand.Read(raw)
	key := base64.StdEncoding.EncodeToString(raw)
	kr, err := secret.ParseKeys(key)
	if err != nil {
		t.Fatal(err)
	}
	env.Conn.Keyring = kr // the worker processes must read the stored tokens
	env.Connect(t)
	for i := range contacts {
		env.Org.CreateAsHuman(map[string]any{"LastName": fmt.Sprintf("P%05d", i), "Member_Number__c": fmt.Sprintf("M%05d", i)})
	}
	// Every Salesforce call takes a while, so the sync is still going
	// when its worker is killed.
	env.Emu.SetFaults(sfemu.Faults{Latency: 700 * time.Millisecond})
	ctx := context.Background()
	quiet := slog.New(slog.DiscardHandler)
	eng := &syncer.Engine{Store: env.Store, Conn: env.Conn, Logger: quiet}
	if _, err := jobs.New(ctx, env.Store, eng, jobs.Options{InsertOnly: true, Logger: quiet}); err != nil {
		t.Fatal(err)
	}
	if _, err := eng.SaveConfig(ctx, env.Tenant.ID, "u", syncconf.Config{
		Identity: syncconf.IdentityMapping{SalesforceField: "Member_Number__c", PlatformIdentity: contact.IdentityMemberID,
			ToPlatformNoMatch: syncconf.NoMatchCreate, ToSalesforceNoMatch: syncconf.NoMatchCreate},
		Fields: []syncconf.FieldMapping{{SalesforceField: "LastName", PlatformField: "name", Direction: syncconf.DirBoth}},
	}); err != nil {
		t.Fatal(err)
	}
	dsn := env.DSN
	holderSQL := `SELECT state, COALESCE(attempted_by[array_length(attempted_by, 1)], '')
		FROM river_job WHERE kind = 'sfsync.pull' ORDER BY id DESC LIMIT 1`
	if d == store.SQLite {
		dsn = "sqlite:" + dsn
		holderSQL = `SELECT state, COALESCE(json_extract(attempted_by, '$[#-1]'), '')
		FROM river_job WHERE kind = 'sfsync.pull' ORDER BY id DESC LIMIT 1`
	}
	procEnv := []string{"SFSYNC_DATABASE_URL=" + dsn, "SFSYNC_SECRET_KEY=" + key, "SFSYNC_DATA_DIR=" + t.TempDir(),
		"SFSYNC_SALESFORCE_CLIENT_ID=" + env.App.ClientID, "SFSYNC_SALESFORCE_CLIENT_SECRET=" + env.App.ClientSecret,
		"SFSYNC_SALESFORCE_LOGIN_URL=" + env.URL}
	startWorker := func(name string) *proc {
		p := startProc(t, name, procEnv, "worker")
		waitUntil(t, name+" to run", 60*time.Second, func() bool {
			if p.Exited() {
				t.Fatalf("%s exited: %v\n%s", name, p.err, p.Output())
			}
			return strings.Contains(p.Output(), "sfsync worker running")
		})
		return p
	}
	first := startWorker("worker A")
	run, err := eng.StartInitialSync(ctx, env.Tenant.ID)
	if err != nil {
		t.Fatal(err)
	}
	holder := func() (state, client string) {
		env.Store.JobsDB().QueryRowContext(ctx, holderSQL).Scan(&state, &client)
		return state, client
	}
	progress := func() syncer.Run {
		r, err := env.Store.GetRun(ctx, env.Tenant.ID, run.ID)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	waitUntil(t, "the first page to be applied", 90*time.Second, func() bool { return progress().Processed > 0 })
	if d == store.Postgres {
		startWorker("worker B")
	}
	state, killed := holder()
	if state != "running" || killed == "" {
		t.Fatalf("pull job state %q held by %q, want running", state, killed)
	}
	at := progress()
	if at.Status != syncer.StatusRunning || at.Processed >= contacts {
		t.Fatalf("run before the kill = %s with %d processed, want running part-way", at.Status, at.Processed)
	}
	first.Kill9(t)
	killedAt := time.Now()
	if d == store.SQLite {
		startWorker("worker A restarted")
	}
	waitUntil(t, "another worker to take the job", 3*time.Minute, func() bool {
		state, c := holder()
		return state == "running" && c != killed
	})
	resumed := time.Since(killedAt)
	// Syncing has resumed once the new worker applies a page past the
	// checkpoint the killed one left.
	atKill := progress().Processed
	waitUntil(t, "a page applied after the kill", 3*time.Minute, func() bool { return progress().Processed > atKill })
	applied := time.Since(killedAt)
	// The figures BENCHMARKS.md records (go test -v -run TestKilledWorkerResumes ./cmd/sfsync/).
	t.Logf("resume after kill -9 (%s): job taken by another worker after %s, first page applied after %s (killed at %d of %d processed; 700 ms per Salesforce call)",
		d, resumed.Round(100*time.Millisecond), applied.Round(100*time.Millisecond), atKill, contacts)
	if resumed > 2*time.Minute {
		t.Errorf("resumed %s after the kill, want within 2 minutes", resumed)
	}
	waitUntil(t, "the run to finish", 5*time.Minute, func() bool { return progress().FinishedAt != nil })
	done := progress()
	if done.Status != syncer.StatusSucceeded || done.Processed != contacts {
		t.Errorf("run = %s, %d processed, counts %+v; want succeeded with %d", done.Status, done.Processed, done.Counts, contacts)
	}
	var n, links int
	env.Store.DB.QueryRowContext(ctx, `SELECT COUNT(*) FROM contacts WHERE tenant_id = $1`, env.Tenant.ID).Scan(&n)
	env.Store.DB.QueryRowContext(ctx, `SELECT COUNT(*) FROM links WHERE tenant_id = $1`, env.Tenant.ID).Scan(&links)
	if n != contacts || links != contacts {
		t.Errorf("got %d contacts and %d links, want %d of each (no duplicates, none lost)", n, links, contacts)
	}
	if sf := len(env.Org.ContactIDs(false)); sf != contacts {
		t.Errorf("got %d Salesforce contacts, want %d", sf, contacts)
	}
}
