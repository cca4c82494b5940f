package sfemu

import (
	"encoding/csv"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// ingestJobInfo is the part of an ingest job's JSON the tests read.
type ingestJobInfo struct {
	ID                     string  `json:"id"`
	State                  string  `json:"state"`
	Operation              string  `json:"operation"`
	Object                 string  `json:"object"`
	JobType                string  `json:"jobType"`
	ContentURL             string  `json:"contentUrl"`
	APIVersion             float64 `json:"apiVersion"`
	NumberRecordsProcessed *int    `json:"numberRecordsProcessed"`
	NumberRecordsFailed    *int    `json:"numberRecordsFailed"`
	ErrorMessage           string  `json:"errorMessage"`
}

// openIngest creates an ingest job and returns its id.
func (e *env) openIngest(job map[string]any, hdr ...string) string {
	e.t.Helper()
	r := e.do("POST", "jobs/ingest", job, hdr...)
	wantStatus(e.t, r, 200)
	var info ingestJobInfo
	r.json(e.t, &info)
	if info.State != "Open" || len(info.ID) != 18 || !strings.HasPrefix(info.ID, "750") {
		e.t.Fatalf("create job: got %s, want an Open 750 job", r.body)
	}
	return info.ID
}

// upload PUTs CSV job data.
func (e *env) upload(id, data string) {
	e.t.Helper()
	wantStatus(e.t, e.do("PUT", "jobs/ingest/"+id+"/batches", data, "Content-Type", "text/csv"), 201)
}

// closeIngest sets the job to UploadComplete.
func (e *env) closeIngest(id string) {
	e.t.Helper()
	wantStatus(e.t, e.do("PATCH", "jobs/ingest/"+id, map[string]string{"state": "UploadComplete"}), 200)
}

// waitIngest polls the job until it reaches a final state and returns it
// with every state it showed on the way.
func (e *env) waitIngest(id string) (ingestJobInfo, []string) {
	e.t.Helper()
	var seen []string
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		r := e.do("GET", "jobs/ingest/"+id, nil)
		wantStatus(e.t, r, 200)
		var info ingestJobInfo
		r.json(e.t, &info)
		seen = append(seen, info.State)
		switch info.State {
		case "JobComplete", "Failed", "Aborted":
			return info, seen
		}
		time.Sleep(5 * time.Millisecond)
	}
	e.t.Fatalf("job %s: still %v after 10s, want a final state", id, seen)
	return ingestJobInfo{}, nil
}

// runIngest runs a job end to end: create, one PUT, UploadComplete, poll.
func (e *env) runIngest(job map[string]any, data string, hdr ...string) (string, ingestJobInfo) {
	e.t.Helper()
	id := e.openIngest(job, hdr...)
	e.upload(id, data)
	e.closeIngest(id)
	info, _ := e.waitIngest(id)
	return id, info
}

// ingestCSV reads one of a job's result lists.
func (e *env) ingestCSV(id, kind string) [][]string {
	e.t.Helper()
	r := e.do("GET", "jobs/ingest/"+id+"/"+kind, nil)
	wantStatus(e.t, r, 200)
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/csv") {
		e.t.Errorf("%s Content-Type: got %q, want text/csv", kind, ct)
	}
	rows, err := csv.NewReader(strings.NewReader(string(r.body))).ReadAll()
	if err != nil {
		e.t.Fatalf("%s: parse %q: %v", kind, r.body, err)
	}
	return rows
}

func wantCounts(t *testing.T, info ingestJobInfo, processed, failed int) {
	t.Helper()
	if info.NumberRecordsProcessed == nil || info.NumberRecordsFailed == nil ||
		*info.NumberRecordsProcessed != processed || *info.NumberRecordsFailed != failed {
		t.Errorf("job counts: got processed %s failed %s, want %d and %d", intText(info.NumberRecordsProcessed), intText(info.NumberRecordsFailed), processed, failed)
	}
}

func intText(n *int) string {
	if n == nil {
		return "none"
	}
	return fmt.Sprint(*n)
}

func TestBulkIngestInsert(t *testing.T) {
	t.Parallel()
	e := setup(t)
	usedBefore, _ := e.org.APIUsage()
	r := e.do("POST", "jobs/ingest", map[string]any{"object": "Contact", "operation": "insert", "contentType": "CSV", "lineEnding": "LF"},
		"Sforce-Call-Options", "client=bulktest")
	wantStatus(t, r, 200)
	var created map[string]any
	r.json(t, &created)
	id := created["id"].(string)
	wantKeys := []string{"id", "operation", "object", "createdById", "createdDate", "systemModstamp", "state", "concurrencyMode", "contentType", "apiVersion", "contentUrl", "lineEnding", "columnDelimiter"}
	if got := keysInOrder(t, r.body); !slices.Equal(got, wantKeys) {
		t.Errorf("create job keys: got %v, want %v", got, wantKeys)
	}
	if created["contentUrl"] != "services/data/v62.0/jobs/ingest/"+id+"/batches" || created["columnDelimiter"] != "COMMA" ||
		created["createdById"] != e.org.Admin().ID || created["apiVersion"] != 62.0 || !strings.Contains(string(r.body), `"apiVersion":62.0`) {
		t.Errorf("create job: got %s", r.body)
	}
	r = e.do("GET", "jobs/ingest/"+id, nil)
	wantStatus(t, r, 200)
	if strings.Contains(string(r.body), "numberRecordsProcessed") || !strings.Contains(string(r.body), `"contentUrl"`) {
		t.Errorf("Open job info: got %s, want contentUrl and no record counts", r.body)
	}

	data := "FirstName,LastName,Email,Title,Description\n" +
		"Ada,Lovelace,ada@example.com,Countess,\"Wrote, the \"\"first\"\"\nprogram\"\n" +
		"Nobody,,nobody@example.com,#N/A,\n" +
		"Grace,Hopper,grace@example.com,#N/A,\n"
	e.upload(id, data)
	r = e.do("PATCH", "jobs/ingest/"+id, map[string]string{"state": "UploadComplete"})
	wantStatus(t, r, 200)
	wantKeys = []string{"id", "operation", "object", "createdById", "createdDate", "systemModstamp", "state", "concurrencyMode", "contentType", "apiVersion"}
	if got := keysInOrder(t, r.body); !slices.Equal(got, wantKeys) {
		t.Errorf("UploadComplete answer keys: got %v, want %v", got, wantKeys)
	}
	info, states := e.waitIngest(id)
	if info.State != "JobComplete" || states[0] != "InProgress" || info.JobType != "V2Ingest" || info.ContentURL != "" {
		t.Fatalf("job: got %+v after states %v, want JobComplete after InProgress, jobType V2Ingest, no contentUrl", info, states)
	}
	wantCounts(t, info, 3, 1)

	ok := e.ingestCSV(id, "successfulResults")
	if got, want := ok[0], []string{"sf__Id", "sf__Created", "FirstName", "LastName", "Email", "Title", "Description"}; !slices.Equal(got, want) {
		t.Errorf("successfulResults header: got %v, want %v", got, want)
	}
	if len(ok) != 3 || ok[1][1] != "true" || ok[1][6] != "Wrote, the \"first\"\nprogram" || ok[2][2] != "Grace" || ok[2][5] != "#N/A" {
		t.Fatalf("successfulResults: got %q", ok)
	}
	ada, found := e.org.Record(ok[1][0])
	if !found || ada["LastName"] != "Lovelace" || ada["Title"] != "Countess" || ada["Description"] != "Wrote, the \"first\"\nprogram" || ada["Name"] != "Ada Lovelace" {
		t.Errorf("inserted record: got %v (found %v)", ada, found)
	}
	if grace, _ := e.org.Record(ok[2][0]); grace["Title"] != nil {
		t.Errorf("#N/A Title: got %v, want null", grace["Title"])
	}
	bad := e.ingestCSV(id, "failedResults")
	want := [][]string{
		{"sf__Id", "sf__Error", "FirstName", "LastName", "Email", "Title", "Description"},
		{"", "REQUIRED_FIELD_MISSING:Required fields are missing: [LastName]:LastName --", "Nobody", "", "nobody@example.com", "#N/A", ""},
	}
	if !slices.EqualFunc(bad, want, slices.Equal) {
		t.Errorf("failedResults: got %q, want %q", bad, want)
	}
	if rows := e.ingestCSV(id, "unprocessedrecords"); len(rows) != 1 || rows[0][0] != "FirstName" {
		t.Errorf("unprocessedrecords: got %q, want the header only", rows)
	}
	// The guide's examples end the result URLs with a slash.
	if r := e.do("GET", "jobs/ingest/"+id+"/failedResults/", nil); r.status != 200 || !strings.Contains(string(r.body), "REQUIRED_FIELD_MISSING") {
		t.Errorf("failedResults/: got %d %s", r.status, r.body)
	}

	// The change history is the REST path's, made through the Bulk API.
	for _, row := range ok[1:] {
		h := e.org.History(row[0])
		if len(h) != 1 || h[0].Type != "CREATE" || h[0].Client != "bulktest" || h[0].Origin != "com/salesforce/api/bulkapi/62.0;client=bulktest" || h[0].UserID != e.org.Admin().ID {
			t.Errorf("history of %s: got %+v, want one CREATE by the admin through bulkapi with client bulktest", row[0], h)
		}
	}
	// Every HTTP request counts once against the API allocation.
	used, _ := e.org.APIUsage()
	// create, info, PUT, PATCH, the polls, four result reads
	if calls := 4 + len(states) + 4; used-usedBefore != calls {
		t.Errorf("API usage: got %d more, want %d (one per request)", used-usedBefore, calls)
	}
}

// keysInOrder returns the top-level keys of a JSON object in order.
func keysInOrder(t *testing.T, body []byte) []string {
	t.Helper()
	var keys []string
	s := string(body)
	depth := 0
	inStr, esc := false, false
	start := -1
	for i, ch := range s {
		switch {
		case esc:
			esc = false
		case inStr && ch == '\\':
			esc = true
		case ch == '"':
			if !inStr {
				start = i
			} else if depth == 1 && strings.HasPrefix(strings.TrimLeft(s[i+1:], " "), ":") {
				keys = append(keys, s[start+1:i])
			}
			inStr = !inStr
		case inStr:
		case ch == '{' || ch == '[':
			depth++
		case ch == '}' || ch == ']':
			depth--
		}
	}
	return keys
}

func TestBulkIngestDelimitersAndLineEndings(t *testing.T) {
	t.Parallel()
	e := setup(t)
	for _, delim := range []string{"BACKQUOTE", "CARET", "COMMA", "PIPE", "SEMICOLON", "TAB"} {
		for _, eol := range []string{"LF", "CRLF"} {
			t.Run(delim+"_"+eol, func(t *testing.T) {
				sep := delimiters[delim]
				nl := map[string]string{"LF": "\n", "CRLF": "\r\n"}[eol]
				last := "Delim" + delim + eol
				data := "LastName" + sep + "Title" + nl + last + sep + `"a` + sep + `b"` + nl + last + sep + "plain" + nl
				id, info := e.runIngest(map[string]any{"object": "Contact", "operation": "insert", "columnDelimiter": delim, "lineEnding": eol}, data)
				if info.State != "JobComplete" {
					t.Fatalf("job: got %+v, want JobComplete", info)
				}
				wantCounts(t, info, 2, 0)
				r := e.do("GET", "jobs/ingest/"+id+"/successfulResults", nil)
				wantStatus(t, r, 200)
				lines := strings.Split(strings.TrimSuffix(string(r.body), nl), nl)
				if len(lines) != 3 || lines[0] != `"sf__Id"`+sep+`"sf__Created"`+sep+"LastName"+sep+"Title" || !strings.HasSuffix(lines[1], sep+`"a`+sep+`b"`) {
					t.Errorf("successfulResults in the job's format: got %q", r.body)
				}
				titles := map[string]bool{}
				for _, cid := range e.org.ContactIDs(false) {
					if rec, _ := e.org.Record(cid); rec["LastName"] == last {
						titles[rec["Title"].(string)] = true
					}
				}
				if len(titles) != 2 || !titles["a"+sep+"b"] || !titles["plain"] {
					t.Errorf("stored titles: got %v, want a%sb and plain", titles, sep)
				}
			})
		}
	}
}

func TestBulkIngestUpsertUpdateDelete(t *testing.T) {
	t.Parallel()
	e := setup(t)
	existing := e.create(map[string]any{"LastName": "Old", "Member_Number__c": "M-1", "Title": "Keep"})
	// Upsert by an external id: M-1 is updated, M-2 created.
	id, info := e.runIngest(map[string]any{"object": "Contact", "operation": "upsert", "externalIdFieldName": "Member_Number__c"},
		"Member_Number__c,LastName\nM-1,Renamed\nM-2,Fresh\n")
	if info.State != "JobComplete" {
		t.Fatalf("upsert job: got %+v", info)
	}
	wantCounts(t, info, 2, 0)
	ok := e.ingestCSV(id, "successfulResults")
	if len(ok) != 3 || ok[1][0] != existing || ok[1][1] != "false" || ok[2][1] != "true" {
		t.Fatalf("upsert successfulResults: got %q, want M-1 updated (%s, false) and M-2 created", ok, existing)
	}
	created := ok[2][0]
	if rec, _ := e.org.Record(existing); rec["LastName"] != "Renamed" || rec["Title"] != "Keep" {
		t.Errorf("upserted record: got %v, want LastName Renamed and Title kept", rec)
	}
	if rec, _ := e.org.Record(created); rec["Member_Number__c"] != "M-2" || rec["LastName"] != "Fresh" {
		t.Errorf("created by upsert: got %v", rec)
	}
	// Update by Id: an empty value is ignored, #N/A nulls the field.
	_, info = e.runIngest(map[string]any{"object": "Contact", "operation": "update"},
		"Id,LastName,Title\n"+existing+",,#N/A\n"+created[:15]+",Fresher,Boss\n003000000000000AAA,X,Y\n")
	wantCounts(t, info, 3, 1)
	if rec, _ := e.org.Record(existing); rec["LastName"] != "Renamed" || rec["Title"] != nil {
		t.Errorf("updated record: got %v, want LastName kept and Title null", rec)
	}
	if rec, _ := e.org.Record(created); rec["LastName"] != "Fresher" || rec["Title"] != "Boss" {
		t.Errorf("updated by a 15-char id: got %v", rec)
	}
	// Delete moves to the Recycle Bin; hardDelete removes for good.
	id, info = e.runIngest(map[string]any{"object": "Contact", "operation": "delete"}, "Id\n"+existing+"\n")
	wantCounts(t, info, 1, 0)
	if ok := e.ingestCSV(id, "successfulResults"); len(ok) != 2 || ok[1][0] != existing || ok[1][1] != "false" {
		t.Errorf("delete successfulResults: got %q", ok)
	}
	if rec, found := e.org.Record(existing); !found || rec["IsDeleted"] != true {
		t.Errorf("deleted record: got %v (found %v), want it in the Recycle Bin", rec, found)
	}
	id, info = e.runIngest(map[string]any{"object": "Contact", "operation": "hardDelete"}, "Id\n"+created+"\n"+existing+"\n")
	wantCounts(t, info, 2, 1)
	if _, found := e.org.Record(created); found {
		t.Errorf("hard-deleted record %s: still found, want it gone", created)
	}
	if bad := e.ingestCSV(id, "failedResults"); len(bad) != 2 || bad[1][0] != existing || bad[1][1] != "ENTITY_IS_DELETED:entity is deleted:--" {
		t.Errorf("hardDelete of a Recycle Bin row: got %q, want ENTITY_IS_DELETED", bad)
	}
	var types []string
	for _, ch := range e.org.History(existing) {
		types = append(types, ch.Type+"/"+strings.SplitN(ch.Origin, "/", 4)[3][:7])
	}
	if want := []string{"CREATE/rest/62", "UPDATE/bulkapi", "UPDATE/bulkapi", "DELETE/bulkapi"}; !slices.Equal(types, want) {
		t.Errorf("history of %s: got %v, want %v", existing, types, want)
	}
}

// TestBulkIngestSameRulesAsREST sends the same bad records through sObject
// Collections and a Bulk ingest job: validation rules, duplicate values,
// restricted picklists, e-mail format and lengths fail alike.
func TestBulkIngestSameRulesAsREST(t *testing.T) {
	t.Parallel()
	e := setup(t)
	if err := e.org.AddValidationRule(ValidationRule{Name: "PhoneDigits", Field: "Phone", Pattern: `^\+?[0-9 ]+$`, Message: "Phone must be digits", ShowOnField: true}); err != nil {
		t.Fatal(err)
	}
	e.create(map[string]any{"LastName": "Taken", "Member_Number__c": "DUP-1"})
	cases := []map[string]string{
		{"LastName": "Rule", "Phone": "call me"},
		{"LastName": "Dup", "Member_Number__c": "dup-1"},
		{"LastName": "Tier", "Tier__c": "Platinum"},
		{"LastName": "Mail", "Email": "not-an-email"},
		{"LastName": strings.Repeat("x", 81)},
		{"FirstName": "NoLast"},
		{"LastName": "Fine", "Phone": "+886 2 1234"},
	}
	cols := []string{"LastName", "FirstName", "Phone", "Member_Number__c", "Tier__c", "Email"}
	var recs []map[string]any
	data := strings.Join(cols, ",") + "\n"
	for _, c := range cases {
		rec := map[string]any{"attributes": map[string]string{"type": "Contact"}}
		var row []string
		for _, col := range cols {
			row = append(row, c[col])
			if v, ok := c[col]; ok {
				rec[col] = v
			}
		}
		recs = append(recs, rec)
		data += strings.Join(row, ",") + "\n"
	}
	r := e.do("POST", "composite/sobjects", map[string]any{"allOrNone": false, "records": recs})
	wantStatus(t, r, 200)
	var rest []struct {
		Success bool `json:"success"`
		Errors  []struct {
			StatusCode string   `json:"statusCode"`
			Message    string   `json:"message"`
			Fields     []string `json:"fields"`
		} `json:"errors"`
	}
	r.json(t, &rest)
	id, info := e.runIngest(map[string]any{"object": "Contact", "operation": "insert"}, data)
	wantCounts(t, info, len(cases), len(cases)-1)
	failed := map[string]string{}
	for _, row := range e.ingestCSV(id, "failedResults")[1:] {
		failed[row[2]+row[3]] = row[1]
	}
	for i, c := range cases {
		key := c["LastName"] + c["FirstName"]
		if rest[i].Success {
			if _, bad := failed[key]; bad {
				t.Errorf("%v: REST succeeded, Bulk failed with %s", c, failed[key])
			}
			continue
		}
		first := rest[i].Errors[0]
		want := bulkError(&apiError{Code: first.StatusCode, Message: first.Message, Fields: first.Fields})
		if failed[key] != want {
			t.Errorf("%v: Bulk sf__Error %q, want the REST error %q", c, failed[key], want)
		}
	}
	if !rest[len(cases)-1].Success {
		t.Errorf("the valid record failed through REST: %+v", rest[len(cases)-1])
	}
}

func TestBulkIngestFailedJobs(t *testing.T) {
	t.Parallel()
	e := setup(t)
	tests := []struct {
		name, lineEnding, data, wantMsg string
	}{
		{"unknown field", "LF", "LastName,Shoe_Size__c\nA,42\nB,43\n", "InvalidBatch : Field name not found : Shoe_Size__c"},
		{"CRLF data for an LF job", "LF", "LastName\r\nA\r\n", "ClientInputError : LineEnding is invalid on user data. Current LineEnding setting is LF"},
		{"LF data for a CRLF job", "CRLF", "LastName\nA\n", "ClientInputError : LineEnding is invalid on user data. Current LineEnding setting is CRLF"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := e.org.ContactCount()
			id, info := e.runIngest(map[string]any{"object": "Contact", "operation": "insert", "lineEnding": tc.lineEnding}, tc.data)
			if info.State != "Failed" || info.ErrorMessage != tc.wantMsg {
				t.Fatalf("job: got state %s errorMessage %q, want Failed with %q", info.State, info.ErrorMessage, tc.wantMsg)
			}
			wantCounts(t, info, 0, 0)
			if got := e.org.ContactCount(); got != before {
				t.Errorf("contacts: got %d, want %d (nothing written)", got, before)
			}
			if tc.name == "unknown field" {
				rows := e.ingestCSV(id, "unprocessedrecords")
				if want := [][]string{{"LastName", "Shoe_Size__c"}, {"A", "42"}, {"B", "43"}}; !slices.EqualFunc(rows, want, slices.Equal) {
					t.Errorf("unprocessedrecords: got %q, want %q", rows, want)
				}
			}
		})
	}
}

func TestBulkIngestStateErrors(t *testing.T) {
	t.Parallel()
	e := setup(t)
	wantErrorCode(t, e.do("GET", "jobs/ingest/7500000000000000AA", nil), 404, "NOT_FOUND")
	wantErrorCode(t, e.do("GET", "jobs/ingest/7500000000000000AA/successfulResults", nil), 404, "NOT_FOUND")
	for name, body := range map[string]map[string]any{
		"bad operation":         {"object": "Contact", "operation": "merge"},
		"upsert without key":    {"object": "Contact", "operation": "upsert"},
		"key not external":      {"object": "Contact", "operation": "upsert", "externalIdFieldName": "LastName"},
		"unknown object":        {"object": "Nope__c", "operation": "insert"},
		"bad delimiter":         {"object": "Contact", "operation": "insert", "columnDelimiter": "COLON"},
		"bad line ending":       {"object": "Contact", "operation": "insert", "lineEnding": "CR"},
		"content type not CSV":  {"object": "Contact", "operation": "insert", "contentType": "JSON"},
		"object missing":        {"operation": "insert"},
		"read-only object":      {"object": "Organization", "operation": "insert"},
		"operation not allowed": {"object": "User", "operation": "delete"},
	} {
		r := e.do("POST", "jobs/ingest", body)
		if r.status != 400 {
			t.Errorf("%s: got %d %s, want 400", name, r.status, r.body)
		}
	}
	// hardDelete needs the "Bulk API Hard Delete" permission (here: Modify All Data).
	std, err := e.org.CreateUser(UserOptions{Username: "std@ingest.example.com", Password: "x-Pa55word", LastName: "Standard"})
	if err != nil {
		t.Fatal(err)
	}
	stdTok, err := e.srv.IssueToken(e.org, std.Username)
	if err != nil {
		t.Fatal(err)
	}
	wantErrorCode(t, e.doToken(stdTok.AccessToken, "POST", "jobs/ingest", map[string]any{"object": "Contact", "operation": "hardDelete"}), 400, "FEATURENOTENABLED")
	wantStatus(t, e.doToken(stdTok.AccessToken, "POST", "jobs/ingest", map[string]any{"object": "Contact", "operation": "delete"}), 200)
	e2 := wantErrorCode(t, e.do("POST", "jobs/ingest", map[string]any{"object": "Contact", "operation": "upsert"}), 400, "INVALIDJOB")
	if e2["message"] != "InvalidJob : External ID was blank for Contact. An External ID must be specified for upsert." {
		t.Errorf("upsert without key: got %v", e2["message"])
	}

	// Two PUTs: accepted, but the job then refuses UploadComplete.
	id := e.openIngest(map[string]any{"object": "Contact", "operation": "insert"})
	wantErrorCode(t, e.do("GET", "jobs/ingest/"+id+"/successfulResults", nil), 400, "INVALIDJOBSTATE")
	e.upload(id, "LastName\nA\n")
	e.upload(id, "LastName\nB\n")
	msg := wantErrorCode(t, e.do("PATCH", "jobs/ingest/"+id, map[string]string{"state": "UploadComplete"}), 400, "INVALIDJOB")
	if want := "Found multipe contents for job: <" + id[:15] + ">"; !strings.HasPrefix(msg["message"].(string), want) {
		t.Errorf("second PUT: got %v, want it to start %q", msg["message"], want)
	}
	wantErrorCode(t, e.do("DELETE", "jobs/ingest/"+id, nil), 400, "INVALIDJOBSTATE")
	wantErrorCode(t, e.do("PATCH", "jobs/ingest/"+id, map[string]string{"state": "InProgress"}), 400, "INVALIDJOBSTATE")
	// Abort: the job is not processed; its rows come back unprocessed.
	r := e.do("PATCH", "jobs/ingest/"+id, map[string]string{"state": "Aborted"})
	wantStatus(t, r, 200)
	if !strings.Contains(string(r.body), `"state":"Aborted"`) {
		t.Errorf("abort: got %s", r.body)
	}
	wantErrorCode(t, e.do("PATCH", "jobs/ingest/"+id, map[string]string{"state": "Aborted"}), 400, "INVALIDJOBSTATE")
	wantErrorCode(t, e.do("PUT", "jobs/ingest/"+id+"/batches", "LastName\nC\n", "Content-Type", "text/csv"), 400, "INVALIDJOBSTATE")
	if rows := e.ingestCSV(id, "successfulResults"); len(rows) != 1 {
		t.Errorf("aborted job's successfulResults: got %q, want the header only", rows)
	}
	if got := e.org.ContactCount(); got != 0 {
		t.Errorf("contacts after an aborted job: got %d, want 0", got)
	}

	// A finished job can't be aborted or closed again; it can be deleted.
	id, info := e.runIngest(map[string]any{"object": "Contact", "operation": "insert"}, "LastName\nDone\n")
	if info.State != "JobComplete" {
		t.Fatalf("job: got %+v", info)
	}
	if m := wantErrorCode(t, e.do("PATCH", "jobs/ingest/"+id, map[string]string{"state": "Aborted"}), 400, "INVALIDJOBSTATE"); m["message"] != "Aborting already Complete Job not allowed" {
		t.Errorf("abort a complete job: got %v", m["message"])
	}
	wantErrorCode(t, e.do("PATCH", "jobs/ingest/"+id, map[string]string{"state": "UploadComplete"}), 400, "INVALIDJOBSTATE")
	wantStatus(t, e.do("DELETE", "jobs/ingest/"+id, nil), 204)
	wantErrorCode(t, e.do("GET", "jobs/ingest/"+id, nil), 404, "NOT_FOUND")
	wantErrorCode(t, e.do("POST", "jobs/ingest/"+id+"/batches", "x"), 405, "METHOD_NOT_ALLOWED")
}

func TestBulkIngestListAndLimits(t *testing.T) {
	t.Parallel()
	e := setup(t)
	wantStatus(t, e.do("POST", "jobs/query", map[string]any{"operation": "query", "query": "SELECT Id FROM Contact"}), 200)
	var ids []string
	for i := 0; i < maxIngestListPage+1; i++ {
		ids = append(ids, e.openIngest(map[string]any{"object": "Contact", "operation": "insert"}))
	}
	type page struct {
		Done           bool             `json:"done"`
		Records        []map[string]any `json:"records"`
		NextRecordsURL *string          `json:"nextRecordsUrl"`
	}
	var p1, p2 page
	e.do("GET", "jobs/ingest", nil).json(t, &p1)
	if p1.Done || len(p1.Records) != maxIngestListPage || p1.NextRecordsURL == nil || !strings.HasPrefix(*p1.NextRecordsURL, "/services/data/v62.0/jobs/ingest?queryLocator=") {
		t.Fatalf("first page: got done %v, %d records, next %v", p1.Done, len(p1.Records), p1.NextRecordsURL)
	}
	e.do("GET", *p1.NextRecordsURL, nil).json(t, &p2)
	if !p2.Done || len(p2.Records) != 1 || p2.NextRecordsURL != nil || p2.Records[0]["id"] != ids[len(ids)-1] {
		t.Fatalf("second page: got %+v, want the last job and done", p2)
	}
	for _, rec := range append(p1.Records, p2.Records...) {
		if rec["jobType"] != "V2Ingest" || rec["operation"] != "insert" || rec["contentUrl"] == nil {
			t.Errorf("listed job: got %v, want Open V2Ingest inserts only", rec)
		}
	}
	var none page
	e.do("GET", "jobs/ingest?isPkChunkingEnabled=true", nil).json(t, &none)
	if !none.Done || len(none.Records) != 0 {
		t.Errorf("isPkChunkingEnabled=true: got %+v, want no jobs", none)
	}

	type limits struct {
		DailyBulkApiBatches limitEntry
	}
	var l limits
	e.do("GET", "limits", nil).json(t, &l)
	if l.DailyBulkApiBatches != (limitEntry{15000, 15000}) {
		t.Errorf("DailyBulkApiBatches before ingest: got %+v", l.DailyBulkApiBatches)
	}
	rows := strings.Repeat("Batch\n", ingestBatchRecords+1)
	_, info := e.runIngest(map[string]any{"object": "Contact", "operation": "insert"}, "LastName\n"+rows)
	wantCounts(t, info, ingestBatchRecords+1, 0)
	e.do("GET", "limits", nil).json(t, &l)
	if l.DailyBulkApiBatches != (limitEntry{15000, 14998}) {
		t.Errorf("DailyBulkApiBatches after 10,001 records: got %+v, want 2 batches used", l.DailyBulkApiBatches)
	}
	if b, r := e.org.BulkIngestUsage(); b != 2 || r != ingestBatchRecords+1 {
		t.Errorf("BulkIngestUsage: got %d batches %d records, want 2 and %d", b, r, ingestBatchRecords+1)
	}
	// The records allocation: a job that would pass it fails unprocessed.
	e.org.SetBulkIngestAllocation(0, ingestBatchRecords+2)
	id, info := e.runIngest(map[string]any{"object": "Contact", "operation": "insert"}, "LastName\nA\nB\n")
	if info.State != "Failed" || !strings.HasPrefix(info.ErrorMessage, "ExceededQuota") {
		t.Errorf("job over the record allocation: got %+v, want Failed with ExceededQuota", info)
	}
	if rows := e.ingestCSV(id, "unprocessedrecords"); len(rows) != 3 {
		t.Errorf("unprocessedrecords over quota: got %q, want both rows", rows)
	}
	// The window rolls: a day later the allocations are back.
	e.advance(25 * time.Hour)
	e.org.SetBulkIngestAllocation(0, DefaultBulkRecordAllocation)
	e.token, _ = e.srv.IssueToken(e.org, e.org.Admin().Username)
	e.do("GET", "limits", nil).json(t, &l)
	if l.DailyBulkApiBatches.Remaining != 15000 {
		t.Errorf("DailyBulkApiBatches a day later: got %+v", l.DailyBulkApiBatches)
	}
}

// TestBulkIngestAbortInProgress aborts a job between its transactions:
// what was written stays, the rest is unprocessed.
func TestBulkIngestAbortInProgress(t *testing.T) {
	t.Parallel()
	e := setup(t, func(o *Options, _ *OrgOptions) { o.BulkPollsToComplete = 1 << 30 })
	n := 20 * ingestChunk
	id := e.openIngest(map[string]any{"object": "Contact", "operation": "insert"})
	e.upload(id, "LastName\n"+strings.Repeat("Aborted\n", n))
	e.closeIngest(id)
	for e.org.ContactCount() == 0 {
		time.Sleep(time.Millisecond)
	}
	wantStatus(t, e.do("PATCH", "jobs/ingest/"+id, map[string]string{"state": "Aborted"}), 200)
	time.Sleep(50 * time.Millisecond) // let the current transaction finish
	info, _ := e.waitIngest(id)
	done := e.ingestCSV(id, "successfulResults")
	left := e.ingestCSV(id, "unprocessedrecords")
	if info.State != "Aborted" || len(done)-1+len(left)-1 != n || len(done)-1 != e.org.ContactCount() {
		t.Errorf("aborted job: state %s, %d written, %d unprocessed, %d contacts, want Aborted and %d in all", info.State, len(done)-1, len(left)-1, e.org.ContactCount(), n)
	}
	if (len(done)-1)%ingestChunk != 0 {
		t.Errorf("written records: got %d, want whole transactions of %d", len(done)-1, ingestChunk)
	}
}

// TestBulkIngestRelationshipColumns sets references through a parent's
// idLookup or external id field (ReportsTo.Email, Owner.Username).
func TestBulkIngestRelationshipColumns(t *testing.T) {
	t.Parallel()
	e := setup(t)
	boss := e.create(map[string]any{"LastName": "Boss", "Email": "boss@example.com"})
	human := e.org.Human()
	id, info := e.runIngest(map[string]any{"object": "Contact", "operation": "insert"},
		"LastName,ReportsTo.Email,Owner.Username\nMinion,BOSS@example.com,"+human.Username+"\nLost,nobody@example.com,\nFree,#N/A,\n")
	wantCounts(t, info, 3, 1)
	ok := e.ingestCSV(id, "successfulResults")
	if len(ok) != 3 {
		t.Fatalf("successfulResults: got %q; failedResults %q", ok, e.ingestCSV(id, "failedResults"))
	}
	if rec, _ := e.org.Record(ok[1][0]); rec["ReportsToId"] != boss || rec["OwnerId"] != human.ID {
		t.Errorf("Minion: got ReportsToId %v OwnerId %v, want %s and %s", rec["ReportsToId"], rec["OwnerId"], boss, human.ID)
	}
	if rec, _ := e.org.Record(ok[2][0]); rec["ReportsToId"] != nil || rec["OwnerId"] != e.org.Admin().ID {
		t.Errorf("Free: got %v, want no ReportsToId and the job's creator as owner", rec)
	}
	bad := e.ingestCSV(id, "failedResults")
	if want := "INVALID_FIELD:Foreign key external ID: nobody@example.com not found for field Email in entity Contact:--"; len(bad) != 2 || bad[1][1] != want {
		t.Errorf("failedResults: got %q, want %q", bad, want)
	}
	for _, col := range []string{"ReportsTo.Title", "Boss.Email", "Account.Name"} {
		_, info := e.runIngest(map[string]any{"object": "Contact", "operation": "insert"}, "LastName,"+col+"\nX,y\n")
		if info.State != "Failed" || info.ErrorMessage != "InvalidBatch : Field name not found : "+col {
			t.Errorf("column %s: got %s %q, want Failed, field name not found", col, info.State, info.ErrorMessage)
		}
	}
}

// TestBulkIngestMultipart creates a job and uploads its data in one
// multipart request (guide, "Bulk Insert with a Multipart Request").
func TestBulkIngestMultipart(t *testing.T) {
	t.Parallel()
	e := setup(t)
	body := "--BOUNDARY\r\nContent-Type: application/json\r\nContent-Disposition: form-data; name=\"job\"\r\n\r\n" +
		`{"object":"Contact","contentType":"CSV","operation":"insert","lineEnding":"LF"}` +
		"\r\n--BOUNDARY\r\nContent-Type: text/csv\r\nContent-Disposition: form-data; name=\"content\"; filename=\"content\"\r\n\r\n" +
		"FirstName,LastName,MailingCity\nAstro,Nomical,San Francisco\nHootie,McOwl,San Francisco\n" +
		"\r\n--BOUNDARY--\r\n"
	r := e.do("POST", "jobs/ingest", body, "Content-Type", `multipart/form-data; boundary="BOUNDARY"`)
	wantStatus(t, r, 200)
	want := []string{"id", "operation", "object", "createdById", "createdDate", "systemModstamp", "state", "concurrencyMode", "contentType", "apiVersion", "lineEnding", "columnDelimiter"}
	if got := keysInOrder(t, r.body); !slices.Equal(got, want) || !strings.Contains(string(r.body), `"state":"UploadComplete"`) {
		t.Errorf("multipart create: got %s, want an UploadComplete job with keys %v", r.body, want)
	}
	var job ingestJobInfo
	r.json(t, &job)
	info, _ := e.waitIngest(job.ID)
	wantCounts(t, info, 2, 0)
	if ok := e.ingestCSV(job.ID, "successfulResults"); len(ok) != 3 || ok[1][2] != "Astro" || ok[2][4] != "San Francisco" {
		t.Errorf("successfulResults: got %q", ok)
	}
	big := "--B\r\nContent-Disposition: form-data; name=\"job\"\r\n\r\n" + `{"object":"Contact","operation":"insert"}` +
		"\r\n--B\r\nContent-Disposition: form-data; name=\"content\"\r\n\r\nLastName\n" + strings.Repeat("x\n", maxMultipartContent/2) + "\r\n--B--\r\n"
	wantErrorCode(t, e.do("POST", "jobs/ingest", big, "Content-Type", "multipart/form-data; boundary=B"), 400, "INVALIDJOB")
}

// TestBulkIngestFailedIDs: a failed record names its id only when the
// record exists.
func TestBulkIngestFailedIDs(t *testing.T) {
	t.Parallel()
	e := setup(t)
	if err := e.org.AddValidationRule(ValidationRule{Name: "TitleShort", Field: "Title", Pattern: `^.{0,5}$`, Message: "Title too long"}); err != nil {
		t.Fatal(err)
	}
	known := e.create(map[string]any{"LastName": "Known"})
	unknown := known[:5] + "0000000099" // a Contact id no record has
	id, info := e.runIngest(map[string]any{"object": "Contact", "operation": "update"},
		"Id,Title\n"+known+",Much too long\n"+unknown+",x\nnot-an-id,x\n")
	wantCounts(t, info, 3, 3)
	got := map[string]string{}
	for _, row := range e.ingestCSV(id, "failedResults")[1:] {
		got[row[2]] = row[0] + " " + strings.SplitN(row[1], ":", 2)[0]
	}
	want := map[string]string{known: known + " FIELD_CUSTOM_VALIDATION_EXCEPTION", unknown: " INVALID_CROSS_REFERENCE_KEY", "not-an-id": " MALFORMED_ID"}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("failed row %s: got sf__Id and code %q, want %q", k, got[k], v)
		}
	}
}

// TestBulkIngestUploadLimit: job data over the limit (150 MB base64,
// lowered here) is refused, in one PUT or over two.
func TestBulkIngestUploadLimit(t *testing.T) {
	t.Parallel()
	e := setup(t, func(o *Options, _ *OrgOptions) { o.BulkIngestMaxUpload = 400 })
	id := e.openIngest(map[string]any{"object": "Contact", "operation": "insert"})
	wantErrorCode(t, e.do("PUT", "jobs/ingest/"+id+"/batches", "LastName\n"+strings.Repeat("x\n", 200), "Content-Type", "text/csv"), 400, "INVALIDJOB")
	e.upload(id, "LastName\n"+strings.Repeat("x\n", 100)) // 209 bytes: 280 base64
	wantErrorCode(t, e.do("PUT", "jobs/ingest/"+id+"/batches", strings.Repeat("y\n", 50), "Content-Type", "text/csv"), 400, "INVALIDJOB")
	e.closeIngest(id)
	info, _ := e.waitIngest(id)
	wantCounts(t, info, 100, 0)
}

// TestBulkIngestTypedValues: CSV text becomes dates (the guide allows a
// trailing Z), datetimes with offsets and numbers.
func TestBulkIngestTypedValues(t *testing.T) {
	t.Parallel()
	e := setup(t)
	id, info := e.runIngest(map[string]any{"object": "Contact", "operation": "insert"},
		"LastName,Birthdate,EmailBouncedDate,MailingLatitude,Customer_Since__c\nTyped,1940-06-07Z,2002-10-10T12:00:00+05:00,25.0330,2020-01-31\n")
	wantCounts(t, info, 1, 0)
	ok := e.ingestCSV(id, "successfulResults")
	if len(ok) != 2 {
		t.Fatalf("successfulResults: got %q; failed %q", ok, e.ingestCSV(id, "failedResults"))
	}
	rec, _ := e.org.Record(ok[1][0])
	birth, _ := rec["Birthdate"].(time.Time)
	bounced, _ := rec["EmailBouncedDate"].(time.Time)
	since, _ := rec["Customer_Since__c"].(time.Time)
	if birth.Format(time.DateOnly) != "1940-06-07" || !bounced.Equal(time.Date(2002, 10, 10, 7, 0, 0, 0, time.UTC)) ||
		rec["MailingLatitude"] != 25.033 || since.Format(time.DateOnly) != "2020-01-31" {
		t.Errorf("typed values: got Birthdate %v, EmailBouncedDate %v, MailingLatitude %v, Customer_Since__c %v", rec["Birthdate"], rec["EmailBouncedDate"], rec["MailingLatitude"], rec["Customer_Since__c"])
	}
}
