package api

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/sfsync/sfsync/internal/contact"
	"github.com/sfsync/sfsync/internal/store"
)

// tenantA is the data tenant B must never see or touch.
type tenantA struct {
	contactID string
	// secrets are every value of A's that a response could leak.
	secrets []string
	// values by name, to build B's requests.
	memberID, phone, email, channelType, channelID, userID, fieldKey string
	runID                                                            int64
	reviewID                                                         int64
	config                                                           string
}

// isolationCase is one request tenant B makes with A's IDs and values.
type isolationCase struct {
	method, path, body string // path and body after substitution
	contentType        string
	// want is "not-found" (404), "empty" (200 with no data), "own" (2xx
	// acting on B's own data only: created, never A's) or "refused" (409:
	// B's own state does not allow it, e.g. no connection).
	want string
}

// isolationCases lists, for each route of the table, what B tries. A route
// missing here fails TestTenantIsolation, so a new route cannot be missed.
func isolationCases(a tenantA) map[string][]isolationCase {
	id := url.PathEscape(a.contactID)
	identity := `{"channel_type":"` + a.channelType + `","channel_id":"` + a.channelID + `","user_id":"` + a.userID + `"}`
	aValues := `"member_id":"` + a.memberID + `","phone":"` + a.phone + `","email":"` + a.email + `","social_identities":[` + identity + `]`
	list := func(q string) isolationCase {
		return isolationCase{method: "GET", path: "/api/v1/contacts" + q, want: "empty"}
	}
	return map[string][]isolationCase{
		"GET /openapi.json": {{method: "GET", path: "/api/v1/openapi.json", want: "own"}},
		"GET /contacts": {
			list(""),
			list("?member_id=" + url.QueryEscape(a.memberID)),
			list("?phone=" + url.QueryEscape(a.phone)),
			list("?email=" + url.QueryEscape(a.email)),
			list("?social=" + url.QueryEscape(a.channelType+":"+a.userID)),
			list("?social=" + url.QueryEscape(a.channelType+":"+a.channelID+":"+a.userID)),
			list("?updated_since=2000-01-01T00:00:00Z"),
			// A cursor just before A's contact.
			list("?cursor=" + url.QueryEscape(encodeCursor(a.contactID[:len(a.contactID)-1]))),
		},
		"POST /contacts": {
			// A's unique values are free in B: no 409 naming A's contact.
			{method: "POST", path: "/api/v1/contacts", body: "{" + aValues + "}", want: "own"},
		},
		"POST /contacts/bulk": {
			{method: "POST", path: "/api/v1/contacts/bulk?match_by=member_id", body: "[{" + aValues + "}]", want: "own"},
			{method: "POST", path: "/api/v1/contacts/bulk?match_by=phone", body: "[{" + aValues + "}]", want: "own"},
			{method: "POST", path: "/api/v1/contacts/bulk?match_by=email", body: `{` + aValues + "}\n", contentType: "application/x-ndjson", want: "own"},
		},
		"GET /contacts/{id}":    {{method: "GET", path: "/api/v1/contacts/" + id, want: "not-found"}},
		"PATCH /contacts/{id}":  {{method: "PATCH", path: "/api/v1/contacts/" + id, body: `{"name":"B was here","phone":null}`, want: "not-found"}},
		"DELETE /contacts/{id}": {{method: "DELETE", path: "/api/v1/contacts/" + id, want: "not-found"}},
		"POST /contacts/{id}/social-identities": {
			{method: "POST", path: "/api/v1/contacts/" + id + "/social-identities", body: `{"channel_type":"line","channel_id":"B","user_id":"B1"}`, want: "not-found"},
		},
		"DELETE /contacts/{id}/social-identities/{channel_type}/{channel_id}/{user_id}": {
			{method: "DELETE", path: "/api/v1/contacts/" + id + "/social-identities/" + url.PathEscape(a.channelType) + "/" + url.PathEscape(a.channelID) + "/" + url.PathEscape(a.userID), want: "not-found"},
		},
		"GET /custom-fields":  {{method: "GET", path: "/api/v1/custom-fields", want: "empty"}},
		"POST /custom-fields": {{method: "POST", path: "/api/v1/custom-fields", body: `{"key":"` + a.fieldKey + `","label":"B's own","type":"text"}`, want: "own"}},
		"DELETE /custom-fields/{key}": {
			{method: "DELETE", path: "/api/v1/custom-fields/" + url.PathEscape(a.fieldKey), want: "not-found"},
		},
		"GET /salesforce/connection":           {{method: "GET", path: "/api/v1/salesforce/connection", want: "own"}},
		"POST /salesforce/connection":          {{method: "POST", path: "/api/v1/salesforce/connection", want: "own"}},
		"DELETE /salesforce/connection":        {{method: "DELETE", path: "/api/v1/salesforce/connection", want: "own"}},
		"POST /salesforce/connection/callback": {{method: "POST", path: "/api/v1/salesforce/connection/callback", body: `{"state":"a-state","code":"a-code"}`, want: "refused"}},
		"PUT /salesforce/connection/budget":    {{method: "PUT", path: "/api/v1/salesforce/connection/budget", body: `{"share":0.3}`, want: "refused"}},
		"GET /salesforce/objects":              {{method: "GET", path: "/api/v1/salesforce/objects", want: "refused"}},
		"GET /salesforce/config":               {{method: "GET", path: "/api/v1/salesforce/config", want: "not-found"}},
		"PUT /salesforce/config":               {{method: "PUT", path: "/api/v1/salesforce/config", body: a.config, want: "refused"}},
		"POST /salesforce/config/validate":     {{method: "POST", path: "/api/v1/salesforce/config/validate", body: a.config, want: "refused"}},
		"POST /salesforce/config/dry-run":      {{method: "POST", path: "/api/v1/salesforce/config/dry-run", body: a.config, want: "refused"}},
		"POST /salesforce/sync":                {{method: "POST", path: "/api/v1/salesforce/sync", body: `{"kind":"changes"}`, want: "refused"}},
		"GET /salesforce/runs":                 {{method: "GET", path: "/api/v1/salesforce/runs", want: "empty"}, {method: "GET", path: "/api/v1/salesforce/runs?direction=to_platform", want: "empty"}},
		"GET /salesforce/runs/{id}":            {{method: "GET", path: fmt.Sprintf("/api/v1/salesforce/runs/%d", a.runID), want: "not-found"}},
		"GET /salesforce/runs/{id}/records":    {{method: "GET", path: fmt.Sprintf("/api/v1/salesforce/runs/%d/records", a.runID), want: "not-found"}},
		"GET /salesforce/review":               {{method: "GET", path: "/api/v1/salesforce/review", want: "empty"}, {method: "GET", path: "/api/v1/salesforce/review?status=open", want: "empty"}},
		"GET /salesforce/review/{id}":          {{method: "GET", path: fmt.Sprintf("/api/v1/salesforce/review/%d", a.reviewID), want: "not-found"}},
		"GET /salesforce/history": {
			{method: "GET", path: "/api/v1/salesforce/history?contact_id=" + url.QueryEscape(a.contactID), want: "not-found"},
			{method: "GET", path: "/api/v1/salesforce/history?member_id=" + url.QueryEscape(a.memberID), want: "not-found"},
			{method: "GET", path: "/api/v1/salesforce/history?phone=" + url.QueryEscape(a.phone), want: "not-found"},
			{method: "GET", path: "/api/v1/salesforce/history?email=" + url.QueryEscape(a.email), want: "not-found"},
			{method: "GET", path: "/api/v1/salesforce/history?social=" + url.QueryEscape(a.channelType+":"+a.channelID+":"+a.userID), want: "not-found"},
		},
		"POST /salesforce/history/resync": {
			{method: "POST", path: "/api/v1/salesforce/history/resync?contact_id=" + url.QueryEscape(a.contactID), want: "not-found"},
			{method: "POST", path: "/api/v1/salesforce/history/resync?member_id=" + url.QueryEscape(a.memberID), want: "not-found"},
		},
		"GET /salesforce/pause":         {{method: "GET", path: "/api/v1/salesforce/pause", want: "own"}},
		"PUT /salesforce/pause":         {{method: "PUT", path: "/api/v1/salesforce/pause", body: `{"to_platform":false,"to_salesforce":false}`, want: "own"}},
		"GET /salesforce/config/export": {{method: "GET", path: "/api/v1/salesforce/config/export", want: "not-found"}},
		"POST /salesforce/config/import": {
			{method: "POST", path: "/api/v1/salesforce/config/import", body: `{"sfsync_config_export":1,"config":` + a.config + `}`, want: "refused"},
		},
		"GET /salesforce/alerts": {{method: "GET", path: "/api/v1/salesforce/alerts", want: "own"}},
		"PUT /salesforce/alerts": {{method: "PUT", path: "/api/v1/salesforce/alerts", body: `{"emails":["b@b.test"]}`, want: "own"}},
		"POST /salesforce/review/{id}/resolve": {
			{method: "POST", path: fmt.Sprintf("/api/v1/salesforce/review/%d/resolve", a.reviewID), body: `{"action":"link","salesforce_id":"003A-REVIEW-SECRET"}`, want: "not-found"},
			{method: "POST", path: fmt.Sprintf("/api/v1/salesforce/review/%d/resolve", a.reviewID), body: `{"action":"ignore"}`, want: "not-found"},
		},
	}
}

// TestTenantIsolation (SPEC X10): tenant B calls every route of the table
// with A's IDs and values and gets 404 or an empty result, never A's data,
// and A's data is untouched afterwards.
func TestTenantIsolation(t *testing.T) {
	t.Parallel()
	forDialects(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		// e's tenant is A.
		e.mustCustomField(`{"key":"a_secret_tier","label":"A-Secret-Label","type":"select","options":["a-secret-option"]}`)
		c := e.mustCreate(`{"member_id":"A-MEMBER-7781","name":"Alice-Secret-Name","phone":"+886912000111","email":"alice.secret@a.test",
			"birthday":"1981-07-07","tags":["a-secret-tag"],"custom_fields":{"a_secret_tier":"a-secret-option"},
			"social_identities":[{"channel_type":"line","channel_id":"A-OA-CHANNEL","user_id":"U-A-SECRET-USER"}]}`)
		a := tenantA{
			contactID: c.ID, memberID: "A-MEMBER-7781", phone: "+886912000111", email: "alice.secret@a.test",
			channelType: "line", channelID: "A-OA-CHANNEL", userID: "U-A-SECRET-USER", fieldKey: "a_secret_tier",
		}
		// A's sync: a saved configuration, a run and its log.
		a.config = `{"identity":{"salesforce_field":"A_Secret_Field__c","platform_identity":"member_id","to_platform_no_match":"create","to_salesforce_no_match":"update_only"}}`
		v, err := e.store.SaveSyncConfig(ctx, e.tenant, "a-admin", []byte(a.config))
		if err != nil {
			t.Fatal(err)
		}
		if err := e.store.SaveSyncState(ctx, store.SyncState{TenantID: e.tenant, ConfigVersion: v.Version}); err != nil {
			t.Fatal(err)
		}
		run, err := e.store.CreateRun(ctx, store.SyncRun{TenantID: e.tenant, Direction: "to_platform", Trigger: "initial", Status: "succeeded", ConfigVersion: v.Version})
		if err != nil {
			t.Fatal(err)
		}
		a.runID = run.ID
		if err := e.store.AddRunRecords(ctx, e.tenant, []store.SyncRunRecord{{RunID: run.ID, Kind: "failed", SalesforceID: "003A-SECRET-SFID", ReasonCode: "invalid_phone", Reason: "A-secret-reason"}}); err != nil {
			t.Fatal(err)
		}
		// A's review queue: one open item.
		err = e.store.Tx(ctx, func(tx *sql.Tx) error {
			_, err := e.store.HoldTx(ctx, tx, e.tenant, store.ReviewItem{Kind: store.ReviewIdentity, IdentityField: "Email", IdentityKey: a.email, ContactID: c.ID,
				ContactValues: map[string]any{"LastName": "Alice-Secret-Name"}, RunID: run.ID,
				Candidates: []store.ReviewCandidate{{SalesforceID: "003A-REVIEW-SECRET"}, {SalesforceID: "003A-REVIEW-OTHER", Values: map[string]any{"LastName": "A-Review-Secret-Name"}}}})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		// A's field history, pause and alert settings.
		err = e.store.Tx(ctx, func(tx *sql.Tx) error {
			return e.store.AddFieldHistoryTx(ctx, tx, e.tenant, []store.FieldHistoryEntry{{ContactID: c.ID, SalesforceID: "003A-SECRET-SFID", RunID: run.ID, Direction: "to_platform",
				Changes: []store.FieldChange{{Key: "name", SFField: "LastName", Side: "salesforce", Value: "A-History-Secret", Old: "Alice-Secret-Name"}}}})
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := e.store.SetSyncPause(ctx, e.tenant, store.SyncPause{ToPlatform: true, ToSalesforce: true}); err != nil {
			t.Fatal(err)
		}
		if err := e.store.SaveAlertSettings(ctx, store.AlertSettings{TenantID: e.tenant, Emails: []string{"a-alerts-secret@a.test"}, WebhookURL: "https://a-secret-hook.test/x", FailureRate: 0.1, ReviewDays: 3}); err != nil {
			t.Fatal(err)
		}
		held, _ := e.store.HeldSalesforceIDs(ctx, e.tenant, []string{"003A-REVIEW-SECRET"})
		a.reviewID = held["003A-REVIEW-SECRET"]
		a.secrets = []string{c.ID, a.memberID, "Alice-Secret-Name", a.phone, "912000111", a.email, "1981-07-07", "a-secret-tag",
			"a-secret-option", a.channelID, a.userID, a.fieldKey, "A-Secret-Label", e.tenant, "A_Secret_Field__c", "003A-SECRET-SFID", "A-secret-reason",
			"003A-REVIEW-OTHER", "A-Review-Secret-Name", "A-History-Secret", "a-alerts-secret@a.test", "a-secret-hook.test"}
		beforeA := jsonString(viewContact(mustGet(t, e.store, e.tenant, c.ID)))
		outboxBefore := len(e.outbox())

		cases := isolationCases(a)
		for _, rt := range routes {
			key := rt.method + " " + rt.path
			list, ok := cases[key]
			if !ok || len(list) == 0 {
				t.Errorf("route %s has no tenant isolation case; add one to isolationCases", key)
				continue
			}
			delete(cases, key)
			for _, tc := range list {
				// A fresh tenant B for each request, so one case's writes
				// cannot make another's list non-empty.
				_, keyB := newTenantKey(t, e.store, "B")
				ct := tc.contentType
				if ct == "" {
					ct = "application/json"
				}
				r := e.doKey(keyB, tc.method, tc.path, tc.body, ct)
				checkIsolated(t, key, tc, r, a)
			}
		}
		for key := range cases {
			t.Errorf("isolation case for %s matches no route in the table", key)
		}

		if after := jsonString(viewContact(mustGet(t, e.store, e.tenant, c.ID))); after != beforeA {
			t.Errorf("A's contact changed to %s, want %s", after, beforeA)
		}
		if n := len(e.outbox()); n != outboxBefore {
			t.Errorf("A's outbox grew from %d to %d rows, want no change", outboxBefore, n)
		}
		if it, err := e.store.GetReviewItem(ctx, e.tenant, a.reviewID); err != nil || it.Status != store.ReviewOpen {
			t.Errorf("A's review item after B's requests: got %+v, %v; want it open", it, err)
		}
		if p, _ := e.store.GetSyncPause(ctx, e.tenant); !p.ToPlatform || !p.ToSalesforce {
			t.Errorf("A's pause after B's requests: got %+v, want both paused still", p)
		}
		if as, _ := e.store.GetAlertSettings(ctx, e.tenant); len(as.Emails) != 1 || as.Emails[0] != "a-alerts-secret@a.test" {
			t.Errorf("A's alert recipients after B's requests: got %v", as.Emails)
		}
		defs, err := e.store.ListCustomFields(ctx, e.tenant)
		if err != nil || len(defs) != 1 || defs[0].Label != "A-Secret-Label" {
			t.Errorf("A's custom fields = %+v, %v; want A-Secret-Label only", defs, err)
		}
	})
}

func checkIsolated(t *testing.T, key string, tc isolationCase, r response, a tenantA) {
	t.Helper()
	what := tc.method + " " + tc.path
	switch tc.want {
	case "not-found":
		if r.status != http.StatusNotFound {
			t.Errorf("%s with B's key: got %s, want 404", what, r)
			return
		}
		if p := r.problem(t); p.Type != problemTypePrefix+string(codeNotFound) {
			t.Errorf("%s with B's key: problem type %s, want %s (the route must run, not miss)", what, p.Type, problemTypePrefix+string(codeNotFound))
		}
	case "refused":
		if r.status != http.StatusConflict {
			t.Errorf("%s with B's key: got %s, want 409 refused", what, r)
		}
	case "empty":
		var page struct {
			Data []any `json:"data"`
		}
		if r.status != http.StatusOK || jsonUnmarshal(r.body, &page) != nil || page.Data == nil || len(page.Data) != 0 {
			t.Errorf("%s with B's key: got %s, want 200 with empty data", what, r)
		}
	case "own":
		if r.status < 200 || r.status > 299 {
			t.Errorf("%s with B's key: got %s, want success on B's own data", what, r)
		}
		if strings.Contains(tc.path, "/bulk") {
			var resp bulkResponse
			if jsonUnmarshal(r.body, &resp) != nil || resp.Counts.Total == 0 || resp.Counts.Created != resp.Counts.Total {
				t.Errorf("%s with B's key: got %s, want every item created in B, none matched to A's", what, r)
			}
		}
	default:
		t.Fatalf("%s: unknown expectation %q", key, tc.want)
	}
	// Values B sent may be echoed back; nothing else of A's may appear.
	for _, s := range a.secrets {
		if strings.Contains(tc.body, s) {
			continue
		}
		if strings.Contains(string(r.body), s) {
			t.Errorf("%s with B's key: response %s contains A's %q", what, r.body, s)
		}
		for k, vs := range r.header {
			for _, v := range vs {
				if strings.Contains(v, s) {
					t.Errorf("%s with B's key: header %s: %s contains A's %q", what, k, v, s)
				}
			}
		}
	}
}

func mustGet(t *testing.T, s *store.Store, tenantID, id string) contact.Contact {
	t.Helper()
	got, err := s.GetContact(context.Background(), tenantID, id)
	if err != nil {
		t.Fatalf("get %s: %v", id, err)
	}
	return got
}
