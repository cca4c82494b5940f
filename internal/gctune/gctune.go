// Package gctune lets Go's collector run less often while the heap is
// small. With the default GOGC=100 the collector runs each time the heap
// doubles: with a live heap of 40–60 MB during a 1M first sync it ran
// every few megabytes of allocation and took 13% of serve's CPU (issue
// 14). Tune sets GOGC=400 under a soft memory limit that starts at a floor
// and follows the live heap (twice it, plus a margin), so a small heap
// grows to the floor before a collection, and a large one is collected as
// GOGC=100 would, never thrashing against a limit it has outgrown.
package gctune

import (
	"context"
	"os"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"strings"
	"time"
)

const (
	// Floor is the soft limit on the Go runtime's memory while the live
	// heap is small: 150 MiB, with which serve's peak RSS (SQLite's page
	// caches, outside Go's heap, included) was 231 MB during a 1M first
	// sync on SQLite and 207–216 MB at 100k, under issue 14's 256 MB
	// (BENCHMARKS.md, session 10); 170 MiB reached 250 MB.
	Floor = 150 << 20
	// margin is added to twice the live heap: the runtime's own memory
	// (stacks, metadata) counts against the limit too.
	margin = 32 << 20
	every  = 500 * time.Millisecond
	// GCPercent is GOGC while tuned.
	GCPercent = 400
)

// Limit is the soft memory limit for a live heap of live bytes.
func Limit(live, floor uint64) int64 {
	return int64(max(floor, 2*live+margin))
}

// Tune sets the collector's target and limit and follows the live heap
// until ctx ends, unless the operator set GOGC or GOMEMLIMIT (getenv):
// then Go's own settings stand and Tune does nothing. It returns whether
// it tuned. In a container with a memory limit the floor is at most a
// third of it (cgroupLimit), so a small container is not filled by a heap
// that Go's defaults would have kept small.
func Tune(ctx context.Context, getenv func(string) string, floor uint64) bool {
	if getenv("GOGC") != "" || getenv("GOMEMLIMIT") != "" {
		return false
	}
	if c := cgroupLimit(); c > 0 {
		floor = min(floor, c/3)
	}
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	live := func() uint64 {
		metrics.Read(sample)
		if sample[0].Value.Kind() != metrics.KindUint64 {
			return 0
		}
		return sample[0].Value.Uint64()
	}
	limit := Limit(live(), floor)
	debug.SetMemoryLimit(limit)
	debug.SetGCPercent(GCPercent)
	go func() {
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			// Set again only when it moved by an eighth: each call has
			// the runtime recompute its pacing.
			if next := Limit(live(), floor); next > limit+limit/8 || next < limit-limit/8 {
				limit = next
				debug.SetMemoryLimit(limit)
			}
		}
	}()
	return true
}

// cgroupFiles hold the process's memory limit: cgroup v2, then v1.
var cgroupFiles = []string{"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"}

// cgroupLimit is the memory limit of the process's cgroup, 0 when there
// is none ("max", or v1's page-rounded largest value) or it cannot be read.
func cgroupLimit() uint64 {
	for _, f := range cgroupFiles {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		return parseLimit(string(b))
	}
	return 0
}

func parseLimit(s string) uint64 {
	n, err := strconv.ParseUint(strings.TrimSpace(s), 10, 64)
	if err != nil || n >= 1<<62 {
		return 0
	}
	return n
}
