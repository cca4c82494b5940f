package web

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

var historyWords = map[string]map[string]string{
	langZH: {"title": "聯絡人同步紀錄", "paused": "已暫停", "card": "同步已暫停", "alerts": "通知設定", "saved": "已儲存通知設定", "resynced": "已重新同步此聯絡人",
		"controls": "暫停、匯出與匯入", "invalid": "設定檔與此 Salesforce 組織不符"},
	langEN: {"title": "Contact sync history", "paused": "Paused", "card": "Sync paused", "alerts": "Alerts", "saved": "Alert settings saved", "resynced": "The contact was synced again",
		"controls": "Pause, export and import", "invalid": "does not fit this Salesforce org"},
}

// TestEndToEndHistoryControlsAlerts walks issue 17's pages in a real
// browser with the real engine, in both languages, checking each at 1280
// and 390 px (no element wider than the screen, no table cell cut off):
// find a contact's sync history from the sync info page, resync it, pause
// and resume a direction (the card shows it), import a configuration
// whose field the org lacks (named), and save the alert settings.
// Screenshots go to testdata/artifacts/history-<lang>/.
//
// Not parallel, and one language after the other: the package's other
// browser tests run in parallel, and more Chromiums at once on a small
// machine push them past their deadlines.
func TestEndToEndHistoryControlsAlerts(t *testing.T) {
	for _, lang := range []string{langZH, langEN} {
		t.Run(lang, func(t *testing.T) {
			e := setupControls(t, lang)
			ctx := browserOrSkip(t)
			dir := filepath.Join("testdata", "artifacts", "history-"+lang)
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			old, _ := filepath.Glob(filepath.Join(dir, "*.png"))
			for _, f := range old {
				os.Remove(f)
			}
			s := &shooter{t: t, ctx: ctx, dir: dir}
			b := &e2e{t: t, ctx: ctx, url: e.srv.URL}
			w := historyWords[lang]

			b.do("sign in", chromedp.Navigate(e.srv.URL+"/login"), chromedp.WaitVisible(chromedp.ID("email")),
				chromedp.SendKeys(chromedp.ID("email"), "a@shop.test"), chromedp.SendKeys(chromedp.ID("password"), testPassword))
			b.submit("sign in", "login-submit")

			// From the sync info page to a contact's history, found by e-mail.
			b.do("info", chromedp.Navigate(e.srv.URL+"/admin/salesforce/info"), chromedp.WaitVisible(chromedp.ID("more-links")))
			b.do("open history", chromedp.Click(chromedp.ID("history-link-nav")), chromedp.WaitVisible(chromedp.ID("history-q")))
			b.wantText("h1", w["title"])
			b.do("find by e-mail", chromedp.SetValue(chromedp.ID("history-by"), "email"), chromedp.SendKeys(chromedp.ID("history-q"), "amy@example.com"))
			b.submit("find", "history-find")
			b.wantText("#history-link", e.sfID)
			b.wantText("#history-timeline", "LastName")
			s.shot("history")

			// Resync: the Salesforce edit the poll has not read yet comes in.
			if err := e.emu.org.ModifyAsHuman(e.sfID, map[string]any{"LastName": "Amy Chen"}); err != nil {
				t.Fatal(err)
			}
			b.submit("resync", "resync-contact")
			b.wantText(".flash", w["resynced"])
			b.wantText("#history-timeline", "Amy Chen")
			s.shot("history-resynced")

			// Pause platform → Salesforce: the controls page and the card say so.
			b.do("controls", chromedp.Navigate(e.srv.URL+"/admin/salesforce/controls"), chromedp.WaitVisible(chromedp.ID("pause-to_salesforce")))
			b.wantText("h1", w["controls"])
			b.submit("pause", "pause-to_salesforce")
			b.wantText("#pause-state-to_salesforce", w["paused"])
			s.shot("controls-paused")
			b.do("card", chromedp.Navigate(e.srv.URL+"/admin/integrations"), chromedp.WaitVisible(chromedp.ID("salesforce-card")))
			b.wantText("#sf-card-paused", w["card"])
			s.shot("card-paused")
			b.do("controls again", chromedp.Navigate(e.srv.URL+"/admin/salesforce/controls"), chromedp.WaitVisible(chromedp.ID("resume-to_salesforce")))
			b.submit("resume", "resume-to_salesforce")
			if !b.exists("pause-to_salesforce") {
				t.Errorf("after resume: no pause button for platform → Salesforce")
			}

			// Import a file naming a field this org does not have.
			exp, err := e.eng.ExportConfig(t.Context(), e.tenantA.ID)
			if err != nil {
				t.Fatal(err)
			}
			exp.Config.Fields[0].SalesforceField = "No_Such_Field__c"
			file, _ := json.MarshalIndent(exp, "", "  ")
			b.do("paste file", chromedp.SetValue(chromedp.ID("import-file"), string(file)))
			b.submit("check", "import-validate")
			b.wantText("#import-errors", w["invalid"])
			b.wantText("#import-errors", "field_mappings[0].salesforce_field")
			s.shot("import-errors")

			// Alert settings.
			b.do("alerts", chromedp.Navigate(e.srv.URL+"/admin/salesforce/alerts"), chromedp.WaitVisible(chromedp.ID("alert-emails")))
			b.wantText("h1", w["alerts"])
			b.do("fill alerts", chromedp.SendKeys(chromedp.ID("alert-emails"), "ops@shop.test"),
				chromedp.SendKeys(chromedp.ID("alert-webhook"), "https://hooks.shop.test/sfsync"),
				chromedp.SendKeys(chromedp.ID("alert-secret"), "a-long-enough-signing-secret"))
			b.submit("save alerts", "alerts-save")
			b.wantText(".flash", w["saved"])
			s.shot("alerts")
			set, err := e.store.GetAlertSettings(t.Context(), e.tenantA.ID)
			if err != nil || len(set.Emails) != 1 || set.WebhookURL != "https://hooks.shop.test/sfsync" || set.WebhookSecret == "" || strings.Contains(set.WebhookSecret, "signing") {
				t.Errorf("stored alert settings: %+v, %v; want the recipient, the URL and a sealed secret", set, err)
			}
		})
	}
}
