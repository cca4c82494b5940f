package store

import (
	"context"
	"database/sql"
	"sync"
	"time"
)

// SQLite's write-ahead log grows with every commit and is copied back into
// the database file by a checkpoint. By default the committing connection
// does that itself, inside its commit, whenever the log passes 1,000 pages:
// during a first sync, which commits a 2,000-record page at a time, that
// was every commit, and a fifth of the writer's time. Instead a connection
// of its own checkpoints in the background (PASSIVE: it never blocks the
// writer or readers), so the copying runs on another core and pages written
// by several commits are copied once. The log restarts from its beginning
// only when a write transaction starts with every frame copied, which a
// writer committing back to back rarely leaves time for; so the writer
// still checkpoints itself when the log passes walAutoCheckpoint pages,
// by then copying only the frames since the background one's last pass,
// and the log file is cut back to walSizeLimit when it restarts. A first
// sync's commit adds about 35 MB to the log.
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
// While the log is large the tick is 100 ms again (nextCheckpoint).
const (
	checkpointEvery   = 1000 * time.Millisecond
	checkpointSoon    = 100 * time.Millisecond
	walAutoCheckpoint = 32768    // pages of 4 KiB: 128 MiB
	walSizeLimit      = 64 << 20 // bytes kept of the log file after a restart
)

type checkpointer struct {
	db   *sql.DB
	stop chan struct{}
	done chan struct{}
	once sync.Once
}

// startCheckpointer opens its own connection with dsn and checkpoints every
// checkpointEvery until stopped.
func startCheckpointer(dsn string) (*checkpointer, error) {
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	db.SetConnMaxLifetime(0)
	c := &checkpointer{db: db, stop: make(chan struct{}), done: make(chan struct{})}
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
			t.Reset(nextCheckpoint(c.checkpoint()))
		}
	}
}

// nextCheckpoint is when to checkpoint again after one that found the log
// at logPages: every checkpointEvery, but every checkpointSoon once the
// log is past a quarter of walAutoCheckpoint. The writer checkpoints by
// itself, inside its commit, past walAutoCheckpoint, copying whatever the
// background has not copied yet and syncing both files: with the 1 s tick
// a 1M first sync's log grew by up to 150 MB between two passes, and the
// commit that crossed the limit held SQLite's one writing connection for
// 250–750 ms (under load), which River's fetches waited behind (issue 14).
// Kept up with, the writer's own pass finds little left to copy.
func nextCheckpoint(logPages int) time.Duration {
	if logPages > walAutoCheckpoint/4 {
		return checkpointSoon
	}
	return checkpointEvery
}

// checkpoint copies what it can of the log and returns the log's size in
// pages (0 when the checkpoint failed); errors (a busy database, a
// removed file) are left to the next tick and to the writer's own
// checkpoints.
func (c *checkpointer) checkpoint() int {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var busy, logPages, done int
	// A failed checkpoint is retried at the next tick, and the writer
	// checkpoints by itself past the log's size limit: nothing to report.
	_ = c.db.QueryRowContext(ctx, `PRAGMA wal_checkpoint(PASSIVE)`).Scan(&busy, &logPages, &done)
	return logPages
}

func (c *checkpointer) close() {
	c.once.Do(func() {
		close(c.stop)
		<-c.done
		c.db.Close()
	})
}
