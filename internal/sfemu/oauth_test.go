package sfemu

import (
	"crypto"
	"crypto/hmac"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"math/big"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sfsync/sfsync/internal/sfapi"
)

func pkcePair() (verifier, challenge string) {
	verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk-and-some-more-entropy"
	sum := sha256.Sum256([]byte(verifier))
	return verifier, base64.RawURLEncoding.EncodeToString(sum[:])
}

// browser is a cookie-jar client that does not follow redirects, so the
// test can read the callback URL.
func browser(t *testing.T) *http.Client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

var hiddenRE = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)

// submitForm posts the page's hidden fields plus extra to the authorize URL.
func submitForm(t *testing.T, c *http.Client, base, page string, extra url.Values) *http.Response {
	t.Helper()
	form := url.Values{}
	for _, m := range hiddenRE.FindAllStringSubmatch(page, -1) {
		form.Set(m[1], htmlUnescape(m[2]))
	}
	for k, v := range extra {
		form[k] = v
	}
	res, err := c.PostForm(base+"/services/oauth2/authorize", form)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func htmlUnescape(s string) string {
	return strings.NewReplacer("&amp;", "&", "&#43;", "+", "&#34;", `"`, "&#39;", "'", "&lt;", "<", "&gt;", ">").Replace(s)
}

func readAll(t *testing.T, res *http.Response) string {
	t.Helper()
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func authorizeURL(e *env, challenge, state string) string {
	q := url.Values{"response_type": {"code"}, "client_id": {e.app.ClientID}, "redirect_uri": {callback},
		"scope": {"api refresh_token"}, "state": {state}}
	if challenge != "" {
		q.Set("code_challenge", challenge)
	}
	return e.ts.URL + "/services/oauth2/authorize?" + q.Encode()
}

// loginAndAllow runs the browser part of the web-server flow and returns
// the callback URL.
func loginAndAllow(t *testing.T, e *env, c *http.Client, challenge, state, action string) *url.URL {
	t.Helper()
	res, err := c.Get(authorizeURL(e, challenge, state))
	if err != nil {
		t.Fatal(err)
	}
	page := readAll(t, res)
	if res.StatusCode != 200 || !strings.Contains(page, `<label for="username">Username</label>`) || !strings.Contains(page, `<label for="password">Password</label>`) {
		t.Fatalf("login page: got %d %s", res.StatusCode, page)
	}
	admin := e.org.Admin()
	res = submitForm(t, c, e.ts.URL, page, url.Values{"username": {admin.Username}, "password": {"wrong"}, "action": {"login"}})
	page = readAll(t, res)
	if !strings.Contains(page, "Please check your username and password") {
		t.Fatalf("wrong password: got %s", page)
	}
	res = submitForm(t, c, e.ts.URL, page, url.Values{"username": {admin.Username}, "password": {admin.Password}, "action": {"login"}})
	page = readAll(t, res)
	if res.StatusCode != 200 || !strings.Contains(page, "Allow Access?") {
		t.Fatalf("consent page: got %d %s", res.StatusCode, page)
	}
	res = submitForm(t, c, e.ts.URL, page, url.Values{"action": {action}})
	readAll(t, res)
	if res.StatusCode != http.StatusFound {
		t.Fatalf("after %s: got status %d, want 302", action, res.StatusCode)
	}
	u, err := url.Parse(res.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func tokenCall(t *testing.T, e *env, form url.Values, basic bool) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest("POST", e.ts.URL+"/services/oauth2/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if basic {
		req.SetBasicAuth(url.QueryEscape(e.app.ClientID), url.QueryEscape(e.app.ClientSecret))
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]any
	if err := json.Unmarshal([]byte(readAll(t, res)), &out); err != nil {
		t.Fatal(err)
	}
	return res.StatusCode, out
}

func TestOAuthWebServerFlow(t *testing.T) {
	t.Parallel()
	e := setup(t)
	verifier, challenge := pkcePair()
	c := browser(t)
	cb := loginAndAllow(t, e, c, challenge, "xyz", "allow")
	if got := cb.Scheme + "://" + cb.Host + cb.Path; got != callback {
		t.Fatalf("redirect: got %s, want %s", got, callback)
	}
	code := cb.Query().Get("code")
	if code == "" || cb.Query().Get("state") != "xyz" {
		t.Fatalf("callback query: got %s", cb.RawQuery)
	}
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {callback}, "code_verifier": {verifier}}
	status, tok := tokenCall(t, e, form, true)
	if status != 200 {
		t.Fatalf("token: got %d %v", status, tok)
	}
	keys := []string{"access_token", "refresh_token", "signature", "scope", "instance_url", "id", "token_type", "issued_at"}
	for _, k := range keys {
		if _, ok := tok[k]; !ok {
			t.Errorf("token response lacks %s: %v", k, tok)
		}
	}
	if _, ok := tok["expires_in"]; ok {
		t.Errorf("token response has expires_in: %v", tok)
	}
	issued, ok := tok["issued_at"].(string)
	if !ok || !regexp.MustCompile(`^\d{13}$`).MatchString(issued) {
		t.Errorf("issued_at: got %v, want a string of epoch ms", tok["issued_at"])
	}
	mac := hmac.New(sha256.New, []byte(e.app.ClientSecret))
	mac.Write([]byte(tok["id"].(string) + issued))
	if want := base64.StdEncoding.EncodeToString(mac.Sum(nil)); tok["signature"] != want {
		t.Errorf("signature: got %v, want %s", tok["signature"], want)
	}
	access := tok["access_token"].(string)
	if !strings.HasPrefix(access, e.org.ID()[:15]+"!") {
		t.Errorf("access token: got %s, want prefix %s!", access, e.org.ID()[:15])
	}
	if tok["instance_url"] != e.ts.URL || tok["id"] != e.ts.URL+"/id/"+e.org.ID()+"/"+e.org.Admin().ID || tok["token_type"] != "Bearer" || tok["scope"] != "api refresh_token" {
		t.Errorf("token fields: got %v", tok)
	}
	wantStatus(t, e.doToken(access, "GET", "limits", nil), 200)

	// Codes are single-use.
	status, body := tokenCall(t, e, form, true)
	if status != 400 || body["error"] != "invalid_grant" {
		t.Errorf("second exchange: got %d %v, want 400 invalid_grant", status, body)
	}

	// A second authorization skips the consent page: approval is remembered.
	res, err := c.Get(authorizeURL(e, challenge, "again"))
	if err != nil {
		t.Fatal(err)
	}
	readAll(t, res)
	if res.StatusCode != http.StatusFound || !strings.Contains(res.Header.Get("Location"), "code=") {
		t.Errorf("second authorize: got %d %s, want 302 with a code", res.StatusCode, res.Header.Get("Location"))
	}

	// Userinfo and the identity URL.
	req, _ := http.NewRequest("GET", tok["id"].(string)+"?version=62.0", nil)
	req.Header.Set("Authorization", "Bearer "+access)
	idRes, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var ident map[string]any
	_ = json.Unmarshal([]byte(readAll(t, idRes)), &ident)
	if ident["user_id"] != e.org.Admin().ID || ident["urls"].(map[string]any)["rest"] != e.ts.URL+"/services/data/v62.0/" {
		t.Errorf("identity: got %v", ident)
	}
	req, _ = http.NewRequest("GET", e.ts.URL+"/services/oauth2/userinfo", nil)
	req.Header.Set("Authorization", "Bearer "+access)
	uiRes, _ := http.DefaultClient.Do(req)
	ui := readAll(t, uiRes)
	if uiRes.StatusCode != 200 || !strings.Contains(ui, `"organization_id":"`+e.org.ID()+`"`) {
		t.Errorf("userinfo: got %d %s", uiRes.StatusCode, ui)
	}
}

func TestOAuthDenyAndErrors(t *testing.T) {
	t.Parallel()
	e := setup(t)
	cb := loginAndAllow(t, e, browser(t), "", "s1", "deny")
	if cb.Query().Get("error") != "access_denied" || cb.Query().Get("error_description") != "end-user denied authorization" || cb.Query().Get("state") != "s1" {
		t.Errorf("deny redirect: got %s", cb.RawQuery)
	}
	// Unknown client and redirect mismatch show an error page, not a redirect.
	res, _ := http.Get(e.ts.URL + "/services/oauth2/authorize?response_type=code&client_id=nope&redirect_uri=" + url.QueryEscape(callback))
	if page := readAll(t, res); res.StatusCode != 400 || !strings.Contains(page, "invalid_client_id") {
		t.Errorf("unknown client: got %d %s", res.StatusCode, page)
	}
	res, _ = http.Get(e.ts.URL + "/services/oauth2/authorize?response_type=code&client_id=" + url.QueryEscape(e.app.ClientID) + "&redirect_uri=" + url.QueryEscape("https://evil.example.com/cb"))
	if page := readAll(t, res); res.StatusCode != 400 || !strings.Contains(page, "redirect_uri_mismatch") {
		t.Errorf("redirect mismatch: got %d %s", res.StatusCode, page)
	}

	verifier, challenge := pkcePair()
	mkCode := func() string {
		u, err := e.srv.Authorize(AuthorizeRequest{ClientID: e.app.ClientID, RedirectURI: callback, Username: e.org.Admin().Username, Scope: "api refresh_token", CodeChallenge: challenge})
		if err != nil {
			t.Fatal(err)
		}
		p, _ := url.Parse(u)
		return p.Query().Get("code")
	}
	base := func(code string) url.Values {
		return url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {callback}, "client_id": {e.app.ClientID}, "client_secret": {e.app.ClientSecret}, "code_verifier": {verifier}}
	}
	tests := []struct {
		name   string
		form   url.Values
		status int
		err    string
		desc   string
	}{
		{"pkce mismatch", func() url.Values {
			f := base(mkCode())
			f.Set("code_verifier", "wrong-verifier-wrong-verifier-wrong-verifier-12")
			return f
		}(), 400, "invalid_grant", "invalid code verifier"},
		{"pkce missing", func() url.Values { f := base(mkCode()); f.Del("code_verifier"); return f }(), 400, "invalid_grant", "invalid code verifier"},
		{"bad code", base("aPrxnope=="), 400, "invalid_grant", "invalid authorization code"},
		{"bad client id", func() url.Values { f := base(mkCode()); f.Set("client_id", "nope"); return f }(), 400, "invalid_client_id", "client identifier invalid"},
		{"bad secret", func() url.Values { f := base(mkCode()); f.Set("client_secret", "nope"); return f }(), 400, "invalid_client", "invalid client credentials"},
		{"redirect mismatch", func() url.Values { f := base(mkCode()); f.Set("redirect_uri", "https://other/cb"); return f }(), 400, "redirect_uri_mismatch", "redirect_uri must match configuration"},
		{"grant type", url.Values{"grant_type": {"magic"}}, 400, "unsupported_grant_type", "grant type not supported"},
		{"password wrong", url.Values{"grant_type": {"password"}, "client_id": {e.app.ClientID}, "client_secret": {e.app.ClientSecret}, "username": {e.org.Admin().Username}, "password": {"x"}}, 400, "invalid_grant", "authentication failure"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := tokenCall(t, e, tt.form, false)
			if status != tt.status || body["error"] != tt.err || body["error_description"] != tt.desc {
				t.Errorf("got %d %v, want %d %s %q", status, body, tt.status, tt.err, tt.desc)
			}
		})
	}
	// An expired code.
	code := mkCode()
	e.srv.Advance(16 * time.Minute)
	status, body := tokenCall(t, e, base(code), false)
	if status != 400 || body["error_description"] != "expired authorization code" {
		t.Errorf("expired code: got %d %v", status, body)
	}
}

func TestOAuthRefreshRevokeExpiry(t *testing.T) {
	t.Parallel()
	e := setup(t, func(o *Options, _ *OrgOptions) { o.TokenLifetime = time.Hour })
	// Password and client-credentials grants for tests.
	status, tok := tokenCall(t, e, url.Values{"grant_type": {"password"}, "username": {e.org.Admin().Username}, "password": {e.org.Admin().Password}}, true)
	if status != 200 || tok["refresh_token"] != nil {
		t.Fatalf("password grant: got %d %v", status, tok)
	}
	status, tok = tokenCall(t, e, url.Values{"grant_type": {"client_credentials"}}, true)
	if status != 200 || tok["access_token"] == nil {
		t.Fatalf("client_credentials grant: got %d %v", status, tok)
	}

	access, refresh := e.token.AccessToken, e.token.RefreshToken
	wantStatus(t, e.doToken(access, "GET", "limits", nil), 200)
	e.srv.Advance(61 * time.Minute)
	got := wantErrorCode(t, e.doToken(access, "GET", "limits", nil), 401, "INVALID_SESSION_ID")
	if got["message"] != "Session expired or invalid" {
		t.Errorf("message: got %q", got["message"])
	}
	status, tok = tokenCall(t, e, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}}, true)
	if status != 200 || tok["refresh_token"] != nil {
		t.Fatalf("refresh: got %d %v, want 200 without refresh_token", status, tok)
	}
	fresh := tok["access_token"].(string)
	wantStatus(t, e.doToken(fresh, "GET", "limits", nil), 200)

	// Revoking the refresh token revokes its access tokens.
	res, err := http.PostForm(e.ts.URL+"/services/oauth2/revoke", url.Values{"token": {refresh}})
	if err != nil {
		t.Fatal(err)
	}
	readAll(t, res)
	if res.StatusCode != 200 {
		t.Fatalf("revoke: got %d, want 200", res.StatusCode)
	}
	wantErrorCode(t, e.doToken(fresh, "GET", "limits", nil), 401, "INVALID_SESSION_ID")
	status, tok = tokenCall(t, e, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}}, true)
	if status != 400 || tok["error"] != "invalid_grant" || tok["error_description"] != "expired access/refresh token" {
		t.Errorf("refresh after revoke: got %d %v", status, tok)
	}
	res, _ = http.PostForm(e.ts.URL+"/services/oauth2/revoke", url.Values{"token": {refresh}})
	if body := readAll(t, res); res.StatusCode != 400 || !strings.Contains(body, "invalid_token") {
		t.Errorf("second revoke: got %d %s", res.StatusCode, body)
	}
	// Unknown tokens and no token at all.
	wantErrorCode(t, e.doToken("00Dnope!abc", "GET", "limits", nil), 401, "INVALID_SESSION_ID")
	wantErrorCode(t, e.doToken("", "GET", "limits", nil), 401, "INVALID_SESSION_ID")
}

func TestOAuthRotation(t *testing.T) {
	t.Parallel()
	e := setup(t, func(o *Options, _ *OrgOptions) { o.RotateRefreshTokens = true })
	status, tok := tokenCall(t, e, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {e.token.RefreshToken}}, true)
	if status != 200 || tok["refresh_token"] == nil || tok["refresh_token"] == e.token.RefreshToken {
		t.Fatalf("rotating refresh: got %d %v, want a new refresh_token", status, tok)
	}
	status, tok = tokenCall(t, e, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {e.token.RefreshToken}}, true)
	if status != 400 || tok["error"] != "invalid_grant" {
		t.Errorf("old refresh token after rotation: got %d %v, want invalid_grant", status, tok)
	}
}

func TestOpenIDConfiguration(t *testing.T) {
	t.Parallel()
	e := setup(t)
	res, err := http.Get(e.ts.URL + "/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	var cfg map[string]any
	_ = json.Unmarshal([]byte(readAll(t, res)), &cfg)
	if cfg["token_endpoint"] != e.ts.URL+"/services/oauth2/token" || cfg["issuer"] != e.ts.URL {
		t.Errorf("openid configuration: got %v", cfg)
	}
	_ = sfapi.Version
}

func TestIDToken(t *testing.T) {
	t.Parallel()
	e := setup(t)
	u, err := e.srv.Authorize(AuthorizeRequest{ClientID: e.app.ClientID, RedirectURI: callback, Username: e.org.Admin().Username, Scope: "api openid"})
	if err != nil {
		t.Fatal(err)
	}
	p, _ := url.Parse(u)
	status, tok := tokenCall(t, e, url.Values{"grant_type": {"authorization_code"}, "code": {p.Query().Get("code")}, "redirect_uri": {callback}}, true)
	if status != 200 {
		t.Fatalf("token: got %d %v", status, tok)
	}
	idt, _ := tok["id_token"].(string)
	parts := strings.Split(idt, ".")
	if len(parts) != 3 {
		t.Fatalf("id_token: got %q", idt)
	}
	res, err := http.Get(e.ts.URL + "/id/keys")
	if err != nil {
		t.Fatal(err)
	}
	var jwks struct {
		Keys []struct{ N, E string } `json:"keys"`
	}
	if err := json.Unmarshal([]byte(readAll(t, res)), &jwks); err != nil || len(jwks.Keys) != 1 {
		t.Fatalf("jwks: %v %+v", err, jwks)
	}
	n, _ := base64.RawURLEncoding.DecodeString(jwks.Keys[0].N)
	eb, _ := base64.RawURLEncoding.DecodeString(jwks.Keys[0].E)
	pub := &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(eb).Int64())}
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	sig, _ := base64.RawURLEncoding.DecodeString(parts[2])
	if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, digest[:], sig); err != nil {
		t.Errorf("id_token signature: %v", err)
	}
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	var claims map[string]any
	_ = json.Unmarshal(payload, &claims)
	if claims["aud"] != e.app.ClientID || claims["iss"] != e.ts.URL || claims["user_id"] != e.org.Admin().ID {
		t.Errorf("claims: got %v", claims)
	}
}

// TestLogin_wholePassword pins that both the login form and the password
// grant compare the whole password: the right password with anything
// appended, a prefix of it or a different case is refused (issue 12).
func TestLogin_wholePassword(t *testing.T) {
	t.Parallel()
	e := setup(t)
	admin := e.org.Admin()
	tests := []struct {
		name     string
		password string
		ok       bool
	}{
		{"exact", admin.Password, true},
		{"appended", admin.Password + "x", false},
		{"appended security-token-like", admin.Password + "AbCdEfGhIjKlMnOpQrStUvWx", false},
		{"prefix", admin.Password[:len(admin.Password)-1], false},
		{"upper case", strings.ToUpper(admin.Password), false},
		{"empty", "", false},
	}
	for _, tt := range tests {
		t.Run("form "+tt.name, func(t *testing.T) {
			t.Parallel()
			c := browser(t)
			res, err := c.Get(authorizeURL(e, "", "s"))
			if err != nil {
				t.Fatal(err)
			}
			page := readAll(t, res)
			res = submitForm(t, c, e.ts.URL, page, url.Values{"username": {admin.Username}, "password": {tt.password}, "action": {"login"}})
			page = readAll(t, res)
			if got := strings.Contains(page, "Allow Access?"); got != tt.ok {
				t.Errorf("password %q: got logged in %v, want %v (status %d)", tt.password, got, tt.ok, res.StatusCode)
			}
			if !tt.ok && !strings.Contains(page, "Please check your username and password") {
				t.Errorf("password %q: got no login error on the page: %s", tt.password, page)
			}
		})
		t.Run("grant "+tt.name, func(t *testing.T) {
			t.Parallel()
			status, body := tokenCall(t, e, url.Values{"grant_type": {"password"}, "username": {admin.Username}, "password": {tt.password}}, true)
			if got := status == 200; got != tt.ok {
				t.Errorf("password %q: got status %d (error %v), want success %v", tt.password, status, body["error"], tt.ok)
			}
		})
	}
}

// TestOAuthAuthorizeParameters covers the authorize page's parameters
// besides the happy path: errors sent back to the callback, login_hint,
// immediate, and prompt=login / prompt=consent with a live session.
func TestOAuthAuthorizeParameters(t *testing.T) {
	t.Parallel()
	e := setup(t)
	narrow, err := e.srv.RegisterConnectedApp(ConnectedAppOptions{Name: "narrow", CallbackURLs: []string{callback}, Scopes: []string{"api", "refresh_token"}})
	if err != nil {
		t.Fatal(err)
	}
	authorize := func(c *http.Client, extra url.Values) *http.Response {
		t.Helper()
		q := url.Values{"response_type": {"code"}, "client_id": {e.app.ClientID}, "redirect_uri": {callback}, "state": {"st"}}
		for k, v := range extra {
			q[k] = v
		}
		res, err := c.Get(e.ts.URL + "/services/oauth2/authorize?" + q.Encode())
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	redirects := []struct {
		name      string
		extra     url.Values
		wantError string
	}{
		{"user-agent flow", url.Values{"response_type": {"token"}}, "unsupported_response_type"},
		{"scope the app lacks", url.Values{"client_id": {narrow.ClientID}, "scope": {"api web"}}, "invalid_scope"},
		{"bad challenge method", url.Values{"code_challenge": {"x"}, "code_challenge_method": {"S512"}}, "invalid_request"},
		{"immediate without a session", url.Values{"immediate": {"true"}}, "immediate_unsuccessful"},
	}
	for _, tt := range redirects {
		res := authorize(browser(t), tt.extra)
		readAll(t, res)
		loc, _ := url.Parse(res.Header.Get("Location"))
		if res.StatusCode != http.StatusFound || loc.Query().Get("error") != tt.wantError || loc.Query().Get("state") != "st" {
			t.Errorf("%s: got %d %s, want a redirect with error=%s and the state", tt.name, res.StatusCode, res.Header.Get("Location"), tt.wantError)
		}
	}

	admin := e.org.Admin()
	c := browser(t)
	page := readAll(t, authorize(c, url.Values{"login_hint": {admin.Username}}))
	if !strings.Contains(page, `name="username" value="`+admin.Username+`"`) {
		t.Errorf("login_hint: got no prefilled username in %s", page)
	}
	res := submitForm(t, c, e.ts.URL, page, url.Values{"username": {admin.Username}, "password": {admin.Password}, "action": {"login"}})
	page = readAll(t, res)
	res = submitForm(t, c, e.ts.URL, page, url.Values{"action": {"allow"}})
	readAll(t, res)
	if res.StatusCode != http.StatusFound {
		t.Fatalf("allow: got %d, want 302", res.StatusCode)
	}
	// Session and approval are live: the next authorize goes straight back.
	res = authorize(c, url.Values{"immediate": {"true"}})
	readAll(t, res)
	if loc, _ := url.Parse(res.Header.Get("Location")); res.StatusCode != http.StatusFound || loc.Query().Get("code") == "" {
		t.Errorf("immediate with a session and approval: got %d %s, want a code", res.StatusCode, res.Header.Get("Location"))
	}
	if page := readAll(t, authorize(c, url.Values{"prompt": {"login"}})); !strings.Contains(page, `id="login_form"`) {
		t.Errorf("prompt=login: got %s, want the login form again", page)
	}
	if page := readAll(t, authorize(c, url.Values{"prompt": {"consent"}})); !strings.Contains(page, "Allow Access?") {
		t.Errorf("prompt=consent: got %s, want the consent page again", page)
	}
}
