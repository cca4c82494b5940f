package salesforce

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sfsync/sfsync/internal/sfapi"
)

// bulkHandler serves one query job: InProgress on the first status poll,
// then finalState; results are rows CSV pages with locators "p1", "p2", …
// If dropAt > 0, the first request for that page's body is cut after its
// dropAt-th row.
type bulkHandler struct {
	t          *testing.T
	pages      [][]string // CSV lines per page, without header
	header     string
	finalState string
	polls      atomic.Int32
	fetches    atomic.Int32
	dropPage   int
	dropAt     int
	dropped    atomic.Bool
	// truncate makes the drop a clean end of body (Content-Length of the
	// rows sent) instead of a broken connection.
	truncate bool
	// waitAhead makes the first page stop after its first row until the
	// second page is requested (at most two seconds); overlapped says
	// whether it was.
	waitAhead  bool
	overlapped atomic.Bool
}

func (h *bulkHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	base := sfapi.VersionPath + "/jobs/query"
	switch {
	case r.Method == http.MethodPost && r.URL.Path == base:
		var body map[string]string
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		if body["operation"] != "query" || body["contentType"] != "CSV" || !strings.HasPrefix(body["query"], "SELECT") {
			h.t.Errorf("create body: got %v", body)
		}
		writeJSON(w, 200, map[string]any{"id": "750R0000000zw4yIAA", "operation": "query", "object": "Contact", "state": "UploadComplete"})
	case r.Method == http.MethodGet && r.URL.Path == base+"/750R0000000zw4yIAA":
		state := "InProgress"
		if h.polls.Add(1) >= 2 {
			state = h.finalState
		}
		writeJSON(w, 200, map[string]any{"id": "750R0000000zw4yIAA", "state": state, "errorMessage": "boom"})
	case r.Method == http.MethodGet && r.URL.Path == base+"/750R0000000zw4yIAA/results":
		h.fetches.Add(1)
		if got := r.Header.Get("Accept"); got != "text/csv" {
			h.t.Errorf("Accept: got %q, want text/csv", got)
		}
		if got := r.URL.Query().Get("maxRecords"); got != "3" {
			h.t.Errorf("maxRecords: got %q, want 3", got)
		}
		page := 0
		if loc := r.URL.Query().Get("locator"); loc != "" {
			page, _ = strconv.Atoi(strings.TrimPrefix(loc, "p"))
		}
		next := "null"
		if page+1 < len(h.pages) {
			next = fmt.Sprintf("p%d", page+1)
		}
		w.Header().Set("Sforce-Locator", next)
		w.Header().Set("Sforce-NumberOfRecords", strconv.Itoa(len(h.pages[page])))
		w.Header().Set("Content-Type", "text/csv")
		if h.truncate && h.dropAt > 0 && page == h.dropPage && !h.dropped.Swap(true) {
			body := h.header + "\n" + strings.Join(h.pages[page][:h.dropAt], "\n") + "\n"
			w.Header().Set("Content-Length", strconv.Itoa(len(body)))
			io.WriteString(w, body)
			return
		}
		w.WriteHeader(200)
		io.WriteString(w, h.header+"\n")
		for i, line := range h.pages[page] {
			if h.waitAhead && page == 0 && i == 1 {
				w.(http.Flusher).Flush()
				for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline) && h.fetches.Load() < 2; {
					time.Sleep(5 * time.Millisecond)
				}
				h.overlapped.Store(h.fetches.Load() >= 2)
			}
			if h.dropAt > 0 && page == h.dropPage && i == h.dropAt && !h.dropped.Swap(true) {
				w.(http.Flusher).Flush()
				dropConnection(h.t, w)
				return
			}
			io.WriteString(w, line+"\n")
		}
	default:
		h.t.Errorf("unexpected %s %s", r.Method, r.URL.Path)
		w.WriteHeader(404)
	}
}

func TestBulkQueryStreamsPages(t *testing.T) {
	t.Parallel()
	h := &bulkHandler{t: t, finalState: BulkJobComplete, header: `"Id","LastName","Description","Account.Name"`,
		pages: [][]string{
			{`"003000000000001AAA","Chen","line1` + "\n" + `line2","Acme, Inc."`, `"003000000000002AAA","O""Brien","",""`, `"003000000000003AAA","Lin","x","y"`},
			{`"003000000000004AAA","D4","",""`, `"003000000000005AAA","D5","",""`, `"003000000000006AAA","D6","",""`},
			{`"003000000000007AAA","D7","",""`},
		}}
	c, _ := setup(t, h)
	rows, err := c.BulkQuery(t.Context(), "SELECT Id, LastName, Description, Account.Name FROM Contact", BulkQueryOptions{MaxRecords: 3})
	if err != nil {
		t.Fatalf("BulkQuery: %v", err)
	}
	defer rows.Close()
	var got []Record
	for rows.Next() {
		got = append(got, rows.Record())
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("Err: %v", err)
	}
	if len(got) != 7 || rows.Rows() != 7 || rows.Pages() != 3 || h.fetches.Load() != 3 {
		t.Fatalf("got %d records (%d rows, %d pages, %d fetches), want 7, 7, 3, 3", len(got), rows.Rows(), rows.Pages(), h.fetches.Load())
	}
	if fmt.Sprint(rows.Columns()) != "[Id LastName Description Account.Name]" {
		t.Errorf("Columns: got %v", rows.Columns())
	}
	if got[0]["Description"] != "line1\nline2" || got[0]["Account.Name"] != "Acme, Inc." {
		t.Errorf("record 0: got %v, want multi-line description and comma in name", got[0])
	}
	if got[1]["LastName"] != `O"Brien` || got[1]["Description"] != nil {
		t.Errorf("record 1: got %v, want O\"Brien and nil description", got[1])
	}
	if got[6]["Id"] != "003000000000007AAA" {
		t.Errorf("record 6 Id: got %v", got[6]["Id"])
	}
	if h.polls.Load() != 2 {
		t.Errorf("status polls: got %d, want 2", h.polls.Load())
	}
}

// The next results page is requested as soon as the current page's
// headers name it, so the server prepares it while this one is read; the
// calls are the same.
func TestBulkQueryRequestsNextPageAhead(t *testing.T) {
	t.Parallel()
	h := &bulkHandler{t: t, finalState: BulkJobComplete, header: `"Id"`, waitAhead: true,
		pages: [][]string{{`"a1"`, `"a2"`, `"a3"`}, {`"b1"`, `"b2"`, `"b3"`}, {`"c1"`}}}
	c, _ := setup(t, h)
	rows, err := c.BulkQuery(t.Context(), "SELECT Id FROM Contact", BulkQueryOptions{MaxRecords: 3})
	if err != nil {
		t.Fatalf("BulkQuery: %v", err)
	}
	var ids []string
	for rec, err := range rows.All() {
		if err != nil {
			t.Fatalf("row error: %v", err)
		}
		ids = append(ids, rec["Id"].(string))
	}
	if got := strings.Join(ids, ","); got != "a1,a2,a3,b1,b2,b3,c1" || h.fetches.Load() != 3 {
		t.Errorf("ids %s in %d fetches, want a1,a2,a3,b1,b2,b3,c1 in 3", got, h.fetches.Load())
	}
	if !h.overlapped.Load() {
		t.Errorf("the second page was not requested while the first was read")
	}
}

// Closed before the end, with a page requested ahead: nothing leaks or
// blocks, and the answer ahead is released.
func TestBulkQueryCloseWithPageAhead(t *testing.T) {
	t.Parallel()
	h := &bulkHandler{t: t, finalState: BulkJobComplete, header: `"Id"`,
		pages: [][]string{{`"a1"`, `"a2"`, `"a3"`}, {`"b1"`, `"b2"`, `"b3"`}, {`"c1"`}}}
	c, _ := setup(t, h)
	rows, err := c.BulkQuery(t.Context(), "SELECT Id FROM Contact", BulkQueryOptions{MaxRecords: 3})
	if err != nil {
		t.Fatalf("BulkQuery: %v", err)
	}
	if !rows.Next() || rows.Row()[0] != "a1" {
		t.Fatalf("first row: %v %v", rows.Row(), rows.Err())
	}
	if err := rows.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if rows.Next() {
		t.Errorf("Next after Close returned a row")
	}
}

func TestBulkQueryRefetchesDroppedPage(t *testing.T) {
	t.Parallel()
	h := &bulkHandler{t: t, finalState: BulkJobComplete, header: `"Id"`, dropPage: 1, dropAt: 2,
		pages: [][]string{{`"a1"`, `"a2"`, `"a3"`}, {`"b1"`, `"b2"`, `"b3"`}, {`"c1"`}}}
	c, _ := setup(t, h)
	rows, err := c.BulkQuery(t.Context(), "SELECT Id FROM Contact", BulkQueryOptions{MaxRecords: 3})
	if err != nil {
		t.Fatalf("BulkQuery: %v", err)
	}
	var ids []string
	for rec, err := range rows.All() {
		if err != nil {
			t.Fatalf("row error: %v", err)
		}
		ids = append(ids, rec["Id"].(string))
	}
	if got := strings.Join(ids, ","); got != "a1,a2,a3,b1,b2,b3,c1" {
		t.Errorf("ids: got %s, want a1,a2,a3,b1,b2,b3,c1 (no duplicates, none lost)", got)
	}
	if !h.dropped.Load() || h.fetches.Load() != 4 {
		t.Errorf("dropped %v, fetches %d, want a drop and 4 fetches", h.dropped.Load(), h.fetches.Load())
	}
}

func TestBulkQueryRefetchesShortPage(t *testing.T) {
	t.Parallel()
	h := &bulkHandler{t: t, finalState: BulkJobComplete, header: `"Id"`, dropPage: 0, dropAt: 1, truncate: true,
		pages: [][]string{{`"a1"`, `"a2"`, `"a3"`}, {`"b1"`}}}
	c, _ := setup(t, h)
	rows, err := c.BulkQuery(t.Context(), "SELECT Id FROM Contact", BulkQueryOptions{MaxRecords: 3})
	if err != nil {
		t.Fatalf("BulkQuery: %v", err)
	}
	var ids []string
	for rec, err := range rows.All() {
		if err != nil {
			t.Fatalf("row error: %v", err)
		}
		ids = append(ids, rec["Id"].(string))
	}
	if got := strings.Join(ids, ","); got != "a1,a2,a3,b1" {
		t.Errorf("ids: got %s, want a1,a2,a3,b1 (a short page is fetched again)", got)
	}
	if !h.dropped.Load() || h.fetches.Load() != 3 {
		t.Errorf("truncated %v, fetches %d, want a truncation and 3 fetches", h.dropped.Load(), h.fetches.Load())
	}
}

func TestBulkQueryFailedJob(t *testing.T) {
	t.Parallel()
	h := &bulkHandler{t: t, finalState: BulkFailed}
	c, _ := setup(t, h)
	_, err := c.BulkQuery(t.Context(), "SELECT Id FROM Contact", BulkQueryOptions{})
	var je *BulkJobError
	if !errors.As(err, &je) || je.State != BulkFailed || je.Message != "boom" || je.JobID != "750R0000000zw4yIAA" {
		t.Errorf("got %v, want *BulkJobError Failed boom", err)
	}
}
