package store

import (
	"context"
	"crypto/rand"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// smallLog makes the checkpointers of stores opened until the test ends
// restart the log past 256 pages (1 MiB) and empty an idle log file past
// 256 KiB. Not parallel: the settings are the package's.
func smallLog(t *testing.T) {
	pages, idle := restartPages, walIdleSize
	restartPages, walIdleSize = 256, 256<<10
	t.Cleanup(func() { restartPages, walIdleSize = pages, idle })
}

func walSize(t *testing.T, path string) int64 {
	fi, err := os.Stat(path + "-wal")
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

// A bulk writer committing back to back (a first sync's pages) never
// leaves the log fully copied; the checkpointer restarts it past
// restartPages while the writer waits in YieldWriter, and other writes go
// on meanwhile. Without that, the log grows with every commit (the
// writer's own checkpoint starts at 256 MiB).
func TestCheckpointerRestartsTheLogUnderABulkWriter(t *testing.T) {
	smallLog(t)
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "bulk.db")
	s, err := Open(ctx, "sqlite:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.DB.ExecContext(ctx, `CREATE TABLE bulk (id INTEGER PRIMARY KEY, b BLOB); CREATE TABLE other (id INTEGER PRIMARY KEY, n INTEGER)`); err != nil {
		t.Fatal(err)
	}
	const rowsPerTx, rowSize = 20, 8 << 10 // about 40 pages a commit
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	var others int
	go func() { // writes that are not bulk: never paused
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			case <-time.After(5 * time.Millisecond):
			}
			if _, err := s.DB.ExecContext(ctx, `INSERT INTO other (n) VALUES (?)`, others); err != nil {
				t.Error(err)
				return
			}
			others++
		}
	}()
	blob := make([]byte, rowSize)
	var written, maxLog int64
	var bulkRows int
	deadline := time.Now().Add(4 * time.Second)
	for time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond) // a first sync's writer waits for its pages too
		s.YieldWriter(ctx)
		tx, err := s.DB.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		for range rowsPerTx {
			_, _ = rand.Read(blob)
			if _, err := tx.ExecContext(ctx, `INSERT INTO bulk (b) VALUES (?)`, blob); err != nil {
				t.Fatal(err)
			}
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		bulkRows += rowsPerTx
		written += rowsPerTx * rowSize
		maxLog = max(maxLog, walSize(t, path))
	}
	close(stop)
	wg.Wait()
	restarts := s.ckpt.restarts.Load()
	t.Logf("wrote %d MiB in %d rows (and %d other writes): %d restarts; the log file at most %.1f MiB", written>>20, bulkRows, others, restarts, float64(maxLog)/(1<<20))
	if restarts < 2 {
		t.Errorf("the checkpointer restarted the log %d times while %d MiB were written, want at least 2", restarts, written>>20)
	}
	// Between two restarts the log grows for a tick at most (1 s while it
	// is small, checkpointEvery), a quarter of the writing here: it keeps
	// its file's size when it restarts (walSizeLimit).
	if maxLog > written/2 {
		t.Errorf("the log file reached %d KiB while %d KiB were written", maxLog>>10, written>>10)
	}
	var n, m int
	if err := s.DB.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM bulk), (SELECT count(*) FROM other)`).Scan(&n, &m); err != nil {
		t.Fatal(err)
	}
	if n != bulkRows || m != others {
		t.Errorf("%d bulk rows and %d others stored, want %d and %d", n, m, bulkRows, others)
	}

	// Idle, the log file is emptied: SQLite would keep up to walSizeLimit.
	for end := time.Now().Add(5 * time.Second); walSize(t, path) > 0 && time.Now().Before(end); {
		time.Sleep(50 * time.Millisecond)
	}
	if size := walSize(t, path); size > 0 {
		t.Errorf("the idle log file is still %d KiB after 5 s", size>>10)
	}
	if _, err := s.DB.ExecContext(ctx, `INSERT INTO other (n) VALUES (-1)`); err != nil {
		t.Errorf("a write after the log file was emptied: %v", err)
	}
}

// YieldWriter waits while the checkpointer restarts the log, for pauseCap
// at most, and not once the restart is over.
func TestYieldWriterWaitsForTheRestart(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "pause.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.ckpt.pausing.Store(true)
	go func() {
		time.Sleep(60 * time.Millisecond)
		s.ckpt.pausing.Store(false)
	}()
	start := time.Now()
	s.YieldWriter(ctx)
	if d := time.Since(start); d < 50*time.Millisecond || d > pauseCap/2 {
		t.Errorf("YieldWriter returned after %v during a restart of 60 ms", d)
	}
	s.ckpt.pausing.Store(true)
	start = time.Now()
	s.YieldWriter(ctx)
	if d := time.Since(start); d < pauseCap || d > pauseCap+time.Second {
		t.Errorf("YieldWriter returned after %v during a restart that did not end, want its cap %v", d, pauseCap)
	}
	s.ckpt.pausing.Store(false)
	start = time.Now()
	s.YieldWriter(ctx)
	if d := time.Since(start); d > 20*time.Millisecond {
		t.Errorf("YieldWriter took %v with no restart and the connection free", d)
	}
}

// Closing the store does not wait for a restart that waits for the writing
// connection (held here by a transaction that never ends).
func TestCloseDoesNotWaitForARestart(t *testing.T) {
	smallLog(t)
	ctx := context.Background()
	s, err := Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "close.db"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.DB.ExecContext(ctx, `CREATE TABLE bulk (id INTEGER PRIMARY KEY, b BLOB)`); err != nil {
		t.Fatal(err)
	}
	// 2.4 MiB committed: past restartPages (1 MiB).
	blob := make([]byte, 8<<10)
	for range 300 {
		if _, err := s.DB.ExecContext(ctx, `INSERT INTO bulk (b) VALUES (?)`, blob); err != nil {
			t.Fatal(err)
		}
	}
	// A transaction that holds the writing connection to the end.
	tx, err := s.DB.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback() //nolint:errcheck // the store is closed under it
	if _, err := tx.ExecContext(ctx, `INSERT INTO bulk (b) VALUES (?)`, blob); err != nil {
		t.Fatal(err)
	}
	for end := time.Now().Add(5 * time.Second); !s.ckpt.pausing.Load(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(end) {
			t.Fatal("no restart began within 5 s")
		}
	}
	time.Sleep(700 * time.Millisecond) // past its wait for the connection to be free (pauseCap/2): in Conn now
	start := time.Now()
	_ = s.Close()
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Close took %v while a restart waited for the writing connection", d)
	}
}
