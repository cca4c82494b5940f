package syncer_test

import (
	"math"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/sfsync/sfsync/internal/store"
	"github.com/sfsync/sfsync/internal/syncer"
)

// TestPushBulkMemoryBounded: the memory a bulk pass holds does not grow
// with its contacts (issue 14 item 5: serve's peak RSS while it pushed an
// import of 100,000 was 826 MB). Passes of 4,000 and 20,000 imported
// contacts run one after the other; while each runs, the live heap that
// the process allocated outside the emulator (which runs in this process
// and keeps the records it is sent) is sampled from the heap profile. The
// growth of its peak from the small pass to the large one, per contact
// more, is bounded: it was 4.6 KB before the pass was streamed (every
// contact, its decisions, links, records and history held until the
// results were recorded); chunks and the spool leave a few hundred bytes
// (the outbox entries' IDs, the results, the upload's CSV; 150 to 1,300 B
// in runs on a loaded machine, beside other tests' goroutines: the sample
// catches a chunk's transient buffers or not).
func TestPushBulkMemoryBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("pushes 24,000 contacts")
	}
	// Not parallel: the heap is the process's.
	const small, large = 4000, 20000
	g1 := bulkPassHeap(t, small)
	g2 := bulkPassHeap(t, large)
	slope := (g2 - g1) / (large - small)
	t.Logf("peak live heap of the pass outside the emulator: %.1f MB for %d contacts, %.1f MB for %d: %d B a contact more",
		float64(g1)/(1<<20), small, float64(g2)/(1<<20), large, slope)
	const budget = 2000 // bytes a contact
	if slope > budget {
		t.Errorf("a bulk pass's peak live heap grows by %d B a contact, want ≤ %d", slope, budget)
	}
}

// bulkPassHeap imports n contacts into a new tenant and org and pushes
// them; it returns the peak live heap outside the emulator during the
// push, above what it was before.
func bulkPassHeap(t *testing.T, n int) int64 {
	t.Helper()
	f := setup(t, store.SQLite)
	f.save(t, memberConfig())
	run, _ := f.eng.StartInitialSync(f.ctx, f.Tenant.ID)
	f.pull(t, run, syncer.ModeFull)
	f.importContacts(t, n, nil)

	runtime.GC()
	runtime.GC() // the profile is a cycle behind
	base := liveHeapOutsideEmulator()
	var peak uint64
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				// A collection first: the profile then counts what is
				// live now, not garbage a cycle may not have freed yet.
				runtime.GC()
				peak = max(peak, liveHeapOutsideEmulator())
			}
		}
	}()
	f.pushAll(t)
	close(stop)
	<-done
	if got := f.Org.ContactCount(); got != n {
		t.Fatalf("Salesforce holds %d contacts, want %d", got, n)
	}
	return int64(peak) - int64(base)
}

// liveHeapOutsideEmulator is the heap in use as of the last garbage
// collection (runtime.GC publishes it), from the heap profile (scaled as pprof scales its samples),
// less what was allocated by the emulator's code.
func liveHeapOutsideEmulator() uint64 {
	var recs []runtime.MemProfileRecord
	n, _ := runtime.MemProfile(nil, false)
	for {
		recs = make([]runtime.MemProfileRecord, n+100)
		var ok bool
		if n, ok = runtime.MemProfile(recs, false); ok {
			recs = recs[:n]
			break
		}
	}
	rate := float64(runtime.MemProfileRate)
	var sum float64
	for _, r := range recs {
		if r.InUseBytes() <= 0 || r.AllocObjects == 0 {
			continue
		}
		frames := runtime.CallersFrames(r.Stack())
		emulator := false
		for {
			fr, more := frames.Next()
			if strings.Contains(fr.Function, "/internal/sfemu.") {
				emulator = true
				break
			}
			if !more {
				break
			}
		}
		if emulator {
			continue
		}
		avg := float64(r.AllocBytes) / float64(r.AllocObjects)
		sum += float64(r.InUseBytes()) / (1 - math.Exp(-avg/rate))
	}
	return uint64(sum)
}
