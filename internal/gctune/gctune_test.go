package gctune

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"testing"
	"time"
)

func TestLimit(t *testing.T) {
	for _, c := range []struct {
		live, floor uint64
		want        int64
	}{
		{0, Floor, Floor},
		{40 << 20, Floor, Floor},         // a first sync's heap: the floor
		{100 << 20, Floor, 232 << 20},    // twice the heap and the margin
		{2 << 30, Floor, 4<<30 + 32<<20}, // a large heap is never squeezed
	} {
		if got := Limit(c.live, c.floor); got != c.want {
			t.Errorf("Limit(%d MiB, %d MiB) = %d MiB, want %d MiB", c.live>>20, c.floor>>20, got>>20, c.want>>20)
		}
	}
}

// restore puts Go's defaults back after a test that tuned this process.
func restore(t *testing.T) {
	t.Cleanup(func() {
		debug.SetGCPercent(100)
		debug.SetMemoryLimit(math.MaxInt64)
	})
}

func TestTuneLeavesGoSettingsToTheOperator(t *testing.T) {
	restore(t)
	for _, env := range []string{"GOGC", "GOMEMLIMIT"} {
		getenv := func(k string) string {
			if k == env {
				return "200"
			}
			return ""
		}
		if Tune(t.Context(), getenv, Floor) {
			t.Errorf("with %s set, Tune tuned", env)
		}
		if limit := debug.SetMemoryLimit(-1); limit != math.MaxInt64 {
			t.Errorf("with %s set, the memory limit is %d", env, limit)
		}
	}
}

// The limit follows the live heap up, so a heap past the floor is not
// collected over and over, and back down to the floor.
func TestTuneFollowsTheLiveHeap(t *testing.T) {
	restore(t)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	const floor = 64 << 20
	if !Tune(ctx, func(string) string { return "" }, floor) {
		t.Fatal("Tune did not tune with GOGC and GOMEMLIMIT unset")
	}
	if p := debug.SetGCPercent(400); p != 400 {
		t.Errorf("GOGC is %d, want 400", p)
	}
	wait := func(ok func(int64) bool) int64 {
		var limit int64
		for end := time.Now().Add(5 * time.Second); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
			if limit = debug.SetMemoryLimit(-1); ok(limit) {
				break
			}
		}
		return limit
	}
	if limit := wait(func(l int64) bool { return l == floor }); limit != floor {
		t.Errorf("with a small heap the limit is %d MiB, want the floor %d MiB", limit>>20, floor>>20)
	}
	func() {
		held := make([][]byte, 0, 200)
		for range 200 {
			held = append(held, make([]byte, 1<<20))
		}
		runtime.GC()
		if limit := wait(func(l int64) bool { return l >= 2*200<<20 }); limit < 2*200<<20 {
			t.Errorf("with 200 MiB live the limit is %d MiB, want at least 400", limit>>20)
		}
		runtime.KeepAlive(held)
	}()
	runtime.GC()
	if limit := wait(func(l int64) bool { return l == floor }); limit != floor {
		t.Errorf("with the heap freed the limit is %d MiB, want the floor %d MiB", limit>>20, floor>>20)
	}
}

func TestParseLimit(t *testing.T) {
	for in, want := range map[string]uint64{
		"max\n":                 0,
		"9223372036854771712\n": 0, // cgroup v1 without a limit
		"268435456\n":           256 << 20,
		"":                      0,
	} {
		if got := parseLimit(in); got != want {
			t.Errorf("parseLimit(%q) = %d, want %d", in, got, want)
		}
	}
}

// In a container of 192 MiB the floor is a third of it.
func TestTuneFloorInASmallContainer(t *testing.T) {
	restore(t)
	files := cgroupFiles
	t.Cleanup(func() { cgroupFiles = files })
	f := filepath.Join(t.TempDir(), "memory.max")
	if err := os.WriteFile(f, []byte("201326592\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cgroupFiles = []string{f}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	if !Tune(ctx, func(string) string { return "" }, Floor) {
		t.Fatal("Tune did not tune")
	}
	if limit := debug.SetMemoryLimit(-1); limit != 64<<20 {
		t.Errorf("in a 192 MiB container the limit is %d MiB, want 64", limit>>20)
	}
}
