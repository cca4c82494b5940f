package syncer

import (
	"time"

	"github.com/sfsync/sfsync/internal/store"
)

// WithoutCensus makes e skip the identity census, for the benchmark that
// measures what the census costs against the same engine without it
// (BenchmarkCensusCost). Never outside tests: the census is what keeps a
// shared identity value from being guessed.
func WithoutCensus(e *Engine) { e.noCensus = true }

// FillWait is e.fillWait: how long a push waits for these entries.
func FillWait(e *Engine, entries []store.OutboxEntry) time.Duration { return e.fillWait(entries) }

// Speculation returns how many pages e decided while the page before was
// being written, and how many of those it decided again.
func Speculation(e *Engine) (speculated, redecided int64) {
	return e.speculated.Load(), e.redecided.Load()
}

// WaitForNextPage makes e's pipeline wait for the next page, and decide it,
// before writing one: every page after the first is decided speculatively
// on reads taken before the write of the page before it.
func WaitForNextPage(e *Engine) { e.waitNext = true }
