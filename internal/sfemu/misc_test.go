package sfemu

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestDateTimeFieldsAndTouch(t *testing.T) {
	t.Parallel()
	e := setup(t)
	tests := []struct{ in, want string }{
		{"2024-03-05T09:12:44.000+0000", "2024-03-05T09:12:44.000+0000"},
		{"2024-03-05T17:12:44+08:00", "2024-03-05T09:12:44.000+0000"},
		{"2024-03-05T09:12:44.123Z", "2024-03-05T09:12:44.123+0000"},
	}
	for _, tt := range tests {
		id := e.create(map[string]any{"LastName": "Bounce", "EmailBouncedDate": tt.in})
		var rec map[string]any
		e.do("GET", "sobjects/Contact/"+id+"?fields=EmailBouncedDate", nil).json(t, &rec)
		if rec["EmailBouncedDate"] != tt.want {
			t.Errorf("EmailBouncedDate %q: got %v, want %s", tt.in, rec["EmailBouncedDate"], tt.want)
		}
	}
	wantErrorCode(t, e.do("POST", "sobjects/Contact", map[string]any{"LastName": "x", "EmailBouncedDate": "yesterday"}), 400, "JSON_PARSER_ERROR")

	id := e.create(map[string]any{"LastName": "Touched"})
	before, _ := e.org.Record(id)
	e.srv.Advance(time.Minute)
	if err := e.org.TouchSystemModstamp(id); err != nil {
		t.Fatal(err)
	}
	after, _ := e.org.Record(id)
	if !after["SystemModstamp"].(time.Time).After(before["SystemModstamp"].(time.Time)) || !after["LastModifiedDate"].(time.Time).Equal(before["LastModifiedDate"].(time.Time)) {
		t.Errorf("touch: SystemModstamp %v → %v, LastModifiedDate %v → %v; want only SystemModstamp to move",
			before["SystemModstamp"], after["SystemModstamp"], before["LastModifiedDate"], after["LastModifiedDate"])
	}
	if err := e.org.TouchSystemModstamp("003000000000000AAA"); err == nil {
		t.Errorf("touching a missing record: got nil error")
	}
}

func TestEmptyRecycleBinMovesEarliestDate(t *testing.T) {
	t.Parallel()
	e := setup(t)
	start := e.srv.Now()
	id := e.create(map[string]any{"LastName": "Bin"})
	wantStatus(t, e.do("DELETE", "sobjects/Contact/"+id, nil), 204)
	e.srv.Advance(5 * time.Minute)
	if n := e.org.EmptyRecycleBin(); n != 1 {
		t.Fatalf("EmptyRecycleBin: got %d, want 1", n)
	}
	f := func(t time.Time) string { return url.QueryEscape(t.Format(time.RFC3339)) }
	var del struct {
		Deleted  []any  `json:"deletedRecords"`
		Earliest string `json:"earliestDateAvailable"`
	}
	e.do("GET", "sobjects/Contact/deleted/?start="+f(start)+"&end="+f(e.srv.Now()), nil).json(t, &del)
	earliest, err := time.Parse("2006-01-02T15:04:05.000-0700", del.Earliest)
	if err != nil {
		t.Fatal(err)
	}
	if len(del.Deleted) != 0 || !earliest.After(start) {
		t.Errorf("after emptying the bin: got %d deleted, earliest %s; want none and earliest after %s", len(del.Deleted), del.Earliest, start)
	}
	wantErrorCode(t, e.do("GET", "sobjects/Contact/"+id, nil), 404, "NOT_FOUND")
	var page struct {
		TotalSize int `json:"totalSize"`
	}
	e.do("GET", "queryAll?q="+url.QueryEscape("SELECT Id FROM Contact"), nil).json(t, &page)
	if page.TotalSize != 0 {
		t.Errorf("queryAll after emptying the bin: got %d, want 0", page.TotalSize)
	}
}

func TestIntrospectAndRecordCount(t *testing.T) {
	t.Parallel()
	e := setup(t)
	form := url.Values{"token": {e.token.AccessToken}, "client_id": {e.app.ClientID}, "client_secret": {e.app.ClientSecret}}
	res, err := http.PostForm(e.ts.URL+"/services/oauth2/introspect", form)
	if err != nil {
		t.Fatal(err)
	}
	var in map[string]any
	_ = json.Unmarshal([]byte(readAll(t, res)), &in)
	if in["active"] != true || in["token_type"] != "access_token" || in["username"] != e.org.Admin().Username {
		t.Errorf("introspect: got %v", in)
	}
	form.Set("token", "nope")
	res, _ = http.PostForm(e.ts.URL+"/services/oauth2/introspect", form)
	if body := readAll(t, res); body != `{"active":false}` {
		t.Errorf("introspect unknown token: got %s", body)
	}
	if _, err := e.org.SeedContacts(7, 1); err != nil {
		t.Fatal(err)
	}
	r := e.do("GET", "limits/recordCount?sObjects=Contact,User", nil)
	wantStatus(t, r, 200)
	if want := `{"sObjects":[{"count":7,"name":"Contact"},{"count":2,"name":"User"}]}`; string(r.body) != want {
		t.Errorf("recordCount: got %s, want %s", r.body, want)
	}
	r = e.do("PUT", "sobjects/Contact", map[string]any{})
	got := wantErrorCode(t, r, 405, "METHOD_NOT_ALLOWED")
	if got["message"] != "HTTP Method 'PUT' not allowed. Allowed are GET,HEAD,POST" {
		t.Errorf("405 message: got %q", got["message"])
	}
	wantErrorCode(t, e.do("POST", "sobjects/User", map[string]any{"LastName": "x"}), 403, "INSUFFICIENT_ACCESS_OR_READONLY")
}

func TestAllocationAndRefreshExpiry(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.org.SetAPIAllocation(2)
	wantStatus(t, e.do("GET", "limits", nil), 200)
	wantStatus(t, e.do("GET", "limits", nil), 200)
	wantErrorCode(t, e.do("GET", "limits", nil), 403, "REQUEST_LIMIT_EXCEEDED")
	// An override survives an edition change.
	e.org.SetEdition(Enterprise)
	if _, max := e.org.APIUsage(); max != 2 {
		t.Errorf("allocation after edition change: got %d, want 2", max)
	}
	if n := e.srv.ExpireRefreshTokens(e.org); n != 1 {
		t.Errorf("ExpireRefreshTokens: got %d, want 1", n)
	}
	status, tok := tokenCall(t, e, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {e.token.RefreshToken}}, true)
	if status != 400 || tok["error"] != "invalid_grant" {
		t.Errorf("refresh after expiry: got %d %v", status, tok)
	}
}

func TestCursorLimitPerUser(t *testing.T) {
	t.Parallel()
	e := setup(t)
	if _, err := e.org.SeedContacts(450, 2); err != nil {
		t.Fatal(err)
	}
	q := "query?q=" + url.QueryEscape("SELECT Id FROM Contact")
	var first string
	for i := 0; i < maxCursorsPerUser+1; i++ {
		var page struct {
			NextRecordsURL string `json:"nextRecordsUrl"`
		}
		e.do("GET", q, nil, "Sforce-Query-Options", "batchSize=200").json(t, &page)
		if i == 0 {
			first = page.NextRecordsURL
		}
		e.srv.Advance(time.Second)
	}
	wantErrorCode(t, e.do("GET", first, nil), 400, "INVALID_QUERY_LOCATOR")
}

func TestSideDoorOrgs(t *testing.T) {
	t.Parallel()
	e := setup(t)
	r := e.doToken("", "POST", "/__emulator__/orgs", map[string]any{"Edition": "ProfessionalNoAPI", "customFields": []any{}})
	wantStatus(t, r, 201)
	var org map[string]any
	r.json(t, &org)
	if org["apiEnabled"] != false || fmt.Sprint(org["contactFields"]) == "" || strings.Contains(fmt.Sprint(org["contactFields"]), "__c") {
		t.Errorf("created org: got %v", org)
	}
	r = e.doToken("", "GET", "/__emulator__/orgs", nil)
	var orgs []map[string]any
	r.json(t, &orgs)
	if len(orgs) != 2 {
		t.Errorf("orgs: got %d, want 2", len(orgs))
	}
	id := org["id"].(string)
	wantStatus(t, e.doToken("", "PUT", "/__emulator__/orgs/"+id+"/edition", map[string]any{"edition": "Professional"}), 200)
	o, _ := e.srv.Org(id)
	if o.Edition() != Professional {
		t.Errorf("edition: got %s, want Professional", o.Edition())
	}
	r = e.doToken("", "POST", "/__emulator__/orgs/"+id+"/users", map[string]any{"Username": "new@x.example.com", "LastName": "New", "Password": "pw"})
	wantStatus(t, r, 201)
	r = e.doToken("", "GET", "/__emulator__/orgs/"+id+"/history", nil)
	wantStatus(t, r, 200)
}

func TestURIAndHeaderLimits(t *testing.T) {
	t.Parallel()
	e := setup(t)
	ids := make([]string, 0, 900)
	for i := 0; i < 900; i++ {
		ids = append(ids, fmt.Sprintf("'003000000000%03dAAA'", i))
	}
	long := "query?q=" + url.QueryEscape("SELECT Id FROM Contact WHERE Id IN ("+strings.Join(ids, ",")+")")
	if r := e.do("GET", long, nil); r.status != http.StatusRequestURITooLong {
		t.Errorf("long URI: got %d, want 414", r.status)
	}
	short := "query?q=" + url.QueryEscape("SELECT Id FROM Contact WHERE Id IN ("+strings.Join(ids[:200], ",")+")")
	wantStatus(t, e.do("GET", short, nil), 200)
	if r := e.do("GET", "limits", nil, "X-Padding", strings.Repeat("x", 16500)); r.status != http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("large headers: got %d, want 431", r.status)
	}
}
