package syncer

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/sfsync/sfsync/internal/salesforce"
	"github.com/sfsync/sfsync/internal/store"
	"github.com/sfsync/sfsync/internal/syncconf"
)

// Health is a tenant's sync health at a glance (issue 17): what the
// Salesforce card says in one line. It is read from the database only, so
// showing it costs no API call.
type Health struct {
	Pulls, Pushes bool // the configuration's directions
	// LastToPlatform and LastToSalesforce are when the last run in each
	// direction that went through (succeeded, or partially failed: its
	// failures count in OpenFailures) finished; zero when none has.
	LastToPlatform, LastToSalesforce time.Time
	// OpenFailures are the records waiting for a retry: Salesforce records
	// to read again and platform contacts Salesforce refused.
	OpenFailures int64
	OpenReview   int64
	// RealTimePull is true when Salesforce's changes arrive as they happen
	// (Change Data Capture, Y1) rather than by the poll every PollEvery.
	RealTimePull bool
	PollEvery    time.Duration
	// APIUsed and APIMax are the org's last usage reading (at APIReadAt);
	// Budget is sfsync's share of APIMax.
	APIUsed, APIMax int64
	APIReadAt       time.Time
	Budget          float64
}

// BudgetUsed is the share (0–1+) of sfsync's budget the org's usage has
// reached, as the client's budget check counts it; 0 before any reading.
func (h Health) BudgetUsed() float64 {
	cap := float64(h.APIMax) * h.Budget
	if cap <= 0 {
		return 0
	}
	return float64(h.APIUsed) / cap
}

// defaultBudget is sfconn's share for a connection that has none stored.
const defaultBudget = 0.5

// Health reads a tenant's sync health.
func (e *Engine) Health(ctx context.Context, tenantID string) (Health, error) {
	h := Health{PollEvery: e.pollInterval()}
	if cfg, _, err := e.CurrentConfig(ctx, tenantID); err == nil {
		h.Pulls, h.Pushes = cfg.PullsFromSalesforce(), cfg.PushesToSalesforce()
	} else if !errors.Is(err, store.ErrNotFound) {
		return h, err
	}
	last, err := e.Store.LastCompleted(ctx, tenantID)
	if err != nil {
		return h, err
	}
	h.LastToPlatform, h.LastToSalesforce = last[DirToPlatform], last[DirToSalesforce]
	pull, push, err := e.Store.OpenFailures(ctx, tenantID)
	if err != nil {
		return h, err
	}
	h.OpenFailures = pull + push
	if h.OpenReview, err = e.CountOpenReview(ctx, tenantID); err != nil {
		return h, err
	}
	rs, err := e.Store.GetRealtimeStream(ctx, tenantID)
	if err != nil {
		return h, err
	}
	h.RealTimePull = rs.Mode == store.StreamRealtime
	c, err := e.Store.GetConnection(ctx, tenantID)
	switch {
	case errors.Is(err, store.ErrNotFound):
	case err != nil:
		return h, err
	default:
		h.APIUsed, h.APIMax, h.APIReadAt, h.Budget = c.APIUsed, c.APIMax, c.APIReadAt, c.APIBudget
		if h.Budget <= 0 {
			h.Budget = defaultBudget
		}
	}
	return h, nil
}

// History is what the sync information page charts: API usage by hour,
// runs and failures by hour, from Since on.
type History struct {
	Since    time.Time
	Usage    []store.APIUsageHour
	Runs     []Run
	Failures []store.FailureCount
}

// maxChartedRuns bounds the runs a chart reads: two weeks of 15-minute
// polls and real-time windows are under 3,000.
const maxChartedRuns = 5000

// History reads a tenant's usage, runs and failures since a time.
func (e *Engine) History(ctx context.Context, tenantID string, since time.Time) (History, error) {
	h := History{Since: since}
	var err error
	if h.Usage, err = e.Store.APIUsageHours(ctx, tenantID, since); err != nil {
		return h, err
	}
	if h.Runs, err = e.Store.RunsSince(ctx, tenantID, since, maxChartedRuns); err != nil {
		return h, err
	}
	h.Failures, err = e.Store.FailuresByHour(ctx, tenantID, since)
	return h, err
}

// Forecast is the day's expected API calls (Y4): the calls made so far
// today and, for each hour left, the average of the same hour over the
// days before.
type Forecast struct {
	SoFar, Rest int64
	// ByHour is the expected calls of each hour left today, from the
	// current one (which counts only what the average adds beyond the
	// calls already made in it).
	ByHour []HourCalls
}

// HourCalls is a number of calls in the hour starting at Hour.
type HourCalls struct {
	Hour  time.Time
	Calls int64
}

// Total is the day's forecast.
func (f Forecast) Total() int64 { return f.SoFar + f.Rest }

// ForecastDay forecasts the calls of the day (in loc) that holds now from
// hourly usage: the average of each hour of the day over up to days
// previous days (hours without a row count as no calls).
func ForecastDay(hours []store.APIUsageHour, now time.Time, loc *time.Location, days int) Forecast {
	now = now.In(loc)
	dayStart := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, loc)
	dayEnd := dayStart.AddDate(0, 0, 1)
	histStart := dayStart.AddDate(0, 0, -days)
	calls := map[int64]int64{}
	for _, h := range hours {
		calls[h.Hour.Unix()] += h.Calls
	}
	var f Forecast
	for _, h := range hours {
		if !h.Hour.Before(dayStart) && h.Hour.Before(dayEnd) {
			f.SoFar += h.Calls
		}
	}
	cur := now.Truncate(time.Hour)
	for t := cur; t.Before(dayEnd); t = t.Add(time.Hour) {
		var sum int64
		n := 0
		for d := 1; d <= days; d++ {
			past := t.AddDate(0, 0, -d)
			if past.Before(histStart) {
				break
			}
			sum += calls[past.Unix()]
			n++
		}
		if n == 0 {
			continue
		}
		expect := (sum + int64(n)/2) / int64(n)
		if t.Equal(cur) {
			expect -= calls[t.Unix()] // the hour under way counts what it made already
			if expect < 0 {
				expect = 0
			}
		}
		f.Rest += expect
		f.ByHour = append(f.ByHour, HourCalls{Hour: t, Calls: expect})
	}
	return f
}

// RetryCheck says, before a retry runs, how many of the failed records it
// would retry have changed since they failed (issue 17): a record whose
// data is as it was when it failed will most likely fail again.
type RetryCheck struct {
	Direction Direction // "" for every failed record (both directions)
	Failed    int       // failed records the retry would run again
	// Changed records were edited after their failure (in Salesforce for
	// the pull, on the platform for the push, or their platform contact);
	// Unchanged were not; Gone were deleted in Salesforce since.
	Changed, Unchanged, Gone int
	// Reasons counts the unchanged records by reason code.
	Reasons map[string]int
	// Checked is how many records were looked at (at most maxRetryCheck);
	// APICalls what asking Salesforce cost.
	Checked  int
	APICalls int64
}

// maxRetryCheck bounds the records a retry check reads from Salesforce
// (idsPerCheck a query: 10 calls at most).
const (
	maxRetryCheck = 2000
	idsPerCheck   = 200
)

// CheckRetry works out a RetryCheck for RetryFailed's arguments.
func (e *Engine) CheckRetry(ctx context.Context, tenantID string, runID int64, reasonCode string) (rc RetryCheck, err error) {
	rc.Reasons = map[string]int{}
	var pulls, pushes []store.FailedAt
	if runID != 0 {
		run, err := e.Store.GetRun(ctx, tenantID, runID)
		if err != nil {
			return rc, err
		}
		rc.Direction = run.Direction
		recs, err := e.Store.RunRecords(ctx, tenantID, runID, KindFailed, reasonCode, 0)
		if err != nil {
			return rc, err
		}
		seen := map[string]bool{}
		for _, r := range recs {
			f := store.FailedAt{SalesforceID: r.SalesforceID, ContactID: r.ContactID, ReasonCode: r.ReasonCode, At: r.Created}
			switch {
			case run.Direction == DirToPlatform && r.SalesforceID != "" && !seen[r.SalesforceID]:
				seen[r.SalesforceID] = true
				pulls = append(pulls, f)
			case run.Direction == DirToSalesforce && r.ContactID != "" && !seen[r.ContactID]:
				seen[r.ContactID] = true
				pushes = append(pushes, f)
			}
		}
		rc.Failed = len(pulls) + len(pushes)
	} else {
		pull, push, err := e.Store.OpenFailures(ctx, tenantID)
		if err != nil {
			return rc, err
		}
		rc.Failed = int(pull + push)
		if pulls, err = e.Store.OpenPullFailures(ctx, tenantID, maxRetryCheck); err != nil {
			return rc, err
		}
		if pushes, err = e.Store.OpenPushFailures(ctx, tenantID, maxRetryCheck-len(pulls)); err != nil {
			return rc, err
		}
	}
	if len(pulls) > maxRetryCheck {
		pulls = pulls[:maxRetryCheck]
	}
	if n := maxRetryCheck - len(pulls); len(pushes) > n {
		pushes = pushes[:n]
	}
	rc.Checked = len(pulls) + len(pushes)
	// The platform side: a contact edited since the failure changed.
	var ids []string
	for _, f := range append(pulls[:len(pulls):len(pulls)], pushes...) {
		if f.ContactID != "" {
			ids = append(ids, f.ContactID)
		}
	}
	edited, err := e.Store.ContactsUpdatedAt(ctx, tenantID, ids)
	if err != nil {
		return rc, err
	}
	contactChanged := func(f store.FailedAt) bool {
		at, ok := edited[f.ContactID]
		return ok && at.After(f.At)
	}
	for _, f := range pushes {
		if contactChanged(f) {
			rc.Changed++
		} else {
			rc.Unchanged++
			rc.Reasons[f.ReasonCode]++
		}
	}
	if len(pulls) == 0 {
		return rc, nil
	}
	// The Salesforce side: the records' SystemModstamp against the time
	// they failed.
	client, err := e.Conn.Client(ctx, tenantID)
	if err != nil {
		return rc, err
	}
	before := client.Calls()
	defer func() { rc.APICalls = client.Calls() - before; e.saveUsage(ctx, tenantID, client) }()
	cur, _, err := e.CurrentConfig(ctx, tenantID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return rc, err
	}
	d, err := e.describe(ctx, tenantID, cur.Object(), client, setupDescribeTTL)
	if err != nil {
		return rc, err
	}
	objects := []*salesforce.SObjectDescribe{d}
	if conv := cur.Choice().ConvertedObject(); conv != "" {
		// The pair: a converted Lead's failed record is its Contact.
		cd, err := e.describe(ctx, tenantID, conv, client, setupDescribeTTL)
		if err != nil {
			return rc, err
		}
		objects = append(objects, cd)
	}
	for start := 0; start < len(pulls); start += idsPerCheck {
		chunk := pulls[start:min(start+idsPerCheck, len(pulls))]
		mod := map[string]time.Time{}
		for i, od := range objects {
			var sfIDs []string
			for _, f := range chunk {
				ofConverted := len(objects) > 1 && objects[1].KeyPrefix != "" && strings.HasPrefix(f.SalesforceID, objects[1].KeyPrefix)
				if ofConverted == (i == 1) {
					sfIDs = append(sfIDs, f.SalesforceID)
				}
			}
			if len(sfIDs) == 0 {
				continue
			}
			q, err := syncconf.NewQuery(od).Select("Id", "SystemModstamp").IDIn(sfIDs).Build()
			if err != nil {
				return rc, err
			}
			it := client.Query(ctx, q, salesforce.QueryOptions{})
			for it.Next() {
				rec := it.Record()
				id, _ := rec["Id"].(string)
				t := parseSFTime(fieldValue(rec, "SystemModstamp"))
				if t.IsZero() {
					t = e.now() // unreadable: counted as changed, so no warning is wrong
				}
				mod[id15(id)] = t
			}
			if err := it.Err(); err != nil {
				return rc, err
			}
		}
		for _, f := range chunk {
			at, ok := mod[id15(f.SalesforceID)]
			switch {
			case !ok:
				rc.Gone++
			// SystemModstamp has whole seconds: a record stamped in the
			// second it failed counts as changed, so no warning is wrong.
			case !at.Before(f.At.Truncate(time.Second)) || contactChanged(f):
				rc.Changed++
			default:
				rc.Unchanged++
				rc.Reasons[f.ReasonCode]++
			}
		}
	}
	return rc, nil
}

// id15 is a Salesforce Id's case-sensitive 15-character form, so an
// 18-character Id and its 15-character spelling compare equal.
func id15(id string) string { return id[:min(15, len(id))] }
