package main

import (
	"fmt"
	"os"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// phase is one timed step of the run, for the report's phase table.
type phase struct {
	name       string
	start, end time.Time
	cpu        phaseCPU
}

// phaseCPU is the CPU a phase took, and per item when it counted items:
// it tells how long the phase takes on a quiet machine (CPU ÷ cores, when
// CPU is what it waits for) whatever the load was when it was timed.
type phaseCPU struct {
	self, sfsync, pg time.Duration
	items            int
}

func (c phaseCPU) total() time.Duration { return c.self + c.sfsync + c.pg }

func (c phaseCPU) String() string {
	s := fmt.Sprintf("CPU: this program %s, sfsync %s, PostgreSQL %s", c.self.Round(time.Second/10), c.sfsync.Round(time.Second/10), c.pg.Round(time.Second/10))
	if c.items > 0 {
		s += fmt.Sprintf(" (%.1f ms per item in all)", float64(c.total().Microseconds())/1000/float64(c.items))
	}
	return s
}

// progress counts one set-up phase's items and logs, at most every
// 10 s, how many are done, the rate, the time left at that rate, and the
// test program's heap, so that a long run shows its ETA.
type progress struct {
	r     *rig
	name  string
	total int
	start time.Time
	done  atomic.Int64
	mu    sync.Mutex // guards last
	last  time.Time
	// steps sums the time spent in each named step of an item (over all
	// goroutines), to tell where a phase's time goes.
	steps sync.Map // name → *atomic.Int64 (ns)
	// then is how long the run goes on after this phase, when known: the
	// status then gives when the run would end.
	then time.Duration
	// cpu0 is the CPU used so far by this program, the sfsync processes
	// and PostgreSQL, when the phase started.
	cpu0 cpuUse
}

// cpuUse is CPU time used so far by this program (the emulator and the
// set-up), the sfsync processes and PostgreSQL.
type cpuUse struct{ self, sfsync, pg time.Duration }

func (r *rig) cpuNow() cpuUse {
	c := cpuUse{self: readProcStat(selfPID()).cpu, pg: postgresCPU()}
	for _, p := range r.procs {
		if !p.exited() {
			c.sfsync += readProcStat(p.cmd.Process.Pid).cpu
		}
	}
	return c
}

func (r *rig) newProgress(name string, total int) *progress {
	r.log("%s: %d to do", name, total)
	now := time.Now()
	return &progress{r: r, name: name, total: total, start: now, last: now, cpu0: r.cpuNow()}
}

// step times one step of an item: defer p.step("connect")().
func (p *progress) step(name string) func() {
	t0 := time.Now()
	return func() {
		v, _ := p.steps.LoadOrStore(name, new(atomic.Int64))
		v.(*atomic.Int64).Add(int64(time.Since(t0)))
	}
}

// add counts n items done.
func (p *progress) add(n int) {
	done := int(p.done.Add(int64(n)))
	p.mu.Lock()
	due := time.Since(p.last) >= 10*time.Second
	if due {
		p.last = time.Now()
	}
	p.mu.Unlock()
	if due && done < p.total {
		p.r.log("%s: %s", p.name, p.status(done))
	}
}

// set sets the count (for phases counted by reading the database).
func (p *progress) set(done int) {
	p.done.Store(int64(done))
	p.add(0)
}

func (p *progress) status(done int) string {
	el := time.Since(p.start)
	rate := float64(done) / el.Seconds()
	s := fmt.Sprintf("%d of %d in %s (%.1f/s)", done, p.total, el.Round(time.Second), rate)
	if done > 0 && done < p.total {
		left := time.Duration(float64(p.total-done) / rate * float64(time.Second))
		s += fmt.Sprintf(", about %s left (ETA %s UTC)", left.Round(time.Second), time.Now().Add(left).UTC().Format("15:04:05"))
		if p.then > 0 {
			s += fmt.Sprintf("; the run would end about %s UTC", time.Now().Add(left+p.then).UTC().Format("15:04"))
		}
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return s + fmt.Sprintf("; heap %s", mib(int64(ms.HeapAlloc)))
}

// finish logs the phase's total, the time per step, and records the phase.
func (p *progress) finish() time.Duration {
	el := time.Since(p.start)
	done := int(p.done.Load())
	msg := fmt.Sprintf("%s: done, %s", p.name, p.status(done))
	c := p.r.cpuNow()
	cpu := phaseCPU{self: c.self - p.cpu0.self, sfsync: c.sfsync - p.cpu0.sfsync, pg: c.pg - p.cpu0.pg, items: done}
	msg += "; " + cpu.String()
	var steps []string
	p.steps.Range(func(k, v any) bool {
		if done > 0 {
			steps = append(steps, fmt.Sprintf("%s %.1f ms", k, float64(v.(*atomic.Int64).Load())/1e6/float64(done)))
		}
		return true
	})
	if len(steps) > 0 {
		sort.Strings(steps)
		msg += "; per item, summed over the goroutines: " + strings.Join(steps, ", ")
	}
	p.r.log("%s", msg)
	p.r.addPhase(p.name, p.start, p.start.Add(el), cpu)
	return el
}

// heapInUse is the test program's live heap after a collection.
func heapInUse() int64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapAlloc)
}

// addPhase records a phase for the report.
func (r *rig) addPhase(name string, start, end time.Time, cpu phaseCPU) {
	r.phMu.Lock()
	defer r.phMu.Unlock()
	r.phases = append(r.phases, phase{name: name, start: start, end: end, cpu: cpu})
}

// phaseTable is the Markdown table of the phases so far, with the
// program's RSS and the emulator's heap per org.
func (r *rig) phaseTable(total time.Duration) string {
	r.phMu.Lock()
	ph := slices.Clone(r.phases)
	r.phMu.Unlock()
	sort.SliceStable(ph, func(i, j int) bool { return ph[i].start.Before(ph[j].start) })
	var b strings.Builder
	b.WriteString("| Phase | Started (UTC) | Took | CPU: this program / sfsync / PostgreSQL | CPU per item |\n|---|---|---|---|---|\n")
	for _, p := range ph {
		per := "–"
		if p.cpu.items > 0 {
			per = fmt.Sprintf("%.1f ms", float64(p.cpu.total().Microseconds())/1000/float64(p.cpu.items))
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s / %s / %s | %s |\n", p.name, p.start.UTC().Format("15:04:05"), p.end.Sub(p.start).Round(time.Second),
			p.cpu.self.Round(time.Second), p.cpu.sfsync.Round(time.Second), p.cpu.pg.Round(time.Second), per)
	}
	fmt.Fprintf(&b, "| all so far | | %s | | |\n\n", total.Round(time.Second))
	fmt.Fprintf(&b, "The emulator's heap per org of %d contacts: %.0f KiB (%s for %d orgs); this program's live heap after the first syncs: %s; its RSS now: %s; load average: %s.\n",
		r.o.contacts, float64(r.heapPerOrg)/1024, mib(r.heapPerOrg*int64(r.o.tenants)), r.o.tenants, mib(r.heapAfterWarmUp), mib(readProcStat(selfPID()).rss), loadAvg())
	if r.warmRun > 0 {
		fmt.Fprintf(&b, "A first sync's job of %d contacts: %s (mean, River's attempted → finalized).\n", r.o.contacts, r.warmRun.Round(time.Millisecond))
	}
	return b.String()
}

// loadAvg is /proc/loadavg's three load averages ("?" elsewhere).
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}
