package sfclitest

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// minNode is the oldest Node the pinned CLI's dependency tree supports
// (several of its npm packages declare ^20.17.0).
var minNode = [2]int{20, 17}

// sfBin is the CLI that npm ci installs, relative to this package.
const sfBin = "node_modules/.bin/sf"

var (
	installOnce sync.Once
	installErr  error
	installSkip string
)

// requireCLI makes sure node and the locked node_modules are there. When
// node or npm is missing or too old it skips loudly, unless CI is set
// (.ci/run installs them), where it fails.
func requireCLI(t *testing.T) {
	t.Helper()
	installOnce.Do(func() { installSkip, installErr = install() })
	if installErr != nil {
		t.Fatalf("preparing the sf CLI: %v", installErr)
	}
	if installSkip != "" {
		if os.Getenv("CI") != "" {
			t.Fatalf("CI is set but %s", installSkip)
		}
		// Stderr, not t.Log: go test shows it even without -v.
		fmt.Fprintf(os.Stderr, "\n*** SKIPPING %s: %s; install Node.js %d.%d+ and npm to run the sf CLI interoperability test ***\n\n", t.Name(), installSkip, minNode[0], minNode[1])
		t.Skip("SKIPPING: " + installSkip)
	}
}

// install returns a reason to skip when node or npm is unusable, and runs
// `npm ci` unless node_modules already holds exactly what
// package-lock.json locks.
func install() (skip string, err error) {
	for _, tool := range []string{"node", "npm"} {
		if _, err := exec.LookPath(tool); err != nil {
			return tool + " is not on PATH", nil
		}
	}
	out, err := exec.Command("node", "--version").Output()
	if err != nil {
		return "", fmt.Errorf("node --version: %w", err)
	}
	v := strings.TrimSpace(string(out))
	parts := strings.SplitN(strings.TrimPrefix(v, "v"), ".", 3)
	if len(parts) < 2 {
		return "", fmt.Errorf("parse node version %q", v)
	}
	major, err1 := strconv.Atoi(parts[0])
	minor, err2 := strconv.Atoi(parts[1])
	if err1 != nil || err2 != nil {
		return "", fmt.Errorf("parse node version %q", v)
	}
	if major < minNode[0] || major == minNode[0] && minor < minNode[1] {
		return fmt.Sprintf("node %s is older than the pinned CLI's minimum, %d.%d", v, minNode[0], minNode[1]), nil
	}
	if installedMatchesLock() {
		return "", nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	// --ignore-scripts: the CLI's only install script is a Node version
	// check, done above.
	cmd := exec.CommandContext(ctx, "npm", "ci", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("npm ci: %w\n%s", err, out)
	}
	if _, err := os.Stat(sfBin); err != nil {
		return "", fmt.Errorf("npm ci left no %s: %w", sfBin, err)
	}
	return "", nil
}

// installedMatchesLock compares package-lock.json's packages (versions
// and integrity) with npm's record of what it installed
// (node_modules/.package-lock.json).
func installedMatchesLock() bool {
	type lock struct {
		Packages map[string]json.RawMessage `json:"packages"`
	}
	read := func(path string) (map[string]string, bool) {
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, false
		}
		var l lock
		if json.Unmarshal(b, &l) != nil {
			return nil, false
		}
		out := map[string]string{}
		for k, v := range l.Packages {
			if k == "" {
				continue
			}
			var pkg struct {
				Version   string `json:"version"`
				Integrity string `json:"integrity"`
				InBundle  bool   `json:"inBundle"`
			}
			if json.Unmarshal(v, &pkg) != nil {
				return nil, false
			}
			if pkg.InBundle {
				// Bundled packages come inside their parent's tarball;
				// npm records no integrity for them once installed.
				pkg.Integrity = ""
			}
			out[k] = pkg.Version + " " + pkg.Integrity
		}
		return out, true
	}
	want, ok1 := read("package-lock.json")
	got, ok2 := read("node_modules/.package-lock.json")
	return ok1 && ok2 && len(want) > 0 && reflect.DeepEqual(want, got)
}
