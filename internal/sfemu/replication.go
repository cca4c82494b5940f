package sfemu

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The replication API's window rules, as Salesforce documents them:
//
//   - start and end are rounded down to the minute, and both minutes are
//     covered: "if a client application submits a timespan between
//     12:30:15 and 12:35:15 (UTC), then the API retrieves information about
//     items that have changed between 12:30:00 and 12:35:00 (UTC),
//     inclusive" — so a change at 12:35:40 is in that window too. SOAP API
//     Developer Guide, Polling for Changes:
//     https://developer.salesforce.com/docs/atlas.en-us.api.meta/api/polling_for_changes.htm
//   - start must precede end (after rounding), else INVALID_REPLICATION_DATE:
//     https://developer.salesforce.com/docs/atlas.en-us.api.meta/api/sforce_api_calls_getupdated.htm
//     https://developer.salesforce.com/docs/atlas.en-us.api.meta/api/sforce_api_calls_getdeleted.htm
//   - results go back "no more than 30 days previous to the day the call is
//     executed" for getUpdated, 15 days for getDeleted (same pages, and
//     https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_getupdated.htm);
//     a start before that is INVALID_REPLICATION_DATE.
//   - latestDateCovered is at most end; the client passes it as its next
//     start "to capture the changes that started after this date but did
//     not complete before the endDate". Here it is end, or the current
//     minute when end is later: the current minute's changes are answered
//     but the minute is not over, so the next poll covers it again.
//     https://developer.salesforce.com/docs/atlas.en-us.api.meta/api/sforce_api_calls_getupdated_getupdatedresult.htm
//
// Not documented, and chosen here: the error texts, and that a window
// whose end is in the future answers what has happened so far.
const (
	updatedWindowDays = 30
	deletedWindowDays = 15
	maxReplicateIDs   = 600000
)

// replicationWindow is a validated getUpdated / getDeleted window: changes
// stamped in [from, to) are answered, and latest is latestDateCovered.
type replicationWindow struct {
	from, to, latest time.Time
}

// newReplicationWindow applies Salesforce's rules to start and end (as
// parsed, not yet rounded) at time now.
func newReplicationWindow(start, end, now time.Time, deleted bool) (replicationWindow, *apiError) {
	start, end = start.Truncate(time.Minute), end.Truncate(time.Minute)
	if !start.Before(end) {
		return replicationWindow{}, replicationErr("EndDate must chronologically follow the StartDate")
	}
	days := updatedWindowDays
	if deleted {
		days = deletedWindowDays
	}
	today := now.UTC().Truncate(24 * time.Hour)
	if start.Before(today.AddDate(0, 0, -days)) {
		return replicationWindow{}, replicationErr("startDate cannot be more than " + strconv.Itoa(days) + " days ago")
	}
	nowMin := now.Truncate(time.Minute)
	return replicationWindow{from: start, to: end.Add(time.Minute), latest: minTime(end, nowMin)}, nil
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func replicationErr(msg string) *apiError { return plainErr(400, "INVALID_REPLICATION_DATE", msg) }

func parseReplicationDate(name, v string) (time.Time, *apiError) {
	if v == "" {
		return time.Time{}, plainErr(400, "MISSING_ARGUMENT", name+" parameter is required")
	}
	for _, l := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.000-0700", "2006-01-02T15:04:05-0700"} {
		if t, err := time.Parse(l, v); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, replicationErr(name + " parameter must be a valid dateTime with an offset, such as 2024-03-01T00:00:00+00:00 (URL-encode the +)")
}

// handleReplication answers /sobjects/{obj}/updated and /deleted.
func (s *Server) handleReplication(w http.ResponseWriter, c *call, obj *objectDef, deleted bool) {
	if !obj.Replicate {
		writeErrors(w, []*apiError{plainErr(400, "INVALID_TYPE", "sObject type '"+obj.Name+"' is not replicateable")})
		return
	}
	q := c.r.URL.Query()
	start, e := parseReplicationDate("start", q.Get("start"))
	if e != nil {
		writeErrors(w, []*apiError{e})
		return
	}
	end, e := parseReplicationDate("end", q.Get("end"))
	if e != nil {
		writeErrors(w, []*apiError{e})
		return
	}
	now := s.Now()
	win, e := newReplicationWindow(start, end, now, deleted)
	if e != nil {
		writeErrors(w, []*apiError{e})
		return
	}
	latest := win.latest
	if deleted {
		c.org.mu.Lock()
		c.org.purgeLocked(now)
		c.org.mu.Unlock()
	}
	c.org.mu.RLock()
	t := c.org.tables[strings.ToLower(obj.Name)]
	type hit struct {
		id string
		at time.Time
	}
	var hits []hit
	for _, r := range t.recs {
		if r == nil || r.deleted() != deleted {
			continue
		}
		var at time.Time
		if deleted {
			at = time.Unix(r.deletedAt, 0).UTC()
		} else {
			at, _ = r.Value(t.obj.modstampIdx).(time.Time)
		}
		if !at.Before(win.from) && at.Before(win.to) {
			hits = append(hits, hit{r.id, at})
		}
	}
	lastPurge := time.Unix(c.org.lastPurge, 0).UTC()
	c.org.mu.RUnlock()
	if len(hits) > maxReplicateIDs {
		writeErrors(w, []*apiError{plainErr(400, "EXCEEDED_ID_LIMIT", "Too many ids were requested; narrow the start and end dates")})
		return
	}
	slices.SortStableFunc(hits, func(a, b hit) int { return a.at.Compare(b.at) })
	if !deleted {
		ids := make([]string, len(hits))
		for i, h := range hits {
			ids[i] = h.id
		}
		writeRaw(w, 200, orderedJSON{{"ids", ids}, {"latestDateCovered", formatDateTime(latest)}}.marshal())
		return
	}
	recs := make([]orderedJSON, len(hits))
	for i, h := range hits {
		recs[i] = orderedJSON{{"id", h.id}, {"deletedDate", formatDateTime(h.at)}}
	}
	earliest := now.Add(-recycleBinRetention).Truncate(time.Minute)
	if c.org.lastPurge > 0 && lastPurge.After(earliest) {
		earliest = lastPurge.Truncate(time.Minute).Add(time.Minute)
	}
	writeRaw(w, 200, orderedJSON{{"deletedRecords", recs}, {"earliestDateAvailable", formatDateTime(earliest)}, {"latestDateCovered", formatDateTime(latest)}}.marshal())
}
