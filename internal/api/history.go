package api

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/sfsync/sfsync/internal/alert"
	"github.com/sfsync/sfsync/internal/contact"
	"github.com/sfsync/sfsync/internal/store"
	"github.com/sfsync/sfsync/internal/syncer"
)

// Issue 17: a contact's sync history (Y3) and "resync this contact", the
// pause of each direction, the configuration's export and import, and
// the alert settings.

var findParams = []string{syncer.FindByContactID, syncer.FindByMemberID, syncer.FindByPhone, syncer.FindByEmail, syncer.FindBySocial}

// findOne finds the one contact the query names by exactly one of
// contact_id, member_id, phone, email or social.
func (s *server) findOne(r *http.Request, eng *syncer.Engine, q url.Values) (contact.Contact, error) {
	var by string
	for k, vs := range q {
		switch {
		case k == "limit":
			continue
		case !slices.Contains(findParams, k):
			return contact.Contact{}, invalidField(k, "unknown query parameter; known are "+strings.Join(findParams, ", ")+", limit")
		case len(vs) > 1 || by != "":
			return contact.Contact{}, invalidField(k, "find the contact by exactly one of "+strings.Join(findParams, ", "))
		}
		by = k
	}
	if by == "" {
		return contact.Contact{}, invalidField("contact_id", "find the contact by one of "+strings.Join(findParams, ", "))
	}
	list, err := eng.FindContacts(r.Context(), tenantFrom(r.Context()), by, q.Get(by))
	var fe *syncer.FindError
	switch {
	case errors.As(err, &fe):
		return contact.Contact{}, invalidField(fe.By, fe.Reason)
	case err != nil:
		return contact.Contact{}, err
	case len(list) == 0:
		return contact.Contact{}, errorf(codeNotFound, "no platform contact has this %s", by)
	case len(list) > 1:
		var ids []string
		for _, c := range list {
			ids = append(ids, c.ID)
		}
		return contact.Contact{}, &apiError{code: codeInvalid, detail: by + ": several contacts hold this value (" + strings.Join(ids, ", ") + "); find by contact_id",
			fields: []fieldProblem{{Field: by, Reason: "several contacts hold this value; find by contact_id"}}}
	}
	return list[0], nil
}

type historyChange struct {
	Field           string `json:"field"`            // the mapping's key
	SalesforceField string `json:"salesforce_field"` // the Salesforce field
	ChangedBy       string `json:"changed_by"`       // salesforce or platform: whose value was written to the other side
	Value           any    `json:"value"`
	Previous        any    `json:"previous"`
	Rule            string `json:"rule,omitempty"` // the conflict or override rule that decided
	Created         bool   `json:"created,omitempty"`
}

type historyEntry struct {
	At           time.Time        `json:"at"`
	RunID        int64            `json:"run_id"`
	Direction    syncer.Direction `json:"direction"`
	SalesforceID string           `json:"salesforce_id,omitempty"`
	Changes      []historyChange  `json:"changes"`
}

type historyLastSync struct {
	RunID int64     `json:"run_id"`
	At    time.Time `json:"at"`
}

type historyView struct {
	Contact contactView `json:"contact"`
	Link    struct {
		Linked       bool   `json:"linked"`
		SalesforceID string `json:"salesforce_id,omitempty"`
		OutOfScope   bool   `json:"out_of_scope,omitempty"`
	} `json:"link"`
	LastPull *historyLastSync `json:"last_to_platform"`
	LastPush *historyLastSync `json:"last_to_salesforce"`
	Timeline []historyEntry   `json:"timeline"`
}

func lastSync(e *store.FieldHistoryEntry) *historyLastSync {
	if e == nil {
		return nil
	}
	return &historyLastSync{RunID: e.RunID, At: e.At}
}

// getHistory is a contact's sync history (Y3), newest first.
func (s *server) getHistory(w http.ResponseWriter, r *http.Request) error {
	eng, _, err := s.sync()
	if err != nil {
		return err
	}
	q := r.URL.Query()
	limit, err := intParam(q.Get("limit"), 100, 1, 1000, "limit")
	if err != nil {
		return err
	}
	c, err := s.findOne(r, eng, q)
	if err != nil {
		return err
	}
	h, err := eng.ContactHistory(r.Context(), tenantFrom(r.Context()), c.ID, limit)
	if err != nil {
		return err
	}
	v := historyView{Contact: viewContact(h.Contact), LastPull: lastSync(h.LastPull), LastPush: lastSync(h.LastPush), Timeline: []historyEntry{}}
	v.Link.Linked, v.Link.SalesforceID, v.Link.OutOfScope = h.Linked, h.SalesforceID, h.OutOfScope
	for _, en := range h.Entries {
		he := historyEntry{At: en.At, RunID: en.RunID, Direction: en.Direction, SalesforceID: en.SalesforceID}
		for _, ch := range en.Changes {
			he.Changes = append(he.Changes, historyChange{Field: ch.Key, SalesforceField: ch.SFField, ChangedBy: ch.Side, Value: ch.Value, Previous: ch.Old, Rule: ch.Rule, Created: ch.Created})
		}
		v.Timeline = append(v.Timeline, he)
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

// resyncContact re-reads the contact's linked Salesforce record and pushes
// its platform side through the normal decisions.
func (s *server) resyncContact(w http.ResponseWriter, r *http.Request) error {
	eng, _, err := s.sync()
	if err != nil {
		return err
	}
	c, err := s.findOne(r, eng, r.URL.Query())
	if err != nil {
		return err
	}
	res, err := eng.ResyncContact(r.Context(), tenantFrom(r.Context()), c.ID)
	if errors.Is(err, syncer.ErrNothingToResync) {
		return &apiError{code: codeRefused, detail: "the contact is not linked and the configuration does not push: nothing to resync", refusal: "nothing_to_resync"}
	}
	if err != nil {
		return refusalError(err)
	}
	writeJSON(w, http.StatusAccepted, res)
	return nil
}

func (s *server) getPause(w http.ResponseWriter, r *http.Request) error {
	eng, _, err := s.sync()
	if err != nil {
		return err
	}
	p, err := eng.Pause(r.Context(), tenantFrom(r.Context()))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, p)
	return nil
}

// putPause pauses or resumes each direction; a direction left out keeps
// its state.
func (s *server) putPause(w http.ResponseWriter, r *http.Request) error {
	eng, _, err := s.sync()
	if err != nil {
		return err
	}
	var body struct {
		ToPlatform   *bool `json:"to_platform"`
		ToSalesforce *bool `json:"to_salesforce"`
	}
	if err := decodeOptionalObject(w, r, &body); err != nil {
		return err
	}
	ctx, t := r.Context(), tenantFrom(r.Context())
	p, err := eng.Pause(ctx, t)
	if err != nil {
		return err
	}
	if body.ToPlatform != nil {
		p.ToPlatform = *body.ToPlatform
	}
	if body.ToSalesforce != nil {
		p.ToSalesforce = *body.ToSalesforce
	}
	if err := eng.SetPause(ctx, t, p); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, p)
	return nil
}

func (s *server) exportConfig(w http.ResponseWriter, r *http.Request) error {
	eng, _, err := s.sync()
	if err != nil {
		return err
	}
	exp, err := eng.ExportConfig(r.Context(), tenantFrom(r.Context()))
	if errors.Is(err, store.ErrNotFound) {
		return errorf(codeNotFound, "no sync configuration has been saved")
	}
	if err != nil {
		return err
	}
	w.Header().Set("Content-Disposition", `attachment; filename="sfsync-config.json"`)
	writeJSON(w, http.StatusOK, exp)
	return nil
}

// importConfig validates an export file against this tenant's org and
// saves it (?validate_only=true: checks only).
func (s *server) importConfig(w http.ResponseWriter, r *http.Request) error {
	eng, _, err := s.sync()
	if err != nil {
		return err
	}
	validateOnly := false
	switch v := r.URL.Query().Get("validate_only"); v {
	case "", "false":
	case "true":
		validateOnly = true
	default:
		return invalidField("validate_only", "must be true or false")
	}
	b, err := readObject(w, r, maxObjectBytes)
	if err != nil {
		return err
	}
	if err := contact.CheckJSONText(b); err != nil {
		return err
	}
	_, v, err := eng.ImportConfig(r.Context(), tenantFrom(r.Context()), keyBinding(r), b, validateOnly)
	var ie *syncer.ImportError
	if errors.As(err, &ie) {
		return invalidField("(body)", ie.Reason)
	}
	if err != nil {
		return refusalError(err)
	}
	if validateOnly {
		writeJSON(w, http.StatusOK, map[string]bool{"valid": true})
		return nil
	}
	cfg, _, err := eng.CurrentConfig(r.Context(), tenantFrom(r.Context()))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, configResponse{Version: v.Version, Config: cfg.Canonical()})
	return nil
}

// alertsView is the alert settings as the API shows them: the webhook
// secret is never returned, only whether one is set.
type alertsView struct {
	Emails           []string         `json:"emails"`
	WebhookURL       string           `json:"webhook_url"`
	WebhookSecretSet bool             `json:"webhook_secret_set"`
	FailureRate      float64          `json:"failure_rate"`
	ReviewDays       int              `json:"review_days"`
	States           []alertStateView `json:"states"`
}

type alertStateView struct {
	Kind      alert.Kind `json:"kind"`
	Firing    bool       `json:"firing"`
	Detail    string     `json:"detail,omitempty"`
	LastError string     `json:"last_error,omitempty"`
	Since     *time.Time `json:"since,omitempty"`
}

func (s *server) alertsOf(r *http.Request) (alertsView, error) {
	if s.sf.Alerts == nil {
		return alertsView{}, errorf(codeUnavailable, "alerts are not configured on this server")
	}
	ctx, t := r.Context(), tenantFrom(r.Context())
	set, err := s.sf.Alerts.Settings(ctx, t)
	if err != nil {
		return alertsView{}, err
	}
	v := alertsView{Emails: set.Emails, WebhookURL: set.WebhookURL, WebhookSecretSet: set.WebhookSecret != "", FailureRate: set.FailureRate, ReviewDays: set.ReviewDays}
	if v.Emails == nil {
		v.Emails = []string{}
	}
	states, err := s.store.AlertStates(ctx, t)
	if err != nil {
		return v, err
	}
	for _, k := range alert.Kinds {
		sv := alertStateView{Kind: k}
		if st, ok := states[string(k)]; ok {
			sv.Firing, sv.Detail, sv.LastError = st.Firing, st.Detail, st.LastError
			at := st.ChangedAt
			sv.Since = &at
		}
		v.States = append(v.States, sv)
	}
	return v, nil
}

func (s *server) getAlerts(w http.ResponseWriter, r *http.Request) error {
	v, err := s.alertsOf(r)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

// putAlerts replaces the alert settings; a webhook secret left out (or
// empty) keeps the one set before.
func (s *server) putAlerts(w http.ResponseWriter, r *http.Request) error {
	if s.sf.Alerts == nil {
		return errorf(codeUnavailable, "alerts are not configured on this server")
	}
	var body struct {
		Emails        []string `json:"emails"`
		WebhookURL    string   `json:"webhook_url"`
		WebhookSecret string   `json:"webhook_secret"`
		FailureRate   *float64 `json:"failure_rate"`
		ReviewDays    *int     `json:"review_days"`
	}
	if err := decodeOptionalObject(w, r, &body); err != nil {
		return err
	}
	ctx, t := r.Context(), tenantFrom(r.Context())
	cur, err := s.sf.Alerts.Settings(ctx, t)
	if err != nil {
		return err
	}
	in := alert.Settings{Emails: body.Emails, WebhookURL: body.WebhookURL, WebhookSecret: body.WebhookSecret, FailureRate: cur.FailureRate, ReviewDays: cur.ReviewDays}
	if in.WebhookSecret == "" {
		in.WebhookSecret = cur.WebhookSecret
	}
	if body.FailureRate != nil {
		in.FailureRate = *body.FailureRate
	}
	if body.ReviewDays != nil {
		in.ReviewDays = *body.ReviewDays
	}
	for i, e := range in.Emails {
		in.Emails[i] = strings.TrimSpace(e)
	}
	err = s.sf.Alerts.SaveSettings(ctx, t, in)
	var fe *alert.FieldError
	if errors.As(err, &fe) {
		return invalidField(fe.Field, fe.Reason)
	}
	if err != nil {
		return err
	}
	return s.getAlerts(w, r)
}
