package jobs

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// Crash recovery on PostgreSQL.
//
// River hands a job back only when it has been "running" for longer than
// RescueStuckJobsAfter, which has to exceed the longest job a live worker
// may run (a Bulk API read of a first sync cannot be cut into slices): a
// job whose process was killed stayed stuck for 35 minutes. Instead every
// worker process beats: it writes the time, by the database's clock, into
// its row of sfsync_job_heartbeats every BeatEvery. Every worker also
// sweeps: a job left "running" by a client (River's attempted_by) whose
// beat is older than DeadAfter is handed on as a new job at once (see
// sweep), and the next free worker resumes the run from its checkpoint.
// A live job is never taken away however long it runs, and a dead
// process's jobs move within DeadAfter + BeatEvery (under a minute by
// default). River's own rescuer stays as the backstop for processes that
// never beat.
//
// A process that cannot write its beat (the database unreachable from it
// while other workers still reach it) cancels its own running jobs before
// DeadAfter passes, so two workers do not run one tenant's job at once.
// A process that was frozen instead finds at its next beat that its jobs
// were handed on, and stops them (stopHandedOn); and their old rows are
// final, so what it writes about them changes nothing.

// Heartbeat defaults.
const (
	DefaultBeatEvery = 10 * time.Second
	DefaultDeadAfter = 45 * time.Second
)

// heartbeatTable is created by Migrate next to River's tables (PostgreSQL
// only: SQLite has one process, whose jobs are handed back at its start).
const heartbeatTable = `CREATE TABLE IF NOT EXISTS sfsync_job_heartbeats (
	client_id TEXT PRIMARY KEY,
	beat_at TIMESTAMPTZ NOT NULL
)`

// errLeaseLost cancels the jobs of a process that could not beat.
var errLeaseLost = errors.New("jobs: this process could not record its heartbeat; its jobs are left to other workers")

// errHandedOn cancels a job this process runs that another worker's sweep
// has handed on (this process was frozen or cut off for too long).
var errHandedOn = errors.New("jobs: this job was handed on to another worker while this process was not beating")

// tracker holds the cancel functions of the jobs this process is running.
type tracker struct {
	mu      sync.Mutex
	running map[int64]context.CancelCauseFunc
}

// track derives the job's context, cancellable by cancelAll; call the
// returned function when the job ends.
func (t *tracker) track(ctx context.Context, jobID int64) (context.Context, func()) {
	ctx, cancel := context.WithCancelCause(ctx)
	t.mu.Lock()
	if t.running == nil {
		t.running = map[int64]context.CancelCauseFunc{}
	}
	t.running[jobID] = cancel
	t.mu.Unlock()
	return ctx, func() {
		t.mu.Lock()
		delete(t.running, jobID)
		t.mu.Unlock()
		cancel(nil)
	}
}

// ids lists the running jobs.
func (t *tracker) ids() []int64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	ids := make([]int64, 0, len(t.running))
	for id := range t.running {
		ids = append(ids, id)
	}
	return ids
}

// cancel cancels one running job with cause.
func (t *tracker) cancel(jobID int64, cause error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if c := t.running[jobID]; c != nil {
		c(cause)
	}
}

// cancelAll cancels every running job with cause; it returns how many.
func (t *tracker) cancelAll(cause error) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, cancel := range t.running {
		cancel(cause)
	}
	return len(t.running)
}

// beat records that this process is alive.
func (r *Runner) beat(ctx context.Context) error {
	_, err := r.pgExec(ctx, `INSERT INTO sfsync_job_heartbeats (client_id, beat_at) VALUES ($1, now())
		ON CONFLICT (client_id) DO UPDATE SET beat_at = now()`, r.clientID)
	return err
}

// sweep hands on the jobs of processes that stopped beating, and forgets
// processes gone for a day. It returns how many jobs it handed on.
//
// A dead worker's job row is finalized (cancelled, with an error saying
// why) and a copy of it, same arguments, queue and unique key, is made
// available as a new job. Reusing the row would be simpler, but River
// writes a job's end state by ID wherever the row is "running": a worker
// that was only cut off, coming back, would then end (or re-queue) the
// attempt another worker is running. A finalized row fences it off: River
// leaves rows that are no longer running alone.
func (r *Runner) sweep(ctx context.Context) (int64, error) {
	tx, err := r.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("jobs: hand on jobs of dead workers: %w", err)
	}
	defer tx.Rollback()
	rows, err := tx.QueryContext(ctx, `UPDATE river_job SET state = 'cancelled', finalized_at = now(),
		errors = array_append(errors, jsonb_build_object('at', now(), 'attempt', attempt,
			'error', 'worker ' || attempted_by[array_length(attempted_by, 1)] || ' stopped beating; the job was handed on to another worker as a new job', 'trace', ''))
		WHERE state = 'running'
		AND attempted_by[array_length(attempted_by, 1)] IN (
			SELECT client_id FROM sfsync_job_heartbeats WHERE beat_at < now() - make_interval(secs => $1))
		RETURNING id`, r.opts.DeadAfter.Seconds())
	if err != nil {
		return 0, fmt.Errorf("jobs: hand on jobs of dead workers: %w", err)
	}
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return 0, fmt.Errorf("jobs: hand on jobs of dead workers: %w", err)
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("jobs: hand on jobs of dead workers: %w", err)
	}
	for _, id := range ids {
		if _, err := tx.ExecContext(ctx, `INSERT INTO river_job (args, errors, kind, max_attempts, metadata, priority, queue, scheduled_at, state, tags, unique_key, unique_states)
			SELECT args, errors, kind, max_attempts, metadata || jsonb_build_object('sfsync_handed_on_from', id), priority, queue, now(), 'available', tags, unique_key, unique_states
			FROM river_job WHERE id = $1`, id); err != nil {
			return 0, fmt.Errorf("jobs: hand on job %d of a dead worker: %w", id, err)
		}
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM sfsync_job_heartbeats WHERE beat_at < now() - interval '1 day'`); err != nil {
		return 0, fmt.Errorf("jobs: forget old workers: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("jobs: hand on jobs of dead workers: %w", err)
	}
	return int64(len(ids)), nil
}

// stopHandedOn cancels the jobs this process runs that are no longer its
// own in the database: a sweep elsewhere handed them on while this process
// was frozen or cut off. River would not let their end state count (see
// sweep), but their work must stop too.
func (r *Runner) stopHandedOn(ctx context.Context) error {
	ids := r.tracked.ids()
	if len(ids) == 0 {
		return nil
	}
	rows, err := r.db.QueryContext(ctx, `SELECT t.id FROM unnest($1::bigint[]) AS t(id)
		WHERE NOT EXISTS (SELECT 1 FROM river_job j WHERE j.id = t.id AND j.state = 'running'
			AND j.attempted_by[array_length(j.attempted_by, 1)] = $2)`, ids, r.clientID)
	if err != nil {
		return fmt.Errorf("jobs: check this worker's jobs: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return fmt.Errorf("jobs: check this worker's jobs: %w", err)
		}
		r.log.Error("a job of this worker was handed on to another while this process was not beating; stopping it", "job_id", id)
		r.tracked.cancel(id, errHandedOn)
	}
	return rows.Err()
}

// heartbeat beats and sweeps every BeatEvery until ctx ends.
func (r *Runner) heartbeat(ctx context.Context) {
	defer close(r.hbDone)
	lastBeat := time.Now()
	// Stop our jobs well before another worker may take them.
	leaseLost := r.opts.DeadAfter * 2 / 3
	t := time.NewTicker(r.opts.BeatEvery)
	defer t.Stop()
	for {
		// A short timeout, so that a hanging database is noticed in time
		// to stop our jobs before other workers may take them.
		bctx, cancel := context.WithTimeout(ctx, max(r.opts.BeatEvery/2, time.Second))
		err := r.beat(bctx)
		cancel()
		switch {
		case err == nil:
			lastBeat = time.Now()
			cctx, cancel := context.WithTimeout(ctx, r.opts.BeatEvery)
			if err := r.stopHandedOn(cctx); err != nil && ctx.Err() == nil {
				r.log.Warn("checking this worker's jobs failed", "error", err)
			}
			cancel()
			sctx, cancel := context.WithTimeout(ctx, r.opts.BeatEvery)
			n, err := r.sweep(sctx)
			cancel()
			if err != nil && ctx.Err() == nil {
				r.log.Warn("sweeping dead workers' jobs failed", "error", err)
			}
			if n > 0 {
				r.log.Warn("handed back jobs of a worker that stopped beating", "jobs", n)
			}
		case ctx.Err() != nil:
			return
		default:
			r.log.Warn("recording the worker heartbeat failed", "error", err)
			if time.Since(lastBeat) > leaseLost {
				if n := r.tracked.cancelAll(errLeaseLost); n > 0 {
					r.log.Error("no heartbeat recorded for too long; stopping this process's jobs so another worker can take them", "jobs", n, "since", lastBeat)
				}
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// markDead makes this process's beat old, so a job it could not finish
// before stopping is handed back at the next sweep instead of after
// DeadAfter.
func (r *Runner) markDead(ctx context.Context) error {
	_, err := r.pgExec(ctx, `UPDATE sfsync_job_heartbeats SET beat_at = 'epoch' WHERE client_id = $1`, r.clientID)
	return err
}
