package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
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

	"github.com/sfsync/sfsync/internal/store/storetest"
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
