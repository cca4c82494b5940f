package web

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/sfsync/sfsync/internal/alert"
	"github.com/sfsync/sfsync/internal/contact"
	"github.com/sfsync/sfsync/internal/store"
	"github.com/sfsync/sfsync/internal/syncconf"
	"github.com/sfsync/sfsync/internal/syncer"
)

// Issue 17's pages: a contact's sync history with "resync this contact"
// (Y3), the controls page (pause each direction, export and import the
// configuration) and the alert settings.

// Controls is what those pages need from the engine beyond Engine.
// *syncer.Engine implements it; an engine without it (the handler tests'
// fake) makes those pages answer 404.
type Controls interface {
	FindContacts(ctx context.Context, tenantID, by, value string) ([]contact.Contact, error)
	ContactHistory(ctx context.Context, tenantID, contactID string, limit int) (syncer.ContactHistory, error)
	ResyncContact(ctx context.Context, tenantID, contactID string) (syncer.ResyncResult, error)
	Pause(ctx context.Context, tenantID string) (store.SyncPause, error)
	SetPause(ctx context.Context, tenantID string, p store.SyncPause) error
	ExportConfig(ctx context.Context, tenantID string) (syncer.ConfigExport, error)
	ImportConfig(ctx context.Context, tenantID, adminID string, file []byte, validateOnly bool) (syncer.ConfigExport, store.SyncConfigVersion, error)
}

var _ Controls = (*syncer.Engine)(nil)

func (s *server) controlsOrNotFound(w http.ResponseWriter, r *http.Request, rc *reqCtx) (Controls, bool) {
	c, ok := s.opts.Engine.(Controls)
	if !ok {
		s.renderError(w, r, rc, http.StatusNotFound, "error.not_found")
	}
	return c, ok
}

// pauseOf is the tenant's pause, none when the engine has no controls.
func (s *server) pauseOf(ctx context.Context, tenantID string) (store.SyncPause, error) {
	if c, ok := s.opts.Engine.(Controls); ok {
		return c.Pause(ctx, tenantID)
	}
	return store.SyncPause{}, nil
}

var findBys = []string{syncer.FindByMemberID, syncer.FindByPhone, syncer.FindByEmail, syncer.FindBySocial, syncer.FindByContactID}

type historyChangeRow struct {
	Entry   store.FieldHistoryEntry
	Change  store.FieldChange
	Value   string
	Old     string
	RuleKey string // catalogue key of the rule's reason ("" when none)
	Rule    string // the code, when it has no key
}

type historyPage struct {
	By, Query string
	Bys       []string
	FindError string
	Matches   []contact.Contact
	Found     bool
	Contact   contact.Contact
	H         syncer.ContactHistory
	Rows      []historyChangeRow
	// SalesforceURL links the linked record (instance URL + Id).
	SalesforceURL string
	Done          string // "resynced" after the button
	Resync        *syncer.ResyncResult
}

func historyValue(v any) string {
	switch v := v.(type) {
	case nil:
		return "—"
	case string:
		if v == "" {
			return "—"
		}
		return v
	}
	b, _ := json.Marshal(v)
	return string(b)
}

func (s *server) historyPage(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	ctl, ok := s.controlsOrNotFound(w, r, rc)
	if !ok {
		return
	}
	ctx, q := r.Context(), r.URL.Query()
	v := historyPage{By: q.Get("by"), Query: q.Get("q"), Bys: findBys, Done: q.Get("done")}
	if v.By == "" {
		v.By = syncer.FindByMemberID
	}
	contactID := q.Get("contact")
	if contactID == "" && strings.TrimSpace(v.Query) != "" {
		list, err := ctl.FindContacts(ctx, rc.Tenant.ID, v.By, v.Query)
		var fe *syncer.FindError
		switch {
		case errors.As(err, &fe):
			v.FindError = fe.Reason
		case err != nil:
			s.fail(w, r, rc, err)
			return
		case len(list) == 1:
			contactID = list[0].ID
		default:
			v.Matches = list
		}
	}
	if contactID != "" {
		h, err := ctl.ContactHistory(ctx, rc.Tenant.ID, contactID, 200)
		if err != nil {
			s.fail(w, r, rc, err)
			return
		}
		v.Found, v.Contact, v.H = true, h.Contact, h
		for _, en := range h.Entries {
			for _, ch := range en.Changes {
				row := historyChangeRow{Entry: en, Change: ch, Value: historyValue(ch.Value), Old: historyValue(ch.Old)}
				if ch.Rule != "" {
					if hasKey("reason." + ch.Rule) {
						row.RuleKey = "reason." + ch.Rule
					} else {
						row.Rule = ch.Rule
					}
				}
				v.Rows = append(v.Rows, row)
			}
		}
		if h.Linked {
			if conn, err := s.opts.Conn.Status(ctx, rc.Tenant.ID); err == nil && conn.InstanceURL != "" {
				v.SalesforceURL = strings.TrimRight(conn.InstanceURL, "/") + "/" + h.SalesforceID
			}
		}
	}
	s.renderPage(w, r, rc, http.StatusOK, "history", v)
}

func (s *server) resyncContact(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	ctl, ok := s.controlsOrNotFound(w, r, rc)
	if !ok {
		return
	}
	id := r.PostForm.Get("contact_id")
	res, err := ctl.ResyncContact(r.Context(), rc.Tenant.ID, id)
	if errors.Is(err, syncer.ErrNothingToResync) {
		s.renderError(w, r, rc, http.StatusConflict, "error.nothing_to_resync")
		return
	}
	if err != nil {
		s.fail(w, r, rc, err)
		return
	}
	s.log.InfoContext(r.Context(), "contact resynced by admin", "tenant_id", rc.Tenant.ID, "admin_id", rc.Admin.ID, "contact_id", id)
	done := "resynced"
	if res.PullRun.Status == syncer.StatusFailed || res.PullRun.Status == syncer.StatusPartiallyFailed {
		done = "resync_failed" // the run's page says why
	}
	http.Redirect(w, r, "/admin/salesforce/history?contact="+urlQueryEscape(id)+"&done="+done, http.StatusSeeOther)
}

type controlsPage struct {
	Pause      store.SyncPause
	Configured bool
	// The import form's result.
	File         string
	ImportErrors []importProblem
	ImportError  string
	Validated    bool
	Imported     int64
	Source       syncer.ExportSource
}

type importProblem struct {
	Path, Message string
}

func (s *server) controlsPage(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	ctl, ok := s.controlsOrNotFound(w, r, rc)
	if !ok {
		return
	}
	v, err := s.controlsView(r, rc, ctl)
	if err != nil {
		s.fail(w, r, rc, err)
		return
	}
	s.renderPage(w, r, rc, http.StatusOK, "controls", v)
}

func (s *server) controlsView(r *http.Request, rc *reqCtx, ctl Controls) (controlsPage, error) {
	var v controlsPage
	var err error
	if v.Pause, err = ctl.Pause(r.Context(), rc.Tenant.ID); err != nil {
		return v, err
	}
	_, _, err = s.opts.Engine.CurrentConfig(r.Context(), rc.Tenant.ID)
	v.Configured = err == nil
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return v, err
	}
	return v, nil
}

// setPause serves the pause and resume buttons (direction, paused=1|0).
func (s *server) setPause(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	ctl, ok := s.controlsOrNotFound(w, r, rc)
	if !ok {
		return
	}
	p, err := ctl.Pause(r.Context(), rc.Tenant.ID)
	if err != nil {
		s.fail(w, r, rc, err)
		return
	}
	paused := r.PostForm.Get("paused") == "1"
	switch syncer.Direction(r.PostForm.Get("direction")) {
	case syncer.DirToPlatform:
		p.ToPlatform = paused
	case syncer.DirToSalesforce:
		p.ToSalesforce = paused
	default:
		s.renderError(w, r, rc, http.StatusBadRequest, "error.bad_request")
		return
	}
	if err := ctl.SetPause(r.Context(), rc.Tenant.ID, p); err != nil {
		s.fail(w, r, rc, err)
		return
	}
	s.log.InfoContext(r.Context(), "sync pause changed by admin", "tenant_id", rc.Tenant.ID, "admin_id", rc.Admin.ID, "to_platform", p.ToPlatform, "to_salesforce", p.ToSalesforce)
	done := "resumed"
	if paused {
		done = "paused"
	}
	http.Redirect(w, r, "/admin/salesforce/controls?done="+done, http.StatusSeeOther)
}

func (s *server) exportConfig(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	ctl, ok := s.controlsOrNotFound(w, r, rc)
	if !ok {
		return
	}
	exp, err := ctl.ExportConfig(r.Context(), rc.Tenant.ID)
	if errors.Is(err, store.ErrNotFound) {
		s.renderError(w, r, rc, http.StatusConflict, "error.not_configured")
		return
	}
	if err != nil {
		s.fail(w, r, rc, err)
		return
	}
	b, err := json.MarshalIndent(exp, "", "  ")
	if err != nil {
		s.fail(w, r, rc, err)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="sfsync-config-v`+strconv.FormatInt(exp.Version, 10)+`.json"`)
	w.Write(append(b, '\n'))
}

// importConfig checks (action=validate) or imports the pasted export file;
// the page shows every error against this org's fields, naming the field.
func (s *server) importConfig(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	ctl, ok := s.controlsOrNotFound(w, r, rc)
	if !ok {
		return
	}
	v, err := s.controlsView(r, rc, ctl)
	if err != nil {
		s.fail(w, r, rc, err)
		return
	}
	v.File = r.PostForm.Get("file")
	validateOnly := r.PostForm.Get("action") == "validate"
	doc, ver, err := ctl.ImportConfig(r.Context(), rc.Tenant.ID, rc.Admin.ID, []byte(v.File), validateOnly)
	v.Source = doc.Source
	var ie *syncer.ImportError
	var ves syncconf.ValidationErrors
	status := http.StatusOK
	switch {
	case errors.As(err, &ie):
		v.ImportError, status = ie.Reason, http.StatusUnprocessableEntity
	case errors.As(err, &ves):
		for _, ve := range ves {
			msg := ve.Message[syncconf.LangEN]
			if rc.Lang == langZH && ve.Message[syncconf.LangZHTW] != "" {
				msg = ve.Message[syncconf.LangZHTW]
			}
			v.ImportErrors = append(v.ImportErrors, importProblem{Path: ve.Path, Message: msg})
		}
		status = http.StatusUnprocessableEntity
	case err != nil:
		s.fail(w, r, rc, err)
		return
	case validateOnly:
		v.Validated = true
	default:
		s.log.InfoContext(r.Context(), "sync configuration imported by admin", "tenant_id", rc.Tenant.ID, "admin_id", rc.Admin.ID, "version", ver.Version,
			"source_org", doc.Source.OrgID)
		v.Imported, v.Configured, v.File = ver.Version, true, ""
	}
	s.renderPage(w, r, rc, status, "controls", v)
}

type alertsPage struct {
	Available bool // the server keeps alerts
	Mail      bool // an SMTP server is configured
	Emails    string
	URL       string
	SecretSet bool
	RatePct   string
	Days      int
	States    []alertStateRow
	Error     *alert.FieldError
	Saved     bool
}

type alertStateRow struct {
	Kind   alert.Kind
	Known  bool
	State  store.AlertState
	Detail string
}

func (s *server) alertsView(ctx context.Context, tenantID string) (alertsPage, error) {
	v := alertsPage{Available: s.opts.Alerts != nil}
	if !v.Available {
		return v, nil
	}
	v.Mail = s.opts.Alerts.Mailer != nil
	set, err := s.opts.Alerts.Settings(ctx, tenantID)
	if err != nil {
		return v, err
	}
	v.Emails, v.URL, v.SecretSet = strings.Join(set.Emails, ", "), set.WebhookURL, set.WebhookSecret != ""
	v.RatePct, v.Days = strconv.FormatFloat(set.FailureRate*100, 'f', -1, 64), set.ReviewDays
	states, err := s.opts.Store.AlertStates(ctx, tenantID)
	if err != nil {
		return v, err
	}
	for _, k := range alert.Kinds {
		st, known := states[string(k)]
		v.States = append(v.States, alertStateRow{Kind: k, Known: known, State: st})
	}
	return v, nil
}

func (s *server) alertsPage(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	v, err := s.alertsView(r.Context(), rc.Tenant.ID)
	if err != nil {
		s.fail(w, r, rc, err)
		return
	}
	v.Saved = r.URL.Query().Get("done") == "alerts_saved"
	s.renderPage(w, r, rc, http.StatusOK, "alerts", v)
}

func (s *server) saveAlerts(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	if s.opts.Alerts == nil {
		s.renderError(w, r, rc, http.StatusNotFound, "error.not_found")
		return
	}
	ctx := r.Context()
	cur, err := s.opts.Alerts.Settings(ctx, rc.Tenant.ID)
	if err != nil {
		s.fail(w, r, rc, err)
		return
	}
	f := r.PostForm
	in := alert.Settings{WebhookURL: strings.TrimSpace(f.Get("webhook_url")), WebhookSecret: f.Get("webhook_secret")}
	in.Emails = strings.FieldsFunc(f.Get("emails"), func(r rune) bool { return r == ',' || r == '\n' || r == ' ' || r == '\r' || r == ';' })
	if in.WebhookSecret == "" && f.Get("clear_secret") != "1" {
		in.WebhookSecret = cur.WebhookSecret
	}
	var ferr *alert.FieldError
	if pct, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(f.Get("failure_rate")), "%"), 64); err != nil {
		ferr = &alert.FieldError{Field: "failure_rate", Reason: "a number of percent, e.g. 10"}
	} else {
		in.FailureRate = pct / 100
	}
	if d, err := strconv.Atoi(strings.TrimSpace(f.Get("review_days"))); err != nil {
		ferr = &alert.FieldError{Field: "review_days", Reason: "a whole number of days"}
	} else {
		in.ReviewDays = d
	}
	if ferr == nil {
		err = s.opts.Alerts.SaveSettings(ctx, rc.Tenant.ID, in)
		if !errors.As(err, &ferr) && err != nil {
			s.fail(w, r, rc, err)
			return
		}
	}
	if ferr != nil {
		v, err := s.alertsView(ctx, rc.Tenant.ID)
		if err != nil {
			s.fail(w, r, rc, err)
			return
		}
		v.Emails, v.URL, v.RatePct, v.Error = f.Get("emails"), f.Get("webhook_url"), f.Get("failure_rate"), ferr
		v.Days, _ = strconv.Atoi(f.Get("review_days"))
		s.renderPage(w, r, rc, http.StatusUnprocessableEntity, "alerts", v)
		return
	}
	s.log.InfoContext(ctx, "alert settings saved by admin", "tenant_id", rc.Tenant.ID, "admin_id", rc.Admin.ID, "recipients", len(in.Emails), "webhook", in.WebhookURL != "")
	http.Redirect(w, r, "/admin/salesforce/alerts?done=alerts_saved", http.StatusSeeOther)
}
