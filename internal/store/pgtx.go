package store

import (
	"context"
	"database/sql"
	"sync"
	"sync/atomic"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// A PostgreSQL write transaction (writeTx) keeps the pgx connection it
// runs on, so that the statements of one step (the inserts of a page and
// the plan_cache_mode switches around them, autoPlansExec) go to the
// server together as one pipelined batch, one round trip, instead of one
// round trip each. database/sql offers no batch. The connection is used
// only by the goroutine running the transaction, between its statements,
// as database/sql would.
type pgTxConns struct {
	mu sync.Mutex
	m  map[*sql.Tx]*pgx.Conn
}

func (c *pgTxConns) begin(tx *sql.Tx, conn *pgx.Conn) {
	c.mu.Lock()
	if c.m == nil {
		c.m = map[*sql.Tx]*pgx.Conn{}
	}
	c.m[tx] = conn
	c.mu.Unlock()
}

func (c *pgTxConns) end(tx *sql.Tx) {
	c.mu.Lock()
	delete(c.m, tx)
	c.mu.Unlock()
}

// conn returns tx's pgx connection; nil if tx is not a PostgreSQL write
// transaction.
func (c *pgTxConns) conn(tx *sql.Tx) *pgx.Conn {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.m[tx]
}

// pgWriteTx runs fn in a transaction on one connection whose pgx
// connection it registers for autoPlansExec.
func (s *Store) pgWriteTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	conn, err := s.DB.Conn(ctx)
	if err != nil {
		return mapErr(err)
	}
	defer conn.Close()
	var pc *pgx.Conn
	if err := conn.Raw(func(dc any) error {
		if c, ok := dc.(*stdlib.Conn); ok {
			pc = c.Conn()
		}
		return nil
	}); err != nil {
		return mapErr(err)
	}
	// Not bound to ctx: database/sql would roll back on its own goroutine
	// when ctx ends, while a batch may be using the connection directly.
	// Statements still take ctx.
	tx, err := conn.BeginTx(context.WithoutCancel(ctx), nil)
	if err != nil {
		return mapErr(err)
	}
	defer tx.Rollback() // a no-op after Commit; ends the transaction on a panic
	if pc != nil {
		s.pgConns.begin(tx, pc)
		defer s.pgConns.end(tx)
	}
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return mapErr(err)
	}
	s.writes.Add(1)
	return nil
}

// pgStmt is one statement of a batch.
type pgStmt struct {
	q    string
	args []any
}

// The plan_cache_mode switch of autoPlans: the mode in force is kept in
// a setting of the transaction (sfsync.plan_cache_mode), so that putting
// it back needs nothing from the client and can go in the same batch.
const (
	autoPlansSet     = `SELECT set_config('sfsync.plan_cache_mode', current_setting('plan_cache_mode'), true), set_config('plan_cache_mode', 'auto', true)`
	autoPlansRestore = `SELECT set_config('plan_cache_mode', current_setting('sfsync.plan_cache_mode'), true)`
)

// execBatch runs stmts in tx: in a write transaction (writeTx) as one
// pipelined batch, one round trip; in another transaction one statement
// at a time.
func (s *Store) execBatch(ctx context.Context, tx *sql.Tx, stmts ...pgStmt) error {
	if pc := s.pgConns.conn(tx); pc != nil && len(stmts) > 1 {
		b := &pgx.Batch{}
		for _, st := range stmts {
			b.Queue(st.q, st.args...)
		}
		return mapErr(pc.SendBatch(ctx, b).Close())
	}
	for _, st := range stmts {
		if _, err := tx.ExecContext(ctx, st.q, st.args...); err != nil {
			return mapErr(err)
		}
	}
	return nil
}

// autoPlansExec runs stmts in tx with plan_cache_mode auto (see
// autoPlans), putting the store's setting back after them: in a write
// transaction (writeTx) as one pipelined batch, one round trip for the
// switch, the statements and the switch back; in another transaction
// one statement at a time.
func (s *Store) autoPlansExec(ctx context.Context, tx *sql.Tx, stmts ...pgStmt) error {
	if len(stmts) == 0 {
		return nil
	}
	if pc := s.pgConns.conn(tx); pc != nil {
		b := &pgx.Batch{}
		b.Queue(autoPlansSet)
		for _, st := range stmts {
			b.Queue(st.q, st.args...)
		}
		b.Queue(autoPlansRestore)
		return mapErr(pc.SendBatch(ctx, b).Close())
	}
	return autoPlans(ctx, tx, func() error {
		for _, st := range stmts {
			if _, err := tx.ExecContext(ctx, st.q, st.args...); err != nil {
				return mapErr(err)
			}
		}
		return nil
	})
}

// roundTrips counts the statements, batches and copies a PostgreSQL Store
// sends to the server, each one round trip once its statements are
// prepared (the first time a connection runs a text it prepares it too)
// (tests bound the round trips of the write path with it).
type roundTrips struct{ n atomic.Int64 }

func (r *roundTrips) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	r.n.Add(1)
	return ctx
}

func (r *roundTrips) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

func (r *roundTrips) TraceBatchStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceBatchStartData) context.Context {
	r.n.Add(1)
	return ctx
}

func (r *roundTrips) TraceBatchQuery(context.Context, *pgx.Conn, pgx.TraceBatchQueryData) {}

func (r *roundTrips) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData) {}

func (r *roundTrips) TraceCopyFromStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceCopyFromStartData) context.Context {
	r.n.Add(1)
	return ctx
}

func (r *roundTrips) TraceCopyFromEnd(context.Context, *pgx.Conn, pgx.TraceCopyFromEndData) {}
