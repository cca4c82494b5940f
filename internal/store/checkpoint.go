package store

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// SQLite's write-ahead log grows with every commit and is copied back into
// the database file by a checkpoint. By default the committing connection
// does that itself, inside its commit, whenever the log passes 1,000 pages:
// during a first sync, which commits a 2,000-record page at a time, that
// was every commit, and a fifth of the writer's time. Instead a connection
// of its own checkpoints in the background (PASSIVE: it never blocks the
// writer or readers), so the copying runs on another core and pages written
// by several commits are copied once.
//
// The log restarts from its beginning only when a write transaction starts
// with every frame copied and the database file synced, which a writer
// committing back to back never leaves time for. Until issue 14's write
// probe the writer did that itself, inside its commit, once the log passed
// 128 MiB: about every 1.5 s of a 1M first sync on SQLite, its page then
// held the writing connection 200–250 ms longer (the log's sync 50 ms,
// copying 50 ms, the database file's sync 75 ms), and the write after it
// cut the log file back from 130 to 64 MiB (35–80 ms more). An API write
// that came then waited for all of it: a p99 of 270–370 ms. Now, once the
// log passes restartPages, the background connection restarts it
// (restart) while bulk writers (a first sync's pages, YieldWriter) wait and
// other writes go on; the log file is cut back only once the log is idle
// (truncateIdle). API writes' p99 during a 1M first sync: 115–121 ms
// against 292–340 ms, the sync no slower (three alternated pairs,
// BENCHMARKS.md, session 10). The writer still checkpoints itself past
// walAutoCheckpoint, should the background fall behind.
//
// Every second, not every 100 ms (issue 14): a first sync commits every
// 100 ms or so and rewrites the same index pages in each commit; copied
// once a second, they are copied once for ten commits. A 200k first sync
// wrote 10.5 KB a record (the log, the database, the spool) and used
// 25.3 s of CPU with the 100 ms tick, 8.2–8.5 KB and 20.6 s with this one
// (BenchmarkFirstSyncProductPath, written_B/record, back to back). What
// it costs: after a power loss (not a crash: the log is in the OS's
// cache), up to a second more of commits may be lost, since in WAL mode
// with synchronous=NORMAL the log is synced when it is checkpointed.
// While the log is large the tick is 100 ms again (checkpointer.next).
const (
	checkpointEvery   = 1000 * time.Millisecond
	checkpointSoon    = 100 * time.Millisecond
	walAutoCheckpoint = 65536     // pages of 4 KiB (256 MiB): the writer's own checkpoints
	walSizeLimit      = 256 << 20 // bytes SQLite keeps of the log file when it restarts
)

// restartPages is the log's size, in pages, past which the checkpointer
// restarts it, and walIdleSize the log file's size past which it cuts the
// file back once idle; variables for tests.
var (
	restartPages int   = 24576    // 96 MiB
	walIdleSize  int64 = 64 << 20 // bytes
)

type checkpointer struct {
	db     *sql.DB // its own connection
	writer *sql.DB // the store's one writing connection (restart)
	wal    string  // the log file's path
	stop   chan struct{}
	done   chan struct{}
	once   sync.Once
	// ctx ends when the checkpointer is closed, so that a restart waiting
	// for the writing connection does not hold up the store's Close.
	ctx    context.Context
	cancel context.CancelFunc
	// pausing is set while restart wants bulk writers to wait.
	pausing atomic.Bool
	// last is the log's size the previous pass found, when it had copied
	// all of it (else -1).
	last int
	// restarts counts restart's passes that copied the whole log.
	restarts atomic.Int64
	// restartPages and walIdleSize, as they were when it started.
	restartPages int
	walIdleSize  int64
}

// checkpointBusyMS is how long the checkpointer's connection waits for a
// lock: only an idle log's TRUNCATE waits (for the writer, then for
// readers, holding the writer's lock meanwhile); the others never do.
const checkpointBusyMS = 100

// startCheckpointer opens its own connection to the database file at path
// and checkpoints every checkpointEvery until stopped; writer is the
// store's writing connection.
func startCheckpointer(path string, writer *sql.DB) (*checkpointer, error) {
	db, err := sql.Open("sqlite", sqliteDSN(path, []string{"synchronous(NORMAL)", fmt.Sprintf("busy_timeout(%d)", checkpointBusyMS)}))
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	db.SetConnMaxLifetime(0)
	c := &checkpointer{db: db, writer: writer, wal: path + "-wal", stop: make(chan struct{}), done: make(chan struct{}), last: -1,
		restartPages: restartPages, walIdleSize: walIdleSize}
	c.ctx, c.cancel = context.WithCancel(context.Background())
	go c.run()
	return c, nil
}

func (c *checkpointer) run() {
	defer close(c.done)
	t := time.NewTimer(checkpointEvery)
	defer t.Stop()
	for {
		select {
		case <-c.stop:
			return
		case <-t.C:
			t.Reset(c.next(c.checkpoint()))
		}
	}
}

// next is when to checkpoint again after one that found the log at
// logPages: every checkpointEvery, but every checkpointSoon once the log
// is past a quarter of restartPages. With the 1 s tick a 1M first
// sync's log grew by up to 150 MB between two passes, and the pass that
// restarted it had all of that left to copy (issue 14).
func (c *checkpointer) next(logPages int) time.Duration {
	if logPages > c.restartPages/4 {
		return checkpointSoon
	}
	return checkpointEvery
}

// checkpoint copies what it can of the log and returns the log's size in
// pages (0 when the checkpoint failed); errors (a busy database, a
// removed file) are left to the next tick and to the writer's own
// checkpoints.
func (c *checkpointer) checkpoint() int {
	ctx, cancel := context.WithTimeout(c.ctx, 10*time.Second)
	defer cancel()
	// A failed checkpoint is retried at the next tick, and the writer
	// checkpoints by itself past the log's size limit: nothing to report.
	logPages, copied, _ := walCheckpoint(ctx, c.db, "PASSIVE")
	switch {
	case logPages > 0 && copied == logPages && logPages == c.last:
		c.truncateIdle(ctx) // idle, copied whole: the next write restarts it
	case logPages >= c.restartPages:
		// Even when this pass copied the whole log: a transaction that
		// began before it still appends to the log.
		logPages, copied = c.restart(ctx)
	}
	c.last = -1
	if copied == logPages {
		c.last = logPages
	}
	return logPages
}

// restart copies the whole log, so that the next write restarts it, while
// bulk writers (YieldWriter) wait. A write transaction that began before
// the log was copied whole appends to it, so the last pass holds the
// writing connection; the pass before it does not, and copies the most:
// it waits for the connection's current transaction (a page, or a write
// that is not bulk: those go on meanwhile), then copies what was committed
// since the last pass and syncs both files. The last pass then copies only
// what those other writes committed meanwhile, and syncs only that.
func (c *checkpointer) restart(ctx context.Context) (logPages, copied int) {
	c.pausing.Store(true)
	defer c.pausing.Store(false)
	waitWhile(ctx, pauseCap/2, time.Millisecond, func() bool { return c.writer.Stats().InUse > 0 })
	_, _, _ = walCheckpoint(ctx, c.db, "PASSIVE")
	conn, err := c.writer.Conn(ctx)
	if err != nil {
		return 0, 0
	}
	defer conn.Close()
	logPages, copied, _ = walCheckpoint(ctx, conn, "PASSIVE")
	if copied == logPages {
		c.restarts.Add(1)
	}
	return logPages, copied
}

// truncateIdle empties the log file when two passes in a row found the log
// copied and unchanged, and the file is larger than walIdleSize: SQLite
// cuts it back only to walSizeLimit, when it restarts. TRUNCATE waits for
// the writer and then for readers on the log, holding the writer's lock,
// for checkpointBusyMS at most; a log it could not empty is tried again at
// the next idle pass.
func (c *checkpointer) truncateIdle(ctx context.Context) {
	if fi, err := os.Stat(c.wal); err != nil || fi.Size() <= c.walIdleSize {
		return
	}
	_, _, _ = walCheckpoint(ctx, c.db, "TRUNCATE")
}

// walCheckpoint runs PRAGMA wal_checkpoint(mode) on q, a connection or a
// pool: the log's size in pages and how many of them are copied.
func walCheckpoint(ctx context.Context, q interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}, mode string) (logPages, copied int, err error) {
	var busy int
	err = q.QueryRowContext(ctx, `PRAGMA wal_checkpoint(`+mode+`)`).Scan(&busy, &logPages, &copied)
	return logPages, copied, err
}

func (c *checkpointer) close() {
	c.once.Do(func() {
		c.cancel()
		close(c.stop)
		<-c.done
		c.db.Close()
	})
}
