package web

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/sfsync/sfsync/internal/sfconn"
	"github.com/sfsync/sfsync/internal/store"
	"github.com/sfsync/sfsync/internal/syncer"
)

// Card states of the Salesforce card (S3, S19, X5, S18).
const (
	cardPlanMissing = "plan_missing"
	cardAvailable   = "available"
	cardConnected   = "connected"
	cardBroken      = "broken"
	cardSyncing     = "syncing"
)

type cardView struct {
	State      string
	Conn       sfconn.Connection
	Configured bool
	NeedsStart bool
	Run        syncer.Run
	Pace       string // the running first sync's records/s and time left
	Paused     store.SyncPause
	// Unreachable is since when Salesforce has not answered, once that has
	// lasted five minutes (zero otherwise).
	Unreachable time.Time
	// Health is the sync's health in one line, once it is configured.
	Health *syncer.Health
	// Arrival says how Salesforce changes arrive (real time or polling,
	// since when); nil when nothing is pulled.
	Arrival *arrivalView
}

// arrivalView is how a tenant's Salesforce changes arrive (issue 15).
type arrivalView struct {
	Mode   string // store.StreamRealtime or store.StreamPolling
	Reason string // why polling; "" when no reason is known
	Since  time.Time
}

// arrival reads how the tenant's Salesforce changes arrive. Before any
// subscription (the first sync is still to come, or real time is off in
// this installation) they arrive by polling, since no known time.
func (s *server) arrival(ctx context.Context, tenantID string) (*arrivalView, error) {
	rs, err := s.opts.Store.GetRealtimeStream(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	if rs.Mode == "" {
		return &arrivalView{Mode: store.StreamPolling}, nil
	}
	return &arrivalView{Mode: rs.Mode, Reason: rs.Reason, Since: rs.Since}, nil
}

// card works out the Salesforce card's state for a tenant.
func (s *server) card(r *http.Request, rc *reqCtx) (cardView, error) {
	ctx := r.Context()
	if !rc.Tenant.Plan.SalesforceAddon {
		return cardView{State: cardPlanMissing}, nil
	}
	conn, err := s.opts.Conn.Status(ctx, rc.Tenant.ID)
	if err != nil {
		return cardView{}, err
	}
	cv := cardView{Conn: conn}
	switch conn.Status {
	case store.ConnConnected:
		cv.State = cardConnected
	case store.ConnBroken:
		cv.State = cardBroken
		return cv, nil
	default:
		cv.State = cardAvailable
		return cv, nil
	}
	if since, ok, err := s.opts.Engine.Outage(ctx, rc.Tenant.ID); err != nil {
		return cv, err
	} else if ok {
		cv.Unreachable = since
	}
	cfg, _, err := s.opts.Engine.CurrentConfig(ctx, rc.Tenant.ID)
	switch {
	case err == nil:
		cv.Configured = true
	case errors.Is(err, store.ErrNotFound):
	default:
		return cv, err
	}
	if cv.Paused, err = s.pauseOf(ctx, rc.Tenant.ID); err != nil {
		return cv, err
	}
	run, ok, err := s.opts.Engine.InitialRun(ctx, rc.Tenant.ID)
	if err != nil {
		return cv, err
	}
	if ok && !runDone(run) {
		cv.State, cv.Run = cardSyncing, run
		cv.Pace = paceText(rc.Lang, run, s.opts.Now())
	}
	// Saved, but the first sync was never started (S16).
	cv.NeedsStart = cv.Configured && !ok && cfg.PullsFromSalesforce()
	if cv.Configured {
		h, err := s.opts.Engine.Health(ctx, rc.Tenant.ID)
		if err != nil {
			return cv, err
		}
		cv.Health = &h
	}
	if cv.Configured && cfg.PullsFromSalesforce() {
		if cv.Arrival, err = s.arrival(ctx, rc.Tenant.ID); err != nil {
			return cv, err
		}
	}
	return cv, nil
}

func (s *server) integrations(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	cv, err := s.card(r, rc)
	if err != nil {
		s.fail(w, r, rc, err)
		return
	}
	s.renderPage(w, r, rc, http.StatusOK, "integrations", cv)
}

type connectView struct {
	DefaultHost string
	Choice      string
	MyDomain    string
	Error       string // a refusal's message
	// Relogin asks Salesforce for its login page (prompt=login): set when
	// the admin tries again after a refusal or reconnects a broken
	// connection, so another Salesforce user can sign in.
	Relogin bool
}

func (s *server) defaultLoginURL() string {
	if s.opts.Conn != nil && s.opts.Conn.DefaultLoginURL != "" {
		return s.opts.Conn.DefaultLoginURL
	}
	return "https://login.salesforce.com"
}

func hostOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return raw
	}
	return u.Host
}

func (s *server) connectPage(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	if !rc.Tenant.Plan.SalesforceAddon {
		s.fail(w, r, rc, planRefusal(rc.Lang))
		return
	}
	s.renderPage(w, r, rc, http.StatusOK, "connect", connectView{DefaultHost: hostOf(s.defaultLoginURL()), Choice: "production",
		Relogin: r.URL.Query().Get("relogin") == "1"})
}

// connectedBefore reports whether the tenant was connected to Salesforce
// before (it has a saved configuration or a sync run): connecting again is
// a reconnect, and Salesforce is asked for its login page.
func (s *server) connectedBefore(r *http.Request, rc *reqCtx) (bool, error) {
	_, _, err := s.opts.Engine.CurrentConfig(r.Context(), rc.Tenant.ID)
	switch {
	case err == nil:
		return true, nil
	case !errors.Is(err, store.ErrNotFound):
		return false, err
	}
	runs, err := s.opts.Engine.ListRuns(r.Context(), rc.Tenant.ID, syncer.RunFilter{Limit: 1})
	return len(runs) > 0, err
}

// planRefusal is sfconn's plan refusal, obtained without starting a flow.
func planRefusal(lang string) *sfconn.Refusal {
	zh, _ := translate(langZH, "card.plan_missing_text")
	en, _ := translate(langEN, "card.plan_missing_text")
	return &sfconn.Refusal{Code: sfconn.CodePlanMissing, MessageZH: zh, MessageEN: en}
}

// authorize starts the OAuth flow (S4) and sends the browser to
// Salesforce's login page.
func (s *server) authorize(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	cv := connectView{DefaultHost: hostOf(s.defaultLoginURL()), Choice: r.PostForm.Get("login"), MyDomain: strings.TrimSpace(r.PostForm.Get("my_domain")),
		Relogin: r.PostForm.Get("relogin") == "1"}
	var login string
	switch cv.Choice {
	case "sandbox":
		login = "https://test.salesforce.com"
	case "my_domain":
		login = cv.MyDomain
		if login != "" && !strings.Contains(login, "://") {
			login = "https://" + login
		}
	default:
		cv.Choice = "production"
		login = s.defaultLoginURL()
	}
	start := s.opts.Conn.Start
	if !cv.Relogin {
		before, err := s.connectedBefore(r, rc)
		if err != nil {
			s.fail(w, r, rc, err)
			return
		}
		cv.Relogin = before
	}
	if cv.Relogin {
		start = s.opts.Conn.StartLogin
	}
	target, err := start(r.Context(), rc.Tenant.ID, rc.binding(), login)
	var ref *sfconn.Refusal
	if errors.As(err, &ref) && ref.Code == sfconn.CodeBadLoginURL {
		cv.Error = ref.Message(rc.Lang)
		s.renderPage(w, r, rc, http.StatusUnprocessableEntity, "connect", cv)
		return
	}
	if err != nil {
		s.fail(w, r, rc, err)
		return
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
}

// callback finishes the OAuth flow: back on the platform with "Start
// setup", or a page saying exactly what went wrong (S2, S5, denied, state).
func (s *server) callback(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	q := r.URL.Query()
	_, err := s.opts.Conn.Finish(r.Context(), rc.Tenant.ID, rc.binding(), sfconn.CallbackParams{
		State: q.Get("state"), Code: q.Get("code"), Error: q.Get("error"), ErrorDescription: q.Get("error_description")})
	var ref *sfconn.Refusal
	if errors.As(err, &ref) {
		s.log.InfoContext(r.Context(), "salesforce connection refused", "tenant_id", rc.Tenant.ID, "code", ref.Code)
		s.renderPage(w, r, rc, http.StatusOK, "refusal", s.refusalView(ref, rc.Lang))
		return
	}
	if err != nil {
		s.fail(w, r, rc, err)
		return
	}
	http.Redirect(w, r, "/admin/salesforce/connected", http.StatusSeeOther)
}

func (s *server) connected(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	conn, err := s.opts.Conn.Status(r.Context(), rc.Tenant.ID)
	if err != nil {
		s.fail(w, r, rc, err)
		return
	}
	if conn.Status != store.ConnConnected {
		http.Redirect(w, r, "/admin/integrations", http.StatusSeeOther)
		return
	}
	s.renderPage(w, r, rc, http.StatusOK, "connected", conn)
}

func (s *server) disconnectPage(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	conn, err := s.opts.Conn.Status(r.Context(), rc.Tenant.ID)
	if err != nil {
		s.fail(w, r, rc, err)
		return
	}
	if conn.Status == store.ConnNotConnected {
		http.Redirect(w, r, "/admin/integrations", http.StatusSeeOther)
		return
	}
	s.renderPage(w, r, rc, http.StatusOK, "disconnect", conn)
}

func (s *server) disconnect(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	if err := s.opts.Engine.Disconnect(r.Context(), rc.Tenant.ID); err != nil {
		s.fail(w, r, rc, err)
		return
	}
	s.log.InfoContext(r.Context(), "salesforce disconnected by admin", "tenant_id", rc.Tenant.ID, "admin_id", rc.Admin.ID)
	http.Redirect(w, r, "/admin/integrations?done=disconnected", http.StatusSeeOther)
}
