package sfemu

import (
	"net/url"
	"strings"
	"testing"
	"time"
)

// TestAggregateQuery checks the wire shape of AggregateResult records
// (attributes.type AggregateResult, no url; grouped fields by name,
// unaliased aggregates as expr0, expr1...; all rows in one response) and
// Salesforce's refusals.
func TestAggregateQuery(t *testing.T) {
	t.Parallel()
	e := setup(t)
	q := func(soql string, hdr ...string) resp {
		t.Helper()
		return e.do("GET", "query?q="+url.QueryEscape(soql), nil, hdr...)
	}
	e.create(map[string]any{"LastName": "Lee", "Email": "dup@example.com", "Birthdate": "1990-04-01", "MailingLatitude": 1})
	e.srv.Advance(time.Minute)
	e.create(map[string]any{"LastName": "Lee", "Email": "DUP@example.com", "Birthdate": "1985-12-31", "MailingLatitude": 2})
	e.create(map[string]any{"LastName": "Kim", "Email": "kim@example.com"})
	e.create(map[string]any{"LastName": "Park"})

	tests := []struct {
		soql string
		want string
	}{
		// The sync engine's duplicate-identity query.
		{"SELECT Email, COUNT(Id) FROM Contact WHERE Email != null GROUP BY Email HAVING COUNT(Id) > 1",
			`{"totalSize":1,"done":true,"records":[{"attributes":{"type":"AggregateResult"},"Email":"dup@example.com","expr0":2}]}`},
		{"SELECT COUNT(Id), COUNT(Email) mails, COUNT_DISTINCT(Email), MIN(Birthdate), MAX(CreatedDate) FROM Contact",
			`{"totalSize":1,"done":true,"records":[{"attributes":{"type":"AggregateResult"},"expr0":4,"mails":3,"expr1":2,"expr2":"1985-12-31","expr3":"2026-03-01T08:01:00.000+0000"}]}`},
		{"SELECT LastName n, COUNT(Id) c FROM Contact GROUP BY LastName ORDER BY COUNT(Id) DESC, LastName",
			`{"totalSize":3,"done":true,"records":[{"attributes":{"type":"AggregateResult"},"n":"Lee","c":2},{"attributes":{"type":"AggregateResult"},"n":"Kim","c":1},{"attributes":{"type":"AggregateResult"},"n":"Park","c":1}]}`},
		// A relationship field answers under its own name.
		{"SELECT Owner.Username, COUNT(Id) FROM Contact GROUP BY Owner.Username",
			`{"totalSize":1,"done":true,"records":[{"attributes":{"type":"AggregateResult"},"Username":"` + e.org.Admin().Username + `","expr0":4}]}`},
		// SUM and AVG are doubles, written as Salesforce writes them (300.0).
		{"SELECT LastName, SUM(MailingLatitude), AVG(MailingLatitude) FROM Contact WHERE LastName = 'Lee' GROUP BY LastName",
			`{"totalSize":1,"done":true,"records":[{"attributes":{"type":"AggregateResult"},"LastName":"Lee","expr0":3.0,"expr1":1.5}]}`},
		{"SELECT LastName, COUNT(Id) FROM Contact WHERE LastName = 'Nobody' GROUP BY LastName",
			`{"totalSize":0,"done":true,"records":[]}`},
	}
	for _, tt := range tests {
		r := q(tt.soql, "Sforce-Query-Options", "batchSize=200")
		wantStatus(t, r, 200)
		if string(r.body) != tt.want {
			t.Errorf("%s:\n got %s\nwant %s", tt.soql, r.body, tt.want)
		}
	}

	errs := []struct{ soql, code, text string }{
		{"SELECT Id, COUNT(Email) FROM Contact", "MALFORMED_QUERY", "Field must be grouped or aggregated: Id"},
		{"SELECT COUNT(Id) FROM Contact GROUP BY CreatedDate", "INVALID_FIELD", "field 'CreatedDate' can not be grouped in a query call"},
		{"SELECT COUNT(IsDeleted) FROM Contact", "MALFORMED_QUERY", "field IsDeleted does not support aggregate operator COUNT"},
		{"SELECT SUM(Email) FROM Contact", "MALFORMED_QUERY", "field Email does not support aggregate operator SUM"},
		{"SELECT COUNT(Id) FROM Contact ORDER BY LastName", "MALFORMED_QUERY", "Ordered field must be grouped or aggregated: LastName"},
	}
	for _, tt := range errs {
		got := wantErrorCode(t, q(tt.soql), 400, tt.code)
		if msg, _ := got["message"].(string); !strings.HasSuffix(msg, "\n"+tt.text) {
			t.Errorf("%s: got message %q, want it to end with %q", tt.soql, msg, tt.text)
		}
	}
}

// TestAggregateQueryNoPaging checks that more than 2,000 groups are
// refused rather than paged, and that LIMIT makes the query answerable.
func TestAggregateQueryNoPaging(t *testing.T) {
	t.Parallel()
	e := setup(t)
	if _, err := e.org.SeedContacts(2001, 1); err != nil {
		t.Fatal(err)
	}
	r := e.do("GET", "query?q="+url.QueryEscape("SELECT Id, COUNT(LastName) FROM Contact GROUP BY Id"), nil)
	got := wantErrorCode(t, r, 400, "MALFORMED_QUERY")
	if want := "Aggregate query does not support queryMore(), use LIMIT to restrict the results to a single batch"; got["message"] != want {
		t.Errorf("message: got %q, want %q", got["message"], want)
	}
	r = e.do("GET", "query?q="+url.QueryEscape("SELECT Id, COUNT(LastName) FROM Contact GROUP BY Id LIMIT 2000"), nil)
	wantStatus(t, r, 200)
	var page struct {
		TotalSize int              `json:"totalSize"`
		Done      bool             `json:"done"`
		Next      string           `json:"nextRecordsUrl"`
		Records   []map[string]any `json:"records"`
	}
	r.json(t, &page)
	if page.TotalSize != 2000 || !page.Done || page.Next != "" || len(page.Records) != 2000 {
		t.Errorf("LIMIT 2000: got totalSize %d done %v next %q and %d records, want 2000 in one page", page.TotalSize, page.Done, page.Next, len(page.Records))
	}
}
