package main

import (
	"bytes"
	"os"
	"strings"
	"testing"
)

// TestReport feeds a recorded `go test -json` stream (testdata/stream.json:
// a passing package with a PostgreSQL skip, a package without tests, a
// failing package) and checks the plain output and the skip summary.
func TestReport(t *testing.T) {
	t.Parallel()
	in, err := os.ReadFile("testdata/stream.json")
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	r := newReport(&out)
	if err := r.read(bytes.NewReader(in)); err != nil {
		t.Fatal(err)
	}
	r.summary()
	got := out.String()
	for _, want := range []string{
		"ok  \texample.com/m/store\t0.10s\n",
		"?   \texample.com/m/empty\t[no test files]\n",
		"    bad_test.go:9: got 1, want 2\n",
		"FAIL\texample.com/m/bad\t0.01s\n",
		"SKIPPED: 3 test(s) did not run:\n",
		"  example.com/m/store (2: TestPG/postgres, TestOther/postgres)\n      SKIPPING: PostgreSQL tests need SFSYNC_TEST_POSTGRES_URL\n",
		"  example.com/m/store (1: TestBig)\n      seeds 100k contacts\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q; got:\n%s", want, got)
		}
	}
	for _, notWant := range []string{"=== RUN", "--- PASS: TestPG/sqlite", "this passing test's log"} {
		if strings.Contains(got, notWant) {
			t.Errorf("output has %q (plain go test would not print it); got:\n%s", notWant, got)
		}
	}
	if !r.failed {
		t.Errorf("got failed = false, want true (one package failed)")
	}
}

func TestStripLocation(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, want string }{
		{"open.go:76: SKIPPING: no server", "SKIPPING: no server"},
		{"no location here: x", "no location here: x"},
		{"a b.go:12: not a location (space before)", "a b.go:12: not a location (space before)"},
		{"x.go:1a: odd", "x.go:1a: odd"},
	} {
		if got := stripLocation(tc.in); got != tc.want {
			t.Errorf("stripLocation(%q): got %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestSummaryWithoutSkips(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	newReport(&out).summary()
	if got, want := out.String(), "\nSKIPPED: none\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}
