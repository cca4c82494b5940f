package web

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/sfsync/sfsync/internal/sfconn"
	"github.com/sfsync/sfsync/internal/store"
	"github.com/sfsync/sfsync/internal/syncconf"
	"github.com/sfsync/sfsync/internal/syncer"
)

func TestRootRedirects(t *testing.T) {
	t.Parallel()
	e := setup(t, setupOpts{})
	c := e.client()
	if p := c.get("/"); p.status != http.StatusSeeOther || p.header.Get("Location") != "/login" {
		t.Errorf("GET / signed out: got %d → %q, want 303 → /login", p.status, p.header.Get("Location"))
	}
	if p := c.get("/admin/integrations"); p.status != http.StatusSeeOther || !strings.HasPrefix(p.header.Get("Location"), "/login?next=") {
		t.Errorf("GET /admin/integrations signed out: got %d → %q, want 303 → /login?next=…", p.status, p.header.Get("Location"))
	}
	c.login("a@shop.test")
	if p := c.get("/"); p.status != http.StatusSeeOther || p.header.Get("Location") != "/admin/integrations" {
		t.Errorf("GET / signed in: got %d → %q, want 303 → /admin/integrations", p.status, p.header.Get("Location"))
	}
}

func TestLoginLogout(t *testing.T) {
	t.Parallel()
	e := setup(t, setupOpts{secure: true})
	c := e.client()
	p := c.tryLogin("a@shop.test", "wrong password")
	if p.status != http.StatusUnauthorized {
		t.Fatalf("wrong password: got status %d, want 401", p.status)
	}
	mustContain(t, p, "Email 或密碼不正確")

	p = c.tryLogin("A@Shop.test ", testPassword)
	if p.status != http.StatusSeeOther || p.header.Get("Location") != "/admin/integrations" {
		t.Fatalf("login: got %d → %q, want 303 → /admin/integrations", p.status, p.header.Get("Location"))
	}
	var sc *http.Cookie
	for _, ck := range (&http.Response{Header: p.header}).Cookies() {
		if ck.Name == sessionCookie {
			sc = ck
		}
	}
	if sc == nil {
		t.Fatal("login set no session cookie")
	}
	if !sc.HttpOnly || !sc.Secure || sc.SameSite != http.SameSiteLaxMode || sc.Path != "/" {
		t.Errorf("session cookie: got HttpOnly=%v Secure=%v SameSite=%v Path=%q, want true true Lax /", sc.HttpOnly, sc.Secure, sc.SameSite, sc.Path)
	}
	// The cookie jar does not send Secure cookies over http; send it by hand.
	get := func(path string) page {
		req, _ := http.NewRequest(http.MethodGet, e.srv.URL+path, nil)
		req.AddCookie(&http.Cookie{Name: sessionCookie, Value: sc.Value})
		return c.do(req)
	}
	ip := get("/admin/integrations")
	if ip.status != http.StatusOK {
		t.Fatalf("integrations after login: got %d, want 200", ip.status)
	}
	mustContain(t, ip, "a@shop.test", "Shop A")
	csrf := csrfOf(ip.body)

	form := url.Values{"csrf": {csrf}}
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/logout", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.AddCookie(&http.Cookie{Name: sessionCookie, Value: sc.Value})
	lo := c.do(req)
	if lo.status != http.StatusSeeOther || !strings.HasPrefix(lo.header.Get("Location"), "/login") {
		t.Fatalf("logout: got %d → %q, want 303 → /login", lo.status, lo.header.Get("Location"))
	}
	if _, err := e.store.GetSession(context.Background(), sc.Value); err != store.ErrNotFound {
		t.Errorf("session after logout: got err %v, want store.ErrNotFound", err)
	}
	if p := get("/admin/integrations"); p.status != http.StatusSeeOther {
		t.Errorf("integrations after logout: got %d, want 303 to the login page", p.status)
	}
}

func TestLoginRedirectsToNextOnlyLocally(t *testing.T) {
	t.Parallel()
	e := setup(t, setupOpts{})
	for _, tc := range []struct{ next, want string }{
		{"/admin/salesforce/info", "/admin/salesforce/info"},
		{"https://evil.example/", "/admin/integrations"},
		{"//evil.example/x", "/admin/integrations"},
		{"/\\evil.example", "/admin/integrations"},
	} {
		c := e.client()
		lp := c.get("/login?next=" + url.QueryEscape(tc.next))
		p := c.post("/login", url.Values{"email": {"a@shop.test"}, "password": {testPassword}, "csrf": {csrfOf(lp.body)}, "next": {tc.next}})
		if got := p.header.Get("Location"); got != tc.want {
			t.Errorf("next=%q: got redirect %q, want %q", tc.next, got, tc.want)
		}
	}
}

func TestCSRFRefused(t *testing.T) {
	t.Parallel()
	e := setup(t, setupOpts{})
	e.connect(e.tenantA.ID, store.ConnConnected)
	c := e.client().login("a@shop.test")
	for _, tok := range []string{"", "forged-token"} {
		p := c.post("/admin/salesforce/disconnect", url.Values{"csrf": {tok}})
		if p.status != http.StatusForbidden {
			t.Errorf("disconnect with csrf %q: got status %d, want 403", tok, p.status)
		}
		mustContain(t, p, "CSRF")
	}
	if e.eng.called("Disconnect", e.tenantA.ID) {
		t.Error("Disconnect ran despite a bad CSRF token")
	}
	for _, path := range []string{"/admin/language", "/admin/salesforce/sync-now", "/admin/salesforce/setup/identity", "/logout", "/admin/salesforce/authorize"} {
		if p := c.post(path, url.Values{"csrf": {"nope"}, "lang": {"en"}}); p.status != http.StatusForbidden {
			t.Errorf("POST %s with a bad token: got %d, want 403", path, p.status)
		}
	}
	// The sign-in form is protected by its double-submit cookie.
	fresh := e.client()
	p := fresh.post("/login", url.Values{"email": {"a@shop.test"}, "password": {testPassword}, "csrf": {"made-up"}})
	if p.status != http.StatusForbidden {
		t.Errorf("login without the CSRF cookie: got %d, want 403", p.status)
	}
	// With the right token it goes through.
	if p := c.post("/admin/salesforce/disconnect", nil); p.status != http.StatusSeeOther {
		t.Errorf("disconnect with the session's token: got %d, want 303", p.status)
	}
	if !e.eng.called("Disconnect", e.tenantA.ID) {
		t.Error("Disconnect did not run with a good token")
	}
}

func TestLoginRateLimit(t *testing.T) {
	t.Parallel()
	e := setup(t, setupOpts{trustXFF: true})
	c := e.client()
	c.xff = "203.0.113.7"
	for i := 0; i < 5; i++ {
		if p := c.tryLogin("a@shop.test", "wrong password"); p.status != http.StatusUnauthorized {
			t.Fatalf("attempt %d: got %d, want 401", i+1, p.status)
		}
	}
	p := c.tryLogin("a@shop.test", testPassword)
	if p.status != http.StatusTooManyRequests {
		t.Fatalf("6th attempt within a minute: got %d, want 429", p.status)
	}
	mustContain(t, p, "登入嘗試次數過多")
	// Per IP: another account from the same address is limited too.
	if p := c.tryLogin("b@shop.test", testPassword); p.status != http.StatusTooManyRequests {
		t.Errorf("other e-mail, same IP: got %d, want 429", p.status)
	}
	// Per e-mail: the same account from another address is limited too.
	other := e.client()
	other.xff = "198.51.100.9"
	if p := other.tryLogin("a@shop.test", testPassword); p.status != http.StatusTooManyRequests {
		t.Errorf("same e-mail, other IP: got %d, want 429", p.status)
	}
	// A third party is not affected.
	third := e.client()
	third.xff = "192.0.2.44"
	if p := third.tryLogin("b@shop.test", testPassword); p.status != http.StatusSeeOther {
		t.Errorf("other e-mail, other IP: got %d, want 303", p.status)
	}
	e.clock.Advance(61 * time.Second)
	if p := c.tryLogin("a@shop.test", testPassword); p.status != http.StatusSeeOther {
		t.Errorf("after the window: got %d, want 303", p.status)
	}
}

func TestTenantIsolation(t *testing.T) {
	t.Parallel()
	e := setup(t, setupOpts{})
	ctx := context.Background()
	e.connect(e.tenantA.ID, store.ConnConnected)
	e.connect(e.tenantB.ID, store.ConnConnected)
	cfgA := validConfig()
	cfgA.Conditions[0].Value = "Phone Inquiry"
	if _, err := e.eng.SaveConfig(ctx, e.tenantA.ID, "u", cfgA); err != nil {
		t.Fatal(err)
	}
	runA := e.eng.addRun(e.tenantA.ID, syncer.Run{Direction: syncer.DirToPlatform, Trigger: syncer.TriggerManual, Status: syncer.StatusPartiallyFailed,
		Counts: syncer.Counts{Failed: 1}, Message: "tenant-A-secret-message"})
	e.eng.records[runA.ID] = []syncer.RunRecord{{RunID: runA.ID, Kind: syncer.KindFailed, SalesforceID: "003AAAASECRET", ReasonCode: "invalid_phone", Reason: "bad phone A"}}

	b := e.client().login("b@shop.test")
	for _, path := range []string{
		fmt.Sprintf("/admin/salesforce/runs/%d", runA.ID),
		fmt.Sprintf("/admin/salesforce/runs/%d/export.csv", runA.ID),
	} {
		p := b.get(path)
		if p.status != http.StatusNotFound {
			t.Errorf("B GET %s: got %d, want 404", path, p.status)
		}
		mustNotContain(t, p, "tenant-A-secret-message", "003AAAASECRET")
	}
	if p := b.post(fmt.Sprintf("/admin/salesforce/runs/%d/retry", runA.ID), nil); p.status != http.StatusNotFound {
		t.Errorf("B retry of A's run: got %d, want 404", p.status)
	}
	if e.eng.called(fmt.Sprintf("RetryFailed(%d)", runA.ID), e.tenantB.ID) || e.eng.called(fmt.Sprintf("RetryFailed(%d)", runA.ID), e.tenantA.ID) {
		t.Error("B's retry reached the engine for A's run")
	}
	info := b.get("/admin/salesforce/info")
	if info.status != http.StatusOK {
		t.Fatalf("B info: got %d, want 200", info.status)
	}
	mustContain(t, info, `id="no-runs"`)
	mustNotContain(t, info, fmt.Sprintf(`data-run="%d"`, runA.ID))
	setupB := b.get("/admin/salesforce/setup/conditions")
	mustNotContain(t, setupB, "Phone Inquiry&#34;", `value="Phone Inquiry"`)
	if strings.Contains(setupB.body, "Phone Inquiry") && strings.Contains(setupB.body, `conditions[0]`) {
		t.Error("B's setup page shows A's condition")
	}
	// A sees its own.
	a := e.client().login("a@shop.test")
	mustContain(t, a.get(fmt.Sprintf("/admin/salesforce/runs/%d", runA.ID)), "tenant-A-secret-message", "003AAAASECRET")
	mustContain(t, a.get("/admin/salesforce/info"), fmt.Sprintf(`data-run="%d"`, runA.ID))
	// B's disconnect only disconnects B.
	b.post("/admin/salesforce/disconnect", nil)
	if !e.eng.called("Disconnect", e.tenantB.ID) || e.eng.called("Disconnect", e.tenantA.ID) {
		t.Errorf("disconnect by B: got calls %v, want only Disconnect:%s", e.eng.calls, e.tenantB.ID)
	}
}

func TestLanguageSwitch(t *testing.T) {
	t.Parallel()
	e := setup(t, setupOpts{})
	c := e.client().login("a@shop.test")
	p := c.get("/admin/integrations")
	mustContain(t, p, `<html lang="zh-TW">`, "串接應用程式", "通訊渠道")
	sw := c.post("/admin/language", url.Values{"lang": {"en"}, "back": {"/admin/salesforce/connect"}})
	if sw.status != http.StatusSeeOther || sw.header.Get("Location") != "/admin/salesforce/connect" {
		t.Fatalf("switch: got %d → %q, want 303 → /admin/salesforce/connect", sw.status, sw.header.Get("Location"))
	}
	a, err := e.store.GetAdmin(context.Background(), mustAdminID(t, e, "a@shop.test"))
	if err != nil || a.Language != "en" {
		t.Fatalf("stored admin language: got %q (%v), want en", a.Language, err)
	}
	p = c.get("/admin/salesforce/connect")
	mustContain(t, p, `<html lang="en">`, "Go to authorize", "Sign in with a Salesforce account that has Admin rights")
	mustNotContain(t, p, "前往授權")
	// Another admin of the same tenant keeps the tenant's default.
	if _, err := e.store.CreateAdmin(context.Background(), e.tenantA.ID, "a2@shop.test", testPassword); err != nil {
		t.Fatal(err)
	}
	mustContain(t, e.client().login("a2@shop.test").get("/admin/integrations"), `<html lang="zh-TW">`)
	// "" returns to the tenant's default.
	c.post("/admin/language", url.Values{"lang": {""}, "back": {"https://evil.example/"}})
	p = c.get("/admin/integrations")
	mustContain(t, p, `<html lang="zh-TW">`, "串接應用程式")
	if p := c.post("/admin/language", url.Values{"lang": {"fr"}}); p.status != http.StatusBadRequest {
		t.Errorf("unknown language: got %d, want 400", p.status)
	}
	// The sign-in page follows ?lang= and the browser.
	anon := e.client()
	mustContain(t, anon.get("/login?lang=en"), `<html lang="en">`, "Admin sign-in")
	mustContain(t, anon.get("/login"), `<html lang="en">`)
	req, _ := http.NewRequest(http.MethodGet, e.srv.URL+"/login", nil)
	req.Header.Set("Accept-Language", "en-US,en;q=0.9")
	mustContain(t, e.client().do(req), `<html lang="en">`)
	mustContain(t, e.client().get("/login"), `<html lang="zh-TW">`, "管理員登入")
}

func mustAdminID(t *testing.T, e *testEnv, email string) string {
	t.Helper()
	a, err := e.store.Authenticate(context.Background(), email, testPassword)
	if err != nil {
		t.Fatal(err)
	}
	return a.ID
}

func TestIntegrationCardStates(t *testing.T) {
	t.Parallel()
	e := setup(t, setupOpts{tenantLang: "en"})
	ctx := context.Background()
	c := e.client().login("a@shop.test")

	p := c.get("/admin/integrations")
	mustContain(t, p, `data-state="available"`, `href="/admin/salesforce/connect"`)

	noPlan := e.tenantA
	noPlan.Plan.SalesforceAddon = false
	if err := e.store.UpdateTenant(ctx, noPlan); err != nil {
		t.Fatal(err)
	}
	p = c.get("/admin/integrations")
	mustContain(t, p, `data-state="plan_missing"`, "Salesforce member data integration add-on")
	mustNotContain(t, p, `href="/admin/salesforce/connect"`)
	if p := c.get("/admin/salesforce/connect"); p.status != http.StatusConflict || !strings.Contains(p.body, "add-on") {
		t.Errorf("connect page without the add-on: got %d, want 409 with the plan message", p.status)
	}
	if err := e.store.UpdateTenant(ctx, e.tenantA); err != nil {
		t.Fatal(err)
	}

	e.connect(e.tenantA.ID, store.ConnConnected)
	p = c.get("/admin/integrations")
	mustContain(t, p, `data-state="connected"`, "Acme Org", "admin@acme.test", `id="start-setup"`)

	if _, err := e.eng.SaveConfig(ctx, e.tenantA.ID, "u", validConfig()); err != nil {
		t.Fatal(err)
	}
	p = c.get("/admin/integrations")
	mustContain(t, p, `id="edit-settings"`, `id="view-info"`, `id="disconnect"`, `id="go-start"`)

	e.eng.startPercent = 42
	if _, err := e.eng.StartInitialSync(ctx, e.tenantA.ID); err != nil {
		t.Fatal(err)
	}
	p = c.get("/admin/integrations")
	mustContain(t, p, `data-state="syncing"`, `<span id="sync-pct">42</span>%`)
	mustNotContain(t, p, `id="go-start"`)

	if err := e.store.MarkConnectionBroken(ctx, e.tenantA.ID, "refresh token revoked"); err != nil {
		t.Fatal(err)
	}
	p = c.get("/admin/integrations")
	mustContain(t, p, `data-state="broken"`, `id="reconnect"`, "Reconnect", "refresh token revoked")
}

func TestAuthorizeRedirectsToSalesforceWithState(t *testing.T) {
	t.Parallel()
	e := setup(t, setupOpts{})
	c := e.client().login("a@shop.test")
	for _, tc := range []struct {
		form     url.Values
		wantHost string
	}{
		{url.Values{"login": {"production"}}, "127.0.0.1:1"},
		{url.Values{"login": {"sandbox"}}, "test.salesforce.com"},
		{url.Values{"login": {"my_domain"}, "my_domain": {"acme.my.salesforce.com"}}, "acme.my.salesforce.com"},
	} {
		p := c.post("/admin/salesforce/authorize", tc.form)
		if p.status != http.StatusSeeOther {
			t.Fatalf("authorize %v: got %d, want 303; %.300s", tc.form, p.status, p.body)
		}
		u, err := url.Parse(p.header.Get("Location"))
		if err != nil || u.Host != tc.wantHost || u.Query().Get("state") == "" || u.Query().Get("code_challenge") == "" {
			t.Errorf("authorize %v: got redirect %q, want host %s with state and PKCE challenge", tc.form, p.header.Get("Location"), tc.wantHost)
		}
	}
	p := c.post("/admin/salesforce/authorize", url.Values{"login": {"my_domain"}, "my_domain": {"https://evil.example.com"}})
	if p.status != http.StatusUnprocessableEntity {
		t.Errorf("a foreign login host: got %d, want 422", p.status)
	}
	mustContain(t, p, `id="connect-error"`, "My Domain")
}

func TestCallbackRefusesForeignOrUnknownState(t *testing.T) {
	t.Parallel()
	e := setup(t, setupOpts{tenantLang: "en"})
	a := e.client().login("a@shop.test")
	p := a.post("/admin/salesforce/authorize", url.Values{"login": {"production"}})
	u, _ := url.Parse(p.header.Get("Location"))
	state := u.Query().Get("state")
	// B's session cannot complete A's authorization.
	b := e.client().login("b@shop.test")
	cb := b.get(CallbackPath + "?code=x&state=" + url.QueryEscape(state))
	mustContain(t, cb, `data-code="bad_state"`, "This authorization link is invalid or expired")
	// Unknown state, and the admin's refusal on Salesforce's page.
	mustContain(t, a.get(CallbackPath+"?code=x&state=nope"), `data-code="bad_state"`)
	p = a.post("/admin/salesforce/authorize", url.Values{"login": {"production"}})
	u, _ = url.Parse(p.header.Get("Location"))
	denied := a.get(CallbackPath + "?error=access_denied&error_description=end-user+denied&state=" + url.QueryEscape(u.Query().Get("state")))
	mustContain(t, denied, `data-code="denied"`, "access_denied", `id="try-again"`, `href="/admin/salesforce/connect?relogin=1"`)
	// Signed out, the callback asks to sign in.
	if p := e.client().get(CallbackPath + "?code=x&state=y"); p.status != http.StatusSeeOther || p.header.Get("Location") != "/login" {
		t.Errorf("callback signed out: got %d → %q, want 303 → /login", p.status, p.header.Get("Location"))
	}
}

// stepForm is the wizard's form as a browser would post it from a page.
var hiddenRE = `name="%s" value="([^"]*)"`

func formValue(t *testing.T, body, name string) string {
	t.Helper()
	re := strings.NewReplacer(".", `\.`, "[", `\[`, "]", `\]`).Replace(name)
	m := regexpMust(fmt.Sprintf(hiddenRE, re)).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no input %s on the page", name)
	}
	return htmlUnescape(m[1])
}

func TestSetupWizard(t *testing.T) {
	t.Parallel()
	e := setup(t, setupOpts{tenantLang: "en"})
	e.connect(e.tenantA.ID, store.ConnConnected)
	c := e.client().login("a@shop.test")

	p := c.get("/admin/salesforce/setup")
	if p.status != http.StatusSeeOther {
		t.Fatalf("setup: got %d, want 303 to the first step", p.status)
	}
	p = c.get("/admin/salesforce/setup/identity")
	if p.status != http.StatusOK {
		t.Fatalf("identity step: got %d, want 200: %.500s", p.status, p.body)
	}
	// Only fields that can identify contacts are offered (S6): not the
	// date, the picklist or the read-only Id.
	mustContain(t, p, `value="Email"`, `value="Member_Number__c"`, `value="MobilePhone"`, "Save", "Step 2: Identity field")
	mustNotContain(t, p, `<option value="Birthdate"`, `<option value="LeadSource"`, `<option value="Id"`)

	// Next with no identity field: the error is next to the field.
	draft := formValue(t, p.body, "draft")
	p = c.post("/admin/salesforce/setup/identity", url.Values{"draft": {draft}, "action": {"next"}, "identity.platform_identity": {"email"},
		"identity.to_platform_no_match": {"create"}, "identity.to_salesforce_no_match": {"update_only"}})
	if p.status != http.StatusUnprocessableEntity {
		t.Fatalf("next without a field: got %d, want 422", p.status)
	}
	mustContain(t, p, `id="f-identity-salesforce_field" name="identity.salesforce_field" aria-invalid="true" aria-describedby="f-identity-salesforce_field-err"`,
		`<div id="f-identity-salesforce_field-err"><p class="field-error"><span aria-hidden="true">⚠</span> a value is required</p>`,
		`<a href="#f-identity-salesforce_field">Salesforce field: a value is required</a>`)

	// A field whose type cannot match the identity.
	p = c.post("/admin/salesforce/setup/identity", url.Values{"draft": {draft}, "action": {"next"}, "identity.platform_identity": {"email"},
		"identity.salesforce_field": {"MobilePhone"}, "identity.to_platform_no_match": {"create"}, "identity.to_salesforce_no_match": {"update_only"}})
	mustContain(t, p, "cannot identify contacts by e-mail")

	p = c.post("/admin/salesforce/setup/identity", url.Values{"draft": {draft}, "action": {"next"}, "identity.platform_identity": {"email"},
		"identity.salesforce_field": {"Email"}, "identity.to_platform_no_match": {"create"}, "identity.to_salesforce_no_match": {"update_only"}})
	if p.status != http.StatusOK {
		t.Fatalf("valid identity: got %d, want 200: %.1500s", p.status, p.body)
	}
	mustContain(t, p, "Step 3: Social identity sync", `action="/admin/salesforce/setup/social"`)
	// The identity field is not offered for social mappings.
	draft = formValue(t, p.body, "draft")
	p = c.post("/admin/salesforce/setup/social", url.Values{"draft": {draft}, "action": {"add"}, "social_count": {"0"}})
	mustContain(t, p, `name="social_mappings[0].salesforce_field"`, `value="LINE_UID__c"`)
	mustNotContain(t, p, `<option value="Email"`)
	// A second one needs Social CDP (S10).
	draft = formValue(t, p.body, "draft")
	row := url.Values{"draft": {draft}, "action": {"add"}, "social_count": {"1"}, "social_mappings[0].salesforce_field": {"LINE_UID__c"},
		"social_mappings[0].channel_type": {"line"}, "social_mappings[0].channel_id": {"@shop"}, "social_mappings[0].direction": {"both"}}
	p = c.post("/admin/salesforce/setup/social", row)
	mustContain(t, p, `id="notice"`, "upgrade to the Social CDP plan")
	mustNotContain(t, p, `name="social_mappings[1].salesforce_field"`)
	e.eng.mu.Lock()
	e.eng.cdp[e.tenantA.ID] = true
	e.eng.mu.Unlock()
	p = c.post("/admin/salesforce/setup/social", row)
	mustContain(t, p, `name="social_mappings[1].salesforce_field"`)
	mustNotContain(t, p, `id="notice"`)
	// Remove the second row again and go on.
	draft = formValue(t, p.body, "draft")
	row.Set("draft", draft)
	row.Set("social_count", "2")
	row.Set("action", "remove:1")
	p = c.post("/admin/salesforce/setup/social", row)
	mustNotContain(t, p, `name="social_mappings[1].salesforce_field"`)
	row.Set("draft", formValue(t, p.body, "draft"))
	row.Set("social_count", "1")
	row.Set("action", "next")
	p = c.post("/admin/salesforce/setup/social", row)
	mustContain(t, p, "Step 4: Sync fields", "886912345678")
	// Fields used in steps 2–3 are not offered again (S11).
	draft = formValue(t, p.body, "draft")
	p = c.post("/admin/salesforce/setup/fields", url.Values{"draft": {draft}, "action": {"add"}, "field_count": {"0"}})
	mustContain(t, p, `name="field_mappings[0].salesforce_field"`, `<option value="FirstName"`, `<option value="custom.vip_level"`, "Custom field: VIP level")
	mustNotContain(t, p, `<option value="Email"`, `<option value="LINE_UID__c"`)
	// A read-only field as a → Salesforce target fails inline (S13).
	draft = formValue(t, p.body, "draft")
	p = c.post("/admin/salesforce/setup/fields", url.Values{"draft": {draft}, "action": {"next"}, "field_count": {"1"},
		"field_mappings[0].salesforce_field": {"CreatedDate"}, "field_mappings[0].platform_field": {"birthday"}, "field_mappings[0].direction": {"to_salesforce"},
		"field_mappings[0].conflict": {"always_platform"}})
	if p.status != http.StatusUnprocessableEntity {
		t.Fatalf("read-only target: got %d, want 422", p.status)
	}
	mustContain(t, p, `id="f-field_mappings-0-platform_field"`, "not compatible", `<a href="#f-field_mappings-0-platform_field">Field mapping 1 · Platform field: `)
	p = c.post("/admin/salesforce/setup/fields", url.Values{"draft": {draft}, "action": {"next"}, "field_count": {"1"},
		"field_mappings[0].salesforce_field": {"FirstName"}, "field_mappings[0].platform_field": {"name"}, "field_mappings[0].direction": {"both"},
		"field_mappings[0].conflict": {"always_salesforce"}})
	if p.status != http.StatusOK {
		t.Fatalf("valid field mapping: got %d, want 200: %.1500s", p.status, p.body)
	}
	mustContain(t, p, "Step 5: Sync conditions", `id="no-conditions"`)
	// Conditions: the operators follow the field's type.
	draft = formValue(t, p.body, "draft")
	p = c.post("/admin/salesforce/setup/conditions", url.Values{"draft": {draft}, "action": {"add"}, "condition_count": {"0"}})
	draft = formValue(t, p.body, "draft")
	p = c.post("/admin/salesforce/setup/conditions", url.Values{"draft": {draft}, "action": {"refresh"}, "condition_count": {"1"},
		"conditions[0].salesforce_field": {"Birthdate"}})
	mustContain(t, p, `<option value="gt"`, `type="date"`)
	mustNotContain(t, p, `<option value="contains"`)
	draft = formValue(t, p.body, "draft")
	p = c.post("/admin/salesforce/setup/conditions", url.Values{"draft": {draft}, "action": {"save"}, "condition_count": {"1"},
		"conditions[0].salesforce_field": {"Birthdate"}, "conditions[0].operator": {"gt"}, "conditions[0].value": {"31/12/1990"}})
	if p.status != http.StatusUnprocessableEntity {
		t.Fatalf("save with a bad date: got %d, want 422", p.status)
	}
	mustContain(t, p, "is not a valid date (YYYY-MM-DD) value")
	if e.eng.called("SaveConfig", e.tenantA.ID) {
		t.Fatal("an invalid configuration reached SaveConfig")
	}
	// The dry run shows counts and samples before saving (X8).
	draft = formValue(t, p.body, "draft")
	good := url.Values{"draft": {draft}, "action": {"dryrun"}, "condition_count": {"1"},
		"conditions[0].salesforce_field": {"Birthdate"}, "conditions[0].operator": {"gt"}, "conditions[0].value": {"1990-12-31"}}
	p = c.post("/admin/salesforce/setup/conditions", good)
	mustContain(t, p, "Sync preview", "Salesforce contacts that meet the conditions: 3.", "bad phone 0912345678", "003000000000001AAA")
	good.Set("action", "save")
	p = c.post("/admin/salesforce/setup/conditions", good)
	if p.status != http.StatusSeeOther || p.header.Get("Location") != "/admin/salesforce/start?done=saved" {
		t.Fatalf("save: got %d → %q, want 303 → /admin/salesforce/start?done=saved; %.1500s", p.status, p.header.Get("Location"), p.body)
	}
	cfg, _, err := e.eng.CurrentConfig(context.Background(), e.tenantA.ID)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Identity.SalesforceField != "Email" || len(cfg.Social) != 1 || cfg.Social[0].ChannelID != "@shop" ||
		len(cfg.Fields) != 1 || cfg.Fields[0].Conflict != syncconf.AlwaysSalesforce || len(cfg.Conditions) != 1 || cfg.Conditions[0].Value != "1990-12-31" {
		t.Errorf("saved config: got %+v, want the wizard's choices", cfg)
	}
	// Editing later starts from the saved configuration.
	mustContain(t, c.get("/admin/salesforce/setup/fields"), `<option value="FirstName" selected>`)
}

func TestSaveErrorsGoToTheirStep(t *testing.T) {
	t.Parallel()
	e := setup(t, setupOpts{tenantLang: "en"})
	e.connect(e.tenantA.ID, store.ConnConnected)
	c := e.client().login("a@shop.test")
	cfg := validConfig()
	cfg.Identity.SalesforceField = ""
	draft, _ := cfg.CanonicalJSON()
	p := c.post("/admin/salesforce/setup/conditions", url.Values{"draft": {string(draft)}, "action": {"save"}, "condition_count": {"1"},
		"conditions[0].salesforce_field": {"LeadSource"}, "conditions[0].operator": {"equals"}, "conditions[0].value": {"Web"}})
	if p.status != http.StatusUnprocessableEntity {
		t.Fatalf("save: got %d, want 422", p.status)
	}
	mustContain(t, p, "Step 2: Identity field", `aria-invalid="true"`, `class="current has-errors"`)
}

func TestStartStep(t *testing.T) {
	t.Parallel()
	e := setup(t, setupOpts{tenantLang: "en"})
	ctx := context.Background()
	e.connect(e.tenantA.ID, store.ConnConnected)
	e.connect(e.tenantB.ID, store.ConnConnected)
	// Push only: real time has started, no button (S17).
	push := syncconf.Config{Identity: syncconf.IdentityMapping{SalesforceField: "Email", PlatformIdentity: "email",
		ToPlatformNoMatch: syncconf.NoMatchUpdateOnly, ToSalesforceNoMatch: syncconf.NoMatchUpdateOnly},
		Fields: []syncconf.FieldMapping{{SalesforceField: "FirstName", PlatformField: "name", Direction: syncconf.DirToSalesforce}}}
	if _, err := e.eng.SaveConfig(ctx, e.tenantB.ID, "u", push); err != nil {
		t.Fatal(err)
	}
	b := e.client().login("b@shop.test")
	p := b.get("/admin/salesforce/start")
	mustContain(t, p, `id="realtime-notice"`, "now sync to Salesforce in real time")
	mustNotContain(t, p, `id="start-sync"`)

	// Pull: the dry run, then Start sync (S16, X8).
	if _, err := e.eng.SaveConfig(ctx, e.tenantA.ID, "u", validConfig()); err != nil {
		t.Fatal(err)
	}
	a := e.client().login("a@shop.test")
	p = a.get("/admin/salesforce/start")
	mustContain(t, p, `id="start-sync"`, "Salesforce contacts that meet the conditions: 3.")
	p = a.post("/admin/salesforce/start", nil)
	if p.status != http.StatusSeeOther || !e.eng.called("StartInitialSync", e.tenantA.ID) {
		t.Fatalf("start: got %d, StartInitialSync called %v; want 303 and a call", p.status, e.eng.called("StartInitialSync", e.tenantA.ID))
	}
	// The page shows the engine's progress, also when opened anew (S18).
	run, _, _ := e.eng.InitialRun(ctx, e.tenantA.ID)
	run.Processed = 50
	e.eng.setRun(e.tenantA.ID, run)
	p = e.client().login("a@shop.test").get("/admin/salesforce/start")
	mustContain(t, p, `<progress id="sync-progress" max="100" value="25">`, `<span id="sync-pct">25</span>%`, `http-equiv="refresh"`)
	mustNotContain(t, p, `id="start-sync"`)
	// A second POST does not start a second first sync.
	a.post("/admin/salesforce/start", nil)
	n := 0
	for _, call := range e.eng.calls {
		if call == "StartInitialSync:"+e.tenantA.ID {
			n++
		}
	}
	if n != 1 {
		t.Errorf("StartInitialSync calls: got %d, want 1", n)
	}
	pj := a.get("/admin/salesforce/progress")
	mustContain(t, pj, `"percent":25`, `"done":false`, `"label":"Running"`)
	// A run paused by the API budget is not over (X4).
	run.Status = syncer.StatusPaused
	e.eng.setRun(e.tenantA.ID, run)
	mustContain(t, a.get("/admin/salesforce/progress"), `"done":false`, `"label":"Paused (API budget)"`)
	mustContain(t, a.get("/admin/integrations"), `data-state="syncing"`)
	run.Status = syncer.StatusRunning
	e.eng.setRun(e.tenantA.ID, run)

	// The event stream reports changes and ends when the run finishes.
	req, _ := http.NewRequest(http.MethodGet, e.srv.URL+"/admin/salesforce/progress/events", nil)
	resp, err := a.hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("events content type: got %q, want text/event-stream", ct)
	}
	sc := bufio.NewScanner(resp.Body)
	var events []string
	finished := false
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "data: ") {
			continue
		}
		events = append(events, line)
		switch len(events) {
		case 1:
			run.Processed = 150
			e.eng.setRun(e.tenantA.ID, run)
		case 2:
			run.Processed, run.Status = 200, syncer.StatusSucceeded
			e.eng.setRun(e.tenantA.ID, run)
		}
		if strings.Contains(line, `"done":true`) {
			finished = true
		}
	}
	if !finished || len(events) != 3 || !strings.Contains(events[0], `"percent":25`) || !strings.Contains(events[1], `"percent":75`) || !strings.Contains(events[2], `"percent":100`) {
		t.Errorf("events: got %q (finished %v), want 25%%, 75%%, 100%% and done", events, finished)
	}
	p = a.get("/admin/salesforce/start")
	mustContain(t, p, `id="sync-done"`, "Succeeded")
	mustNotContain(t, p, `http-equiv="refresh"`)
	// A later edit goes back to the sync info, not to step 6.
	draft, _ := validConfig().CanonicalJSON()
	p = a.post("/admin/salesforce/setup/identity", url.Values{"draft": {string(draft)}, "action": {"save"}, "identity.salesforce_field": {"Email"},
		"identity.platform_identity": {"email"}, "identity.to_platform_no_match": {"create"}, "identity.to_salesforce_no_match": {"update_only"}})
	if p.status != http.StatusSeeOther || p.header.Get("Location") != "/admin/salesforce/info?done=saved" {
		t.Errorf("second save: got %d → %q, want 303 → /admin/salesforce/info?done=saved", p.status, p.header.Get("Location"))
	}
}

func TestSyncInfoRunsAndCSV(t *testing.T) {
	t.Parallel()
	e := setup(t, setupOpts{tenantLang: "en"})
	ctx := context.Background()
	e.connect(e.tenantA.ID, store.ConnConnected)
	if _, err := e.eng.SaveConfig(ctx, e.tenantA.ID, "u", validConfig()); err != nil {
		t.Fatal(err)
	}
	pull := e.eng.addRun(e.tenantA.ID, syncer.Run{Direction: syncer.DirToPlatform, Trigger: syncer.TriggerScheduled, Status: syncer.StatusPartiallyFailed,
		Counts: syncer.Counts{Created: 3, Updated: 4, Unchanged: 5, Skipped: 6, Failed: 2}})
	push := e.eng.addRun(e.tenantA.ID, syncer.Run{Direction: syncer.DirToSalesforce, Trigger: syncer.TriggerRealtime, Status: syncer.StatusSucceeded,
		Counts: syncer.Counts{Updated: 1}})
	e.eng.records[pull.ID] = []syncer.RunRecord{
		{Kind: syncer.KindFailed, SalesforceID: "003A", ReasonCode: "invalid_phone", Reason: "Salesforce MobilePhone: \"0912345678\" is not a valid international phone number"},
		{Kind: syncer.KindFailed, SalesforceID: "003B", ReasonCode: "invalid_phone", Reason: "Salesforce MobilePhone: \"4155551212\" is not valid"},
	}
	c := e.client().login("a@shop.test")
	p := c.get("/admin/salesforce/info")
	mustContain(t, p, fmt.Sprintf(`data-run="%d"`, pull.ID), fmt.Sprintf(`data-run="%d"`, push.ID), "Every 15 minutes", "Real time",
		"Partially failed", "1234 of 15000 API calls", "at most 50% of the daily allocation (7500 calls)", `id="sync-now"`, "All (both directions)", "Platform → Salesforce")
	p = c.get("/admin/salesforce/info?direction=to_salesforce")
	mustContain(t, p, fmt.Sprintf(`data-run="%d"`, push.ID), `href="/admin/salesforce/info?direction=to_salesforce" aria-current="page"`)
	mustNotContain(t, p, fmt.Sprintf(`data-run="%d"`, pull.ID))
	p = c.get("/admin/salesforce/info?direction=to_platform")
	mustNotContain(t, p, fmt.Sprintf(`data-run="%d"`, push.ID))

	p = c.get(fmt.Sprintf("/admin/salesforce/runs/%d", pull.ID))
	mustContain(t, p, "invalid_phone", "0912345678", "4155551212", `id="retry-run"`, `id="export-csv"`)
	p = c.get(fmt.Sprintf("/admin/salesforce/runs/%d?kind=failed&reason=nope", pull.ID))
	mustContain(t, p, "No per-record entries.")

	req, _ := http.NewRequest(http.MethodGet, fmt.Sprintf("%s/admin/salesforce/runs/%d/export.csv", e.srv.URL, pull.ID), nil)
	csvPage := c.do(req)
	if csvPage.status != http.StatusOK || csvPage.header.Get("Content-Disposition") != fmt.Sprintf(`attachment; filename="sfsync-run-%d.csv"`, pull.ID) ||
		!strings.HasPrefix(csvPage.header.Get("Content-Type"), "text/csv") {
		t.Errorf("csv: got %d %q %q, want 200, attachment and text/csv", csvPage.status, csvPage.header.Get("Content-Disposition"), csvPage.header.Get("Content-Type"))
	}
	if !strings.Contains(csvPage.body, "003A,invalid_phone") || !strings.Contains(csvPage.body, "003B,invalid_phone") {
		t.Errorf("csv body: got %q, want both failed records", csvPage.body)
	}
	// One reason group's export holds that group only.
	req, _ = http.NewRequest(http.MethodGet, fmt.Sprintf("%s/admin/salesforce/runs/%d/export.csv?kind=failed&reason=nope", e.srv.URL, pull.ID), nil)
	if csvPage = c.do(req); csvPage.status != http.StatusOK || strings.Contains(csvPage.body, "003A") {
		t.Errorf("csv of an empty group: got %d %q, want 200 and no records", csvPage.status, csvPage.body)
	}

	for path, call := range map[string]string{
		"/admin/salesforce/sync-now":                            "SyncNow",
		"/admin/salesforce/full-resync":                         "FullResync",
		"/admin/salesforce/retry-failed":                        "RetryFailed(0)",
		fmt.Sprintf("/admin/salesforce/runs/%d/retry", pull.ID): fmt.Sprintf("RetryFailed(%d)", pull.ID),
	} {
		p := c.post(path, nil)
		if p.status != http.StatusSeeOther || !strings.HasPrefix(p.header.Get("Location"), "/admin/salesforce/info?done=") {
			t.Errorf("POST %s: got %d → %q, want 303 → info with a notice", path, p.status, p.header.Get("Location"))
		}
		if !e.eng.called(call, e.tenantA.ID) {
			t.Errorf("POST %s: engine %s not called", path, call)
		}
	}
	mustContain(t, c.get("/admin/salesforce/info?done=sync_started"), `class="flash"`, "A manual sync has started.")
	// The engine's "not configured" is said as such, not as an internal error.
	e.connect(e.tenantB.ID, store.ConnConnected)
	b := e.client().login("b@shop.test")
	if p := b.post("/admin/salesforce/sync-now", nil); p.status != http.StatusConflict || !strings.Contains(p.body, "Syncing is not set up yet") {
		t.Errorf("sync-now without a configuration: got %d, want 409 with the not-configured message", p.status)
	}
	if p := c.get("/admin/salesforce/runs/abc"); p.status != http.StatusNotFound {
		t.Errorf("bad run id: got %d, want 404", p.status)
	}
}

func TestDisconnectConfirmation(t *testing.T) {
	t.Parallel()
	e := setup(t, setupOpts{tenantLang: "en"})
	e.connect(e.tenantA.ID, store.ConnConnected)
	c := e.client().login("a@shop.test")
	p := c.get("/admin/salesforce/disconnect")
	mustContain(t, p, "Disconnect from the Salesforce org “Acme Org”?", "Every contact on Platform is kept.", `id="confirm-disconnect"`)
	if e.eng.called("Disconnect", e.tenantA.ID) {
		t.Fatal("showing the confirmation disconnected")
	}
	p = c.post("/admin/salesforce/disconnect", nil)
	if p.status != http.StatusSeeOther || p.header.Get("Location") != "/admin/integrations?done=disconnected" || !e.eng.called("Disconnect", e.tenantA.ID) {
		t.Errorf("disconnect: got %d → %q (called %v), want 303 → /admin/integrations?done=disconnected and a call", p.status, p.header.Get("Location"), e.eng.called("Disconnect", e.tenantA.ID))
	}
}

func TestSecurityHeadersAndStatic(t *testing.T) {
	t.Parallel()
	e := setup(t, setupOpts{})
	c := e.client()
	p := c.get("/login")
	for h, want := range map[string]string{"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY", "Cache-Control": "no-store"} {
		if got := p.header.Get(h); got != want {
			t.Errorf("%s: got %q, want %q", h, got, want)
		}
	}
	if csp := p.header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline") {
		t.Errorf("CSP: got %q, want script-src 'self' without unsafe-inline", csp)
	}
	for _, path := range []string{"/static/app.css", "/static/app.js"} {
		if p := c.get(path); p.status != http.StatusOK || len(p.body) < 500 {
			t.Errorf("GET %s: got %d with %d bytes, want 200 with the file", path, p.status, len(p.body))
		}
	}
	if p := c.get("/static/nope.js"); p.status != http.StatusNotFound {
		t.Errorf("missing static file: got %d, want 404", p.status)
	}
}

func TestAuthorizeWithoutConnectedApp(t *testing.T) {
	t.Parallel()
	e := setup(t, setupOpts{tenantLang: "en", conn: func(c *sfconn.Service) { c.ClientID = "" }})
	c := e.client().login("a@shop.test")
	p := c.post("/admin/salesforce/authorize", url.Values{"login": {"production"}})
	if p.status != http.StatusConflict {
		t.Fatalf("authorize without a Connected App: got %d, want 409", p.status)
	}
	mustContain(t, p, `data-code="not_configured"`, "SFSYNC_SALESFORCE_CLIENT_ID", e.srv.URL+CallbackPath)
}

func TestProgressStreamEndsWithoutARun(t *testing.T) {
	t.Parallel()
	e := setup(t, setupOpts{})
	c := e.client().login("a@shop.test")
	p := c.get("/admin/salesforce/progress/events")
	if p.status != http.StatusOK || !strings.Contains(p.body, `"found":false`) || !strings.Contains(p.body, `"done":true`) {
		t.Errorf("events without a first sync: got %d %q, want one event with found false and done true", p.status, p.body)
	}
	if p := e.client().get("/admin/salesforce/progress/events"); p.status != http.StatusUnauthorized {
		t.Errorf("events signed out: got %d, want 401", p.status)
	}
	// A form posted after the session ended leads back to the sign-in page.
	if p := e.client().post("/admin/salesforce/sync-now", nil); p.status != http.StatusSeeOther || p.header.Get("Location") != "/login" {
		t.Errorf("post signed out: got %d → %q, want 303 → /login", p.status, p.header.Get("Location"))
	}
}

func TestSetupKeepsValuesThePickerWouldNotOffer(t *testing.T) {
	t.Parallel()
	e := setup(t, setupOpts{tenantLang: "en"})
	e.connect(e.tenantA.ID, store.ConnConnected)
	cfg := validConfig()
	cfg.Fields = append(cfg.Fields, syncconf.FieldMapping{SalesforceField: "Gone__c", PlatformField: "custom.gone", Direction: syncconf.DirToPlatform})
	e.eng.mu.Lock()
	e.eng.configs[e.tenantA.ID] = []syncconf.Config{cfg}
	e.eng.mu.Unlock()
	c := e.client().login("a@shop.test")
	p := c.get("/admin/salesforce/setup/fields")
	mustContain(t, p, `<option value="Gone__c" selected>Gone__c (?)</option>`, `<option value="custom.gone" selected>custom.gone (?)</option>`)
	draft := formValue(t, p.body, "draft")
	p = c.post("/admin/salesforce/setup/fields", url.Values{"draft": {draft}, "action": {"next"}, "field_count": {"2"},
		"field_mappings[0].salesforce_field": {"FirstName"}, "field_mappings[0].platform_field": {"name"}, "field_mappings[0].direction": {"both"},
		"field_mappings[1].salesforce_field": {"Gone__c"}, "field_mappings[1].platform_field": {"custom.gone"}, "field_mappings[1].direction": {"to_platform"}})
	mustContain(t, p, `Salesforce Contact has no field &#34;Gone__c&#34;`, `the platform has no field &#34;custom.gone&#34;`)
}

func TestInfoOffersFullResyncAfterIdentityChange(t *testing.T) {
	t.Parallel()
	e := setup(t, setupOpts{tenantLang: "en"})
	ctx := context.Background()
	e.connect(e.tenantA.ID, store.ConnConnected)
	if _, err := e.eng.SaveConfig(ctx, e.tenantA.ID, "u", validConfig()); err != nil {
		t.Fatal(err)
	}
	a := e.client().login("a@shop.test")
	if p := a.get("/admin/salesforce/info"); strings.Contains(p.body, `id="resync-advised"`) {
		t.Errorf("info page offers a full resync before anything changed")
	}
	e.eng.mu.Lock()
	e.eng.resyncAdvised = map[string]bool{e.tenantA.ID: true}
	e.eng.mu.Unlock()
	p := a.get("/admin/salesforce/info")
	mustContain(t, p, `id="resync-advised"`, "full resync is recommended", `id="full-resync"`)
}

// TestAuthorizeAsksForTheLoginPageOnReconnect: a first connection goes to
// Salesforce as usual; trying again after a refusal, reconnecting a broken
// connection, or connecting a tenant that was connected before sends
// prompt=login, so Salesforce does not reuse the refused user's session.
func TestAuthorizeAsksForTheLoginPageOnReconnect(t *testing.T) {
	t.Parallel()
	e := setup(t, setupOpts{tenantLang: "en"})
	c := e.client().login("a@shop.test")
	prompt := func(form url.Values) string {
		t.Helper()
		p := c.post("/admin/salesforce/authorize", form)
		if p.status != http.StatusSeeOther {
			t.Fatalf("authorize %v: got %d, want 303; %.300s", form, p.status, p.body)
		}
		u, _ := url.Parse(p.header.Get("Location"))
		return u.Query().Get("prompt")
	}
	if got := prompt(url.Values{"login": {"production"}}); got != "" {
		t.Errorf("first connection: got prompt=%q, want none", got)
	}
	// The refusal page's "try again" and the broken card's "reconnect"
	// lead to a connect form that asks for the login page.
	mustContain(t, c.get("/admin/salesforce/connect?relogin=1"), `name="relogin" value="1"`)
	mustNotContain(t, c.get("/admin/salesforce/connect"), `name="relogin"`)
	if got := prompt(url.Values{"login": {"production"}, "relogin": {"1"}}); got != "login" {
		t.Errorf("after a refusal: got prompt=%q, want login", got)
	}
	// A tenant with a saved configuration was connected before.
	if _, err := e.eng.SaveConfig(context.Background(), e.tenantA.ID, "", validConfig()); err != nil {
		t.Fatal(err)
	}
	if got := prompt(url.Values{"login": {"production"}}); got != "login" {
		t.Errorf("reconnect after a disconnect: got prompt=%q, want login", got)
	}
}

// TestErrorPagesOfferTheNextStep: an error page is never a dead end; it
// leads to what fixes the error, or back to the form it came from.
func TestErrorPagesOfferTheNextStep(t *testing.T) {
	t.Parallel()
	e := setup(t, setupOpts{tenantLang: "en"})
	e.connect(e.tenantA.ID, store.ConnConnected)
	c := e.client().login("a@shop.test")
	// Nothing set up: sync now leads to the setup.
	p := c.post("/admin/salesforce/sync-now", url.Values{})
	mustContain(t, p, `href="/admin/salesforce/setup" id="error-next"`, "Go to the sync settings", `id="error-back"`)
	// An expired form leads back to the page it was on, never off-site.
	for _, tc := range []struct{ referer, want string }{
		{e.srv.URL + "/admin/salesforce/info?dir=to_platform", `href="/admin/salesforce/info?dir=to_platform" id="error-next"`},
		{"https://evil.example.com/phish", `href="/admin/salesforce/info" id="error-next"`},
	} {
		req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/admin/salesforce/sync-now", strings.NewReader("csrf=stale"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Referer", tc.referer)
		p := c.do(req)
		if p.status != http.StatusForbidden {
			t.Fatalf("stale csrf: got %d, want 403", p.status)
		}
		mustContain(t, p, tc.want)
		mustNotContain(t, p, "evil.example.com")
	}
}

// TestTimesInTheTenantsTimeZone: a Taiwan shop reads Taipei time, an
// English tenant UTC unless it set a zone (issue 17 item 7).
func TestTimesInTheTenantsTimeZone(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		lang, zone, want string
	}{
		{"zh-TW", "", "2026-11-01 16:00:00 GMT+8"},
		{"en", "", "2026-11-01 08:00:00 UTC"},
		{"en", "Asia/Kolkata", "2026-11-01 13:30:00 GMT+5:30"},
	} {
		e := setup(t, setupOpts{tenantLang: tc.lang})
		if tc.zone != "" {
			tn := e.tenantA
			tn.TimeZone = tc.zone
			if err := e.store.UpdateTenant(context.Background(), tn); err != nil {
				t.Fatal(err)
			}
		}
		e.connect(e.tenantA.ID, store.ConnConnected)
		started := time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC)
		run := e.eng.addRun(e.tenantA.ID, syncer.Run{Direction: syncer.DirToPlatform, Trigger: syncer.TriggerManual, Status: syncer.StatusSucceeded, StartedAt: started, FinishedAt: &started})
		c := e.client().login("a@shop.test")
		for _, path := range []string{"/admin/integrations", fmt.Sprintf("/admin/salesforce/runs/%d", run.ID), "/admin/salesforce/info"} {
			p := c.get(path)
			if !strings.Contains(htmlUnescape(p.body), tc.want) {
				t.Errorf("%s %s: got no %q, want the time in the tenant's zone", tc.lang, path, tc.want)
			}
		}
	}
}

// TestCardAndInfoShowHowChangesArrive: the Salesforce card and the sync
// information page say whether Salesforce changes arrive in real time or
// by polling, since when, and why polling (issue 15), in both languages.
func TestCardAndInfoShowHowChangesArrive(t *testing.T) {
	t.Parallel()
	for _, lang := range []string{"en", "zh-TW"} {
		t.Run(lang, func(t *testing.T) {
			t.Parallel()
			e := setup(t, setupOpts{tenantLang: lang})
			ctx := context.Background()
			c := e.client().login("a@shop.test")
			e.connect(e.tenantA.ID, store.ConnConnected)
			if _, err := e.eng.SaveConfig(ctx, e.tenantA.ID, "u", validConfig()); err != nil {
				t.Fatal(err)
			}
			want := map[string][]string{
				"en":    {"Polling every 15 minutes", "Real time", "since ", "does not publish Contact change events"},
				"zh-TW": {"每 15 分鐘輪詢", "即時送達", "起", "未發布聯絡人的變更事件"},
			}[lang]
			p := c.get("/admin/integrations")
			mustContain(t, p, `data-mode="polling"`, want[0])
			mustNotContain(t, p, `id="sf-arrival-reason"`)

			since := time.Date(2026, 12, 7, 3, 4, 5, 0, time.UTC)
			if err := e.store.SetStreamMode(ctx, e.tenantA.ID, store.StreamRealtime, "", since); err != nil {
				t.Fatal(err)
			}
			for _, path := range []string{"/admin/integrations", "/admin/salesforce/info"} {
				p = c.get(path)
				mustContain(t, p, `id="sf-arrival" data-mode="realtime"`, want[1], want[2])
			}
			if err := e.store.SetStreamMode(ctx, e.tenantA.ID, store.StreamPolling, syncer.ReasonNoCDC, since.Add(time.Hour)); err != nil {
				t.Fatal(err)
			}
			for _, path := range []string{"/admin/integrations", "/admin/salesforce/info"} {
				p = c.get(path)
				mustContain(t, p, `data-mode="polling"`, want[0], `id="sf-arrival-reason"`, want[3])
			}
		})
	}
}
