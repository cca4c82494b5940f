package web

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/sfsync/sfsync/internal/contact"
	"github.com/sfsync/sfsync/internal/sfconn"
	"github.com/sfsync/sfsync/internal/syncconf"
	"github.com/sfsync/sfsync/internal/syncer"
	"github.com/sfsync/sfsync/internal/tenant"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// staticHandler serves the embedded CSS and JavaScript.
func staticHandler() http.Handler {
	sub, err := fs.Sub(staticFS, "static")
	if err != nil {
		panic(err)
	}
	fsrv := http.FileServerFS(sub)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=300")
		fsrv.ServeHTTP(w, r)
	})
}

// pages holds one template set per page: the layout, the shared partials
// and the page's own file.
type pages struct {
	byName map[string]*template.Template
}

var funcs = template.FuncMap{
	"add":  func(a, b int) int { return a + b },
	"list": func(s ...string) []string { return s },
	"dict": func(kv ...any) (map[string]any, error) {
		if len(kv)%2 != 0 {
			return nil, fmt.Errorf("dict: odd number of arguments")
		}
		m := make(map[string]any, len(kv)/2)
		for i := 0; i < len(kv); i += 2 {
			k, ok := kv[i].(string)
			if !ok {
				return nil, fmt.Errorf("dict: key %v is not a string", kv[i])
			}
			m[k] = kv[i+1]
		}
		return m, nil
	},
	"pct": func(p float64) string { return fmt.Sprintf("%.0f", p) },
	// budgetPct writes a share as a whole percentage; a share above 0 but
	// under 1% reads "<1", not "0".
	"budgetPct": func(f float64) string {
		if f > 0 && f < 0.01 {
			return "<1"
		}
		return fmt.Sprintf("%.0f", f*100)
	},
	"minutes": func(d time.Duration) int { return int(d / time.Minute) },
	// when and whenp show a time in UTC, for pages without a tenant;
	// a tenant's pages use the view's When, in the tenant's time zone.
	"when":  func(t time.Time) string { return formatTime(t, time.UTC) },
	"whenp": func(t *time.Time) string { return formatTime(deref(t), time.UTC) },
	"str":   func(v any) string { return fmt.Sprint(v) },
	// statusKey names a run's status in the catalogue. A real-time run
	// that is "running" is a window that collects pushes until it is
	// closed (PushWindow), not a sync in progress: it says so.
	"statusKey": func(r syncer.Run) string {
		if r.Trigger == syncer.TriggerRealtime && r.Status == syncer.StatusRunning {
			return "status.realtime_open"
		}
		return "status." + string(r.Status)
	},
	"join": strings.Join,
	"first": func(n int, rows []syncconf.DryRunRow) []syncconf.DryRunRow {
		if len(rows) > n {
			return rows[:n]
		}
		return rows
	},
	"anchor": anchor,
	"conflictRules": func() []string {
		return []string{string(syncconf.NewestWins), string(syncconf.PreferSalesforceUnlessBlank), string(syncconf.AlwaysSalesforce), string(syncconf.AlwaysPlatform)}
	},
	"identities": func() []string {
		return []string{string(contact.IdentityMemberID), string(contact.IdentityPhone), string(contact.IdentityEmail)}
	},
}

func mustParsePages() *pages {
	shared := []string{"templates/layout.html", "templates/partials.html"}
	entries, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		panic(err)
	}
	p := &pages{byName: map[string]*template.Template{}}
	for _, e := range entries {
		name := strings.TrimSuffix(path.Base(e), ".html")
		if name == "layout" || name == "partials" {
			continue
		}
		t := template.Must(template.New(name).Funcs(funcs).ParseFS(templateFS, append(shared, e)...))
		p.byName[name] = t
	}
	return p
}

// view is the data of every page. Its T method looks up the catalogue of
// the page's language and fails the rendering on an unknown key, so a
// missing translation is a test failure, not a blank on screen.
type view struct {
	Lang     string
	Platform string
	Admin    *tenant.Admin
	Tenant   *tenant.Tenant
	CSRF     string
	Path     string
	// AdminLang is the admin's own choice ("" = the tenant's default).
	AdminLang string
	Title     string // catalogue key
	Flash     string // catalogue key
	D         any
}

// formatTime shows t in loc with its offset from UTC ("2026-12-07
// 11:02:03 GMT+8"): a zone abbreviation like Taipei's "CST" would be read
// as another zone.
func formatTime(t time.Time, loc *time.Location) string {
	if t.IsZero() {
		return "—"
	}
	t = t.In(loc)
	_, off := t.Zone()
	zone := "UTC"
	if off != 0 {
		zone = fmt.Sprintf("GMT%+d", off/3600)
		if m := off % 3600 / 60; m != 0 {
			zone += fmt.Sprintf(":%02d", max(m, -m))
		}
	}
	return t.Format("2006-01-02 15:04:05") + " " + zone
}

func deref(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return *t
}

// When shows a time (time.Time or *time.Time) in the tenant's time zone
// (tenant.Location: Asia/Taipei by default for zh-TW tenants).
func (v *view) When(t any) string {
	loc := time.UTC
	if v.Tenant != nil {
		loc = v.Tenant.Location()
	}
	switch t := t.(type) {
	case time.Time:
		return formatTime(t, loc)
	case *time.Time:
		return formatTime(deref(t), loc)
	}
	return "—"
}

// T returns the text of key in the page's language, formatted with args,
// with "{platform}" replaced by the platform's name.
func (v *view) T(key string, args ...any) (string, error) {
	msg, err := translate(v.Lang, key, args...)
	return withPlatform(msg, v.Platform), err
}

// withPlatform puts the platform's name into msg. The catalogue writes
// spaces around {platform}, as Chinese text does around a Latin name
// ("在 Omnichat 中"); a Chinese name ("平台") takes no spaces next to
// Chinese text.
func withPlatform(msg, name string) string {
	if !strings.Contains(msg, "{platform}") {
		return msg
	}
	if r, _ := utf8.DecodeRuneInString(name); unicode.Is(unicode.Han, r) {
		cjk := func(r rune) bool { return unicode.Is(unicode.Han, r) || unicode.In(r, unicode.Po) && r > 0x2E80 }
		var b strings.Builder
		parts := strings.Split(msg, "{platform}")
		for i, p := range parts {
			if i > 0 {
				if rest := strings.TrimPrefix(p, " "); rest != p {
					if r, _ := utf8.DecodeRuneInString(rest); cjk(r) {
						p = rest
					}
				}
			}
			if i < len(parts)-1 {
				if head := strings.TrimSuffix(p, " "); head != p {
					if r, _ := utf8.DecodeLastRuneInString(head); cjk(r) {
						p = head
					}
				}
			}
			b.WriteString(p)
			if i < len(parts)-1 {
				b.WriteString(name)
			}
		}
		return b.String()
	}
	return strings.ReplaceAll(msg, "{platform}", name)
}

// R names a run record's reason code in the page's language: its
// catalogue text when there is one ("reason.invalid_phone"), else the code.
func (v *view) R(code string) string {
	if msg, err := v.T("reason." + code); err == nil {
		return msg
	}
	return code
}

// P is T; templates use it where the text names the platform.
func (v *view) P(key string, args ...any) (string, error) { return v.T(key, args...) }

func (s *server) platformName(lang string) string {
	if s.opts.PlatformName != "" {
		return s.opts.PlatformName
	}
	name, _ := translate(lang, "platform")
	return name
}

// renderPage renders a page of a signed-in admin (rc may be nil for
// pages without a session).
func (s *server) renderPage(w http.ResponseWriter, r *http.Request, rc *reqCtx, status int, name string, d any) {
	lang := langFromRequest(r)
	v := &view{Lang: lang, Path: r.URL.RequestURI(), D: d}
	if rc != nil {
		v.Lang, v.Admin, v.Tenant, v.CSRF, v.AdminLang = rc.Lang, &rc.Admin, &rc.Tenant, rc.Session.CSRFToken, rc.Admin.Language
	}
	v.Platform = s.platformName(v.Lang)
	if f := r.URL.Query().Get("done"); f != "" && flashes[f] {
		v.Flash = "flash." + f
	}
	s.execute(w, r, status, name, v)
}

func (s *server) execute(w http.ResponseWriter, r *http.Request, status int, name string, v *view) {
	t, ok := s.pages.byName[name]
	if !ok {
		s.log.ErrorContext(r.Context(), "no such page template", "page", name)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", v); err != nil {
		s.log.ErrorContext(r.Context(), "rendering page failed", "page", name, "lang", v.Lang, "error", err)
		http.Error(w, "internal error: "+name+" could not be rendered", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// flashes are the one-line notices a redirect may ask for with ?done=.
var flashes = map[string]bool{
	"disconnected": true, "sync_started": true, "full_resync_started": true, "retry_started": true,
	"saved": true, "signed_out": true, "drift_check_started": true, "drift_check_busy": true, "budget_saved": true,
	"review_linked": true, "review_apart": true, "review_ignored": true,
	"paused": true, "resumed": true, "resynced": true, "resync_failed": true, "alerts_saved": true,
}

type errorView struct {
	Message string // catalogue key
	Back    string
	// Next is the step that gets the admin going again (a catalogue key
	// for its label and where it leads), beside Back; empty when Back is it.
	NextKey, Next string
	// Field and Reason name the form field a 422 refused, and why
	// (in English: the reason comes from contact.TextProblem).
	Field, Reason string
}

func (s *server) renderError(w http.ResponseWriter, r *http.Request, rc *reqCtx, status int, key string) {
	back := "/admin/integrations"
	if rc == nil {
		back = "/login"
	}
	v := errorView{Message: key, Back: back}
	if rc != nil {
		v.NextKey, v.Next = nextStep(r, key)
	}
	s.renderPage(w, r, rc, status, "error", v)
}

// nextStep is where an error page sends the admin to go on: the setup for
// a missing or one-way configuration, the review queue for an item already
// resolved, and the page the form came from when it can simply be sent
// again (an expired form, a server error).
func nextStep(r *http.Request, key string) (labelKey, href string) {
	switch key {
	case "error.not_configured":
		return "error.next_setup", "/admin/salesforce/setup"
	case "error.no_pull":
		return "error.next_settings", "/admin/salesforce/setup/fields"
	case "error.review_resolved", "error.review_link_taken":
		return "error.next_review", "/admin/salesforce/review"
	case "error.nothing_to_retry", "error.paused":
		return "error.next_info", "/admin/salesforce/info"
	case "error.csrf", "error.internal", "error.bad_request", "error.bad_text":
		if from := sameOriginReferer(r); from != "" {
			return "error.next_retry", from
		}
		return "error.next_info", "/admin/salesforce/info"
	}
	return "", ""
}

// sameOriginReferer is the path (and query) of the page a request came
// from on this site, or "" for another site or none: never a way off-site.
func sameOriginReferer(r *http.Request) string {
	u, err := url.Parse(r.Referer())
	if err != nil || u.Host != r.Host || !strings.HasPrefix(u.Path, "/") || strings.HasPrefix(u.Path, "//") {
		return ""
	}
	if u.RawQuery != "" {
		return u.Path + "?" + u.RawQuery
	}
	return u.Path
}

// renderFieldError refuses a form whose field holds text that cannot be
// stored, naming the field (422).
func (s *server) renderFieldError(w http.ResponseWriter, r *http.Request, rc *reqCtx, field, reason string) {
	back := "/admin/integrations"
	if rc == nil {
		back = "/login"
	}
	v := errorView{Message: "error.bad_text", Back: back, Field: field, Reason: reason}
	if rc != nil {
		v.NextKey, v.Next = nextStep(r, v.Message)
	}
	s.renderPage(w, r, rc, http.StatusUnprocessableEntity, "error", v)
}

// refusal is a connect failure page: a title by code and the message
// sfconn wrote for it.
type refusal struct {
	Code    string
	Title   string // catalogue key
	Message string
	// Callback is the URL to register in the Connected App, shown when
	// the server has no Salesforce credentials.
	Callback string
}

func refusalView(ref *sfconn.Refusal, lang string) refusal {
	key := "refusal." + ref.Code
	if !hasKey(key) {
		key = "refusal.other"
	}
	return refusal{Code: ref.Code, Title: key, Message: ref.Message(lang)}
}

func (s *server) refusalView(ref *sfconn.Refusal, lang string) refusal {
	v := refusalView(ref, lang)
	if ref.Code == sfconn.CodeNotConfigured && s.opts.BaseURL != "" {
		v.Callback = strings.TrimRight(s.opts.BaseURL, "/") + CallbackPath
	}
	return v
}

func urlQueryEscape(s string) string { return url.QueryEscape(s) }

// localPath accepts only a path on this site (no scheme, no host, no
// "//" or backslash tricks), so redirects after login or a language
// switch cannot leave it.
func localPath(p, fallback string) string {
	if p == "" || !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") || strings.ContainsAny(p, "\\\r\n") {
		return fallback
	}
	u, err := url.Parse(p)
	if err != nil || u.Scheme != "" || u.Host != "" {
		return fallback
	}
	return p
}
