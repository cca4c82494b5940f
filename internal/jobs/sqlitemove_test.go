package jobs

import (
	"context"
	"testing"

	"github.com/riverqueue/river/riverdriver/riversqlite"

	"github.com/sfsync/sfsync/internal/store"
	"github.com/sfsync/sfsync/internal/store/storetest"
)

// TestJobsMoveOutOfTheStoreFile: an earlier version kept River's tables
// in the store's SQLite file. Migrate moves the jobs that have not
// finished into the job queue's own file with their IDs, leaves the
// finished ones, and drops River's tables from the store's file; moving
// again after a crash between the two steps inserts nothing twice.
func TestJobsMoveOutOfTheStoreFile(t *testing.T) {
	ctx := context.Background()
	s := storetest.Open(t, store.SQLite)
	if s.JobsDB() == s.DB {
		t.Fatal("on SQLite the job queue should have a file of its own")
	}
	old := func() {
		t.Helper()
		if err := migrate(ctx, riversqlite.New(s.DB)); err != nil {
			t.Fatal(err)
		}
		for _, state := range []string{"available", "scheduled", "completed"} {
			if _, err := s.DB.ExecContext(ctx, `INSERT INTO river_job (args, kind, max_attempts, priority, queue, state, finalized_at)
				VALUES ('{"tenant_id":"t1"}', 'sfsync.push', 25, 1, 'push', $1, CASE WHEN $1 = 'completed' THEN CURRENT_TIMESTAMP END)`, state); err != nil {
				t.Fatal(err)
			}
		}
	}
	count := func(q string) int {
		t.Helper()
		var n int
		if err := s.JobsDB().QueryRowContext(ctx, q).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	old()
	if err := Migrate(ctx, s); err != nil {
		t.Fatal(err)
	}
	if got := count(`SELECT COUNT(*) FROM river_job WHERE id IN (1, 2) AND state IN ('available', 'scheduled') AND kind = 'sfsync.push'`); got != 2 {
		t.Errorf("%d of the 2 unfinished jobs moved with their IDs, want 2", got)
	}
	if got := count(`SELECT COUNT(*) FROM river_job`); got != 2 {
		t.Errorf("the queue's file holds %d jobs, want the 2 unfinished ones", got)
	}
	var n int
	if err := s.DB.QueryRowContext(ctx, `SELECT COUNT(*) FROM sqlite_master WHERE name LIKE 'river%' AND type = 'table'`).Scan(&n); err != nil || n != 0 {
		t.Errorf("River tables left in the store's file: %d (%v), want none", n, err)
	}

	// A crash after the copy, before the drop: the same jobs are there
	// again; they are not inserted twice.
	old()
	if err := Migrate(ctx, s); err != nil {
		t.Fatal(err)
	}
	if got := count(`SELECT COUNT(*) FROM river_job`); got != 2 {
		t.Errorf("after moving again the queue's file holds %d jobs, want 2", got)
	}
	// Nothing left to move: Migrate is a no-op.
	if err := Migrate(ctx, s); err != nil {
		t.Fatal(err)
	}
}
