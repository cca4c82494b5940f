package sfemu

import (
	"net/url"
	"slices"
	"testing"
	"time"
)

// replicationIDs calls getUpdated or getDeleted and returns the ids and
// latestDateCovered.
func replicationIDs(t *testing.T, e *env, kind string, start, end time.Time) ([]string, string) {
	t.Helper()
	f := func(t time.Time) string { return url.QueryEscape(t.Format(time.RFC3339)) }
	r := e.do("GET", "sobjects/Contact/"+kind+"/?start="+f(start)+"&end="+f(end), nil)
	wantStatus(t, r, 200)
	var out struct {
		IDs     []string `json:"ids"`
		Deleted []struct {
			ID string `json:"id"`
		} `json:"deletedRecords"`
		Latest string `json:"latestDateCovered"`
	}
	r.json(t, &out)
	for _, d := range out.Deleted {
		out.IDs = append(out.IDs, d.ID)
	}
	return out.IDs, out.Latest
}

// TestGetUpdatedCurrentMinute is the bug of issue 12: a change made in the
// current minute was left out of a window that covers it, so a client that
// resumes from its own end time never saw it. Salesforce rounds start and
// end down to the minute and covers both minutes inclusively ("between
// 12:30:00 and 12:35:00 (UTC), inclusive"; SOAP API Developer Guide,
// Polling for Changes).
func TestGetUpdatedCurrentMinute(t *testing.T) {
	t.Parallel()
	e := setup(t) // 08:00:00
	start := e.srv.Now().Add(-time.Minute)
	e.srv.Advance(30 * time.Second)
	id := e.create(map[string]any{"LastName": "Now"}) // 08:00:30
	e.srv.Advance(10 * time.Second)

	// A poll whose end is the current time, seconds and all: the end
	// minute (08:00) is covered, with the change in it.
	ids, latest := replicationIDs(t, e, "updated", start, e.srv.Now())
	if !slices.Contains(ids, id) {
		t.Errorf("end = now (08:00:40): got ids %v, want %s changed at 08:00:30", ids, id)
	}
	if latest != "2026-03-01T08:00:00.000+0000" {
		t.Errorf("latestDateCovered: got %s, want 2026-03-01T08:00:00.000+0000", latest)
	}

	// A client whose clock runs ahead asks up to 08:01:10, then resumes
	// from that end: between the two polls it must see the change.
	clientEnd := e.srv.Now().Add(30 * time.Second)
	first, _ := replicationIDs(t, e, "updated", start, clientEnd)
	e.srv.Advance(2 * time.Minute)
	second, _ := replicationIDs(t, e, "updated", clientEnd, e.srv.Now())
	if !slices.Contains(first, id) && !slices.Contains(second, id) {
		t.Errorf("resuming from the client's end time: got %v then %v, want %s in one of them", first, second, id)
	}

	// The same for deletions.
	e.srv.Advance(20 * time.Second)
	delStart := e.srv.Now()
	if r := e.do("DELETE", "sobjects/Contact/"+id, nil); r.status != 204 {
		t.Fatalf("delete: got %d %s", r.status, r.body)
	}
	deleted, _ := replicationIDs(t, e, "deleted", delStart.Add(-time.Minute), e.srv.Now())
	if !slices.Contains(deleted, id) {
		t.Errorf("getDeleted, end = now: got %v, want %s deleted in the current minute", deleted, id)
	}
}

func TestReplicationWindow(t *testing.T) {
	t.Parallel()
	at := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v.UTC()
	}
	now := at("2026-03-31T12:35:40Z")
	tests := []struct {
		name             string
		start, end       string
		deleted          bool
		from, to, latest string // "" when the window is refused
	}{
		{name: "seconds ignored, end minute covered", start: "2026-03-31T12:30:15Z", end: "2026-03-31T12:33:15Z",
			from: "2026-03-31T12:30:00Z", to: "2026-03-31T12:34:00Z", latest: "2026-03-31T12:33:00Z"},
		{name: "end now: the current minute is answered, and covered again next time", start: "2026-03-31T12:30:00Z", end: "2026-03-31T12:35:40Z",
			from: "2026-03-31T12:30:00Z", to: "2026-03-31T12:36:00Z", latest: "2026-03-31T12:35:00Z"},
		{name: "end in the future", start: "2026-03-31T12:30:00Z", end: "2026-04-01T00:00:00Z",
			from: "2026-03-31T12:30:00Z", to: "2026-04-01T00:01:00Z", latest: "2026-03-31T12:35:00Z"},
		{name: "an offset is converted", start: "2026-03-31T14:30:59+02:00", end: "2026-03-31T12:31:00Z",
			from: "2026-03-31T12:30:00Z", to: "2026-03-31T12:32:00Z", latest: "2026-03-31T12:31:00Z"},
		{name: "start and end in the same minute", start: "2026-03-31T12:30:00Z", end: "2026-03-31T12:30:59Z"},
		{name: "end before start", start: "2026-03-31T12:30:00Z", end: "2026-03-31T12:00:00Z"},
		// 30 days before the day of the call, for getUpdated; 15 for getDeleted.
		{name: "30 days before today", start: "2026-03-01T00:00:00Z", end: "2026-03-02T00:00:00Z",
			from: "2026-03-01T00:00:00Z", to: "2026-03-02T00:01:00Z", latest: "2026-03-02T00:00:00Z"},
		{name: "just past 30 days", start: "2026-02-28T23:59:00Z", end: "2026-03-02T00:00:00Z"},
		{name: "15 days before today", start: "2026-03-16T00:00:00Z", end: "2026-03-17T00:00:00Z", deleted: true,
			from: "2026-03-16T00:00:00Z", to: "2026-03-17T00:01:00Z", latest: "2026-03-17T00:00:00Z"},
		{name: "just past 15 days", start: "2026-03-15T23:59:00Z", end: "2026-03-17T00:00:00Z", deleted: true},
	}
	for _, tt := range tests {
		w, e := newReplicationWindow(at(tt.start), at(tt.end), now, tt.deleted)
		if tt.from == "" {
			if e == nil || e.Code != "INVALID_REPLICATION_DATE" || e.Status != 400 {
				t.Errorf("%s: got %+v, %v; want 400 INVALID_REPLICATION_DATE", tt.name, w, e)
			}
			continue
		}
		if e != nil {
			t.Errorf("%s: got error %v", tt.name, e)
			continue
		}
		if !w.from.Equal(at(tt.from)) || !w.to.Equal(at(tt.to)) || !w.latest.Equal(at(tt.latest)) {
			t.Errorf("%s: got [%s, %s) latest %s, want [%s, %s) latest %s", tt.name, w.from.Format(time.RFC3339), w.to.Format(time.RFC3339),
				w.latest.Format(time.RFC3339), tt.from, tt.to, tt.latest)
		}
	}
}
