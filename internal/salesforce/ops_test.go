package salesforce

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sfsync/sfsync/internal/sfapi"
)

func TestParseLimitInfo(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in         string
		used, max  int
		wantParsed bool
	}{
		{"api-usage=18/5000", 18, 5000, true},
		{"api-usage=25/5000; per-app-api-usage=17/250(appName=sample-connected-app)", 25, 5000, true},
		{"per-app-api-usage=17/250(appName=x); api-usage=7/100", 7, 100, true},
		{"", 0, 0, false},
		{"api-usage=abc/100", 0, 0, false},
		{"api-usage=5/0", 0, 0, false},
	}
	for _, tt := range tests {
		used, max, ok := parseLimitInfo(tt.in)
		if used != tt.used || max != tt.max || ok != tt.wantParsed {
			t.Errorf("parseLimitInfo(%q): got (%d, %d, %v), want (%d, %d, %v)", tt.in, used, max, ok, tt.used, tt.max, tt.wantParsed)
		}
	}
}

func TestUsageUntil(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		u      Usage
		budget float64
		want   time.Time
	}{
		{Usage{Used: 49, Max: 100, ObservedAt: at}, 0.5, time.Time{}},
		{Usage{Used: 50, Max: 100, ObservedAt: at}, 0.5, at.Add(24 * time.Hour / 50)},
		{Usage{Used: 100, Max: 100, ObservedAt: at}, 0.5, at.Add(24 * time.Hour * 51 / 100)},
		{Usage{Used: 3, Max: 1, ObservedAt: at}, 0.5, at.Add(24 * time.Hour)},
		{Usage{}, 0.5, time.Time{}},
	}
	for _, tt := range tests {
		if got := tt.u.Until(tt.budget); !got.Equal(tt.want) {
			t.Errorf("%+v.Until(%v): got %v, want %v", tt.u, tt.budget, got, tt.want)
		}
	}
}

func TestBudgetBlocksWithoutCalling(t *testing.T) {
	t.Parallel()
	var n atomic.Int32
	var used atomic.Int32
	used.Store(48)
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	var clockMu sync.Mutex
	c, _ := setup(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		w.Header().Set("Sforce-Limit-Info", fmt.Sprintf("api-usage=%d/100", used.Add(1)))
		writeJSON(w, 200, map[string]any{})
	}), func(o *Options) {
		o.Now = func() time.Time { clockMu.Lock(); defer clockMu.Unlock(); return now }
	})
	ctx := t.Context()
	for i := range 2 { // usage 49, then 50 = the budget (50% of 100)
		if _, err := c.Limits(ctx); err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
	}
	if u := c.Usage(); u.Used != 50 || u.Max != 100 || !u.ObservedAt.Equal(now) {
		t.Errorf("Usage: got %+v, want 50/100 at %v", u, now)
	}
	err := c.CheckAPIAccess(ctx)
	var be *BudgetError
	if !errors.As(err, &be) {
		t.Fatalf("got %v, want *BudgetError", err)
	}
	wantUntil := now.Add(24 * time.Hour / 50)
	if be.Used != 50 || be.Max != 100 || be.Allowed != 50 || !be.Until.Equal(wantUntil) {
		t.Errorf("BudgetError: got %+v, want used 50 max 100 allowed 50 until %v", be, wantUntil)
	}
	if !strings.Contains(be.Error(), "budget spent until 2026-01-01T12:28:48Z") {
		t.Errorf("message: got %q, want it to name the time", be.Error())
	}
	if n.Load() != 2 || c.Calls() != 2 {
		t.Errorf("requests: got %d (Calls %d), want 2: the blocked call must not be sent", n.Load(), c.Calls())
	}
	if Retryable(err) {
		t.Errorf("Retryable(BudgetError): got true, want false")
	}
	// After Until, one call goes through and brings a fresh reading.
	clockMu.Lock()
	now = wantUntil
	clockMu.Unlock()
	used.Store(30) // old calls left the window
	if _, err := c.Limits(ctx); err != nil {
		t.Fatalf("after Until: got %v, want success", err)
	}
	if u := c.Usage(); u.Used != 31 {
		t.Errorf("Usage after reading: got %d, want 31", u.Used)
	}
	// Limits is the re-check: it goes through a spent budget.
	c.SetUsage(Usage{Used: 99, Max: 100, ObservedAt: now})
	if err := c.CheckAPIAccess(ctx); !errors.As(err, &be) {
		t.Fatalf("over budget again: got %v, want *BudgetError", err)
	}
	if _, err := c.Limits(ctx); err != nil {
		t.Errorf("Limits over a spent budget: got %v, want it sent (the one re-check call)", err)
	}
}

func TestSetUsageSeedsBudget(t *testing.T) {
	t.Parallel()
	var n atomic.Int32
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	c, _ := setup(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { n.Add(1) }),
		func(o *Options) { o.Budget = 0.8; o.Now = func() time.Time { return now } })
	c.SetUsage(Usage{Used: 900, Max: 1000, ObservedAt: now.Add(-time.Hour)})
	err := c.CheckAPIAccess(t.Context())
	var be *BudgetError
	if !errors.As(err, &be) || be.Allowed != 800 {
		t.Fatalf("got %v, want *BudgetError with Allowed 800", err)
	}
	if n.Load() != 0 {
		t.Errorf("requests: got %d, want 0", n.Load())
	}
}

// pagedQueryHandler serves total Contact records in pages of batch (from
// the Sforce-Query-Options header), checking the protocol as it goes.
func pagedQueryHandler(t *testing.T, total int, pages *atomic.Int32) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		pages.Add(1)
		opt := r.Header.Get("Sforce-Query-Options")
		batch, err := strconv.Atoi(strings.TrimPrefix(opt, "batchSize="))
		if err != nil {
			t.Errorf("Sforce-Query-Options: got %q, want batchSize=N", opt)
			batch = 2000
		}
		offset := 0
		switch {
		case r.URL.Path == sfapi.VersionPath+"/query":
			if got := r.URL.Query().Get("q"); got != "SELECT Id, LastName FROM Contact WHERE LastName != 'O\\'Brien'" {
				t.Errorf("q: got %q", got)
			}
		case strings.HasPrefix(r.URL.Path, sfapi.VersionPath+"/query/01gXX0000000001AAA-"):
			offset, _ = strconv.Atoi(strings.TrimPrefix(r.URL.Path, sfapi.VersionPath+"/query/01gXX0000000001AAA-"))
		default:
			t.Errorf("unexpected path %s", r.URL.Path)
		}
		end := min(offset+batch, total)
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"totalSize":%d,"done":%v,`, total, end == total)
		if end < total {
			fmt.Fprintf(w, `"nextRecordsUrl":"%s/query/01gXX0000000001AAA-%d",`, sfapi.VersionPath, end)
		}
		w.Write([]byte(`"records":[`))
		for i := offset; i < end; i++ {
			if i > offset {
				w.Write([]byte{','})
			}
			fmt.Fprintf(w, `{"attributes":{"type":"Contact","url":"/x"},"Id":"003%015d","LastName":"Name %d","Account":{"attributes":{"type":"Account"},"Name":"Acme"}}`, i, i)
		}
		w.Write([]byte(`]}`))
	}
}

func TestQueryFollowsPages(t *testing.T) {
	t.Parallel()
	var pages atomic.Int32
	c, _ := setup(t, pagedQueryHandler(t, 450, &pages))
	it := c.Query(t.Context(), "SELECT Id, LastName FROM Contact WHERE LastName != "+QuoteString("O'Brien"), QueryOptions{BatchSize: 200})
	if it.TotalSize() != 0 {
		t.Errorf("TotalSize before Next: got %d, want 0", it.TotalSize())
	}
	i := 0
	for it.Next() {
		rec := it.Record()
		if want := fmt.Sprintf("Name %d", i); rec["LastName"] != want {
			t.Fatalf("record %d LastName: got %v, want %q", i, rec["LastName"], want)
		}
		if acc, _ := rec["Account"].(Record); acc["Name"] != "Acme" {
			t.Fatalf("record %d Account: got %v, want nested Name Acme", i, rec["Account"])
		}
		i++
	}
	if err := it.Err(); err != nil {
		t.Fatalf("Err: %v", err)
	}
	if i != 450 || it.TotalSize() != 450 || it.Pages() != 3 || pages.Load() != 3 {
		t.Errorf("got %d records, totalSize %d, %d pages (%d served), want 450, 450, 3, 3", i, it.TotalSize(), it.Pages(), pages.Load())
	}
	if it.Next() {
		t.Errorf("Next after the end: got true, want false")
	}
}

func TestQueryAllSeqStopsEarly(t *testing.T) {
	t.Parallel()
	var pages atomic.Int32
	c, _ := setup(t, pagedQueryHandler(t, 5000, &pages))
	n := 0
	for rec, err := range c.Query(t.Context(), "SELECT Id, LastName FROM Contact WHERE LastName != 'O\\'Brien'", QueryOptions{BatchSize: 2000}).All() {
		if err != nil {
			t.Fatalf("err: %v", err)
		}
		if rec["Id"] == nil {
			t.Fatalf("record without Id")
		}
		n++
		if n == 2500 {
			break
		}
	}
	if pages.Load() != 2 {
		t.Errorf("pages fetched: got %d, want 2 (stopping early fetches no more)", pages.Load())
	}
}

func TestQueryBatchSizeValidated(t *testing.T) {
	t.Parallel()
	c, _ := setup(t, http.NotFoundHandler())
	it := c.Query(t.Context(), "SELECT Id FROM Contact", QueryOptions{BatchSize: 100})
	if it.Next() || it.Err() == nil {
		t.Errorf("BatchSize 100: got no error, want one")
	}
}

func TestQueryErrorMidway(t *testing.T) {
	t.Parallel()
	var n atomic.Int32
	c, _ := setup(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) == 1 {
			writeJSON(w, 200, map[string]any{"totalSize": 3, "done": false, "nextRecordsUrl": sfapi.VersionPath + "/query/01g-1",
				"records": []any{map[string]any{"Id": "a"}}})
			return
		}
		sfError(w, 400, "INVALID_QUERY_LOCATOR", "invalid query locator")
	}))
	it := c.Query(t.Context(), "SELECT Id FROM Contact", QueryOptions{})
	got := 0
	for it.Next() {
		got++
	}
	var ae *APIError
	if got != 1 || !errors.As(it.Err(), &ae) || ae.ErrorCode != "INVALID_QUERY_LOCATOR" {
		t.Errorf("got %d records and %v, want 1 and INVALID_QUERY_LOCATOR", got, it.Err())
	}
}

func TestCount(t *testing.T) {
	t.Parallel()
	c, _ := setup(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, map[string]any{"totalSize": 17, "done": true, "records": []any{}})
	}))
	n, err := c.Count(t.Context(), "SELECT COUNT() FROM Contact")
	if err != nil || n != 17 {
		t.Errorf("Count: got %d, %v, want 17", n, err)
	}
}

func TestIsAdmin(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		modifyAll, customize, want bool
	}{{false, false, false}, {true, false, true}, {false, true, true}, {true, true, true}} {
		c, _ := setup(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if got := r.URL.Query().Get("q"); got != AdminQuery {
				t.Errorf("q: got %q, want %q", got, AdminQuery)
			}
			writeJSON(w, 200, map[string]any{"totalSize": 1, "done": true, "records": []any{map[string]any{
				"attributes": map[string]any{"type": "UserPermissionAccess"}, "PermissionsModifyAllData": tt.modifyAll, "PermissionsCustomizeApplication": tt.customize}}})
		}))
		got, err := c.IsAdmin(t.Context())
		if err != nil || got != tt.want {
			t.Errorf("IsAdmin(modifyAll=%v, customize=%v): got %v, %v, want %v", tt.modifyAll, tt.customize, got, err, tt.want)
		}
	}
}

func TestCollectionsChunkAndMapIndexes(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var sizes []int
	c, _ := setup(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPatch || r.URL.Path != sfapi.VersionPath+"/composite/sobjects/Contact/Member_Id__c" {
			t.Errorf("request: got %s %s, want PATCH .../composite/sobjects/Contact/Member_Id__c", r.Method, r.URL.Path)
		}
		var body struct {
			AllOrNone bool             `json:"allOrNone"`
			Records   []map[string]any `json:"records"`
		}
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			t.Errorf("decode: %v", err)
		}
		mu.Lock()
		sizes = append(sizes, len(body.Records))
		mu.Unlock()
		if body.AllOrNone {
			t.Errorf("allOrNone: got true, want false")
		}
		var out []map[string]any
		for _, rec := range body.Records {
			if typ := rec["attributes"].(map[string]any)["type"]; typ != "Contact" {
				t.Errorf("attributes.type: got %v, want Contact", typ)
			}
			n, _ := strconv.Atoi(rec["Member_Id__c"].(string))
			if n%7 == 3 {
				out = append(out, map[string]any{"success": false, "errors": []any{map[string]any{
					"statusCode": "DUPLICATE_VALUE", "message": "duplicate value found: Member_Id__c", "fields": []string{"Member_Id__c"}}}})
				continue
			}
			out = append(out, map[string]any{"id": fmt.Sprintf("003%015d", n), "success": true, "errors": []any{}, "created": n%2 == 0})
		}
		writeJSON(w, 200, out)
	}))
	var in []Record
	for i := range 450 {
		in = append(in, Record{"Member_Id__c": strconv.Itoa(i), "LastName": "L"})
	}
	res, err := c.UpsertRecords(t.Context(), "Contact", "Member_Id__c", in)
	if err != nil {
		t.Fatalf("UpsertRecords: %v", err)
	}
	if fmt.Sprint(sizes) != "[200 200 50]" {
		t.Errorf("chunk sizes: got %v, want [200 200 50]", sizes)
	}
	if len(res) != 450 {
		t.Fatalf("results: got %d, want 450", len(res))
	}
	for i, r := range res {
		if r.Index != i {
			t.Fatalf("result %d Index: got %d, want %d", i, r.Index, i)
		}
		if i%7 == 3 {
			if r.Success || len(r.Errors) != 1 || r.Errors[0].StatusCode != "DUPLICATE_VALUE" || r.Errors[0].Fields[0] != "Member_Id__c" {
				t.Errorf("result %d: got %+v, want DUPLICATE_VALUE failure", i, r)
			}
			continue
		}
		if !r.Success || r.ID != fmt.Sprintf("003%015d", i) || r.Created != (i%2 == 0) {
			t.Errorf("result %d: got %+v, want success id 003…%d created %v", i, r, i, i%2 == 0)
		}
	}
	if _, ok := in[0]["attributes"]; ok {
		t.Errorf("input record was modified: got attributes key")
	}
}

func TestCollectionsPartialFailureKeepsEarlierResults(t *testing.T) {
	t.Parallel()
	var n atomic.Int32
	c, _ := setup(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) == 2 {
			sfError(w, 400, "JSON_PARSER_ERROR", "bad")
			return
		}
		var body struct{ Records []any }
		json.NewDecoder(r.Body).Decode(&body)
		out := make([]map[string]any, len(body.Records))
		for i := range out {
			out[i] = map[string]any{"id": "003000000000000AAA", "success": true}
		}
		writeJSON(w, 200, out)
	}))
	in := make([]Record, 250)
	for i := range in {
		in[i] = Record{"LastName": "x"}
	}
	res, err := c.CreateRecords(t.Context(), "Contact", in)
	if err == nil || !strings.Contains(err.Error(), "records 200..249") {
		t.Errorf("err: got %v, want one naming records 200..249", err)
	}
	if len(res) != 200 {
		t.Errorf("results: got %d, want the first chunk's 200", len(res))
	}
}

func TestCreateNotRetriedAfterDrop(t *testing.T) {
	t.Parallel()
	var n atomic.Int32
	c, _ := setup(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		dropConnection(t, w)
	}))
	_, err := c.CreateRecords(t.Context(), "Contact", []Record{{"LastName": "x"}})
	if err == nil {
		t.Fatalf("got nil error, want the drop")
	}
	if n.Load() != 1 {
		t.Errorf("requests: got %d, want 1 (a create may have been committed)", n.Load())
	}
}

func TestCollectionsValidateInput(t *testing.T) {
	t.Parallel()
	c, _ := setup(t, http.NotFoundHandler())
	ctx := t.Context()
	if _, err := c.CreateRecords(ctx, "Contact", []Record{{"id": "003"}}); err == nil {
		t.Errorf("create with Id: got nil error")
	}
	if _, err := c.UpdateRecords(ctx, "Contact", []Record{{"LastName": "x"}}); err == nil {
		t.Errorf("update without Id: got nil error")
	}
	if _, err := c.UpsertRecords(ctx, "Contact", "Member_Id__c", []Record{{"LastName": "x"}}); err == nil {
		t.Errorf("upsert without ext id: got nil error")
	}
	if _, err := c.UpsertRecords(ctx, "Contact", "Bad Field", []Record{{"Bad Field": "x"}}); err == nil {
		t.Errorf("upsert with invalid field name: got nil error")
	}
	if _, err := c.CreateRecords(ctx, "Contact/../x", []Record{{"LastName": "x"}}); err == nil {
		t.Errorf("create with invalid object: got nil error")
	}
}

func TestGetUpdatedAndDeleted(t *testing.T) {
	t.Parallel()
	c, _ := setup(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if q.Get("start") != "2026-01-01T00:00:00+00:00" || q.Get("end") != "2026-01-02T00:00:00+00:00" {
			t.Errorf("window: got %s..%s", q.Get("start"), q.Get("end"))
		}
		if strings.Contains(r.URL.RawQuery, "+") {
			t.Errorf("raw query %q: '+' must be sent as %%2B", r.URL.RawQuery)
		}
		switch r.URL.Path {
		case sfapi.VersionPath + "/sobjects/Contact/updated/":
			io := `{ "ids" : [ "003q000000KvQ1tAAF", "003q000000KvQ2DAAV" ], "latestDateCovered" : "2026-01-01T23:59:00.000+0000" }`
			w.Write([]byte(io))
		case sfapi.VersionPath + "/sobjects/Contact/deleted/":
			w.Write([]byte(`{ "deletedRecords" : [ { "id" : "003D0000008pQRAIA2", "deletedDate" : "2026-01-01T22:07:19.000+0000" } ],
			  "earliestDateAvailable" : "2025-12-20T15:57:00.000+0000", "latestDateCovered" : "2026-01-01T21:20:00.000+0000" }`))
		default:
			t.Errorf("unexpected path %s", r.URL.Path)
		}
	}))
	start := time.Date(2026, 1, 1, 8, 0, 0, 0, time.FixedZone("CST", 8*3600))
	end := start.Add(24 * time.Hour)
	up, err := c.GetUpdated(t.Context(), "Contact", start, end)
	if err != nil || len(up.IDs) != 2 || !up.LatestDateCovered.Equal(time.Date(2026, 1, 1, 23, 59, 0, 0, time.UTC)) {
		t.Errorf("GetUpdated: got %+v, %v", up, err)
	}
	del, err := c.GetDeleted(t.Context(), "Contact", start, end)
	if err != nil || len(del.Records) != 1 || del.Records[0].ID != "003D0000008pQRAIA2" ||
		!del.Records[0].DeletedDate.Equal(time.Date(2026, 1, 1, 22, 7, 19, 0, time.UTC)) ||
		!del.EarliestDateAvailable.Equal(time.Date(2025, 12, 20, 15, 57, 0, 0, time.UTC)) {
		t.Errorf("GetDeleted: got %+v, %v", del, err)
	}
}

func TestDescribeCached(t *testing.T) {
	t.Parallel()
	var n atomic.Int32
	c, _ := setup(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		if r.URL.Path != sfapi.VersionPath+"/sobjects/Contact/describe" {
			t.Errorf("path: got %s", r.URL.Path)
		}
		writeJSON(w, 200, map[string]any{"name": "Contact", "fields": []any{
			map[string]any{"name": "Email", "type": "email", "length": 80 + int(n.Load())}}})
	}))
	ctx := t.Context()
	d1, err := c.DescribeSObject(ctx, "Contact")
	if err != nil {
		t.Fatal(err)
	}
	d2, _ := c.DescribeSObject(ctx, "contact")
	if d1 != d2 || n.Load() != 1 {
		t.Errorf("got %d requests (same pointer %v), want 1 cached", n.Load(), d1 == d2)
	}
	if f, ok := d1.Field("email"); !ok || f.Length != 81 {
		t.Errorf("Field(email): got %+v, %v, want length 81", f, ok)
	}
	d3, err := c.RefreshDescribe(ctx, "Contact")
	if err != nil || n.Load() != 2 {
		t.Fatalf("RefreshDescribe: %v, %d requests, want 2", err, n.Load())
	}
	if f, _ := d3.Field("Email"); f.Length != 82 {
		t.Errorf("refreshed length: got %d, want 82", f.Length)
	}
	if d4, _ := c.DescribeSObject(ctx, "Contact"); d4 != d3 {
		t.Errorf("cache not replaced by RefreshDescribe")
	}
}

func TestCollectionsRetryLockedRecords(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var sent [][]string
	c, _ := setup(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body struct{ Records []map[string]any }
		json.NewDecoder(r.Body).Decode(&body)
		mu.Lock()
		round := len(sent)
		var names []string
		for _, rec := range body.Records {
			names = append(names, rec["LastName"].(string))
		}
		sent = append(sent, names)
		mu.Unlock()
		var out []map[string]any
		for _, name := range names {
			locked := (name == "r3" && round < 2) || (name == "r5" && round == 0)
			if locked {
				out = append(out, map[string]any{"success": false, "errors": []any{map[string]any{
					"statusCode": "UNABLE_TO_LOCK_ROW", "message": "unable to obtain exclusive access to this record", "fields": []string{}}}})
			} else if name == "r1" {
				out = append(out, map[string]any{"success": false, "errors": []any{map[string]any{"statusCode": "REQUIRED_FIELD_MISSING", "message": "x"}}})
			} else {
				out = append(out, map[string]any{"id": "003000000000" + name + "AAAA", "success": true})
			}
		}
		writeJSON(w, 200, out)
	}))
	in := make([]Record, 6)
	for i := range in {
		in[i] = Record{"LastName": fmt.Sprintf("r%d", i)}
	}
	res, err := c.CreateRecords(t.Context(), "Contact", in)
	if err != nil {
		t.Fatalf("CreateRecords: %v", err)
	}
	if got := fmt.Sprint(sent); got != "[[r0 r1 r2 r3 r4 r5] [r3 r5] [r3]]" {
		t.Errorf("requests: got %s, want [[r0 r1 r2 r3 r4 r5] [r3 r5] [r3]]", got)
	}
	for i, r := range res {
		if r.Index != i || r.Success != (i != 1) {
			t.Errorf("result %d: got %+v, want index %d success %v", i, r, i, i != 1)
		}
	}
}

func TestCollectionsLockedRecordGivesUp(t *testing.T) {
	t.Parallel()
	var n atomic.Int32
	c, _ := setup(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		writeJSON(w, 200, []any{map[string]any{"success": false, "errors": []any{map[string]any{"statusCode": "UNABLE_TO_LOCK_ROW", "message": "locked"}}}})
	}), func(o *Options) { o.MaxAttempts = 3 })
	res, err := c.UpdateRecords(t.Context(), "Contact", []Record{{"Id": "003000000000001AAA", "LastName": "x"}})
	if err != nil {
		t.Fatalf("UpdateRecords: %v", err)
	}
	if n.Load() != 3 || len(res) != 1 || res[0].Success || res[0].Errors[0].StatusCode != CodeUnableToLockRow {
		t.Errorf("got %d requests and %+v, want 3 and the lock error kept", n.Load(), res)
	}
}
