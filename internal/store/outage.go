package store

import (
	"context"
	"database/sql"
	"errors"
	"time"
)

// Outage is a Salesforce outage as a tenant's runs see it: calls have
// failed for want of an answer since Since; Warned once the one warning
// of this outage is logged.
type Outage struct {
	Since  time.Time
	Warned bool
}

// GetOutage returns a tenant's open outage; ok is false when Salesforce
// answered last.
func (s *Store) GetOutage(ctx context.Context, tenantID string) (o Outage, ok bool, err error) {
	var since int64
	err = s.db().QueryRowContext(ctx, `SELECT since, warned FROM salesforce_outages WHERE tenant_id = $1`, tenantID).Scan(&since, &o.Warned)
	if errors.Is(err, sql.ErrNoRows) {
		return Outage{}, false, nil
	}
	if err != nil {
		return Outage{}, false, mapErr(err)
	}
	o.Since = fromMicros(since)
	return o, true, nil
}

// SaveOutage records a tenant's open outage.
func (s *Store) SaveOutage(ctx context.Context, tenantID string, o Outage) error {
	_, err := s.db().ExecContext(ctx, `INSERT INTO salesforce_outages (tenant_id, since, warned) VALUES ($1, $2, $3)
		ON CONFLICT (tenant_id) DO UPDATE SET since = excluded.since, warned = excluded.warned`, tenantID, micros(o.Since), o.Warned)
	return mapErr(err)
}

// EndOutage forgets a tenant's outage: Salesforce answered again.
func (s *Store) EndOutage(ctx context.Context, tenantID string) error {
	_, err := s.db().ExecContext(ctx, `DELETE FROM salesforce_outages WHERE tenant_id = $1`, tenantID)
	return mapErr(err)
}
