package web

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// TestLoginLimitCountsFailuresOnly: an admin who signs in and out many
// times a minute is never locked out; wrong passwords still are (see
// TestLoginRateLimit).
func TestLoginLimitCountsFailuresOnly(t *testing.T) {
	t.Parallel()
	e := setup(t, setupOpts{trustXFF: true})
	// A fresh browser each time (a signed-in one skips the form), all
	// from one address.
	browser := func() *client {
		c := e.client()
		c.xff = "203.0.113.7"
		return c
	}
	for i := range 8 {
		if p := browser().tryLogin("a@shop.test", testPassword); p.status != http.StatusSeeOther {
			t.Fatalf("successful sign-in %d within a minute: got %d, want 303", i+1, p.status)
		}
	}
	// Failures are still counted, per account and per address, and a
	// success in between does not wipe them.
	c := browser()
	for i := range 4 {
		if p := c.tryLogin("a@shop.test", "wrong password"); p.status != http.StatusUnauthorized {
			t.Fatalf("failure %d: got %d, want 401", i+1, p.status)
		}
	}
	if p := browser().tryLogin("a@shop.test", testPassword); p.status != http.StatusSeeOther {
		t.Fatalf("right password after 4 failures: got %d, want 303", p.status)
	}
	if p := c.tryLogin("a@shop.test", "wrong password"); p.status != http.StatusUnauthorized {
		t.Fatalf("5th failure: got %d, want 401", p.status)
	}
	if p := browser().tryLogin("a@shop.test", testPassword); p.status != http.StatusTooManyRequests {
		t.Errorf("after 5 failures: got %d, want 429", p.status)
	}
}

// TestFormTextRefused: a form value holding a NUL character or bytes that
// are not UTF-8 is refused with 422 naming the field, before any handler
// sees it.
func TestFormTextRefused(t *testing.T) {
	t.Parallel()
	e := setup(t, setupOpts{})
	c := e.client().login("a@shop.test")
	for _, tt := range []struct {
		path  string
		field string
		form  url.Values
	}{
		{"/admin/language", "lang", url.Values{"lang": {"en\x00"}}},
		{"/admin/salesforce/setup/identity", "salesforce_field", url.Values{"salesforce_field": {"Member_Number__c\xff"}}},
		{"/admin/salesforce/sync-now", "back", url.Values{"back": {"/admin\x00"}}},
	} {
		p := c.post(tt.path, tt.form)
		if p.status != http.StatusUnprocessableEntity {
			t.Errorf("POST %s %v: got %d, want 422", tt.path, tt.form, p.status)
			continue
		}
		mustContain(t, p, "<code>"+tt.field+"</code>")
	}
	// The sign-in form too.
	fresh := e.client()
	lp := fresh.get("/login")
	p := fresh.post("/login", url.Values{"email": {"a@shop.test\x00"}, "password": {testPassword}, "csrf": {csrfOf(lp.body)}})
	if p.status != http.StatusUnprocessableEntity {
		t.Errorf("login with a NUL in the e-mail: got %d, want 422", p.status)
	}
	mustContain(t, p, "<code>email</code>")
}

// TestSecureCookiesFollowTheBaseURL: served at an https base URL, every
// cookie is Secure even when the embedder did not say so.
func TestSecureCookiesFollowTheBaseURL(t *testing.T) {
	t.Parallel()
	e := setup(t, setupOpts{})
	for _, base := range []string{"https://sync.example.com", "HTTPS://Sync.Example.com"} {
		h := New(Options{Store: e.store, Conn: e.conn, Engine: e.eng, BaseURL: base})
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/login", nil))
		csrf := ""
		for _, c := range rec.Result().Cookies() {
			if c.Name == loginCSRFCookie {
				csrf = c.Value
			}
			if !c.Secure {
				t.Errorf("base %s: GET /login cookie %s is not Secure", base, c.Name)
			}
		}
		form := url.Values{"email": {"a@shop.test"}, "password": {testPassword}, "csrf": {csrf}}
		req := httptest.NewRequest(http.MethodPost, "/login", strings.NewReader(form.Encode())).WithContext(context.Background())
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.AddCookie(&http.Cookie{Name: loginCSRFCookie, Value: csrf})
		rec = httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		found := false
		for _, c := range rec.Result().Cookies() {
			if c.Name == sessionCookie {
				found = true
				if !c.Secure {
					t.Errorf("base %s: the session cookie is not Secure", base)
				}
			}
		}
		if !found {
			t.Errorf("base %s: sign-in set no session cookie (status %d)", base, rec.Code)
		}
	}
}
