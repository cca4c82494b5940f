package store

import (
	"context"
	"slices"
	"time"
)

// APIUsageHour is one hour of a tenant's API usage (migration 18).
type APIUsageHour struct {
	Hour time.Time // the hour's start, UTC
	// Calls is how many Salesforce API calls sfsync's runs made in the hour.
	Calls int64
	// OrgUsed and OrgMax are the org's last Sforce-Limit-Info reading in
	// the hour (calls in its rolling 24 hours, and its allocation); 0 when
	// nothing was read that hour.
	OrgUsed, OrgMax int64
}

const hourMicros = int64(time.Hour / time.Microsecond)

func hourOf(t time.Time) int64 { return micros(t.UTC().Truncate(time.Hour)) }

// addAPICalls adds a run's calls to the hour they were made in. It runs in
// the run update's transaction (or statement), so the hourly history and
// the runs' api_calls never disagree.
func (s *Store) addAPICalls(ctx context.Context, q querier, tenantID string, calls int64) error {
	if calls <= 0 {
		return nil
	}
	_, err := q.ExecContext(ctx, `INSERT INTO api_usage_hours (tenant_id, hour, calls) VALUES ($1, $2, $3)
		ON CONFLICT (tenant_id, hour) DO UPDATE SET calls = api_usage_hours.calls + excluded.calls`, tenantID, hourOf(s.Now()), calls)
	return mapErr(err)
}

// saveAPIUsageHour keeps the org's reading as its hour's last one.
func (s *Store) saveAPIUsageHour(ctx context.Context, tenantID string, used, max int64, at time.Time) error {
	_, err := s.db().ExecContext(ctx, `INSERT INTO api_usage_hours (tenant_id, hour, org_used, org_max) VALUES ($1, $2, $3, $4)
		ON CONFLICT (tenant_id, hour) DO UPDATE SET org_used = excluded.org_used, org_max = excluded.org_max`, tenantID, hourOf(at), used, max)
	return mapErr(err)
}

// APIUsageHours returns a tenant's hours of API usage from since on,
// oldest first; hours without calls or readings have no row.
func (s *Store) APIUsageHours(ctx context.Context, tenantID string, since time.Time) ([]APIUsageHour, error) {
	rows, err := s.db().QueryContext(ctx, `SELECT hour, calls, org_used, org_max FROM api_usage_hours WHERE tenant_id = $1 AND hour >= $2 ORDER BY hour`,
		tenantID, hourOf(since))
	if err != nil {
		return nil, mapErr(err)
	}
	defer rows.Close()
	var out []APIUsageHour
	for rows.Next() {
		var h APIUsageHour
		var hour int64
		if err := rows.Scan(&hour, &h.Calls, &h.OrgUsed, &h.OrgMax); err != nil {
			return nil, err
		}
		h.Hour = fromMicros(hour).UTC()
		out = append(out, h)
	}
	return out, mapErr(rows.Err())
}

// PruneAPIUsageHours deletes hours of usage older than before.
func (s *Store) PruneAPIUsageHours(ctx context.Context, before time.Time) (int64, error) {
	res, err := s.db().ExecContext(ctx, `DELETE FROM api_usage_hours WHERE hour < $1`, micros(before))
	if err != nil {
		return 0, mapErr(err)
	}
	return res.RowsAffected()
}

// RunsSince returns a tenant's runs started at or after since, oldest
// first, at most limit of them (the newest when there are more).
func (s *Store) RunsSince(ctx context.Context, tenantID string, since time.Time, limit int) ([]SyncRun, error) {
	out, err := s.queryRuns(ctx, tenantID, `SELECT `+runCols+` FROM sync_runs WHERE tenant_id = $1 AND started_at >= $2 ORDER BY id DESC LIMIT $3`,
		tenantID, micros(since), limit)
	slices.Reverse(out)
	return out, err
}

// FailureCount is how many records failed for one reason in one hour.
type FailureCount struct {
	Hour       time.Time
	ReasonCode string
	Count      int64
}

// FailuresByHour counts a tenant's failed records by reason and hour,
// from since's hour on (the run log's entries, kept 90 days), as counted
// while the entries were written (sync_failure_hours).
func (s *Store) FailuresByHour(ctx context.Context, tenantID string, since time.Time) ([]FailureCount, error) {
	rows, err := s.db().QueryContext(ctx, `SELECT hour, reason_code, n FROM sync_failure_hours
		WHERE tenant_id = $1 AND hour >= $2 ORDER BY hour, reason_code`, tenantID, micros(since)/hourMicros)
	if err != nil {
		return nil, mapErr(err)
	}
	defer rows.Close()
	var out []FailureCount
	for rows.Next() {
		var f FailureCount
		var h int64
		if err := rows.Scan(&h, &f.ReasonCode, &f.Count); err != nil {
			return nil, err
		}
		f.Hour = fromMicros(h * hourMicros).UTC()
		out = append(out, f)
	}
	return out, mapErr(rows.Err())
}

// LastCompleted returns, per direction, when a tenant's last run that went
// through finished: it succeeded, or succeeded but for some records (their
// failures are counted apart, as open failures).
func (s *Store) LastCompleted(ctx context.Context, tenantID string) (map[Direction]time.Time, error) {
	rows, err := s.db().QueryContext(ctx, `SELECT direction, MAX(finished_at) FROM sync_runs
		WHERE tenant_id = $1 AND status IN ('succeeded', 'partially_failed') AND finished_at IS NOT NULL GROUP BY direction`, tenantID)
	if err != nil {
		return nil, mapErr(err)
	}
	defer rows.Close()
	out := map[Direction]time.Time{}
	for rows.Next() {
		var d Direction
		var at int64
		if err := rows.Scan(&d, &at); err != nil {
			return nil, err
		}
		out[d] = fromMicros(at)
	}
	return out, mapErr(rows.Err())
}

// OpenFailures counts a tenant's records that failed and wait for a retry:
// Salesforce records to read again (pull_retries) and platform changes
// Salesforce refused (outbox entries with attempts).
func (s *Store) OpenFailures(ctx context.Context, tenantID string) (pull, push int64, err error) {
	// The pull side is the count kept as pull_retries changes: counting
	// the rows cost the sync page, polled during a first sync, time in
	// proportion to the failures logged so far (issue 14).
	err = s.db().QueryRowContext(ctx, `SELECT COALESCE((SELECT n FROM pull_retry_counts WHERE tenant_id = $1), 0),
		(SELECT COUNT(DISTINCT contact_id) FROM outbox WHERE tenant_id = $1 AND attempts > 0)`, tenantID).Scan(&pull, &push)
	return pull, push, mapErr(err)
}

// FailedAt is when a record last failed (its newest failed log entry).
type FailedAt struct {
	SalesforceID string
	ContactID    string
	ReasonCode   string
	At           time.Time
}

// OpenPullFailures lists the Salesforce records waiting for a retry with
// when and why they last failed, at most limit of them.
func (s *Store) OpenPullFailures(ctx context.Context, tenantID string, limit int) ([]FailedAt, error) {
	rows, err := s.db().QueryContext(ctx, `SELECT p.salesforce_id, COALESCE(MAX(r.contact_id), ''), COALESCE(MAX(r.reason_code), ''), COALESCE(MAX(r.created_at), 0)
		FROM pull_retries p LEFT JOIN sync_run_records r ON r.tenant_id = p.tenant_id AND r.salesforce_id = p.salesforce_id AND r.kind = 'failed'
		WHERE p.tenant_id = $1 GROUP BY p.salesforce_id ORDER BY p.salesforce_id LIMIT $2`, tenantID, limit)
	if err != nil {
		return nil, mapErr(err)
	}
	defer rows.Close()
	var out []FailedAt
	for rows.Next() {
		var f FailedAt
		var at int64
		if err := rows.Scan(&f.SalesforceID, &f.ContactID, &f.ReasonCode, &at); err != nil {
			return nil, err
		}
		f.At = fromMicros(at)
		out = append(out, f)
	}
	return out, mapErr(rows.Err())
}

// OpenPushFailures lists the platform contacts whose changes Salesforce
// refused and that wait for a retry, with when and why they last failed,
// at most limit of them.
func (s *Store) OpenPushFailures(ctx context.Context, tenantID string, limit int) ([]FailedAt, error) {
	rows, err := s.db().QueryContext(ctx, `SELECT o.contact_id, COALESCE(MAX(r.salesforce_id), ''), COALESCE(MAX(r.reason_code), ''), COALESCE(MAX(r.created_at), 0)
		FROM outbox o LEFT JOIN sync_run_records r ON r.tenant_id = o.tenant_id AND r.contact_id = o.contact_id AND r.kind = 'failed'
		WHERE o.tenant_id = $1 AND o.attempts > 0 GROUP BY o.contact_id ORDER BY o.contact_id LIMIT $2`, tenantID, limit)
	if err != nil {
		return nil, mapErr(err)
	}
	defer rows.Close()
	var out []FailedAt
	for rows.Next() {
		var f FailedAt
		var at int64
		if err := rows.Scan(&f.ContactID, &f.SalesforceID, &f.ReasonCode, &at); err != nil {
			return nil, err
		}
		f.At = fromMicros(at)
		out = append(out, f)
	}
	return out, mapErr(rows.Err())
}

// ContactsUpdatedAt returns when each of these platform contacts was last
// changed; a contact that is gone is missing from the map.
func (s *Store) ContactsUpdatedAt(ctx context.Context, tenantID string, ids []string) (map[string]time.Time, error) {
	out := map[string]time.Time{}
	for start := 0; start < len(ids); start += 500 {
		chunk := ids[start:min(start+500, len(ids))]
		args := []any{tenantID}
		for _, id := range chunk {
			args = append(args, id)
		}
		cond, args := s.in("id", args, 2)
		rows, err := s.db().QueryContext(ctx, `SELECT id, updated_at FROM contacts WHERE tenant_id = $1 AND `+cond, args...)
		if err != nil {
			return nil, mapErr(err)
		}
		for rows.Next() {
			var id string
			var at int64
			if err := rows.Scan(&id, &at); err != nil {
				rows.Close()
				return nil, err
			}
			out[id] = fromMicros(at)
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, mapErr(err)
		}
	}
	return out, nil
}
