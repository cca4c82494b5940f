// Package nodetest prepares the Node.js side of an interoperability test:
// an independent client (jsforce, the sf CLI, salesforce-pubsub-api-client)
// installed from the package-lock.json beside the test and run against
// the emulator.
package nodetest

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

// Options describe one test package's client.
type Options struct {
	// What names the test in the skip message, e.g. "the jsforce
	// interoperability test".
	What string
	// MinNode is the oldest Node the client supports, {major, minor}.
	MinNode [2]int
	// Timeout bounds `npm ci` (3 minutes when zero).
	Timeout time.Duration
	// Leaves, when set, is a file `npm ci` must leave (e.g. the client's
	// binary), relative to the test's directory.
	Leaves string
}

var (
	once sync.Once
	skip string
	err  error
)

// Require makes sure node and npm are usable and that node_modules holds
// exactly what package-lock.json locks, running `npm ci` once per test
// process when it does not. When node or npm is missing or too old it
// skips loudly — unless CI is set (.ci/run installs them), where it fails.
// Tests run in their package's directory, where the lock file is.
func Require(t testing.TB, o Options) {
	t.Helper()
	once.Do(func() { skip, err = install(o) })
	if err != nil {
		t.Fatalf("preparing %s: %v", o.What, err)
	}
	if skip != "" {
		if os.Getenv("CI") != "" {
			t.Fatalf("CI is set but %s", skip)
		}
		// Stderr, not t.Log: go test shows it even without -v.
		fmt.Fprintf(os.Stderr, "\n*** SKIPPING %s: %s; install Node.js %d.%d+ and npm to run %s ***\n\n", t.Name(), skip, o.MinNode[0], o.MinNode[1], o.What)
		t.Skip("SKIPPING: " + skip)
	}
}

// install returns a reason to skip when node or npm is unusable, and runs
// `npm ci` unless node_modules already holds exactly what the lock locks.
func install(o Options) (string, error) {
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
	if major < o.MinNode[0] || major == o.MinNode[0] && minor < o.MinNode[1] {
		return fmt.Sprintf("node %s is older than the client's minimum, %d.%d", v, o.MinNode[0], o.MinNode[1]), nil
	}
	if installedMatchesLock() {
		return "", nil
	}
	timeout := o.Timeout
	if timeout <= 0 {
		timeout = 3 * time.Minute
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	// --ignore-scripts: the clients' install scripts only check the Node
	// version, done above.
	cmd := exec.CommandContext(ctx, "npm", "ci", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("npm ci: %w\n%s", err, out)
	}
	if o.Leaves != "" {
		if _, err := os.Stat(o.Leaves); err != nil {
			return "", fmt.Errorf("npm ci left no %s: %w", o.Leaves, err)
		}
	}
	return "", nil
}

// installedMatchesLock compares package-lock.json's packages (versions and
// integrity) with npm's record of what it installed
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
