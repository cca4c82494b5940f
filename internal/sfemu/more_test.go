package sfemu

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestBulkQueryJob(t *testing.T) {
	t.Parallel()
	e := setup(t)
	if _, err := e.org.SeedContacts(250, 3); err != nil {
		t.Fatal(err)
	}
	gone := e.create(map[string]any{"LastName": "Gone \"quoted\", name"})
	wantStatus(t, e.do("DELETE", "sobjects/Contact/"+gone, nil), 204)

	r := e.do("POST", "jobs/query", map[string]any{"operation": "queryAll", "query": "SELECT Id, LastName, Birthdate, SystemModstamp, IsDeleted FROM Contact ORDER BY Id"})
	wantStatus(t, r, 200)
	var job map[string]any
	r.json(t, &job)
	id := job["id"].(string)
	if !strings.HasPrefix(id, "750") || len(id) != 18 || job["state"] != "UploadComplete" || job["object"] != "Contact" {
		t.Fatalf("create: got %s", r.body)
	}
	if !strings.Contains(string(r.body), `"apiVersion":62.0`) {
		t.Errorf("apiVersion: got %s, want 62.0", r.body)
	}
	wantErrorCode(t, e.do("GET", "jobs/query/"+id+"/results", nil), 400, "INVALIDJOBSTATE")
	states := []string{}
	for i := 0; i < 2; i++ {
		r = e.do("GET", "jobs/query/"+id, nil)
		wantStatus(t, r, 200)
		job = nil
		r.json(t, &job)
		states = append(states, job["state"].(string))
	}
	if fmt.Sprint(states) != "[InProgress JobComplete]" {
		t.Fatalf("states: got %v, want [InProgress JobComplete]", states)
	}
	if job["numberRecordsProcessed"] != 251.0 || job["jobType"] != "V2Query" {
		t.Errorf("status: got %v", job)
	}
	var rows [][]string
	locator := ""
	pages := 0
	for {
		p := "jobs/query/" + id + "/results?maxRecords=100"
		if locator != "" {
			p += "&locator=" + locator
		}
		r = e.do("GET", p, nil)
		wantStatus(t, r, 200)
		if ct := r.header.Get("Content-Type"); ct != "text/csv" {
			t.Errorf("Content-Type: got %q, want text/csv", ct)
		}
		recs, err := csv.NewReader(bytes.NewReader(r.body)).ReadAll()
		if err != nil {
			t.Fatalf("csv: %v (%s)", err, r.body)
		}
		if got := r.header.Get("Sforce-NumberOfRecords"); got != fmt.Sprint(len(recs)-1) {
			t.Errorf("Sforce-NumberOfRecords: got %s, want %d", got, len(recs)-1)
		}
		if strings.Join(recs[0], ",") != "Id,LastName,Birthdate,SystemModstamp,IsDeleted" {
			t.Errorf("header: got %v", recs[0])
		}
		rows = append(rows, recs[1:]...)
		pages++
		locator = r.header.Get("Sforce-Locator")
		if locator == "null" {
			break
		}
		if pages > 5 {
			t.Fatal("too many pages")
		}
	}
	if len(rows) != 251 || pages != 3 {
		t.Fatalf("rows: got %d over %d pages, want 251 over 3", len(rows), pages)
	}
	last := rows[len(rows)-1]
	if last[0] != gone || last[1] != `Gone "quoted", name` || last[4] != "true" {
		t.Errorf("deleted row: got %v", last)
	}
	if !regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000Z$`).MatchString(last[3]) {
		t.Errorf("datetime in CSV: got %q", last[3])
	}
	wantStatus(t, e.do("GET", "/services/data/v61.0/jobs/query/"+id+"/results", nil), 409)

	r = e.do("GET", "jobs/query", nil)
	wantStatus(t, r, 200)
	if !strings.Contains(string(r.body), id) || !strings.Contains(string(r.body), `"done":true`) {
		t.Errorf("list: got %s", r.body)
	}
	wantErrorCode(t, e.do("PATCH", "jobs/query/"+id, map[string]any{"state": "Aborted"}), 400, "INVALIDJOBSTATE")
	wantStatus(t, e.do("DELETE", "jobs/query/"+id, nil), 204)
	wantErrorCode(t, e.do("GET", "jobs/query/"+id, nil), 404, "NOT_FOUND")

	r = e.do("POST", "jobs/query", map[string]any{"operation": "query", "query": "SELECT Id FROM Contact"})
	job = nil
	r.json(t, &job)
	r = e.do("PATCH", "jobs/query/"+job["id"].(string), map[string]any{"state": "Aborted"})
	wantStatus(t, r, 200)
	if !strings.Contains(string(r.body), `"state":"Aborted"`) {
		t.Errorf("abort: got %s", r.body)
	}
	wantErrorCode(t, e.do("POST", "jobs/query", map[string]any{"operation": "query", "query": "SELECT COUNT() FROM Contact"}), 400, "API_ERROR")
	wantErrorCode(t, e.do("POST", "jobs/query", map[string]any{"operation": "query", "query": "SELECT Nope FROM Contact"}), 400, "INVALIDJOB")
}

func TestFaults(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.srv.SetFaults(Faults{Seed: 42, UnavailableRate: 0.5})
	count := func() (ok, unavailable int) {
		for i := 0; i < 40; i++ {
			r := e.do("GET", "limits", nil)
			switch r.status {
			case 200:
				ok++
			case 503:
				if got := r.errs(t)[0]["errorCode"]; got != "SERVER_UNAVAILABLE" {
					t.Fatalf("503 errorCode: got %v", got)
				}
				unavailable++
			default:
				t.Fatalf("status: got %d", r.status)
			}
		}
		return ok, unavailable
	}
	ok1, bad1 := count()
	if bad1 < 10 || ok1 < 10 {
		t.Errorf("503 share: got %d of 40, want about half", bad1)
	}
	e.srv.SetFaults(Faults{Seed: 42, UnavailableRate: 0.5})
	ok2, bad2 := count()
	if ok1 != ok2 || bad1 != bad2 {
		t.Errorf("same seed: got %d/%d then %d/%d, want equal", ok1, bad1, ok2, bad2)
	}
	// Dropped connections surface as transport errors.
	e.srv.SetFaults(Faults{DropRate: 1})
	req, _ := http.NewRequest("GET", e.ts.URL+"/services/data/v62.0/limits", nil)
	req.Header.Set("Authorization", "Bearer "+e.token.AccessToken)
	if res, err := http.DefaultClient.Do(req); err == nil {
		res.Body.Close()
		t.Errorf("dropped connection: got status %d, want a transport error", res.StatusCode)
	}
	// The side door is never faulted.
	res, err := http.Get(e.ts.URL + "/__emulator__/clock")
	if err != nil || res.StatusCode != 200 {
		t.Errorf("side door under faults: got %v %v", res, err)
	}
	if res != nil {
		res.Body.Close()
	}
	// Latency and slow bodies.
	e.srv.SetFaults(Faults{Latency: 30 * time.Millisecond, SlowBodyRate: 1, SlowBodyDelay: 5 * time.Millisecond})
	start := time.Now()
	r := e.do("GET", "sobjects/Contact/describe", nil)
	wantStatus(t, r, 200)
	if elapsed := time.Since(start); elapsed < 60*time.Millisecond {
		t.Errorf("latency + slow body: took %v, want ≥ 60ms", elapsed)
	}
	if !json.Valid(r.body) {
		t.Errorf("slow body is not intact JSON")
	}
	// One-shot injected errors.
	e.srv.SetFaults(Faults{Errors: []InjectedError{{Method: "PATCH", PathPrefix: "/sobjects/Contact", Status: 400, ErrorCode: "UNABLE_TO_LOCK_ROW", Message: "unable to obtain exclusive access to this record", Times: 1}}})
	id := e.create(map[string]any{"LastName": "Locked"})
	wantErrorCode(t, e.do("PATCH", "sobjects/Contact/"+id, map[string]any{"Title": "x"}), 400, "UNABLE_TO_LOCK_ROW")
	wantStatus(t, e.do("PATCH", "sobjects/Contact/"+id, map[string]any{"Title": "x"}), 204)
	e.srv.SetFaults(Faults{ServerErrorRate: 1})
	wantErrorCode(t, e.do("GET", "limits", nil), 500, "UNKNOWN_EXCEPTION")
}

func TestSideDoorHTTP(t *testing.T) {
	t.Parallel()
	e := setup(t)
	call := func(method, path string, body any) resp {
		t.Helper()
		return e.doToken("", method, "/__emulator__/orgs/default"+path, body)
	}
	r := call("POST", "/seed", map[string]any{"count": 300, "seed": 9})
	wantStatus(t, r, 200)
	var seeded map[string]any
	r.json(t, &seeded)
	if seeded["created"] != 300.0 {
		t.Fatalf("seed: got %s", r.body)
	}
	first := seeded["firstId"].(string)

	// Same seed, same data.
	other := setup(t)
	ids, _ := other.org.SeedContacts(300, 9)
	a, _ := e.org.Record(first)
	b, _ := other.org.Record(ids[0])
	for _, k := range []string{"LastName", "Email", "MobilePhone", "LINE_UID__c", "Birthdate"} {
		if fmt.Sprint(a[k]) != fmt.Sprint(b[k]) {
			t.Errorf("seeded %s differs between runs: %v vs %v", k, a[k], b[k])
		}
	}
	var lineRE = regexp.MustCompile(`^U[0-9a-f]{32}$`)
	var phones, lines, zh int
	for _, id := range e.org.ContactIDs(false) {
		rec, _ := e.org.Record(id)
		if p, ok := rec["MobilePhone"].(string); ok && strings.HasPrefix(p, "+886 9") {
			phones++
		}
		if l, ok := rec["LINE_UID__c"].(string); ok {
			if !lineRE.MatchString(l) {
				t.Errorf("LINE UID %q", l)
			}
			lines++
		}
		if n := rec["LastName"].(string); len(n) > 0 && n[0] >= 0x80 {
			zh++
		}
	}
	if phones == 0 || lines == 0 || zh == 0 {
		t.Errorf("seed variety: +886 phones %d, LINE UIDs %d, Chinese names %d; want all > 0", phones, lines, zh)
	}

	// Timestamps set through the side door: an old SystemModstamp, as a
	// late commit (or drift) would leave.
	old := time.Date(2020, 5, 1, 8, 0, 0, 0, time.UTC)
	wantStatus(t, call("PUT", "/records/"+first+"/timestamps", map[string]any{"systemModstamp": old}), 204)
	if rec, _ := e.org.Record(first); !rec["SystemModstamp"].(time.Time).Equal(old) || rec["LastModifiedDate"].(time.Time).Equal(old) {
		t.Errorf("timestamps: SystemModstamp %v, LastModifiedDate %v; want only SystemModstamp at %v", rec["SystemModstamp"], rec["LastModifiedDate"], old)
	}
	wantStatus(t, call("PUT", "/records/003000000000000AAA/timestamps", map[string]any{"systemModstamp": old}), 404)

	e.srv.Advance(time.Minute)
	wantStatus(t, call("PATCH", "/records/"+first, map[string]any{"Title": "Edited by hand"}), 204)
	rec, _ := e.org.Record(first)
	if rec["LastModifiedById"] != e.org.Human().ID || rec["Title"] != "Edited by hand" {
		t.Errorf("human edit: got %v", rec)
	}
	hist := e.org.History(first)
	if len(hist) != 1 || hist[0].Client != "" || hist[0].Origin != "" || hist[0].UserID != e.org.Human().ID {
		t.Errorf("human edit history: got %+v", hist)
	}
	r = call("GET", "/records/"+first, nil)
	wantStatus(t, r, 200)
	if !strings.Contains(string(r.body), `"Title":"Edited by hand"`) {
		t.Errorf("inspect: got %.300s", r.body)
	}
	wantStatus(t, call("DELETE", "/records/"+first, nil), 204)
	if got := e.org.ContactCount(); got != 299 {
		t.Errorf("contacts after human delete: got %d, want 299", got)
	}
	r = call("POST", "/contacts", map[string]any{"LastName": "Typed In"})
	wantStatus(t, r, 201)
	r = call("POST", "/contacts", map[string]any{"FirstName": "No last name"})
	wantStatus(t, r, 400)

	r = call("PUT", "/api-usage", map[string]any{"used": 15000})
	wantStatus(t, r, 200)
	wantErrorCode(t, e.do("GET", "limits", nil), 403, "REQUEST_LIMIT_EXCEEDED")
	call("PUT", "/api-usage", map[string]any{"used": 0})

	wantStatus(t, call("POST", "/tokens/expire", nil), 200)
	wantErrorCode(t, e.do("GET", "limits", nil), 401, "INVALID_SESSION_ID")
	r = call("POST", "/tokens", map[string]any{})
	wantStatus(t, r, 201)
	var tok Token
	r.json(t, &tok)
	wantStatus(t, e.doToken(tok.AccessToken, "GET", "limits", nil), 200)
	r = e.doToken("", "POST", "/__emulator__/tokens/revoke", map[string]any{"token": tok.AccessToken})
	wantStatus(t, r, 200)
	wantErrorCode(t, e.doToken(tok.AccessToken, "GET", "limits", nil), 401, "INVALID_SESSION_ID")
	e.token, _ = e.srv.IssueToken(e.org, e.org.Admin().Username)

	r = call("POST", "/fields", map[string]any{"name": "Loyalty_Points__c", "type": "double"})
	wantStatus(t, r, 201)
	id := e.create(map[string]any{"LastName": "Points", "Loyalty_Points__c": 12})
	if rec, _ := e.org.Record(id); rec["Loyalty_Points__c"] != 12.0 {
		t.Errorf("custom field value: got %v, want 12", rec["Loyalty_Points__c"])
	}

	r = e.doToken("", "PUT", "/__emulator__/faults", map[string]any{"latency": "1ms", "seed": 3})
	wantStatus(t, r, 200)
	if got := e.srv.CurrentFaults(); got.Latency != time.Millisecond || got.Seed != 3 {
		t.Errorf("faults via HTTP: got %+v", got)
	}
	e.srv.SetFaults(Faults{})
	before := e.srv.Now()
	r = e.doToken("", "POST", "/__emulator__/clock/advance", map[string]any{"duration": "2h"})
	wantStatus(t, r, 200)
	if got := e.srv.Now().Sub(before); got != 2*time.Hour {
		t.Errorf("clock advance: got %v, want 2h", got)
	}
	wantStatus(t, call("POST", "/reset", nil), 204)
	if got := e.org.ContactCount(); got != 0 {
		t.Errorf("contacts after reset: got %d, want 0", got)
	}
	wantStatus(t, e.doToken("", "GET", "/__emulator__/orgs/nope", nil), 404)
}

func TestPersistence(t *testing.T) {
	t.Parallel()
	e := setup(t)
	path := filepath.Join(t.TempDir(), "emu.json")
	e.srv.SetDataFile(path)
	ids, _ := e.org.SeedContacts(50, 1)
	gone := ids[3]
	if err := e.org.DeleteAsHuman(gone); err != nil {
		t.Fatal(err)
	}
	if err := e.srv.Save(); err != nil {
		t.Fatal(err)
	}
	s2 := New(Options{Now: e.clock.Now})
	if err := s2.Load(path); err != nil {
		t.Fatal(err)
	}
	o2 := s2.Orgs()[0]
	if o2.ID() != e.org.ID() || o2.ContactCount() != 49 || o2.Admin().ID != e.org.Admin().ID {
		t.Fatalf("restored org: id %s contacts %d admin %s", o2.ID(), o2.ContactCount(), o2.Admin().ID)
	}
	a, _ := e.org.Record(ids[10])
	b, _ := o2.Record(ids[10])
	if fmt.Sprint(a) != fmt.Sprint(b) {
		t.Errorf("restored record: got %v, want %v", b, a)
	}
	if rec, _ := o2.Record(gone); rec["IsDeleted"] != true {
		t.Errorf("restored deleted record: got %v", rec)
	}
	if h := o2.History(gone); len(h) != 1 || h[0].Type != "DELETE" || h[0].UserID != e.org.Human().ID {
		t.Errorf("restored history: got %+v", h)
	}
	// Tokens survive too, and new ids do not collide with restored ones.
	ts2 := httptestServer(t, s2)
	req, _ := http.NewRequest("POST", ts2+"/services/data/v62.0/sobjects/Contact", strings.NewReader(`{"LastName":"After restart","Member_Number__c":"NEW1"}`))
	req.Header.Set("Authorization", "Bearer "+e.token.AccessToken)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 201 {
		t.Fatalf("create after restore: got %d %s", res.StatusCode, body)
	}
	if err := New(Options{}).Load(filepath.Join(t.TempDir(), "missing.json")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: got %v, want ErrNotExist", err)
	}
}

func TestMain_Command(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out syncBuffer
	dataFile := filepath.Join(t.TempDir(), "data.json")
	done := make(chan error, 1)
	go func() {
		done <- Main(ctx, []string{"--addr", "127.0.0.1:0", "--contacts", "25", "--edition", "Enterprise", "--data", dataFile,
			"--callback", "http://localhost:9999/cb", "--callback", "http://127.0.0.1:9999/cb"}, &out, nil, nil)
	}()
	var base, token string
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		s := out.String()
		if m := regexp.MustCompile(`access token:\s+(\S+)`).FindStringSubmatch(s); m != nil {
			token = m[1]
			base = regexp.MustCompile(`instance URL:\s+(\S+)`).FindStringSubmatch(s)[1]
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if token == "" {
		t.Fatalf("no access token printed: %s", out.String())
	}
	for _, want := range []string{"client id:", "client secret:", "http://localhost:9999/cb", "http://127.0.0.1:9999/cb", "admin username:", "admin password:"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q: %s", want, out.String())
		}
	}
	req, _ := http.NewRequest("GET", base+"/services/data/v62.0/query?q="+url.QueryEscape("SELECT COUNT() FROM Contact"), nil)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if string(body) != `{"totalSize":25,"done":true,"records":[]}` {
		t.Errorf("count: got %s", body)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Main: %v", err)
	}
	if _, err := os.Stat(dataFile); err != nil {
		t.Errorf("data file not written: %v", err)
	}
}
