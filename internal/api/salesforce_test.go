package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/sfsync/sfsync/internal/syncer"
	"github.com/sfsync/sfsync/internal/testenv"
)

// TestSalesforceAPIAgainstTheEmulator drives the connection, the
// configuration, a sync and the run log through the JSON API, with the
// real engine and the emulator's OAuth login page.
func TestSalesforceAPIAgainstTheEmulator(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{})
	ctx := context.Background()
	for i := range 30 {
		if _, err := env.Org.CreateAsHuman(map[string]any{"LastName": fmt.Sprintf("P%02d", i), "Member_Number__c": fmt.Sprintf("M%02d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	eng := &syncer.Engine{Store: env.Store, Conn: env.Conn, Logger: slog.New(slog.DiscardHandler)}
	srv := httptest.NewServer(NewWithSync(env.Store, nil, Sync{Engine: eng, Conn: env.Conn}))
	t.Cleanup(srv.Close)
	_, key, _ := env.Store.CreateAPIKey(ctx, env.Tenant.ID, "t")
	call := func(method, path, body string) (int, map[string]any) {
		t.Helper()
		req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+key)
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&out); err != nil && !errors.Is(err, io.EOF) { // EOF: no body
			t.Fatalf("%s %s: decode the answer: %v", method, path, err)
		}
		return resp.StatusCode, out
	}

	if code, out := call("GET", "/api/v1/salesforce/connection", ""); code != 200 || out["status"] != "not_connected" {
		t.Fatalf("connection before connecting = %d %v", code, out)
	}
	// Before connecting, a configuration cannot be checked against the org.
	if code, out := call("PUT", "/api/v1/salesforce/config", `{"identity":{"salesforce_field":"Member_Number__c","platform_identity":"member_id"}}`); code != 409 || out["refusal"] != "not_connected" {
		t.Errorf("PUT config before connecting = %d %v, want 409 not_connected", code, out)
	}
	code, out := call("POST", "/api/v1/salesforce/connection", `{}`)
	if code != 200 {
		t.Fatalf("start = %d %v", code, out)
	}
	q := testenv.BrowserAuthorize(t, out["authorize_url"].(string), testenv.AdminUser, testenv.AdminPassword, "allow")
	body, _ := json.Marshal(map[string]string{"code": q.Get("code"), "state": q.Get("state")})
	if code, out := call("POST", "/api/v1/salesforce/connection/callback", string(body)); code != 200 || out["status"] != "connected" || out["username"] != testenv.AdminUser {
		t.Fatalf("callback = %d %v, want connected as %s", code, out, testenv.AdminUser)
	}
	// The API budget is the admin's (X4): set, refused out of range with the field named.
	if code, out := call("PUT", "/api/v1/salesforce/connection/budget", `{"share":0.3}`); code != 200 || out["api_budget"] != 0.3 {
		t.Errorf("set budget 0.3 = %d %v, want 200 with api_budget 0.3", code, out)
	}
	for _, bad := range []string{`{"share":0}`, `{"share":1.5}`, `{}`} {
		if code, out := call("PUT", "/api/v1/salesforce/connection/budget", bad); code != 400 || !strings.Contains(fmt.Sprint(out), "share") {
			t.Errorf("set budget %s = %d %v, want 400 naming share", bad, code, out)
		}
	}
	if c, err := env.Store.GetConnection(ctx, env.Tenant.ID); err != nil || c.APIBudget != 0.3 {
		t.Errorf("stored budget %v (%v), want 0.3", c.APIBudget, err)
	}
	// The state was single use.
	if code, out := call("POST", "/api/v1/salesforce/connection/callback", string(body)); code != 409 || out["refusal"] != "bad_state" {
		t.Errorf("replayed callback = %d %v, want 409 bad_state", code, out)
	}

	// An invalid configuration: one problem entry per field, both languages.
	bad := `{"identity":{"salesforce_field":"No_Such__c","platform_identity":"member_id","to_platform_no_match":"create","to_salesforce_no_match":"create"},
		"field_mappings":[{"salesforce_field":"CreatedDate","platform_field":"birthday","direction":"to_salesforce"}]}`
	code, out = call("POST", "/api/v1/salesforce/config/validate", bad)
	errs, _ := out["errors"].([]any)
	if code != 422 || len(errs) < 2 {
		t.Fatalf("validate bad config = %d %v, want 422 with an entry per field", code, out)
	}
	fields := map[string]bool{}
	for _, e := range errs {
		m := e.(map[string]any)
		fields[m["field"].(string)] = true
		if m["reason"] == "" || m["reason_zh_tw"] == "" || m["step"] == "" {
			t.Errorf("error entry %v lacks a reason in both languages or its step", m)
		}
	}
	mapping := false
	for f := range fields {
		mapping = mapping || strings.HasPrefix(f, "field_mappings[0].")
	}
	if !fields["identity.salesforce_field"] || !mapping {
		t.Errorf("error fields = %v, want identity.salesforce_field and one on field_mappings[0]", fields)
	}
	good := `{"identity":{"salesforce_field":"Member_Number__c","platform_identity":"member_id","to_platform_no_match":"create","to_salesforce_no_match":"update_only"},
		"field_mappings":[{"salesforce_field":"LastName","platform_field":"name","direction":"to_platform"}]}`
	if code, out := call("POST", "/api/v1/salesforce/config/validate", good); code != 200 || out["valid"] != true {
		t.Errorf("validate good config = %d %v", code, out)
	}
	// The pair "Lead, then the converted Contact" (issue 16 item 3): offered,
	// and a mapped field Contact lacks is refused at the mapping, naming Contact.
	if code, out := call("GET", "/api/v1/salesforce/objects", ""); code != 200 || !strings.Contains(fmt.Sprint(out), "map[converted_sobject:Contact object:LeadContact sobject:Lead]") {
		t.Errorf("objects = %d %v, want LeadContact reading Lead, converted into Contact", code, out)
	}
	pair := `{"object":"LeadContact","identity":{"salesforce_field":"Email","platform_identity":"email","to_platform_no_match":"create","to_salesforce_no_match":"update_only"},
		"field_mappings":[{"salesforce_field":"LastName","platform_field":"name","direction":"both"},{"salesforce_field":"Company","platform_field":"member_id","direction":"to_platform"}]}`
	code, out = call("POST", "/api/v1/salesforce/config/validate", pair)
	if code != 422 || !strings.Contains(fmt.Sprint(out), "field_mappings[1].salesforce_field") || !strings.Contains(fmt.Sprint(out), "on Contact") {
		t.Errorf("validate the pair with Company mapped = %d %v, want 422 at field_mappings[1] naming Contact", code, out)
	}
	pair = strings.Replace(pair, `,{"salesforce_field":"Company","platform_field":"member_id","direction":"to_platform"}`, "", 1)
	if code, out := call("POST", "/api/v1/salesforce/config/validate", pair); code != 200 || out["valid"] != true {
		t.Errorf("validate the pair = %d %v, want valid", code, out)
	}
	if code, out := call("POST", "/api/v1/salesforce/config/dry-run", good); code != 200 || out["matching"] != float64(30) {
		t.Errorf("dry run = %d %v, want 30 matching", code, out)
	}
	if code, out := call("PUT", "/api/v1/salesforce/config", good); code != 200 || out["version"] != float64(1) {
		t.Fatalf("save = %d %v", code, out)
	}
	if code, out := call("GET", "/api/v1/salesforce/config", ""); code != 200 || out["version"] != float64(1) {
		t.Errorf("GET config = %d %v", code, out)
	}

	// A body with anything after its object is refused, as on every route.
	if code, out := call("POST", "/api/v1/salesforce/sync", `{"kind":"initial"} {"kind":"full"}`); code != 400 {
		t.Errorf("start sync with two objects = %d %v, want 400", code, out)
	}
	// A first sync, started through the API and worked here as a job would.
	code, out = call("POST", "/api/v1/salesforce/sync", `{"kind":"initial"}`)
	if code != 202 {
		t.Fatalf("start sync = %d %v", code, out)
	}
	runID := int64(out["id"].(float64))
	if err := eng.RunPull(ctx, env.Tenant.ID, syncer.ModeFull, syncer.TriggerInitial, runID); err != nil {
		t.Fatal(err)
	}
	code, out = call("GET", fmt.Sprintf("/api/v1/salesforce/runs/%d", runID), "")
	counts, _ := out["counts"].(map[string]any)
	if code != 200 || out["status"] != "succeeded" || out["percent"] != float64(100) || counts["created"] != float64(30) {
		t.Errorf("run = %d %v, want succeeded at 100%% with 30 created", code, out)
	}
	code, out = call("GET", "/api/v1/salesforce/runs?direction=to_platform", "")
	if data, _ := out["data"].([]any); code != 200 || len(data) != 1 {
		t.Errorf("runs to_platform = %d %v, want the one run", code, out)
	}
	if code, out := call("GET", "/api/v1/salesforce/runs?direction=to_salesforce", ""); code != 200 || len(out["data"].([]any)) != 0 {
		t.Errorf("runs to_salesforce = %d %v, want none", code, out)
	}
	if code, _ := call("GET", "/api/v1/salesforce/runs?direction=sideways", ""); code != 400 {
		t.Errorf("bad direction = %d, want 400", code)
	}
	if code, out := call("GET", fmt.Sprintf("/api/v1/salesforce/runs/%d/records", runID), ""); code != 200 || out["data"] == nil {
		t.Errorf("records = %d %v, want 200 with a data list", code, out)
	}
	// The same records as CSV, for download (rows are checked by the
	// store's conformance suite).
	req, _ := http.NewRequest("GET", fmt.Sprintf("%s/api/v1/salesforce/runs/%d/records?format=csv", srv.URL, runID), nil)
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	csvBody, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv") ||
		!strings.Contains(resp.Header.Get("Content-Disposition"), fmt.Sprintf("sfsync-run-%d.csv", runID)) ||
		!strings.HasPrefix(string(csvBody), "run_id,kind,salesforce_id,") {
		t.Errorf("records as CSV = %d %q %q %q", resp.StatusCode, resp.Header.Get("Content-Type"), resp.Header.Get("Content-Disposition"), csvBody)
	}
	// A drift check on demand (Y2): a run of its own, whose message
	// reports what it compared.
	code, out = call("POST", "/api/v1/salesforce/sync", `{"kind":"drift_check"}`)
	if code != 202 || out["trigger"] != "drift_check" {
		t.Fatalf("start drift check = %d %v, want 202 and a drift_check run", code, out)
	}
	driftID := int64(out["id"].(float64))
	if err := eng.RunPull(ctx, env.Tenant.ID, syncer.ModeDrift, syncer.TriggerDrift, driftID); err != nil {
		t.Fatal(err)
	}
	code, out = call("GET", fmt.Sprintf("/api/v1/salesforce/runs/%d", driftID), "")
	if msg, _ := out["message"].(string); code != 200 || out["status"] != "succeeded" || !strings.Contains(msg, "30 records checked, 0 drifted") {
		t.Errorf("drift run = %d %v, want succeeded with its report", code, out)
	}
	if code, _ := call("DELETE", "/api/v1/salesforce/connection", ""); code != 204 {
		t.Errorf("disconnect = %d, want 204", code)
	}
	if code, out := call("GET", "/api/v1/salesforce/connection", ""); out["status"] != "not_connected" {
		t.Errorf("after disconnect = %d %v", code, out)
	}
}
