package salesforce

import (
	"strconv"
	"strings"
	"sync"
	"time"
)

// Usage is the org's API usage as last reported by Salesforce in the
// Sforce-Limit-Info response header (api-usage=Used/Max), adjusted by the
// calls this Client sent since.
type Usage struct {
	Used int // calls in the org's rolling 24 h window, all clients of the org
	Max  int // the org's daily allocation; 0 until the first reading
	// ObservedAt is when the last reading arrived.
	ObservedAt time.Time
}

// Allowed returns how many of Max calls sfsync may use under budget share b.
func (u Usage) Allowed(b float64) int { return int(float64(u.Max) * b) }

// Until estimates when usage will drop below the budget share b, or returns
// the zero time if it is below already.
//
// Salesforce counts calls over a rolling 24 h window, and the header gives
// only the total. Without the times of other clients' calls, the estimate
// assumes the Used calls were spread evenly over the 24 h before ObservedAt,
// so they leave the window at Used/24h per hour; freeing Used-Allowed+1 calls
// takes 24h·(Used-Allowed+1)/Used. It never exceeds ObservedAt+24h, by which
// time every counted call has left the window. The estimate is optimistic
// for bursty usage (for instance, a large sync just before): once Until has
// passed the Client lets one call through, whose response carries a fresh
// reading, and if usage is still too high a new Until is computed from it.
func (u Usage) Until(b float64) time.Time {
	allowed := u.Allowed(b)
	if u.Max == 0 || u.Used < allowed {
		return time.Time{}
	}
	if allowed <= 0 || u.Used <= 0 {
		return u.ObservedAt.Add(24 * time.Hour)
	}
	free := u.Used - allowed + 1
	wait := time.Duration(float64(24*time.Hour) * float64(free) / float64(u.Used))
	return u.ObservedAt.Add(min(wait, 24*time.Hour))
}

// Usage returns the last API usage reading (zero Max if none yet).
func (c *Client) Usage() Usage { return c.usage.snapshot() }

// Budget returns the share of the org's daily allocation this Client may use.
func (c *Client) Budget() float64 { return c.budget }

// SetUsage seeds the usage reading, e.g. from a previous run's last reading,
// so that a new Client starts out respecting a spent budget.
func (c *Client) SetUsage(u Usage) {
	c.usage.mu.Lock()
	defer c.usage.mu.Unlock()
	c.usage.u = u
}

type usageTracker struct {
	mu sync.Mutex
	u  Usage
}

func (t *usageTracker) snapshot() Usage {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.u
}

// check returns a *BudgetError if the budget is spent and its estimated
// Until has not yet passed.
func (t *usageTracker) check(now time.Time, budget float64) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	until := t.u.Until(budget)
	if until.IsZero() || !now.Before(until) {
		return nil
	}
	return &BudgetError{Used: t.u.Used, Max: t.u.Max, Allowed: t.u.Allowed(budget), Until: until}
}

// spend counts a call about to be sent, so concurrent callers see it before
// Salesforce's next reading arrives.
func (t *usageTracker) spend() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.u.Max > 0 {
		t.u.Used++
	}
}

// record stores a Sforce-Limit-Info reading, e.g.
// "api-usage=18/5000" or "api-usage=25/5000; per-app-api-usage=17/250(appName=x)".
func (t *usageTracker) record(header string, now time.Time) {
	used, max, ok := parseLimitInfo(header)
	if !ok {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.u = Usage{Used: used, Max: max, ObservedAt: now}
}

func parseLimitInfo(h string) (used, max int, ok bool) {
	for part := range strings.SplitSeq(h, ";") {
		k, v, found := strings.Cut(strings.TrimSpace(part), "=")
		if !found || !strings.EqualFold(k, "api-usage") {
			continue
		}
		a, b, found := strings.Cut(v, "/")
		if !found {
			return 0, 0, false
		}
		used, err1 := strconv.Atoi(strings.TrimSpace(a))
		max, err2 := strconv.Atoi(strings.TrimSpace(b))
		if err1 != nil || err2 != nil || used < 0 || max <= 0 {
			return 0, 0, false
		}
		return used, max, true
	}
	return 0, 0, false
}
