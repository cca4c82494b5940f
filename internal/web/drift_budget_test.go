package web

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/sfsync/sfsync/internal/store"
	"github.com/sfsync/sfsync/internal/syncer"
)

// The sync information page starts a drift check (Y2) and sets the API
// budget share (X4, Y4: the admin's, issue 13 item 4), both behind login
// and CSRF; a share outside 1–100 % is refused with 422 and changes
// nothing. Both languages name them.
func TestDriftCheckButtonAndBudgetForm(t *testing.T) {
	t.Parallel()
	e := setup(t, setupOpts{tenantLang: "en"})
	ctx := context.Background()
	e.connect(e.tenantA.ID, store.ConnConnected)
	if _, err := e.eng.SaveConfig(ctx, e.tenantA.ID, "u", validConfig()); err != nil {
		t.Fatal(err)
	}
	c := e.client().login("a@shop.test")
	p := c.get("/admin/salesforce/info")
	mustContain(t, p, `id="drift-check"`, "Check and repair drift", `id="budget-form"`, `name="share"`, `value="50"`)

	if p := c.post("/admin/salesforce/drift-check", nil); p.status != http.StatusSeeOther || p.header.Get("Location") != "/admin/salesforce/info?done=drift_check_started" {
		t.Errorf("POST drift-check: got %d → %q, want 303 → info?done=drift_check_started", p.status, p.header.Get("Location"))
	}
	if !e.eng.called("DriftCheck", e.tenantA.ID) {
		t.Error("POST drift-check did not start a drift check")
	}
	mustContain(t, c.get("/admin/salesforce/info?done=drift_check_started"), "Drift check started.")
	runs, _ := e.eng.ListRuns(ctx, e.tenantA.ID, syncer.RunFilter{})
	if len(runs) == 0 || runs[0].Trigger != syncer.TriggerDrift {
		t.Fatalf("runs after the drift check: %+v, want a drift check first", runs)
	}
	mustContain(t, c.get(fmt.Sprintf("/admin/salesforce/runs/%d", runs[0].ID)), `id="drift-report"`, "Drift check report", "Bulk API 2.0",
		"500 checked, 3 drifted, 2 repaired", "1000000 checked, 7 drifted, 6 repaired", "Drift check")

	if p := c.post("/admin/salesforce/budget", url.Values{"share": {"30"}, "csrf": {"forged"}}); p.status != http.StatusForbidden {
		t.Errorf("budget without the CSRF token: got %d, want 403", p.status)
	}
	for _, bad := range []string{"0", "101", "abc", "12.5"} {
		if p := c.post("/admin/salesforce/budget", url.Values{"share": {bad}}); p.status != http.StatusUnprocessableEntity {
			t.Errorf("budget share %q: got %d, want 422", bad, p.status)
		}
	}
	if conn, _ := e.store.GetConnection(ctx, e.tenantA.ID); conn.APIBudget != 0.5 {
		t.Fatalf("refused forms changed the share to %v", conn.APIBudget)
	}
	if p := c.post("/admin/salesforce/budget", url.Values{"share": {"30"}}); p.status != http.StatusSeeOther || p.header.Get("Location") != "/admin/salesforce/info?done=budget_saved" {
		t.Errorf("POST budget: got %d → %q, want 303 → info?done=budget_saved", p.status, p.header.Get("Location"))
	}
	if conn, _ := e.store.GetConnection(ctx, e.tenantA.ID); conn.APIBudget != 0.3 {
		t.Errorf("share after saving 30%%: %v, want 0.3", conn.APIBudget)
	}
	mustContain(t, c.get("/admin/salesforce/info"), `value="30"`)

	if p := e.client().post("/admin/salesforce/budget", url.Values{"share": {"90"}}); p.status == http.StatusSeeOther && p.header.Get("Location") == "/admin/salesforce/info?done=budget_saved" {
		t.Error("budget saved without signing in")
	}
	if conn, _ := e.store.GetConnection(ctx, e.tenantA.ID); conn.APIBudget != 0.3 {
		t.Errorf("share after a signed-out post: %v, want 0.3", conn.APIBudget)
	}

	zh := setup(t, setupOpts{})
	zh.connect(zh.tenantA.ID, store.ConnConnected)
	if _, err := zh.eng.SaveConfig(ctx, zh.tenantA.ID, "u", validConfig()); err != nil {
		t.Fatal(err)
	}
	zc := zh.client().login("a@shop.test")
	mustContain(t, zc.get("/admin/salesforce/info"), "檢查並修復資料差異", "本服務可使用的每日 API 額度比例")
	zc.post("/admin/salesforce/drift-check", nil)
	zruns, _ := zh.eng.ListRuns(ctx, zh.tenantA.ID, syncer.RunFilter{})
	if len(zruns) == 0 {
		t.Fatal("no run after the drift check (zh-TW)")
	}
	mustContain(t, zc.get(fmt.Sprintf("/admin/salesforce/runs/%d", zruns[0].ID)), "資料差異檢查報告", "檢查 500 段，有差異 3 段，已修復 2 段", "資料差異檢查")
}

// The Salesforce card says since when Salesforce has been unreachable
// once the engine reports it (after five minutes), in both languages.
func TestCardShowsSalesforceUnreachable(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ lang, want string }{{"en", "Salesforce unreachable since"}, {"zh-TW", "無法連線到 Salesforce"}} {
		e := setup(t, setupOpts{tenantLang: c.lang})
		e.connect(e.tenantA.ID, store.ConnConnected)
		cl := e.client().login("a@shop.test")
		p := cl.get("/admin/integrations")
		mustNotContain(t, p, `id="sf-unreachable"`)
		e.eng.mu.Lock()
		e.eng.outageSince = time.Date(2026, 11, 25, 11, 50, 0, 0, time.UTC)
		e.eng.mu.Unlock()
		mustContain(t, cl.get("/admin/integrations"), `id="sf-unreachable"`, c.want)
	}
}
