package store

import (
	"context"
	"database/sql"
	"strings"
	"time"
)

// AlertSettings are where a tenant's alerts go and when they fire.
// WebhookSecret is sealed by the caller (the keyring); the store keeps it
// as given.
type AlertSettings struct {
	TenantID      string
	Emails        []string
	WebhookURL    string
	WebhookSecret string  // sealed
	FailureRate   float64 // a finished run's failed share above which it alerts (0.1)
	ReviewDays    int     // review items open longer than this alert (3)
	UpdatedAt     time.Time
}

// DefaultAlertSettings are a tenant's settings before the admin saves any.
func DefaultAlertSettings(tenantID string) AlertSettings {
	return AlertSettings{TenantID: tenantID, FailureRate: 0.1, ReviewDays: 3}
}

// GetAlertSettings returns a tenant's alert settings, or the defaults.
func (s *Store) GetAlertSettings(ctx context.Context, tenantID string) (AlertSettings, error) {
	a := DefaultAlertSettings(tenantID)
	var emails string
	var at int64
	err := s.db().QueryRowContext(ctx, `SELECT emails, webhook_url, webhook_secret, failure_rate, review_days, updated_at FROM alert_settings WHERE tenant_id = $1`, tenantID).
		Scan(&emails, &a.WebhookURL, &a.WebhookSecret, &a.FailureRate, &a.ReviewDays, &at)
	if err == sql.ErrNoRows {
		return a, nil
	}
	if emails != "" {
		a.Emails = strings.Split(emails, ",")
	}
	a.UpdatedAt = timeOrZero(at)
	return a, mapErr(err)
}

// SaveAlertSettings writes a tenant's alert settings.
func (s *Store) SaveAlertSettings(ctx context.Context, a AlertSettings) error {
	_, err := s.db().ExecContext(ctx, `INSERT INTO alert_settings (tenant_id, emails, webhook_url, webhook_secret, failure_rate, review_days, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)
		ON CONFLICT (tenant_id) DO UPDATE SET emails = excluded.emails, webhook_url = excluded.webhook_url, webhook_secret = excluded.webhook_secret,
			failure_rate = excluded.failure_rate, review_days = excluded.review_days, updated_at = excluded.updated_at`,
		a.TenantID, strings.Join(a.Emails, ","), a.WebhookURL, a.WebhookSecret, a.FailureRate, a.ReviewDays, micros(s.Now()))
	return mapErr(err)
}

// AlertTenants lists the tenants with alert settings (someone to tell).
func (s *Store) AlertTenants(ctx context.Context) ([]string, error) {
	return s.tenantIDs(ctx, `SELECT tenant_id FROM alert_settings WHERE emails <> '' OR webhook_url <> '' ORDER BY tenant_id`)
}

// AlertState is the last state told for one kind of alert.
type AlertState struct {
	Kind      string
	Firing    bool
	Detail    string
	LastError string // the last delivery's failure, "" when it went out
	ChangedAt time.Time
}

// AlertStates returns a tenant's alert states by kind.
func (s *Store) AlertStates(ctx context.Context, tenantID string) (map[string]AlertState, error) {
	rows, err := s.db().QueryContext(ctx, `SELECT kind, firing, detail, last_error, changed_at FROM alert_state WHERE tenant_id = $1`, tenantID)
	if err != nil {
		return nil, mapErr(err)
	}
	defer rows.Close()
	out := map[string]AlertState{}
	for rows.Next() {
		var a AlertState
		var at int64
		if err := rows.Scan(&a.Kind, &a.Firing, &a.Detail, &a.LastError, &at); err != nil {
			return nil, mapErr(err)
		}
		a.ChangedAt = fromMicros(at)
		out[a.Kind] = a
	}
	return out, mapErr(rows.Err())
}

// ClaimAlertChange moves a kind's state from what the caller last read
// (known false: no row yet) to firing, and reports whether this call made
// the change: of two processes seeing the same change, one sends the
// notice.
func (s *Store) ClaimAlertChange(ctx context.Context, tenantID, kind string, known, wasFiring, firing bool, detail string) (bool, error) {
	now := micros(s.Now())
	var res sql.Result
	var err error
	if !known {
		res, err = s.db().ExecContext(ctx, `INSERT INTO alert_state (tenant_id, kind, firing, detail, changed_at) VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT (tenant_id, kind) DO NOTHING`, tenantID, kind, firing, detail, now)
	} else {
		res, err = s.db().ExecContext(ctx, `UPDATE alert_state SET firing = $1, detail = $2, last_error = '', changed_at = $3
			WHERE tenant_id = $4 AND kind = $5 AND firing = $6`, firing, detail, now, tenantID, kind, wasFiring)
	}
	if err != nil {
		return false, mapErr(err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// SetAlertDeliveryError records how a notice's delivery failed ("" when
// it went out).
func (s *Store) SetAlertDeliveryError(ctx context.Context, tenantID, kind, msg string) error {
	_, err := s.db().ExecContext(ctx, `UPDATE alert_state SET last_error = $1 WHERE tenant_id = $2 AND kind = $3`, msg, tenantID, kind)
	return mapErr(err)
}

// OldestOpenReview returns when the tenant's oldest open review item was
// opened (zero when none is open).
func (s *Store) OldestOpenReview(ctx context.Context, tenantID string) (time.Time, error) {
	var at sql.NullInt64
	err := s.db().QueryRowContext(ctx, `SELECT MIN(created_at) FROM review_items WHERE tenant_id = $1 AND status = $2`, tenantID, string(ReviewOpen)).Scan(&at)
	if err != nil || !at.Valid {
		return time.Time{}, mapErr(err)
	}
	return fromMicros(at.Int64), nil
}
