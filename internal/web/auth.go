package web

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/sfsync/sfsync/internal/store"
)

func equalTokens(a, b string) bool {
	return a != "" && b != "" && subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

func randomToken() string {
	b := make([]byte, 24)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

type loginView struct {
	Email   string
	Next    string
	CSRF    string
	Error   string // catalogue key
	Langs   []langChoice
	Current string
}

type langChoice struct {
	Code, Label, Href string
}

// loginCSRF is a double-submit token for the sign-in form, which has no
// session yet: a cookie and a hidden field that must agree.
func (s *server) loginCSRF(w http.ResponseWriter, r *http.Request) string {
	if c, err := r.Cookie(loginCSRFCookie); err == nil && len(c.Value) >= 32 {
		return c.Value
	}
	tok := randomToken()
	http.SetCookie(w, &http.Cookie{Name: loginCSRFCookie, Value: tok, Path: "/login", HttpOnly: true,
		Secure: s.opts.SecureCookies, SameSite: http.SameSiteLaxMode, MaxAge: 3600})
	return tok
}

func (s *server) renderLogin(w http.ResponseWriter, r *http.Request, status int, lv loginView) {
	lang := langFromRequest(r)
	lv.Current = lang
	next := ""
	if lv.Next != "" {
		next = "&next=" + urlQueryEscape(lv.Next)
	}
	lv.Langs = []langChoice{{"zh-TW", "繁體中文", "/login?lang=zh-TW" + next}, {"en", "English", "/login?lang=en" + next}}
	s.renderPage(w, r, nil, status, "login", lv)
}

func (s *server) loginPage(w http.ResponseWriter, r *http.Request) {
	if l := r.URL.Query().Get("lang"); isLang(l) {
		http.SetCookie(w, &http.Cookie{Name: langCookie, Value: l, Path: "/", HttpOnly: true, Secure: s.opts.SecureCookies,
			SameSite: http.SameSiteLaxMode, MaxAge: 365 * 24 * 3600})
		r.AddCookie(&http.Cookie{Name: langCookie, Value: l})
	}
	if _, _, err := s.session(r); err == nil {
		http.Redirect(w, r, localPath(r.URL.Query().Get("next"), "/admin/integrations"), http.StatusSeeOther)
		return
	}
	s.renderLogin(w, r, http.StatusOK, loginView{Next: localPath(r.URL.Query().Get("next"), ""), CSRF: s.loginCSRF(w, r)})
}

func (s *server) login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	email := strings.ToLower(strings.TrimSpace(r.PostForm.Get("email")))
	lv := loginView{Email: email, Next: localPath(r.PostForm.Get("next"), ""), CSRF: s.loginCSRF(w, r)}
	c, err := r.Cookie(loginCSRFCookie)
	if err != nil || !equalTokens(c.Value, r.PostForm.Get("csrf")) {
		lv.Error = "login.error_csrf"
		s.renderLogin(w, r, http.StatusForbidden, lv)
		return
	}
	if field, reason := formTextProblem(r.PostForm); field != "" {
		s.renderFieldError(w, r, nil, field, reason)
		return
	}
	keys := []string{"ip:" + s.clientIP(r), "email:" + email}
	if s.limiter.blocked(keys...) {
		s.log.WarnContext(r.Context(), "login rate limit reached", "ip", s.clientIP(r))
		w.Header().Set("Retry-After", "60")
		lv.Error = "login.error_rate"
		s.renderLogin(w, r, http.StatusTooManyRequests, lv)
		return
	}
	a, err := s.opts.Store.Authenticate(r.Context(), email, r.PostForm.Get("password"))
	if errors.Is(err, store.ErrNotFound) {
		s.limiter.fail(keys...)
		lv.Error = "login.error_credentials"
		s.renderLogin(w, r, http.StatusUnauthorized, lv)
		return
	}
	if err != nil {
		s.log.ErrorContext(r.Context(), "login failed", "error", err)
		lv.Error = "error.internal"
		s.renderLogin(w, r, http.StatusInternalServerError, lv)
		return
	}
	id, _, err := s.opts.Store.CreateSession(r.Context(), a.ID, a.TenantID, s.opts.SessionTTL)
	if err != nil {
		s.log.ErrorContext(r.Context(), "creating session failed", "error", err)
		lv.Error = "error.internal"
		s.renderLogin(w, r, http.StatusInternalServerError, lv)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: id, Path: "/", HttpOnly: true, Secure: s.opts.SecureCookies,
		SameSite: http.SameSiteLaxMode, MaxAge: int(s.opts.SessionTTL / time.Second)})
	s.log.InfoContext(r.Context(), "admin signed in", "tenant_id", a.TenantID, "admin_id", a.ID)
	http.Redirect(w, r, localPath(lv.Next, "/admin/integrations"), http.StatusSeeOther)
}

func (s *server) logout(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	if err := s.opts.Store.DeleteSession(r.Context(), rc.sessionID); err != nil && !errors.Is(err, store.ErrNotFound) {
		s.log.ErrorContext(r.Context(), "deleting session failed", "error", err)
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", HttpOnly: true, Secure: s.opts.SecureCookies,
		SameSite: http.SameSiteLaxMode, MaxAge: -1})
	// The sign-in page keeps the admin's language.
	http.SetCookie(w, &http.Cookie{Name: langCookie, Value: rc.Lang, Path: "/", HttpOnly: true, Secure: s.opts.SecureCookies,
		SameSite: http.SameSiteLaxMode, MaxAge: 365 * 24 * 3600})
	http.Redirect(w, r, "/login?done=signed_out", http.StatusSeeOther)
}

// setLanguage stores the admin's own language; "" returns to the
// tenant's default.
func (s *server) setLanguage(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	l := r.PostForm.Get("lang")
	if l != "" && !isLang(l) {
		s.renderError(w, r, rc, http.StatusBadRequest, "error.bad_request")
		return
	}
	if err := s.opts.Store.SetAdminLanguage(r.Context(), rc.Admin.ID, l); err != nil {
		s.fail(w, r, rc, err)
		return
	}
	http.Redirect(w, r, localPath(r.PostForm.Get("back"), "/admin/integrations"), http.StatusSeeOther)
}

func (s *server) clientIP(r *http.Request) string {
	if s.opts.TrustForwardedFor {
		if xff := r.Header.Get("X-Forwarded-For"); xff != "" {
			parts := strings.Split(xff, ",")
			if ip := strings.TrimSpace(parts[len(parts)-1]); ip != "" {
				return ip
			}
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// limiter counts failed sign-ins per key (the client's address, the
// account) in a sliding window. Only failures count: an admin who signs in
// many times a minute is never locked out, while guessing is limited per
// address and per account alike.
type limiter struct {
	mu     sync.Mutex
	limit  int
	window time.Duration
	now    func() time.Time
	fails  map[string][]time.Time
}

func newLimiter(limit int, window time.Duration, now func() time.Time) *limiter {
	return &limiter{limit: limit, window: window, now: now, fails: map[string][]time.Time{}}
}

// blocked reports whether any key has had limit failures in the window.
// A refused attempt is not a failure, so waiting out the window always
// lets the next one in.
func (l *limiter) blocked(keys ...string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	blocked := false
	for _, k := range keys {
		if len(l.recent(k, now)) >= l.limit {
			blocked = true
		}
	}
	return blocked
}

// fail records a failed sign-in under every key.
func (l *limiter) fail(keys ...string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	if len(l.fails) > 10000 {
		for k, ts := range l.fails {
			if len(ts) == 0 || now.Sub(ts[len(ts)-1]) > l.window {
				delete(l.fails, k)
			}
		}
	}
	for _, k := range keys {
		l.fails[k] = append(l.recent(k, now), now)
	}
}

// recent drops k's failures older than the window and returns the rest;
// l.mu is held.
func (l *limiter) recent(k string, now time.Time) []time.Time {
	ts := l.fails[k]
	i := 0
	for i < len(ts) && now.Sub(ts[i]) >= l.window {
		i++
	}
	ts = ts[i:]
	if len(ts) == 0 {
		delete(l.fails, k)
		return nil
	}
	l.fails[k] = ts
	return ts
}
