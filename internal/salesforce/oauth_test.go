package salesforce

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/sfsync/sfsync/internal/sfapi"
)

// fakeLogin is a minimal Salesforce login host + instance: token endpoint
// with PKCE, refresh (optionally rotating), revoke, and a REST resource
// that accepts only the current access token.
type fakeLogin struct {
	t       *testing.T
	srv     *httptest.Server
	rotate  bool
	mu      sync.Mutex
	codes   map[string]string // code → S256 challenge
	access  map[string]bool   // live access tokens
	refresh map[string]bool   // live refresh tokens
	seq     int
	callOpt []string
}

func newFakeLogin(t *testing.T) *fakeLogin {
	f := &fakeLogin{t: t, codes: map[string]string{}, access: map[string]bool{}, refresh: map[string]bool{}}
	f.srv = httptest.NewServer(f)
	t.Cleanup(f.srv.Close)
	return f
}

func oauthErr(w http.ResponseWriter, code, desc string) {
	writeJSON(w, 400, map[string]string{"error": code, "error_description": desc})
}

func (f *fakeLogin) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.callOpt = append(f.callOpt, r.Header.Get("Sforce-Call-Options"))
	switch r.URL.Path {
	case "/services/oauth2/token":
		if err := r.ParseForm(); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		if r.PostForm.Get("client_id") != "cid" || r.PostForm.Get("client_secret") != "csecret" {
			writeJSON(w, 400, map[string]string{"error": "invalid_client", "error_description": "invalid client credentials"})
			return
		}
		issue := func(withRefresh bool) map[string]any {
			f.seq++
			at := fmt.Sprintf("00Dxx0000001gEF!AT-SECRET-%d", f.seq)
			f.access[at] = true
			body := map[string]any{"access_token": at, "signature": "sig", "scope": "refresh_token api",
				"instance_url": f.srv.URL, "id": f.srv.URL + "/id/00Dxx0000001gEFEAY/005xx000001SwiUAAS",
				"token_type": "Bearer", "issued_at": "1667600739962"}
			if withRefresh {
				rt := fmt.Sprintf("5Aep-RT-SECRET-%d", f.seq)
				f.refresh[rt] = true
				body["refresh_token"] = rt
			}
			return body
		}
		switch r.PostForm.Get("grant_type") {
		case "authorization_code":
			ch, ok := f.codes[r.PostForm.Get("code")]
			delete(f.codes, r.PostForm.Get("code"))
			if !ok {
				oauthErr(w, "invalid_grant", "invalid authorization code")
				return
			}
			sum := sha256.Sum256([]byte(r.PostForm.Get("code_verifier")))
			if base64.RawURLEncoding.EncodeToString(sum[:]) != ch {
				oauthErr(w, "invalid_grant", "invalid code verifier")
				return
			}
			if r.PostForm.Get("redirect_uri") != "https://app.example.com/callback" {
				oauthErr(w, "redirect_uri_mismatch", "redirect_uri must match configuration")
				return
			}
			writeJSON(w, 200, issue(true))
		case "refresh_token":
			rt := r.PostForm.Get("refresh_token")
			if !f.refresh[rt] {
				oauthErr(w, "invalid_grant", "expired access/refresh token")
				return
			}
			if f.rotate {
				delete(f.refresh, rt)
			}
			writeJSON(w, 200, issue(f.rotate))
		default:
			oauthErr(w, "unsupported_grant_type", "grant type not supported")
		}
	case "/services/oauth2/revoke":
		if err := r.ParseForm(); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		tok := r.PostForm.Get("token")
		if !f.refresh[tok] && !f.access[tok] {
			oauthErr(w, "invalid_token", "Token was invalid")
			return
		}
		delete(f.refresh, tok)
		delete(f.access, tok)
		w.WriteHeader(200)
	case sfapi.VersionPath + "/limits":
		tok := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !f.access[tok] {
			sfError(w, 401, "INVALID_SESSION_ID", "Session expired or invalid")
			return
		}
		w.Header().Set("Sforce-Limit-Info", "api-usage=3/15000")
		writeJSON(w, 200, map[string]any{"DailyApiRequests": map[string]int{"Max": 15000, "Remaining": 14997}})
	default:
		http.NotFound(w, r)
	}
}

// authorize simulates the user approving: it records the challenge from
// the authorize URL and returns a code.
func (f *fakeLogin) authorize(t *testing.T, authURL string) string {
	t.Helper()
	u, err := url.Parse(authURL)
	if err != nil {
		t.Fatal(err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.seq++
	code := fmt.Sprintf("aPrx-code-%d==", f.seq)
	f.codes[code] = u.Query().Get("code_challenge")
	return code
}

func (f *fakeLogin) oauth(t *testing.T, logger *slog.Logger) *OAuth {
	t.Helper()
	o, err := NewOAuth(OAuthConfig{LoginURL: f.srv.URL, ClientID: "cid", ClientSecret: "csecret",
		RedirectURL: "https://app.example.com/callback", HTTPClient: f.srv.Client(), Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func TestAuthCodeURL(t *testing.T) {
	t.Parallel()
	for _, login := range []string{LoginProduction, LoginSandbox, "https://acme.my.salesforce.com", "https://acme--uat.sandbox.my.salesforce.com/"} {
		o, err := NewOAuth(OAuthConfig{LoginURL: login, ClientID: "cid", RedirectURL: "https://app.example.com/callback"})
		if err != nil {
			t.Fatalf("NewOAuth(%s): %v", login, err)
		}
		verifier := NewVerifier()
		u, err := url.Parse(o.AuthCodeURL("st-123", verifier))
		if err != nil {
			t.Fatal(err)
		}
		if got, want := u.Scheme+"://"+u.Host+u.Path, strings.TrimRight(login, "/")+"/services/oauth2/authorize"; got != want {
			t.Errorf("endpoint: got %s, want %s", got, want)
		}
		q := u.Query()
		sum := sha256.Sum256([]byte(verifier))
		want := map[string]string{"response_type": "code", "client_id": "cid", "redirect_uri": "https://app.example.com/callback",
			"scope": "api refresh_token", "state": "st-123", "code_challenge_method": "S256",
			"code_challenge": base64.RawURLEncoding.EncodeToString(sum[:])}
		for k, v := range want {
			if q.Get(k) != v {
				t.Errorf("%s: %s: got %q, want %q", login, k, q.Get(k), v)
			}
		}
	}
	for _, bad := range []string{"http://login.salesforce.com", "login.salesforce.com", "https://login.salesforce.com/services"} {
		if _, err := NewOAuth(OAuthConfig{LoginURL: bad, ClientID: "cid", RedirectURL: "https://x/cb"}); err == nil {
			t.Errorf("NewOAuth(%s): got nil error, want one", bad)
		}
	}
}

func TestExchangeAndPKCE(t *testing.T) {
	t.Parallel()
	f := newFakeLogin(t)
	o := f.oauth(t, nil)
	ctx := t.Context()
	verifier := NewVerifier()
	code := f.authorize(t, o.AuthCodeURL("s", verifier))
	if _, err := o.Exchange(ctx, code, NewVerifier()); err == nil {
		t.Fatalf("Exchange with the wrong verifier: got nil error, want invalid_grant")
	} else {
		var ae *APIError
		if !errors.As(err, &ae) || ae.ErrorCode != "invalid_grant" || ae.Message != "invalid code verifier" || ae.StatusCode != 400 {
			t.Errorf("wrong verifier: got %v, want 400 invalid_grant invalid code verifier", err)
		}
	}
	code = f.authorize(t, o.AuthCodeURL("s", verifier))
	tok, err := o.Exchange(ctx, code, verifier)
	if err != nil {
		t.Fatalf("Exchange: %v", err)
	}
	if !strings.HasPrefix(tok.AccessToken, "00Dxx0000001gEF!AT-SECRET-") || !strings.HasPrefix(tok.RefreshToken, "5Aep-RT-SECRET-") {
		t.Errorf("tokens: got %q / %q", tok.AccessToken, tok.RefreshToken)
	}
	if tok.InstanceURL != f.srv.URL || tok.Scope != "refresh_token api" || tok.IssuedAt.UnixMilli() != 1667600739962 {
		t.Errorf("token: got instance %q scope %q issued %v", tok.InstanceURL, tok.Scope, tok.IssuedAt)
	}
	if tok.OrgID() != "00Dxx0000001gEFEAY" || tok.UserID() != "005xx000001SwiUAAS" {
		t.Errorf("ids: got org %q user %q, want 00Dxx0000001gEFEAY 005xx000001SwiUAAS", tok.OrgID(), tok.UserID())
	}
	for _, s := range []string{tok.String(), fmt.Sprintf("%v %+v %#v", tok, tok, tok), fmt.Sprint(&tok)} {
		if strings.Contains(s, "SECRET") {
			t.Errorf("formatted token leaks a secret: %s", s)
		}
	}
	for _, cb := range f.callOpt {
		if cb != "client=sfsync" {
			t.Errorf("token request Sforce-Call-Options: got %q, want client=sfsync", cb)
		}
	}
}

func TestRefreshingTokenSourceOn401(t *testing.T) {
	t.Parallel()
	for _, rotate := range []bool{false, true} {
		t.Run(fmt.Sprintf("rotate=%v", rotate), func(t *testing.T) {
			t.Parallel()
			f := newFakeLogin(t)
			f.rotate = rotate
			o := f.oauth(t, nil)
			ctx := t.Context()
			v := NewVerifier()
			tok, err := o.Exchange(ctx, f.authorize(t, o.AuthCodeURL("s", v)), v)
			if err != nil {
				t.Fatal(err)
			}
			var persisted []Token
			var ts *RefreshingTokenSource
			ts = o.TokenSource(tok, func(_ context.Context, nt Token) {
				if cur := ts.Token(); cur.AccessToken != nt.AccessToken { // the hook may read the source
					t.Errorf("Token() inside the hook: got a different access token than the hook's")
				}
				persisted = append(persisted, nt)
			})
			c, err := New(Options{InstanceURL: tok.InstanceURL, Tokens: ts, HTTPClient: f.srv.Client(), Logger: slog.New(slog.DiscardHandler)})
			if err != nil {
				t.Fatal(err)
			}
			f.mu.Lock()
			delete(f.access, tok.AccessToken) // the session times out
			f.mu.Unlock()
			if _, err := c.Limits(ctx); err != nil {
				t.Fatalf("Limits after expiry: got %v, want silent refresh", err)
			}
			if len(persisted) != 1 || persisted[0].AccessToken == tok.AccessToken || persisted[0].InstanceURL != tok.InstanceURL {
				t.Fatalf("OnTokenRefreshed: got %v, want one new token", persisted)
			}
			if rotated := persisted[0].RefreshToken != tok.RefreshToken; rotated != rotate {
				t.Errorf("refresh token rotated: got %v, want %v", rotated, rotate)
			}
			if ts.Token().AccessToken != persisted[0].AccessToken {
				t.Errorf("source token: not the refreshed one")
			}
			// A rotated refresh token must be the one used next time.
			f.mu.Lock()
			f.access = map[string]bool{}
			f.mu.Unlock()
			if _, err := c.Limits(ctx); err != nil {
				t.Fatalf("second refresh: %v", err)
			}
			if len(persisted) != 2 {
				t.Errorf("refreshes: got %d, want 2", len(persisted))
			}
		})
	}
}

func TestRevokedRefreshTokenIsTyped(t *testing.T) {
	t.Parallel()
	f := newFakeLogin(t)
	o := f.oauth(t, nil)
	ctx := t.Context()
	v := NewVerifier()
	tok, err := o.Exchange(ctx, f.authorize(t, o.AuthCodeURL("s", v)), v)
	if err != nil {
		t.Fatal(err)
	}
	if err := o.Revoke(ctx, tok.RefreshToken); err != nil {
		t.Fatalf("Revoke: %v", err)
	}
	err = o.Revoke(ctx, tok.RefreshToken)
	var ae *APIError
	if !errors.As(err, &ae) || ae.ErrorCode != "invalid_token" {
		t.Errorf("second Revoke: got %v, want invalid_token", err)
	}
	_, err = o.Refresh(ctx, tok.RefreshToken)
	if !errors.Is(err, ErrRefreshRevoked) || !errors.As(err, &ae) || ae.ErrorCode != "invalid_grant" {
		t.Fatalf("Refresh: got %v, want ErrRefreshRevoked wrapping invalid_grant", err)
	}
	ts := o.TokenSource(Token{RefreshToken: tok.RefreshToken, InstanceURL: tok.InstanceURL}, nil)
	c, _ := New(Options{InstanceURL: tok.InstanceURL, Tokens: ts, HTTPClient: f.srv.Client(), Logger: slog.New(slog.DiscardHandler)})
	if _, err := c.Limits(ctx); !errors.Is(err, ErrRefreshRevoked) {
		t.Errorf("Limits with a revoked refresh token: got %v, want ErrRefreshRevoked", err)
	}
}

// TestNoTokensInLogs runs the whole flow with debug logging and checks that
// no token (or any part of one) reaches the log.
func TestNoTokensInLogs(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	var mu sync.Mutex
	logger := slog.New(slog.NewTextHandler(&lockedWriter{w: &buf, mu: &mu}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	f := newFakeLogin(t)
	f.rotate = true
	o := f.oauth(t, logger)
	ctx := t.Context()
	v := NewVerifier()
	tok, err := o.Exchange(ctx, f.authorize(t, o.AuthCodeURL("s", v)), v)
	if err != nil {
		t.Fatal(err)
	}
	logger.Info("connected", "token", tok) // a careless caller
	ts := o.TokenSource(tok, func(ctx context.Context, nt Token) { logger.InfoContext(ctx, "persist", "tok", nt) })
	c, _ := New(Options{InstanceURL: tok.InstanceURL, Tokens: ts, HTTPClient: f.srv.Client(), Logger: logger})
	f.mu.Lock()
	f.access = map[string]bool{}
	f.mu.Unlock()
	if _, err := c.Limits(ctx); err != nil {
		t.Fatal(err)
	}
	if err := o.Revoke(ctx, ts.Token().RefreshToken); err != nil {
		t.Fatal(err)
	}
	if _, err := o.Refresh(ctx, ts.Token().RefreshToken); err == nil {
		t.Fatal("refresh after revoke: got nil error")
	} else {
		logger.Error("refresh failed", "error", err)
	}
	mu.Lock()
	out := buf.String()
	mu.Unlock()
	if !strings.Contains(out, "salesforce access token refreshed") || !strings.Contains(out, "salesforce request") {
		t.Fatalf("log lacks the expected lines (is debug logging on?):\n%s", out)
	}
	for _, secret := range []string{"SECRET", "AT-", "RT-", "5Aep", "00Dxx0000001gEF!"} {
		if strings.Contains(out, secret) {
			t.Errorf("log contains %q:\n%s", secret, out)
		}
	}
}

type lockedWriter struct {
	w  *bytes.Buffer
	mu *sync.Mutex
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func TestConcurrent401sShareOneRefresh(t *testing.T) {
	t.Parallel()
	f := newFakeLogin(t)
	o := f.oauth(t, nil)
	ctx := t.Context()
	v := NewVerifier()
	tok, err := o.Exchange(ctx, f.authorize(t, o.AuthCodeURL("s", v)), v)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	refreshes := 0
	ts := o.TokenSource(tok, func(context.Context, Token) { mu.Lock(); refreshes++; mu.Unlock() })
	c, _ := New(Options{InstanceURL: tok.InstanceURL, Tokens: ts, HTTPClient: f.srv.Client(), Logger: slog.New(slog.DiscardHandler)})
	f.mu.Lock()
	delete(f.access, tok.AccessToken)
	f.mu.Unlock()
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for range 20 {
		wg.Go(func() {
			if _, err := c.Limits(ctx); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("Limits: %v", err)
	}
	if refreshes != 1 {
		t.Errorf("refreshes: got %d, want 1 shared by all callers", refreshes)
	}
}
