package web

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/sfsync/sfsync/internal/alert"
	"github.com/sfsync/sfsync/internal/contact"
	"github.com/sfsync/sfsync/internal/secret"
	"github.com/sfsync/sfsync/internal/sfconn"
	"github.com/sfsync/sfsync/internal/store"
	"github.com/sfsync/sfsync/internal/syncconf"
	"github.com/sfsync/sfsync/internal/syncer"
)

// controlsEnv is the admin UI with the real engine, tenant A connected to
// the emulator's org and synced once (Amy, member M1).
type controlsEnv struct {
	*testEnv
	emu   *emuEnv
	eng   *syncer.Engine
	sfID  string
	amyID string
}

func setupControls(t *testing.T, lang string) *controlsEnv {
	t.Helper()
	emu := startEmulator(t)
	sfID, err := emu.org.CreateAsHuman(map[string]any{"LastName": "Amy", "Email": "amy@example.com", "MobilePhone": "+886912345678"})
	if err != nil {
		t.Fatal(err)
	}
	var eng *syncer.Engine
	e := setup(t, setupOpts{tenantLang: lang, conn: emu.wire(true), loginLimit: 1000,
		engine: func(st *store.Store, c *sfconn.Service, _ *fakeEngine) Engine {
			eng = &syncer.Engine{Store: st, Conn: c, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
			return eng
		},
		alerts: func(st *store.Store, kr *secret.Keyring) *alert.Service {
			return &alert.Service{Store: st, Keyring: kr}
		}})
	ctx := context.Background()
	authorizeAs(t, e.client().login("a@shop.test"), emu.url, emuAdmin)
	if c, err := e.conn.Status(ctx, e.tenantA.ID); err != nil || c.Status != store.ConnConnected {
		t.Fatalf("connection: %+v, %v; want connected", c, err)
	}
	cfg := syncconf.Config{Identity: syncconf.IdentityMapping{SalesforceField: "Email", PlatformIdentity: contact.IdentityEmail,
		ToPlatformNoMatch: syncconf.NoMatchCreate, ToSalesforceNoMatch: syncconf.NoMatchUpdateOnly},
		Fields: []syncconf.FieldMapping{{SalesforceField: "LastName", PlatformField: "name", Direction: syncconf.DirBoth}}}
	if _, err := eng.SaveConfig(ctx, e.tenantA.ID, "u", cfg); err != nil {
		t.Fatal(err)
	}
	run, err := eng.StartInitialSync(ctx, e.tenantA.ID)
	if err != nil {
		t.Fatal(err)
	}
	if err := eng.RunPull(ctx, e.tenantA.ID, syncer.ModeFull, run.Trigger, run.ID); err != nil {
		t.Fatal(err)
	}
	list, err := e.store.ListContacts(ctx, e.tenantA.ID, store.ContactFilter{Email: "amy@example.com"})
	if err != nil || len(list) != 1 {
		t.Fatalf("Amy after the first sync: %v, %v", list, err)
	}
	return &controlsEnv{testEnv: e, emu: emu, eng: eng, sfID: sfID, amyID: list[0].ID}
}

// TestContactHistoryPage: find a contact by each identity, see its link,
// last syncs and field timeline, resync it; another tenant gets 404.
func TestContactHistoryPage(t *testing.T) {
	t.Parallel()
	for _, lang := range []string{langZH, langEN} {
		t.Run(lang, func(t *testing.T) {
			t.Parallel()
			e := setupControls(t, lang)
			a := e.client().login("a@shop.test")
			for _, q := range []string{"by=email&q=AMY%40example.com", "by=contact_id&q=" + e.amyID} {
				p := a.get("/admin/salesforce/history?" + q)
				checkText(t, lang, "history "+q, p)
				mustContain(t, p, `id="history-timeline"`, e.sfID, `id="resync-contact"`, "LastName", "Amy")
			}
			p := a.get("/admin/salesforce/history?by=email&q=nobody%40example.com")
			mustContain(t, p, `id="history-none"`)
			p = a.get("/admin/salesforce/history?by=phone&q=abc")
			if p.status != http.StatusOK || !strings.Contains(p.body, `id="history-q-error"`) {
				t.Errorf("a phone that is no number: got %d, want the form with the reason", p.status)
			}
			checkText(t, lang, "history error", p)

			// Resync: the Salesforce edit comes in; the page says so.
			if err := e.emu.org.ModifyAsHuman(e.sfID, map[string]any{"LastName": "Amy Chen"}); err != nil {
				t.Fatal(err)
			}
			p = a.post("/admin/salesforce/history/resync", url.Values{"contact_id": {e.amyID}})
			if p.status != http.StatusSeeOther || !strings.Contains(p.header.Get("Location"), "done=resynced") {
				t.Fatalf("resync: got %d %s, want 303 back to the history", p.status, p.header.Get("Location"))
			}
			p = a.get(p.header.Get("Location"))
			checkText(t, lang, "after resync", p)
			mustContain(t, p, "Amy → Amy Chen", `class="flash`)
			if p := a.post("/admin/salesforce/history/resync", url.Values{"contact_id": {e.amyID}, "csrf": {"forged"}}); p.status != http.StatusForbidden {
				t.Errorf("resync with a forged CSRF token: got %d, want 403", p.status)
			}

			// Tenant B sees nothing of A's.
			b := e.client().login("b@shop.test")
			if p := b.get("/admin/salesforce/history?contact=" + e.amyID); p.status != http.StatusNotFound {
				t.Errorf("B opens A's contact history: got %d, want 404", p.status)
			}
			if p := b.get("/admin/salesforce/history?by=email&q=amy%40example.com"); strings.Contains(p.body, e.amyID) || !strings.Contains(p.body, `id="history-none"`) {
				t.Errorf("B finds A's contact by e-mail")
			}
			if p := b.post("/admin/salesforce/history/resync", url.Values{"contact_id": {e.amyID}}); p.status != http.StatusNotFound {
				t.Errorf("B resyncs A's contact: got %d, want 404", p.status)
			}
		})
	}
}

// TestControlsPage: pause and resume each direction (the card shows it),
// export the configuration and import it, with errors naming the field.
func TestControlsPage(t *testing.T) {
	t.Parallel()
	for _, lang := range []string{langZH, langEN} {
		t.Run(lang, func(t *testing.T) {
			t.Parallel()
			e := setupControls(t, lang)
			ctx := context.Background()
			a := e.client().login("a@shop.test")
			p := a.get("/admin/salesforce/controls")
			checkText(t, lang, "controls", p)
			mustContain(t, p, `id="pause-to_platform"`, `id="pause-to_salesforce"`, `id="export-config"`)
			p = a.post("/admin/salesforce/pause", url.Values{"direction": {"to_salesforce"}, "paused": {"1"}})
			if p.status != http.StatusSeeOther {
				t.Fatalf("pause: got %d", p.status)
			}
			if got, _ := e.eng.Pause(ctx, e.tenantA.ID); got.ToPlatform || !got.ToSalesforce {
				t.Errorf("pause after the button: %+v, want platform → Salesforce only", got)
			}
			p = a.get("/admin/integrations")
			checkText(t, lang, "card paused", p)
			mustContain(t, p, `id="sf-card-paused"`)
			p = a.get("/admin/salesforce/controls?done=paused")
			mustContain(t, p, `id="resume-to_salesforce"`)
			if p := a.post("/admin/salesforce/pause", url.Values{"direction": {"to_salesforce"}, "paused": {"0"}}); p.status != http.StatusSeeOther {
				t.Fatalf("resume: got %d", p.status)
			}
			if got, _ := e.eng.Pause(ctx, e.tenantA.ID); got.ToSalesforce {
				t.Errorf("after resume: %+v", got)
			}
			if p := a.get("/admin/integrations"); strings.Contains(p.body, `id="sf-card-paused"`) {
				t.Errorf("the card still shows paused after resume")
			}
			if p := a.post("/admin/salesforce/pause", url.Values{"direction": {"sideways"}, "paused": {"1"}}); p.status != http.StatusBadRequest {
				t.Errorf("pause of an unknown direction: got %d, want 400", p.status)
			}

			// Export, then import: a bad field is named; the good file saves version 2.
			p = a.get("/admin/salesforce/config/export.json")
			var exp syncer.ConfigExport
			if p.status != 200 || json.Unmarshal([]byte(p.body), &exp) != nil || exp.Format != 1 || !strings.Contains(p.header.Get("Content-Disposition"), "attachment") {
				t.Fatalf("export: %d %.200s", p.status, p.body)
			}
			bad := strings.Replace(p.body, `"LastName"`, `"No_Such_Field__c"`, 1)
			r := a.post("/admin/salesforce/config/import", url.Values{"file": {bad}, "action": {"validate"}})
			checkText(t, lang, "import errors", r)
			if r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, "field_mappings[0].salesforce_field") || !strings.Contains(r.body, "No_Such_Field__c") {
				t.Errorf("import of a file naming a field the org lacks: got %d, want 422 naming field_mappings[0].salesforce_field", r.status)
			}
			r = a.post("/admin/salesforce/config/import", url.Values{"file": {"not json"}, "action": {"import"}})
			mustContain(t, r, `id="import-error"`)
			r = a.post("/admin/salesforce/config/import", url.Values{"file": {p.body}, "action": {"validate"}})
			mustContain(t, r, `id="import-valid"`)
			r = a.post("/admin/salesforce/config/import", url.Values{"file": {p.body}, "action": {"import"}})
			checkText(t, lang, "imported", r)
			mustContain(t, r, `id="import-done"`)
			if _, v, _ := e.eng.CurrentConfig(ctx, e.tenantA.ID); v != 2 {
				t.Errorf("version after import: %d, want 2", v)
			}
			// B has no configuration to export.
			b := e.client().login("b@shop.test")
			if p := b.get("/admin/salesforce/config/export.json"); p.status != http.StatusConflict || strings.Contains(p.body, "Email") {
				t.Errorf("B exports: got %d, want 409 without A's configuration", p.status)
			}
		})
	}
}

// TestAlertsPage: the admin sets recipients, webhook and thresholds (CSRF
// checked, bad fields named, the secret never shown).
func TestAlertsPage(t *testing.T) {
	t.Parallel()
	for _, lang := range []string{langZH, langEN} {
		t.Run(lang, func(t *testing.T) {
			t.Parallel()
			e := setup(t, setupOpts{tenantLang: lang, loginLimit: 1000,
				alerts: func(st *store.Store, kr *secret.Keyring) *alert.Service {
					return &alert.Service{Store: st, Keyring: kr}
				}})
			a := e.client().login("a@shop.test")
			p := a.get("/admin/salesforce/alerts")
			checkText(t, lang, "alerts", p)
			mustContain(t, p, `id="alert-states"`, `name="emails"`)
			form := url.Values{"emails": {"ops@shop.test, owner@shop.test"}, "webhook_url": {"https://hooks.shop.test/x"}, "webhook_secret": {"a-very-secret-signing-key"},
				"failure_rate": {"15"}, "review_days": {"4"}}
			if p := a.post("/admin/salesforce/alerts", url.Values{"emails": {"x@y.test"}, "csrf": {"forged"}}); p.status != http.StatusForbidden {
				t.Errorf("forged CSRF: got %d, want 403", p.status)
			}
			if p := a.post("/admin/salesforce/alerts", form); p.status != http.StatusSeeOther {
				t.Fatalf("save: got %d %.300s", p.status, p.body)
			}
			p = a.get("/admin/salesforce/alerts?done=alerts_saved")
			checkText(t, lang, "alerts saved", p)
			mustContain(t, p, "ops@shop.test, owner@shop.test", `value="15"`, `value="4"`)
			mustNotContain(t, p, "a-very-secret-signing-key")
			bad := url.Values{"emails": {"not-an-address"}, "failure_rate": {"15"}, "review_days": {"4"}}
			p = a.post("/admin/salesforce/alerts", bad)
			checkText(t, lang, "alerts error", p)
			if p.status != http.StatusUnprocessableEntity || !strings.Contains(p.body, `id="alerts-error"`) {
				t.Errorf("bad address: got %d, want 422 with the error", p.status)
			}
			// B sees its own (empty) settings.
			b := e.client().login("b@shop.test")
			mustNotContain(t, b.get("/admin/salesforce/alerts"), "ops@shop.test", "hooks.shop.test")
		})
	}
}
