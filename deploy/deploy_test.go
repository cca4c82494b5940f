// Package deploy holds the container image, Compose file, systemd units,
// Grafana dashboard and Prometheus rules; its tests check them.
package deploy

import (
	"bytes"
	"context"
	"crypto/rand"
	"debug/elf"
	"encoding/hex"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

// TestBinaryIsStatic builds sfsync as deploy/Dockerfile does (without
// -trimpath, which would rebuild every package uncached) and checks
// it needs no dynamic loader or library, so it runs on an empty image.
func TestBinaryIsStatic(t *testing.T) {
	t.Parallel()
	bin := filepath.Join(t.TempDir(), "sfsync")
	cmd := exec.Command("go", "build", "-tags", "timetzdata", "-o", bin, "../cmd/sfsync")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build as the Dockerfile does: %v\n%s", err, out)
	}
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Error("the binary asks for a dynamic loader (PT_INTERP), want a static binary")
		}
	}
	if libs, _ := f.ImportedLibraries(); len(libs) > 0 {
		t.Errorf("the binary needs %v, want none", libs)
	}
}

// TestImageServesReadyz builds deploy/Dockerfile, runs the image and
// waits for /readyz. It needs a container engine's daemon; without one it
// skips and says so.
func TestImageServesReadyz(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a container image")
	}
	docker := requireDocker(t)
	suffix := make([]byte, 4)
	if _, err := rand.Read(suffix); err != nil {
		t.Fatal(err)
	}
	tag := "sfsync-test:" + hex.EncodeToString(suffix)
	run(t, 15*time.Minute, docker, "build", "-f", "Dockerfile", "-t", tag, "..")
	t.Cleanup(func() { _ = exec.Command(docker, "rmi", "-f", tag).Run() })
	if user := strings.TrimSpace(run(t, time.Minute, docker, "image", "inspect", "--format", "{{.Config.User}}", tag)); user == "" || user == "0" || strings.HasPrefix(user, "root") {
		t.Errorf("the image runs as %q, want a non-root user", user)
	}
	id := strings.TrimSpace(run(t, time.Minute, docker, "run", "-d", "-p", "127.0.0.1::8080", tag, "serve"))
	t.Cleanup(func() { _ = exec.Command(docker, "rm", "-f", id).Run() })
	port := strings.TrimSpace(run(t, time.Minute, docker, "port", id, "8080/tcp"))
	url := "http://" + strings.Split(port, "\n")[0] + "/readyz"
	deadline := time.Now().Add(time.Minute)
	for {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			logs, _ := exec.Command(docker, "logs", id).CombinedOutput()
			t.Fatalf("%s did not answer 200 within a minute (last error %v)\n%s", url, err, logs)
		}
		time.Sleep(500 * time.Millisecond)
	}
	// SIGTERM: the container stops well within its 30 s.
	start := time.Now()
	run(t, time.Minute, docker, "stop", "--time", "30", id)
	if d := time.Since(start); d > 30*time.Second {
		t.Errorf("docker stop took %v, want the process gone within 30 s", d)
	}
}

// TestComposeFile checks deploy/compose.yaml has what README promises:
// PostgreSQL, a migration before any sfsync process, one serve, two
// workers, the secret key and base URL as settings, a 30 s stop. Where
// `docker compose` exists it also validates the file.
func TestComposeFile(t *testing.T) {
	t.Parallel()
	src, err := os.ReadFile("compose.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var c struct {
		Services map[string]struct {
			Image       string            `yaml:"image"`
			Command     []string          `yaml:"command"`
			Environment map[string]string `yaml:"environment"`
			DependsOn   map[string]struct {
				Condition string `yaml:"condition"`
			} `yaml:"depends_on"`
			StopGracePeriod string `yaml:"stop_grace_period"`
			Deploy          struct {
				Replicas int `yaml:"replicas"`
			} `yaml:"deploy"`
		} `yaml:"services"`
	}
	if err := yaml.Unmarshal(src, &c); err != nil {
		t.Fatalf("compose.yaml: %v", err)
	}
	if _, ok := c.Services["postgres"]; !ok {
		t.Error("compose.yaml has no postgres service")
	}
	for name, want := range map[string]struct {
		command  string
		replicas int
	}{"migrate": {"migrate", 0}, "serve": {"serve", 0}, "worker": {"worker", 2}} {
		s, ok := c.Services[name]
		if !ok {
			t.Errorf("compose.yaml has no %s service", name)
			continue
		}
		if len(s.Command) != 1 || s.Command[0] != want.command {
			t.Errorf("%s: got command %v, want [%s]", name, s.Command, want.command)
		}
		if s.Deploy.Replicas != want.replicas {
			t.Errorf("%s: got %d replicas, want %d", name, s.Deploy.Replicas, want.replicas)
		}
		for _, k := range []string{"SFSYNC_DATABASE_URL", "SFSYNC_SECRET_KEY", "SFSYNC_BASE_URL"} {
			if !strings.Contains(s.Environment[k], "${") && k != "SFSYNC_DATABASE_URL" {
				t.Errorf("%s: %s is %q, want it taken from the operator's environment", name, k, s.Environment[k])
			}
			if s.Environment[k] == "" {
				t.Errorf("%s: %s not set", name, k)
			}
		}
		if name != "migrate" {
			if s.DependsOn["migrate"].Condition != "service_completed_successfully" {
				t.Errorf("%s: starts without waiting for the migration", name)
			}
			if s.StopGracePeriod != "30s" {
				t.Errorf("%s: stop_grace_period %q, want 30s", name, s.StopGracePeriod)
			}
		}
	}
	docker, err := exec.LookPath("docker")
	if err != nil || exec.Command(docker, "compose", "version").Run() != nil {
		t.Log("NOT RUN: `docker compose config` (no Compose plugin here); the file was checked as YAML only")
		return
	}
	cmd := exec.Command(docker, "compose", "-f", "compose.yaml", "config", "-q")
	cmd.Env = append(os.Environ(), "SFSYNC_SECRET_KEY=dGVzdA==")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("docker compose config: %v\n%s", err, out)
	}
}

// TestSystemdUnits verifies the example units with systemd-analyze where
// it exists; the binary's absence from /usr/local/bin is expected here.
func TestSystemdUnits(t *testing.T) {
	t.Parallel()
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("SKIPPING: systemd-analyze is not installed; the units were not verified")
	}
	dir := t.TempDir()
	units := map[string]string{"sfsync-serve.service": "sfsync-serve.service", "sfsync-worker@.service": "sfsync-worker@1.service"}
	var args []string
	for src, dst := range units {
		b, err := os.ReadFile(filepath.Join("systemd", src))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, dst), b, 0o644); err != nil {
			t.Fatal(err)
		}
		args = append(args, filepath.Join(dir, dst))
	}
	out, _ := exec.Command(analyze, append([]string{"verify"}, args...)...).CombinedOutput()
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if line == "" || strings.Contains(line, "/usr/local/bin/sfsync is not executable") {
			continue
		}
		t.Errorf("systemd-analyze verify: %s", line)
	}
}

// requireDocker returns the docker client's path, or skips loudly when
// there is no client or no daemon behind it.
func requireDocker(t *testing.T) string {
	t.Helper()
	docker, err := exec.LookPath("docker")
	if err != nil {
		t.Skip("SKIPPING: no container engine (docker) installed; the image was NOT built and /readyz was NOT checked")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if out, err := exec.CommandContext(ctx, docker, "info", "--format", "{{.ServerVersion}}").CombinedOutput(); err != nil {
		msg := strings.TrimSpace(string(out))
		if i := strings.IndexByte(msg, '\n'); i > 0 {
			msg = msg[:i]
		}
		t.Skipf("SKIPPING: no container engine daemon reachable (docker info: %v: %s); the image was NOT built and /readyz was NOT checked", err, msg)
	}
	return docker
}

func run(t *testing.T, limit time.Duration, name string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, stderr.String())
	}
	return stdout.String()
}
