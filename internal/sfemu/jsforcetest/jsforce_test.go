package jsforcetest

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"github.com/sfsync/sfsync/internal/testenv/nodetest"
	"net/http/httptest"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sfsync/sfsync/internal/sfemu"
)

const (
	apiVersion  = "62.0"
	seedCount   = 2500
	adminUser   = "ada@jsforce.example.com"
	adminPass   = "jsforce-Pa55word"
	nodeTimeout = 45 * time.Second
	callbackURL = "http://localhost:1717/oauth/callback"
)

// env is one emulator with one seeded org, a Connected App and a token.
type env struct {
	srv     *sfemu.Server
	ts      *httptest.Server
	org     *sfemu.Org
	app     sfemu.ConnectedApp
	tok     sfemu.Token
	seedIDs []string
}

func setup(t *testing.T) *env {
	t.Helper()
	srv := sfemu.New(sfemu.Options{})
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	srv.SetBaseURL(ts.URL)
	org, err := srv.CreateOrg(sfemu.OrgOptions{Edition: sfemu.Enterprise, AdminUsername: adminUser, AdminPassword: adminPass})
	if err != nil {
		t.Fatalf("CreateOrg: %v", err)
	}
	ids, err := org.SeedContacts(seedCount, 7)
	if err != nil {
		t.Fatalf("SeedContacts: %v", err)
	}
	app, err := srv.RegisterConnectedApp(sfemu.ConnectedAppOptions{Name: "jsforce", CallbackURLs: []string{callbackURL}})
	if err != nil {
		t.Fatalf("RegisterConnectedApp: %v", err)
	}
	tok, err := srv.IssueToken(org, adminUser)
	if err != nil {
		t.Fatalf("IssueToken: %v", err)
	}
	return &env{srv: srv, ts: ts, org: org, app: app, tok: tok, seedIDs: ids}
}

// requireNode makes sure node and the locked jsforce are there
// (nodetest.Require: a loud skip without Node, a failure on CI).
func requireNode(t *testing.T) {
	t.Helper()
	nodetest.Require(t, nodetest.Options{What: "the jsforce interoperability test", MinNode: [2]int{18, 0}})
}

// checkLine is one line of client.mjs output; the observed values stay
// raw so each assertion decodes what it needs.
type checkLine struct {
	Check    string   `json:"check"`
	OK       bool     `json:"ok"`
	Failures []string `json:"failures"`
	raw      []byte
}

// runClient runs `node client.mjs phase` against e with the given tokens
// and returns its checks by name. It fails the test for a check that
// failed in the script, for a non-zero exit and for a missing check.
func runClient(t *testing.T, e *env, tok sfemu.Token, phase string, want []string) map[string]checkLine {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), nodeTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", "client.mjs", phase)
	cmd.Env = append(os.Environ(),
		"SF_LOGIN_URL="+e.ts.URL,
		"SF_INSTANCE_URL="+tok.InstanceURL,
		"SF_API_VERSION="+apiVersion,
		"SF_CLIENT_ID="+e.app.ClientID,
		"SF_CLIENT_SECRET="+e.app.ClientSecret,
		"SF_USERNAME="+adminUser,
		"SF_PASSWORD="+adminPass,
		"SF_ACCESS_TOKEN="+tok.AccessToken,
		"SF_REFRESH_TOKEN="+tok.RefreshToken,
		"SF_REDIRECT_URI="+callbackURL,
		"SF_ORG_ID="+e.org.ID(),
		"NODE_NO_WARNINGS=1",
	)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	runErr := cmd.Run()
	t.Logf("node client.mjs %s: %v in %s", phase, exitText(runErr), time.Since(start).Round(time.Millisecond))
	checks := map[string]checkLine{}
	sc := bufio.NewScanner(&stdout)
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		var c checkLine
		if err := json.Unmarshal(line, &c); err != nil || c.Check == "" {
			t.Errorf("client.mjs printed a line that is not a check: %.300s", line)
			continue
		}
		c.raw = slices.Clone(line)
		checks[c.Check] = c
		t.Logf("%s ok=%v %.300s", c.Check, c.OK, line)
		if !c.OK {
			t.Errorf("jsforce check %s failed: %s\n%.2000s", c.Check, strings.Join(c.Failures, "; "), line)
		}
	}
	if runErr != nil {
		t.Errorf("node client.mjs %s: got %v, want exit status 0; stderr:\n%s", phase, exitText(runErr), tail(stderr.String(), 4000))
	}
	for _, name := range want {
		if _, ok := checks[name]; !ok {
			t.Errorf("check %s: got no line, want one (stderr:\n%s)", name, tail(stderr.String(), 2000))
		}
	}
	return checks
}

func exitText(err error) string {
	if err == nil {
		return "exit status 0"
	}
	return err.Error()
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

// observed decodes the values of check name into v; a missing check
// leaves v zero (runClient has already reported it).
func observed(t *testing.T, checks map[string]checkLine, name string, v any) {
	t.Helper()
	c, ok := checks[name]
	if !ok {
		return
	}
	if err := json.Unmarshal(c.raw, v); err != nil {
		t.Errorf("check %s: decode %s: %v", name, c.raw, err)
	}
}

var mainChecks = []string{
	"login_password", "web_server_flow_pkce", "identity", "limits", "describe", "describe_global", "query_autofetch", "query_maxfetch", "query_batchsize",
	"query_more", "count", "bulk2_query", "error_bulk2_invalid_field", "error_malformed_query", "error_invalid_field", "error_dml",
	"create_single", "create_many", "create_many_all_or_none_rollback", "update_single", "update_many",
	"retrieve_many", "upsert_single", "upsert_many", "destroy_single", "destroy_many", "query_all_deleted",
	"access_token", "refresh_expired_token", "get_updated", "get_deleted", "revoke", "final_count",
}

type usage struct {
	Used  int `json:"used"`
	Limit int `json:"limit"`
}

// TestJSForce runs every jsforce feature sfsync relies on against the
// emulator and checks what jsforce saw against the org's real state.
func TestJSForce(t *testing.T) {
	t.Parallel()
	requireNode(t)
	e := setup(t)
	// A human deletes one seeded Contact and edits another before the
	// integration runs: getDeleted and getUpdated must report them.
	humanDeleted, humanEdited := e.seedIDs[0], e.seedIDs[1]
	if err := e.org.DeleteAsHuman(humanDeleted); err != nil {
		t.Fatalf("DeleteAsHuman: %v", err)
	}
	if err := e.org.ModifyAsHuman(humanEdited, map[string]any{"Title": "Edited by a human"}); err != nil {
		t.Fatalf("ModifyAsHuman: %v", err)
	}
	live := e.org.ContactCount()
	if live != seedCount-1 {
		t.Fatalf("ContactCount after seeding and one delete: got %d, want %d", live, seedCount-1)
	}
	admin := e.org.Admin()
	_, apiMax := e.org.APIUsage()

	checks := runClient(t, e, e.tok, "main", mainChecks)

	var login struct {
		UserID, OrgID, InstanceURL string
	}
	observed(t, checks, "login_password", &login)
	if login.UserID != admin.ID || login.OrgID != e.org.ID() || login.InstanceURL != e.ts.URL {
		t.Errorf("login_password: got user %s org %s instance %s, want %s %s %s", login.UserID, login.OrgID, login.InstanceURL, admin.ID, e.org.ID(), e.ts.URL)
	}
	var web struct {
		UserID, OrgID string
		ConsentShown  bool
	}
	observed(t, checks, "web_server_flow_pkce", &web)
	if web.UserID != admin.ID || web.OrgID != e.org.ID() || !web.ConsentShown {
		t.Errorf("web_server_flow_pkce: got user %s org %s consent page %v, want %s %s true", web.UserID, web.OrgID, web.ConsentShown, admin.ID, e.org.ID())
	}
	var ident struct{ UserID, OrgID, Username string }
	observed(t, checks, "identity", &ident)
	if ident.UserID != admin.ID || ident.OrgID != e.org.ID() || ident.Username != admin.Username {
		t.Errorf("identity: got %+v, want user %s org %s username %s", ident, admin.ID, e.org.ID(), admin.Username)
	}
	var limits struct {
		Max, Remaining int
		LimitInfo      usage
	}
	observed(t, checks, "limits", &limits)
	if limits.Max != apiMax || limits.LimitInfo.Limit != apiMax {
		t.Errorf("limits: got DailyApiRequests.Max %d, Sforce-Limit-Info max %d, want %d", limits.Max, limits.LimitInfo.Limit, apiMax)
	}

	var describe struct{ Fields []string }
	observed(t, checks, "describe", &describe)
	orgFields := e.org.ContactFields()
	for _, f := range describe.Fields {
		if !slices.Contains(orgFields, f) {
			t.Errorf("describe: field %s is not one of the org's Contact fields", f)
		}
	}
	for _, cf := range sfemu.DefaultCustomFields() {
		if !slices.Contains(describe.Fields, cf.Name) {
			t.Errorf("describe: got no field %s, want every custom field", cf.Name)
		}
	}

	// Reads happened before any write: every count is the seeded org's.
	var autofetch, more struct{ TotalSize, Fetched, Distinct, Pages int }
	observed(t, checks, "query_autofetch", &autofetch)
	if autofetch.TotalSize != live || autofetch.Distinct != live || autofetch.Pages != 2 {
		t.Errorf("query_autofetch: got totalSize %d, %d distinct ids in %d pages, want %d in 2 pages", autofetch.TotalSize, autofetch.Distinct, autofetch.Pages, live)
	}
	observed(t, checks, "query_more", &more)
	if more.Distinct != live || more.Pages != 2 {
		t.Errorf("query_more: got %d distinct ids in %d pages, want %d in 2", more.Distinct, more.Pages, live)
	}
	var batch struct{ Fetched, Pages int }
	observed(t, checks, "query_batchsize", &batch)
	if want := (live + 499) / 500; batch.Fetched != live || batch.Pages != want {
		t.Errorf("query_batchsize: got %d records in %d pages, want %d in %d", batch.Fetched, batch.Pages, live, want)
	}
	var maxFetch struct{ TotalSize, Fetched int }
	observed(t, checks, "query_maxfetch", &maxFetch)
	if maxFetch.Fetched != 2100 || maxFetch.TotalSize != live {
		t.Errorf("query_maxfetch: got %d of %d, want 2100 of %d", maxFetch.Fetched, maxFetch.TotalSize, live)
	}
	var count struct{ Count, SObjectCount, Aggregate int }
	observed(t, checks, "count", &count)
	if count.Count != live || count.SObjectCount != live || count.Aggregate != live {
		t.Errorf("count: got COUNT() %d, sobject.count() %d, COUNT(Id) %d, want %d", count.Count, count.SObjectCount, count.Aggregate, live)
	}
	var bulk struct{ Rows, Distinct int }
	observed(t, checks, "bulk2_query", &bulk)
	if bulk.Rows != live || bulk.Distinct != live {
		t.Errorf("bulk2_query: got %d rows (%d distinct), want %d", bulk.Rows, bulk.Distinct, live)
	}
	for name, code := range map[string]string{
		"error_bulk2_invalid_field": "INVALIDJOB", "error_malformed_query": "MALFORMED_QUERY",
		"error_invalid_field": "INVALID_FIELD", "error_dml": "REQUIRED_FIELD_MISSING",
	} {
		var got struct{ ErrorCode string }
		observed(t, checks, name, &got)
		if got.ErrorCode != code {
			t.Errorf("%s: got errorCode %q, want %q", name, got.ErrorCode, code)
		}
	}

	// Writes, read back through the Go API.
	var single struct{ ID, LastName string }
	observed(t, checks, "create_single", &single)
	if rec, ok := e.org.Record(single.ID); !ok || rec["LastName"] != single.LastName || rec["Title"] == nil {
		t.Errorf("create_single: got record %v (found %v), want LastName %s and the updated Title", rec, ok, single.LastName)
	}
	var many struct {
		IDs      []string
		LastName string
	}
	observed(t, checks, "create_many", &many)
	var run struct{ Run string }
	observed(t, checks, "update_many", &run)
	for i, id := range many.IDs {
		rec, ok := e.org.Record(id)
		if want := fmt.Sprintf("UpdatedMany%d-%s", i, run.Run); !ok || rec["LastName"] != many.LastName || rec["Title"] != want {
			t.Errorf("create_many/update_many %s: got %v, want LastName %s, Title %s", id, rec, many.LastName, want)
		}
	}
	var rollback struct{ LastName string }
	observed(t, checks, "create_many_all_or_none_rollback", &rollback)
	if ids := e.findContacts("LastName", rollback.LastName); rollback.LastName == "" || len(ids) != 0 {
		t.Errorf("create_many_all_or_none_rollback: got %d records with LastName %q, want 0", len(ids), rollback.LastName)
	}
	var upsert struct{ Member, ID string }
	observed(t, checks, "upsert_single", &upsert)
	if ids := e.findContacts("Member_Number__c", upsert.Member); len(ids) != 1 || ids[0] != upsert.ID {
		t.Errorf("upsert_single: got records %v with Member_Number__c %q, want exactly [%s]", ids, upsert.Member, upsert.ID)
	} else if rec, _ := e.org.Record(upsert.ID); rec["Title"] != "Upserted twice" {
		t.Errorf("upsert_single: got Title %v, want %q", rec["Title"], "Upserted twice")
	}
	var upsertMany struct{ NewMember, NewID, ExistingMember, ExistingID, Title string }
	observed(t, checks, "upsert_many", &upsertMany)
	if ids := e.findContacts("Member_Number__c", upsertMany.NewMember); len(ids) != 1 || ids[0] != upsertMany.NewID {
		t.Errorf("upsert_many: got records %v with Member_Number__c %q, want exactly [%s]", ids, upsertMany.NewMember, upsertMany.NewID)
	}
	if ids := e.findContacts("Member_Number__c", upsertMany.ExistingMember); len(ids) != 1 || ids[0] != upsertMany.ExistingID {
		t.Errorf("upsert_many: got records %v with Member_Number__c %q, want exactly [%s]", ids, upsertMany.ExistingMember, upsertMany.ExistingID)
	} else if rec, _ := e.org.Record(upsertMany.ExistingID); rec["Title"] != upsertMany.Title {
		t.Errorf("upsert_many: existing record Title got %v, want %q", rec["Title"], upsertMany.Title)
	}

	liveIDs := e.org.ContactIDs(false)
	allIDs := e.org.ContactIDs(true)
	var deletedNow []string
	for _, id := range allIDs {
		if !slices.Contains(liveIDs, id) {
			deletedNow = append(deletedNow, id)
		}
	}
	var destroyed struct{ IDs []string }
	observed(t, checks, "query_all_deleted", &destroyed)
	wantDeleted := append([]string{humanDeleted}, destroyed.IDs...)
	if !sameSet(deletedNow, wantDeleted) {
		t.Errorf("deleted Contacts in the org: got %v, want %v (the human's and the script's)", deletedNow, wantDeleted)
	}
	var queryAll struct {
		QueryAll, QueryAllCount, PagedQueryAllRows, BulkQueryAllRows int
		BulkDeleted                                                  []string
	}
	observed(t, checks, "query_all_deleted", &queryAll)
	if n := len(allIDs); queryAll.QueryAll != 3 || queryAll.QueryAllCount != n || queryAll.PagedQueryAllRows != n || queryAll.BulkQueryAllRows != n {
		t.Errorf("query_all_deleted: got %d deleted rows, queryAll COUNT() %d, paged queryAll rows %d, Bulk 2.0 queryAll rows %d, want 3, %d, %d, %d",
			queryAll.QueryAll, queryAll.QueryAllCount, queryAll.PagedQueryAllRows, queryAll.BulkQueryAllRows, n, n, n)
	}
	if !sameSet(queryAll.BulkDeleted, deletedNow) {
		t.Errorf("query_all_deleted: Bulk 2.0 queryAll rows with IsDeleted true got %v, want %v", queryAll.BulkDeleted, deletedNow)
	}

	// Every change the script made carries its Sforce-Call-Options client.
	scriptIDs := append(slices.Clone(many.IDs), single.ID, upsert.ID, upsertMany.NewID, upsertMany.ExistingID)
	for _, id := range scriptIDs {
		var n int
		for _, ch := range e.org.History(id) {
			if ch.UserID != admin.ID {
				continue // the seeded row's history is empty; humans are another user
			}
			n++
			if ch.Client != "jsforcetest" || !strings.HasSuffix(ch.Origin, ";client=jsforcetest") {
				t.Errorf("history of %s: got %s with client %q origin %q, want client jsforcetest", id, ch.Type, ch.Client, ch.Origin)
			}
		}
		if n == 0 {
			t.Errorf("history of %s: got no change by the admin, want the script's", id)
		}
	}

	var refresh struct {
		Refreshes        int
		TokenChanged     bool
		PasswordRelogins int
	}
	observed(t, checks, "refresh_expired_token", &refresh)
	if refresh.Refreshes != 1 || !refresh.TokenChanged || refresh.PasswordRelogins != 1 {
		t.Errorf("refresh_expired_token: got %+v, want one refresh with a new token and one password re-login", refresh)
	}

	// getUpdated: exactly the live Contacts whose SystemModstamp falls in
	// [start to the minute, latestDateCovered).
	var updated struct {
		Start             time.Time
		LatestDateCovered string
		IDs               []string
	}
	observed(t, checks, "get_updated", &updated)
	covered, err := time.Parse("2006-01-02T15:04:05.000-0700", updated.LatestDateCovered)
	if err != nil {
		t.Errorf("get_updated: latestDateCovered %q: %v", updated.LatestDateCovered, err)
	}
	var wantUpdated []string
	from := updated.Start.Truncate(time.Minute)
	for _, id := range liveIDs {
		rec, _ := e.org.Record(id)
		if ms, ok := rec["SystemModstamp"].(time.Time); ok && !ms.Before(from) && ms.Before(covered) {
			wantUpdated = append(wantUpdated, id)
		}
	}
	if !sameSet(updated.IDs, wantUpdated) {
		t.Errorf("get_updated: got %d ids %v, want the %d live Contacts modified in [%s, %s): %v", len(updated.IDs), updated.IDs, len(wantUpdated), from, covered, wantUpdated)
	}
	if !slices.Contains(updated.IDs, humanEdited) {
		t.Errorf("get_updated: got no %s, want the Contact a human edited", humanEdited)
	}
	var deleted struct{ IDs []string }
	observed(t, checks, "get_deleted", &deleted)
	if !sameSet(deleted.IDs, deletedNow) {
		t.Errorf("get_deleted: got %v, want %v", deleted.IDs, deletedNow)
	}

	if e.srv.RevokeToken(e.tok.RefreshToken) {
		t.Errorf("revoke: got a live refresh token after jsforce's logout(true), want it revoked")
	}

	var final struct {
		Count     int
		LimitInfo usage
	}
	observed(t, checks, "final_count", &final)
	used, max := e.org.APIUsage()
	if final.Count != e.org.ContactCount() {
		t.Errorf("final_count: got COUNT() %d, want ContactCount %d", final.Count, e.org.ContactCount())
	}
	if final.LimitInfo != (usage{Used: used, Limit: max}) {
		t.Errorf("final_count: got Sforce-Limit-Info %+v, want used %d limit %d (the org's usage)", final.LimitInfo, used, max)
	}
}

// TestJSForceBulkResultPages reads more Contacts than one Bulk 2.0
// result page holds, so jsforce follows Sforce-Locator to the end.
func TestJSForceBulkResultPages(t *testing.T) {
	t.Parallel()
	requireNode(t)
	e := setup(t)
	if _, err := e.org.SeedContacts(60000, 8); err != nil {
		t.Fatalf("SeedContacts: %v", err)
	}
	checks := runClient(t, e, e.tok, "bulkpages", []string{"bulk2_result_pages"})
	var got struct {
		Rows, HeaderRows, Count int
		IDsSHA256               string
	}
	observed(t, checks, "bulk2_result_pages", &got)
	ids := e.org.ContactIDs(false)
	slices.Sort(ids)
	sum := sha256.Sum256([]byte(strings.Join(ids, "\n")))
	if got.Rows != len(ids) || got.Count != len(ids) || got.IDsSHA256 != hex.EncodeToString(sum[:]) {
		t.Errorf("bulk2_result_pages: got %d rows, COUNT() %d, id digest %s, want %d and digest %x", got.Rows, got.Count, got.IDsSHA256, len(ids), sum)
	}
}

// TestJSForceBulkIngest loads Contacts with jsforce's Bulk API 2.0 ingest
// (bulk2.loadAndWaitForResults): insert, upsert by an external id, update
// and delete, and checks each against the org and its change history.
// TestJSForceObjects runs jsforce against Lead, lead conversion, Person
// Accounts and duplicate rules (issue 16).
func TestJSForceObjects(t *testing.T) {
	t.Parallel()
	requireNode(t)
	e := setup(t)
	checks := runClient(t, e, e.tok, "objects", []string{"lead_crud", "lead_convert", "person_account", "duplicates_detected"})
	var conv struct{ ContactID, AccountID, ErrorCode string }
	observed(t, checks, "lead_convert", &conv)
	if c, ok := e.org.Record(conv.ContactID); !ok || c["AccountId"] != conv.AccountID {
		t.Errorf("lead_convert: contact %v, want one on account %s", c, conv.AccountID)
	}
	var pa struct{ ID, PersonContactID string }
	observed(t, checks, "person_account", &pa)
	if c, ok := e.org.Record(pa.PersonContactID); !ok || c["Email"] != "yj.jsforce@example.com" || c["AccountId"] != pa.ID {
		t.Errorf("person_account: contact %v", c)
	}
}

func TestJSForceBulkIngest(t *testing.T) {
	t.Parallel()
	requireNode(t)
	e := setup(t)
	checks := runClient(t, e, e.tok, "ingest", []string{"bulk2_ingest_insert", "bulk2_ingest_upsert", "bulk2_ingest_update", "bulk2_ingest_delete", "bulk2_ingest_empty"})
	var ins struct {
		LastName string
		IDs      []string
		Members  []string
	}
	observed(t, checks, "bulk2_ingest_insert", &ins)
	if got := e.findContacts("LastName", ins.LastName); len(ins.IDs) != 250 || len(got) != 255 {
		t.Fatalf("bulk2_ingest_insert: jsforce saw %d ids; the org holds %d Contacts named %q, want 250 and 255 (after the upsert)", len(ins.IDs), len(got), ins.LastName)
	}
	for i, id := range ins.IDs {
		rec, ok := e.org.Record(id)
		if !ok || rec["Member_Number__c"] != ins.Members[i] || rec["Email"] == nil {
			t.Errorf("inserted %s: got %v (found %v), want Member_Number__c %s", id, rec, ok, ins.Members[i])
		}
		h := e.org.History(id)
		if len(h) == 0 || h[0].Type != "CREATE" || h[0].Origin != "com/salesforce/api/bulkapi/"+apiVersion+";client=jsforcetest" {
			t.Errorf("history of %s: got %+v, want a CREATE through bulkapi with client jsforcetest", id, h)
		}
	}
	var ups struct{ UpdatedIDs, NewIDs, NewMembers []string }
	observed(t, checks, "bulk2_ingest_upsert", &ups)
	for _, id := range ups.UpdatedIDs[5:] {
		if rec, _ := e.org.Record(id); rec["Title"] != "Upserted" {
			t.Errorf("upserted %s: got Title %v, want Upserted", id, rec["Title"])
		}
	}
	for i, id := range ups.NewIDs {
		if got := e.findContacts("Member_Number__c", ups.NewMembers[i]); len(got) != 1 || got[0] != id {
			t.Errorf("upsert created %s: got Contacts %v with that member number, want [%s]", ups.NewMembers[i], got, id)
		}
	}
	var upd struct{ TitledIDs, NulledIDs []string }
	observed(t, checks, "bulk2_ingest_update", &upd)
	for _, id := range upd.TitledIDs {
		if rec, _ := e.org.Record(id); rec["Title"] != "Updated by bulk2" {
			t.Errorf("updated %s: got Title %v, want %q", id, rec["Title"], "Updated by bulk2")
		}
	}
	for _, id := range upd.NulledIDs {
		if rec, _ := e.org.Record(id); rec["Title"] != nil || rec["LastName"] != ins.LastName {
			t.Errorf("nulled %s: got %v, want Title null (jsforce sends #N/A) and LastName kept", id, rec)
		}
	}
	var del struct{ DeletedIDs []string }
	observed(t, checks, "bulk2_ingest_delete", &del)
	live := e.org.ContactIDs(false)
	for _, id := range del.DeletedIDs {
		rec, ok := e.org.Record(id)
		h := e.org.History(id)
		if !ok || rec["IsDeleted"] != true || slices.Contains(live, id) || h[len(h)-1].Type != "DELETE" || !strings.HasPrefix(h[len(h)-1].Origin, "com/salesforce/api/bulkapi/") {
			t.Errorf("deleted %s: got %v (found %v), last change %+v, want it in the Recycle Bin, deleted through bulkapi", id, rec, ok, h[len(h)-1])
		}
	}
	// Four jobs with records, one batch each; the empty job uses none.
	if batches, records := e.org.BulkIngestUsage(); batches != 4 || records != 251+15+15+10 {
		t.Errorf("BulkIngestUsage: got %d batches, %d records, want 4 and %d", batches, records, 251+15+15+10)
	}
}

// TestJSForceRequestLimitExceeded spends the org's API allocation and
// expects jsforce to surface REQUEST_LIMIT_EXCEEDED with the usage header.
func TestJSForceRequestLimitExceeded(t *testing.T) {
	t.Parallel()
	requireNode(t)
	e := setup(t)
	_, max := e.org.APIUsage()
	e.org.SetAPIUsage(max)
	checks := runClient(t, e, e.tok, "limit", []string{"request_limit_exceeded"})
	var got struct {
		ErrorCode string
		LimitInfo usage
	}
	observed(t, checks, "request_limit_exceeded", &got)
	if got.ErrorCode != "REQUEST_LIMIT_EXCEEDED" {
		t.Errorf("errorCode: got %q, want REQUEST_LIMIT_EXCEEDED", got.ErrorCode)
	}
	if got.LimitInfo != (usage{Used: max, Limit: max}) {
		t.Errorf("Sforce-Limit-Info: got %+v, want used %d limit %d", got.LimitInfo, max, max)
	}
	if used, _ := e.org.APIUsage(); used != max {
		t.Errorf("API usage after rejected calls: got %d, want %d (rejected calls are not counted)", used, max)
	}
}

// findContacts returns the ids of Contacts (Recycle Bin rows too) whose
// field equals value.
func (e *env) findContacts(field, value string) []string {
	var out []string
	for _, id := range e.org.ContactIDs(true) {
		if rec, _ := e.org.Record(id); rec[field] == value {
			out = append(out, id)
		}
	}
	return out
}

func sameSet(a, b []string) bool {
	x, y := slices.Clone(a), slices.Clone(b)
	slices.Sort(x)
	slices.Sort(y)
	return slices.Equal(slices.Compact(x), slices.Compact(y)) && len(a) == len(b)
}
