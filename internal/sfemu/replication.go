package sfemu

import (
	"net/http"
	"slices"
	"strings"
	"time"
)

const (
	updatedWindow   = 30 * 24 * time.Hour
	maxReplicateIDs = 600000
)

func replicationErr(msg string) *apiError { return plainErr(400, "INVALID_REPLICATION_DATE", msg) }

func parseReplicationDate(name, v string) (time.Time, *apiError) {
	if v == "" {
		return time.Time{}, plainErr(400, "MISSING_ARGUMENT", name+" parameter is required")
	}
	for _, l := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.000-0700", "2006-01-02T15:04:05-0700"} {
		if t, err := time.Parse(l, v); err == nil {
			return t.UTC().Truncate(time.Minute), nil
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
	if !end.After(start) {
		writeErrors(w, []*apiError{replicationErr("EndDate must chronologically follow the StartDate")})
		return
	}
	window := updatedWindow
	if deleted {
		window = recycleBinRetention
	}
	if start.Before(now.Add(-window).Truncate(time.Minute)) {
		writeErrors(w, []*apiError{replicationErr("startDate cannot be more than " + map[bool]string{false: "30", true: "15"}[deleted] + " days ago")})
		return
	}
	latest := end
	if nowMin := now.Truncate(time.Minute); nowMin.Before(latest) {
		latest = nowMin
	}
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
		if !at.Before(start) && at.Before(latest) {
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
