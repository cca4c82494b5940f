// Command gotest runs `go test -json` with the given arguments and prints
// what plain `go test` prints (one ok/FAIL line per package, the whole
// output of a failing package), then a summary of every skipped test with
// the reason it gave. `make test` runs it so that a skipped PostgreSQL or
// browser suite is seen at the end of the output, not buried in a -v log.
// It exits with go test's exit status.
//
//	go run ./internal/tools/gotest -count=1 ./...
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"sort"
	"strings"
	"syscall"
)

func main() {
	cmd := exec.Command("go", append([]string{"test", "-json"}, os.Args[1:]...)...)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		fmt.Fprintln(os.Stderr, "gotest:", err)
		os.Exit(2)
	}
	if err := cmd.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "gotest:", err)
		os.Exit(2)
	}
	// Ctrl-C reaches go test through the process group; this process
	// stays to print what it has.
	signal.Ignore(os.Interrupt, syscall.SIGTERM)
	r := newReport(os.Stdout)
	readErr := r.read(out)
	waitErr := cmd.Wait()
	r.summary()
	code := 0
	var exit *exec.ExitError
	switch {
	case errors.As(waitErr, &exit):
		code = exit.ExitCode()
	case waitErr != nil:
		fmt.Fprintln(os.Stderr, "gotest:", waitErr)
		code = 2
	case readErr != nil:
		fmt.Fprintln(os.Stderr, "gotest: reading go test output:", readErr)
		code = 2
	case r.failed:
		code = 1
	}
	if code != 0 {
		fmt.Fprintln(os.Stdout, "FAIL")
	}
	os.Exit(code)
}

// event is one line of `go test -json` (cmd/test2json).
type event struct {
	Action     string
	Package    string
	Test       string
	Output     string
	ImportPath string // build-output and build-fail events
}

// skip is one skipped test and the reason it logged.
type skip struct {
	pkg, test, reason string
}

// report turns the event stream into plain go test output plus the skips.
type report struct {
	w      io.Writer
	output map[string][]line              // package → its buffered output
	tests  map[string]map[string][]string // package → test → its output
	done   map[string]map[string]bool     // package → tests that passed or skipped
	skips  []skip
	failed bool
}

func newReport(w io.Writer) *report {
	return &report{w: w, output: map[string][]line{}, tests: map[string]map[string][]string{}, done: map[string]map[string]bool{}}
}

// line is one line of a package's output and the test that wrote it.
type line struct{ test, text string }

func (r *report) read(in io.Reader) error {
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		line := sc.Bytes()
		var ev event
		if len(line) == 0 || line[0] != '{' || json.Unmarshal(line, &ev) != nil {
			// Not an event (go test's own messages): pass it through.
			fmt.Fprintf(r.w, "%s\n", line)
			continue
		}
		r.event(ev)
	}
	return sc.Err()
}

func (r *report) event(ev event) {
	switch ev.Action {
	case "build-output":
		fmt.Fprint(r.w, ev.Output)
		return
	case "build-fail":
		r.failed = true
		return
	case "output":
		r.output[ev.Package] = append(r.output[ev.Package], line{ev.Test, ev.Output})
		if ev.Test != "" {
			if r.tests[ev.Package] == nil {
				r.tests[ev.Package] = map[string][]string{}
			}
			r.tests[ev.Package][ev.Test] = append(r.tests[ev.Package][ev.Test], ev.Output)
		}
		return
	}
	if ev.Test != "" {
		if ev.Action == "skip" {
			r.skips = append(r.skips, skip{pkg: ev.Package, test: ev.Test, reason: reasonOf(r.tests[ev.Package][ev.Test])})
		}
		if ev.Action == "pass" || ev.Action == "skip" {
			delete(r.tests[ev.Package], ev.Test)
			if r.done[ev.Package] == nil {
				r.done[ev.Package] = map[string]bool{}
			}
			r.done[ev.Package][ev.Test] = true
		}
		return
	}
	switch ev.Action {
	case "pass", "skip":
		// As plain go test: only the package's summary line ("ok …",
		// "? … [no test files]").
		for _, l := range r.output[ev.Package] {
			if l.test == "" && (strings.HasPrefix(l.text, "ok ") || strings.HasPrefix(l.text, "?")) {
				fmt.Fprint(r.w, l.text)
			}
		}
	case "fail":
		// As plain go test: what failing tests (and the package) said,
		// without the framing lines of -v.
		r.failed = true
		for _, l := range r.output[ev.Package] {
			if r.done[ev.Package][l.test] || strings.HasPrefix(l.text, "=== ") {
				continue
			}
			fmt.Fprint(r.w, l.text)
		}
	default:
		return
	}
	delete(r.output, ev.Package)
	delete(r.tests, ev.Package)
	delete(r.done, ev.Package)
}

// reasonOf finds the message a skipped test logged (t.Skip's argument,
// with its file:line), without go test's framing lines. What the test
// logged through t wins over what its code printed to stdout or stderr.
func reasonOf(lines []string) string {
	var logged, printed []string
	for _, l := range lines {
		t := strings.TrimSpace(l)
		switch {
		case t == "" || strings.HasPrefix(t, "=== ") || strings.HasPrefix(t, "--- SKIP"):
		case strings.HasPrefix(l, "    ") && stripLocation(t) != t:
			logged = append(logged, t)
		default:
			printed = append(printed, t)
		}
	}
	if len(logged) == 0 {
		logged = printed
	}
	if len(logged) == 0 {
		return "(no reason given)"
	}
	return strings.Join(logged, " ")
}

// summary prints the skipped tests grouped by package and reason, so a
// suite that skips for one reason is one line, not one per test.
func (r *report) summary() {
	if len(r.skips) == 0 {
		fmt.Fprintln(r.w, "\nSKIPPED: none")
		return
	}
	type group struct {
		pkg, reason string
		tests       []string
	}
	byKey := map[[2]string]*group{}
	var groups []*group
	for _, s := range r.skips {
		// The file:line prefix differs between callers of one helper; the
		// message is what groups them.
		k := [2]string{s.pkg, stripLocation(s.reason)}
		g := byKey[k]
		if g == nil {
			g = &group{pkg: s.pkg, reason: k[1]}
			byKey[k] = g
			groups = append(groups, g)
		}
		g.tests = append(g.tests, s.test)
	}
	sort.SliceStable(groups, func(i, j int) bool { return groups[i].pkg < groups[j].pkg })
	fmt.Fprintf(r.w, "\nSKIPPED: %d test(s) did not run:\n", len(r.skips))
	for _, g := range groups {
		names := g.tests
		more := ""
		if len(names) > 3 {
			more = fmt.Sprintf(" and %d more", len(names)-3)
			names = names[:3]
		}
		fmt.Fprintf(r.w, "  %s (%d: %s%s)\n      %s\n", g.pkg, len(g.tests), strings.Join(names, ", "), more, g.reason)
	}
}

// stripLocation drops a leading "file.go:12: " from a test log line.
func stripLocation(s string) string {
	if i := strings.Index(s, ".go:"); i > 0 && !strings.ContainsAny(s[:i], " \t") {
		rest := s[i+len(".go:"):]
		if j := strings.Index(rest, ": "); j > 0 && strings.Trim(rest[:j], "0123456789") == "" {
			return rest[j+2:]
		}
	}
	return s
}
