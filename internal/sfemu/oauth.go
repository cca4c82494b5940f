package sfemu

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// authCodeTTL is how long an authorization code can be exchanged.
const authCodeTTL = 15 * time.Minute

// authCode is an issued, not yet exchanged authorization code.
type authCode struct {
	code      string
	app       *ConnectedApp
	org       *Org
	userID    string
	redirect  string
	challenge string
	method    string
	scope     string
	nonce     string
	expires   time.Time
	used      bool
}

// loginSession is the browser session set by the login form.
type loginSession struct {
	org     *Org
	userID  string
	expires time.Time
}

const sessionCookie = "sid"

type oauthError struct {
	Error       string `json:"error"`
	Description string `json:"error_description"`
}

func writeOAuthError(w http.ResponseWriter, status int, code, desc string) {
	w.Header().Set("Cache-Control", "no-cache,must-revalidate,max-age=0,no-store,private")
	writeJSON(w, status, oauthError{Error: code, Description: desc})
}

var loginPage = template.Must(template.New("login").Parse(`<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>{{.Title}} | Salesforce</title>
<style>body{font-family:sans-serif;background:#f3f2f2}main{max-width:22rem;margin:4rem auto;background:#fff;padding:1.5rem;border-radius:.25rem;border:1px solid #ddd}label{display:block;margin-top:.75rem}input[type=text],input[type=password]{width:100%;padding:.5rem;box-sizing:border-box}button{margin-top:1rem;padding:.5rem 1rem}.error{color:#c23934}</style>
</head>
<body><main>
{{if .Consent}}
<h1>Allow Access?</h1>
<p><strong>{{.AppName}}</strong> is asking to access your Salesforce data as <strong>{{.Username}}</strong>: {{.Scope}}.</p>
<form method="post" action="/services/oauth2/authorize">
{{range .Hidden}}<input type="hidden" name="{{.Name}}" value="{{.Value}}">
{{end}}<button type="submit" name="action" value="allow" id="oaapprove">Allow</button>
<button type="submit" name="action" value="deny" id="oadeny">Deny</button>
</form>
{{else}}
<h1>Log in to Salesforce</h1>
{{if .Error}}<p class="error" role="alert" id="error">{{.Error}}</p>{{end}}
<form method="post" action="/services/oauth2/authorize" id="login_form">
{{range .Hidden}}<input type="hidden" name="{{.Name}}" value="{{.Value}}">
{{end}}<label for="username">Username</label>
<input type="text" id="username" name="username" value="{{.Username}}" autocomplete="username" required>
<label for="password">Password</label>
<input type="password" id="password" name="password" autocomplete="current-password" required>
<button type="submit" name="action" value="login" id="Login">Log In</button>
</form>
{{end}}
</main></body></html>
`))

type hiddenField struct{ Name, Value string }

var authorizeParams = []string{"response_type", "client_id", "redirect_uri", "scope", "state", "code_challenge", "code_challenge_method", "prompt", "login_hint", "display", "immediate", "nonce"}

// handleAuthorize runs the web-server flow's login and consent pages.
func (s *Server) handleAuthorize(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if err := r.ParseForm(); err != nil {
		oauthErrorPage(w, "invalid_request", "malformed request")
		return
	}
	p := r.Form
	s.mu.Lock()
	app := s.apps[p.Get("client_id")]
	s.mu.Unlock()
	if app == nil {
		oauthErrorPage(w, "invalid_client_id", "client identifier invalid")
		return
	}
	redirect := p.Get("redirect_uri")
	if !slices.Contains(app.CallbackURLs, redirect) {
		oauthErrorPage(w, "redirect_uri_mismatch", "redirect_uri must match configuration")
		return
	}
	state := p.Get("state")
	fail := func(code, desc string) {
		q := url.Values{"error": {code}, "error_description": {desc}}
		if state != "" {
			q.Set("state", state)
		}
		http.Redirect(w, r, withQuery(redirect, q), http.StatusFound)
	}
	if p.Get("response_type") != "code" {
		fail("unsupported_response_type", "response type not supported")
		return
	}
	scope, ok := grantScope(app, p.Get("scope"))
	if !ok {
		fail("invalid_scope", "the requested scope is not allowed")
		return
	}
	method := p.Get("code_challenge_method")
	if method != "" && method != "S256" && method != "plain" {
		fail("invalid_request", "invalid code_challenge_method")
		return
	}
	hidden := make([]hiddenField, 0, len(authorizeParams))
	for _, k := range authorizeParams {
		if v := p.Get(k); v != "" {
			hidden = append(hidden, hiddenField{k, v})
		}
	}
	prompt := strings.Fields(p.Get("prompt"))
	sess, hasSession := s.session(r)
	if slices.Contains(prompt, "login") && r.Method == http.MethodGet {
		hasSession = false
	}
	action := ""
	if r.Method == http.MethodPost {
		action = p.Get("action")
	}
	if action == "login" {
		org, u, ok := s.checkPassword(p.Get("username"), p.Get("password"))
		if !ok {
			renderLogin(w, http.StatusOK, loginView{Title: "Login", Hidden: hidden, Username: p.Get("username"),
				Error: "Please check your username and password. If you still can't log in, contact your Salesforce administrator."})
			return
		}
		if !u.Active {
			fail("inactive_user", "user is inactive")
			return
		}
		sid := randomToken(40)
		expires := s.Now().Add(2 * time.Hour)
		s.mu.Lock()
		sess = loginSession{org: org, userID: u.ID, expires: expires}
		s.sessions[sid] = sess
		s.mu.Unlock()
		http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: sid, Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode})
		hasSession = true
	}
	if !hasSession {
		if p.Get("immediate") == "true" {
			fail("immediate_unsuccessful", "immediate not successful")
			return
		}
		renderLogin(w, http.StatusOK, loginView{Title: "Login", Hidden: hidden, Username: p.Get("login_hint")})
		return
	}
	approvalKey := app.ClientID + "/" + sess.userID
	switch action {
	case "deny":
		fail("access_denied", "end-user denied authorization")
		return
	case "allow":
		s.mu.Lock()
		s.approvals[approvalKey] = true
		s.mu.Unlock()
	default:
		s.mu.Lock()
		approved := s.approvals[approvalKey] || app.PreAuthorized
		s.mu.Unlock()
		if !approved || slices.Contains(prompt, "consent") {
			if p.Get("immediate") == "true" {
				fail("immediate_unsuccessful", "immediate not successful")
				return
			}
			u, _ := sess.org.userByIDLocking(sess.userID)
			renderLogin(w, http.StatusOK, loginView{Title: "Allow Access", Consent: true, AppName: app.Name, Username: u.Username, Scope: scope, Hidden: hidden})
			return
		}
	}
	code := s.newCode(app, sess.org, sess.userID, redirect, p.Get("code_challenge"), method, scope, p.Get("nonce"))
	q := url.Values{"code": {code}}
	if state != "" {
		q.Set("state", state)
	}
	http.Redirect(w, r, withQuery(redirect, q), http.StatusFound)
}

type loginView struct {
	Title    string
	Consent  bool
	AppName  string
	Username string
	Scope    string
	Error    string
	Hidden   []hiddenField
}

func renderLogin(w http.ResponseWriter, status int, v loginView) {
	w.Header().Set("Content-Type", "text/html;charset=UTF-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = loginPage.Execute(w, v)
}

var errorPage = template.Must(template.New("err").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>OAuth Error</title></head>
<body><main><h1>OAuth Error</h1><p>We can't authorize you because of an OAuth error. For more information, contact your Salesforce administrator.</p>
<p id="error">error={{.Code}}</p><p id="error_description">error_description={{.Desc}}</p></main></body></html>
`))

func oauthErrorPage(w http.ResponseWriter, code, desc string) {
	w.Header().Set("Content-Type", "text/html;charset=UTF-8")
	w.WriteHeader(http.StatusBadRequest)
	_ = errorPage.Execute(w, struct{ Code, Desc string }{code, desc})
}

func withQuery(u string, q url.Values) string {
	sep := "?"
	if strings.Contains(u, "?") {
		sep = "&"
	}
	return u + sep + q.Encode()
}

// grantScope checks the requested scopes against the app's; with none
// requested the app's scopes (without "full") apply.
func grantScope(app *ConnectedApp, requested string) (string, bool) {
	req := strings.Fields(requested)
	if len(req) == 0 {
		for _, sc := range app.Scopes {
			if sc != "full" {
				req = append(req, sc)
			}
		}
		return strings.Join(req, " "), true
	}
	for _, sc := range req {
		if !slices.Contains(app.Scopes, sc) && !slices.Contains(app.Scopes, "full") {
			return "", false
		}
	}
	return strings.Join(req, " "), true
}

func hasScope(scope string, names ...string) bool {
	for _, sc := range strings.Fields(scope) {
		if slices.Contains(names, sc) {
			return true
		}
	}
	return false
}

func (s *Server) session(r *http.Request) (loginSession, bool) {
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return loginSession{}, false
	}
	now := s.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	sess, ok := s.sessions[c.Value]
	if !ok || !now.Before(sess.expires) {
		return loginSession{}, false
	}
	return sess, true
}

// checkPassword finds a user by username and password. The whole password
// must match: an emulator other projects test their login handling against
// must refuse the right password with anything appended.
func (s *Server) checkPassword(username, password string) (*Org, User, bool) {
	s.mu.Lock()
	org := s.usernames[strings.ToLower(username)]
	s.mu.Unlock()
	if org == nil {
		return nil, User{}, false
	}
	u, ok := org.userByUsername(username)
	if !ok || u.Password == "" || !secretEqual(password, u.Password) {
		return nil, User{}, false
	}
	return org, u, true
}

// secretEqual compares two secrets in time that depends on neither:
// subtle.ConstantTimeCompare returns at once when the lengths differ, so
// both sides are hashed to 32 bytes first and the hashes compared.
func secretEqual(got, want string) bool {
	g, w := sha256.Sum256([]byte(got)), sha256.Sum256([]byte(want))
	return subtle.ConstantTimeCompare(g[:], w[:]) == 1
}

func (s *Server) newCode(app *ConnectedApp, org *Org, userID, redirect, challenge, method, scope, nonce string) string {
	code := "aPrx" + randomToken(80) + "=="
	expires := s.Now().Add(authCodeTTL)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.codes[code] = &authCode{code: code, app: app, org: org, userID: userID, redirect: redirect, challenge: challenge,
		method: method, scope: scope, nonce: nonce, expires: expires}
	return code
}

// AuthorizeRequest is the non-interactive equivalent of a user logging in
// and clicking Allow on the authorize page.
type AuthorizeRequest struct {
	ClientID            string
	RedirectURI         string
	Username            string
	Scope               string
	State               string
	CodeChallenge       string
	CodeChallengeMethod string
}

// Authorize approves an authorization request as the user and returns the
// redirect URL (redirect_uri?code=...&state=...) the browser would follow.
func (s *Server) Authorize(req AuthorizeRequest) (string, error) {
	s.mu.Lock()
	app := s.apps[req.ClientID]
	org := s.usernames[strings.ToLower(req.Username)]
	s.mu.Unlock()
	if app == nil {
		return "", errString("invalid_client_id: client identifier invalid")
	}
	if !slices.Contains(app.CallbackURLs, req.RedirectURI) {
		return "", errString("redirect_uri_mismatch: redirect_uri must match configuration")
	}
	if org == nil {
		return "", errString("no such user " + req.Username)
	}
	u, _ := org.userByUsername(req.Username)
	scope, ok := grantScope(app, req.Scope)
	if !ok {
		return "", errString("invalid_scope")
	}
	code := s.newCode(app, org, u.ID, req.RedirectURI, req.CodeChallenge, req.CodeChallengeMethod, scope, "")
	q := url.Values{"code": {code}}
	if req.State != "" {
		q.Set("state", req.State)
	}
	return withQuery(req.RedirectURI, q), nil
}

type errString string

func (e errString) Error() string { return string(e) }

// tokenResponse is the token endpoint's success body, in Salesforce's key order.
type tokenResponse struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token,omitempty"`
	Signature    string `json:"signature"`
	Scope        string `json:"scope"`
	IDToken      string `json:"id_token,omitempty"`
	InstanceURL  string `json:"instance_url"`
	ID           string `json:"id"`
	TokenType    string `json:"token_type"`
	IssuedAt     string `json:"issued_at"`
}

// handleToken answers POST /services/oauth2/token.
func (s *Server) handleToken(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		writeOAuthError(w, http.StatusBadRequest, "invalid_request", "must use HTTP POST")
		return
	}
	if err := r.ParseForm(); err != nil {
		writeOAuthError(w, http.StatusBadRequest, "invalid_request", "malformed request body")
		return
	}
	f := r.PostForm
	clientID, secret := f.Get("client_id"), f.Get("client_secret")
	if id, sec, ok := r.BasicAuth(); ok {
		id, _ = url.QueryUnescape(id)
		sec, _ = url.QueryUnescape(sec)
		clientID, secret = id, sec
	}
	grant := f.Get("grant_type")
	switch grant {
	case "authorization_code", "refresh_token", "password", "client_credentials":
	default:
		writeOAuthError(w, http.StatusBadRequest, "unsupported_grant_type", "grant type not supported")
		return
	}
	s.mu.Lock()
	app := s.apps[clientID]
	s.mu.Unlock()
	if app == nil {
		writeOAuthError(w, http.StatusBadRequest, "invalid_client_id", "client identifier invalid")
		return
	}
	secretOK := secretEqual(secret, app.ClientSecret)
	if secret != "" && !secretOK {
		writeOAuthError(w, http.StatusBadRequest, "invalid_client", "invalid client credentials")
		return
	}
	now := s.Now()
	var access, refresh *token
	nonce := ""
	switch grant {
	case "authorization_code":
		s.mu.Lock()
		code := s.codes[f.Get("code")]
		var problem string
		switch {
		case code == nil || code.used:
			problem = "invalid authorization code"
		case !now.Before(code.expires):
			problem = "expired authorization code"
		case code.app != app:
			problem = "invalid authorization code"
		}
		if code != nil && problem == "" {
			code.used = true // single use, even when the checks below fail
		}
		s.mu.Unlock()
		if problem != "" {
			writeOAuthError(w, http.StatusBadRequest, "invalid_grant", problem)
			return
		}
		if f.Get("redirect_uri") != code.redirect {
			writeOAuthError(w, http.StatusBadRequest, "redirect_uri_mismatch", "redirect_uri must match configuration")
			return
		}
		if code.challenge != "" {
			if !pkceOK(code.challenge, code.method, f.Get("code_verifier")) {
				writeOAuthError(w, http.StatusBadRequest, "invalid_grant", "invalid code verifier")
				return
			}
		} else if f.Get("code_verifier") != "" {
			writeOAuthError(w, http.StatusBadRequest, "invalid_grant", "invalid code verifier")
			return
		}
		if secret == "" && !(app.AllowPublicPKCE && code.challenge != "") {
			writeOAuthError(w, http.StatusBadRequest, "invalid_client", "invalid client credentials")
			return
		}
		u, ok := code.org.userByIDLocking(code.userID)
		if !ok || !u.Active {
			writeOAuthError(w, http.StatusBadRequest, "invalid_grant", "inactive user")
			return
		}
		access, refresh = s.issue(code.org, u, app, code.scope, hasScope(code.scope, "refresh_token", "offline_access"))
		nonce = code.nonce
	case "refresh_token":
		s.mu.Lock()
		rt := s.tokens[f.Get("refresh_token")]
		valid := rt != nil && rt.refresh && !rt.revoked && rt.app == app
		s.mu.Unlock()
		if !valid {
			writeOAuthError(w, http.StatusBadRequest, "invalid_grant", "expired access/refresh token")
			return
		}
		if secret == "" && !app.AllowPublicPKCE {
			writeOAuthError(w, http.StatusBadRequest, "invalid_client", "invalid client credentials")
			return
		}
		u, ok := rt.org.userByIDLocking(rt.userID)
		if !ok || !u.Active {
			writeOAuthError(w, http.StatusBadRequest, "invalid_grant", "inactive user")
			return
		}
		s.mu.Lock()
		parent := rt
		if s.opts.RotateRefreshTokens {
			rt.revoked = true
			parent = &token{value: "5Aep861" + randomToken(80), refresh: true, org: rt.org, userID: rt.userID, app: app, scope: rt.scope, issued: now}
			s.tokens[parent.value] = parent
			refresh = parent
		}
		access = s.newAccessLocked(rt.org, rt.userID, app, rt.scope, now, parent)
		s.mu.Unlock()
	case "password":
		if !secretOK {
			writeOAuthError(w, http.StatusBadRequest, "invalid_client", "invalid client credentials")
			return
		}
		org, u, ok := s.checkPassword(f.Get("username"), f.Get("password"))
		if !ok {
			writeOAuthError(w, http.StatusBadRequest, "invalid_grant", "authentication failure")
			return
		}
		if !u.Active {
			writeOAuthError(w, http.StatusBadRequest, "invalid_grant", "inactive user")
			return
		}
		scope, _ := grantScope(app, "")
		access, _ = s.issue(org, u, app, scope, false)
	case "client_credentials":
		if !secretOK {
			writeOAuthError(w, http.StatusBadRequest, "invalid_client", "invalid client credentials")
			return
		}
		s.mu.Lock()
		org := s.usernames[strings.ToLower(app.RunAsUsername)]
		s.mu.Unlock()
		if app.RunAsUsername == "" || org == nil {
			writeOAuthError(w, http.StatusBadRequest, "invalid_grant", "no client credentials user enabled")
			return
		}
		u, _ := org.userByUsername(app.RunAsUsername)
		scope, _ := grantScope(app, "")
		access, _ = s.issue(org, u, app, strings.Join(slices.DeleteFunc(strings.Fields(scope), func(s string) bool { return s == "refresh_token" || s == "offline_access" }), " "), false)
	}
	base := s.base(r)
	id := base + "/id/" + access.org.ID() + "/" + access.userID
	issued := strconv.FormatInt(access.issued.UnixMilli(), 10)
	resp := tokenResponse{AccessToken: access.value, Signature: sign(app.ClientSecret, id+issued), Scope: access.scope,
		InstanceURL: base, ID: id, TokenType: "Bearer", IssuedAt: issued}
	if refresh != nil {
		resp.RefreshToken = refresh.value
	}
	if hasScope(access.scope, "openid") {
		idt, err := s.idToken(base, app.ClientID, access, nonce)
		if err != nil {
			writeOAuthError(w, http.StatusInternalServerError, "server_error", err.Error())
			return
		}
		resp.IDToken = idt
	}
	w.Header().Set("Cache-Control", "no-cache,must-revalidate,max-age=0,no-store,private")
	writeJSON(w, http.StatusOK, resp)
}

func sign(secret, msg string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(msg))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

func pkceOK(challenge, method, verifier string) bool {
	if verifier == "" {
		return false
	}
	if method == "plain" {
		return subtle.ConstantTimeCompare([]byte(challenge), []byte(verifier)) == 1
	}
	sum := sha256.Sum256([]byte(verifier))
	want := base64.RawURLEncoding.EncodeToString(sum[:])
	return subtle.ConstantTimeCompare([]byte(strings.TrimRight(challenge, "=")), []byte(want)) == 1
}

// handleRevoke answers /services/oauth2/revoke (POST form or GET query).
func (s *Server) handleRevoke(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		writeOAuthError(w, http.StatusBadRequest, "invalid_request", "malformed request")
		return
	}
	tok := r.Form.Get("token")
	if tok == "" {
		writeOAuthError(w, http.StatusBadRequest, "unsupported_token_type", "Token type not supported")
		return
	}
	if !s.RevokeToken(tok) {
		writeOAuthError(w, http.StatusBadRequest, "invalid_token", "Token was invalid")
		return
	}
	w.WriteHeader(http.StatusOK)
}

func badOAuthToken(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/plain;charset=UTF-8")
	w.WriteHeader(http.StatusForbidden)
	_, _ = w.Write([]byte("Bad_OAuth_Token"))
}

func (s *Server) userURLs(base, org, user string) map[string]string {
	v := "{version}"
	return map[string]string{
		"enterprise": base + "/services/Soap/c/" + v + "/" + org, "metadata": base + "/services/Soap/m/" + v + "/" + org,
		"partner": base + "/services/Soap/u/" + v + "/" + org, "rest": base + "/services/data/v" + v + "/",
		"sobjects": base + "/services/data/v" + v + "/sobjects/", "search": base + "/services/data/v" + v + "/search/",
		"query": base + "/services/data/v" + v + "/query/", "recent": base + "/services/data/v" + v + "/recent/",
		"tooling_soap": base + "/services/Soap/T/" + v + "/" + org, "tooling_rest": base + "/services/data/v" + v + "/tooling/",
		"profile": base + "/" + user, "feeds": base + "/services/data/v" + v + "/chatter/feeds",
		"groups": base + "/services/data/v" + v + "/chatter/groups", "users": base + "/services/data/v" + v + "/chatter/users",
		"feed_items": base + "/services/data/v" + v + "/chatter/feed-items", "feed_elements": base + "/services/data/v" + v + "/chatter/feed-elements",
		"custom_domain": base,
	}
}

// handleUserinfo answers the OpenID Connect UserInfo endpoint.
func (s *Server) handleUserinfo(w http.ResponseWriter, r *http.Request) {
	t, ok := s.authenticate(r)
	if !ok {
		badOAuthToken(w)
		return
	}
	u, _ := t.org.userByIDLocking(t.userID)
	base := s.base(r)
	photo := base + "/profilephoto/005/F"
	body := orderedJSON{
		{"sub", base + "/id/" + t.org.ID() + "/" + u.ID}, {"user_id", u.ID}, {"organization_id", t.org.ID()},
		{"preferred_username", u.Username}, {"nickname", strings.Split(u.Username, "@")[0]}, {"name", u.Name()},
		{"email", u.Email}, {"email_verified", true}, {"given_name", u.FirstName}, {"family_name", u.LastName},
		{"zoneinfo", t.org.tz}, {"photos", map[string]string{"picture": photo, "thumbnail": base + "/profilephoto/005/T"}},
		{"profile", base + "/" + u.ID}, {"picture", photo}, {"address", map[string]string{"country": "TW"}},
		{"is_salesforce_integration_user", false}, {"urls", s.userURLs(base, t.org.ID(), u.ID)},
		{"active", u.Active}, {"user_type", "STANDARD"}, {"language", "en_US"}, {"locale", "en_US"},
		{"utcOffset", 28800000}, {"updated_at", t.org.created.Format("2006-01-02T15:04:05Z")}, {"is_app_installed", true},
	}
	writeRaw(w, http.StatusOK, body.marshal())
}

// handleIdentity answers the identity URL /id/{org}/{user}.
func (s *Server) handleIdentity(w http.ResponseWriter, r *http.Request) {
	parts := strings.Split(strings.Trim(strings.TrimPrefix(r.URL.Path, "/id/"), "/"), "/")
	t, ok := s.authenticate(r)
	if !ok {
		badOAuthToken(w)
		return
	}
	if len(parts) != 2 || len(parts[0]) < 15 || parts[0][:15] != t.org.ID()[:15] {
		badOAuthToken(w)
		return
	}
	u, ok := t.org.userByIDLocking(parts[1])
	if !ok {
		writeErrors(w, []*apiError{errNotFound()})
		return
	}
	base := s.base(r)
	urls := s.userURLs(base, t.org.ID(), u.ID)
	if v := r.URL.Query().Get("version"); v != "" {
		if v == "latest" {
			v = strconv.Itoa(maxAPIVersion()) + ".0"
		}
		for k, x := range urls {
			urls[k] = strings.ReplaceAll(x, "{version}", v)
		}
	}
	body := orderedJSON{
		{"id", base + "/id/" + t.org.ID() + "/" + u.ID}, {"asserted_user", t.userID == u.ID}, {"user_id", u.ID},
		{"organization_id", t.org.ID()}, {"username", u.Username}, {"nick_name", strings.Split(u.Username, "@")[0]},
		{"display_name", u.Name()}, {"email", u.Email}, {"email_verified", true}, {"first_name", u.FirstName},
		{"last_name", u.LastName}, {"timezone", t.org.tz},
		{"photos", map[string]string{"picture": base + "/profilephoto/005/F", "thumbnail": base + "/profilephoto/005/T"}},
		{"addr_street", nil}, {"addr_city", nil}, {"addr_state", nil}, {"addr_country", "TW"}, {"addr_zip", nil},
		{"mobile_phone", nil}, {"mobile_phone_verified", false}, {"is_lightning_login_user", false},
		{"status", map[string]any{"created_date": nil, "body": nil}}, {"urls", urls}, {"active", u.Active},
		{"user_type", "STANDARD"}, {"language", "en_US"}, {"locale", "en_US"}, {"utcOffset", 28800000},
		{"last_modified_date", t.org.created.Format("2006-01-02T15:04:05.000Z")}, {"is_app_installed", true},
	}
	writeRaw(w, http.StatusOK, body.marshal())
}

// handleIntrospect answers POST /services/oauth2/introspect.
func (s *Server) handleIntrospect(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil || r.Method != http.MethodPost {
		writeOAuthError(w, http.StatusBadRequest, "invalid_request", "must use HTTP POST")
		return
	}
	clientID, secret := r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	if id, sec, ok := r.BasicAuth(); ok {
		clientID, secret = id, sec
	}
	s.mu.Lock()
	app := s.apps[clientID]
	t := s.tokens[r.PostForm.Get("token")]
	s.mu.Unlock()
	if app == nil || !secretEqual(secret, app.ClientSecret) {
		writeOAuthError(w, http.StatusUnauthorized, "invalid_client", "invalid client credentials")
		return
	}
	now := s.Now()
	if t == nil || t.revoked || (!t.refresh && !now.Before(t.expires)) {
		writeJSON(w, http.StatusOK, map[string]bool{"active": false})
		return
	}
	u, _ := t.org.userByIDLocking(t.userID)
	kind := "access_token"
	exp := t.expires.Unix()
	if t.refresh {
		kind, exp = "refresh_token", 0
	}
	body := orderedJSON{{"active", true}, {"scope", t.scope}, {"client_id", clientID}, {"username", u.Username},
		{"sub", s.base(r) + "/id/" + t.org.ID() + "/" + u.ID}, {"token_type", kind}, {"exp", exp},
		{"iat", t.issued.Unix()}, {"nbf", t.issued.Unix()}}
	writeRaw(w, http.StatusOK, body.marshal())
}

// handleOpenIDConfig answers /.well-known/openid-configuration.
func (s *Server) handleOpenIDConfig(w http.ResponseWriter, r *http.Request) {
	b := s.base(r)
	writeJSON(w, http.StatusOK, map[string]any{
		"issuer": b, "authorization_endpoint": b + "/services/oauth2/authorize", "token_endpoint": b + "/services/oauth2/token",
		"revocation_endpoint": b + "/services/oauth2/revoke", "userinfo_endpoint": b + "/services/oauth2/userinfo",
		"jwks_uri": b + "/id/keys", "registration_endpoint": b + "/services/oauth2/register",
		"introspection_endpoint":                b + "/services/oauth2/introspect",
		"scopes_supported":                      []string{"id", "api", "web", "full", "chatter_api", "visualforce", "refresh_token", "openid", "profile", "email", "address", "phone", "offline_access", "custom_permissions", "wave_api", "eclair_api"},
		"response_types_supported":              []string{"code", "token", "token id_token"},
		"subject_types_supported":               []string{"public"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"display_values_supported":              []string{"page", "popup", "touch"},
		"token_endpoint_auth_methods_supported": []string{"client_secret_post", "client_secret_basic", "private_key_jwt"},
		"claims_supported":                      []string{"active", "address", "email", "email_verified", "family_name", "given_name", "is_app_installed", "language", "locale", "name", "nickname", "organization_id", "phone_number", "phone_number_verified", "photos", "picture", "preferred_username", "profile", "sub", "updated_at", "urls", "user_id", "user_type", "zoneinfo"},
	})
}
