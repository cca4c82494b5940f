package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sfsync/sfsync/internal/contact"
	"github.com/sfsync/sfsync/internal/jobs"
	"github.com/sfsync/sfsync/internal/secret"
	"github.com/sfsync/sfsync/internal/sfemu"
	"github.com/sfsync/sfsync/internal/store"
	"github.com/sfsync/sfsync/internal/syncconf"
	"github.com/sfsync/sfsync/internal/syncer"
	"github.com/sfsync/sfsync/internal/testenv"
)

// TestWorkerSIGTERMMidSync starts a first sync, lets a real `sfsync
// worker` process commit a few pages, sends it SIGTERM and checks that it
// exits within 30 s having released the job (not left "running" for the
// rescuer), that the run is neither failed nor finished and kept its
// checkpoint, and that a second worker process resumes it to the end
// without counting a record twice. PostgreSQL only: that is where
// several processes share the jobs.
func TestWorkerSIGTERMMidSync(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("builds sfsync and syncs 9,000 contacts")
	}
	// About 9,100 of them carry a member number: under the engine's Bulk
	// API threshold (10,000), so the sync reads REST pages of 2,000 and
	// commits a checkpoint with each (a Bulk API read has none and starts
	// over after an interruption).
	const contacts = 13_000
	env := testenv.New(t, testenv.Options{Dialect: store.Postgres}) // skips without PostgreSQL
	ctx := context.Background()
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		t.Fatal(err)
	}
	kr, err := secret.NewKeyring(key)
	if err != nil {
		t.Fatal(err)
	}
	env.Conn.Keyring = kr // the worker processes decrypt the tokens with SFSYNC_SECRET_KEY
	env.Connect(t)
	if _, err := env.Org.SeedContacts(contacts, 7); err != nil {
		t.Fatal(err)
	}
	// Every Salesforce answer takes a while, so the sync is still going
	// when the signal comes.
	env.Emu.SetFaults(sfemu.Faults{Latency: 600 * time.Millisecond})

	eng := &syncer.Engine{Store: env.Store, Conn: env.Conn, Logger: slog.New(slog.DiscardHandler)}
	if _, err := jobs.New(ctx, env.Store, eng, jobs.Options{InsertOnly: true}); err != nil {
		t.Fatal(err)
	}
	cfg := syncconf.Config{
		Identity: syncconf.IdentityMapping{SalesforceField: "Member_Number__c", PlatformIdentity: contact.IdentityMemberID,
			ToPlatformNoMatch: syncconf.NoMatchCreate, ToSalesforceNoMatch: syncconf.NoMatchUpdateOnly},
		Fields: []syncconf.FieldMapping{{SalesforceField: "LastName", PlatformField: "name", Direction: syncconf.DirToPlatform}},
	}
	if _, err := eng.SaveConfig(ctx, env.Tenant.ID, "test", cfg); err != nil {
		t.Fatal(err)
	}
	run, err := eng.StartInitialSync(ctx, env.Tenant.ID)
	if err != nil {
		t.Fatal(err)
	}

	bin := filepath.Join(t.TempDir(), "sfsync")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build sfsync: %v\n%s", err, out)
	}
	workerEnv := append(os.Environ(),
		"SFSYNC_DATABASE_URL="+env.DSN,
		"SFSYNC_SECRET_KEY="+base64.StdEncoding.EncodeToString(key),
		"SFSYNC_SALESFORCE_CLIENT_ID="+env.App.ClientID,
		"SFSYNC_SALESFORCE_CLIENT_SECRET="+env.App.ClientSecret,
		"SFSYNC_SALESFORCE_LOGIN_URL="+env.URL,
		"SFSYNC_DATA_DIR="+t.TempDir(),
		"SFSYNC_LOG_FORMAT=json",
		"SFSYNC_SHUTDOWN_GRACE=1s",
	)
	first := startWorker(t, bin, workerEnv)
	got := waitRun(t, env.Store, env.Tenant.ID, run.ID, 3*time.Minute, func(r store.SyncRun) bool { return r.Processed >= 2000 })
	if got.FinishedAt != nil {
		t.Fatalf("the run finished (%d of %d) before the signal; nothing to resume", got.Processed, got.Total)
	}

	elapsed, exitErr := first.stop(t)
	if elapsed > 30*time.Second {
		t.Errorf("the worker exited %v after SIGTERM, want within 30 s", elapsed)
	}
	if exitErr != nil {
		t.Errorf("the worker exited with %v after SIGTERM, want status 0\n%s", exitErr, first.logs())
	}
	t.Logf("first worker exited %v after SIGTERM", elapsed.Round(time.Millisecond))
	mid, err := env.Store.GetRun(ctx, env.Tenant.ID, run.ID)
	if err != nil {
		t.Fatal(err)
	}
	if mid.FinishedAt != nil || mid.Status != syncer.StatusRunning || mid.Checkpoint == "" || mid.Processed >= mid.Total {
		t.Fatalf("after SIGTERM the run is %s, finished %v, checkpoint %q, %d of %d; want running, unfinished, with a checkpoint\n%s",
			mid.Status, mid.FinishedAt != nil, mid.Checkpoint, mid.Processed, mid.Total, first.logs())
	}
	var state string
	if err := env.Store.JobsDB().QueryRowContext(ctx, `SELECT state FROM river_job WHERE kind = 'sfsync.pull' ORDER BY id DESC LIMIT 1`).Scan(&state); err != nil {
		t.Fatal(err)
	}
	if state == "running" {
		t.Errorf("after the worker exited its pull job is still %q, want it released (retryable or available)", state)
	}

	second := startWorker(t, bin, workerEnv)
	env.Emu.SetFaults(sfemu.Faults{})
	done := waitRun(t, env.Store, env.Tenant.ID, run.ID, 4*time.Minute, func(r store.SyncRun) bool { return r.FinishedAt != nil })
	if _, err := second.stop(t); err != nil {
		t.Errorf("the second worker exited with %v, want status 0", err)
	}
	if done.Status != syncer.StatusSucceeded && done.Status != syncer.StatusPartiallyFailed {
		t.Fatalf("the resumed run ended %s (%s), want succeeded or partially failed\n%s", done.Status, done.Message, second.logs())
	}
	if done.Processed != done.Total {
		t.Errorf("the resumed run processed %d of %d records, want all (none twice)", done.Processed, done.Total)
	}
	var stored int64
	if err := env.Store.DB.QueryRowContext(ctx, `SELECT COUNT(*) FROM contacts WHERE tenant_id = $1`, env.Tenant.ID).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	if stored != done.Counts.Created {
		t.Errorf("the run counts %d created, the store holds %d contacts, want them equal (no page counted twice or lost)", done.Counts.Created, stored)
	}
	t.Logf("run %d: %d of %d processed, %d created, status %s", done.ID, done.Processed, done.Total, done.Counts.Created, done.Status)

	// Structured logs: every line about the run names its tenant, run and
	// job (the job's ID through the job's log context).
	pullLines := 0
	for _, w := range []*workerProc{first, second} {
		for _, line := range strings.Split(w.logs(), "\n") {
			var rec map[string]any
			if json.Unmarshal([]byte(line), &rec) != nil {
				continue
			}
			if msg, _ := rec["msg"].(string); !strings.HasPrefix(msg, "pull ") {
				continue
			}
			pullLines++
			if rec["tenant_id"] != env.Tenant.ID || rec["run_id"] != float64(run.ID) || rec["job_id"] == nil {
				t.Errorf("log line about the run lacks its tenant, run or job: %s", line)
			}
		}
	}
	if pullLines < 2 {
		t.Errorf("found %d log lines about the run, want at least its start in each worker", pullLines)
	}
}

type workerProc struct {
	cmd  *exec.Cmd
	mu   sync.Mutex
	out  bytes.Buffer
	exit chan error
	// stopped is set once stop has seen the process exit.
	stopped bool
}

func (w *workerProc) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.out.Write(p)
}

func (w *workerProc) logs() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.out.String()
}

func startWorker(t *testing.T, bin string, env []string) *workerProc {
	t.Helper()
	w := &workerProc{cmd: exec.Command(bin, "worker"), exit: make(chan error, 1)}
	w.cmd.Env = env
	w.cmd.Stdout, w.cmd.Stderr = w, w
	if err := w.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { w.exit <- w.cmd.Wait() }()
	t.Cleanup(func() {
		if !w.stopped {
			_ = w.cmd.Process.Kill() // the test failed before stopping it
			t.Logf("worker killed at cleanup: %v", <-w.exit)
		}
	})
	return w
}

// stop sends SIGTERM and waits (up to a minute) for the process to exit.
func (w *workerProc) stop(t *testing.T) (time.Duration, error) {
	t.Helper()
	start := time.Now()
	if err := w.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-w.exit:
		w.stopped = true
		return time.Since(start), err
	case <-time.After(time.Minute):
		t.Fatalf("the worker did not exit within a minute of SIGTERM\n%s", w.logs())
		return 0, nil
	}
}

func waitRun(t *testing.T, s *store.Store, tenantID string, runID int64, limit time.Duration, ok func(store.SyncRun) bool) store.SyncRun {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		r, err := s.GetRun(context.Background(), tenantID, runID)
		if err != nil {
			t.Fatal(err)
		}
		if ok(r) || r.FinishedAt != nil {
			return r
		}
		if time.Now().After(deadline) {
			t.Fatalf("run %d after %v: %s, %d of %d", runID, limit, r.Status, r.Processed, r.Total)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
