package store

import (
	"context"
	"sync"

	"github.com/sfsync/sfsync/internal/contact"
)

// Group commit of single-contact writes (issue 14). Every contact write of
// a tenant holds the tenant's write lock until its commit (on PostgreSQL
// an advisory lock, so the uniqueness pre-checks cannot race; on SQLite
// the one writing connection), and a commit waits for the WAL to reach
// the disk. One PATCH /contacts/{id} a transaction therefore capped a
// tenant's API writes at one commit's time each: on PostgreSQL 120 to 400
// a second on a busy two-core machine (BenchmarkProductPushLatency), the
// requests queued on the advisory lock, where the push is measured at
// 1,000 a second.
//
// So single-contact updates that arrive while a write of the same tenant
// and origin is under way wait for it and then go together, in one
// transaction of the batch write path (writeContacts), which decides the
// items in order as if they were written one by one and gives each its
// own result. Nothing waits on a timer: an update that finds no write
// under way starts at once, alone.

// maxCombined is the most updates one transaction carries.
const maxCombined = 256

type combineKey struct {
	tenantID string
	origin   contact.Origin
}

type combineResult struct {
	res UpsertResult
	err error
}

type combineWaiter struct {
	ctx  context.Context
	item writeItem
	done chan combineResult // buffered: the writer never blocks on it
}

// combiner holds, per tenant and origin with a writer running, the updates
// waiting for the next transaction.
type combiner struct {
	mu     sync.Mutex
	queues map[combineKey][]*combineWaiter
}

// writeCombined writes one item, in a transaction with the other
// single-contact writes of the tenant and origin that wait at the time.
func (s *Store) writeCombined(ctx context.Context, tenantID string, it writeItem, origin contact.Origin) (UpsertResult, error) {
	if s.rehearsal != nil {
		// A rehearsal is one caller's transaction: nothing to combine.
		return s.writeAlone(ctx, tenantID, it, origin)
	}
	w := &combineWaiter{ctx: ctx, item: it, done: make(chan combineResult, 1)}
	k := combineKey{tenantID, origin}
	c := &s.comb
	c.mu.Lock()
	if c.queues == nil {
		c.queues = map[combineKey][]*combineWaiter{}
	}
	q, running := c.queues[k]
	c.queues[k] = append(q, w)
	c.mu.Unlock()
	if !running {
		go s.drainCombined(k)
	}
	select {
	case r := <-w.done:
		return r.res, r.err
	case <-ctx.Done():
		// The write may still happen, as when a request is cancelled
		// while its transaction commits.
		return UpsertResult{}, ctx.Err()
	}
}

// drainCombined writes the key's waiting updates, up to maxCombined a
// transaction, until none waits.
func (s *Store) drainCombined(k combineKey) {
	c := &s.comb
	for {
		c.mu.Lock()
		q := c.queues[k]
		if len(q) == 0 {
			delete(c.queues, k)
			c.mu.Unlock()
			return
		}
		n := min(len(q), maxCombined)
		batch := q[:n:n]
		c.queues[k] = q[n:]
		c.mu.Unlock()
		s.writeBatch(k, batch)
	}
}

func (s *Store) writeBatch(k combineKey, batch []*combineWaiter) {
	// A request that gave up before its write began is not written.
	live := batch[:0]
	for _, w := range batch {
		if err := w.ctx.Err(); err != nil {
			w.done <- combineResult{err: err}
			continue
		}
		live = append(live, w)
	}
	if len(live) == 0 {
		return
	}
	// One waiter's cancellation must not fail the others' write.
	ctx := context.WithoutCancel(live[0].ctx)
	items := make([]writeItem, len(live))
	for i, w := range live {
		items[i] = w.item
	}
	res, err := s.writeContacts(ctx, k.tenantID, items, k.origin, nil)
	if err != nil && len(live) > 1 {
		// A failed transaction (not one item's refusal, which is its
		// result) fails nobody else's write: each goes again alone.
		for _, w := range live {
			r, err := s.writeAlone(ctx, k.tenantID, w.item, k.origin)
			w.done <- combineResult{res: r, err: err}
		}
		return
	}
	for i, w := range live {
		if err != nil {
			w.done <- combineResult{err: err}
			continue
		}
		w.done <- combineResult{res: res[i]}
	}
}

func (s *Store) writeAlone(ctx context.Context, tenantID string, it writeItem, origin contact.Origin) (UpsertResult, error) {
	res, err := s.writeContacts(ctx, tenantID, []writeItem{it}, origin, nil)
	if err != nil {
		return UpsertResult{}, err
	}
	return res[0], nil
}
