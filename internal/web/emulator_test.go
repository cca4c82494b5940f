package web

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sfsync/sfsync/internal/salesforce"
	"github.com/sfsync/sfsync/internal/sfconn"
	"github.com/sfsync/sfsync/internal/sfemu"
)

// emuEnv is the Salesforce emulator with three sign-ins: an admin of an
// Enterprise org, a standard user of it, and an admin of a Professional
// org without the API add-on.
type emuEnv struct {
	t   *testing.T
	emu *sfemu.Server
	url string
	org *sfemu.Org // the Enterprise org
}

const (
	emuAdmin    = "admin@acme.test"
	emuClerk    = "clerk@acme.test"
	emuNoAPI    = "admin@budget.test"
	emuPassword = "emulator-pass-1"
)

func startEmulator(t *testing.T) *emuEnv {
	t.Helper()
	emu := sfemu.New(sfemu.Options{TokenLifetime: time.Hour})
	srv := httptest.NewServer(emu)
	t.Cleanup(srv.Close)
	emu.SetBaseURL(srv.URL)
	org, err := emu.CreateOrg(sfemu.OrgOptions{Name: "Acme Corp", Edition: sfemu.Enterprise, AdminUsername: emuAdmin, AdminPassword: emuPassword})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := org.CreateUser(sfemu.UserOptions{Username: emuClerk, Password: emuPassword, LastName: "Clerk", Profile: sfemu.ProfileStandardUser}); err != nil {
		t.Fatal(err)
	}
	if _, err := emu.CreateOrg(sfemu.OrgOptions{Name: "Budget Co", Edition: sfemu.ProfessionalNoAPI, AdminUsername: emuNoAPI, AdminPassword: emuPassword}); err != nil {
		t.Fatal(err)
	}
	return &emuEnv{t: t, emu: emu, url: srv.URL, org: org}
}

// wire registers the admin UI's callback as a Connected App and points the
// connection service at the emulator.
func (x *emuEnv) wire(preAuthorized bool) func(*sfconn.Service) {
	return func(c *sfconn.Service) {
		app, err := x.emu.RegisterConnectedApp(sfemu.ConnectedAppOptions{Name: "sfsync", CallbackURLs: []string{c.RedirectURL}, PreAuthorized: preAuthorized})
		if err != nil {
			x.t.Fatal(err)
		}
		c.ClientID, c.ClientSecret, c.DefaultLoginURL = app.ClientID, app.ClientSecret, x.url
		tr := &http.Transport{}
		x.t.Cleanup(tr.CloseIdleConnections)
		c.HTTPClient = &http.Client{Timeout: 20 * time.Second, Transport: tr}
		c.ClientOptions = salesforce.Options{BackoffBase: time.Millisecond, BackoffMax: 10 * time.Millisecond}
	}
}

var emuHiddenRE = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)

// authorizeAs runs the OAuth flow from "Go to authorize" through the
// emulator's login page and returns the page the callback leads to.
func authorizeAs(t *testing.T, c *client, emuURL, username string) page {
	t.Helper()
	// Sign in afresh: forget the emulator's own session from an earlier flow.
	eu, _ := url.Parse(emuURL)
	c.hc.Jar.SetCookies(eu, []*http.Cookie{{Name: "sid", Value: "", Path: "/", MaxAge: -1}})
	return authorizeWith(t, c, emuURL, username, url.Values{"login": {"production"}})
}

// authorizeWith posts form to "Go to authorize" and signs in on the
// emulator's login page, keeping whatever emulator session the browser
// has: the login page must appear all the same.
func authorizeWith(t *testing.T, c *client, emuURL, username string, form url.Values) page {
	t.Helper()
	p := c.post("/admin/salesforce/authorize", form)
	loc := p.header.Get("Location")
	if p.status != http.StatusSeeOther || !strings.HasPrefix(loc, emuURL+"/services/oauth2/authorize?") {
		t.Fatalf("authorize: got %d → %q, want 303 → the emulator's authorize page", p.status, loc)
	}
	req, _ := http.NewRequest(http.MethodGet, loc, nil)
	login := c.do(req)
	if !strings.Contains(login.body, `id="login_form"`) {
		t.Fatalf("emulator login page: got %d %.500s", login.status, login.body)
	}
	form = url.Values{"username": {username}, "password": {emuPassword}, "action": {"login"}}
	for _, m := range emuHiddenRE.FindAllStringSubmatch(login.body, -1) {
		form.Set(m[1], htmlUnescape(m[2]))
	}
	req, _ = http.NewRequest(http.MethodPost, emuURL+"/services/oauth2/authorize", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	back := c.do(req)
	cb := back.header.Get("Location")
	if back.status != http.StatusFound || !strings.HasPrefix(cb, c.e.srv.URL+CallbackPath+"?") {
		t.Fatalf("emulator login: got %d → %q, want 302 → our callback; %.500s", back.status, cb, back.body)
	}
	req, _ = http.NewRequest(http.MethodGet, cb, nil)
	done := c.do(req)
	if done.status == http.StatusSeeOther {
		req, _ = http.NewRequest(http.MethodGet, c.e.srv.URL+done.header.Get("Location"), nil)
		return c.do(req)
	}
	return done
}

func TestConnectWithEmulator(t *testing.T) {
	t.Parallel()
	emu := startEmulator(t)
	e := setup(t, setupOpts{tenantLang: "en", conn: emu.wire(true)})

	// S5: a standard user is refused with a clear message.
	a := e.client().login("a@shop.test")
	p := authorizeAs(t, a, emu.url, emuClerk)
	mustContain(t, p, `data-code="not_admin"`, "clerk@acme.test is not an administrator", "Sign in with a Salesforce account that has Admin rights")
	mustContain(t, a.get("/admin/integrations"), `data-state="available"`)

	// S2: an org without API access is told exactly that.
	b := e.client().login("b@shop.test")
	p = authorizeAs(t, b, emu.url, emuNoAPI)
	mustContain(t, p, `data-code="api_disabled"`, "API_DISABLED_FOR_ORG", "Professional needs the Web Services API add-on")

	// An admin connects; back on the platform with "Start setup".
	p = authorizeAs(t, a, emu.url, emuAdmin)
	if p.status != http.StatusOK {
		t.Fatalf("after a good authorization: got %d, want 200: %.500s", p.status, p.body)
	}
	mustContain(t, p, "Authorized", "Acme Corp", emuAdmin, `href="/admin/salesforce/setup" id="start-setup"`, "Start setup")
	mustContain(t, a.get("/admin/integrations"), `data-state="connected"`, "Acme Corp")
	// B is still not connected.
	mustContain(t, b.get("/admin/integrations"), `data-state="available"`)
}

// TestTryAgainAfterARefusalShowsTheLoginPage: a standard user is refused;
// Salesforce (the emulator) keeps that user signed in, so "try again" must
// ask for the login page (prompt=login) or the admin could never switch to
// an admin account — the loop of issue 17.
func TestTryAgainAfterARefusalShowsTheLoginPage(t *testing.T) {
	t.Parallel()
	emu := startEmulator(t)
	e := setup(t, setupOpts{tenantLang: "zh-TW", conn: emu.wire(true)})
	a := e.client().login("a@shop.test")
	p := authorizeAs(t, a, emu.url, emuClerk)
	mustContain(t, p, `data-code="not_admin"`, `href="/admin/salesforce/connect?relogin=1" id="try-again"`)
	// The try-again link's form, as the browser posts it; the emulator's
	// session of the clerk is still in the cookie jar.
	form := url.Values{"login": {"production"}}
	for _, m := range regexp.MustCompile(`<input type="hidden" name="(relogin)" value="([^"]*)">`).FindAllStringSubmatch(a.get("/admin/salesforce/connect?relogin=1").body, -1) {
		form.Set(m[1], m[2])
	}
	p = authorizeWith(t, a, emu.url, emuAdmin, form)
	mustContain(t, p, "Acme Corp", emuAdmin, `id="start-setup"`)
	mustContain(t, a.get("/admin/integrations"), `data-state="connected"`)
}
