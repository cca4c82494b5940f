package syncer

import (
	"context"
	"fmt"
	"time"

	"github.com/sfsync/sfsync/internal/salesforce"
)

// Estimated calls of a pass over n records (X4, Y4): REST queries read a
// batch (at most 2,000 records) a call; a Bulk API 2.0 job costs its
// creation, a few status polls and a results page per 50,000 records.
const (
	bulkPageRecords = 50000
	bulkFixedCalls  = 5
)

func restCalls(n int64, batch int) int64 { return (n + int64(batch) - 1) / int64(batch) }
func bulkCalls(n int64) int64            { return bulkFixedCalls + (n+bulkPageRecords-1)/bulkPageRecords }

// planPass estimates the cost of a pass over n records (what), from the
// COUNT() just read and the page sizes, against the calls left today
// under the admin's share of the allocation (the last usage reading),
// and decides how to read: through REST, through Bulk API 2.0 (when
// preferBulk, or when REST would cross the cap and Bulk would not), or
// not now — a *salesforce.BudgetError that pauses the run until the
// calls it needs have freed up. The estimate and the decision are a
// log entry of the run (KindEstimate).
func (e *Engine) planPass(ctx context.Context, s *session, what string, n int64, batch int, preferBulk bool) (bulk bool, err error) {
	rest, blk := restCalls(n, batch), bulkCalls(n)
	budget := s.client.Budget()
	u := s.client.Usage()
	est := fmt.Sprintf("%s of %d records: about %d calls through REST (%d records a call) or %d through Bulk API 2.0", what, n, rest, batch, blk)
	code, decision := "", ""
	bulk = preferBulk
	if u.Max == 0 {
		code = "estimate_no_reading"
		decision = "no API usage reading yet; reading through " + method(bulk)
	} else {
		left := int64(u.Allowed(budget) - u.Used)
		est += fmt.Sprintf("; %d of the %d calls sfsync may use today are left (%d of %d used, share %.0f%%)", max(left, 0), u.Allowed(budget), u.Used, u.Max, budget*100)
		cost := rest
		if bulk {
			cost = blk
		}
		switch {
		case cost <= left:
			code, decision = "estimate_within_budget", "reading through "+method(bulk)
		case !bulk && blk <= left:
			bulk = true
			code, decision = "estimate_bulk_to_stay_within", "reading through Bulk API 2.0 rather than crossing the budget"
		default:
			need := min(rest, blk)
			wait := salesforce.Usage{Used: u.Used + int(need), Max: u.Max, ObservedAt: e.now()}.Until(budget)
			if !wait.After(e.now()) {
				wait = e.now().Add(time.Hour)
			}
			rec := RunRecord{RunID: s.run.ID, Kind: KindEstimate, ReasonCode: "estimate_deferred",
				Reason: est + "; deferred until " + wait.Format(time.RFC3339) + " rather than crossing the budget"}
			if err := e.Store.AddRunRecords(ctx, s.tenantID, []RunRecord{rec}); err != nil {
				return false, err
			}
			return false, &salesforce.BudgetError{Used: u.Used, Max: u.Max, Allowed: u.Allowed(budget), Until: wait}
		}
	}
	rec := RunRecord{RunID: s.run.ID, Kind: KindEstimate, ReasonCode: code, Reason: est + "; " + decision}
	if err := e.Store.AddRunRecords(ctx, s.tenantID, []RunRecord{rec}); err != nil {
		return false, err
	}
	e.log().InfoContext(ctx, "pass planned", "tenant_id", s.tenantID, "run_id", s.run.ID, "what", what, "records", n,
		"rest_calls", rest, "bulk_calls", blk, "bulk", bulk, "decision", code)
	return bulk, nil
}

func method(bulk bool) string {
	if bulk {
		return "Bulk API 2.0"
	}
	return "REST"
}
