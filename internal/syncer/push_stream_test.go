package syncer_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/sfsync/sfsync/internal/contact"
	"github.com/sfsync/sfsync/internal/store"
	"github.com/sfsync/sfsync/internal/syncer"
)

// TestPushBacklogOfAStreamGoesAtOnce: a steady stream of single-contact
// changes that the push fell two seconds behind on (2,500 contacts, one
// a millisecond, in writes of up to 256 as the store's group commit
// makes them) reaches the bulk threshold, and is pushed at once. Before,
// a backlog above the threshold waited until no change had come for two
// seconds, which a stream never does, so every change waited up to 30 s
// (BenchmarkProductPushLatency at 1,000 changes/s: p50 17 s). The same
// backlog landing as an import's request (2,500 at once, one
// transaction) still waits for the import's next request.
func TestPushBacklogOfAStreamGoesAtOnce(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	e := &syncer.Engine{PushCoalesce: syncer.DefaultPushCoalesce, Now: func() time.Time { return now }}
	const n = 2500
	entry := func(i int, at time.Time) store.OutboxEntry {
		return store.OutboxEntry{ID: int64(i + 1), ContactID: fmt.Sprintf("c%05d", i), Op: store.OpUpdate, Origin: contact.OriginAPI, Created: at}
	}
	var stream, imported []store.OutboxEntry
	for i := range n {
		// Group commits of up to 256: the writes' times are those of
		// their first change.
		at := now.Add(-time.Duration(n-i) * time.Millisecond)
		stream = append(stream, entry(i, at.Add(-time.Duration(i%256)*time.Millisecond)))
		imported = append(imported, entry(i, now.Add(-100*time.Millisecond)))
	}
	if d := syncer.FillWait(e, stream); d != 0 {
		t.Errorf("a stream's backlog of %d contacts waits %s, want 0 (pushed at once)", n, d)
	}
	if d := syncer.FillWait(e, imported); d <= 0 {
		t.Errorf("an import's request of %d contacts waits %s, want a wait for the next request", n, d)
	}
}
