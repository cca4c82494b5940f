// Package alert tells a tenant's admins when the sync needs them, and
// when it recovers (issue 17): by e-mail over SMTP and by signed webhook.
// Four conditions are watched — the Salesforce connection broken, a run
// failing more than the admin's threshold, a run paused for the API
// budget, review items open longer than the admin's number of days — and
// a notice goes out only when one of them changes state (stored per
// tenant and kind), never once per run.
package alert

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/mail"
	"net/url"
	"strings"
	"time"

	"github.com/sfsync/sfsync/internal/secret"
	"github.com/sfsync/sfsync/internal/store"
)

// Kind is a watched condition.
type Kind string

// The watched conditions.
const (
	ConnectionBroken Kind = "connection_broken"
	FailureRate      Kind = "failure_rate"
	BudgetPaused     Kind = "budget_paused"
	ReviewOverdue    Kind = "review_overdue"
)

// Kinds lists the conditions in the order they are shown.
var Kinds = []Kind{ConnectionBroken, FailureRate, BudgetPaused, ReviewOverdue}

// Settings are a tenant's alert settings with the webhook secret in clear.
type Settings struct {
	Emails        []string
	WebhookURL    string
	WebhookSecret string
	FailureRate   float64 // 0 < rate ≤ 1
	ReviewDays    int     // ≥ 1
}

// FieldError names the setting that is not valid.
type FieldError struct {
	Field, Reason string
}

func (e *FieldError) Error() string { return "alert: " + e.Field + ": " + e.Reason }

// Validate checks the settings, naming the first bad field.
func (s Settings) Validate() error {
	if len(s.Emails) > 20 {
		return &FieldError{"emails", "at most 20 recipients"}
	}
	for _, e := range s.Emails {
		a, err := mail.ParseAddress(e)
		if err != nil || a.Address != e || strings.ContainsAny(e, ",\r\n") {
			return &FieldError{"emails", fmt.Sprintf("%q is not an e-mail address", e)}
		}
	}
	if s.WebhookURL != "" {
		u, err := url.Parse(s.WebhookURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil || len(s.WebhookURL) > 2000 {
			return &FieldError{"webhook_url", "must be an absolute http(s) URL without credentials"}
		}
		if len(s.WebhookSecret) < 16 {
			return &FieldError{"webhook_secret", "at least 16 characters, to sign the webhook's body"}
		}
	}
	if !(s.FailureRate > 0 && s.FailureRate <= 1) {
		return &FieldError{"failure_rate", "must be more than 0% and at most 100%"}
	}
	if s.ReviewDays < 1 || s.ReviewDays > 365 {
		return &FieldError{"review_days", "must be a whole number of days from 1 to 365"}
	}
	return nil
}

func secretAD(tenantID string) string { return "alert-webhook:" + tenantID }

// Service keeps settings and sends notices.
type Service struct {
	Store   *store.Store
	Keyring *secret.Keyring
	// Mailer sends e-mail; nil when no SMTP server is configured (e-mail
	// recipients are then kept but not written to).
	Mailer *Mailer
	// Webhook posts signed notices.
	Webhook *Webhook
	Logger  *slog.Logger
	Now     func() time.Time
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Service) log() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.New(slog.DiscardHandler)
}

// Settings returns a tenant's settings, the secret opened.
func (s *Service) Settings(ctx context.Context, tenantID string) (Settings, error) {
	a, err := s.Store.GetAlertSettings(ctx, tenantID)
	if err != nil {
		return Settings{}, err
	}
	out := Settings{Emails: a.Emails, WebhookURL: a.WebhookURL, FailureRate: a.FailureRate, ReviewDays: a.ReviewDays}
	if a.WebhookSecret != "" {
		if out.WebhookSecret, err = s.Keyring.Decrypt(a.WebhookSecret, secretAD(tenantID)); err != nil {
			return out, fmt.Errorf("alert: opening the webhook secret: %w", err)
		}
	}
	return out, nil
}

// SaveSettings validates and stores a tenant's settings; the secret is
// sealed with the keyring.
func (s *Service) SaveSettings(ctx context.Context, tenantID string, in Settings) error {
	if err := in.Validate(); err != nil {
		return err
	}
	a := store.AlertSettings{TenantID: tenantID, Emails: in.Emails, WebhookURL: in.WebhookURL, FailureRate: in.FailureRate, ReviewDays: in.ReviewDays}
	if in.WebhookSecret != "" {
		sealed, err := s.Keyring.Encrypt(in.WebhookSecret, secretAD(tenantID))
		if err != nil {
			return err
		}
		a.WebhookSecret = sealed
	}
	return s.Store.SaveAlertSettings(ctx, a)
}

// Condition is the current state of one watched condition.
type Condition struct {
	Kind   Kind
	Firing bool
	Detail string // what is wrong, in English, for the notice
}

// Evaluate reads the tenant's current conditions from the store.
func (s *Service) Evaluate(ctx context.Context, tenantID string, set Settings) ([]Condition, error) {
	now := s.now()
	var out []Condition
	conn, err := s.Store.GetConnection(ctx, tenantID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		out = append(out, Condition{Kind: ConnectionBroken})
	case err != nil:
		return nil, err
	default:
		c := Condition{Kind: ConnectionBroken, Firing: conn.Status == store.ConnBroken}
		if c.Firing {
			c.Detail = "the Salesforce connection is broken: " + conn.BrokenReason
		}
		out = append(out, c)
	}

	// The newest finished run that looked at records, either direction.
	fr := Condition{Kind: FailureRate}
	runs, err := s.Store.ListRuns(ctx, tenantID, "", 20, 0)
	if err != nil {
		return nil, err
	}
	for _, r := range runs {
		if r.FinishedAt == nil || r.Processed == 0 {
			continue
		}
		rate := float64(r.Counts.Failed) / float64(r.Processed)
		if rate > set.FailureRate {
			fr.Firing = true
			fr.Detail = fmt.Sprintf("run %d failed %d of %d records (%.1f%%, above %.1f%%)", r.ID, r.Counts.Failed, r.Processed, rate*100, set.FailureRate*100)
		}
		break
	}
	out = append(out, fr)

	st, err := s.Store.GetSyncState(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	bp := Condition{Kind: BudgetPaused, Firing: st.PausedUntil.After(now)}
	if bp.Firing {
		bp.Detail = "a run is paused for the Salesforce API budget until " + st.PausedUntil.UTC().Format(time.RFC3339)
	}
	out = append(out, bp)

	oldest, err := s.Store.OldestOpenReview(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	ro := Condition{Kind: ReviewOverdue}
	if !oldest.IsZero() && now.Sub(oldest) > time.Duration(set.ReviewDays)*24*time.Hour {
		ro.Firing = true
		ro.Detail = fmt.Sprintf("a review item has been open since %s, more than %d days", oldest.UTC().Format(time.RFC3339), set.ReviewDays)
	}
	out = append(out, ro)
	return out, nil
}

// Notice is one change of state, as sent.
type Notice struct {
	TenantID string    `json:"tenant_id"`
	Kind     Kind      `json:"kind"`
	State    string    `json:"state"` // "firing" or "recovered"
	Detail   string    `json:"detail"`
	At       time.Time `json:"at"`
}

// Check evaluates one tenant and sends a notice for each condition whose
// state changed since the last notice. A condition seen for the first
// time notifies only if it fires.
func (s *Service) Check(ctx context.Context, tenantID string) error {
	set, err := s.Settings(ctx, tenantID)
	if err != nil {
		return err
	}
	conds, err := s.Evaluate(ctx, tenantID, set)
	if err != nil {
		return err
	}
	prev, err := s.Store.AlertStates(ctx, tenantID)
	if err != nil {
		return err
	}
	for _, c := range conds {
		p, known := prev[string(c.Kind)]
		if known && p.Firing == c.Firing {
			continue
		}
		claimed, err := s.Store.ClaimAlertChange(ctx, tenantID, string(c.Kind), known, p.Firing, c.Firing, c.Detail)
		if err != nil {
			return err
		}
		if !claimed || (!known && !c.Firing) {
			continue // another process told it, or nothing to tell
		}
		n := Notice{TenantID: tenantID, Kind: c.Kind, State: "firing", Detail: c.Detail, At: s.now().UTC()}
		if !c.Firing {
			n.State, n.Detail = "recovered", recoveredText(c.Kind)
		}
		derr := s.deliver(ctx, set, n)
		msg := ""
		if derr != nil {
			msg = derr.Error()
			s.log().WarnContext(ctx, "alert delivery failed", "tenant_id", tenantID, "kind", c.Kind, "error", derr)
		} else {
			s.log().InfoContext(ctx, "alert sent", "tenant_id", tenantID, "kind", c.Kind, "state", n.State)
		}
		if err := s.Store.SetAlertDeliveryError(ctx, tenantID, string(c.Kind), msg); err != nil {
			return err
		}
	}
	return nil
}

// CheckAll checks every tenant that has someone to tell; one tenant's
// failure does not stop the others (it is returned joined).
func (s *Service) CheckAll(ctx context.Context) error {
	ids, err := s.Store.AlertTenants(ctx)
	if err != nil {
		return err
	}
	var errs []error
	for _, id := range ids {
		if err := s.Check(ctx, id); err != nil {
			errs = append(errs, fmt.Errorf("alerts of %s: %w", id, err))
		}
	}
	return errors.Join(errs...)
}

func recoveredText(k Kind) string {
	switch k {
	case ConnectionBroken:
		return "the Salesforce connection works again"
	case FailureRate:
		return "the latest run's failure rate is back under the threshold"
	case BudgetPaused:
		return "the sync is no longer paused for the API budget"
	case ReviewOverdue:
		return "no review item is overdue any more"
	}
	return "recovered"
}

// Subject is a notice's e-mail subject.
func (n Notice) Subject() string {
	if n.State == "recovered" {
		return "[sfsync] recovered: " + string(n.Kind)
	}
	return "[sfsync] alert: " + string(n.Kind)
}

func (s *Service) deliver(ctx context.Context, set Settings, n Notice) error {
	var errs []error
	if len(set.Emails) > 0 {
		if s.Mailer == nil {
			errs = append(errs, errors.New("e-mail: no SMTP server is configured (--smtp-url)"))
		} else if err := s.Mailer.Send(ctx, set.Emails, n.Subject(), n.Detail+"\r\n\r\nTenant: "+n.TenantID+"\r\nAt: "+n.At.Format(time.RFC3339)+"\r\n"); err != nil {
			errs = append(errs, fmt.Errorf("e-mail: %w", err))
		}
	}
	if set.WebhookURL != "" {
		wh := s.Webhook
		if wh == nil {
			wh = &Webhook{}
		}
		if err := wh.Post(ctx, set.WebhookURL, set.WebhookSecret, n); err != nil {
			errs = append(errs, fmt.Errorf("webhook: %w", err))
		}
	}
	return errors.Join(errs...)
}
