package web

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sfsync/sfsync/internal/store"
	"github.com/sfsync/sfsync/internal/syncer"
)

// healthEnv is a tenant with a configuration, a finished pull that
// succeeded, a later one with two failed records, a review item and a week
// of hourly API usage, in the given language.
func healthEnv(t *testing.T, lang string, o setupOpts) (*testEnv, syncer.Run, *client) {
	t.Helper()
	o.tenantLang = lang
	e := setup(t, o)
	ctx := context.Background()
	e.connect(e.tenantA.ID, store.ConnConnected)
	if _, err := e.eng.SaveConfig(ctx, e.tenantA.ID, "u", validConfig()); err != nil {
		t.Fatal(err)
	}
	ok := time.Date(2026, 11, 25, 3, 30, 0, 0, time.UTC) // 11:30 in Taipei
	e.eng.addRun(e.tenantA.ID, syncer.Run{Direction: syncer.DirToPlatform, Trigger: syncer.TriggerScheduled, Status: syncer.StatusSucceeded,
		StartedAt: ok.Add(-time.Minute), FinishedAt: &ok, Counts: syncer.Counts{Created: 40, Updated: 7}})
	failed := e.eng.addRun(e.tenantA.ID, syncer.Run{Direction: syncer.DirToPlatform, Trigger: syncer.TriggerInitial, Status: syncer.StatusPartiallyFailed,
		StartedAt: time.Date(2026, 11, 24, 2, 0, 0, 0, time.UTC), Counts: syncer.Counts{Created: 300, Failed: 2}})
	e.eng.records[failed.ID] = []syncer.RunRecord{
		{Kind: syncer.KindFailed, SalesforceID: "003000000000001AAA", ContactID: "c_01", Field: "MobilePhone", ReasonCode: "invalid_phone", Reason: `Salesforce MobilePhone: "0912345678" is not a valid international phone number`},
		{Kind: syncer.KindFailed, SalesforceID: "003000000000002AAA", Field: "Email", ReasonCode: "invalid_email", Reason: `Salesforce Email: "x@" is not valid`},
	}
	e.eng.addReview(e.tenantA.ID, store.ReviewItem{Kind: store.ReviewIdentity, IdentityField: "Email", IdentityKey: "a@x.test"})
	e.eng.mu.Lock()
	e.eng.usage = map[string][]store.APIUsageHour{e.tenantA.ID: {
		{Hour: time.Date(2026, 11, 22, 1, 0, 0, 0, time.UTC), Calls: 120, OrgUsed: 4000, OrgMax: 15000},
		{Hour: time.Date(2026, 11, 24, 13, 0, 0, 0, time.UTC), Calls: 30},
		{Hour: time.Date(2026, 11, 25, 3, 0, 0, 0, time.UTC), Calls: 12, OrgUsed: 1234, OrgMax: 15000},
	}}
	e.eng.mu.Unlock()
	return e, failed, e.client().login("a@shop.test")
}

// The Salesforce card says the sync's health in one line: last success
// each way, open failures, open review items, polling, budget used.
func TestCardHealthLine(t *testing.T) {
	t.Parallel()
	for lang, want := range map[string][]string{
		langEN: {"Salesforce → Platform last synced:", "2026-11-25 03:30:00 UTC", "2 open failures", "1 to review", "Checks for changes every 15 min", "API budget 16% used"},
		langZH: {"Salesforce → 平台上次同步完成：", "2026-11-25 11:30:00 GMT&#43;8", "2 筆失敗待處理", "1 組待確認", "每 15 分鐘檢查一次變更", "API 額度已用 16%"},
	} {
		t.Run(lang, func(t *testing.T) {
			t.Parallel()
			_, _, c := healthEnv(t, lang, setupOpts{})
			p := c.get("/admin/integrations")
			mustContain(t, p, append(want, `id="sf-health"`, `href="/admin/salesforce/retry-failed"`, `href="/admin/salesforce/review"`)...)
		})
	}
}

// The sync information page draws its charts on the server as SVG with
// text alternatives and table fallbacks, in both languages.
func TestInfoPageCharts(t *testing.T) {
	t.Parallel()
	for lang, want := range map[string][]string{
		// 120 + 30 + 12 calls in 7 days, at most 120 in an hour; today
		// (Taipei) so far 12; the budget is 7,500.
		langEN: {"API calls per hour (7 days)", "this service made 162 API calls, at most 120 in one hour. Today so far: 12", "daily budget of 7,500 calls",
			"The org&#39;s API usage", "daily limit of 15,000 calls", "Records synced per day (14 days)", "Runs in the last 14 days: 2; records created: 340, updated: 7, failed: 2.",
			"Failures by reason per day (14 days)", "2 failures in the last 14 days. Most common: Not a valid e-mail address (1); Not a valid phone number", "Show the numbers as a table"},
		langZH: {"每小時 API 呼叫次數（7 天）", "過去 7 天本服務共呼叫 API 162 次，單一小時最多 120 次。今天到目前 12 次", "每日額度為 7,500 次",
			"組織的 API 用量", "每日上限 15,000 次", "每日同步筆數（14 天）", "過去 14 天共 2 次同步：新增 340 筆、更新 7 筆、失敗 2 筆。",
			"每日失敗原因（14 天）", "以表格檢視數字"},
	} {
		t.Run(lang, func(t *testing.T) {
			t.Parallel()
			_, _, c := healthEnv(t, lang, setupOpts{})
			p := c.get("/admin/salesforce/info")
			mustContain(t, p, want...)
			for _, id := range []string{"chart-calls", "chart-org", "chart-runs", "chart-failures"} {
				mustContain(t, p, fmt.Sprintf(`role="img" aria-labelledby="%s-t %s-d" id="%s"`, id, id, id), fmt.Sprintf(`<title id="%s-t">`, id),
					fmt.Sprintf(`<desc id="%s-d">`, id), fmt.Sprintf(`id="%s-table"`, id))
			}
			// The hour that made 120 calls is a bar and a table row, in the
			// tenant's time zone (Asia/Taipei for zh-TW, UTC here for en).
			hour, zone := "11/22 09:00", "GMT+8"
			if lang == langEN {
				hour, zone = "11/22 01:00", "UTC"
			}
			mustContain(t, p, hour+" · ", `<th scope="row">`+hour+`</th>`, "("+zone+")</th>")
			if n := strings.Count(p.body, `class="s-failed"`); n < 1 {
				t.Errorf("no failed bar in the runs chart")
			}
		})
	}
}

// Failed records link to the Salesforce record (instance URL + Id) and
// the platform contact, and say what to fix and where, in the admin's
// language; reason codes are not shown as text.
func TestRunPageSaysWhatToFix(t *testing.T) {
	t.Parallel()
	for lang, want := range map[string][]string{
		langEN: {"Correct the phone number in MobilePhone in Salesforce: include the country code", "Correct the e-mail address in Email in Salesforce",
			"Not a valid phone number (the country code is required)", "(open in Salesforce)", "(open the contact in Omnichat)", "Show the 2 failed records"},
		langZH: {"請到 Salesforce 修正「MobilePhone」的電話號碼，加上國家/地區號碼", "請到 Salesforce 修正「Email」的 Email", "電話號碼格式不正確（須包含國家/地區號碼）",
			"（在 Salesforce 開啟）", "（在 Omnichat 開啟聯絡人）", "查看 2 筆失敗資料"},
	} {
		t.Run(lang, func(t *testing.T) {
			t.Parallel()
			_, run, c := healthEnv(t, lang, setupOpts{platform: "Omnichat", contactURL: "https://app.omnichat.example/contacts/{id}"})
			p := c.get(fmt.Sprintf("/admin/salesforce/runs/%d", run.ID))
			mustContain(t, p, want...)
			mustContain(t, p, `href="https://acme.my.salesforce.com/003000000000001AAA" target="_blank" rel="noopener noreferrer"`,
				`href="https://app.omnichat.example/contacts/c_01"`, fmt.Sprintf(`href="/admin/salesforce/runs/%d/retry?reason=invalid_phone"`, run.ID))
			mustNotContain(t, p, ">invalid_phone<", ">invalid_email<")
			// CSV exports keep the codes.
			req, _ := http.NewRequest(http.MethodGet, fmt.Sprintf("%s/admin/salesforce/runs/%d/export.csv?kind=failed", c.e.srv.URL, run.ID), nil)
			if csv := c.do(req); csv.status != http.StatusOK || !strings.Contains(csv.body, "failed,003000000000001AAA,invalid_phone") {
				t.Errorf("csv: got %d %q, want the failed record with its code", csv.status, csv.body)
			}
		})
	}
}

// Without a contact page configured, contact IDs are plain text.
func TestRunPageWithoutContactURL(t *testing.T) {
	t.Parallel()
	_, run, c := healthEnv(t, langEN, setupOpts{})
	p := c.get(fmt.Sprintf("/admin/salesforce/runs/%d", run.ID))
	mustContain(t, p, `<code class="id">c_01</code>`)
	mustNotContain(t, p, "contact-link")
}

// A retry first says how many failed records have not changed since they
// failed; only the confirming POST runs it.
func TestRetryWarnsBeforeItRuns(t *testing.T) {
	t.Parallel()
	for lang, want := range map[string][]string{
		langEN: {"None of these 2 records has changed since it failed: retrying now will fail again for the same reason.", "Fix the data first:",
			"Correct the phone number in MobilePhone", "Retry anyway"},
		langZH: {"這 2 筆資料自失敗後都沒有變更，現在重新同步會以同樣的原因再次失敗。", "請先修正資料：", "仍要重新同步"},
	} {
		t.Run(lang, func(t *testing.T) {
			t.Parallel()
			e, run, c := healthEnv(t, lang, setupOpts{})
			p := c.get(fmt.Sprintf("/admin/salesforce/runs/%d/retry", run.ID))
			want = append(want, `id="retry-warning"`, fmt.Sprintf(`action="/admin/salesforce/runs/%d/retry"`, run.ID))
			if lang == langEN {
				want[2] = "Correct the phone number in this field in Salesforce" // per reason, no field
			}
			mustContain(t, p, want...)
			if !e.eng.called("CheckRetry", e.tenantA.ID) || e.eng.called(fmt.Sprintf("RetryFailed(%d)", run.ID), e.tenantA.ID) {
				t.Error("the check page must check and must not retry")
			}
			// Changed data: no warning, and the retry is the main button.
			e.eng.mu.Lock()
			e.eng.retryCheck = map[string]syncer.RetryCheck{e.tenantA.ID: {Direction: syncer.DirToPlatform, Failed: 2, Changed: 2, Checked: 2, APICalls: 1}}
			e.eng.mu.Unlock()
			p = c.get("/admin/salesforce/retry-failed")
			mustContain(t, p, `id="retry-confirm" data-busy=`, `class="primary"`, `action="/admin/salesforce/retry-failed"`)
			mustNotContain(t, p, `id="retry-warning"`)
			if p := c.post("/admin/salesforce/retry-failed", nil); p.status != http.StatusSeeOther || !e.eng.called("RetryFailed(0)", e.tenantA.ID) {
				t.Errorf("confirming POST: got %d, want 303 and the retry", p.status)
			}
		})
	}
}

// The finished first sync links to its failures and its review items.
func TestFinishedFirstSyncLinksToFailures(t *testing.T) {
	t.Parallel()
	e, run, c := healthEnv(t, langEN, setupOpts{})
	e.eng.mu.Lock()
	e.eng.initial[e.tenantA.ID] = run.ID
	e.eng.mu.Unlock()
	p := c.get("/admin/salesforce/start")
	mustContain(t, p, fmt.Sprintf(`href="/admin/salesforce/runs/%d?kind=failed#records" id="failures-after-sync-link"`, run.ID),
		"2 records failed to sync: see why and how to fix them", `id="review-after-sync-link"`)
}
