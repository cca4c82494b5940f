package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"time"
)

// lagSample is one scheduled poll: when it started and how long after it
// was due.
type lagSample struct {
	at  time.Time
	lag time.Duration
}

// sample is the state of the processes and the database at one moment.
type sample struct {
	at       time.Time
	procs    map[string]procStat
	conns    map[string]int
	jobs     map[string]int
	jobBytes int64
	overdue  int // tenants whose poll is over 60 s late and not running
}

// killResult is what the kill of one worker showed.
type killResult struct {
	at      time.Time
	worker  string
	held    []string                 // tenants whose jobs it was running
	resumed map[string]time.Duration // tenant → time until another process ran its job
}

// bigResult is the big tenant's first sync at the end of the test.
type bigResult struct {
	at                       time.Time
	status                   string
	processed, total, calls  int64
	finished                 bool
	elapsedAtEnd, finishedIn time.Duration
}

// measurement is everything the measured phase found.
type measurement struct {
	start                      time.Time
	elapsed, warmup, setup     time.Duration
	lags                       []lagSample
	unmatched                  int
	pushes                     []lagSample // at: when the change was sent
	pushPending, pushErrors    int
	sfChanges, pfChanges       int
	samples                    []sample
	kill                       *killResult
	big                        *bigResult
	polls, idlePolls           int
	apiIdle, apiAll            float64
	jobsDone                   map[string]int
	cpuStart, cpuEnd           map[string]procStat
	pgCPU                      time.Duration // PostgreSQL's CPU while measured
	dbBytesStart, dbBytesEnd   int64         // the schema's tables and indexes
	idle                       *idleResult
	dbBytesBig                 int64                // … when the big first sync started
	slotTime                   map[string]queueTime // River queue → completed jobs' time
	tenants, contactsPerTenant int
}

// pendingPush is a platform change on its way to Salesforce.
type pendingPush struct {
	t     *orgTenant
	sfID  string
	value string
	sent  time.Time
}

// measure runs the trickle and the samplers for the configured duration.
func (r *rig) measure(ctx context.Context) (*measurement, error) {
	if err := r.loadPairs(ctx); err != nil {
		return nil, err
	}
	if err := r.spreadPolls(ctx); err != nil {
		return nil, err
	}
	lt := &lagTracker{dues: map[string][]int64{}}
	idle, err := r.idleWindow(ctx, lt)
	if err != nil {
		return nil, err
	}
	if !r.endBy.IsZero() {
		// A minute is left for the report and the shutdown.
		if left := time.Until(r.endBy) - time.Minute; left < r.o.duration {
			r.planned, r.o.duration = r.o.duration, max(time.Minute, left.Round(time.Second))
			r.log("WARNING: the measured phase is shortened from %s to %s to end by %s UTC (-end-by)", r.planned, r.o.duration, r.endBy.Format("15:04"))
		}
	}
	m := &measurement{start: time.Now(), jobsDone: map[string]int{}, tenants: len(r.tenants), contactsPerTenant: r.o.contacts, idle: idle}
	r.log("measuring for %s (poll interval %s, %.1f changes per tenant per interval on each side)", r.o.duration, r.o.pollInterval, r.o.changes)
	ctx, cancel := context.WithDeadline(ctx, m.start.Add(r.o.duration))
	defer cancel()
	m.cpuStart = r.procStats()
	pg := newPGCPUTracker()
	r.log("measured phase: %s from now, until %s UTC", r.o.duration, time.Now().Add(r.o.duration).UTC().Format("15:04:05"))
	if err := r.st.DB.QueryRowContext(ctx, schemaBytes).Scan(&m.dbBytesStart); err != nil {
		return nil, err
	}

	var (
		mu      sync.Mutex // guards m's slices and pending
		pending = map[string]*pendingPush{}
		wg      sync.WaitGroup
	)
	// The platform side: PATCH through serve's JSON API, on a few
	// goroutines so that a slow answer does not hold the trickle back.
	patches := make(chan *pendingPush, 1024)
	client := &http.Client{Timeout: time.Minute}
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for p := range patches {
				body := fmt.Sprintf(`{"name":%q}`, p.value)
				req, _ := http.NewRequestWithContext(ctx, http.MethodPatch, r.serveURL+"/api/v1/contacts/"+contactOf(p), strings.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+p.t.apiKey)
				req.Header.Set("Content-Type", "application/json")
				resp, err := client.Do(req)
				mu.Lock()
				if err != nil || resp.StatusCode != http.StatusOK {
					if ctx.Err() == nil {
						m.pushErrors++
					}
					delete(pending, p.sfID)
				}
				mu.Unlock()
				if err == nil {
					resp.Body.Close()
				}
			}
		}()
	}

	// The trickle: active tenants × changes per poll interval on each
	// side; the other tenants' polls find nothing (idle polls).
	r.active = max(1, int(float64(len(r.tenants))*r.o.active))
	active := r.tenants[:r.active]
	rate := float64(len(active)) * r.o.changes / r.o.pollInterval.Seconds()
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(patches)
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		var owed float64
		seq := 0
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			owed += rate / 10
			for ; owed >= 1; owed-- {
				seq++
				t := active[rand.IntN(len(active))]
				if len(t.pairs) < 2 {
					continue
				}
				i := rand.IntN(len(t.pairs) / 2)
				sf := t.pairs[2*i][0]
				if err := t.org.ModifyAsHuman(sf, map[string]any{"LastName": fmt.Sprintf("S%07d", seq)}); err == nil {
					mu.Lock()
					m.sfChanges++
					mu.Unlock()
				}
				p := &pendingPush{t: t, sfID: t.pairs[2*i+1][0], value: fmt.Sprintf("P%07d", seq)}
				mu.Lock()
				if pending[p.sfID] == nil {
					p.sent = time.Now()
					pending[p.sfID] = p
					m.pfChanges++
					mu.Unlock()
					select {
					case patches <- p:
					case <-ctx.Done():
						return
					}
				} else {
					mu.Unlock()
				}
			}
		}
	}()

	// Push latency: from the PATCH request to the value in Salesforce.
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				mu.Lock()
				m.pushPending = len(pending)
				mu.Unlock()
				return
			case <-tick.C:
			}
			mu.Lock()
			for id, p := range pending {
				if rec, ok := p.t.org.Record(p.sfID); ok && rec["LastName"] == p.value {
					m.pushes = append(m.pushes, lagSample{at: p.sent, lag: time.Since(p.sent)})
					delete(pending, id)
				}
			}
			mu.Unlock()
		}
	}()

	// Poll lag, the worker kill and the big first sync.
	killAt := m.start.Add(time.Duration(float64(r.o.duration) * r.o.killAt))
	bigAt := m.start.Add(time.Duration(float64(r.o.duration) * r.o.bigAt))
	lastSample := time.Time{}
	lastLog := time.Now()
	for ctx.Err() == nil {
		if err := lt.poll(ctx, r, m, &mu); err != nil && ctx.Err() == nil {
			return nil, err
		}
		if time.Since(lastSample) >= 5*time.Second {
			s, err := r.sample(ctx)
			if err != nil && ctx.Err() == nil {
				return nil, err
			}
			if err == nil {
				m.samples = append(m.samples, s)
			}
			pg.sample(r.driverPIDs(ctx))
			lastSample = time.Now()
		}
		if r.o.killAt > 0 && m.kill == nil && time.Now().After(killAt) {
			k, err := r.killWorker(ctx)
			if err != nil && ctx.Err() == nil {
				return nil, err
			}
			m.kill = k
		}
		if m.kill != nil {
			r.checkResumed(ctx, m.kill)
		}
		if r.big != nil && m.big == nil && time.Now().After(bigAt) {
			if _, err := r.eng.StartInitialSync(ctx, r.big.id); err != nil && ctx.Err() == nil {
				return nil, err
			}
			m.big = &bigResult{at: time.Now()}
			// The database's growth is taken before the big first sync
			// adds its million rows.
			if err := r.st.DB.QueryRowContext(ctx, schemaBytes).Scan(&m.dbBytesBig); err != nil && ctx.Err() == nil {
				return nil, err
			}
			r.log("the big tenant's first sync (%d contacts) started", r.o.big)
		}
		if time.Since(lastLog) >= time.Minute {
			mu.Lock()
			r.log("%s of %s: %d polls measured, %d pushes confirmed, %d changes each side", time.Since(m.start).Round(time.Second), r.o.duration, len(m.lags), len(m.pushes), m.pfChanges)
			mu.Unlock()
			lastLog = time.Now()
		}
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
	wg.Wait()
	m.elapsed = time.Since(m.start)
	m.cpuEnd = r.procStats()
	pg.sample(r.driverPIDs(context.WithoutCancel(ctx)))
	m.pgCPU = pg.total()
	var cpu time.Duration
	for name, e := range m.cpuEnd {
		cpu += e.cpu - m.cpuStart[name].cpu
	}
	r.addPhase("measured (the trickle, the kill, the big first sync)", m.start, m.start.Add(m.elapsed), phaseCPU{sfsync: cpu, pg: m.pgCPU})
	return m, r.finish(context.WithoutCancel(ctx), m)
}

// idleResult is what the idle window found: polls of tenants none of
// which had a change, and the CPU they took.
type idleResult struct {
	elapsed      time.Duration
	polls, other int // scheduled polls finished; other jobs completed (schedulers, pushes left over)
	apiCalls     float64
	scanned      float64 // records read per idle poll (the lookback's re-reads)
	// bgCPU and bgPG are the CPU per process and second with no work
	// (the baseline), of sfsync and of PostgreSQL.
	bgCPU, bgPG  time.Duration
	cpu, pgCPU   time.Duration
	pollSlotTime time.Duration // mean attempted → finalized of the polls' jobs
}

// idleWindow runs -idle-window with no changes on either side, before the
// trickle: every scheduled poll in it is an idle one, so the CPU of the
// sfsync processes and of PostgreSQL in it, divided by the polls, is the
// CPU per idle poll (the scheduler's runs included). lt reads the
// schedule meanwhile, so that the measured phase's first polls have their
// due times.
func (r *rig) idleWindow(ctx context.Context, lt *lagTracker) (*idleResult, error) {
	if r.o.idleWindow <= 0 {
		return nil, nil
	}
	never := &measurement{start: time.Now().Add(24 * time.Hour)} // lt records due times only
	// The baseline: no poll is due before the spread's first (baselineFor
	// from its UPDATE), so what the processes and PostgreSQL use now is
	// their cost with no work — River's fetch loops, heartbeats, leader
	// election, the scheduler — which does not grow with the tenants.
	bStart := time.Now()
	r.log("baseline: %s with no poll due, to measure the processes' cost with no work", baselineFor-5*time.Second)
	bCPU, bPG, err := r.cpuWindow(ctx, lt, never, baselineFor-5*time.Second)
	if err != nil {
		return nil, err
	}
	bEl := time.Since(bStart)
	procs := float64(len(r.procStats()))
	res := &idleResult{bgCPU: time.Duration(float64(bCPU) / bEl.Seconds() / procs), bgPG: time.Duration(float64(bPG) / bEl.Seconds() / procs)}
	r.log("baseline: per process and second, sfsync %s and PostgreSQL %s of CPU", res.bgCPU.Round(time.Millisecond/10), res.bgPG.Round(time.Millisecond/10))
	r.addPhase("baseline (no poll due: the processes' cost with no work)", bStart, bStart.Add(bEl), phaseCPU{sfsync: bCPU, pg: bPG})
	for time.Now().Before(r.spreadFrom) { // the first polls fall due
		time.Sleep(100 * time.Millisecond)
	}

	start := time.Now()
	r.log("idle window: %s with no changes, until %s UTC", r.o.idleWindow, start.Add(r.o.idleWindow).UTC().Format("15:04:05"))
	res.cpu, res.pgCPU, err = r.cpuWindow(ctx, lt, never, r.o.idleWindow)
	if err != nil {
		return nil, err
	}
	end := time.Now()
	res.elapsed = end.Sub(start)
	err = r.st.DB.QueryRowContext(ctx, `SELECT COUNT(*), COALESCE(AVG(api_calls), 0), COALESCE(AVG(scanned), 0) FROM sync_runs
		WHERE direction = 'to_platform' AND trigger = 'scheduled' AND started_at >= $1 AND finished_at IS NOT NULL AND finished_at < $2`,
		start.UnixMicro(), end.UnixMicro()).Scan(&res.polls, &res.apiCalls, &res.scanned)
	if err != nil {
		return nil, err
	}
	var slot float64
	err = r.st.DB.QueryRowContext(ctx, `SELECT COUNT(*) FILTER (WHERE queue <> 'pull'),
		COALESCE(EXTRACT(EPOCH FROM AVG(finalized_at - attempted_at) FILTER (WHERE queue = 'pull')), 0)
		FROM river_job WHERE state = 'completed' AND attempted_at >= $1 AND finalized_at < $2`, start, end).Scan(&res.other, &slot)
	if err != nil {
		return nil, err
	}
	res.pollSlotTime = time.Duration(slot * float64(time.Second))
	r.log("idle window: %d idle polls, %.2f API calls each, CPU sfsync %s and PostgreSQL %s in all", res.polls, res.apiCalls, res.cpu.Round(time.Millisecond), res.pgCPU.Round(time.Millisecond))
	r.addPhase("idle window (no changes: every poll idle)", start, end, phaseCPU{sfsync: res.cpu, pg: res.pgCPU, items: res.polls})
	return res, nil
}

// baselineFor is how long after the spread's UPDATE the first poll falls
// due when there is an idle window (whose baseline takes all but 5 s of
// it); 10 s without one.
const baselineFor = 30 * time.Second

// cpuWindow waits d while lt reads the schedule, and returns the CPU the
// sfsync processes and PostgreSQL (this program's backends left out) used
// meanwhile.
func (r *rig) cpuWindow(ctx context.Context, lt *lagTracker, never *measurement, d time.Duration) (cpu, pgCPU time.Duration, err error) {
	start := time.Now()
	cpu0 := r.procStats()
	pg := newPGCPUTracker()
	var mu sync.Mutex
	lastSample := time.Time{}
	for time.Since(start) < d {
		if err := lt.poll(ctx, r, never, &mu); err != nil {
			return 0, 0, err
		}
		if time.Since(lastSample) >= 5*time.Second {
			pg.sample(r.driverPIDs(ctx))
			lastSample = time.Now()
		}
		select {
		case <-ctx.Done():
			return 0, 0, ctx.Err()
		case <-time.After(min(time.Second, d-time.Since(start)+time.Millisecond)):
		}
	}
	for name, e := range r.procStats() {
		cpu += e.cpu - cpu0[name].cpu
	}
	pg.sample(r.driverPIDs(ctx))
	return cpu, pg.total(), nil
}

// driverPIDs are the PostgreSQL backends serving this program.
func (r *rig) driverPIDs(ctx context.Context) []int {
	rows, err := r.st.DB.QueryContext(ctx, `SELECT pid FROM pg_stat_activity WHERE application_name = 'scale-driver'`)
	if err != nil {
		return nil
	}
	defer rows.Close()
	var pids []int
	for rows.Next() {
		var pid int
		if rows.Scan(&pid) == nil {
			pids = append(pids, pid)
		}
	}
	return pids
}

// schemaBytes is the size of the test's schema: every table with its
// indexes and TOAST.
const schemaBytes = `SELECT COALESCE(SUM(pg_total_relation_size(c.oid)), 0)::bigint FROM pg_class c
	JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = current_schema() AND c.relkind = 'r'`

// queueTime is what the completed jobs of one River queue took.
type queueTime struct {
	jobs int
	busy time.Duration // the sum of attempted_at → finalized_at
}

// spreadPolls spreads every tenant's next poll evenly over one poll
// interval, from 10 s after now, or baselineFor with an idle window (the
// lag tracker, which reads the schedule every second, sees each due time
// before it falls due). The first syncs set each tenant's first
// poll one interval after it finished, so a warm-up shorter than the
// interval would bunch all the tenants' polls into that much time, over
// and over: a load the product never sees at steady state, where tenants
// connected at different times. -spread=false keeps the bunching.
func (r *rig) spreadPolls(ctx context.Context) error {
	if !r.o.spread {
		return nil
	}
	from := 10 * time.Second
	if r.o.idleWindow > 0 {
		from = baselineFor
	}
	r.spreadFrom = time.Now().Add(from)
	now := r.spreadFrom.UnixMicro()
	res, err := r.st.DB.ExecContext(ctx, `UPDATE sync_state SET next_pull_at = $1 + floor(random() * $2)::bigint
		WHERE pull_enabled AND next_pull_at > 0 AND tenant_id <> $3`, now, r.o.pollInterval.Microseconds(), r.bigID())
	if err != nil {
		return fmt.Errorf("spread the polls: %w", err)
	}
	n, _ := res.RowsAffected()
	r.log("spread %d tenants' next polls evenly over the next %s (from %s from now), as at steady state", n, r.o.pollInterval, from)
	return nil
}

func (r *rig) bigID() string {
	if r.big == nil {
		return ""
	}
	return r.big.id
}

// contactOf is the platform contact ID paired with p's Salesforce ID.
func contactOf(p *pendingPush) string {
	for _, pair := range p.t.pairs {
		if pair[0] == p.sfID {
			return pair[1]
		}
	}
	return ""
}

// lagTracker matches scheduled polls with the due time they were started
// for. The durable schedule (sync_state.next_pull_at) is read every
// second; a poll's due time is the latest one seen for its tenant that is
// not after its start. A due time is set when the previous run ends, at
// least a minute (the shortest poll interval) before it falls due, so the
// sampling never misses one.
type lagTracker struct {
	dues    map[string][]int64 // tenant → last due times seen (µs)
	lastRun int64
}

func (lt *lagTracker) poll(ctx context.Context, r *rig, m *measurement, mu *sync.Mutex) error {
	rows, err := r.st.DB.QueryContext(ctx, `SELECT tenant_id, next_pull_at FROM sync_state WHERE next_pull_at > 0`)
	if err != nil {
		return err
	}
	for rows.Next() {
		var t string
		var due int64
		if err := rows.Scan(&t, &due); err != nil {
			rows.Close()
			return err
		}
		d := lt.dues[t]
		if len(d) == 0 || d[len(d)-1] != due {
			d = append(d, due)
			if len(d) > 4 {
				d = d[1:]
			}
			lt.dues[t] = d
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	runs, err := r.st.DB.QueryContext(ctx, `SELECT id, tenant_id, trigger, started_at FROM sync_runs
		WHERE id > $1 AND direction = 'to_platform' ORDER BY id`, lt.lastRun)
	if err != nil {
		return err
	}
	defer runs.Close()
	for runs.Next() {
		var id, started int64
		var t, trigger string
		if err := runs.Scan(&id, &t, &trigger, &started); err != nil {
			return err
		}
		lt.lastRun = id
		if trigger != "scheduled" || time.UnixMicro(started).Before(m.start) {
			continue
		}
		var due int64
		for _, d := range lt.dues[t] {
			if d <= started && d > due {
				due = d
			}
		}
		mu.Lock()
		if due == 0 {
			m.unmatched++
		} else {
			m.lags = append(m.lags, lagSample{at: time.UnixMicro(started), lag: time.Duration(started-due) * time.Microsecond})
		}
		mu.Unlock()
	}
	return runs.Err()
}

// procStats reads every live process's CPU time and memory.
func (r *rig) procStats() map[string]procStat {
	out := map[string]procStat{}
	for _, p := range r.procs {
		if !p.exited() {
			out[p.name] = readProcStat(p.cmd.Process.Pid)
		}
	}
	return out
}

// sample reads the processes and the database.
func (r *rig) sample(ctx context.Context) (sample, error) {
	s := sample{at: time.Now(), procs: r.procStats(), conns: map[string]int{}, jobs: map[string]int{}}
	err := r.st.DB.QueryRowContext(ctx, `SELECT COUNT(*) FROM sync_state s WHERE s.pull_enabled AND s.next_pull_at > 0 AND s.next_pull_at < $1
		AND NOT EXISTS (SELECT 1 FROM sync_runs u WHERE u.tenant_id = s.tenant_id AND u.direction = 'to_platform' AND u.finished_at IS NULL)`,
		time.Now().Add(-time.Minute).UnixMicro()).Scan(&s.overdue)
	if err != nil {
		return s, err
	}
	if err := r.st.DB.QueryRowContext(ctx, `SELECT pg_total_relation_size('river_job')`).Scan(&s.jobBytes); err != nil {
		return s, err
	}
	for q, into := range map[string]map[string]int{
		`SELECT application_name, COUNT(*) FROM pg_stat_activity WHERE datname = current_database() GROUP BY 1`: s.conns,
		`SELECT state, COUNT(*) FROM river_job GROUP BY 1`:                                                      s.jobs,
	} {
		rows, err := r.st.DB.QueryContext(ctx, q)
		if err != nil {
			return s, err
		}
		for rows.Next() {
			var k string
			var n int
			if err := rows.Scan(&k, &n); err != nil {
				rows.Close()
				return s, err
			}
			into[k] = n
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return s, err
		}
	}
	return s, nil
}

// killWorker kills the first worker with SIGKILL, once it is running a
// job (waiting up to 30 s for one), and notes which tenants it held.
func (r *rig) killWorker(ctx context.Context) (*killResult, error) {
	var p *proc
	for _, q := range r.procs {
		if strings.HasPrefix(q.name, "worker") && !q.exited() {
			p = q
			break
		}
	}
	if p == nil {
		return &killResult{}, nil
	}
	pattern := fmt.Sprintf(`%%\_%d\_%%`, p.cmd.Process.Pid)
	held := func() ([]string, error) {
		rows, err := r.st.DB.QueryContext(ctx, `SELECT DISTINCT args->>'tenant_id' FROM river_job
			WHERE state = 'running' AND attempted_by[array_length(attempted_by, 1)] LIKE $1 AND args ? 'tenant_id'`, pattern)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		var ids []string
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				return nil, err
			}
			ids = append(ids, id)
		}
		return ids, rows.Err()
	}
	var ids []string
	deadline := time.Now().Add(30 * time.Second)
	for {
		var err error
		if ids, err = held(); err != nil {
			return nil, err
		}
		if len(ids) > 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		return nil, err
	}
	<-p.done
	r.log("killed %s (kill -9) while it ran the jobs of %d tenants", p.name, len(ids))
	return &killResult{at: time.Now(), worker: p.name, held: ids, resumed: map[string]time.Duration{}}, nil
}

// checkResumed notes, for each tenant the killed worker held, when a job
// of that tenant was first taken by another process after the kill.
func (r *rig) checkResumed(ctx context.Context, k *killResult) {
	for _, t := range k.held {
		if _, ok := k.resumed[t]; ok {
			continue
		}
		var at time.Time
		err := r.st.DB.QueryRowContext(ctx, `SELECT MIN(attempted_at) FROM river_job WHERE args->>'tenant_id' = $1 AND attempted_at > $2`,
			t, k.at).Scan(&at)
		if err == nil && !at.IsZero() {
			k.resumed[t] = at.Sub(k.at)
		}
	}
}

// finish reads the figures kept in the database.
func (r *rig) finish(ctx context.Context, m *measurement) error {
	// Idle polls are those of the tenants that got no changes. In a run
	// that starts less than the engine's lookback (10 minutes) after the
	// orgs were seeded, they still re-read the seeded records.
	quiet := make([]string, 0, len(r.tenants)-r.active)
	for _, t := range r.tenants[r.active:] {
		quiet = append(quiet, t.id)
	}
	err := r.st.DB.QueryRowContext(ctx, `SELECT COUNT(*), COUNT(*) FILTER (WHERE tenant_id = ANY($2::text[])),
		COALESCE(AVG(api_calls) FILTER (WHERE tenant_id = ANY($2::text[])), 0), COALESCE(AVG(api_calls), 0)
		FROM sync_runs WHERE direction = 'to_platform' AND trigger = 'scheduled' AND started_at >= $1 AND finished_at IS NOT NULL`,
		m.start.UnixMicro(), quiet).Scan(&m.polls, &m.idlePolls, &m.apiIdle, &m.apiAll)
	if err != nil {
		return err
	}
	if err := r.st.DB.QueryRowContext(ctx, schemaBytes).Scan(&m.dbBytesEnd); err != nil {
		return err
	}
	rows, err := r.st.DB.QueryContext(ctx, `SELECT kind, queue, COUNT(*), COALESCE(EXTRACT(EPOCH FROM SUM(finalized_at - attempted_at)), 0)
		FROM river_job WHERE state = 'completed' AND finalized_at >= $1 AND attempted_at >= $1 GROUP BY 1, 2`, m.start)
	if err != nil {
		return err
	}
	m.slotTime = map[string]queueTime{}
	for rows.Next() {
		var k, q string
		var n int
		var busy float64
		if err := rows.Scan(&k, &q, &n, &busy); err != nil {
			rows.Close()
			return err
		}
		m.jobsDone[k] += n
		qt := m.slotTime[q]
		qt.jobs += n
		qt.busy += time.Duration(busy * float64(time.Second))
		m.slotTime[q] = qt
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	if m.big != nil {
		b := m.big
		var finished *int64
		err := r.st.DB.QueryRowContext(ctx, `SELECT status, processed, total, api_calls, finished_at FROM sync_runs
			WHERE tenant_id = $1 AND trigger = 'initial' ORDER BY id DESC LIMIT 1`, r.big.id).Scan(&b.status, &b.processed, &b.total, &b.calls, &finished)
		if err != nil {
			return err
		}
		b.elapsedAtEnd = time.Since(b.at)
		if finished != nil {
			b.finished = true
			b.finishedIn = time.UnixMicro(*finished).Sub(b.at)
		}
	}
	return nil
}
