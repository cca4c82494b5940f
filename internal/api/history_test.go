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

	"github.com/sfsync/sfsync/internal/alert"
	"github.com/sfsync/sfsync/internal/store/storetest"
	"github.com/sfsync/sfsync/internal/syncer"
	"github.com/sfsync/sfsync/internal/testenv"
)

// TestHistoryPauseTransferAlertsAPI drives issue 17's routes with the real
// engine against the emulator, on both databases: a contact's history
// found by each identity, resync, pause, export and import, alert settings.
func TestHistoryPauseTransferAlertsAPI(t *testing.T) {
	t.Parallel()
	for _, d := range storetest.Dialects {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			env := testenv.New(t, testenv.Options{Dialect: d})
			env.Connect(t)
			ctx := context.Background()
			sfID, err := env.Org.CreateAsHuman(map[string]any{"LastName": "Amy", "Member_Number__c": "M1", "Email": "amy@example.com", "MobilePhone": "+886912345678", "LINE_UID__c": "Uamy"})
			if err != nil {
				t.Fatal(err)
			}
			eng := &syncer.Engine{Store: env.Store, Conn: env.Conn, Logger: slog.New(slog.DiscardHandler)}
			srv := httptest.NewServer(NewWithSync(env.Store, nil, Sync{Engine: eng, Conn: env.Conn, Alerts: &alert.Service{Store: env.Store, Keyring: env.Conn.Keyring}}))
			t.Cleanup(srv.Close)
			_, key, _ := env.Store.CreateAPIKey(ctx, env.Tenant.ID, "t")
			call := func(method, path, body string) (int, map[string]any, string) {
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
				raw, _ := io.ReadAll(resp.Body)
				var out map[string]any
				if err := json.Unmarshal(raw, &out); err != nil && !errors.Is(err, io.EOF) && len(raw) > 0 {
					t.Fatalf("%s %s: decode: %v", method, path, err)
				}
				return resp.StatusCode, out, string(raw)
			}
			cfg := `{"identity":{"salesforce_field":"Member_Number__c","platform_identity":"member_id","to_platform_no_match":"create","to_salesforce_no_match":"update_only"},
				"social_mappings":[{"salesforce_field":"LINE_UID__c","channel_type":"line","channel_id":"OA1","direction":"to_platform"}],
				"field_mappings":[{"salesforce_field":"LastName","platform_field":"name","direction":"both"},{"salesforce_field":"Email","platform_field":"email","direction":"to_platform"},
				{"salesforce_field":"MobilePhone","platform_field":"phone","direction":"to_platform"}]}`
			if code, out, _ := call("PUT", "/api/v1/salesforce/config", cfg); code != 200 {
				t.Fatalf("save config: %d %v", code, out)
			}
			run, err := eng.StartInitialSync(ctx, env.Tenant.ID)
			if err != nil {
				t.Fatal(err)
			}
			if err := eng.RunPull(ctx, env.Tenant.ID, syncer.ModeFull, run.Trigger, run.ID); err != nil {
				t.Fatal(err)
			}
			if r, _ := eng.GetRun(ctx, env.Tenant.ID, run.ID); r.Counts.Created != 1 {
				recs, _ := eng.RunRecords(ctx, env.Tenant.ID, run.ID, "", "", 10)
				t.Fatalf("first sync: %+v %s, %+v; want 1 created", r.Counts, r.Message, recs)
			}

			// Found by each identity: the same contact, its link and timeline.
			var contactID string
			for _, q := range []string{"member_id=M1", "phone=%2B886%20912%20345%20678", "email=AMY@example.com", "social=line:Uamy", "social=line:OA1:Uamy"} {
				code, out, raw := call("GET", "/api/v1/salesforce/history?"+q, "")
				if code != 200 {
					t.Fatalf("history by %s: %d %s", q, code, raw)
				}
				c := out["contact"].(map[string]any)
				if contactID == "" {
					contactID = c["id"].(string)
				}
				link := out["link"].(map[string]any)
				tl := out["timeline"].([]any)
				if c["id"] != contactID || link["salesforce_id"] != sfID || len(tl) != 1 || out["last_to_platform"] == nil || out["last_to_salesforce"] != nil {
					t.Errorf("history by %s: %s; want contact %s linked to %s, one entry, a last pull and no push", q, raw, contactID, sfID)
				}
				if !strings.Contains(raw, `"changed_by":"salesforce"`) || !strings.Contains(raw, `"value":"Amy"`) || !strings.Contains(raw, fmt.Sprintf(`"run_id":%d`, run.ID)) {
					t.Errorf("history by %s: %s; want Amy from Salesforce in run %d", q, raw, run.ID)
				}
			}
			for q, want := range map[string]int{"member_id=M404": 404, "": 400, "member_id=M1&email=a@b.test": 400, "phone=abc": 400, "nickname=x": 400} {
				if code, _, raw := call("GET", "/api/v1/salesforce/history?"+q, ""); code != want {
					t.Errorf("history ?%s: %d %s, want %d", q, code, raw, want)
				}
			}

			// Resync: a Salesforce edit not yet polled comes in a run of its own.
			if err := env.Org.ModifyAsHuman(sfID, map[string]any{"LastName": "Amy Chen"}); err != nil {
				t.Fatal(err)
			}
			code, out, raw := call("POST", "/api/v1/salesforce/history/resync?contact_id="+contactID, "")
			if code != 202 || out["pull_run"].(map[string]any)["trigger"] != "contact_resync" || out["push_queued"] != true {
				t.Fatalf("resync: %d %s; want 202, a contact_resync run, a queued push", code, raw)
			}
			if c, _ := env.Store.GetContact(ctx, env.Tenant.ID, contactID); c.Name != "Amy Chen" {
				t.Errorf("name after resync: %q, want Amy Chen", c.Name)
			}

			// Pause: one direction, the other left as it was.
			if code, out, raw := call("PUT", "/api/v1/salesforce/pause", `{"to_salesforce":true}`); code != 200 || out["to_salesforce"] != true || out["to_platform"] != false {
				t.Errorf("pause push: %d %s", code, raw)
			}
			if code, out, raw := call("PUT", "/api/v1/salesforce/pause", `{"to_platform":true}`); code != 200 || out["to_salesforce"] != true || out["to_platform"] != true {
				t.Errorf("pause pull: %d %s", code, raw)
			}
			if code, _, _ := call("PUT", "/api/v1/salesforce/pause", `{"to_platform":"yes"}`); code != 400 {
				t.Errorf("pause with a string: %d, want 400", code)
			}
			if code, out, _ := call("GET", "/api/v1/salesforce/pause", ""); code != 200 || out["to_platform"] != true {
				t.Errorf("get pause: %d %v", code, out)
			}

			// Export, then import (validate only, then for real): version 2.
			code, _, file := call("GET", "/api/v1/salesforce/config/export", "")
			if code != 200 || !strings.Contains(file, `"sfsync_config_export":1`) || !strings.Contains(file, "Member_Number__c") {
				t.Fatalf("export: %d %s", code, file)
			}
			if code, out, raw := call("POST", "/api/v1/salesforce/config/import?validate_only=true", file); code != 200 || out["valid"] != true {
				t.Errorf("import validate only: %d %s", code, raw)
			}
			if code, out, raw := call("POST", "/api/v1/salesforce/config/import", file); code != 200 || out["version"] != float64(2) {
				t.Errorf("import: %d %s, want version 2", code, raw)
			}
			badFile := strings.Replace(file, "LINE_UID__c", "No_Such__c", 1)
			if code, _, raw := call("POST", "/api/v1/salesforce/config/import", badFile); code != 422 || !strings.Contains(raw, "social_mappings[0].salesforce_field") {
				t.Errorf("import with a field the org lacks: %d %s, want 422 naming social_mappings[0].salesforce_field", code, raw)
			}
			if code, _, raw := call("POST", "/api/v1/salesforce/config/import", `{"identity":{}}`); code != 400 {
				t.Errorf("import of a bare config: %d %s, want 400", code, raw)
			}

			// Alerts: the secret is sealed and never returned; bad fields named.
			code, out, raw = call("PUT", "/api/v1/salesforce/alerts", `{"emails":["ops@shop.test"],"webhook_url":"https://hooks.shop.test/sfsync","webhook_secret":"0123456789abcdef-secret","failure_rate":0.25,"review_days":5}`)
			if code != 200 || out["webhook_secret_set"] != true || strings.Contains(raw, "0123456789abcdef-secret") || out["failure_rate"] != 0.25 || len(out["states"].([]any)) != 4 {
				t.Errorf("set alerts: %d %s", code, raw)
			}
			if code, _, raw := call("PUT", "/api/v1/salesforce/alerts", `{"emails":["not an address"]}`); code != 400 || !strings.Contains(raw, `"emails"`) {
				t.Errorf("bad recipient: %d %s, want 400 naming emails", code, raw)
			}
			// A PUT without the secret keeps it.
			if code, out, raw := call("PUT", "/api/v1/salesforce/alerts", `{"emails":[],"webhook_url":"https://hooks.shop.test/sfsync"}`); code != 200 || out["webhook_secret_set"] != true || out["review_days"] != float64(5) {
				t.Errorf("alerts without the secret: %d %s, want it kept", code, raw)
			}
			if as, _ := env.Store.GetAlertSettings(ctx, env.Tenant.ID); strings.Contains(as.WebhookSecret, "0123456789abcdef") {
				t.Errorf("stored secret is in clear")
			}
		})
	}
}
