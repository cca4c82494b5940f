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
