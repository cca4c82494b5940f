package store

import (
	"context"
	"database/sql"
	"time"
)

// LinkDigest is what the drift check compares of a link: the Salesforce
// contact's Id and the SystemModstamp the link last saw.
type LinkDigest struct {
	SalesforceID string
	SFModstamp   time.Time
	OutOfScope   bool
}

// idCol is links.salesforce_id compared by bytes, as Salesforce Ids are
// (PostgreSQL's default collation may not).
func (s *Store) idCol() string {
	if s.Dialect == Postgres {
		return `salesforce_id COLLATE "C"`
	}
	return "salesforce_id"
}

// EachLinkDigest calls fn with each of a tenant's links in Salesforce Id
// order (bytes), in one read.
func (s *Store) EachLinkDigest(ctx context.Context, tenantID string, fn func(LinkDigest) error) error {
	return s.linkDigests(ctx, fn, `SELECT salesforce_id, sf_modstamp, out_of_scope FROM links WHERE tenant_id = $1 ORDER BY `+s.idCol(), tenantID)
}

// LinkDigestsBetween returns a tenant's links whose Salesforce Id sorts
// after lo (any when "") and not after hi (any when ""), in Id order.
func (s *Store) LinkDigestsBetween(ctx context.Context, tenantID, lo, hi string) ([]LinkDigest, error) {
	q := `SELECT salesforce_id, sf_modstamp, out_of_scope FROM links WHERE tenant_id = $1 AND ` + s.idCol() + ` > $2`
	args := []any{tenantID, lo}
	if hi != "" {
		q += ` AND ` + s.idCol() + ` <= $3`
		args = append(args, hi)
	}
	var out []LinkDigest
	err := s.linkDigests(ctx, func(d LinkDigest) error { out = append(out, d); return nil }, q+` ORDER BY `+s.idCol(), args...)
	return out, err
}

func (s *Store) linkDigests(ctx context.Context, fn func(LinkDigest) error, q string, args ...any) error {
	rows, err := s.db().QueryContext(ctx, q, args...)
	if err != nil {
		return mapErr(err)
	}
	defer rows.Close()
	for rows.Next() {
		var d LinkDigest
		var ms int64
		if err := rows.Scan(&d.SalesforceID, &ms, &d.OutOfScope); err != nil {
			return mapErr(err)
		}
		d.SFModstamp = timeOrZero(ms)
		if err := fn(d); err != nil {
			return err
		}
	}
	return mapErr(rows.Err())
}

// PullRetryIDs returns which of the Salesforce Ids wait in the pull's
// retry list (failed records, X7).
func (s *Store) PullRetryIDs(ctx context.Context, tenantID string, ids []string) (map[string]bool, error) {
	out := map[string]bool{}
	for len(ids) > 0 {
		chunk := ids[:min(len(ids), 500)]
		ids = ids[len(chunk):]
		args := []any{tenantID}
		for _, id := range chunk {
			args = append(args, id)
		}
		cond, args := s.in("salesforce_id", args, 2)
		rows, err := s.db().QueryContext(ctx, `SELECT salesforce_id FROM pull_retries WHERE tenant_id = $1 AND `+cond, args...)
		if err != nil {
			return nil, mapErr(err)
		}
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return nil, mapErr(err)
			}
			out[id] = true
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, mapErr(err)
		}
	}
	return out, nil
}

// DriftSchedules returns the tenants that pull, have run their first
// sync and whose drift check is due at now or not scheduled yet, with
// when it is due (the zero time when not scheduled).
func (s *Store) DriftSchedules(ctx context.Context, now time.Time) (map[string]time.Time, error) {
	rows, err := s.db().QueryContext(ctx, `SELECT st.tenant_id, COALESCE(d.next_check_at, 0) FROM sync_state st
		LEFT JOIN drift_schedule d ON d.tenant_id = st.tenant_id
		WHERE st.pull_enabled = $1 AND st.initial_run_id <> 0 AND (d.next_check_at IS NULL OR d.next_check_at <= $2)`, true, micros(now))
	if err != nil {
		return nil, mapErr(err)
	}
	defer rows.Close()
	out := map[string]time.Time{}
	for rows.Next() {
		var id string
		var next int64
		if err := rows.Scan(&id, &next); err != nil {
			return nil, mapErr(err)
		}
		out[id] = timeOrZero(next)
	}
	return out, mapErr(rows.Err())
}

// SetNextDriftCheck schedules a tenant's next drift check.
func (s *Store) SetNextDriftCheck(ctx context.Context, tenantID string, at time.Time) error {
	_, err := s.db().ExecContext(ctx, `INSERT INTO drift_schedule (tenant_id, next_check_at) VALUES ($1, $2)
		ON CONFLICT (tenant_id) DO UPDATE SET next_check_at = excluded.next_check_at`, tenantID, micros(at))
	return mapErr(err)
}

// DriftReport is what a drift check found (Y2): Salesforce's records in
// scope are compared with the links in ranges of Ids, by count and a
// checksum of (Id, SystemModstamp); only the records of ranges that
// differ are compared one by one, and only those that differ are read
// again in full and applied.
type DriftReport struct {
	RunID int64 `json:"run_id"`
	// Method is how Salesforce's side was read: "rest" or "bulk".
	Method          string `json:"method"`
	RangesChecked   int64  `json:"ranges_checked"`
	RangesDrifted   int64  `json:"ranges_drifted"`
	RangesRepaired  int64  `json:"ranges_repaired"`
	RecordsChecked  int64  `json:"records_checked"`
	RecordsDrifted  int64  `json:"records_drifted"`
	RecordsRepaired int64  `json:"records_repaired"`
}

// SaveDriftReport stores (or replaces) a drift check's report.
func (s *Store) SaveDriftReport(ctx context.Context, tenantID string, r DriftReport) error {
	_, err := s.db().ExecContext(ctx, `INSERT INTO drift_reports (run_id, tenant_id, method, ranges_checked, ranges_drifted, ranges_repaired,
			records_checked, records_drifted, records_repaired) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
		ON CONFLICT (run_id) DO UPDATE SET method = excluded.method, ranges_checked = excluded.ranges_checked,
			ranges_drifted = excluded.ranges_drifted, ranges_repaired = excluded.ranges_repaired, records_checked = excluded.records_checked,
			records_drifted = excluded.records_drifted, records_repaired = excluded.records_repaired`,
		r.RunID, tenantID, r.Method, r.RangesChecked, r.RangesDrifted, r.RangesRepaired, r.RecordsChecked, r.RecordsDrifted, r.RecordsRepaired)
	return mapErr(err)
}

// GetDriftReport returns the report of a tenant's drift check run;
// ErrNotFound when the run has none (another kind of run, or a check
// that has not finished).
func (s *Store) GetDriftReport(ctx context.Context, tenantID string, runID int64) (DriftReport, error) {
	r := DriftReport{RunID: runID}
	err := s.db().QueryRowContext(ctx, `SELECT method, ranges_checked, ranges_drifted, ranges_repaired, records_checked, records_drifted, records_repaired
		FROM drift_reports WHERE tenant_id = $1 AND run_id = $2`, tenantID, runID).Scan(&r.Method, &r.RangesChecked, &r.RangesDrifted,
		&r.RangesRepaired, &r.RecordsChecked, &r.RecordsDrifted, &r.RecordsRepaired)
	return r, mapErr(err)
}

// DriftWaiting is a record a drift check found differing but left
// waiting (failed and due for a retry, held for review, or unlinked under
// the skip policy), with both sides as the check saw them: InSF and
// SFModstamp for Salesforce's side, Counted (a link in scope) and
// LinkModstamp for the links' side.
type DriftWaiting struct {
	SalesforceID string
	InSF         bool
	SFModstamp   time.Time
	Counted      bool
	LinkModstamp time.Time
}

// EachDriftWaiting calls fn with each of a tenant's waiting records.
func (s *Store) EachDriftWaiting(ctx context.Context, tenantID string, fn func(DriftWaiting) error) error {
	rows, err := s.db().QueryContext(ctx, `SELECT salesforce_id, in_sf, sf_modstamp, counted, link_modstamp FROM drift_waiting WHERE tenant_id = $1`, tenantID)
	if err != nil {
		return mapErr(err)
	}
	defer rows.Close()
	var all []DriftWaiting // read whole before fn runs: SQLite has one connection
	for rows.Next() {
		var w DriftWaiting
		var sf, link int64
		if err := rows.Scan(&w.SalesforceID, &w.InSF, &sf, &w.Counted, &link); err != nil {
			return mapErr(err)
		}
		w.SFModstamp, w.LinkModstamp = timeOrZero(sf), timeOrZero(link)
		all = append(all, w)
	}
	if err := rows.Err(); err != nil {
		return mapErr(err)
	}
	rows.Close()
	for _, w := range all {
		if err := fn(w); err != nil {
			return err
		}
	}
	return nil
}

// ReplaceDriftWaiting replaces a tenant's waiting records whose Ids lie
// in (lo, hi] (hi "" for no upper bound) with rows.
func (s *Store) ReplaceDriftWaiting(ctx context.Context, tenantID, lo, hi string, rows []DriftWaiting) error {
	return s.Tx(ctx, func(tx *sql.Tx) error {
		q := `DELETE FROM drift_waiting WHERE tenant_id = $1 AND ` + s.idCol() + ` > $2`
		args := []any{tenantID, lo}
		if hi != "" {
			q += ` AND ` + s.idCol() + ` <= $3`
			args = append(args, hi)
		}
		if _, err := tx.ExecContext(ctx, q, args...); err != nil {
			return mapErr(err)
		}
		for _, w := range rows {
			if _, err := tx.ExecContext(ctx, `INSERT INTO drift_waiting (tenant_id, salesforce_id, in_sf, sf_modstamp, counted, link_modstamp)
				VALUES ($1, $2, $3, $4, $5, $6)`, tenantID, w.SalesforceID, w.InSF, microsOrZero(w.SFModstamp), w.Counted, microsOrZero(w.LinkModstamp)); err != nil {
				return mapErr(err)
			}
		}
		return nil
	})
}
