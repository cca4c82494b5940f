// Package jobs runs the sync engine's work on River: a pull job and a push
// job per tenant (unique per tenant, so one run at a time per direction),
// a periodic scheduler that turns the durable per-tenant schedule in the
// database into jobs, and a dispatcher that turns outbox rows into push
// jobs within a fraction of a second. SQLite (embedded) and PostgreSQL
// (several worker processes) are both supported.
package jobs

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
	"github.com/riverqueue/river/rivertype"

	"github.com/sfsync/sfsync/internal/logctx"
	"github.com/sfsync/sfsync/internal/store"
	"github.com/sfsync/sfsync/internal/syncer"
)

// Queue names a River queue. Each has its own worker count in a process,
// so long jobs cannot take the slots of short ones.
type Queue string

// The queues.
const (
	// QueuePull runs incremental pulls: scheduled polls, "sync now",
	// retries. They take seconds.
	QueuePull Queue = "pull"
	// QueueBulk runs full passes: first syncs and full resyncs, which may
	// take hours for a large org (in 4-minute slices).
	QueueBulk Queue = "bulk"
	// QueuePush runs real-time pushes.
	QueuePush Queue = "push"
	// QueueSchedule runs the periodic scheduler.
	QueueSchedule Queue = "schedule"
)

// Priorities within a queue (River: 1 is first).
const (
	priorityPush = 1
	priorityPoll = 2
	priorityBulk = 3
)

// PullArgs is a Salesforce → platform run of one tenant.
type PullArgs struct {
	TenantID string          `json:"tenant_id" river:"unique"`
	Mode     syncer.PullMode `json:"mode"`
	Trigger  syncer.Trigger  `json:"trigger"`
	RunID    int64           `json:"run_id"`
}

// Kind names the job.
func (PullArgs) Kind() string { return "sfsync.pull" }

// uniqueStates keeps one job per tenant among the live ones, the running
// one included.
var uniqueStates = []rivertype.JobState{rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRunning,
	rivertype.JobStateRetryable, rivertype.JobStateScheduled}

// InsertOpts makes pulls unique per tenant across both pull queues (the
// unique key leaves the queue out), so a tenant never has more than one
// pull queued or running: that is the per-tenant concurrency limit. Full
// passes go to QueueBulk (see pullOpts).
func (PullArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: string(QueuePull), Priority: priorityPoll, MaxAttempts: 25, UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: uniqueStates}}
}

// pullOpts puts a full pass on the bulk queue, so first syncs and full
// resyncs wait for each other and never for the slots of polls.
func pullOpts(mode syncer.PullMode) river.InsertOpts {
	o := PullArgs{}.InsertOpts()
	if mode == syncer.ModeFull || mode == syncer.ModeDrift {
		o.Queue, o.Priority = string(QueueBulk), priorityBulk
	}
	return o
}

// PushArgs is a platform → Salesforce push of one tenant's outbox.
type PushArgs struct {
	TenantID string `json:"tenant_id" river:"unique"`
}

// Kind names the job.
func (PushArgs) Kind() string { return "sfsync.push" }

// InsertOpts makes pushes unique per tenant.
func (PushArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: string(QueuePush), Priority: priorityPush, MaxAttempts: 25, UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: uniqueStates}}
}

// ScheduleArgs is the periodic fan-out over the durable schedule.
type ScheduleArgs struct{}

// Kind names the job.
func (ScheduleArgs) Kind() string { return "sfsync.schedule" }

// InsertOpts puts the scheduler on its own queue.
func (ScheduleArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: string(QueueSchedule), MaxAttempts: 3}
}

// CompletedJobRetention is how long a completed job row stays in
// river_job before River's cleaner deletes it.
const CompletedJobRetention = time.Hour

type pullWorker struct {
	river.WorkerDefaults[PullArgs]
	e  *syncer.Engine
	t  *tracker
	db *sql.DB
}

func (w *pullWorker) Work(ctx context.Context, job *river.Job[PullArgs]) error {
	ctx = jobLogContext(ctx, job.ID, job.Args.TenantID, job.Args.RunID)
	ctx, done := w.t.track(ctx, job.ID)
	defer done()
	runCtx := ctx
	if job.Queue == string(QueuePull) {
		runCtx = syncer.OnPollSlot(ctx)
	}
	err := w.e.RunPull(runCtx, job.Args.TenantID, job.Args.Mode, job.Args.Trigger, job.Args.RunID)
	switch {
	case errors.Is(err, syncer.ErrContinue):
		return river.JobSnooze(0)
	case errors.Is(err, syncer.ErrFullPass):
		return w.moveToBulk(ctx, job.ID)
	}
	return err
}

// moveToBulk puts a job of the poll queue that turned out to be a full
// pass (a poll whose cursor is older than the recycle bin, or one that
// carries on a first sync or resync whose own job was merged into it) on
// the bulk queue, where full passes wait for each other and not for
// polls. The job is the tenant's one pull (the unique key leaves the
// queue out), so it is moved rather than copied, and snoozed for no time:
// the bulk queue's workers take it next.
func (w *pullWorker) moveToBulk(ctx context.Context, jobID int64) error {
	if _, err := w.db.ExecContext(ctx, `UPDATE river_job SET queue = $1, priority = $2 WHERE id = $3`, string(QueueBulk), priorityBulk, jobID); err != nil {
		return fmt.Errorf("jobs: move a full pass to the bulk queue: %w", err)
	}
	return river.JobSnooze(0)
}

// Timeout leaves room for a slice and a Bulk API read.
func (w *pullWorker) Timeout(*river.Job[PullArgs]) time.Duration { return 30 * time.Minute }

type pushWorker struct {
	river.WorkerDefaults[PushArgs]
	e *syncer.Engine
	t *tracker
}

func (w *pushWorker) Work(ctx context.Context, job *river.Job[PushArgs]) error {
	ctx, done := w.t.track(jobLogContext(ctx, job.ID, job.Args.TenantID, 0), job.ID)
	defer done()
	return w.e.RunPush(ctx, job.Args.TenantID)
}

// jobLogContext names the job, its tenant and (when the job knows it) its
// run on every line logged with the job's context (logctx); River's own
// lines about the job carry the same job_id.
func jobLogContext(ctx context.Context, jobID int64, tenantID string, runID int64) context.Context {
	ctx = logctx.With(ctx, "tenant_id", tenantID, "job_id", jobID)
	if runID != 0 {
		ctx = logctx.With(ctx, "run_id", runID)
	}
	return ctx
}

func (w *pushWorker) Timeout(*river.Job[PushArgs]) time.Duration { return 5 * time.Minute }

type scheduleWorker struct {
	river.WorkerDefaults[ScheduleArgs]
	e *syncer.Engine
}

func (w *scheduleWorker) Work(ctx context.Context, job *river.Job[ScheduleArgs]) error {
	if _, err := w.e.SchedulePulls(ctx); err != nil {
		return err
	}
	if _, err := w.e.ScheduleDriftChecks(ctx); err != nil {
		return err
	}
	return w.e.Maintain(ctx)
}

// Options configure the workers.
type Options struct {
	// Workers is the number of concurrent incremental pulls, and of
	// pushes, in this process (4).
	Workers int
	// BulkWorkers is the number of concurrent full passes (first syncs,
	// full resyncs) in this process (half of Workers, at least 1). They
	// run beside, never instead of, the Workers slots of polls and pushes.
	BulkWorkers int
	// ScheduleEvery is the scheduler's period (10 s). A due poll waits up
	// to one period to be queued, so it counts against the poll lag
	// target (60 s at p99); each period costs one indexed query for the
	// due tenants and one for push runs past their window.
	ScheduleEvery time.Duration
	// DispatchEvery is how often outbox rows are turned into push jobs (100 ms).
	DispatchEvery time.Duration
	// InsertOnly builds a client that enqueues but works no jobs (the web
	// server of a split deployment).
	InsertOnly bool
	// SoftStopTimeout is how long running jobs may go on once the process
	// stops (Stop, or the Start context ending) before their contexts are
	// cancelled; zero waits for them. A cancelled pull resumes from its
	// last committed page in whichever process takes the job next.
	SoftStopTimeout time.Duration
	Logger          *slog.Logger
	// BeatEvery is how often a worker process on PostgreSQL records that
	// it is alive and hands on dead workers' jobs (DefaultBeatEvery).
	BeatEvery time.Duration
	// DeadAfter is how old a worker's last beat must be for its running
	// jobs to be handed to other workers (DefaultDeadAfter).
	DeadAfter time.Duration
}

// Runner owns the River client of one process and implements
// syncer.Enqueuer.
type Runner struct {
	insert   func(ctx context.Context, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error)
	retry    func(ctx context.Context, id int64) (*rivertype.JobRow, error)
	start    func(ctx context.Context) error
	stop     func(ctx context.Context) error
	engine   *syncer.Engine
	opts     Options
	log      *slog.Logger
	stopDisp context.CancelFunc
	done     chan struct{}

	// PostgreSQL crash recovery (heartbeat.go).
	db       *sql.DB
	pg       bool
	clientID string
	tracked  tracker
	stopHB   context.CancelFunc
	hbDone   chan struct{}
}

// New migrates River's tables (see Migrate) and builds the client for the
// store's dialect, with the engine's workers registered. It sets e.Queue.
func New(ctx context.Context, s *store.Store, e *syncer.Engine, opts Options) (*Runner, error) {
	if opts.Workers <= 0 {
		opts.Workers = 4
	}
	if opts.BulkWorkers <= 0 {
		opts.BulkWorkers = max(1, opts.Workers/2)
	}
	if opts.ScheduleEvery <= 0 {
		opts.ScheduleEvery = 10 * time.Second
	}
	if opts.DispatchEvery <= 0 {
		opts.DispatchEvery = 100 * time.Millisecond
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.BeatEvery <= 0 {
		opts.BeatEvery = DefaultBeatEvery
	}
	if opts.DeadAfter <= 0 {
		opts.DeadAfter = DefaultDeadAfter
	}
	r := &Runner{engine: e, opts: opts, log: opts.Logger, db: s.JobsDB(), pg: s.Dialect == store.Postgres, clientID: newClientID()}
	workers := river.NewWorkers()
	river.AddWorker(workers, &pullWorker{e: e, t: &r.tracked, db: s.JobsDB()})
	river.AddWorker(workers, &pushWorker{e: e, t: &r.tracked})
	river.AddWorker(workers, &scheduleWorker{e: e})
	cfg := &river.Config{
		ID:                r.clientID,
		Logger:            opts.Logger.With("component", "river"),
		FetchCooldown:     20 * time.Millisecond,
		FetchPollInterval: 100 * time.Millisecond,
		JobTimeout:        30 * time.Minute,
		// The backstop only: on PostgreSQL the heartbeat (heartbeat.go)
		// hands a dead process's jobs on within a minute; on SQLite the
		// next start does. A job still "running" long after its timeout
		// belongs to a dead process.
		RescueStuckJobsAfter: 35 * time.Minute,
		// River keeps completed jobs a day by default: at 10,000 tenants
		// polling every 15 minutes that is a million rows. An hour still
		// covers the metrics' recent window (app.opsWindow, 15 minutes);
		// the runs themselves are kept in sync_runs.
		CompletedJobRetentionPeriod: CompletedJobRetention,
		SoftStopTimeout:             opts.SoftStopTimeout,
		PeriodicJobs: []*river.PeriodicJob{river.NewPeriodicJob(river.PeriodicInterval(opts.ScheduleEvery),
			func() (river.JobArgs, *river.InsertOpts) { return ScheduleArgs{}, nil }, &river.PeriodicJobOpts{RunOnStart: true})},
	}
	if r.pg {
		// PostgreSQL wakes the fetchers of every process with LISTEN/NOTIFY
		// when a job is inserted; the periodic fetch is only the fallback
		// (River's default). At 100 ms, idle processes queried the job
		// table ten times a second per queue (make scale's idle cost).
		cfg.FetchPollInterval = time.Second
	}
	if !opts.InsertOnly {
		cfg.Workers = workers
		cfg.Queues = map[string]river.QueueConfig{
			string(QueuePull):     {MaxWorkers: opts.Workers},
			string(QueueBulk):     {MaxWorkers: opts.BulkWorkers},
			string(QueuePush):     {MaxWorkers: opts.Workers},
			string(QueueSchedule): {MaxWorkers: 1},
		}
	}
	if err := Migrate(ctx, s); err != nil {
		return nil, err
	}
	switch s.Dialect {
	case store.Postgres:
		c, err := river.NewClient(riverpgxv5.New(s.Pool), cfg)
		if err != nil {
			return nil, err
		}
		r.insert, r.retry, r.start, r.stop = c.Insert, c.JobRetry, c.Start, c.Stop
	default:
		if !opts.InsertOnly {
			// SQLite means one process: any job left "running" belongs to
			// a previous run of this process that died, so hand it back
			// now instead of waiting for the rescuer.
			if _, err := s.JobsDB().ExecContext(ctx, `UPDATE river_job SET state = 'available', scheduled_at = CURRENT_TIMESTAMP WHERE state = 'running'`); err != nil {
				return nil, fmt.Errorf("jobs: requeue interrupted jobs: %w", err)
			}
		}
		c, err := river.NewClient[*sql.Tx](riversqlite.New(s.JobsDB()), cfg)
		if err != nil {
			return nil, err
		}
		r.insert, r.retry, r.start, r.stop = c.Insert, c.JobRetry, c.Start, c.Stop
	}
	e.Queue = r
	return r, nil
}

// migrateLockKey is the PostgreSQL advisory lock held while River's
// migrations run (an arbitrary constant: "sfsync-r" in ASCII).
const migrateLockKey int64 = 0x736673796e632d72

// Migrate applies River's migrations (its job tables) and, on PostgreSQL,
// creates the workers' heartbeat table (heartbeat.go). `sfsync migrate`
// and every process at start call it. On PostgreSQL it holds a session
// advisory lock while it runs, so processes started at the same moment on
// an empty database take turns instead of racing to insert the same
// migration rows (which crashed all but one).
func Migrate(ctx context.Context, s *store.Store) error {
	if s.Dialect != store.Postgres {
		if err := migrate(ctx, riversqlite.New(s.JobsDB())); err != nil {
			return err
		}
		return moveJobsFromStore(ctx, s)
	}
	conn, err := s.Pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("jobs: migrate river: %w", err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, migrateLockKey); err != nil {
		return fmt.Errorf("jobs: migrate river: take the migration lock: %w", err)
	}
	// Unlock even when ctx has ended, or the pooled connection would keep
	// the lock.
	defer func() {
		// An unlock fails when the connection is broken; the lock then
		// ends with its session.
		_, _ = conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, migrateLockKey)
	}()
	if err := migrate(ctx, riverpgxv5.New(s.Pool)); err != nil {
		return err
	}
	if _, err := conn.Exec(ctx, heartbeatTable); err != nil {
		return fmt.Errorf("jobs: create the heartbeat table: %w", err)
	}
	return nil
}

func migrate[TTx any](ctx context.Context, d riverdriver.Driver[TTx]) error {
	m, err := rivermigrate.New(d, nil)
	if err != nil {
		return err
	}
	if _, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("jobs: migrate river: %w", err)
	}
	return nil
}

// Start runs the workers and the outbox dispatcher until Stop.
func (r *Runner) Start(ctx context.Context) error {
	if r.opts.InsertOnly {
		return nil
	}
	if err := r.start(ctx); err != nil {
		return err
	}
	dctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	r.stopDisp = cancel
	r.done = make(chan struct{})
	go r.dispatch(dctx)
	if r.pg {
		hctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
		r.stopHB = cancel
		r.hbDone = make(chan struct{})
		go r.heartbeat(hctx) // beats at once, then every BeatEvery

	}
	return nil
}

// dispatch turns due outbox rows into push jobs, so a platform change
// reaches Salesforce within a fraction of a second (S17).
func (r *Runner) dispatch(ctx context.Context) {
	defer close(r.done)
	t := time.NewTicker(r.opts.DispatchEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if _, err := r.engine.DispatchPushes(ctx); err != nil && ctx.Err() == nil {
				r.log.Warn("dispatching pushes failed", "error", err)
			}
		}
	}
}

// Stop finishes running jobs (until ctx ends) and stops.
func (r *Runner) Stop(ctx context.Context) error {
	if r.stopDisp != nil {
		r.stopDisp()
		<-r.done
	}
	if r.opts.InsertOnly {
		return nil
	}
	err := r.stop(ctx)
	if r.stopHB != nil {
		// Jobs River could not finish in time are cancelled, and the beat
		// is made old, so other workers take them at their next sweep.
		r.tracked.cancelAll(context.Canceled)
		r.stopHB()
		<-r.hbDone
		if merr := r.markDead(context.WithoutCancel(ctx)); merr != nil {
			r.log.Warn("marking this worker stopped failed", "error", merr)
		}
	}
	return err
}

// ClientID is this process's River client ID, the one its running jobs
// carry in attempted_by.
func (r *Runner) ClientID() string { return r.clientID }

// newClientID names this process uniquely among the workers (host, process
// ID and a random part, so a restarted process is a new client).
func newClientID() string {
	host, _ := os.Hostname()
	b := make([]byte, 4)
	rand.Read(b)
	return fmt.Sprintf("%s_%d_%s", host, os.Getpid(), hex.EncodeToString(b))
}

func (r *Runner) pgExec(ctx context.Context, q string, args ...any) (int64, error) {
	res, err := r.db.ExecContext(ctx, q, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// EnqueuePull implements syncer.Enqueuer.
func (r *Runner) EnqueuePull(ctx context.Context, tenantID string, mode syncer.PullMode, trigger syncer.Trigger, runID int64, at time.Time) error {
	opts := pullOpts(mode)
	opts.ScheduledAt = at
	res, err := r.insert(ctx, PullArgs{TenantID: tenantID, Mode: mode, Trigger: trigger, RunID: runID}, &opts)
	if err != nil || !at.IsZero() || res == nil || !res.UniqueSkippedAsDuplicate || res.Job == nil || res.Job.State != rivertype.JobStateScheduled {
		return err
	}
	// Wanted now, but the tenant's pull waits for later (a paused run's
	// resumption): bring that job forward rather than add a second.
	_, err = r.retry(ctx, res.Job.ID)
	return err
}

// EnqueuePush implements syncer.Enqueuer.
func (r *Runner) EnqueuePush(ctx context.Context, tenantID string) error {
	_, err := r.insert(ctx, PushArgs{TenantID: tenantID}, nil)
	return err
}
