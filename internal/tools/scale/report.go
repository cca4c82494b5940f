package main

import (
	"fmt"
	"math"
	"runtime"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/sfsync/sfsync/internal/jobs"
	"github.com/sfsync/sfsync/internal/syncer"
)

// quantile of sorted d (nearest rank); 0 when empty.
func quantile(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	i := int(math.Ceil(p*float64(len(d)))) - 1
	return d[max(0, min(i, len(d)-1))]
}

// lagStats summarizes the polls that started in [from, to).
func lagStats(lags []lagSample, from, to time.Time) (n int, p50, p99, maxLag time.Duration, over60 int) {
	var d []time.Duration
	for _, l := range lags {
		if !l.at.Before(from) && l.at.Before(to) {
			d = append(d, l.lag)
			if l.lag > time.Minute {
				over60++
			}
		}
	}
	slices.Sort(d)
	if len(d) == 0 {
		return 0, 0, 0, 0, 0
	}
	return len(d), quantile(d, 0.5), quantile(d, 0.99), d[len(d)-1], over60
}

func secs(d time.Duration) string { return fmt.Sprintf("%.1f s", d.Seconds()) }

func mib(b int64) string { return fmt.Sprintf("%.0f MiB", float64(b)/(1<<20)) }

// report is the Markdown report.
func (r *rig) report(m *measurement) string {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	end := m.start.Add(m.elapsed)
	p("## Scale test report\n\n")
	p("%d tenants, each with its own emulated org of %d contacts; one `sfsync serve` and %d `sfsync worker` processes (%d poll/push slots and %d full-pass slots each) on one PostgreSQL; poll interval %s; %.1f changes per poll interval on each side for each of %.0f%% of the tenants, none for the others. Machine: %d CPUs (%s/%s).\n\n",
		m.tenants, m.contactsPerTenant, r.o.workers, r.o.workerSlots, r.o.bulkSlots, r.o.pollInterval, r.o.changes, 100*r.o.active, runtime.NumCPU(), runtime.GOOS, runtime.GOARCH)
	p("Command: `go run ./internal/tools/scale %s`\n\n", strings.Join(flagsOf(r.o), " "))
	if r.planned > 0 {
		p("**The measured phase was shortened from %s to %s by -end-by %s**: the kill and the big first sync kept their shares of it.\n\n", r.planned, r.o.duration, r.o.endBy)
	}
	p("%s\n", r.phaseTable(m.setup+m.warmup+m.elapsed))

	p("### Poll lag (due → start)\n\n")
	p("A scheduled poll's lag is from the time its tenant's schedule made it due (`sync_state.next_pull_at`) to the start of its run; it includes up to one scheduler period (jobs.Options.ScheduleEvery, 10 s), the time from due to queued. Target: p99 ≤ 60 s.\n\n")
	p("| Window | Polls | p50 | p99 | max | over 60 s |\n|---|---|---|---|---|---|\n")
	row := func(name string, from, to time.Time) {
		n, p50, p99, mx, over := lagStats(m.lags, from, to)
		p("| %s | %d | %s | %s | %s | %d |\n", name, n, secs(p50), secs(p99), secs(mx), over)
	}
	row("whole run", m.start, end)
	marks := []struct {
		name string
		at   time.Time
	}{{"start", m.start}}
	if m.kill != nil && !m.kill.at.IsZero() {
		marks = append(marks, struct {
			name string
			at   time.Time
		}{"after the worker kill", m.kill.at})
	}
	if m.big != nil {
		marks = append(marks, struct {
			name string
			at   time.Time
		}{"after the big first sync started", m.big.at})
	}
	sort.Slice(marks, func(i, j int) bool { return marks[i].at.Before(marks[j].at) })
	for i, mk := range marks {
		to := end
		if i+1 < len(marks) {
			to = marks[i+1].at
		}
		name := "before the worker kill"
		if mk.name != "start" {
			name = mk.name
		}
		if len(marks) > 1 || mk.name != "start" {
			row(name, mk.at, to)
		}
	}
	maxOverdue := 0
	for _, s := range m.samples {
		maxOverdue = max(maxOverdue, s.overdue)
	}
	p("\nPolls that started with no due time seen (not counted): %d. Most tenants found, at any sample, more than 60 s past their due time and not running: %d.\n\n", m.unmatched, maxOverdue)

	p("### Push latency (platform API write → value in Salesforce)\n\n")
	p("| Changes sent | Pushes | p50 | p99 | max | over 60 s |\n|---|---|---|---|---|---|\n")
	prow := func(name string, keep func(at time.Time) bool) {
		var d []time.Duration
		over := 0
		for _, x := range m.pushes {
			if keep(x.at) {
				d = append(d, x.lag)
				if x.lag > time.Minute {
					over++
				}
			}
		}
		slices.Sort(d)
		if len(d) == 0 {
			p("| %s | 0 | – | – | – | 0 |\n", name)
			return
		}
		p("| %s | %d | %s | %s | %s | %d |\n", name, len(d), secs(quantile(d, 0.5)), secs(quantile(d, 0.99)), secs(d[len(d)-1]), over)
	}
	prow("all", func(time.Time) bool { return true })
	if k := m.kill; k != nil && !k.at.IsZero() {
		// A push the killed worker was running waits for the heartbeat
		// hand-off (under a minute), like its polls.
		prow("all but the 2 minutes around the kill", func(at time.Time) bool { return at.Before(k.at.Add(-time.Minute)) || at.After(k.at.Add(time.Minute)) })
	}
	p("\nStill waiting at the end: %d; refused by the API: %d.\n", m.pushPending, m.pushErrors)
	p("Changes made: %d in Salesforce, %d on the platform.\n\n", m.sfChanges, m.pfChanges)

	p("### Idle polls, API calls and CPU\n\n")
	idleShare := 0.0
	if m.polls > 0 {
		idleShare = float64(m.idlePolls) / float64(m.polls)
	}
	p("Scheduled polls finished: %d, of which %d idle (%.0f%%: polls of the tenants that got no changes). API calls per idle poll: %.2f; per poll: %.2f.\n\n", m.polls, m.idlePolls, 100*idleShare, m.apiIdle, m.apiAll)
	if w := m.idle; w != nil {
		p("**Idle window** (%s before the measured phase, no changes on either side, so every poll is idle): %d idle polls, %.2f API calls and %.1f records read each (the engine's lookback re-reads what changed in the 10 minutes before the cursor), %s of poll-slot time each (mean). ", w.elapsed.Round(time.Second), w.polls, w.apiCalls, w.scanned, w.pollSlotTime.Round(time.Millisecond))
		if w.polls > 0 {
			procs := float64(r.o.workers + 1)
			net := func(total, bg time.Duration) float64 {
				return (total.Seconds() - bg.Seconds()*procs*w.elapsed.Seconds()) * 1000 / float64(w.polls)
			}
			p("CPU per idle poll, less the processes' cost with no work (the baseline: per process, %.1f ms of sfsync and %.1f ms of PostgreSQL CPU a second): sfsync %.1f ms, PostgreSQL %.1f ms; with it: sfsync %.1f ms, PostgreSQL %.1f ms (the scheduler's runs and %d other jobs included).\n\n",
				float64(w.bgCPU.Microseconds())/1000, float64(w.bgPG.Microseconds())/1000,
				net(w.cpu, w.bgCPU), net(w.pgCPU, w.bgPG),
				float64(w.cpu.Microseconds())/1000/float64(w.polls), float64(w.pgCPU.Microseconds())/1000/float64(w.polls), w.other)
		} else {
			p("No poll fell in it: make -idle-window longer.\n\n")
		}
	}
	var cpu time.Duration
	for name, e := range m.cpuEnd {
		cpu += e.cpu - m.cpuStart[name].cpu
	}
	jobsDone := 0
	kinds := make([]string, 0, len(m.jobsDone))
	for k, n := range m.jobsDone {
		jobsDone += n
		kinds = append(kinds, fmt.Sprintf("%s %d", k, n))
	}
	sort.Strings(kinds)
	p("Jobs completed while measured: %d (%s). CPU of the sfsync processes while measured (the killed worker until its kill not included): %s, %.1f%% of one core", jobsDone, strings.Join(kinds, ", "), cpu.Round(time.Second), 100*cpu.Seconds()/m.elapsed.Seconds())
	if jobsDone > 0 {
		p("; %.1f ms per job (polls, pushes and scheduler runs together; most polls are idle)", float64(cpu.Milliseconds())/float64(jobsDone))
	}
	p(".\n\n")

	p("### Processes over time\n\n")
	names := make([]string, 0)
	seen := map[string]bool{}
	for _, pr := range r.procs {
		if !seen[pr.name] {
			names = append(names, pr.name)
			seen[pr.name] = true
		}
	}
	p("| Time | ")
	for _, n := range names {
		p("%s RSS | ", n)
	}
	p("DB connections (sfsync) | river_job rows (completed) | river_job size | late polls |\n|---|")
	for range names {
		p("---|")
	}
	p("---|---|---|---|\n")
	step := max(1, len(m.samples)/12)
	maxRSS := map[string]int64{}
	maxConns := map[string]int{}
	for i, s := range m.samples {
		for n, ps := range s.procs {
			maxRSS[n] = max(maxRSS[n], ps.rss)
		}
		for n, c := range s.conns {
			maxConns[n] = max(maxConns[n], c)
		}
		if i%step != 0 && i != len(m.samples)-1 {
			continue
		}
		p("| %s | ", s.at.Sub(m.start).Round(time.Second))
		for _, n := range names {
			if ps, ok := s.procs[n]; ok {
				p("%s | ", mib(ps.rss))
			} else {
				p("– | ")
			}
		}
		conns := 0
		for n, c := range s.conns {
			if strings.HasPrefix(n, "sfsync-") {
				conns += c
			}
		}
		rows := 0
		for _, n := range s.jobs {
			rows += n
		}
		p("%d | %d (%d) | %s | %d |\n", conns, rows, s.jobs["completed"], mib(s.jobBytes), s.overdue)
	}
	if n := len(m.samples); n > 1 {
		first, last := m.samples[0], m.samples[n-1]
		perMin := float64(last.jobs["completed"]-first.jobs["completed"]) / last.at.Sub(first.at).Minutes()
		p("\nCompleted job rows grew by %.0f a minute. River deletes them after %s (jobs.CompletedJobRetention), so a run shorter than that shows only growth; the table levels off near %.0f rows at this rate.\n", perMin, jobs.CompletedJobRetention, perMin*jobs.CompletedJobRetention.Minutes())
	}
	p("\nMost memory (RSS) and database connections per process:\n\n| Process | RSS | Connections |\n|---|---|---|\n")
	for _, n := range names {
		p("| %s | %s | %d |\n", n, mib(maxRSS[n]), maxConns["sfsync-"+n])
	}
	p("| this program (the emulator with every org, and the callers) | %s | %d |\n\n", mib(readProcStat(selfPID()).rss), maxConns["scale-driver"])

	if k := m.kill; k != nil {
		p("### A worker killed\n\n")
		if k.worker == "" {
			p("No worker was left to kill.\n\n")
		} else {
			var worst time.Duration
			waiting := 0
			for _, t := range k.held {
				d, ok := k.resumed[t]
				if !ok {
					waiting++
					continue
				}
				worst = max(worst, d)
			}
			p("%s was killed (SIGKILL) %s into the measured phase while it ran jobs of %d tenant(s). ", k.worker, k.at.Sub(m.start).Round(time.Second), len(k.held))
			if len(k.held) > 0 {
				p("Another process took each of their jobs within %s at worst (target: 2 minutes); %d had not been taken by the end.", secs(worst), waiting)
			}
			p(" Poll lag after the kill is in the table above.\n\n")
		}
	}
	if bg := m.big; bg != nil {
		p("### One tenant's first sync of %d contacts\n\n", r.o.big)
		p("Started %s into the measured phase. ", bg.at.Sub(m.start).Round(time.Second))
		if bg.finished {
			p("It finished (%s) in %s: %d of %d records, %d API calls.", bg.status, bg.finishedIn.Round(time.Second), bg.processed, bg.total, bg.calls)
		} else {
			p("At the end (%s later) it was %s at %d of %d records, %d API calls.", bg.elapsedAtEnd.Round(time.Second), bg.status, bg.processed, bg.total, bg.calls)
		}
		n, _, p99, mx, over := lagStats(m.lags, bg.at, end)
		p(" Other tenants' polls started after it: %d, p99 lag %s, max %s, %d over 60 s.\n\n", n, secs(p99), secs(mx), over)
	}
	r.extrapolate(p, m, maxConns)
	return b.String()
}

// extrapolate prints what the figures above mean for one worker process
// and for 100,000 tenants, with the arithmetic spelled out, so that
// BENCHMARKS.md's paragraph can be filled from the report alone.
func (r *rig) extrapolate(p func(string, ...any), m *measurement, maxConns map[string]int) {
	const target = 100_000
	if m.elapsed <= 0 || m.tenants == 0 {
		return
	}
	iv := r.o.pollInterval
	// Per tenant and poll interval: scale the measured totals by
	// interval ÷ measured time and divide by the tenants.
	perTenant := func(d time.Duration) time.Duration {
		return time.Duration(float64(d) * iv.Seconds() / m.elapsed.Seconds() / float64(m.tenants))
	}
	p("### Extrapolation (computed from the figures above)\n\n")
	p("Per tenant and poll interval (%s), from the measured %s (the big first sync's bulk queue left out of the slot time):\n\n", iv, m.elapsed.Round(time.Second))
	p("| Queue | Jobs completed | Slot time per job | Slot time per tenant per interval | Slots per process | Tenants per process by slots |\n|---|---|---|---|---|---|\n")
	byslots := math.Inf(1)
	for _, q := range []string{"pull", "push"} {
		qt := m.slotTime[q]
		if qt.jobs == 0 {
			p("| %s | 0 | – | – | %d | – |\n", q, r.o.workerSlots)
			continue
		}
		per := perTenant(qt.busy)
		n := float64(r.o.workerSlots) * iv.Seconds() / per.Seconds()
		byslots = math.Min(byslots, n)
		p("| %s | %d | %s | %.1f ms | %d | %.0f |\n", q, qt.jobs, (qt.busy / time.Duration(qt.jobs)).Round(time.Millisecond),
			float64(per.Microseconds())/1000, r.o.workerSlots, n)
	}
	var cpu time.Duration
	for name, e := range m.cpuEnd {
		cpu += e.cpu - m.cpuStart[name].cpu
	}
	// The processes' cost with no work (the baseline) grows with the
	// processes, not the tenants: it is taken out of the per-tenant CPU
	// and added back per process.
	var bgCPU, bgPG time.Duration
	if m.idle != nil {
		bgCPU, bgPG = m.idle.bgCPU, m.idle.bgPG
	}
	// cpu is of the processes alive at the end (a killed worker's is not
	// in it), so its baseline is theirs over the whole phase.
	live := float64(len(m.cpuEnd)) * m.elapsed.Seconds()
	cpuPer := perTenant(max(0, cpu-time.Duration(float64(bgCPU)*live)))
	pgPer := perTenant(max(0, m.pgCPU-time.Duration(float64(bgPG)*float64(r.o.workers+1)*m.elapsed.Seconds())))
	p("\nThe push queue's slot time includes the engine's wait for a batch to fill (syncer.DefaultPushCoalesce, %s), which holds the slot but no CPU.\n\n", syncer.DefaultPushCoalesce)
	p("CPU per tenant per interval, less the processes' cost with no work (the baseline, %.1f ms of sfsync and %.1f ms of PostgreSQL CPU per process and second): sfsync %.1f ms, PostgreSQL %.1f ms (every process named postgres on this machine but the backends of this program's samplers; meaningful only when PostgreSQL serves nothing else).\n\n",
		float64(bgCPU.Microseconds())/1000, float64(bgPG.Microseconds())/1000, float64(cpuPer.Microseconds())/1000, float64(pgPer.Microseconds())/1000)
	byCPU := math.Inf(1)
	if cpuPer > 0 {
		byCPU = (1 - bgCPU.Seconds()) * iv.Seconds() / cpuPer.Seconds()
	}
	perProc := math.Min(byslots, byCPU)
	p("**One worker process** carries about %.0f tenants: the smaller of %.0f by its slots (`SFSYNC_WORKERS` %d; slot time is waiting on Salesforce and the database as well as CPU) and %.0f by one core of CPU (what the baseline leaves of the core × interval ÷ CPU per tenant per interval). ",
		perProc, byslots, r.o.workerSlots, byCPU)
	p("This run had %d tenants on %d processes: %.0f each.\n\n", m.tenants, r.o.workers+1, float64(m.tenants)/float64(r.o.workers+1))

	procs := math.Ceil(target / perProc)
	conns := 0
	for n, c := range maxConns {
		if strings.HasPrefix(n, "sfsync-") {
			conns = max(conns, c)
		}
	}
	scale := float64(target) / float64(m.tenants)
	p("**At %d tenants** (%.0f× this run): %.1f polls a second; %.0f worker processes at the figure above; sfsync CPU %.1f cores (tenants %.1f + the processes' baseline %.1f); PostgreSQL CPU %.1f cores (tenants %.1f + the processes' baseline %.1f); ",
		target, scale, target/iv.Seconds(), procs,
		target*cpuPer.Seconds()/iv.Seconds()+procs*bgCPU.Seconds(), target*cpuPer.Seconds()/iv.Seconds(), procs*bgCPU.Seconds(),
		target*pgPer.Seconds()/iv.Seconds()+procs*bgPG.Seconds(), target*pgPer.Seconds()/iv.Seconds(), procs*bgPG.Seconds())
	p("database connections %.0f (%d per process at most here × %.0f processes; PostgreSQL's default max_connections is 100, so a pooler such as PgBouncer or a smaller pool per process); ", procs*float64(conns), conns, procs)
	if n := len(m.samples); n > 1 {
		first, last := m.samples[0], m.samples[n-1]
		perMin := float64(last.jobs["completed"]-first.jobs["completed"]) / last.at.Sub(first.at).Minutes()
		p("`river_job` about %.0f completed rows at %s retention (%.0f a minute × %.0f); ", scale*perMin*jobs.CompletedJobRetention.Minutes(), jobs.CompletedJobRetention, scale*perMin, jobs.CompletedJobRetention.Minutes())
	}
	// The growth is taken up to the big first sync, which adds its own
	// rows once.
	growEnd, growFor := m.dbBytesEnd, m.elapsed
	if m.big != nil && m.dbBytesBig > 0 {
		growEnd, growFor = m.dbBytesBig, m.big.at.Sub(m.start)
	}
	grow := 0.0
	if growFor > 0 {
		grow = float64(growEnd-m.dbBytesStart) / growFor.Hours()
	}
	p("database size %s at the start of the measured phase (%.1f KiB per tenant of %d contacts), so about %s at %d tenants of the same size, growing by %s an hour here before the big first sync (run records, outbox and river_job rows, until their retention deletes them; dead rows until vacuumed), so about %s an hour.\n\n",
		mib(m.dbBytesStart), float64(m.dbBytesStart)/1024/float64(m.tenants), m.contactsPerTenant, mib(int64(float64(m.dbBytesStart)*scale)), target, mib(int64(grow)), mib(int64(grow*scale)))
}

// flagsOf spells the options as the flags that reproduce the run.
func flagsOf(o options) []string {
	return []string{
		fmt.Sprintf("-tenants %d", o.tenants), fmt.Sprintf("-contacts %d", o.contacts), fmt.Sprintf("-workers %d", o.workers),
		fmt.Sprintf("-duration %s", o.duration), fmt.Sprintf("-poll-interval %s", o.pollInterval), fmt.Sprintf("-changes %g", o.changes), fmt.Sprintf("-active %g", o.active),
		fmt.Sprintf("-big %d", o.big), fmt.Sprintf("-kill-at %g", o.killAt), fmt.Sprintf("-big-at %g", o.bigAt),
		fmt.Sprintf("-worker-slots %d", o.workerSlots), fmt.Sprintf("-bulk-slots %d", o.bulkSlots), fmt.Sprintf("-spread=%t", o.spread),
		fmt.Sprintf("-idle-window %s", o.idleWindow),
	}
}
