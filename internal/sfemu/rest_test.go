package sfemu

import (
	"compress/gzip"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sfsync/sfsync/internal/sfapi"
)

func TestVersionsAndResources(t *testing.T) {
	t.Parallel()
	e := setup(t)
	r := e.doToken("", "GET", "/services/data/", nil)
	wantStatus(t, r, 200)
	var versions []map[string]string
	r.json(t, &versions)
	if got, want := len(versions), sfapi.MaxVersion-sfapi.MinVersion+1; got != want {
		t.Fatalf("versions: got %d, want %d", got, want)
	}
	for _, v := range versions {
		if v["version"] == "62.0" && v["label"] != "Winter '25" {
			t.Errorf("label of 62.0: got %q, want %q", v["label"], "Winter '25")
		}
		if v["version"] == "64.0" && v["label"] != "Summer '25" {
			t.Errorf("label of 64.0: got %q, want %q", v["label"], "Summer '25")
		}
	}
	if r.header.Get("Sforce-Limit-Info") != "" {
		t.Errorf("versions list carries Sforce-Limit-Info %q, want none", r.header.Get("Sforce-Limit-Info"))
	}
	wantErrorCode(t, e.do("GET", "/services/data/v20.0/sobjects", nil), 404, "NOT_FOUND")
	r = e.do("GET", "/services/data/v62.0/", nil)
	wantStatus(t, r, 200)
	var res map[string]string
	r.json(t, &res)
	if res["query"] != "/services/data/v62.0/query" {
		t.Errorf("query resource: got %q, want /services/data/v62.0/query", res["query"])
	}
	if got := r.header.Get("Sforce-Limit-Info"); !regexp.MustCompile(`^api-usage=\d+/15000$`).MatchString(got) {
		t.Errorf("Sforce-Limit-Info: got %q, want api-usage=N/15000", got)
	}
}

func TestDescribeContact(t *testing.T) {
	t.Parallel()
	e := setup(t)
	r := e.do("GET", "sobjects/Contact/describe", nil)
	wantStatus(t, r, 200)
	var d struct {
		Name      string           `json:"name"`
		KeyPrefix string           `json:"keyPrefix"`
		Fields    []map[string]any `json:"fields"`
	}
	r.json(t, &d)
	if d.KeyPrefix != "003" {
		t.Errorf("keyPrefix: got %q, want 003", d.KeyPrefix)
	}
	if got, want := len(d.Fields), 59+len(DefaultCustomFields()); got != want {
		t.Errorf("fields: got %d, want %d", got, want)
	}
	byName := map[string]map[string]any{}
	for _, f := range d.Fields {
		byName[f["name"].(string)] = f
		if got := len(f); got != 57 {
			t.Errorf("field %s has %d keys, want 57", f["name"], got)
		}
	}
	email := byName["Email"]
	if email["byteLength"] != 240.0 || email["idLookup"] != true || email["type"] != "email" || email["length"] != 80.0 {
		t.Errorf("Email describe: got %v", email)
	}
	m := byName["Member_Number__c"]
	if m["externalId"] != true || m["unique"] != true || m["custom"] != true || m["idLookup"] != true {
		t.Errorf("Member_Number__c describe: got %v", m)
	}
	tier := byName["Tier__c"]
	if tier["restrictedPicklist"] != true || len(tier["picklistValues"].([]any)) != 3 {
		t.Errorf("Tier__c describe: got %v", tier)
	}
	if byName["LastName"]["nillable"] != false || byName["LastName"]["compoundFieldName"] != "Name" {
		t.Errorf("LastName describe: got %v", byName["LastName"])
	}
	for _, obj := range []string{"User", "Organization"} {
		wantStatus(t, e.do("GET", "sobjects/"+obj+"/describe", nil), 200)
	}
	wantErrorCode(t, e.do("GET", "sobjects/Nope__c/describe", nil), 404, "NOT_FOUND")
	r = e.do("GET", "sobjects", nil)
	wantStatus(t, r, 200)
	if !strings.Contains(string(r.body), `"maxBatchSize":200`) {
		t.Errorf("describe global: got %s, want maxBatchSize 200", r.body)
	}
}

func TestCRUD(t *testing.T) {
	t.Parallel()
	e := setup(t)
	r := e.do("POST", "sobjects/Contact", map[string]any{"LastName": "陳", "FirstName": "怡君", "Email": "yijun@example.com", "Birthdate": "1990-04-01", "Tier__c": "Gold"},
		"Sforce-Call-Options", "client=sfsync")
	wantStatus(t, r, 201)
	var created map[string]any
	r.json(t, &created)
	id := created["id"].(string)
	if len(id) != 18 || !strings.HasPrefix(id, "003") || created["success"] != true {
		t.Fatalf("create: got %s", r.body)
	}
	if _, err := sfapi.ID18(id); err != nil {
		t.Fatalf("id %s has a bad checksum: %v", id, err)
	}
	if got, want := r.header.Get("Location"), "/services/data/v62.0/sobjects/Contact/"+id; got != want {
		t.Errorf("Location: got %q, want %q", got, want)
	}
	r = e.do("GET", "sobjects/Contact/"+id[:15], nil)
	wantStatus(t, r, 200)
	var rec map[string]any
	r.json(t, &rec)
	admin := e.org.Admin().ID
	for k, want := range map[string]any{"Id": id, "Name": "怡君 陳", "Birthdate": "1990-04-01", "OwnerId": admin, "CreatedById": admin,
		"LastModifiedById": admin, "IsDeleted": false, "CreatedDate": "2026-03-01T08:00:00.000+0000", "Phone": nil, "MailingAddress": nil} {
		if rec[k] != want {
			t.Errorf("%s: got %v, want %v", k, rec[k], want)
		}
	}
	if rec["attributes"].(map[string]any)["type"] != "Contact" {
		t.Errorf("attributes: got %v", rec["attributes"])
	}
	r = e.do("GET", "sobjects/Contact/"+id+"?fields=Id,Email", nil)
	wantStatus(t, r, 200)
	rec = nil
	r.json(t, &rec)
	if len(rec) != 3 || rec["Email"] != "yijun@example.com" {
		t.Errorf("fields=Id,Email: got %s", r.body)
	}
	wantErrorCode(t, e.do("GET", "sobjects/Contact/"+id+"?fields=Id,Nope", nil), 400, "INVALID_FIELD")

	e.clock.mu.Lock()
	e.clock.t = e.clock.t.Add(time.Minute)
	e.clock.mu.Unlock()
	r = e.do("PATCH", "sobjects/Contact/"+id, map[string]any{"Email": "", "MailingCity": "Taipei"}, "Sforce-Call-Options", "client=sfsync")
	wantStatus(t, r, 204)
	got, _ := e.org.Record(id)
	if _, has := got["Email"]; has {
		t.Errorf(`Email after "" : got %v, want null`, got["Email"])
	}
	if got["SystemModstamp"].(time.Time).Sub(got["CreatedDate"].(time.Time)) != time.Minute {
		t.Errorf("SystemModstamp: got %v, want a minute after CreatedDate %v", got["SystemModstamp"], got["CreatedDate"])
	}
	r = e.do("POST", "sobjects/Contact/"+id+"?_HttpMethod=PATCH", map[string]any{"Title": "CTO"})
	wantStatus(t, r, 204)
	if got, _ := e.org.Record(id); got["Title"] != "CTO" {
		t.Errorf("Title after _HttpMethod=PATCH: got %v, want CTO", got["Title"])
	}
	hist := e.org.History(id)
	if len(hist) != 3 || hist[0].Type != "CREATE" || hist[0].Client != "sfsync" || hist[0].Origin != "com/salesforce/api/rest/62.0;client=sfsync" || hist[2].Client != "" {
		t.Errorf("history: got %+v", hist)
	}
	if !containsFold(hist[1].NulledFields, "Email") {
		t.Errorf("nulled fields: got %v, want Email", hist[1].NulledFields)
	}

	wantStatus(t, e.do("DELETE", "sobjects/Contact/"+id, nil), 204)
	wantErrorCode(t, e.do("GET", "sobjects/Contact/"+id, nil), 404, "NOT_FOUND")
	wantErrorCode(t, e.do("DELETE", "sobjects/Contact/"+id, nil), 404, "ENTITY_IS_DELETED")
	wantErrorCode(t, e.do("PATCH", "sobjects/Contact/"+id, map[string]any{"Title": "x"}), 404, "ENTITY_IS_DELETED")
	wantErrorCode(t, e.do("PATCH", "sobjects/Contact/003000000000001", map[string]any{"Title": "x"}), 404, "NOT_FOUND")
	wantErrorCode(t, e.do("GET", "sobjects/Contact/"+e.org.Admin().ID, nil), 400, "MALFORMED_ID")
}

func TestValidationErrors(t *testing.T) {
	t.Parallel()
	e := setup(t)
	existing := e.create(map[string]any{"LastName": "Lin", "Member_Number__c": "M1"})
	tests := []struct {
		name   string
		method string
		path   string
		body   any
		status int
		code   string
		fields []string
	}{
		{"required", "POST", "sobjects/Contact", map[string]any{"FirstName": "x"}, 400, "REQUIRED_FIELD_MISSING", []string{"LastName"}},
		{"required on update", "PATCH", "sobjects/Contact/" + existing, map[string]any{"LastName": nil}, 400, "REQUIRED_FIELD_MISSING", []string{"LastName"}},
		{"email", "POST", "sobjects/Contact", map[string]any{"LastName": "x", "Email": "not-an-email"}, 400, "INVALID_EMAIL_ADDRESS", []string{"Email"}},
		{"too long", "POST", "sobjects/Contact", map[string]any{"LastName": "x", "FirstName": strings.Repeat("a", 41)}, 400, "STRING_TOO_LONG", []string{"FirstName"}},
		{"restricted picklist", "POST", "sobjects/Contact", map[string]any{"LastName": "x", "Tier__c": "Platinum"}, 400, "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST", []string{"Tier__c"}},
		{"duplicate external id", "POST", "sobjects/Contact", map[string]any{"LastName": "x", "Member_Number__c": "m1"}, 400, "DUPLICATE_VALUE", []string{}},
		{"not updateable", "PATCH", "sobjects/Contact/" + existing, map[string]any{"CreatedDate": "2020-01-01T00:00:00.000+0000"}, 400, "INVALID_FIELD_FOR_INSERT_UPDATE", []string{"CreatedDate"}},
		{"unknown field", "POST", "sobjects/Contact", map[string]any{"LastName": "x", "Foo": 1}, 400, "INVALID_FIELD", nil},
		{"bad json", "POST", "sobjects/Contact", `{"LastName": }`, 400, "JSON_PARSER_ERROR", nil},
		{"bad date", "POST", "sobjects/Contact", map[string]any{"LastName": "x", "Birthdate": "1st April"}, 400, "JSON_PARSER_ERROR", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.do(tt.method, tt.path, tt.body)
			got := wantErrorCode(t, r, tt.status, tt.code)
			f, has := got["fields"]
			if tt.fields == nil {
				if has {
					t.Errorf("fields: got %v, want absent", f)
				}
				return
			}
			if fmt.Sprint(f) != fmt.Sprint(tt.fields) {
				t.Errorf("fields: got %v, want %v", f, tt.fields)
			}
		})
	}
	r := e.do("POST", "sobjects/Contact", map[string]any{"LastName": "x", "Email": "bad"})
	if msg := r.errs(t)[0]["message"]; msg != "Email: invalid email address: bad" {
		t.Errorf("message: got %q, want %q", msg, "Email: invalid email address: bad")
	}
}

func TestUpsert(t *testing.T) {
	t.Parallel()
	e := setup(t)
	r := e.do("PATCH", "sobjects/Contact/Member_Number__c/M%2F100", map[string]any{"LastName": "Chen"})
	wantStatus(t, r, 201)
	var res map[string]any
	r.json(t, &res)
	if res["created"] != true || res["success"] != true {
		t.Fatalf("insert: got %s", r.body)
	}
	id := res["id"].(string)
	if rec, _ := e.org.Record(id); rec["Member_Number__c"] != "M/100" {
		t.Errorf("Member_Number__c: got %v, want M/100", rec["Member_Number__c"])
	}
	r = e.do("PATCH", "sobjects/Contact/Member_Number__c/m%2F100", map[string]any{"FirstName": "Wei"})
	wantStatus(t, r, 200)
	res = nil
	r.json(t, &res)
	if res["created"] != false || res["id"] != id {
		t.Errorf("update: got %s, want created false for %s", r.body, id)
	}
	e.create(map[string]any{"LastName": "A", "Email": "same@example.com"})
	e.create(map[string]any{"LastName": "B", "Email": "SAME@example.com"})
	r = e.do("PATCH", "sobjects/Contact/Email/same@example.com", map[string]any{"Title": "x"})
	wantStatus(t, r, 300)
	var urls []string
	r.json(t, &urls)
	if len(urls) != 2 || !strings.HasPrefix(urls[0], "/services/data/v62.0/sobjects/Contact/003") {
		t.Errorf("300 body: got %s", r.body)
	}
	wantErrorCode(t, e.do("PATCH", "sobjects/Contact/LINE_UID__c/U1", map[string]any{"LastName": "x"}), 404, "NOT_FOUND")
	r = e.do("GET", "sobjects/Contact/Member_Number__c/M%2F100", nil)
	wantStatus(t, r, 200)
	r = e.do("POST", "sobjects/Contact/Id", map[string]any{"LastName": "ById"})
	wantStatus(t, r, 201)
}

func TestCollections(t *testing.T) {
	t.Parallel()
	e := setup(t)
	rec := func(fields map[string]any) map[string]any {
		fields["attributes"] = map[string]any{"type": "Contact"}
		return fields
	}
	r := e.do("POST", "composite/sobjects", map[string]any{"allOrNone": false, "records": []any{
		rec(map[string]any{"LastName": "Chen"}), rec(map[string]any{"FirstName": "NoLast"}),
	}})
	wantStatus(t, r, 200)
	var results []map[string]any
	r.json(t, &results)
	if results[0]["success"] != true || results[1]["success"] != false {
		t.Fatalf("partial create: got %s", r.body)
	}
	if _, has := results[1]["id"]; has {
		t.Errorf("failed record has an id: %s", r.body)
	}
	errs := results[1]["errors"].([]any)[0].(map[string]any)
	if errs["statusCode"] != "REQUIRED_FIELD_MISSING" {
		t.Errorf("statusCode: got %v, want REQUIRED_FIELD_MISSING", errs)
	}
	before := e.org.ContactCount()
	r = e.do("POST", "composite/sobjects", map[string]any{"allOrNone": true, "records": []any{
		rec(map[string]any{"LastName": "Ok"}), rec(map[string]any{"LastName": "Bad", "Email": "nope"}),
	}})
	wantStatus(t, r, 200)
	results = nil
	r.json(t, &results)
	if got := results[0]["errors"].([]any)[0].(map[string]any)["statusCode"]; got != "ALL_OR_NONE_OPERATION_ROLLED_BACK" {
		t.Errorf("rolled back record: got %v, want ALL_OR_NONE_OPERATION_ROLLED_BACK", got)
	}
	if got := results[1]["errors"].([]any)[0].(map[string]any)["statusCode"]; got != "INVALID_EMAIL_ADDRESS" {
		t.Errorf("failing record: got %v, want INVALID_EMAIL_ADDRESS", got)
	}
	if got := e.org.ContactCount(); got != before {
		t.Errorf("contacts after rollback: got %d, want %d", got, before)
	}
	var many []any
	for i := 0; i < 201; i++ {
		many = append(many, rec(map[string]any{"LastName": fmt.Sprint(i)}))
	}
	wantErrorCode(t, e.do("POST", "composite/sobjects", map[string]any{"records": many}), 400, "EXCEEDED_ID_LIMIT")
	if got := e.org.ContactCount(); got != before {
		t.Errorf("contacts after refused 201: got %d, want %d", got, before)
	}

	a := e.create(map[string]any{"LastName": "A"})
	b := e.create(map[string]any{"LastName": "B"})
	r = e.do("PATCH", "composite/sobjects", map[string]any{"records": []any{
		rec(map[string]any{"id": a, "Title": "T"}), rec(map[string]any{"id": b, "Tier__c": "Nope"}),
	}})
	wantStatus(t, r, 200)
	results = nil
	r.json(t, &results)
	if results[0]["success"] != true || results[1]["success"] != false || results[1]["id"] != b {
		t.Errorf("update: got %s", r.body)
	}
	r = e.do("PATCH", "composite/sobjects/Contact/Member_Number__c", map[string]any{"records": []any{
		rec(map[string]any{"Member_Number__c": "X1", "LastName": "New"}), rec(map[string]any{"Member_Number__c": "X2", "LastName": "New2"}),
	}})
	wantStatus(t, r, 200)
	results = nil
	r.json(t, &results)
	if results[0]["created"] != true || results[1]["created"] != true {
		t.Fatalf("upsert insert: got %s", r.body)
	}
	r = e.do("PATCH", "composite/sobjects/Contact/Member_Number__c", map[string]any{"records": []any{
		rec(map[string]any{"Member_Number__c": "X1", "Title": "Up"}),
	}})
	results = nil
	r.json(t, &results)
	if results[0]["created"] != false || results[0]["success"] != true {
		t.Errorf("upsert update: got %s", r.body)
	}
	r = e.do("DELETE", "composite/sobjects?allOrNone=true&ids="+a+",001000000000000AAA", nil)
	wantStatus(t, r, 200)
	results = nil
	r.json(t, &results)
	if results[0]["success"] != false || results[1]["success"] != false {
		t.Errorf("delete allOrNone: got %s", r.body)
	}
	if rec, _ := e.org.Record(a); rec["IsDeleted"] != false {
		t.Errorf("IsDeleted after rolled-back delete: got %v, want false", rec["IsDeleted"])
	}
	r = e.do("GET", "composite/sobjects/Contact?ids="+a+","+b+"&fields=Id,LastName", nil)
	wantStatus(t, r, 200)
	if !strings.Contains(string(r.body), `"LastName":"A"`) {
		t.Errorf("retrieve: got %s", r.body)
	}
}

func TestComposite(t *testing.T) {
	t.Parallel()
	e := setup(t)
	v := sfapi.VersionPath
	r := e.do("POST", "composite", map[string]any{"allOrNone": false, "compositeRequest": []any{
		map[string]any{"method": "POST", "url": v + "/sobjects/Contact", "referenceId": "newContact", "body": map[string]any{"LastName": "Chen"}},
		map[string]any{"method": "GET", "url": v + "/sobjects/Contact/@{newContact.id}?fields=Id,LastName", "referenceId": "readBack"},
		map[string]any{"method": "GET", "url": v + "/query?q=" + url.QueryEscape("SELECT Id FROM Contact"), "referenceId": "q"},
		map[string]any{"method": "PATCH", "url": v + "/sobjects/Contact/@{q.records[0].Id}", "referenceId": "upd", "body": map[string]any{"Title": "@{readBack.LastName}"}},
	}})
	wantStatus(t, r, 200)
	var out struct {
		CompositeResponse []struct {
			Body           any               `json:"body"`
			HTTPHeaders    map[string]string `json:"httpHeaders"`
			HTTPStatusCode int               `json:"httpStatusCode"`
			ReferenceID    string            `json:"referenceId"`
		} `json:"compositeResponse"`
	}
	r.json(t, &out)
	codes := []int{}
	for _, c := range out.CompositeResponse {
		codes = append(codes, c.HTTPStatusCode)
	}
	if fmt.Sprint(codes) != "[201 200 200 204]" {
		t.Fatalf("status codes: got %v, want [201 200 200 204] (%s)", codes, r.body)
	}
	id := out.CompositeResponse[0].Body.(map[string]any)["id"].(string)
	if rec, _ := e.org.Record(id); rec["Title"] != "Chen" {
		t.Errorf("Title set via reference: got %v, want Chen", rec["Title"])
	}
	used, _ := e.org.APIUsage()
	before := e.org.ContactCount()
	r = e.do("POST", "composite", map[string]any{"allOrNone": true, "compositeRequest": []any{
		map[string]any{"method": "POST", "url": v + "/sobjects/Contact", "referenceId": "a", "body": map[string]any{"LastName": "Kept?"}},
		map[string]any{"method": "POST", "url": v + "/sobjects/Contact", "referenceId": "b", "body": map[string]any{"LastName": "Bad", "Email": "bad"}},
	}})
	wantStatus(t, r, 200)
	out.CompositeResponse = nil
	r.json(t, &out)
	if out.CompositeResponse[0].HTTPStatusCode != 400 || !strings.Contains(fmt.Sprint(out.CompositeResponse[0].Body), "PROCESSING_HALTED") {
		t.Errorf("first subrequest: got %+v, want 400 PROCESSING_HALTED", out.CompositeResponse[0])
	}
	if got := e.org.ContactCount(); got != before {
		t.Errorf("contacts after allOrNone failure: got %d, want %d", got, before)
	}
	if after, _ := e.org.APIUsage(); after != used+1 {
		t.Errorf("API usage of one composite: got %d, want %d", after-used, 1)
	}
}

func TestQueryPaging(t *testing.T) {
	t.Parallel()
	e := setup(t)
	if _, err := e.org.SeedContacts(2500, 7); err != nil {
		t.Fatal(err)
	}
	q := url.QueryEscape("SELECT Id, LastName, Email FROM Contact ORDER BY Id")
	r := e.do("GET", "query?q="+q, nil, "Sforce-Query-Options", "batchSize=1000")
	wantStatus(t, r, 200)
	var page struct {
		TotalSize      int              `json:"totalSize"`
		Done           bool             `json:"done"`
		NextRecordsURL string           `json:"nextRecordsUrl"`
		Records        []map[string]any `json:"records"`
	}
	r.json(t, &page)
	if page.TotalSize != 2500 || page.Done || len(page.Records) != 1000 {
		t.Fatalf("first page: got totalSize %d done %v records %d, want 2500 false 1000", page.TotalSize, page.Done, len(page.Records))
	}
	if !regexp.MustCompile(`^/services/data/v62\.0/query/01g[0-9A-Za-z]{15}-1000$`).MatchString(page.NextRecordsURL) {
		t.Fatalf("nextRecordsUrl: got %q", page.NextRecordsURL)
	}
	if keys := strings.Index(string(r.body), `{"attributes":{"type":"Contact","url":"/services/data/v62.0/sobjects/Contact/`); keys < 0 {
		t.Errorf("record shape: got %.200s", r.body)
	}
	seen := map[string]bool{}
	for _, rec := range page.Records {
		seen[rec["Id"].(string)] = true
	}
	// A write after the first page does not change the snapshot.
	e.create(map[string]any{"LastName": "Late"})
	next := page.NextRecordsURL
	for next != "" {
		r = e.do("GET", next, nil)
		wantStatus(t, r, 200)
		page.NextRecordsURL, page.Records = "", nil
		r.json(t, &page)
		for _, rec := range page.Records {
			seen[rec["Id"].(string)] = true
		}
		next = page.NextRecordsURL
	}
	if len(seen) != 2500 || !page.Done {
		t.Errorf("records over all pages: got %d (done %v), want 2500", len(seen), page.Done)
	}
	if strings.Contains(string(r.body), "nextRecordsUrl") {
		t.Errorf("last page has nextRecordsUrl: %.200s", r.body)
	}
	wantErrorCode(t, e.do("GET", "query/01g000000000000AAA-2000", nil), 400, "INVALID_QUERY_LOCATOR")

	// Locators expire after QueryLocatorLifetime of disuse.
	r = e.do("GET", "query?q="+q, nil)
	page.NextRecordsURL = ""
	r.json(t, &page)
	e.srv.Advance(16 * time.Minute)
	wantErrorCode(t, e.do("GET", page.NextRecordsURL, nil), 400, "INVALID_QUERY_LOCATOR")

	r = e.do("GET", "query?q="+url.QueryEscape("SELECT COUNT() FROM Contact"), nil)
	wantStatus(t, r, 200)
	if string(r.body) != `{"totalSize":2501,"done":true,"records":[]}` {
		t.Errorf("COUNT(): got %s", r.body)
	}
	r = e.do("GET", "query?q="+url.QueryEscape("SELECT Id FROM Contact WHERE Foo__c = 1"), nil)
	got := wantErrorCode(t, r, 400, "INVALID_FIELD")
	if !strings.Contains(got["message"].(string), "ERROR at Row:1:Column:") {
		t.Errorf("INVALID_FIELD message: got %q", got["message"])
	}
	wantErrorCode(t, e.do("GET", "query?q="+url.QueryEscape("SELECT Id FROM Nope"), nil), 400, "INVALID_TYPE")
	wantErrorCode(t, e.do("GET", "query?q="+url.QueryEscape("SELECT Id Contact"), nil), 400, "MALFORMED_QUERY")
}

func TestQueryAllSeesDeleted(t *testing.T) {
	t.Parallel()
	e := setup(t)
	keep := e.create(map[string]any{"LastName": "Keep"})
	gone := e.create(map[string]any{"LastName": "Gone"})
	wantStatus(t, e.do("DELETE", "sobjects/Contact/"+gone, nil), 204)
	q := url.QueryEscape("SELECT Id, IsDeleted FROM Contact ORDER BY LastName")
	var page struct {
		TotalSize int              `json:"totalSize"`
		Records   []map[string]any `json:"records"`
	}
	e.do("GET", "query?q="+q, nil).json(t, &page)
	if page.TotalSize != 1 || page.Records[0]["Id"] != keep {
		t.Errorf("query: got %+v, want only %s", page, keep)
	}
	e.do("GET", "queryAll?q="+q, nil).json(t, &page)
	if page.TotalSize != 2 || page.Records[0]["Id"] != gone || page.Records[0]["IsDeleted"] != true {
		t.Errorf("queryAll: got %+v, want %s deleted first", page, gone)
	}
	// After 15 days the Recycle Bin is purged.
	e.advance(16 * 24 * time.Hour)
	e.do("GET", "queryAll?q="+q, nil).json(t, &page)
	if page.TotalSize != 1 {
		t.Errorf("queryAll after purge: got %d rows, want 1", page.TotalSize)
	}
}

func TestAdminCheckQueries(t *testing.T) {
	t.Parallel()
	e := setup(t)
	std, err := e.org.CreateUser(UserOptions{Username: "std@example.com", Password: "pw", LastName: "Std"})
	if err != nil {
		t.Fatal(err)
	}
	stdTok, _ := e.srv.IssueToken(e.org, std.Username)
	q := "query?q=" + url.QueryEscape("SELECT PermissionsModifyAllData, PermissionsCustomizeApplication FROM UserPermissionAccess")
	var page struct {
		Records []map[string]any `json:"records"`
	}
	e.do("GET", q, nil).json(t, &page)
	if len(page.Records) != 1 || page.Records[0]["PermissionsModifyAllData"] != true || page.Records[0]["PermissionsCustomizeApplication"] != true {
		t.Errorf("admin UserPermissionAccess: got %+v", page.Records)
	}
	e.doToken(stdTok.AccessToken, "GET", q, nil).json(t, &page)
	if page.Records[0]["PermissionsModifyAllData"] != false {
		t.Errorf("standard user UserPermissionAccess: got %+v", page.Records)
	}
	if _, err := e.org.CreatePermissionSet("Sync_Admin", true, false); err != nil {
		t.Fatal(err)
	}
	psa := func(userID string) int {
		var p struct {
			TotalSize int `json:"totalSize"`
		}
		src := fmt.Sprintf("SELECT Id, PermissionSet.Name FROM PermissionSetAssignment WHERE AssigneeId = '%s' AND PermissionSet.PermissionsModifyAllData = true", userID)
		r := e.do("GET", "query?q="+url.QueryEscape(src), nil)
		wantStatus(t, r, 200)
		r.json(t, &p)
		return p.TotalSize
	}
	if got := psa(std.ID); got != 0 {
		t.Errorf("standard user ModifyAllData assignments: got %d, want 0", got)
	}
	if err := e.org.AssignPermissionSet(std.ID, "Sync_Admin"); err != nil {
		t.Fatal(err)
	}
	if got := psa(std.ID); got != 1 {
		t.Errorf("assignments after Sync_Admin: got %d, want 1", got)
	}
	if got := psa(e.org.Admin().ID); got != 1 {
		t.Errorf("admin profile assignments: got %d, want 1", got)
	}
	r := e.do("GET", "query?q="+url.QueryEscape("SELECT Id, OrganizationType FROM Organization"), nil)
	if !strings.Contains(string(r.body), `"OrganizationType":"Developer Edition"`) {
		t.Errorf("Organization: got %s", r.body)
	}
}

func TestGetUpdatedDeleted(t *testing.T) {
	t.Parallel()
	e := setup(t)
	start := e.srv.Now()
	a := e.create(map[string]any{"LastName": "A"})
	e.srv.Advance(2 * time.Minute)
	b := e.create(map[string]any{"LastName": "B"})
	wantStatus(t, e.do("DELETE", "sobjects/Contact/"+a, nil), 204)
	e.srv.Advance(2 * time.Minute)
	f := func(t time.Time) string { return url.QueryEscape(t.Format(time.RFC3339)) }
	r := e.do("GET", "sobjects/Contact/updated/?start="+f(start)+"&end="+f(e.srv.Now().Add(time.Hour)), nil)
	wantStatus(t, r, 200)
	var upd struct {
		IDs    []string `json:"ids"`
		Latest string   `json:"latestDateCovered"`
	}
	r.json(t, &upd)
	if fmt.Sprint(upd.IDs) != "["+b+"]" {
		t.Errorf("updated ids: got %v, want [%s]", upd.IDs, b)
	}
	if want := e.srv.Now().Truncate(time.Minute).Format("2006-01-02T15:04:05.000+0000"); upd.Latest != want {
		t.Errorf("latestDateCovered: got %s, want %s", upd.Latest, want)
	}
	r = e.do("GET", "sobjects/Contact/deleted/?start="+f(start)+"&end="+f(e.srv.Now()), nil)
	wantStatus(t, r, 200)
	var del struct {
		Deleted []struct {
			ID   string `json:"id"`
			Date string `json:"deletedDate"`
		} `json:"deletedRecords"`
		Earliest string `json:"earliestDateAvailable"`
	}
	r.json(t, &del)
	if len(del.Deleted) != 1 || del.Deleted[0].ID != a || del.Earliest == "" {
		t.Errorf("deleted: got %s", r.body)
	}
	wantErrorCode(t, e.do("GET", "sobjects/Contact/updated/?start="+f(start.Add(-31*24*time.Hour))+"&end="+f(start), nil), 400, "INVALID_REPLICATION_DATE")
	wantErrorCode(t, e.do("GET", "sobjects/Contact/deleted/?start="+f(start.Add(-16*24*time.Hour))+"&end="+f(start), nil), 400, "INVALID_REPLICATION_DATE")
	wantErrorCode(t, e.do("GET", "sobjects/Contact/updated/?start="+f(start)+"&end="+f(start), nil), 400, "INVALID_REPLICATION_DATE")
	// An unencoded "+" arrives as a space and is refused.
	wantErrorCode(t, e.do("GET", "sobjects/Contact/updated/?start=2026-03-01T08:00:00+00:00&end="+f(start.Add(time.Hour)), nil), 400, "INVALID_REPLICATION_DATE")
}

func TestLimits(t *testing.T) {
	t.Parallel()
	e := setup(t, func(o *Options, oo *OrgOptions) { oo.APIAllocation = 5 })
	r := e.do("GET", "limits", nil)
	wantStatus(t, r, 200)
	var lim map[string]map[string]any
	r.json(t, &lim)
	if lim["DailyApiRequests"]["Max"] != 5.0 || lim["DailyApiRequests"]["Remaining"] != 4.0 {
		t.Errorf("DailyApiRequests: got %v, want Max 5 Remaining 4", lim["DailyApiRequests"])
	}
	if got := r.header.Get("Sforce-Limit-Info"); got != "api-usage=1/5" {
		t.Errorf("Sforce-Limit-Info: got %q, want api-usage=1/5", got)
	}
	for i := 2; i <= 5; i++ {
		wantStatus(t, e.do("GET", "limits", nil), 200)
	}
	r = e.do("GET", "limits", nil)
	got := wantErrorCode(t, r, 403, "REQUEST_LIMIT_EXCEEDED")
	if got["message"] != "TotalRequests Limit exceeded." {
		t.Errorf("message: got %q", got["message"])
	}
	// The window is rolling: 24 hours later the calls have aged out.
	e.advance(24*time.Hour + time.Minute)
	wantStatus(t, e.do("GET", "limits", nil), 200)
	e.org.SetAPIUsage(5)
	wantErrorCode(t, e.do("GET", "limits", nil), 403, "REQUEST_LIMIT_EXCEEDED")
}

func TestEditionDefaults(t *testing.T) {
	t.Parallel()
	tests := []struct {
		e    Edition
		want int
	}{{Developer, 15000}, {Enterprise, 110000}, {Professional, 110000}, {Unlimited, 150000}}
	for _, tt := range tests {
		if got := tt.e.DefaultAPIAllocation(10); got != tt.want {
			t.Errorf("%s allocation: got %d, want %d", tt.e, got, tt.want)
		}
	}
	for e, want := range map[Edition]bool{Developer: true, Enterprise: true, Unlimited: true, Professional: false, ProfessionalNoAPI: false} {
		if got := e.CDCAvailable(); got != want {
			t.Errorf("%s CDCAvailable: got %v, want %v", e, got, want)
		}
	}
	e := setup(t, func(o *Options, oo *OrgOptions) { oo.Edition = ProfessionalNoAPI })
	for _, p := range []string{"sobjects/Contact/describe", "limits", "query?q=SELECT+Id+FROM+Contact"} {
		got := wantErrorCode(t, e.do("GET", p, nil), 403, "API_DISABLED_FOR_ORG")
		if got["message"] != "The REST API is not enabled for this Organization." {
			t.Errorf("message: got %q", got["message"])
		}
	}
	e.org.SetEdition(Professional)
	wantStatus(t, e.do("GET", "limits", nil), 200)
}

func TestGzip(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.create(map[string]any{"LastName": "Zip"})
	req, _ := newGzipRequest(e, `{"LastName":"Gzipped"}`)
	res, err := e.ts.Client().Transport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != 201 || res.Header.Get("Content-Encoding") != "gzip" {
		t.Fatalf("gzip create: got %d %q, want 201 gzip", res.StatusCode, res.Header.Get("Content-Encoding"))
	}
	body := gunzip(t, res.Body)
	if !strings.Contains(body, `"success":true`) {
		t.Errorf("gzip body: got %s", body)
	}

	// The compressors are pooled: answers compressed at the same time, and
	// one after another on reused writers, each carry their own body.
	ids := make([]string, 16)
	for i := range ids {
		ids[i] = e.create(map[string]any{"LastName": fmt.Sprintf("Zip%02d", i)})
	}
	var wg sync.WaitGroup
	for round := range 3 {
		for i, id := range ids {
			wg.Go(func() {
				req, _ := http.NewRequest("GET", e.ts.URL+sfapi.VersionPath+"/sobjects/Contact/"+id, nil)
				req.Header.Set("Authorization", "Bearer "+e.token.AccessToken)
				req.Header.Set("Accept-Encoding", "gzip")
				res, err := e.ts.Client().Transport.RoundTrip(req)
				if err != nil {
					t.Error(err)
					return
				}
				defer res.Body.Close()
				zr, err := gzip.NewReader(res.Body)
				if err != nil {
					t.Errorf("round %d, record %d: %v", round, i, err)
					return
				}
				b, err := io.ReadAll(zr)
				if want := fmt.Sprintf(`"LastName":"Zip%02d"`, i); err != nil || !strings.Contains(string(b), want) {
					t.Errorf("round %d, record %d: got %s (%v), want %s", round, i, b, err, want)
				}
			})
		}
		wg.Wait()
	}
}

func TestMultiOrg(t *testing.T) {
	t.Parallel()
	e := setup(t)
	other, err := e.srv.CreateOrg(OrgOptions{Edition: Enterprise})
	if err != nil {
		t.Fatal(err)
	}
	otherTok, _ := e.srv.IssueToken(other, other.Admin().Username)
	if !strings.HasPrefix(otherTok.AccessToken, other.ID()[:15]+"!") {
		t.Errorf("token prefix: got %s, want %s!", otherTok.AccessToken[:16], other.ID()[:15])
	}
	mine := e.create(map[string]any{"LastName": "Mine"})
	wantErrorCode(t, e.doToken(otherTok.AccessToken, "GET", "sobjects/Contact/"+mine, nil), 404, "NOT_FOUND")
	r := e.doToken(otherTok.AccessToken, "GET", "query?q="+url.QueryEscape("SELECT COUNT() FROM Contact"), nil)
	if string(r.body) != `{"totalSize":0,"done":true,"records":[]}` {
		t.Errorf("other org count: got %s", r.body)
	}
	if got := r.header.Get("Sforce-Limit-Info"); got != "api-usage=2/110000" {
		t.Errorf("other org usage: got %q, want api-usage=2/110000", got)
	}
}

func TestValidationRules(t *testing.T) {
	t.Parallel()
	e := setup(t)
	r := e.doToken("", "POST", "/__emulator__/orgs/default/validation-rules", map[string]any{
		"name": "Mobile_E164", "field": "MobilePhone", "pattern": `^\+[1-9]\d{6,14}$`, "message": "Mobile must be in E.164 format", "showOnField": true})
	wantStatus(t, r, 201)
	got := wantErrorCode(t, e.do("POST", "sobjects/Contact", map[string]any{"LastName": "x", "MobilePhone": "0912345678"}), 400, "FIELD_CUSTOM_VALIDATION_EXCEPTION")
	if got["message"] != "Mobile must be in E.164 format" || fmt.Sprint(got["fields"]) != "[MobilePhone]" {
		t.Errorf("rule error: got %v", got)
	}
	id := e.create(map[string]any{"LastName": "x", "MobilePhone": "+886912345678"})
	wantErrorCode(t, e.do("PATCH", "sobjects/Contact/"+id, map[string]any{"MobilePhone": "12345"}), 400, "FIELD_CUSTOM_VALIDATION_EXCEPTION")
	wantStatus(t, e.do("PATCH", "sobjects/Contact/"+id, map[string]any{"Title": "unrelated"}), 204)
	if err := e.org.ModifyAsHuman(id, map[string]any{"MobilePhone": "abc"}); err == nil {
		t.Errorf("human edit breaking the rule: got nil error, want FIELD_CUSTOM_VALIDATION_EXCEPTION")
	}
	wantStatus(t, e.doToken("", "DELETE", "/__emulator__/orgs/default/validation-rules", nil), 204)
	wantStatus(t, e.do("PATCH", "sobjects/Contact/"+id, map[string]any{"MobilePhone": "12345"}), 204)
}

func TestRelationshipFields(t *testing.T) {
	t.Parallel()
	e := setup(t)
	boss := e.create(map[string]any{"LastName": "Boss"})
	id := e.create(map[string]any{"LastName": "Report", "ReportsToId": boss})
	if err := e.org.ModifyAsHuman(id, map[string]any{"Title": "Edited"}); err != nil {
		t.Fatal(err)
	}
	admin, human := e.org.Admin(), e.org.Human()
	src := fmt.Sprintf("SELECT Id, Owner.Email, LastModifiedBy.Name, ReportsTo.LastName FROM Contact WHERE Owner.Email = '%s' ORDER BY ReportsTo.LastName DESC NULLS LAST", admin.Email)
	r := e.do("GET", "query?q="+url.QueryEscape(src), nil)
	wantStatus(t, r, 200)
	var page struct {
		TotalSize int              `json:"totalSize"`
		Records   []map[string]any `json:"records"`
	}
	r.json(t, &page)
	if page.TotalSize != 2 || page.Records[0]["Id"] != id {
		t.Fatalf("relationship query: got %s", r.body)
	}
	first := page.Records[0]
	if got := first["Owner"].(map[string]any)["Email"]; got != admin.Email {
		t.Errorf("Owner.Email: got %v, want %s", got, admin.Email)
	}
	if got := first["LastModifiedBy"].(map[string]any)["Name"]; got != human.Name() {
		t.Errorf("LastModifiedBy.Name: got %v, want %s", got, human.Name())
	}
	if got := first["ReportsTo"].(map[string]any)["LastName"]; got != "Boss" {
		t.Errorf("ReportsTo.LastName: got %v, want Boss", got)
	}
	if page.Records[1]["ReportsTo"] != nil {
		t.Errorf("null lookup: got %v, want null", page.Records[1]["ReportsTo"])
	}
	if attrs := first["Owner"].(map[string]any)["attributes"].(map[string]any); attrs["type"] != "User" {
		t.Errorf("Owner attributes: got %v", attrs)
	}
	got := wantErrorCode(t, e.do("GET", "query?q="+url.QueryEscape("SELECT Id, Nobody.Name FROM Contact"), nil), 400, "INVALID_FIELD")
	if !strings.Contains(got["message"].(string), "Didn't understand relationship 'Nobody'") {
		t.Errorf("bad relationship message: got %q", got["message"])
	}
}

func TestDescribeIfModifiedSince(t *testing.T) {
	t.Parallel()
	e := setup(t)
	r := e.do("GET", "sobjects/Contact/describe", nil)
	lm := r.header.Get("Last-Modified")
	if lm == "" {
		t.Fatal("describe has no Last-Modified")
	}
	wantStatus(t, e.do("GET", "sobjects/Contact/describe", nil, "If-Modified-Since", lm), 304)
	e.advance(time.Hour)
	if err := e.org.AddCustomField(CustomField{Name: "WeChat_ID__c"}); err != nil {
		t.Fatal(err)
	}
	r = e.do("GET", "sobjects/Contact/describe", nil, "If-Modified-Since", lm)
	wantStatus(t, r, 200)
	if !strings.Contains(string(r.body), `"name":"WeChat_ID__c"`) {
		t.Errorf("describe after AddCustomField lacks WeChat_ID__c")
	}
}

func TestUpsertUpdateOnlyAndAggregate(t *testing.T) {
	t.Parallel()
	e := setup(t)
	wantErrorCode(t, e.do("PATCH", "sobjects/Contact/Member_Number__c/NOPE?updateOnly=true", map[string]any{"LastName": "x"}), 404, "NOT_FOUND")
	if got := e.org.ContactCount(); got != 0 {
		t.Errorf("contacts after updateOnly miss: got %d, want 0", got)
	}
	e.create(map[string]any{"LastName": "A", "Email": "a@example.com"})
	e.create(map[string]any{"LastName": "B"})
	r := e.do("GET", "query?q="+url.QueryEscape("SELECT COUNT(Id), COUNT(Email) withEmail FROM Contact"), nil)
	wantStatus(t, r, 200)
	if want := `{"totalSize":1,"done":true,"records":[{"attributes":{"type":"AggregateResult"},"expr0":2,"withEmail":1}]}`; string(r.body) != want {
		t.Errorf("aggregate: got %s, want %s", r.body, want)
	}
}

func TestCreateOrgRefusesTakenUsername(t *testing.T) {
	t.Parallel()
	e := setup(t)
	if _, err := e.srv.CreateOrg(OrgOptions{AdminUsername: e.org.Admin().Username}); err == nil {
		t.Fatal("CreateOrg with a taken admin username: got nil error")
	}
	if got := len(e.srv.Orgs()); got != 1 {
		t.Errorf("orgs after failed CreateOrg: got %d, want 1", got)
	}
}

func TestRequiredOnUpdate(t *testing.T) {
	t.Parallel()
	e := setup(t)
	id := e.create(map[string]any{"LastName": "Owned"})
	wantErrorCode(t, e.do("PATCH", "sobjects/Contact/"+id, map[string]any{"OwnerId": nil}), 400, "REQUIRED_FIELD_MISSING")
	if err := e.org.AddCustomField(CustomField{Name: "Opted_In__c", Type: "boolean"}); err != nil {
		t.Fatal(err)
	}
	wantStatus(t, e.do("PATCH", "sobjects/Contact/"+id, map[string]any{"Opted_In__c": nil}), 204)
	if rec, _ := e.org.Record(id); rec["Opted_In__c"] != false {
		t.Errorf("checkbox set to null: got %v, want false", rec["Opted_In__c"])
	}
}

func TestChangeHistoryRecordsClient(t *testing.T) {
	t.Parallel()
	e := setup(t)
	v := sfapi.VersionPath
	r := e.do("POST", "composite/sobjects", map[string]any{"records": []any{
		map[string]any{"attributes": map[string]any{"type": "Contact"}, "LastName": "Coll"},
	}}, "Sforce-Call-Options", "client=sfsync, defaultNamespace=x")
	wantStatus(t, r, 200)
	r = e.do("POST", "composite", map[string]any{"compositeRequest": []any{
		map[string]any{"method": "POST", "url": v + "/sobjects/Contact", "referenceId": "c", "body": map[string]any{"LastName": "Comp"}},
	}}, "Sforce-Call-Options", "client=other")
	wantStatus(t, r, 200)
	hist := e.org.History("")
	if len(hist) != 2 {
		t.Fatalf("history: got %d entries, want 2", len(hist))
	}
	if hist[0].Client != "sfsync" || hist[0].Origin != "com/salesforce/api/rest/62.0;client=sfsync" {
		t.Errorf("collections change: got client %q origin %q", hist[0].Client, hist[0].Origin)
	}
	if hist[1].Client != "other" || hist[1].UserID != e.org.Admin().ID || !containsFold(hist[1].ChangedFields, "LastName") {
		t.Errorf("composite change: got %+v", hist[1])
	}
}

func TestUndeleteAsHuman(t *testing.T) {
	t.Parallel()
	e := setup(t)
	id := e.create(map[string]any{"LastName": "Back", "Member_Number__c": "U1"})
	wantStatus(t, e.do("DELETE", "sobjects/Contact/"+id, nil), 204)
	// The member number is free while the row is in the Recycle Bin...
	other := e.create(map[string]any{"LastName": "Taker", "Member_Number__c": "U1"})
	if err := e.org.UndeleteAsHuman(id); err == nil {
		t.Fatal("undelete with a taken unique value: got nil error")
	}
	wantStatus(t, e.do("DELETE", "sobjects/Contact/"+other, nil), 204)
	wantStatus(t, e.doToken("", "POST", "/__emulator__/orgs/default/records/"+id+"/undelete", nil), 204)
	r := e.do("GET", "sobjects/Contact/Member_Number__c/U1", nil)
	wantStatus(t, r, 200)
	if !strings.Contains(string(r.body), id) || !strings.Contains(string(r.body), `"IsDeleted":false`) {
		t.Errorf("after undelete: got %.300s", r.body)
	}
	hist := e.org.History(id)
	if last := hist[len(hist)-1]; last.Type != "UNDELETE" || last.UserID != e.org.Human().ID {
		t.Errorf("undelete history: got %+v", last)
	}
}
