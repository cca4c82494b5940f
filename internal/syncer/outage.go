package syncer

import (
	"context"
	"errors"
	"time"

	"github.com/sfsync/sfsync/internal/salesforce"
	"github.com/sfsync/sfsync/internal/store"
)

// OutageWarnAfter is how long Salesforce must have been unreachable for
// the one warning of an outage (issue 13 item 6).
const OutageWarnAfter = time.Minute

// OutageShowAfter is how long Salesforce must have been unreachable for
// the Salesforce card to say so.
const OutageShowAfter = 5 * time.Minute

// unreachable reports an error that means Salesforce gave no usable
// answer: the network failed or it answered 5xx, after the client's own
// retries. The process stopping or the database being busy is not one.
func unreachable(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, store.ErrBusy) {
		return false
	}
	var lim *salesforce.LimitError
	var bud *salesforce.BudgetError
	if errors.As(err, &lim) || errors.As(err, &bud) {
		return false // Salesforce answered
	}
	return salesforce.Retryable(err)
}

// observeSalesforce keeps the tenant's outage state from a run's outcome:
// a failure for want of an answer opens (or continues) an outage, which
// is logged once as a warning when it has lasted OutageWarnAfter — in the
// service's log and in the message of the run it holds up; an answer
// ends it, logged once if it had been warned about. answered is false
// when the outcome tells nothing (another kind of failure).
func (e *Engine) observeSalesforce(ctx context.Context, tenantID string, runID int64, runErr error) {
	// A slice that ends to go on in the next job has had its answers.
	answered := runErr == nil || errors.Is(runErr, ErrContinue)
	if !answered {
		if _, _, paused := e.pauseFor(runErr); paused {
			answered = true
		}
	}
	down := unreachable(runErr)
	if !answered && !down {
		return
	}
	o, open, err := e.Store.GetOutage(ctx, tenantID)
	if err != nil {
		e.log().WarnContext(ctx, "reading the Salesforce outage state failed", "tenant_id", tenantID, "error", err)
		return
	}
	now := e.now()
	if answered {
		if !open {
			return
		}
		if err := e.Store.EndOutage(ctx, tenantID); err != nil {
			e.log().WarnContext(ctx, "ending the Salesforce outage state failed", "tenant_id", tenantID, "error", err)
			return
		}
		if o.Warned {
			e.log().InfoContext(ctx, "Salesforce is reachable again", "tenant_id", tenantID,
				"unreachable_since", o.Since, "outage", now.Sub(o.Since).Round(time.Second).String())
			if runID != 0 {
				msg := "Salesforce was unreachable from " + o.Since.Format(time.RFC3339) + " to " + now.Format(time.RFC3339)
				if err := e.Store.UpdateRun(ctx, tenantID, runID, RunProgress{Message: &msg}); err != nil {
					e.log().WarnContext(ctx, "noting the outage's end on the run failed", "tenant_id", tenantID, "run_id", runID, "error", err)
				}
			}
		}
		return
	}
	if !open {
		o = store.Outage{Since: now}
	} else if !o.Warned && now.Sub(o.Since) >= OutageWarnAfter {
		o.Warned = true
		e.log().WarnContext(ctx, "Salesforce unreachable", "tenant_id", tenantID, "since", o.Since,
			"for", now.Sub(o.Since).Round(time.Second).String(), "error", runErr)
		if runID != 0 {
			msg := "Salesforce unreachable since " + o.Since.Format(time.RFC3339) + "; the run resumes by itself when it answers"
			if err := e.Store.UpdateRun(ctx, tenantID, runID, RunProgress{Message: &msg}); err != nil {
				e.log().WarnContext(ctx, "noting the outage on the run failed", "tenant_id", tenantID, "run_id", runID, "error", err)
			}
		}
	} else {
		return
	}
	if err := e.Store.SaveOutage(ctx, tenantID, o); err != nil {
		e.log().WarnContext(ctx, "storing the Salesforce outage state failed", "tenant_id", tenantID, "error", err)
	}
}

// Outage returns since when Salesforce has been unreachable for the
// tenant, if it has been for OutageShowAfter or longer.
func (e *Engine) Outage(ctx context.Context, tenantID string) (since time.Time, ok bool, err error) {
	o, open, err := e.Store.GetOutage(ctx, tenantID)
	if err != nil || !open || e.now().Sub(o.Since) < OutageShowAfter {
		return time.Time{}, false, err
	}
	return o.Since, true, nil
}
