// Package web is the merchant admin's web UI: sign-in, the integrations
// page with the Salesforce card, the connect and authorize flow, the setup
// wizard (steps 2–6 of the seed), live progress of the first sync, the sync
// information page with run logs, the review queue of held matches, and
// disconnect. Pages are rendered on the
// server with html/template from embedded files, work without JavaScript,
// and speak Traditional Chinese and English (SPEC X9).
package web

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/sfsync/sfsync/internal/alert"
	"github.com/sfsync/sfsync/internal/contact"
	"github.com/sfsync/sfsync/internal/sfconn"
	"github.com/sfsync/sfsync/internal/store"
	"github.com/sfsync/sfsync/internal/syncconf"
	"github.com/sfsync/sfsync/internal/syncer"
	"github.com/sfsync/sfsync/internal/tenant"
)

// Engine is what the admin UI needs from the sync engine. *syncer.Engine
// implements it; handler tests use a fake.
type Engine interface {
	Env(ctx context.Context, tenantID string) (syncconf.Env, error)
	EnvFor(ctx context.Context, tenantID string, object syncconf.ObjectChoice) (syncconf.Env, error)                // Env for the chosen object (issue 16)                                                 // describe of Contact + custom fields + entitlements
	ValidateConfig(ctx context.Context, tenantID string, cfg syncconf.Config) error                                 // syncconf.ValidationErrors on failure
	SaveConfig(ctx context.Context, tenantID, adminID string, cfg syncconf.Config) (store.SyncConfigVersion, error) // validates, stores, activates; push-only starts real-time at once (S17)
	CurrentConfig(ctx context.Context, tenantID string) (syncconf.Config, int64, error)                             // version 0 + store.ErrNotFound when none
	DryRun(ctx context.Context, tenantID string, cfg syncconf.Config) (syncconf.DryRunReport, error)
	StartInitialSync(ctx context.Context, tenantID string) (syncer.Run, error)
	SyncNow(ctx context.Context, tenantID string) (syncer.Run, error) // manual Salesforce → platform (S20)
	FullResync(ctx context.Context, tenantID string) (syncer.Run, error)
	Outage(ctx context.Context, tenantID string) (since time.Time, ok bool, err error)                    // Salesforce unreachable for 5 minutes or more
	DriftCheck(ctx context.Context, tenantID string) (syncer.Run, error)                                  // drift check and repair now (Y2)
	DriftReport(ctx context.Context, tenantID string, runID int64) (store.DriftReport, error)             // store.ErrNotFound: not a finished drift check
	RetryFailed(ctx context.Context, tenantID string, runID int64, reasonCode string) (syncer.Run, error) // runID 0 = all failed records; reasonCode "" = the whole run
	ResyncAdvised(ctx context.Context, tenantID string) (bool, error)                                     // identity or conditions changed since the last full sync
	InitialRun(ctx context.Context, tenantID string) (syncer.Run, bool, error)                            // the first full sync, for the % (S18)
	ListRuns(ctx context.Context, tenantID string, f syncer.RunFilter) ([]syncer.Run, error)
	GetRun(ctx context.Context, tenantID string, runID int64) (syncer.Run, error)
	RunRecords(ctx context.Context, tenantID string, runID int64, kind syncer.RecordKind, reasonCode string, limit int) ([]syncer.RunRecord, error)
	ReasonGroups(ctx context.Context, tenantID string, runID int64) ([]syncer.ReasonGroup, error)
	WriteRunCSV(ctx context.Context, tenantID string, runID int64, kind syncer.RecordKind, reasonCode string, w io.Writer) error // kind, reasonCode "" = every record
	Usage(ctx context.Context, tenantID string) (used, max int, budget float64, err error)
	Disconnect(ctx context.Context, tenantID string) error // stops schedules and pushes, revokes the token, keeps contacts (S22)

	// The review queue (Y5).
	ListReview(ctx context.Context, tenantID string, f store.ReviewFilter) ([]store.ReviewItem, error)
	GetReview(ctx context.Context, tenantID string, id int64) (store.ReviewItem, error)
	CountOpenReview(ctx context.Context, tenantID string) (int64, error)
	ResolveReview(ctx context.Context, tenantID string, id int64, res store.ReviewResolution, sfID, adminID string) (store.ReviewItem, error) // store.ErrConflict when resolved already

	// Sync health (issue 17).
	Health(ctx context.Context, tenantID string) (syncer.Health, error)                                         // from the database only: no API call
	History(ctx context.Context, tenantID string, since time.Time) (syncer.History, error)                      // hourly usage, runs and failures for the charts
	CheckRetry(ctx context.Context, tenantID string, runID int64, reasonCode string) (syncer.RetryCheck, error) // what RetryFailed would retry, and how much of it changed since
}

// Options configure the admin UI.
type Options struct {
	Store  *store.Store
	Conn   *sfconn.Service
	Engine Engine
	Logger *slog.Logger
	// BaseURL is the public origin of the service, e.g. https://sync.example.com;
	// the Connected App's callback URL is BaseURL + CallbackPath.
	BaseURL string
	// SecureCookies marks cookies Secure; it is set by itself when
	// BaseURL is https.
	SecureCookies bool
	// Now is the clock (rate limits); time.Now when nil.
	Now func() time.Time
	// PlatformName is how the UI names the platform in both languages
	// (e.g. "Omnichat"); "平台" / "Platform" when empty.
	PlatformName string
	// ContactURL links a platform contact from the sync log: a URL with
	// "{id}" standing for the contact's ID (e.g. the platform's contact
	// page). Empty: contact IDs are shown without a link.
	ContactURL string
	// SessionTTL is how long a sign-in lasts; 12 hours when zero.
	SessionTTL time.Duration
	// LoginLimit attempts per LoginWindow are allowed per client IP and per
	// e-mail address; 5 per minute when zero.
	LoginLimit  int
	LoginWindow time.Duration
	// TrustForwardedFor takes the client IP for the login rate limit from
	// the last X-Forwarded-For hop (set it only behind a reverse proxy
	// that writes that header).
	TrustForwardedFor bool
	// ProgressInterval is how often the progress stream reports; 1s when zero.
	ProgressInterval time.Duration
	// Alerts keeps the alert settings (nil: the alerts page says alerts
	// are not available on this server).
	Alerts *alert.Service
}

// CallbackPath is the OAuth callback route; register BaseURL+CallbackPath
// as the Connected App's callback URL.
const CallbackPath = "/oauth/salesforce/callback"

const (
	sessionCookie    = "sfsync_session"
	loginCSRFCookie  = "sfsync_login_csrf"
	langCookie       = "sfsync_lang"
	maxFormBytes     = 1 << 20
	defaultSessionTT = 12 * time.Hour
)

type server struct {
	opts    Options
	log     *slog.Logger
	pages   *pages
	limiter *limiter
	mux     *http.ServeMux
}

// New returns the admin UI's handler. It serves /, /login, /logout,
// /static/…, everything under /admin/ and the OAuth callback
// GET /oauth/salesforce/callback.
func New(opts Options) http.Handler {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.SessionTTL <= 0 {
		opts.SessionTTL = defaultSessionTT
	}
	if opts.LoginLimit <= 0 {
		opts.LoginLimit = 5
	}
	if opts.LoginWindow <= 0 {
		opts.LoginWindow = time.Minute
	}
	if opts.ProgressInterval <= 0 {
		opts.ProgressInterval = time.Second
	}
	// Served over https, cookies are Secure whatever the embedder said:
	// a session cookie sent over plain http can be stolen on the way.
	if u, err := url.Parse(opts.BaseURL); err == nil && strings.EqualFold(u.Scheme, "https") {
		opts.SecureCookies = true
	}
	s := &server{
		opts:    opts,
		log:     opts.Logger,
		pages:   mustParsePages(),
		limiter: newLimiter(opts.LoginLimit, opts.LoginWindow, opts.Now),
		mux:     http.NewServeMux(),
	}
	s.routes()
	return s
}

func (s *server) routes() {
	m := s.mux
	m.HandleFunc("GET /{$}", s.root)
	m.Handle("GET /static/", http.StripPrefix("/static/", staticHandler()))
	m.HandleFunc("GET /login", s.loginPage)
	m.HandleFunc("POST /login", s.login)
	m.HandleFunc("POST /logout", s.admin(s.logout))
	m.HandleFunc("GET "+CallbackPath, s.admin(s.callback))

	m.HandleFunc("GET /admin/{$}", s.admin(func(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
		http.Redirect(w, r, "/admin/integrations", http.StatusSeeOther)
	}))
	m.HandleFunc("POST /admin/language", s.admin(s.setLanguage))
	m.HandleFunc("GET /admin/integrations", s.admin(s.integrations))
	m.HandleFunc("GET /admin/salesforce/connect", s.admin(s.connectPage))
	m.HandleFunc("POST /admin/salesforce/authorize", s.admin(s.authorize))
	m.HandleFunc("GET /admin/salesforce/connected", s.admin(s.connected))
	m.HandleFunc("GET /admin/salesforce/setup", s.admin(func(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
		http.Redirect(w, r, "/admin/salesforce/setup/identity", http.StatusSeeOther)
	}))
	m.HandleFunc("GET /admin/salesforce/setup/{step}", s.admin(s.setupGet))
	m.HandleFunc("POST /admin/salesforce/setup/{step}", s.admin(s.setupPost))
	m.HandleFunc("GET /admin/salesforce/start", s.admin(s.startPage))
	m.HandleFunc("POST /admin/salesforce/start", s.admin(s.startSync))
	m.HandleFunc("GET /admin/salesforce/progress", s.admin(s.progressJSON))
	m.HandleFunc("GET /admin/salesforce/progress/events", s.admin(s.progressEvents))
	m.HandleFunc("GET /admin/salesforce/info", s.admin(s.infoPage))
	m.HandleFunc("POST /admin/salesforce/sync-now", s.admin(s.manualSync))
	m.HandleFunc("POST /admin/salesforce/full-resync", s.admin(s.manualSync))
	m.HandleFunc("POST /admin/salesforce/retry-failed", s.admin(s.manualSync))
	m.HandleFunc("POST /admin/salesforce/drift-check", s.admin(s.manualSync))
	m.HandleFunc("POST /admin/salesforce/budget", s.admin(s.setBudget))
	m.HandleFunc("GET /admin/salesforce/retry-failed", s.admin(s.retryCheckPage))
	m.HandleFunc("GET /admin/salesforce/runs/{id}", s.admin(s.runPage))
	m.HandleFunc("POST /admin/salesforce/runs/{id}/retry", s.admin(s.retryRun))
	m.HandleFunc("GET /admin/salesforce/runs/{id}/retry", s.admin(s.retryCheckPage))
	m.HandleFunc("GET /admin/salesforce/runs/{id}/export.csv", s.admin(s.exportRun))
	m.HandleFunc("GET /admin/salesforce/review", s.admin(s.reviewPage))
	m.HandleFunc("POST /admin/salesforce/review/{id}/resolve", s.admin(s.resolveReview))
	m.HandleFunc("GET /admin/salesforce/disconnect", s.admin(s.disconnectPage))
	m.HandleFunc("POST /admin/salesforce/disconnect", s.admin(s.disconnect))
	m.HandleFunc("GET /admin/salesforce/history", s.admin(s.historyPage))
	m.HandleFunc("POST /admin/salesforce/history/resync", s.admin(s.resyncContact))
	m.HandleFunc("GET /admin/salesforce/controls", s.admin(s.controlsPage))
	m.HandleFunc("POST /admin/salesforce/pause", s.admin(s.setPause))
	m.HandleFunc("GET /admin/salesforce/config/export.json", s.admin(s.exportConfig))
	m.HandleFunc("POST /admin/salesforce/config/import", s.admin(s.importConfig))
	m.HandleFunc("GET /admin/salesforce/alerts", s.admin(s.alertsPage))
	m.HandleFunc("POST /admin/salesforce/alerts", s.admin(s.saveAlerts))
	m.HandleFunc("/admin/", s.admin(func(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
		s.renderError(w, r, rc, http.StatusNotFound, "error.not_found")
	}))
}

func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("X-Frame-Options", "DENY")
	// No form-action: "Go to authorize" redirects a form post to Salesforce.
	h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'")
	s.mux.ServeHTTP(w, r)
}

// root sends signed-in admins to the integrations page, others to sign in.
func (s *server) root(w http.ResponseWriter, r *http.Request) {
	if _, _, err := s.session(r); err == nil {
		http.Redirect(w, r, "/admin/integrations", http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

// reqCtx is what every signed-in request knows.
type reqCtx struct {
	Admin     tenant.Admin
	Tenant    tenant.Tenant
	Session   store.AdminSession
	sessionID string
	Lang      string
}

// binding ties an OAuth state to this sign-in session: the hash of the
// session ID, never the ID itself (it is a bearer secret).
func (rc *reqCtx) binding() string {
	sum := sha256.Sum256([]byte(rc.sessionID))
	return "session:" + hex.EncodeToString(sum[:16])
}

var errNoSession = errors.New("no session")

func (s *server) session(r *http.Request) (string, store.AdminSession, error) {
	c, err := r.Cookie(sessionCookie)
	if err != nil || c.Value == "" {
		return "", store.AdminSession{}, errNoSession
	}
	sess, err := s.opts.Store.GetSession(r.Context(), c.Value)
	if err != nil {
		return "", store.AdminSession{}, err
	}
	return c.Value, sess, nil
}

// admin wraps a handler that needs a signed-in admin; it checks the CSRF
// token of every POST.
func (s *server) admin(h func(http.ResponseWriter, *http.Request, *reqCtx)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id, sess, err := s.session(r)
		if err != nil {
			if !errors.Is(err, errNoSession) && !errors.Is(err, store.ErrNotFound) {
				s.log.ErrorContext(r.Context(), "reading session failed", "error", err)
			}
			if r.Method == http.MethodGet && !strings.HasPrefix(r.URL.Path, "/admin/salesforce/progress") {
				next := r.URL.RequestURI()
				if r.URL.Path == CallbackPath {
					next = ""
				}
				target := "/login"
				if next != "" {
					target += "?next=" + urlQueryEscape(next)
				}
				http.Redirect(w, r, target, http.StatusSeeOther)
				return
			}
			if r.Method == http.MethodPost {
				// An expired session on a form post: sign in again.
				http.Redirect(w, r, "/login", http.StatusSeeOther)
				return
			}
			http.Error(w, "sign in first", http.StatusUnauthorized)
			return
		}
		a, err := s.opts.Store.GetAdmin(r.Context(), sess.AdminID)
		if err != nil || a.TenantID != sess.TenantID {
			s.log.WarnContext(r.Context(), "session of a missing admin", "admin_id", sess.AdminID, "error", err)
			http.Redirect(w, r, "/login", http.StatusSeeOther)
			return
		}
		t, err := s.opts.Store.GetTenant(r.Context(), sess.TenantID)
		if err != nil {
			s.log.ErrorContext(r.Context(), "reading tenant failed", "tenant_id", sess.TenantID, "error", err)
			http.Error(w, "internal error", http.StatusInternalServerError)
			return
		}
		rc := &reqCtx{Admin: a, Tenant: t, Session: sess, sessionID: id, Lang: pickLang(a.Language, t.Language)}
		if r.Method == http.MethodPost {
			r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
			if err := r.ParseForm(); err != nil {
				s.renderError(w, r, rc, http.StatusBadRequest, "error.bad_request")
				return
			}
			if !equalTokens(r.PostForm.Get("csrf"), sess.CSRFToken) {
				s.log.WarnContext(r.Context(), "csrf token mismatch", "tenant_id", t.ID, "path", r.URL.Path)
				s.renderError(w, r, rc, http.StatusForbidden, "error.csrf")
				return
			}
			if field, reason := formTextProblem(r.PostForm); field != "" {
				s.renderFieldError(w, r, rc, field, reason)
				return
			}
		}
		h(w, r, rc)
	}
}

// formTextProblem finds the first form field (in name order) whose name or
// value holds a NUL character or bytes that are not UTF-8: such text is
// refused, never stored or rewritten.
func formTextProblem(form url.Values) (field, reason string) {
	names := make([]string, 0, len(form))
	for k := range form {
		names = append(names, k)
	}
	slices.Sort(names)
	for _, k := range names {
		if p := contact.TextProblem(k); p != "" {
			return strings.ToValidUTF8(strings.ReplaceAll(k, "\x00", ""), "?"), "this name " + p
		}
		for _, v := range form[k] {
			if p := contact.TextProblem(v); p != "" {
				return k, p
			}
		}
	}
	return "", ""
}

// fail shows err as a page: a Salesforce refusal in its own words, a
// missing record as 404, anything else as a logged internal error.
func (s *server) fail(w http.ResponseWriter, r *http.Request, rc *reqCtx, err error) {
	var ref *sfconn.Refusal
	switch {
	case errors.As(err, &ref):
		s.renderPage(w, r, rc, http.StatusConflict, "refusal", s.refusalView(ref, rc.Lang))
	case errors.Is(err, store.ErrNotFound):
		s.renderError(w, r, rc, http.StatusNotFound, "error.not_found")
	case errors.Is(err, syncer.ErrNotConfigured):
		s.renderError(w, r, rc, http.StatusConflict, "error.not_configured")
	case errors.Is(err, syncer.ErrNoPull):
		s.renderError(w, r, rc, http.StatusConflict, "error.no_pull")
	case errors.Is(err, syncer.ErrNothingToRetry):
		s.renderError(w, r, rc, http.StatusConflict, "error.nothing_to_retry")
	case errors.As(err, new(*syncer.PausedError)):
		s.renderError(w, r, rc, http.StatusConflict, "error.paused")
	case errors.Is(err, context.Canceled):
	default:
		s.log.ErrorContext(r.Context(), "admin request failed", "tenant_id", rc.Tenant.ID, "path", r.URL.Path, "error", err)
		s.renderError(w, r, rc, http.StatusInternalServerError, "error.internal")
	}
}
