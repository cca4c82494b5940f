package web

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/sfsync/sfsync/internal/contact"
	"github.com/sfsync/sfsync/internal/sfconn"
	"github.com/sfsync/sfsync/internal/store"
	"github.com/sfsync/sfsync/internal/syncconf"
	"github.com/sfsync/sfsync/internal/syncer"
)

// shotsDir is where a browser test writes its screenshots: the folder
// named by SFSYNC_E2E_SHOTS (kept, to look at), else a temporary one.
func shotsDir(t *testing.T, name string) string {
	t.Helper()
	base := os.Getenv("SFSYNC_E2E_SHOTS")
	if base == "" {
		return t.TempDir()
	}
	dir := base + "/" + name
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshots in %s", dir)
	return dir
}

// healthWords are what the health pages say in each language.
var healthWords = map[string]map[string]string{
	langZH: {"mode": "每 15 分鐘檢查一次變更", "failures": "筆失敗待處理", "calls": "每小時 API 呼叫次數（7 天）", "runs": "每日同步筆數（14 天）",
		"fails": "每日失敗原因（14 天）", "fix": "請到 Salesforce 修正「MobilePhone」的電話號碼，加上國家/地區號碼", "unchanged": "自失敗後都沒有變更",
		"anyway": "仍要重新同步", "sf_link": "（在 Salesforce 開啟）", "first_failed": "筆資料同步失敗：查看原因與修正方式"},
	langEN: {"mode": "Checks for changes every 15 min", "failures": "open failures", "calls": "API calls per hour (7 days)", "runs": "Records synced per day (14 days)",
		"fails": "Failures by reason per day (14 days)", "fix": "Correct the phone number in MobilePhone in Salesforce: include the country code", "unchanged": "has changed since it failed",
		"anyway": "Retry anyway", "sf_link": "(open in Salesforce)", "first_failed": "records failed to sync: see why and how to fix them"},
}

// openChartTables opens every chart's table, so the 390 px check looks
// at their cells too.
const openChartTables = `document.querySelectorAll('details.chart-table').forEach(d => d.open = true), true`

// TestHealthEndToEnd drives the sync health pages in Chromium with the
// real engine against the emulator, in zh-TW and then English (issue 17
// items 2 and 3): the first sync of seeded contacts with malformed
// phones finishes and links to its failures; each failed record links
// to its Salesforce record and says what to fix; the retry warns that
// nothing changed; the sync information page draws its four charts; the
// Salesforce card says the health in one line. Every page is shot at
// 1280 and 390 px, where no table cell may be cut off.
func TestHealthEndToEnd(t *testing.T) {
	t.Parallel()
	emu := startEmulator(t)
	if _, err := emu.org.SeedContacts(200, 11); err != nil {
		t.Fatal(err)
	}
	q := &directQueue{}
	q.ctx, q.cancel = context.WithCancel(context.Background())
	var eng *syncer.Engine
	e := setup(t, setupOpts{tenantLang: langZH, platform: "Omnichat", contactURL: "https://app.omnichat.example/contacts/{id}", conn: emu.wire(true),
		engine: func(st *store.Store, c *sfconn.Service, _ *fakeEngine) Engine {
			eng = &syncer.Engine{Store: st, Conn: c, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Queue: q}
			q.eng = eng
			return eng
		}})
	t.Cleanup(func() {
		q.cancel()
		q.wg.Wait()
	})
	// The engine runs on the real clock: the pages' "today" is the same day.
	e.clock.Advance(time.Since(e.clock.Now()))
	ctx := browserOrSkip(t)
	s := &shooter{t: t, ctx: ctx, dir: shotsDir(t, "health")}
	b := &e2e{t: t, ctx: ctx, url: e.srv.URL}

	b.do("sign in", chromedp.Navigate(e.srv.URL+"/login"), chromedp.WaitVisible(chromedp.ID("email")),
		chromedp.SendKeys(chromedp.ID("email"), "a@shop.test"), chromedp.SendKeys(chromedp.ID("password"), testPassword))
	b.submit("sign in", "login-submit")
	b.submit("connect", "connect")
	b.submit("go to authorize", "authorize")
	b.do("Salesforce login", chromedp.WaitVisible(chromedp.ID("username")),
		chromedp.SendKeys(chromedp.ID("username"), emuAdmin), chromedp.SendKeys(chromedp.ID("password"), emuPassword))
	b.submit("Salesforce login", "Login")
	b.wantText("#sf-org", "Acme Corp")
	// The setup wizard has its own tests; this one saves the configuration
	// directly: e-mail identity, name and mobile phone from Salesforce.
	cfg := syncconf.Config{
		Identity: syncconf.IdentityMapping{SalesforceField: "Email", PlatformIdentity: contact.IdentityEmail,
			ToPlatformNoMatch: syncconf.NoMatchCreate, ToSalesforceNoMatch: syncconf.NoMatchUpdateOnly},
		Fields: []syncconf.FieldMapping{
			{SalesforceField: "LastName", PlatformField: "name", Direction: syncconf.DirToPlatform},
			{SalesforceField: "MobilePhone", PlatformField: "phone", Direction: syncconf.DirToPlatform},
		},
	}
	if _, err := eng.SaveConfig(context.Background(), e.tenantA.ID, "admin", cfg); err != nil {
		t.Fatalf("save configuration: %v", err)
	}
	b.do("start page", chromedp.Navigate(e.srv.URL+"/admin/salesforce/start"), chromedp.WaitVisible(chromedp.ID("start-sync")))
	b.submit("start sync", "start-sync")
	b.waitForWithin(`!!document.getElementById('sync-done')`, 90*time.Second)
	run, ok, err := eng.InitialRun(context.Background(), e.tenantA.ID)
	if err != nil || !ok || run.Counts.Failed == 0 {
		t.Fatalf("first sync: %+v (%v, %v), want some failed records (the seed has malformed phones)", run, ok, err)
	}

	for _, lang := range []string{langZH, langEN} {
		w := healthWords[lang]
		if lang == langEN {
			b.do("to English", chromedp.Navigate(e.srv.URL+"/admin/integrations"))
			if _, err := chromedp.Run(ctx, chromedp.WaitEvent(cdppage.LoadEventFired, nil, chromedp.Click(chromedp.CSS(`button[name="lang"][value="en"]`)))); err != nil {
				t.Fatalf("switch to English: %v", err)
			}
		}
		// The finished first sync links to its failures.
		b.do("start page", chromedp.Navigate(e.srv.URL+"/admin/salesforce/start"), chromedp.WaitVisible(chromedp.ID("sync-done")))
		b.wantText("#failures-after-sync", w["first_failed"])
		s.shot(lang + "-first-sync-done")
		b.submit("failures link", "failures-after-sync-link")
		if loc := b.location(); !strings.Contains(loc, fmt.Sprintf("/admin/salesforce/runs/%d?kind=failed", run.ID)) {
			t.Fatalf("failures link: at %s, want the run's failed records", loc)
		}
		// Each failed record links to its Salesforce record and says what to fix.
		b.wantText("#records", w["fix"])
		b.wantText("#records", w["sf_link"])
		href, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('#records a.sf-link').href`))
		if err != nil || !strings.HasPrefix(href, emu.url+"/003") {
			t.Errorf("Salesforce link: got %q (%v), want %s/003…", href, err, emu.url)
		}
		if txt := b.text("main"); strings.Contains(txt, "invalid_phone") {
			t.Error("the run page shows the reason code invalid_phone")
		}
		s.shot(lang + "-run-failures")

		// Retrying first says nothing changed since the failures.
		b.submit("retry", "retry-run")
		b.waitFor(`!!document.getElementById('retry-check')`)
		b.wantText("#retry-warning", w["unchanged"])
		b.wantText("#retry-confirm", w["anyway"])
		unchanged, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById('retry-check').dataset.unchanged`))
		if err != nil || unchanged != fmt.Sprint(run.Counts.Failed) {
			t.Errorf("retry check: %q unchanged (%v), want all %d failed records", unchanged, err, run.Counts.Failed)
		}
		s.shot(lang + "-retry-check")

		// The sync information page draws its charts.
		b.do("info", chromedp.Navigate(e.srv.URL+"/admin/salesforce/info"), chromedp.WaitVisible(chromedp.ID("health")))
		for _, key := range []string{"calls", "runs", "fails"} {
			b.wantText("#health", w[key])
		}
		n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('#health svg[role=img] > title').length`))
		if err != nil || n != 4 {
			t.Errorf("charts: got %d (%v), want 4 with titles", n, err)
		}
		if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](openChartTables)); err != nil {
			t.Fatal(err)
		}
		s.shot(lang + "-info-charts")

		// The card says the health in one line.
		b.do("integrations", chromedp.Navigate(e.srv.URL+"/admin/integrations"), chromedp.WaitVisible(chromedp.ID("sf-health")))
		b.wantText("#sf-health", w["mode"])
		b.wantText("#health-failures", w["failures"])
		s.shot(lang + "-card-health")
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	for _, err := range q.errs {
		t.Errorf("pull job: %v", err)
	}
}
