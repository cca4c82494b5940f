package jobs

import (
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/sfsync/sfsync/internal/store"
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
