// Package jobs runs the sync engine's work on River: a pull job and a push
// job per tenant (unique per tenant, so one run at a time per direction),
// a periodic scheduler that turns the durable per-tenant schedule in the
// database into jobs, and a dispatcher that turns outbox rows into push
// jobs within a fraction of a second. SQLite (embedded) and PostgreSQL
// (several worker processes) are both supported.
package jobs

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
	"github.com/riverqueue/river/rivertype"

	"github.com/sfsync/sfsync/internal/store"
	"github.com/sfsync/sfsync/internal/syncer"
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

// InsertOpts makes pulls unique per tenant.
func (PullArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: "pull", MaxAttempts: 25, UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: uniqueStates}}
}

// PushArgs is a platform → Salesforce push of one tenant's outbox.
type PushArgs struct {
	TenantID string `json:"tenant_id" river:"unique"`
}

// Kind names the job.
func (PushArgs) Kind() string { return "sfsync.push" }

// InsertOpts makes pushes unique per tenant.
func (PushArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: "push", MaxAttempts: 25, UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: uniqueStates}}
}

// ScheduleArgs is the periodic fan-out over the durable schedule.
type ScheduleArgs struct{}

// Kind names the job.
func (ScheduleArgs) Kind() string { return "sfsync.schedule" }

// InsertOpts puts the scheduler on its own queue.
func (ScheduleArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: "schedule", MaxAttempts: 3}
}

type pullWorker struct {
	river.WorkerDefaults[PullArgs]
	e *syncer.Engine
}

func (w *pullWorker) Work(ctx context.Context, job *river.Job[PullArgs]) error {
	err := w.e.RunPull(ctx, job.Args.TenantID, job.Args.Mode, job.Args.Trigger, job.Args.RunID)
	if errors.Is(err, syncer.ErrContinue) {
		return river.JobSnooze(0)
	}
	return err
}

// Timeout leaves room for a slice and a Bulk API read.
func (w *pullWorker) Timeout(*river.Job[PullArgs]) time.Duration { return 30 * time.Minute }

type pushWorker struct {
	river.WorkerDefaults[PushArgs]
	e *syncer.Engine
}

func (w *pushWorker) Work(ctx context.Context, job *river.Job[PushArgs]) error {
	return w.e.RunPush(ctx, job.Args.TenantID)
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
	return w.e.Maintain(ctx)
}

// Options configure the workers.
type Options struct {
	// Workers is the number of concurrent jobs per queue in this process.
	Workers int
	// ScheduleEvery is the scheduler's period (30 s).
	ScheduleEvery time.Duration
	// DispatchEvery is how often outbox rows are turned into push jobs (100 ms).
	DispatchEvery time.Duration
	// InsertOnly builds a client that enqueues but works no jobs (the web
	// server of a split deployment).
	InsertOnly bool
	Logger     *slog.Logger
}

// Runner owns the River client of one process and implements
// syncer.Enqueuer.
type Runner struct {
	insert   func(ctx context.Context, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error)
	start    func(ctx context.Context) error
	stop     func(ctx context.Context) error
	engine   *syncer.Engine
	opts     Options
	log      *slog.Logger
	stopDisp context.CancelFunc
	done     chan struct{}
}

// New migrates River's tables and builds the client for the store's
// dialect, with the engine's workers registered. It sets e.Queue.
func New(ctx context.Context, s *store.Store, e *syncer.Engine, opts Options) (*Runner, error) {
	if opts.Workers <= 0 {
		opts.Workers = 4
	}
	if opts.ScheduleEvery <= 0 {
		opts.ScheduleEvery = 30 * time.Second
	}
	if opts.DispatchEvery <= 0 {
		opts.DispatchEvery = 100 * time.Millisecond
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	r := &Runner{engine: e, opts: opts, log: opts.Logger}
	workers := river.NewWorkers()
	river.AddWorker(workers, &pullWorker{e: e})
	river.AddWorker(workers, &pushWorker{e: e})
	river.AddWorker(workers, &scheduleWorker{e: e})
	cfg := &river.Config{
		Logger:            opts.Logger.With("component", "river"),
		FetchCooldown:     20 * time.Millisecond,
		FetchPollInterval: 100 * time.Millisecond,
		JobTimeout:        30 * time.Minute,
		// A pull job works in slices of a few minutes, so a job still
		// "running" long after its timeout belongs to a dead process.
		RescueStuckJobsAfter: 35 * time.Minute,
		PeriodicJobs: []*river.PeriodicJob{river.NewPeriodicJob(river.PeriodicInterval(opts.ScheduleEvery),
			func() (river.JobArgs, *river.InsertOpts) { return ScheduleArgs{}, nil }, &river.PeriodicJobOpts{RunOnStart: true})},
	}
	if !opts.InsertOnly {
		cfg.Workers = workers
		cfg.Queues = map[string]river.QueueConfig{
			"pull":     {MaxWorkers: opts.Workers},
			"push":     {MaxWorkers: opts.Workers},
			"schedule": {MaxWorkers: 1},
		}
	}
	switch s.Dialect {
	case store.Postgres:
		if err := migrate(ctx, riverpgxv5.New(s.Pool)); err != nil {
			return nil, err
		}
		c, err := river.NewClient(riverpgxv5.New(s.Pool), cfg)
		if err != nil {
			return nil, err
		}
		r.insert, r.start, r.stop = c.Insert, c.Start, c.Stop
	default:
		if err := migrate(ctx, riversqlite.New(s.DB)); err != nil {
			return nil, err
		}
		if !opts.InsertOnly {
			// SQLite means one process: any job left "running" belongs to
			// a previous run of this process that died, so hand it back
			// now instead of waiting for the rescuer.
			if _, err := s.DB.ExecContext(ctx, `UPDATE river_job SET state = 'available', scheduled_at = CURRENT_TIMESTAMP WHERE state = 'running'`); err != nil {
				return nil, fmt.Errorf("jobs: requeue interrupted jobs: %w", err)
			}
		}
		c, err := river.NewClient[*sql.Tx](riversqlite.New(s.DB), cfg)
		if err != nil {
			return nil, err
		}
		r.insert, r.start, r.stop = c.Insert, c.Start, c.Stop
	}
	e.Queue = r
	return r, nil
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
	return r.stop(ctx)
}

// EnqueuePull implements syncer.Enqueuer.
func (r *Runner) EnqueuePull(ctx context.Context, tenantID string, mode syncer.PullMode, trigger syncer.Trigger, runID int64, at time.Time) error {
	var opts *river.InsertOpts
	if !at.IsZero() {
		o := PullArgs{}.InsertOpts()
		o.ScheduledAt = at
		opts = &o
	}
	_, err := r.insert(ctx, PullArgs{TenantID: tenantID, Mode: mode, Trigger: trigger, RunID: runID}, opts)
	return err
}

// EnqueuePush implements syncer.Enqueuer.
func (r *Runner) EnqueuePush(ctx context.Context, tenantID string) error {
	_, err := r.insert(ctx, PushArgs{TenantID: tenantID}, nil)
	return err
}
