package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"time"
)

// SyncState is a tenant's durable sync schedule and cursors.
type SyncState struct {
	TenantID      string
	ConfigVersion int64
	PullEnabled   bool
	PushEnabled   bool
	InitialRunID  int64
	PullCursor    time.Time // SystemModstamp high-water mark of the incremental pull
	NextPullAt    time.Time
	PausedUntil   time.Time
	PushRunID     int64 // the open real-time push run
	// The admin's pause of each direction (SetSyncPause writes them;
	// SaveSyncState leaves them alone).
	PullPaused, PushPaused bool
}

func timeOrZero(us int64) time.Time {
	if us == 0 {
		return time.Time{}
	}
	return fromMicros(us)
}

func microsOrZero(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return micros(t)
}

// GetSyncState returns a tenant's sync state; a tenant that never synced
// gets a zero state (not an error).
func (s *Store) GetSyncState(ctx context.Context, tenantID string) (SyncState, error) {
	st := SyncState{TenantID: tenantID}
	var cursor, next, paused int64
	err := s.db().QueryRowContext(ctx, `SELECT config_version, pull_enabled, push_enabled, initial_run_id, pull_cursor, next_pull_at, paused_until, push_run_id, pull_paused, push_paused
		FROM sync_state WHERE tenant_id = $1`, tenantID).Scan(&st.ConfigVersion, &st.PullEnabled, &st.PushEnabled, &st.InitialRunID, &cursor, &next, &paused, &st.PushRunID, &st.PullPaused, &st.PushPaused)
	if err == sql.ErrNoRows {
		return st, nil
	}
	st.PullCursor, st.NextPullAt, st.PausedUntil = timeOrZero(cursor), timeOrZero(next), timeOrZero(paused)
	return st, mapErr(err)
}

// SaveSyncState writes a tenant's whole sync state.
func (s *Store) SaveSyncState(ctx context.Context, st SyncState) error {
	return s.saveSyncState(ctx, s.db(), st)
}

func (s *Store) saveSyncState(ctx context.Context, q querier, st SyncState) error {
	_, err := q.ExecContext(ctx, `INSERT INTO sync_state (tenant_id, config_version, pull_enabled, push_enabled, initial_run_id, pull_cursor, next_pull_at, paused_until, push_run_id, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
		ON CONFLICT (tenant_id) DO UPDATE SET config_version = excluded.config_version, pull_enabled = excluded.pull_enabled,
			push_enabled = excluded.push_enabled, initial_run_id = excluded.initial_run_id, pull_cursor = excluded.pull_cursor,
			next_pull_at = excluded.next_pull_at, paused_until = excluded.paused_until, push_run_id = excluded.push_run_id, updated_at = excluded.updated_at`,
		st.TenantID, st.ConfigVersion, st.PullEnabled, st.PushEnabled, st.InitialRunID, microsOrZero(st.PullCursor), microsOrZero(st.NextPullAt),
		microsOrZero(st.PausedUntil), st.PushRunID, micros(s.Now()))
	return mapErr(err)
}

// DueForPull lists tenants whose scheduled pull is due at now.
func (s *Store) DueForPull(ctx context.Context, now time.Time) ([]string, error) {
	return s.tenantIDs(ctx, `SELECT tenant_id FROM sync_state WHERE pull_enabled = $1 AND next_pull_at <= $2 AND paused_until <= $2 AND pull_paused = $3 ORDER BY next_pull_at`, true, micros(now), false)
}

// OpenPushRuns lists tenants whose current real-time push run is still
// running and started at or before startedBefore: the runs whose window
// may have passed. One query, so the scheduler's upkeep does not read
// every tenant's state every period (10,000 reads each 30 s at 10,000
// tenants).
func (s *Store) OpenPushRuns(ctx context.Context, startedBefore time.Time) ([]string, error) {
	return s.tenantIDs(ctx, `SELECT st.tenant_id FROM sync_state st JOIN sync_runs r ON r.id = st.push_run_id AND r.tenant_id = st.tenant_id
		WHERE st.push_run_id <> 0 AND r.status = 'running' AND r.started_at <= $1`, micros(startedBefore))
}

// OpenStreamRuns lists tenants whose real-time pull run (Change Data
// Capture arrivals) is still running and started at or before
// startedBefore, or whose pulls were turned off since.
func (s *Store) OpenStreamRuns(ctx context.Context, startedBefore time.Time) ([]string, error) {
	return s.tenantIDs(ctx, `SELECT rs.tenant_id FROM realtime_streams rs JOIN sync_runs r ON r.id = rs.run_id AND r.tenant_id = rs.tenant_id
		JOIN sync_state st ON st.tenant_id = rs.tenant_id
		WHERE rs.run_id <> 0 AND r.status = 'running' AND (r.started_at <= $1 OR st.pull_enabled = $2)`, micros(startedBefore), false)
}

// DueForPush lists tenants with pushable outbox rows due at now.
func (s *Store) DueForPush(ctx context.Context, now time.Time) ([]string, error) {
	return s.tenantIDs(ctx, dueForPushQuery, true, micros(now), false)
}

// dueForPushQuery starts from the tenants that push and looks for one due
// row of each (a probe of outbox_tenant). The dispatcher asks ten times a
// second; joined the other way round, SQLite read every outbox row each
// time (after a bulk import of 100,000 contacts into a tenant without
// Salesforce, 30% of serve's CPU), and PostgreSQL hash-joined every due
// row (issue 14).
const dueForPushQuery = `SELECT st.tenant_id FROM sync_state st WHERE st.push_enabled = $1 AND st.paused_until <= $2 AND st.push_paused = $3
	AND EXISTS (SELECT 1 FROM outbox o WHERE o.tenant_id = st.tenant_id AND o.next_attempt_at <= $2)`

func (s *Store) tenantIDs(ctx context.Context, q string, args ...any) ([]string, error) {
	rows, err := s.db().QueryContext(ctx, q, args...)
	if err != nil {
		return nil, mapErr(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, mapErr(rows.Err())
}

// Link pairs a Salesforce contact with a platform contact (X3). SFValues
// and PFValues hold, per mapping key, the value last synced on each side
// in the platform's form; the engine's echo guard and conflict detection
// compare against them.
type Link struct {
	SalesforceID string
	ContactID    string
	SFValues     map[string]any
	PFValues     map[string]any
	OutOfScope   bool
	SFModstamp   time.Time
	// ValuesJSON, when set, is SFValues encoded, and PFValues equal it:
	// the engine encodes a new link's values while the store writes the
	// previous page, and SaveLinksTx uses them as they are.
	ValuesJSON string
}

const linkCols = `salesforce_id, contact_id, sf_values, pf_values, out_of_scope, sf_modstamp`

func scanLink(row interface{ Scan(...any) error }) (Link, error) {
	var l Link
	var sfv, pfv string
	var ms int64
	if err := row.Scan(&l.SalesforceID, &l.ContactID, &sfv, &pfv, &l.OutOfScope, &ms); err != nil {
		return l, mapErr(err)
	}
	l.SFModstamp = timeOrZero(ms)
	if err := json.Unmarshal([]byte(sfv), &l.SFValues); err != nil {
		return l, fmt.Errorf("link %s: %w", l.SalesforceID, err)
	}
	if pfv == "" {
		pfv = sfv // stored once when both sides hold the same values
	}
	if err := json.Unmarshal([]byte(pfv), &l.PFValues); err != nil {
		return l, fmt.Errorf("link %s: %w", l.SalesforceID, err)
	}
	if l.SFValues == nil {
		l.SFValues = map[string]any{}
	}
	if l.PFValues == nil {
		l.PFValues = map[string]any{}
	}
	return l, nil
}

// LinksBySalesforceID returns the links of the given Salesforce IDs.
func (s *Store) LinksBySalesforceID(ctx context.Context, tenantID string, ids []string) (map[string]Link, error) {
	return s.links(ctx, "salesforce_id", tenantID, ids, func(l Link) string { return l.SalesforceID })
}

// LinksByContactID returns the links of the given platform contacts.
func (s *Store) LinksByContactID(ctx context.Context, tenantID string, ids []string) (map[string]Link, error) {
	return s.links(ctx, "contact_id", tenantID, ids, func(l Link) string { return l.ContactID })
}

func (s *Store) links(ctx context.Context, col, tenantID string, ids []string, key func(Link) string) (map[string]Link, error) {
	out := make(map[string]Link, len(ids))
	err := s.eachByKeys(ctx, tenantID, ids, linkCols, "links", col, func(rows *sql.Rows) error {
		l, err := scanLink(rows)
		if err == nil {
			out[key(l)] = l
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// CountLinks returns how many links a tenant has.
func (s *Store) CountLinks(ctx context.Context, tenantID string) (int64, error) {
	var n int64
	err := s.db().QueryRowContext(ctx, `SELECT COUNT(*) FROM links WHERE tenant_id = $1`, tenantID).Scan(&n)
	return n, mapErr(err)
}

// SaveLinksTx creates or updates links inside a transaction.
func (s *Store) SaveLinksTx(ctx context.Context, tx *sql.Tx, tenantID string, links []Link) error {
	now := micros(s.Now())
	if s.Dialect == Postgres {
		return s.saveLinksPostgres(ctx, tx, tenantID, links, now)
	}
	const per = 9
	for chunk := range stmtChunks(links, 256) {
		args := make([]any, 0, len(chunk)*per)
		for _, l := range chunk {
			sfJSON, pfJSON := linkValuesJSON(l)
			oos := int64(0) // an integer, so that a chunk's common value is bound once
			if l.OutOfScope {
				oos = 1
			}
			args = append(args, tenantID, l.SalesforceID, l.ContactID, sfJSON, pfJSON, oos, microsOrZero(l.SFModstamp), now, now)
		}
		// SQLite (PostgreSQL returned above): the tenant, the time, an
		// empty pf_values shared by every row are bound once (sharedValues).
		vals, args := sharedValues(per, args)
		_, err := tx.ExecContext(ctx, s.insertInto()+` links (tenant_id, salesforce_id, contact_id, sf_values, pf_values, out_of_scope, sf_modstamp, created_at, updated_at)
			VALUES `+vals+`
			ON CONFLICT (tenant_id, salesforce_id) DO UPDATE SET sf_values = excluded.sf_values,
				pf_values = excluded.pf_values, out_of_scope = excluded.out_of_scope, sf_modstamp = excluded.sf_modstamp, updated_at = excluded.updated_at
			WHERE links.contact_id = excluded.contact_id`, args...)
		if err != nil {
			return mapErr(err)
		}
	}
	return nil
}

// linkValuesJSON is what a link stores: its Salesforce values and, when
// they differ, its platform ones ("" when equal: read as sf_values, which
// halves the link row; issue 14).
func linkValuesJSON(l Link) (sfJSON, pfJSON string) {
	sfv, pfv := l.SFValues, l.PFValues
	if sfv == nil {
		sfv = map[string]any{}
	}
	if pfv == nil {
		pfv = map[string]any{}
	}
	sfJSON = l.ValuesJSON
	if sfJSON == "" {
		sfJSON, pfJSON = mustJSON(sfv), mustJSON(pfv)
	}
	if pfJSON == sfJSON {
		pfJSON = ""
	}
	return sfJSON, pfJSON
}

// saveLinksPostgres is SaveLinksTx on PostgreSQL: one INSERT … SELECT
// FROM unnest(arrays) instead of VALUES lists of nine parameters a row.
func (s *Store) saveLinksPostgres(ctx context.Context, tx *sql.Tx, tenantID string, links []Link, now int64) error {
	n := len(links)
	sfid, cid, sfv, pfv := make([]string, 0, n), make([]string, 0, n), make([]string, 0, n), make([]string, 0, n)
	oos, mod := make([]bool, 0, n), make([]int64, 0, n)
	for _, l := range links {
		sfJSON, pfJSON := linkValuesJSON(l)
		sfid, cid, sfv, pfv = append(sfid, l.SalesforceID), append(cid, l.ContactID), append(sfv, sfJSON), append(pfv, pfJSON)
		oos, mod = append(oos, l.OutOfScope), append(mod, microsOrZero(l.SFModstamp))
	}
	if len(sfid) == 0 {
		return nil
	}
	// No switch to plan_cache_mode auto (autoPlans): links check no
	// foreign key (migration 00037).
	_, err := tx.ExecContext(ctx, `INSERT INTO links (tenant_id, salesforce_id, contact_id, sf_values, pf_values, out_of_scope, sf_modstamp, created_at, updated_at)
			SELECT $1, s, c, v, p, o, m, $8, $8 FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::boolean[], $7::bigint[]) AS x(s, c, v, p, o, m)
			ON CONFLICT (tenant_id, salesforce_id) DO UPDATE SET sf_values = excluded.sf_values,
				pf_values = excluded.pf_values, out_of_scope = excluded.out_of_scope, sf_modstamp = excluded.sf_modstamp, updated_at = excluded.updated_at
			WHERE links.contact_id = excluded.contact_id`,
		tenantID, sfid, cid, sfv, pfv, oos, mod, now)
	return mapErr(err)
}

// LinksSavedBefore returns up to limit links not saved since before, in
// Salesforce ID order: after a full pass, the ones it did not see.
func (s *Store) LinksSavedBefore(ctx context.Context, tenantID string, before time.Time, limit int) ([]Link, error) {
	rows, err := s.db().QueryContext(ctx, `SELECT `+linkCols+` FROM links WHERE tenant_id = $1 AND updated_at < $2 ORDER BY salesforce_id LIMIT $3`,
		tenantID, micros(before), limit)
	if err != nil {
		return nil, mapErr(err)
	}
	defer rows.Close()
	var out []Link
	for rows.Next() {
		l, err := scanLink(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, l)
	}
	return out, mapErr(rows.Err())
}

// DeleteLinksTx removes links by Salesforce ID (the platform contacts stay).
func (s *Store) DeleteLinksTx(ctx context.Context, tx *sql.Tx, tenantID string, salesforceIDs []string) error {
	for chunk := range slices.Chunk(salesforceIDs, 500) {
		args := []any{tenantID}
		for _, id := range chunk {
			args = append(args, id)
		}
		cond, args := s.in("salesforce_id", args, 2)
		if _, err := tx.ExecContext(ctx, `DELETE FROM links WHERE tenant_id = $1 AND `+cond, args...); err != nil {
			return mapErr(err)
		}
	}
	return nil
}

// DeleteAllLinks removes every link of the tenant (the platform contacts
// stay) and returns how many there were: a configuration that syncs
// another Salesforce object starts matching afresh.
func (s *Store) DeleteAllLinks(ctx context.Context, tenantID string) (int64, error) {
	res, err := s.db().ExecContext(ctx, `DELETE FROM links WHERE tenant_id = $1`, tenantID)
	if err != nil {
		return 0, mapErr(err)
	}
	n, err := res.RowsAffected()
	return n, mapErr(err)
}

// DeleteLinksOfContactsTx removes the links of deleted platform contacts.
func (s *Store) DeleteLinksOfContactsTx(ctx context.Context, tx *sql.Tx, tenantID string, contactIDs []string) error {
	for chunk := range slices.Chunk(contactIDs, 500) {
		args := []any{tenantID}
		for _, id := range chunk {
			args = append(args, id)
		}
		cond, args := s.in("contact_id", args, 2)
		if _, err := tx.ExecContext(ctx, `DELETE FROM links WHERE tenant_id = $1 AND `+cond, args...); err != nil {
			return mapErr(err)
		}
	}
	return nil
}

// FindContactsByIdentity returns the contacts whose identity column
// (member_id, phone or email) holds one of the keys, by key.
func (s *Store) FindContactsByIdentity(ctx context.Context, tenantID, column string, keys []string) (map[string]string, error) {
	switch column {
	case "member_id", "phone", "email":
	default:
		return nil, fmt.Errorf("store: %q is not an identity column", column)
	}
	out := make(map[string]string, len(keys))
	err := s.eachByKeys(ctx, tenantID, keys, "id, "+column, "contacts", column, func(rows *sql.Rows) error {
		var id, key string
		if err := rows.Scan(&id, &key); err != nil {
			return err
		}
		out[key] = id
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// PushIngestJob is a Bulk API 2.0 ingest job a push created and has not
// seen to its end.
type PushIngestJob struct {
	JobID     string
	Operation string
	Records   int
	Created   time.Time
}

// AddPushIngestJob remembers an ingest job a push has just created,
// before its records are uploaded.
func (s *Store) AddPushIngestJob(ctx context.Context, tenantID string, j PushIngestJob) error {
	_, err := s.db().ExecContext(ctx, `INSERT INTO push_ingest_jobs (tenant_id, job_id, operation, records, created_at) VALUES ($1, $2, $3, $4, $5)`,
		tenantID, j.JobID, j.Operation, j.Records, micros(j.Created))
	return mapErr(err)
}

// PushIngestJobs returns a tenant's unsettled push ingest jobs, oldest
// first.
func (s *Store) PushIngestJobs(ctx context.Context, tenantID string) ([]PushIngestJob, error) {
	rows, err := s.db().QueryContext(ctx, `SELECT job_id, operation, records, created_at FROM push_ingest_jobs WHERE tenant_id = $1 ORDER BY created_at, job_id`, tenantID)
	if err != nil {
		return nil, mapErr(err)
	}
	defer rows.Close()
	var out []PushIngestJob
	for rows.Next() {
		var j PushIngestJob
		var created int64
		if err := rows.Scan(&j.JobID, &j.Operation, &j.Records, &created); err != nil {
			return nil, mapErr(err)
		}
		j.Created = fromMicros(created)
		out = append(out, j)
	}
	return out, mapErr(rows.Err())
}

// DeletePushIngestJobsTx forgets settled push ingest jobs, in the
// transaction that records their results.
func (s *Store) DeletePushIngestJobsTx(ctx context.Context, tx *sql.Tx, tenantID string, jobIDs []string) error {
	for _, id := range jobIDs {
		if _, err := tx.ExecContext(ctx, `DELETE FROM push_ingest_jobs WHERE tenant_id = $1 AND job_id = $2`, tenantID, id); err != nil {
			return mapErr(err)
		}
	}
	return nil
}
