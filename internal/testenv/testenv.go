// Package testenv assembles, for tests, the real pieces sfsync runs with:
// the Salesforce emulator on an httptest server, a migrated store (SQLite
// or PostgreSQL), a tenant, and the connection service; and it walks the
// emulator's real OAuth login page like a browser. Nothing here is faked.
package testenv

import (
	"context"
	"crypto/rand"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sfsync/sfsync/internal/salesforce"
	"github.com/sfsync/sfsync/internal/secret"
	"github.com/sfsync/sfsync/internal/sfconn"
	"github.com/sfsync/sfsync/internal/sfemu"
	"github.com/sfsync/sfsync/internal/store"
	"github.com/sfsync/sfsync/internal/store/storetest"
	"github.com/sfsync/sfsync/internal/tenant"
)

// Callback is the OAuth redirect URI registered for tests; it is never
// dialled, the redirect is intercepted.
const Callback = "http://127.0.0.1:9/oauth/salesforce/callback"

// Admin credentials of the emulated org.
const (
	AdminUser     = "admin@acme.test"
	AdminPassword = "admin-pass-1"
)

// Options shape an Env.
type Options struct {
	Dialect store.Dialect // SQLite when empty
	Edition sfemu.Edition // Enterprise when empty
	Plan    tenant.Plan   // the add-on when zero
	// Emulator options (clock, token lifetime, faults…).
	Emulator sfemu.Options
	// CustomFields are the org's Contact custom fields;
	// sfemu.DefaultCustomFields() when nil.
	CustomFields []sfemu.CustomField
	Logger       *slog.Logger
}

// Env is a running emulator, store, tenant and connection service.
type Env struct {
	Emu    *sfemu.Server
	URL    string
	Org    *sfemu.Org
	App    sfemu.ConnectedApp
	Store  *store.Store
	DSN    string // the store's database, to open more connections to it
	Conn   *sfconn.Service
	Tenant tenant.Tenant
}

// New builds an Env; everything is closed when the test ends.
func New(t testing.TB, o Options) *Env {
	t.Helper()
	if o.Dialect == "" {
		o.Dialect = store.SQLite
	}
	if o.Edition == "" {
		o.Edition = sfemu.Enterprise
	}
	if o.Plan == (tenant.Plan{}) {
		o.Plan = tenant.Plan{SalesforceAddon: true}
	}
	logger := o.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	emu := sfemu.New(o.Emulator)
	srv := httptest.NewServer(emu)
	t.Cleanup(srv.Close)
	emu.SetBaseURL(srv.URL)
	org, err := emu.CreateOrg(sfemu.OrgOptions{Name: "Acme", Edition: o.Edition, CustomFields: o.CustomFields, AdminUsername: AdminUser, AdminPassword: AdminPassword})
	if err != nil {
		t.Fatal(err)
	}
	app, err := emu.RegisterConnectedApp(sfemu.ConnectedAppOptions{Name: "sfsync", CallbackURLs: []string{Callback}})
	if err != nil {
		t.Fatal(err)
	}
	s, dsn := storetest.OpenDSN(t, o.Dialect)
	tn, err := s.CreateTenant(context.Background(), tenant.Tenant{Name: "Shop", Language: "en", Plan: o.Plan})
	if err != nil {
		t.Fatal(err)
	}
	key := make([]byte, 32)
	rand.Read(key)
	kr, _ := secret.NewKeyring(key)
	svc := &sfconn.Service{Store: s, Keyring: kr, ClientID: app.ClientID, ClientSecret: app.ClientSecret, RedirectURL: Callback,
		DefaultLoginURL: srv.URL, Logger: logger, HTTPClient: &http.Client{Timeout: 30 * time.Second},
		ClientOptions: salesforce.Options{BackoffBase: time.Millisecond, BackoffMax: 20 * time.Millisecond}}
	return &Env{Emu: emu, URL: srv.URL, Org: org, App: app, Store: s, DSN: dsn, Conn: svc, Tenant: tn}
}

// Connect runs the whole OAuth flow through the emulator's login page as
// the org's admin and stores the connection.
func (e *Env) Connect(t testing.TB) sfconn.Connection {
	t.Helper()
	ctx := context.Background()
	u, err := e.Conn.Start(ctx, e.Tenant.ID, "session:test", "")
	if err != nil {
		t.Fatal(err)
	}
	q := BrowserAuthorize(t, u, AdminUser, AdminPassword, "allow")
	c, err := e.Conn.Finish(ctx, e.Tenant.ID, "session:test", sfconn.CallbackParams{State: q.Get("state"), Code: q.Get("code"), Error: q.Get("error")})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// BrowserAuthorize walks the emulator's real login page like a browser:
// it opens the authorize URL, submits the login form (and choice, "allow"
// or "deny", on the consent page when shown), and returns the query of
// the redirect to Callback.
func BrowserAuthorize(t testing.TB, authURL, username, password, choice string) url.Values {
	t.Helper()
	return BrowserAuthorizeTo(t, authURL, Callback, username, password, choice)
}

// BrowserAuthorizeTo is BrowserAuthorize for an application whose
// redirect URI is callback (e.g. a `sfsync serve` process's
// /oauth/salesforce/callback): it stops at the redirect to callback.
func BrowserAuthorizeTo(t testing.TB, authURL, callback, username, password, choice string) url.Values {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	var final *url.URL
	c := &http.Client{Jar: jar, CheckRedirect: func(req *http.Request, via []*http.Request) error {
		if strings.HasPrefix(req.URL.String(), callback) {
			final = req.URL
			return http.ErrUseLastResponse
		}
		return nil
	}}
	resp, err := c.Get(authURL)
	if err != nil {
		t.Fatal(err)
	}
	hiddenRE := regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)"`)
	actionRE := regexp.MustCompile(`<form method="post" action="([^"]+)"`)
	for step := 0; step < 4 && final == nil; step++ {
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		page := string(body)
		form := url.Values{}
		for _, m := range hiddenRE.FindAllStringSubmatch(page, -1) {
			form.Set(m[1], htmlUnescape(m[2]))
		}
		action := actionRE.FindStringSubmatch(page)
		if action == nil {
			t.Fatalf("no form on the emulator's page (status %d):\n%s", resp.StatusCode, page)
		}
		if strings.Contains(page, `name="password"`) {
			form.Set("username", username)
			form.Set("password", password)
			form.Set("action", "login")
		} else {
			form.Set("action", choice)
		}
		target, _ := url.Parse(authURL)
		target, _ = target.Parse(htmlUnescape(action[1]))
		if resp, err = c.PostForm(target.String(), form); err != nil {
			t.Fatal(err)
		}
	}
	if final == nil {
		body, _ := io.ReadAll(resp.Body)
		t.Fatalf("never redirected to the callback; last page %d:\n%s", resp.StatusCode, body)
	}
	resp.Body.Close()
	return final.Query()
}

func htmlUnescape(s string) string {
	return strings.NewReplacer("&amp;", "&", "&#43;", "+", "&#34;", `"`, "&#39;", "'", "&lt;", "<", "&gt;", ">").Replace(s)
}
