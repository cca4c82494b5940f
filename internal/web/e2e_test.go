package web

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/sfsync/sfsync/internal/sfconn"
	"github.com/sfsync/sfsync/internal/store"
	"github.com/sfsync/sfsync/internal/syncconf"
	"github.com/sfsync/sfsync/internal/syncer"
)

const chromiumPath = "/usr/bin/chromium"

// browserOrSkip starts headless Chromium with a fresh profile. Without
// Chromium the test is skipped loudly, except on CI, where it fails.
func browserOrSkip(t *testing.T) context.Context {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		msg := fmt.Sprintf("end-to-end browser tests need Chromium at %s (apt-get install -y chromium)", chromiumPath)
		if os.Getenv("CI") != "" {
			t.Fatalf("%s; on CI it must be installed", msg)
		}
		fmt.Fprintf(os.Stderr, "\n*** SKIPPING %s: %s ***\n\n", t.Name(), msg)
		t.Skip("SKIPPING: " + msg)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 800),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx)
	ctx, cancelTimeout := context.WithTimeout(ctx, 150*time.Second)
	t.Cleanup(func() {
		cancelTimeout()
		cancelCtx()
		cancelAlloc()
	})
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

// liveEnv is the engine of the end-to-end test: the fake for runs and
// configurations, but the org's real describe read through the
// connection service, so the wizard shows the emulator's fields and
// validates against them.
type liveEnv struct {
	*fakeEngine
	conn  *sfconn.Service
	store *store.Store
}

func (e *liveEnv) Env(ctx context.Context, tenantID string) (syncconf.Env, error) {
	c, err := e.conn.Client(ctx, tenantID)
	if err != nil {
		return syncconf.Env{}, err
	}
	d, err := c.DescribeSObject(ctx, "Contact")
	if err != nil {
		return syncconf.Env{}, err
	}
	cf, err := e.store.ListCustomFields(ctx, tenantID)
	if err != nil {
		return syncconf.Env{}, err
	}
	t, err := e.store.GetTenant(ctx, tenantID)
	if err != nil {
		return syncconf.Env{}, err
	}
	env := syncconf.Env{Describe: d, CustomFields: cf}
	if t.Plan.SocialCDP {
		env.Entitlements = []string{syncconf.EntitlementSocialCDP}
	}
	return env, nil
}

func (e *liveEnv) ValidateConfig(ctx context.Context, tenantID string, cfg syncconf.Config) error {
	env, err := e.Env(ctx, tenantID)
	if err != nil {
		return err
	}
	return cfg.Validate(env)
}

func (e *liveEnv) SaveConfig(ctx context.Context, tenantID, adminID string, cfg syncconf.Config) (store.SyncConfigVersion, error) {
	if err := e.ValidateConfig(ctx, tenantID, cfg); err != nil {
		return store.SyncConfigVersion{}, err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.configs[tenantID] = append(e.configs[tenantID], cfg)
	return store.SyncConfigVersion{TenantID: tenantID, Version: int64(len(e.configs[tenantID]))}, nil
}

// shooter saves a screenshot of each step at desktop and phone widths,
// and checks that the page neither overflows sideways at 390 px nor has
// an unlabelled input.
type shooter struct {
	t   *testing.T
	ctx context.Context
	dir string
	n   atomic.Int32
}

const labelCheck = `[...document.querySelectorAll('input:not([type=hidden]),select,textarea')]
	.filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label') && el.getAttribute('aria-hidden') !== 'true')
	.map(el => el.name || el.id || el.outerHTML.slice(0, 60))`

const overflowCheck = `(() => {
	const w = document.documentElement.clientWidth;
	const out = [...document.querySelectorAll('body *')]
		.filter(el => !el.closest('.table-wrap') && el.getBoundingClientRect().right > w + 1)
		.slice(0, 5).map(el => el.tagName + '#' + el.id + '.' + el.className + ' right=' + Math.round(el.getBoundingClientRect().right));
	if (document.documentElement.scrollWidth > w + 1) out.push('document scrollWidth ' + document.documentElement.scrollWidth + ' > ' + w);
	return out;
})()`

// tableCheck finds tables a phone cuts off: at 390 px every table of
// the admin UI (but the review queue's side-by-side comparison, which
// scrolls) is stacked as cards, so its box, and each cell's content, must
// be no wider than what it shows (scrollWidth = clientWidth).
const tableCheck = `(() => {
	const out = [];
	for (const t of document.querySelectorAll('table:not(.review)')) {
		const wrap = t.closest('.table-wrap') || t.parentElement;
		if (wrap.scrollWidth > wrap.clientWidth + 1) out.push((t.id || t.className || 'table') + ' scrollWidth ' + wrap.scrollWidth + ' > clientWidth ' + wrap.clientWidth);
		for (const c of t.querySelectorAll('td, th')) {
			if (c.offsetParent && c.scrollWidth > c.clientWidth + 1) out.push((t.id || t.className || 'table') + ' cell "' + c.textContent.trim().slice(0, 30) + '" scrollWidth ' + c.scrollWidth + ' > ' + c.clientWidth);
		}
	}
	return out.slice(0, 8);
})()`

func (s *shooter) shot(name string) {
	s.t.Helper()
	n := s.n.Add(1)
	unlabelled, err := chromedp.Run(s.ctx, chromedp.Evaluate[[]string](labelCheck))
	if err != nil {
		s.t.Fatalf("%s: label check: %v", name, err)
	}
	if len(unlabelled) > 0 {
		s.t.Errorf("%s: inputs without a label: %v", name, unlabelled)
	}
	for _, w := range []int64{1280, 390} {
		h := int64(800)
		if w == 390 {
			h = 844
		}
		if err := chromedp.Do(s.ctx, chromedp.EmulateViewport(w, h), chromedp.Sleep(60*time.Millisecond)); err != nil {
			s.t.Fatalf("%s: viewport %d: %v", name, w, err)
		}
		if w == 390 {
			over, err := chromedp.Run(s.ctx, chromedp.Evaluate[[]string](overflowCheck))
			if err != nil {
				s.t.Fatalf("%s: overflow check: %v", name, err)
			}
			if len(over) > 0 {
				s.t.Errorf("%s at 390 px: elements wider than the screen: %v", name, over)
			}
			cut, err := chromedp.Run(s.ctx, chromedp.Evaluate[[]string](tableCheck))
			if err != nil {
				s.t.Fatalf("%s: table check: %v", name, err)
			}
			if len(cut) > 0 {
				s.t.Errorf("%s at 390 px: tables cut off: %v", name, cut)
			}
		}
		png, err := chromedp.Run(s.ctx, chromedp.FullScreenshot(100))
		if err != nil {
			s.t.Fatalf("%s: screenshot: %v", name, err)
		}
		file := filepath.Join(s.dir, fmt.Sprintf("%02d-%s-%d.png", n, name, w))
		if err := os.WriteFile(file, png, 0o644); err != nil {
			s.t.Fatal(err)
		}
	}
	if err := chromedp.Do(s.ctx, chromedp.EmulateViewport(1280, 800)); err != nil {
		s.t.Fatal(err)
	}
}

// e2e drives a real browser through one tenant's journey.
type e2e struct {
	t   *testing.T
	ctx context.Context
	url string
}

func (b *e2e) do(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, actions...); err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
}

// submit clicks a button that posts a form and waits for the next page.
func (b *e2e) submit(what, id string) {
	b.t.Helper()
	if _, err := chromedp.Run(b.ctx, chromedp.WaitEvent(cdppage.LoadEventFired, nil, chromedp.Click(chromedp.ID(id)))); err != nil {
		b.t.Fatalf("%s (click #%s): %v", what, id, err)
	}
}

func (b *e2e) text(sel string) string {
	b.t.Helper()
	s, err := chromedp.Run(b.ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		b.t.Fatalf("text of %s: %v", sel, err)
	}
	return s
}

func (b *e2e) wantText(sel, want string) {
	b.t.Helper()
	if got := b.text(sel); !strings.Contains(got, want) {
		b.t.Errorf("text of %s: got %q, want it to contain %q", sel, got, want)
	}
}

// exists reports whether the page has an element with this ID.
func (b *e2e) exists(id string) bool {
	b.t.Helper()
	ok, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](`!!document.getElementById(`+strconv.Quote(id)+`)`))
	if err != nil {
		b.t.Fatalf("look for #%s: %v", id, err)
	}
	return ok
}

func (b *e2e) location() string {
	b.t.Helper()
	loc, err := chromedp.Run(b.ctx, chromedp.Location())
	if err != nil {
		b.t.Fatal(err)
	}
	return loc
}

func (b *e2e) waitFor(js string) { b.waitForWithin(js, 15*time.Second) }

func (b *e2e) waitForWithin(js string, d time.Duration) {
	b.t.Helper()
	deadline := time.Now().Add(d)
	for {
		_, err := chromedp.Run(b.ctx, chromedp.Poll[bool](js, chromedp.WithPollingTimeout(5*time.Second)))
		if err == nil {
			return
		}
		// A poll times out, or the page reloads itself (the progress page
		// does when the sync ends): poll again, the new document too.
		if time.Now().After(deadline) || b.ctx.Err() != nil {
			b.t.Fatalf("waiting for %s: %v", js, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

var e2eWords = map[string]map[string]string{
	langZH: {"available": "可串接", "plan": "Salesforce 會員資料整合", "hint": "請使用具備 Salesforce Admin 權限的帳號進行串接",
		"authorize": "前往授權", "start_setup": "開始設定", "required": "此欄位為必填", "cdp": "Social CDP", "save": "儲存", "start": "開始同步",
		"done": "成功", "log": "同步紀錄", "reconnect": "重新串接",
		"review_held": "1 組待確認", "review_open1": "待確認的比對（1 筆）", "review_open0": "待確認的比對（0 筆）", "review_linked": "已連結", "review_link": "待確認的比對"},
	langEN: {"available": "Available", "plan": "Salesforce member data integration", "hint": "Sign in with a Salesforce account that has Admin rights",
		"authorize": "Go to authorize", "start_setup": "Start setup", "required": "a value is required", "cdp": "Social CDP", "save": "Save", "start": "Start sync",
		"done": "Succeeded", "log": "Sync log", "reconnect": "Reconnect",
		"review_held": "1 to review", "review_open1": "Review queue (1 open)", "review_open0": "Review queue (0 open)", "review_linked": "Linked", "review_link": "Review queue"},
}

// TestEndToEndInChromium walks the admin's journey in a real browser, in
// both languages: sign in, the card's states, the explanation page, the
// emulator's login and consent pages and back, the setup steps with an
// inline validation error, saving, the dry run, the first sync's live
// progress and the sync log. Screenshots go to testdata/artifacts/<lang>/.
func TestEndToEndInChromium(t *testing.T) {
	t.Parallel()
	for _, lang := range []string{langZH, langEN} {
		t.Run(lang, func(t *testing.T) {
			t.Parallel()
			emu := startEmulator(t)
			// The fake engine, but reading the emulator's describe.
			e := setup(t, setupOpts{tenantLang: lang, conn: emu.wire(false), engine: func(st *store.Store, c *sfconn.Service, f *fakeEngine) Engine {
				return &liveEnv{fakeEngine: f, conn: c, store: st}
			}})
			// The browser starts last, so it closes first: its open event
			// streams must not hold the servers' Close.
			ctx := browserOrSkip(t)
			dir := filepath.Join("testdata", "artifacts", lang)
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			old, _ := filepath.Glob(filepath.Join(dir, "*.png"))
			for _, f := range old {
				os.Remove(f)
			}
			s := &shooter{t: t, ctx: ctx, dir: dir}
			b := &e2e{t: t, ctx: ctx, url: e.srv.URL}
			w := e2eWords[lang]

			b.do("open sign-in", chromedp.Navigate(e.srv.URL+"/login?lang="+lang), chromedp.WaitVisible(chromedp.ID("email")))
			s.shot("login")
			// Sign in from the keyboard: type, then Enter in the password box.
			b.do("fill sign-in", chromedp.SendKeys(chromedp.ID("email"), "a@shop.test"), chromedp.SendKeys(chromedp.ID("password"), testPassword))
			if _, err := chromedp.Run(ctx, chromedp.WaitEvent(cdppage.LoadEventFired, nil, chromedp.SendKeys(chromedp.ID("password"), "\r"))); err != nil {
				t.Fatalf("sign in with Enter: %v", err)
			}
			if !strings.HasSuffix(b.location(), "/admin/integrations") {
				t.Fatalf("after sign-in: at %s, want /admin/integrations", b.location())
			}
			b.wantText("#sf-card-state", w["available"])
			s.shot("integrations-available")

			noPlan := e.tenantA
			noPlan.Plan.SalesforceAddon = false
			if err := e.store.UpdateTenant(context.Background(), noPlan); err != nil {
				t.Fatal(err)
			}
			b.do("reload", chromedp.Navigate(e.srv.URL+"/admin/integrations"))
			b.wantText("#plan-missing", w["plan"])
			s.shot("integrations-plan-missing")
			if err := e.store.UpdateTenant(context.Background(), e.tenantA); err != nil {
				t.Fatal(err)
			}

			b.do("reload", chromedp.Navigate(e.srv.URL+"/admin/integrations"))
			b.submit("connect", "connect")
			b.wantText("main", w["hint"])
			b.wantText("#authorize", w["authorize"])
			s.shot("connect-explanation")

			// A standard user first: refused, and "try again" must show
			// Salesforce's login page although that user is still signed in
			// there (prompt=login), or the admin could never switch accounts.
			b.submit("go to authorize as the clerk", "authorize")
			b.do("Salesforce login as the clerk", chromedp.WaitVisible(chromedp.ID("username")),
				chromedp.SendKeys(chromedp.ID("username"), emuClerk), chromedp.SendKeys(chromedp.ID("password"), emuPassword))
			b.submit("Salesforce login as the clerk", "Login")
			if b.exists("oaapprove") {
				b.submit("Salesforce allow as the clerk", "oaapprove")
			}
			b.wantText("#refusal-message", emuClerk)
			s.shot("refusal-not-admin")
			b.submit("try again", "try-again")
			b.submit("go to authorize", "authorize")
			if !strings.HasPrefix(b.location(), emu.url+"/services/oauth2/authorize") || !strings.Contains(b.location(), "prompt=login") {
				t.Fatalf("after Go to authorize: at %s, want the emulator's login page with prompt=login", b.location())
			}
			b.do("fill Salesforce login", chromedp.WaitVisible(chromedp.ID("username")),
				chromedp.SendKeys(chromedp.ID("username"), emuAdmin), chromedp.SendKeys(chromedp.ID("password"), emuPassword))
			s.shot("salesforce-login")
			b.submit("Salesforce login", "Login")
			s.shot("salesforce-allow")
			b.submit("Salesforce allow", "oaapprove")
			if !strings.HasSuffix(b.location(), "/admin/salesforce/connected") {
				t.Fatalf("after authorizing: at %s, want /admin/salesforce/connected", b.location())
			}
			b.wantText("#sf-org", "Acme Corp")
			b.wantText("#start-setup", w["start_setup"])
			s.shot("connected")

			b.submit("start setup", "start-setup")
			b.wantText("#save", w["save"])
			s.shot("setup-identity")
			// Next without a Salesforce field: the error shows next to it.
			b.do("choose e-mail", chromedp.Click(chromedp.ID("pi-email")))
			b.submit("next", "next")
			b.wantText("#f-identity-salesforce_field-err", w["required"])
			b.wantText("#errors", w["required"])
			s.shot("setup-identity-error")

			b.do("choose Email", chromedp.SetValue(chromedp.ID("f-identity-salesforce_field"), "Email"))
			b.submit("next", "next")
			b.do("social step", chromedp.WaitVisible(chromedp.ID("add-row")))
			s.shot("setup-social")
			b.submit("add social", "add-row")
			b.submit("add a second social", "add-row")
			b.wantText("#notice", w["cdp"])
			s.shot("setup-social-plan-limit")
			b.submit("remove the social row", "f-social_mappings-0-remove")
			b.submit("next", "next")
			b.submit("add field", "add-row")
			b.do("map FirstName → name",
				chromedp.SetValue(chromedp.ID("f-field_mappings-0-salesforce_field"), "FirstName"),
				chromedp.SetValue(chromedp.ID("f-field_mappings-0-platform_field"), "name"))
			s.shot("setup-fields")
			b.submit("next", "next")
			b.submit("add condition", "add-row")
			// Choosing the field re-renders the row with its operators (JS auto-submit).
			if _, err := chromedp.Run(ctx, chromedp.WaitEvent(cdppage.LoadEventFired, nil, chromedp.Evaluate[chromedp.Void](
				`(() => { const s = document.getElementById('f-conditions-0-salesforce_field'); s.value = 'LastName'; s.dispatchEvent(new Event('change', {bubbles: true})); })()`))); err != nil {
				t.Fatalf("choose a condition field: %v", err)
			}
			b.waitFor(`!!document.querySelector('#f-conditions-0-operator option[value=starts_with]')`)
			b.do("fill condition", chromedp.SetValue(chromedp.ID("f-conditions-0-operator"), "is_not_empty"))
			s.shot("setup-conditions")
			b.submit("save", "save")
			if !strings.Contains(b.location(), "/admin/salesforce/start") {
				t.Fatalf("after save: at %s, want /admin/salesforce/start", b.location())
			}
			b.wantText("#start-sync", w["start"])
			s.shot("start-with-dry-run")

			b.submit("start sync", "start-sync")
			b.do("progress", chromedp.WaitVisible(chromedp.ID("sync-progress")))
			run, ok, _ := e.eng.InitialRun(context.Background(), e.tenantA.ID)
			if !ok {
				t.Fatal("Start sync did not start the first sync")
			}
			run.Processed = 100
			e.eng.setRun(e.tenantA.ID, run)
			b.waitFor(`document.getElementById('sync-pct') && document.getElementById('sync-pct').textContent === '50'`)
			s.shot("progress-50")
			// Reopening the page shows the same percentage (S18).
			b.do("reopen", chromedp.Navigate(e.srv.URL+"/admin/salesforce/start"))
			b.wantText("#sync-pct", "50")
			run.Processed, run.Status = 200, syncer.StatusSucceeded
			run.Counts = syncer.Counts{Created: 150, Updated: 40, Unchanged: 10}
			// The sync held two Salesforce contacts that share an e-mail.
			held := e.eng.addReview(e.tenantA.ID, store.ReviewItem{Kind: store.ReviewIdentity, IdentityField: "Email", IdentityKey: "ada@example.com", RunID: run.ID,
				ContactID: "c_ada", ContactValues: map[string]any{"Email": "ada@example.com", "FirstName": "Ada"},
				Candidates: []store.ReviewCandidate{{SalesforceID: "003000000000001AAA", Values: map[string]any{"Email": "ada@example.com", "FirstName": "Ada"}},
					{SalesforceID: "003000000000002AAA", Values: map[string]any{"Email": "ada@example.com", "FirstName": "Augusta"}}}})
			e.eng.setRun(e.tenantA.ID, run)
			b.waitFor(`!!document.getElementById('sync-done')`)
			b.wantText("#sync-done", w["done"])
			s.shot("sync-done")
			// The finished first sync links to the review queue; link one record there.
			b.wantText("#review-after-sync", w["review_held"])
			b.submit("open the review queue", "review-after-sync-link")
			b.wantText("#review-heading", w["review_open1"])
			s.shot("review-queue")
			b.submit("link a Salesforce record", fmt.Sprintf("link-%d-003000000000002AAA", held.ID))
			b.wantText("#review-heading", w["review_open0"])
			b.wantText(".flash", w["review_linked"])
			if !e.eng.called(fmt.Sprintf("ResolveReview(%d,linked,003000000000002AAA)", held.ID), e.tenantA.ID) {
				t.Errorf("the link button did not reach the engine: %v", e.eng.calls)
			}
			s.shot("review-linked")

			b.do("info", chromedp.Navigate(e.srv.URL+"/admin/salesforce/info"))
			b.wantText("#log-h", w["log"])
			b.wantText("#review-link", w["review_link"])
			s.shot("sync-info")
			b.do("run", chromedp.Navigate(fmt.Sprintf("%s/admin/salesforce/runs/%d", e.srv.URL, run.ID)))
			s.shot("run-details")
			b.do("integrations", chromedp.Navigate(e.srv.URL+"/admin/integrations"))
			b.wantText("#sf-org", "Acme Corp")
			s.shot("integrations-connected")
			b.do("disconnect page", chromedp.Navigate(e.srv.URL+"/admin/salesforce/disconnect"))
			s.shot("disconnect-confirm")
			// A revoked refresh token: the card offers Reconnect (X5).
			if err := e.store.MarkConnectionBroken(context.Background(), e.tenantA.ID, "refresh token revoked"); err != nil {
				t.Fatal(err)
			}
			b.do("integrations", chromedp.Navigate(e.srv.URL+"/admin/integrations"))
			b.wantText("#reconnect", w["reconnect"])
			s.shot("integrations-broken")
			// Reconnecting asks Salesforce for its login page although the
			// browser is still signed in there (prompt=login, issue 17).
			b.submit("reconnect", "reconnect")
			b.submit("go to authorize again", "authorize")
			if u := b.location(); !strings.Contains(u, "prompt=login") {
				t.Errorf("reconnect: authorize URL %s, want prompt=login", u)
			}
			b.do("Salesforce login again", chromedp.WaitVisible(chromedp.ID("username")),
				chromedp.SendKeys(chromedp.ID("username"), emuAdmin), chromedp.SendKeys(chromedp.ID("password"), emuPassword))
			b.submit("Salesforce login again", "Login")
			if b.exists("oaapprove") {
				b.submit("Salesforce allow again", "oaapprove")
			}
			if !strings.HasSuffix(b.location(), "/admin/salesforce/connected") {
				t.Fatalf("after reconnecting: at %s, want /admin/salesforce/connected", b.location())
			}
			// An error page offers the next step.
			b.do("missing run", chromedp.Navigate(e.srv.URL+"/admin/salesforce/runs/999999"))
			b.do("error page", chromedp.WaitVisible(chromedp.ID("error-back")))
			s.shot("error-not-found")
		})
	}
}

// TestWizardWithoutJavaScript uses the setup wizard in a browser with
// scripts switched off: rows are added, a condition's operators follow
// its field through the visible "update choices" button, and an invalid
// save comes back with its errors.
func TestWizardWithoutJavaScript(t *testing.T) {
	t.Parallel()
	e := setup(t, setupOpts{tenantLang: langEN})
	e.connect(e.tenantA.ID, store.ConnConnected)
	ctx := browserOrSkip(t)
	if _, err := chromedp.Call(ctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true}); err != nil {
		t.Fatalf("switch scripts off: %v", err)
	}
	dir := filepath.Join("testdata", "artifacts", "nojs-"+langEN)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	s := &shooter{t: t, ctx: ctx, dir: dir}
	b := &e2e{t: t, ctx: ctx, url: e.srv.URL}
	b.do("sign in", chromedp.Navigate(e.srv.URL+"/login"), chromedp.WaitVisible(chromedp.ID("email")),
		chromedp.SendKeys(chromedp.ID("email"), "a@shop.test"), chromedp.SendKeys(chromedp.ID("password"), testPassword))
	b.submit("sign in", "login-submit")
	b.do("conditions", chromedp.Navigate(e.srv.URL+"/admin/salesforce/setup/conditions"))
	if js, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.documentElement.classList.contains('js')`)); err == nil && js {
		t.Fatal("scripts ran although they are switched off")
	}
	b.submit("add condition", "add-row")
	b.do("choose a field", chromedp.SetValue(chromedp.ID("f-conditions-0-salesforce_field"), "Birthdate"))
	// Without scripts the button that updates the operators is visible.
	if _, err := chromedp.Run(ctx, cdpWaitLoad(chromedp.Click(chromedp.CSS(`#f-conditions-0 button[value=refresh]`), chromedp.NodeVisible))); err != nil {
		t.Fatalf("update choices: %v", err)
	}
	b.waitFor(`!!document.querySelector('#f-conditions-0-operator option[value=gte]') && !document.querySelector('#f-conditions-0-operator option[value=contains]')`)
	b.do("fill", chromedp.SetValue(chromedp.ID("f-conditions-0-operator"), "gte"), chromedp.SetValue(chromedp.ID("f-conditions-0-value"), "2000-01-01"))
	s.shot("conditions")
	b.submit("save", "save")
	// The identity was never set: the save lands on step 2 with its errors.
	b.wantText("#errors", "a value is required")
	b.wantText("#step-h", "Step 2")
	s.shot("save-errors")
}

func cdpWaitLoad(a chromedp.Action[chromedp.Void]) chromedp.Action[cdppage.EventLoadEventFired] {
	return chromedp.WaitEvent(cdppage.LoadEventFired, nil, a)
}
