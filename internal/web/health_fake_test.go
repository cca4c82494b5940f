package web

import (
	"context"
	"time"

	"github.com/sfsync/sfsync/internal/store"
	"github.com/sfsync/sfsync/internal/syncer"
)

// Health reads the fake's runs and review items like the real engine reads
// its tables: the last success per direction, the failed records of the
// newest run, and a usage reading of 1,234 of 15,000.
func (e *fakeEngine) Health(ctx context.Context, tenantID string) (syncer.Health, error) {
	h := syncer.Health{PollEvery: 15 * time.Minute, APIUsed: 1234, APIMax: 15000, Budget: 0.5}
	if cfg, _, err := e.CurrentConfig(ctx, tenantID); err == nil {
		h.Pulls, h.Pushes = cfg.PullsFromSalesforce(), cfg.PushesToSalesforce()
	}
	e.mu.Lock()
	for _, r := range e.runs[tenantID] {
		if (r.Status == syncer.StatusSucceeded || r.Status == syncer.StatusPartiallyFailed) && r.FinishedAt != nil {
			if r.Direction == syncer.DirToPlatform && r.FinishedAt.After(h.LastToPlatform) {
				h.LastToPlatform = *r.FinishedAt
			}
			if r.Direction == syncer.DirToSalesforce && r.FinishedAt.After(h.LastToSalesforce) {
				h.LastToSalesforce = *r.FinishedAt
			}
		}
		for _, rec := range e.records[r.ID] {
			if rec.Kind == syncer.KindFailed {
				h.OpenFailures++
			}
		}
	}
	e.mu.Unlock()
	var err error
	h.OpenReview, err = e.CountOpenReview(ctx, tenantID)
	return h, err
}

func (e *fakeEngine) History(ctx context.Context, tenantID string, since time.Time) (syncer.History, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	h := syncer.History{Since: since}
	for _, u := range e.usage[tenantID] {
		if !u.Hour.Before(since) {
			h.Usage = append(h.Usage, u)
		}
	}
	for _, r := range e.runs[tenantID] {
		if r.StartedAt.Before(since) {
			continue
		}
		h.Runs = append(h.Runs, r)
		counts := map[string]int64{}
		for _, rec := range e.records[r.ID] {
			if rec.Kind == syncer.KindFailed {
				counts[rec.ReasonCode]++
			}
		}
		for code, n := range counts {
			h.Failures = append(h.Failures, store.FailureCount{Hour: r.StartedAt.Truncate(time.Hour), ReasonCode: code, Count: n})
		}
	}
	return h, nil
}

// CheckRetry answers what the test set in retryCheck, or every failed
// record of the run unchanged.
func (e *fakeEngine) CheckRetry(ctx context.Context, tenantID string, runID int64, reasonCode string) (syncer.RetryCheck, error) {
	e.call("CheckRetry", tenantID)
	e.mu.Lock()
	rc, ok := e.retryCheck[tenantID]
	e.mu.Unlock()
	if ok {
		return rc, nil
	}
	rc = syncer.RetryCheck{Reasons: map[string]int{}}
	if runID != 0 {
		run, err := e.GetRun(ctx, tenantID, runID)
		if err != nil {
			return rc, err
		}
		rc.Direction = run.Direction
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, r := range e.runs[tenantID] {
		if runID != 0 && r.ID != runID {
			continue
		}
		for _, rec := range e.records[r.ID] {
			if rec.Kind == syncer.KindFailed && (reasonCode == "" || rec.ReasonCode == reasonCode) {
				rc.Failed++
				rc.Unchanged++
				rc.Reasons[rec.ReasonCode]++
			}
		}
	}
	rc.Checked = rc.Failed
	return rc, nil
}
