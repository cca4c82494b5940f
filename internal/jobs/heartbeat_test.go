package jobs

import (
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/sfsync/sfsync/internal/store"
	"github.com/sfsync/sfsync/internal/store/storetest"
)

// TestLostHeartbeatCancelsJobs: a worker that cannot record its beat
// cancels the jobs it runs before other workers may take them over, so a
// tenant is not synced by two workers at once.
func TestLostHeartbeatCancelsJobs(t *testing.T) {
	t.Parallel()
	s, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "x.db"))
	if err != nil {
		t.Fatal(err)
	}
	s.Close() // every beat now fails
	r := &Runner{db: s.DB, clientID: "w1", log: slog.New(slog.DiscardHandler), hbDone: make(chan struct{}),
		opts: Options{BeatEvery: 10 * time.Millisecond, DeadAfter: 150 * time.Millisecond}}
	jobCtx, done := r.tracked.track(context.Background(), 42)
	defer done()
	hctx, stop := context.WithCancel(context.Background())
	started := time.Now()
	go r.heartbeat(hctx)
	defer func() { stop(); <-r.hbDone }()
	select {
	case <-jobCtx.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("the job was not cancelled after the heartbeat was lost")
	}
	if cause := context.Cause(jobCtx); !errors.Is(cause, errLeaseLost) {
		t.Errorf("got cause %v, want errLeaseLost", cause)
	}
	// Not before two thirds of DeadAfter; the upper bound (DeadAfter) is
	// left loose, as a loaded machine may delay the ticker.
	if took := time.Since(started); took < 100*time.Millisecond || took > time.Second {
		t.Errorf("cancelled after %s, want after two thirds of DeadAfter (100 ms), soon after", took)
	}
}

// TestHandedOnJobIsStopped: a worker frozen past the dead-after period
// finds, at its next beat, that its job was handed on, and stops it.
func TestHandedOnJobIsStopped(t *testing.T) {
	t.Parallel()
	s := storetest.Open(t, store.Postgres)
	ctx := context.Background()
	if err := Migrate(ctx, s); err != nil {
		t.Fatal(err)
	}
	var mine, handedOn int64
	for i, p := range []*int64{&mine, &handedOn} {
		state := "running"
		if i == 1 {
			state = "cancelled" // what a sweep elsewhere left
		}
		if err := s.DB.QueryRowContext(ctx, `INSERT INTO river_job (args, kind, max_attempts, priority, queue, state, attempt, attempted_at, attempted_by, finalized_at)
			VALUES ('{}', 'sfsync.pull', 25, 1, 'pull', $1::river_job_state, 1, now(), '{w1}', CASE WHEN $1 = 'cancelled' THEN now() END) RETURNING id`, state).Scan(p); err != nil {
			t.Fatal(err)
		}
	}
	r := &Runner{db: s.DB, clientID: "w1", log: slog.New(slog.DiscardHandler), hbDone: make(chan struct{}),
		opts: Options{BeatEvery: 20 * time.Millisecond, DeadAfter: time.Minute}}
	mineCtx, done1 := r.tracked.track(ctx, mine)
	defer done1()
	goneCtx, done2 := r.tracked.track(ctx, handedOn)
	defer done2()
	hctx, stop := context.WithCancel(ctx)
	go r.heartbeat(hctx)
	defer func() { stop(); <-r.hbDone }()
	select {
	case <-goneCtx.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("the handed-on job was not stopped")
	}
	if cause := context.Cause(goneCtx); !errors.Is(cause, errHandedOn) {
		t.Errorf("got cause %v, want errHandedOn", cause)
	}
	time.Sleep(100 * time.Millisecond) // a few more beats
	if mineCtx.Err() != nil {
		t.Errorf("the job this worker still holds was stopped: %v", context.Cause(mineCtx))
	}
}
