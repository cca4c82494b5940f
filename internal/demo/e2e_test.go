package demo_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/sfsync/sfsync/internal/demo"
	"github.com/sfsync/sfsync/internal/store"
	"github.com/sfsync/sfsync/internal/syncer"
)

const chromium = "/usr/bin/chromium"

func browser(t *testing.T) context.Context {
	t.Helper()
	if _, err := os.Stat(chromium); err != nil {
		msg := "the end-to-end test needs Chromium at " + chromium + " (apt-get install -y chromium)"
		if os.Getenv("CI") != "" {
			t.Fatal(msg + "; on CI it must be installed")
		}
		fmt.Fprintf(os.Stderr, "\n*** SKIPPING %s: %s ***\n\n", t.Name(), msg)
		t.Skip("SKIPPING: " + msg)
	}
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), chromedp.ExecPath(chromium), chromedp.Headless, chromedp.NoSandbox,
		chromedp.DisableGPU, chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck, chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true), chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1280, 900))
	ctx, cancelC := chromedp.NewContext(actx)
	ctx, cancelT := context.WithTimeout(ctx, 3*time.Minute)
	t.Cleanup(func() { cancelT(); cancelC(); cancelA() })
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

// walker drives the browser and saves a screenshot of every step at
// 1280 px and 390 px under testdata/artifacts/<name>/.
type walker struct {
	t   *testing.T
	ctx context.Context
	dir string
	n   int
}

func (w *walker) do(what string, actions ...chromedp.Action[chromedp.Void]) {
	w.t.Helper()
	if err := chromedp.Do(w.ctx, actions...); err != nil {
		w.t.Fatalf("%s: %v", what, err)
	}
}

// click clicks a submit button or link and waits for the next page.
func (w *walker) click(what, id string) {
	w.t.Helper()
	if _, err := chromedp.Run(w.ctx, chromedp.WaitEvent(cdppage.LoadEventFired, nil, chromedp.Click(chromedp.ID(id)))); err != nil {
		w.t.Fatalf("%s (click #%s): %v", what, id, err)
	}
}

func (w *walker) open(path string) {
	w.t.Helper()
	w.do("open "+path, chromedp.Navigate(path))
}

func (w *walker) location() string {
	w.t.Helper()
	loc, err := chromedp.Run(w.ctx, chromedp.Location())
	if err != nil {
		w.t.Fatal(err)
	}
	return loc
}

func (w *walker) text(sel string) string {
	w.t.Helper()
	s, err := chromedp.Run(w.ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		w.t.Fatalf("text of %s: %v", sel, err)
	}
	return s
}

func (w *walker) has(sel string) bool {
	ok, err := chromedp.Run(w.ctx, chromedp.Evaluate[bool](fmt.Sprintf(`!!document.querySelector(%q)`, sel)))
	return err == nil && ok
}

func (w *walker) wantText(sel, want string) {
	w.t.Helper()
	if got := w.text(sel); !strings.Contains(got, want) {
		w.t.Errorf("text of %s: got %q, want it to contain %q", sel, got, want)
	}
}

func (w *walker) eventually(what string, timeout time.Duration, cond func() bool) {
	w.t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			w.shot("timeout-" + strings.ReplaceAll(what, " ", "-"))
			w.t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func (w *walker) shot(name string) {
	w.t.Helper()
	w.n++
	for _, width := range []int64{1280, 390} {
		if err := chromedp.Do(w.ctx, chromedp.EmulateViewport(width, 900), chromedp.Sleep(50*time.Millisecond)); err != nil {
			w.t.Fatalf("viewport: %v", err)
		}
		png, err := chromedp.Run(w.ctx, chromedp.FullScreenshot(100))
		if err != nil {
			w.t.Fatalf("%s: screenshot: %v", name, err)
		}
		if err := os.WriteFile(filepath.Join(w.dir, fmt.Sprintf("%02d-%s-%d.png", w.n, name, width)), png, 0o644); err != nil {
			w.t.Fatalf("%s: save screenshot: %v", name, err)
		}
	}
	if err := chromedp.Do(w.ctx, chromedp.EmulateViewport(1280, 900)); err != nil {
		w.t.Fatalf("%s: restore the viewport: %v", name, err)
	}
}

func startDemo(t *testing.T) *demo.Demo {
	t.Helper()
	d, err := demo.Start(context.Background(), demo.Options{Addr: "127.0.0.1:0", EmulatorAddr: "127.0.0.1:0", Contacts: 400,
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

func artifacts(t *testing.T, name string) string {
	dir := filepath.Join("testdata", "artifacts", name)
	os.RemoveAll(dir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

func (w *walker) login(d *demo.Demo, lang, email, password string) {
	w.t.Helper()
	w.do("open sign-in", chromedp.Navigate(d.URL+"/login?lang="+lang), chromedp.WaitVisible(chromedp.ID("email")))
	w.do("fill sign-in", chromedp.SendKeys(chromedp.ID("email"), email), chromedp.SendKeys(chromedp.ID("password"), password))
	w.click("sign in", "login-submit")
	// The admin's own language choice (the tenants' defaults differ).
	if _, err := chromedp.Run(w.ctx, chromedp.WaitEvent(cdppage.LoadEventFired, nil,
		chromedp.Click(chromedp.CSS(fmt.Sprintf(`form.lang button[value=%q]`, lang))))); err != nil {
		w.t.Fatalf("choose language %s: %v", lang, err)
	}
}

// authorize goes from the connect page through Salesforce's login (and
// consent) pages and back.
func (w *walker) authorize(d *demo.Demo, sf demo.Login) {
	w.t.Helper()
	w.click("connect", "connect")
	w.shot("connect-explanation")
	w.click("go to authorize", "authorize")
	if !strings.HasPrefix(w.location(), d.EmulatorURL+"/services/oauth2/authorize") {
		w.t.Fatalf("after Go to authorize: at %s, want Salesforce's login page", w.location())
	}
	w.do("Salesforce login", chromedp.WaitVisible(chromedp.ID("username")),
		chromedp.SendKeys(chromedp.ID("username"), sf.Username), chromedp.SendKeys(chromedp.ID("password"), sf.Password))
	w.shot("salesforce-login")
	w.click("log in to Salesforce", "Login")
	if w.has("#oaapprove") {
		w.shot("salesforce-allow")
		w.click("allow", "oaapprove")
	}
}

func (w *walker) setSelect(id, value string) {
	w.t.Helper()
	w.do("set #"+id, chromedp.SetValue(chromedp.ID(id), value))
}

// TestWholeFlowInChromium walks a merchant admin's whole journey against
// the real engine, workers and emulated Salesforce of `sfsync demo`, in
// zh-TW and in English.
func TestWholeFlowInChromium(t *testing.T) {
	t.Parallel()
	for _, lang := range []string{"zh-TW", "en"} {
		t.Run(lang, func(t *testing.T) {
			t.Parallel()
			ctx := browser(t)
			d := startDemo(t)
			w := &walker{t: t, ctx: ctx, dir: artifacts(t, "flow-"+lang)}
			bg := context.Background()

			w.login(d, lang, d.Admin.Username, d.Admin.Password)
			if !strings.HasSuffix(w.location(), "/admin/integrations") {
				t.Fatalf("after sign-in: at %s, want the integrations page", w.location())
			}
			w.shot("integrations")
			w.authorize(d, d.SFAdmin)
			if !strings.HasSuffix(w.location(), "/admin/salesforce/connected") {
				t.Fatalf("after authorizing: at %s, want /admin/salesforce/connected", w.location())
			}
			w.wantText("#sf-org", "Acme Taiwan")
			w.shot("connected")

			// Step 2: identity — Member_Number__c ↔ member ID, create both ways.
			w.click("start setup", "start-setup")
			w.do("identity", chromedp.Click(chromedp.ID("pi-member_id")), chromedp.Click(chromedp.ID("tp-create")), chromedp.Click(chromedp.ID("ts-create")))
			w.setSelect("f-identity-salesforce_field", "Member_Number__c")
			w.shot("setup-identity")
			w.click("next", "next")
			// Step 3: LINE UID → the LINE channel.
			w.click("add social", "add-row")
			w.setSelect("f-social_mappings-0-salesforce_field", "LINE_UID__c")
			w.setSelect("f-social_mappings-0-channel_type", "line")
			w.do("channel id", chromedp.SendKeys(chromedp.ID("f-social_mappings-0-channel_id"), "@demo-oa"))
			w.setSelect("f-social_mappings-0-direction", "both")
			w.shot("setup-social")
			w.click("next", "next")
			// Step 4: LastName ↔ name (two-way), Email → e-mail (to the platform).
			w.click("add field", "add-row")
			w.setSelect("f-field_mappings-0-salesforce_field", "LastName")
			w.setSelect("f-field_mappings-0-platform_field", "name")
			w.setSelect("f-field_mappings-0-direction", "both")
			w.click("add another field", "add-row")
			w.setSelect("f-field_mappings-1-salesforce_field", "Email")
			w.setSelect("f-field_mappings-1-platform_field", "email")
			w.setSelect("f-field_mappings-1-direction", "to_platform")
			w.shot("setup-fields")
			w.click("next", "next")
			// Step 5: no conditions; save (top right).
			w.shot("setup-conditions")
			w.click("save", "save")
			if !strings.Contains(w.location(), "/admin/salesforce/start") {
				t.Fatalf("after save: at %s, want the start page (errors: %s)", w.location(), w.text("main"))
			}
			w.shot("start-with-dry-run")

			// Step 6: Start sync, to 100%.
			w.click("start sync", "start-sync")
			w.eventually("the first sync to finish", 90*time.Second, func() bool {
				run, ok, _ := d.App.Engine.InitialRun(bg, d.TenantID)
				return ok && run.Status != syncer.StatusRunning
			})
			run, _, _ := d.App.Engine.InitialRun(bg, d.TenantID)
			if run.Percent() != 100 || run.Counts.Created == 0 {
				t.Fatalf("first sync = %s %.0f%% %+v, want 100%% with contacts created", run.Status, run.Percent(), run.Counts)
			}
			w.open(d.URL + "/admin/salesforce/start")
			w.eventually("the page to show 100%", 10*time.Second, func() bool { return w.has("#sync-done") })
			w.shot("sync-done")

			// A contact changed on the platform appears in Salesforce.
			page, err := d.App.Store.ListContacts(bg, d.TenantID, store.ContactFilter{Limit: 5})
			if err != nil || len(page) == 0 {
				t.Fatalf("no platform contacts after the first sync: %v", err)
			}
			c := page[0]
			_, key, _ := d.App.Store.CreateAPIKey(bg, d.TenantID, "e2e")
			req, _ := http.NewRequest(http.MethodPatch, d.URL+"/api/v1/contacts/"+c.ID, strings.NewReader(`{"name":"E2E 王小明"}`))
			req.Header.Set("Authorization", "Bearer "+key)
			req.Header.Set("Content-Type", "application/json")
			resp, err := http.DefaultClient.Do(req)
			if err != nil || resp.StatusCode != 200 {
				body := ""
				if resp != nil {
					b, _ := io.ReadAll(resp.Body)
					body = string(b)
				}
				t.Fatalf("PATCH contact: %v %s", err, body)
			}
			resp.Body.Close()
			links, _ := d.App.Store.LinksByContactID(bg, d.TenantID, []string{c.ID})
			sfID := links[c.ID].SalesforceID
			w.eventually("the platform change to reach Salesforce", 15*time.Second, func() bool {
				r, _ := d.Org.Record(sfID)
				return r["LastName"] == "E2E 王小明"
			})

			// Salesforce changes arrive in real time (Change Data Capture,
			// which the demo's org publishes): the card says so, and an edit
			// reaches the platform with no sync started.
			w.eventually("the real-time subscription", 30*time.Second, func() bool {
				rs, _ := d.App.Store.GetRealtimeStream(bg, d.TenantID)
				return rs.Mode == store.StreamRealtime && !rs.CatchUp
			})
			w.open(d.URL + "/admin/integrations")
			if !w.has(`#sf-arrival[data-mode="realtime"]`) {
				t.Errorf("the Salesforce card does not say real time: %s", w.text("#salesforce-card"))
			}
			w.shot("card-realtime")
			if err := d.Org.ModifyAsHuman(sfID, map[string]any{"Email": "e2e.realtime@example.com"}); err != nil {
				t.Fatal(err)
			}
			w.eventually("the Salesforce change in real time", 10*time.Second, func() bool {
				got, _ := d.App.Store.GetContact(bg, d.TenantID, c.ID)
				return got.Email == "e2e.realtime@example.com"
			})

			// A change made in Salesforce arrives after a manual sync.
			if err := d.Org.ModifyAsHuman(sfID, map[string]any{"Email": "e2e.changed@example.com"}); err != nil {
				t.Fatal(err)
			}
			w.open(d.URL + "/admin/salesforce/info")
			w.shot("sync-info")
			w.click("sync changes now", "sync-now")
			w.eventually("the manual sync", 30*time.Second, func() bool {
				got, _ := d.App.Store.GetContact(bg, d.TenantID, c.ID)
				return got.Email == "e2e.changed@example.com"
			})
			// Logs filtered by direction.
			for _, dir := range []syncer.Direction{syncer.DirToPlatform, syncer.DirToSalesforce} {
				w.open(d.URL + "/admin/salesforce/info?direction=" + string(dir))
				runs, _ := d.App.Engine.ListRuns(bg, d.TenantID, syncer.RunFilter{Direction: dir})
				if len(runs) == 0 {
					t.Errorf("no %s runs logged", dir)
					continue
				}
				if !w.has(fmt.Sprintf(`tr[data-run="%d"]`, runs[0].ID)) {
					t.Errorf("the %s filter does not list run %d", dir, runs[0].ID)
				}
				other, _ := d.App.Engine.ListRuns(bg, d.TenantID, syncer.RunFilter{Direction: map[syncer.Direction]syncer.Direction{syncer.DirToPlatform: syncer.DirToSalesforce, syncer.DirToSalesforce: syncer.DirToPlatform}[dir]})
				if len(other) > 0 && w.has(fmt.Sprintf(`tr[data-run="%d"]`, other[0].ID)) {
					t.Errorf("the %s filter lists run %d of the other direction", dir, other[0].ID)
				}
				w.shot("log-" + string(dir))
			}
			// Edit, then disconnect.
			w.open(d.URL + "/admin/salesforce/setup")
			w.shot("edit-settings")
			w.open(d.URL + "/admin/salesforce/disconnect")
			w.shot("disconnect-confirm")
			w.click("confirm disconnect", "confirm-disconnect")
			st, _ := d.App.Conn.Status(bg, d.TenantID)
			if st.Status != store.ConnNotConnected {
				t.Errorf("after disconnect the connection is %s, want not_connected", st.Status)
			}
			if _, err := d.App.Store.GetContact(bg, d.TenantID, c.ID); err != nil {
				t.Errorf("the platform contact is gone after disconnect: %v", err)
			}
			w.shot("disconnected")
		})
	}
}

// TestRefusalsInChromium walks the refusal paths: a tenant without the
// add-on, a Salesforce user who is not an admin, and an org without API
// access.
func TestRefusalsInChromium(t *testing.T) {
	t.Parallel()
	for _, lang := range []string{"zh-TW", "en"} {
		t.Run(lang, func(t *testing.T) {
			t.Parallel()
			ctx := browser(t)
			d := startDemo(t)
			w := &walker{t: t, ctx: ctx, dir: artifacts(t, "refusals-"+lang)}
			want := map[string][3]string{
				"zh-TW": {"Salesforce 會員資料整合", "Admin", "Web Services API"},
				"en":    {"Salesforce member data integration", "administrator", "Web Services API"},
			}[lang]

			w.login(d, lang, d.NoPlanAdmin.Username, d.NoPlanAdmin.Password)
			w.wantText("#plan-missing", want[0])
			w.shot("plan-missing")

			// A second browser: the admin of the tenant with the add-on.
			w2 := &walker{t: t, ctx: browser(t), dir: w.dir, n: w.n}
			w2.login(d, lang, d.Admin.Username, d.Admin.Password)
			w2.authorize(d, d.SFUser)
			w2.wantText("#refusal-message", want[1])
			w2.shot("not-admin")
			// A third browser, so Salesforce's login page is shown again.
			w3 := &walker{t: t, ctx: browser(t), dir: w.dir, n: w2.n}
			w3.login(d, lang, d.Admin.Username, d.Admin.Password)
			w3.authorize(d, d.SFNoAPI)
			w3.wantText("#refusal-message", want[2])
			w3.shot("api-disabled")
		})
	}
}
