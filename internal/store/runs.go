package store

import (
	"context"
	"database/sql"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Direction is the way a run moves records.
type Direction string

// Trigger says what started a run.
type Trigger string

// RunStatus is where a run stands.
type RunStatus string

// RecordKind is the kind of a run's per-record log entry.
type RecordKind string

// SyncCounts are a run's per-outcome record counts.
type SyncCounts struct {
	Scanned    int64 `json:"scanned"`
	Created    int64 `json:"created"`
	Updated    int64 `json:"updated"`
	Unchanged  int64 `json:"unchanged"`
	Skipped    int64 `json:"skipped"` // by the no-match policy
	OutOfScope int64 `json:"out_of_scope"`
	Ambiguous  int64 `json:"ambiguous"`
	Failed     int64 `json:"failed"`
	Conflicts  int64 `json:"conflicts"`
	Unlinked   int64 `json:"unlinked"` // deleted in Salesforce
}

// Add adds o to c.
func (c *SyncCounts) Add(o SyncCounts) {
	c.Scanned += o.Scanned
	c.Created += o.Created
	c.Updated += o.Updated
	c.Unchanged += o.Unchanged
	c.Skipped += o.Skipped
	c.OutOfScope += o.OutOfScope
	c.Ambiguous += o.Ambiguous
	c.Failed += o.Failed
	c.Conflicts += o.Conflicts
	c.Unlinked += o.Unlinked
}

// SyncRun is one sync run (S21).
type SyncRun struct {
	ID            int64      `json:"id"`
	TenantID      string     `json:"-"`
	Direction     Direction  `json:"direction"`
	Trigger       Trigger    `json:"trigger"`
	Status        RunStatus  `json:"status"`
	ConfigVersion int64      `json:"config_version"`
	StartedAt     time.Time  `json:"started_at"`
	FinishedAt    *time.Time `json:"finished_at,omitempty"`
	Counts        SyncCounts `json:"counts"`
	// Total is the number of records a full sync expects (COUNT()); 0 when unknown.
	Total      int64  `json:"total"`
	Processed  int64  `json:"processed"`
	APICalls   int64  `json:"api_calls"`
	Checkpoint string `json:"-"`
	Message    string `json:"message,omitempty"`
}

// Percent is the run's progress in percent (0–100), from Processed/Total.
func (r SyncRun) Percent() float64 {
	if r.Status == "succeeded" || r.Status == "partially_failed" {
		return 100
	}
	if r.Total <= 0 {
		return 0
	}
	p := float64(r.Processed) * 100 / float64(r.Total)
	if p > 100 {
		p = 100
	}
	return p
}

// SyncRunRecord is one per-record log entry of a run.
type SyncRunRecord struct {
	ID           int64      `json:"id"`
	RunID        int64      `json:"run_id"`
	Kind         RecordKind `json:"kind"`
	SalesforceID string     `json:"salesforce_id,omitempty"`
	ContactID    string     `json:"contact_id,omitempty"`
	Field        string     `json:"field,omitempty"`
	ReasonCode   string     `json:"reason_code"`
	Reason       string     `json:"reason"`
	Detail       string     `json:"detail,omitempty"`
	Created      time.Time  `json:"created_at"`
}

// ReasonGroup counts a run's records by kind and reason code.
type ReasonGroup struct {
	Kind       RecordKind `json:"kind"`
	ReasonCode string     `json:"reason_code"`
	Example    string     `json:"example"`
	Count      int64      `json:"count"`
}

const runCols = `id, direction, trigger, status, config_version, started_at, finished_at, scanned, created, updated, unchanged, skipped,
	out_of_scope, ambiguous, failed, conflicts, unlinked, total, processed, api_calls, checkpoint, message`

func scanRun(row interface{ Scan(...any) error }, tenantID string) (SyncRun, error) {
	r := SyncRun{TenantID: tenantID}
	var started int64
	var finished sql.NullInt64
	c := &r.Counts
	err := row.Scan(&r.ID, &r.Direction, &r.Trigger, &r.Status, &r.ConfigVersion, &started, &finished, &c.Scanned, &c.Created, &c.Updated,
		&c.Unchanged, &c.Skipped, &c.OutOfScope, &c.Ambiguous, &c.Failed, &c.Conflicts, &c.Unlinked, &r.Total, &r.Processed, &r.APICalls,
		&r.Checkpoint, &r.Message)
	r.StartedAt = fromMicros(started)
	if finished.Valid {
		f := fromMicros(finished.Int64)
		r.FinishedAt = &f
	}
	return r, mapErr(err)
}

// CreateRun starts a run and returns it with its ID.
func (s *Store) CreateRun(ctx context.Context, r SyncRun) (SyncRun, error) {
	r.StartedAt = s.Now().UTC().Truncate(time.Microsecond)
	err := s.db().QueryRowContext(ctx, `INSERT INTO sync_runs (tenant_id, direction, trigger, status, config_version, started_at, total, message)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`,
		r.TenantID, r.Direction, r.Trigger, r.Status, r.ConfigVersion, micros(r.StartedAt), r.Total, r.Message).Scan(&r.ID)
	return r, mapErr(err)
}

// GetRun returns one of a tenant's runs.
func (s *Store) GetRun(ctx context.Context, tenantID string, id int64) (SyncRun, error) {
	return scanRun(s.db().QueryRowContext(ctx, `SELECT `+runCols+` FROM sync_runs WHERE tenant_id = $1 AND id = $2`, tenantID, id), tenantID)
}

// ListRuns returns a tenant's runs, newest first; direction "" means all.
func (s *Store) ListRuns(ctx context.Context, tenantID string, direction Direction, limit int, beforeID int64) ([]SyncRun, error) {
	if limit <= 0 || limit > 500 {
		limit = 50
	}
	q := `SELECT ` + runCols + ` FROM sync_runs WHERE tenant_id = $1`
	args := []any{tenantID}
	if direction != "" {
		args = append(args, direction)
		q += fmt.Sprintf(" AND direction = $%d", len(args))
	}
	if beforeID > 0 {
		args = append(args, beforeID)
		q += fmt.Sprintf(" AND id < $%d", len(args))
	}
	args = append(args, limit)
	q += fmt.Sprintf(" ORDER BY id DESC LIMIT $%d", len(args))
	return s.queryRuns(ctx, tenantID, q, args...)
}

// queryRuns runs a query selecting runCols and scans its runs.
func (s *Store) queryRuns(ctx context.Context, tenantID, q string, args ...any) ([]SyncRun, error) {
	rows, err := s.db().QueryContext(ctx, q, args...)
	if err != nil {
		return nil, mapErr(err)
	}
	defer rows.Close()
	var out []SyncRun
	for rows.Next() {
		r, err := scanRun(rows, tenantID)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, mapErr(rows.Err())
}

// RunProgress is what a page of work adds to a run.
type RunProgress struct {
	Counts     SyncCounts
	Processed  int64
	APICalls   int64
	Checkpoint *string   // nil: unchanged
	Total      *int64    // nil: unchanged
	Status     RunStatus // "": unchanged
	Message    *string   // nil: unchanged
	Finished   bool
	// Restart sets the counts and Processed instead of adding to them and
	// removes the run's log entries: a pass that cannot resume part-way (a
	// Bulk API read) starts over.
	Restart bool
}

// UpdateRunTx adds progress to a run inside a transaction.
func (s *Store) UpdateRunTx(ctx context.Context, tx *sql.Tx, tenantID string, runID int64, p RunProgress) error {
	return s.updateRun(ctx, tx, tenantID, runID, p)
}

// UpdateRun adds progress to a run.
func (s *Store) UpdateRun(ctx context.Context, tenantID string, runID int64, p RunProgress) error {
	return s.updateRun(ctx, s.db(), tenantID, runID, p)
}

func (s *Store) updateRun(ctx context.Context, q querier, tenantID string, runID int64, p RunProgress) error {
	c := p.Counts
	sets := []string{"scanned = scanned + $3", "created = created + $4", "updated = updated + $5", "unchanged = unchanged + $6",
		"skipped = skipped + $7", "out_of_scope = out_of_scope + $8", "ambiguous = ambiguous + $9", "failed = failed + $10",
		"conflicts = conflicts + $11", "unlinked = unlinked + $12", "processed = processed + $13", "api_calls = api_calls + $14"}
	args := []any{tenantID, runID, c.Scanned, c.Created, c.Updated, c.Unchanged, c.Skipped, c.OutOfScope, c.Ambiguous, c.Failed,
		c.Conflicts, c.Unlinked, p.Processed, p.APICalls}
	if p.Restart {
		if err := s.uncountFailures(ctx, q, tenantID, runID); err != nil {
			return err
		}
		if _, err := q.ExecContext(ctx, `DELETE FROM sync_run_records WHERE tenant_id = $1 AND run_id = $2`, tenantID, runID); err != nil {
			return mapErr(err)
		}
		if _, err := q.ExecContext(ctx, `DELETE FROM sync_run_groups WHERE tenant_id = $1 AND run_id = $2`, tenantID, runID); err != nil {
			return mapErr(err)
		}
		for i, set := range sets[:len(sets)-1] { // API calls still add up
			col, _, _ := strings.Cut(set, " = ")
			sets[i] = col + " = $" + strconv.Itoa(i+3)
		}
	}
	add := func(col string, v any) {
		args = append(args, v)
		sets = append(sets, fmt.Sprintf("%s = $%d", col, len(args)))
	}
	if p.Checkpoint != nil {
		add("checkpoint", *p.Checkpoint)
	}
	if p.Total != nil {
		add("total", *p.Total)
	}
	if p.Status != "" {
		add("status", p.Status)
	}
	if p.Message != nil {
		add("message", *p.Message)
	}
	if p.Finished {
		add("finished_at", micros(s.Now()))
	}
	res, err := q.ExecContext(ctx, `UPDATE sync_runs SET `+strings.Join(sets, ", ")+` WHERE tenant_id = $1 AND id = $2`, args...)
	if err := affected(res, err); err != nil {
		return err
	}
	return s.addAPICalls(ctx, q, tenantID, p.APICalls)
}

// AddRunRecordsTx writes per-record log entries inside a transaction.
func (s *Store) AddRunRecordsTx(ctx context.Context, tx *sql.Tx, tenantID string, recs []SyncRunRecord) error {
	return s.addRunRecords(ctx, tx, tenantID, recs)
}

// AddRunRecords writes per-record log entries.
func (s *Store) AddRunRecords(ctx context.Context, tenantID string, recs []SyncRunRecord) error {
	return s.addRunRecords(ctx, s.db(), tenantID, recs)
}

func (s *Store) addRunRecords(ctx context.Context, q querier, tenantID string, recs []SyncRunRecord) error {
	now := micros(s.Now())
	if s.Dialect == Postgres && len(recs) > 0 {
		// One INSERT … SELECT FROM unnest(arrays), not VALUES lists of
		// ten parameters a row (issue 14).
		n := len(recs)
		run := make([]int64, n)
		kind, sfid, cid, field, code, reason, detail := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		for i, r := range recs {
			run[i], kind[i], sfid[i], cid[i], field[i], code[i], reason[i], detail[i] = r.RunID, string(r.Kind), r.SalesforceID, r.ContactID, r.Field, r.ReasonCode, r.Reason, r.Detail
		}
		insert := pgStmt{`INSERT INTO sync_run_records (run_id, tenant_id, kind, salesforce_id, contact_id, field, reason_code, reason, detail, created_at)
				SELECT r, $1, k, s, c, f, rc, re, d, $10 FROM unnest($2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[]) AS x(r, k, s, c, f, rc, re, d)`,
			[]any{tenantID, run, kind, sfid, cid, field, code, reason, detail, now}}
		if tx, ok := q.(*sql.Tx); ok && n >= 100 {
			// Each row checks its run (foreign key); in a write transaction
			// the records and their counts go in one batch, one round trip.
			return s.autoPlansExec(ctx, tx, append([]pgStmt{insert}, s.runCountStmts(tenantID, recs, now)...)...)
		}
		if _, err := q.ExecContext(ctx, insert.q, insert.args...); err != nil {
			return mapErr(err)
		}
		return s.countRunRecords(ctx, q, tenantID, recs, now)
	}
	const per = 10
	for chunk := range stmtChunks(recs, 256) {
		args := make([]any, 0, len(chunk)*per)
		for _, r := range chunk {
			args = append(args, r.RunID, tenantID, string(r.Kind), r.SalesforceID, r.ContactID, r.Field, r.ReasonCode, r.Reason, r.Detail, now)
		}
		// SQLite (PostgreSQL returned above): what every row shares is
		// bound once (sharedValues).
		vals, args := sharedValues(per, args)
		if _, err := q.ExecContext(ctx, s.insertInto()+` sync_run_records (run_id, tenant_id, kind, salesforce_id, contact_id, field, reason_code, reason, detail, created_at)
			VALUES `+vals, args...); err != nil {
			return mapErr(err)
		}
	}
	return s.countRunRecords(ctx, q, tenantID, recs, now)
}

// countRunRecords adds recs, written at now, to their runs' counts by
// kind and reason (sync_run_groups), one row per group: what ReasonGroups
// reads; and the failed ones to the tenant's failures of the hour
// (sync_failure_hours): what FailuresByHour reads.
func (s *Store) countRunRecords(ctx context.Context, q querier, tenantID string, recs []SyncRunRecord, now int64) error {
	for _, st := range s.runCountStmts(tenantID, recs, now) {
		if _, err := q.ExecContext(ctx, st.q, st.args...); err != nil {
			return mapErr(err)
		}
	}
	return nil
}

// runCountStmts are the statements of countRunRecords: an upsert of each
// group, and of the failed ones' hour.
func (s *Store) runCountStmts(tenantID string, recs []SyncRunRecord, now int64) []pgStmt {
	type key struct {
		run          int64
		kind, reason string
	}
	type group struct {
		example string
		count   int64
	}
	groups := map[key]*group{}
	var order []key
	for _, r := range recs {
		k := key{r.RunID, string(r.Kind), r.ReasonCode}
		g := groups[k]
		if g == nil {
			g = &group{example: r.Reason}
			groups[k] = g
			order = append(order, k)
		}
		g.count++
		g.example = min(g.example, r.Reason)
	}
	least := "MIN"
	if s.Dialect == Postgres {
		least = "LEAST"
	}
	var stmts []pgStmt
	for _, k := range order {
		g := groups[k]
		stmts = append(stmts, pgStmt{`INSERT INTO sync_run_groups (run_id, tenant_id, kind, reason_code, example, count) VALUES ($1, $2, $3, $4, $5, $6)
			ON CONFLICT (run_id, kind, reason_code) DO UPDATE SET count = sync_run_groups.count + excluded.count,
			example = ` + least + `(sync_run_groups.example, excluded.example)`, []any{k.run, tenantID, k.kind, k.reason, g.example, g.count}})
		if k.kind == "failed" { // syncer.KindFailed
			stmts = append(stmts, pgStmt{failureHourUpsert, []any{tenantID, now / hourMicros, k.reason, g.count}})
		}
	}
	return stmts
}

// failureHourUpsert adds $4 to a tenant's ($1) failures of one reason ($3)
// in one hour ($2).
const failureHourUpsert = `INSERT INTO sync_failure_hours (tenant_id, hour, reason_code, n) VALUES ($1, $2, $3, $4)
		ON CONFLICT (tenant_id, hour, reason_code) DO UPDATE SET n = sync_failure_hours.n + excluded.n`

// addFailureHour adds n (which may be negative) to a tenant's failures of
// one reason in one hour, and forgets the hour's reason when none is left.
func (s *Store) addFailureHour(ctx context.Context, q querier, tenantID string, hour int64, reason string, n int64) error {
	if _, err := q.ExecContext(ctx, failureHourUpsert, tenantID, hour, reason, n); err != nil {
		return mapErr(err)
	}
	if n < 0 {
		_, err := q.ExecContext(ctx, `DELETE FROM sync_failure_hours WHERE tenant_id = $1 AND hour = $2 AND reason_code = $3 AND n <= 0`, tenantID, hour, reason)
		return mapErr(err)
	}
	return nil
}

// uncountFailures takes a run's failed entries out of the tenant's
// failures by hour, before they are deleted (a restarted run).
func (s *Store) uncountFailures(ctx context.Context, q querier, tenantID string, runID int64) error {
	rows, err := q.QueryContext(ctx, `SELECT created_at / $3, reason_code, COUNT(*) FROM sync_run_records
		WHERE run_id = $2 AND kind = 'failed' AND tenant_id = $1 GROUP BY created_at / $3, reason_code`, tenantID, runID, hourMicros)
	if err != nil {
		return mapErr(err)
	}
	type hourReason struct {
		hour, n int64
		reason  string
	}
	var gone []hourReason
	for rows.Next() {
		var g hourReason
		if err := rows.Scan(&g.hour, &g.reason, &g.n); err != nil {
			rows.Close()
			return err
		}
		gone = append(gone, g)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return mapErr(err)
	}
	for _, g := range gone {
		if err := s.addFailureHour(ctx, q, tenantID, g.hour, g.reason, -g.n); err != nil {
			return err
		}
	}
	return nil
}

// RunRecords lists a run's per-record entries, optionally of one kind and
// reason code.
func (s *Store) RunRecords(ctx context.Context, tenantID string, runID int64, kind RecordKind, reasonCode string, limit int) ([]SyncRunRecord, error) {
	q := `SELECT id, run_id, kind, salesforce_id, contact_id, field, reason_code, reason, detail, created_at FROM sync_run_records WHERE tenant_id = $1 AND run_id = $2`
	args := []any{tenantID, runID}
	if kind != "" {
		args = append(args, kind)
		q += fmt.Sprintf(" AND kind = $%d", len(args))
	}
	if reasonCode != "" {
		args = append(args, reasonCode)
		q += fmt.Sprintf(" AND reason_code = $%d", len(args))
	}
	if limit > 0 {
		args = append(args, limit)
		q += fmt.Sprintf(" ORDER BY id LIMIT $%d", len(args))
	} else {
		q += " ORDER BY id"
	}
	rows, err := s.db().QueryContext(ctx, q, args...)
	if err != nil {
		return nil, mapErr(err)
	}
	defer rows.Close()
	var out []SyncRunRecord
	for rows.Next() {
		var r SyncRunRecord
		var created int64
		if err := rows.Scan(&r.ID, &r.RunID, &r.Kind, &r.SalesforceID, &r.ContactID, &r.Field, &r.ReasonCode, &r.Reason, &r.Detail, &created); err != nil {
			return nil, err
		}
		r.Created = fromMicros(created)
		out = append(out, r)
	}
	return out, mapErr(rows.Err())
}

// ReasonGroups counts a run's records by kind and reason.
func (s *Store) ReasonGroups(ctx context.Context, tenantID string, runID int64) ([]ReasonGroup, error) {
	// The counts kept as entries are written: a client polls this while a
	// run logs hundreds of thousands of entries (issue 14).
	rows, err := s.db().QueryContext(ctx, `SELECT kind, reason_code, example, count FROM sync_run_groups
		WHERE tenant_id = $1 AND run_id = $2 ORDER BY count DESC, kind, reason_code`, tenantID, runID)
	if err != nil {
		return nil, mapErr(err)
	}
	defer rows.Close()
	var out []ReasonGroup
	for rows.Next() {
		var g ReasonGroup
		if err := rows.Scan(&g.Kind, &g.ReasonCode, &g.Example, &g.Count); err != nil {
			return nil, err
		}
		out = append(out, g)
	}
	return out, mapErr(rows.Err())
}

// WriteRunCSV writes a run's per-record entries as CSV, optionally only
// one kind and reason code (one group).
func (s *Store) WriteRunCSV(ctx context.Context, tenantID string, runID int64, kind RecordKind, reasonCode string, w io.Writer) error {
	recs, err := s.RunRecords(ctx, tenantID, runID, kind, reasonCode, 0)
	if err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	if err := cw.Write([]string{"run_id", "kind", "salesforce_id", "contact_id", "field", "reason_code", "reason", "detail", "created_at"}); err != nil {
		return err
	}
	for _, r := range recs {
		if err := cw.Write([]string{strconv.FormatInt(r.RunID, 10), string(r.Kind), r.SalesforceID, r.ContactID, r.Field, r.ReasonCode, csvSafe(r.Reason), csvSafe(r.Detail), r.Created.Format(time.RFC3339)}); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// csvSafe defuses spreadsheet formulas in exported text.
func csvSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// PruneRunRecords deletes per-record entries older than before (retention)
// and returns how many went.
func (s *Store) PruneRunRecords(ctx context.Context, before time.Time) (int64, error) {
	var n int64
	err := s.Tx(ctx, func(tx *sql.Tx) error {
		// The runs that lose entries have their counts by reason counted
		// again from what is left.
		rows, err := tx.QueryContext(ctx, `SELECT DISTINCT run_id FROM sync_run_records WHERE created_at < $1`, micros(before))
		if err != nil {
			return mapErr(err)
		}
		var runs []int64
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return err
			}
			runs = append(runs, id)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return mapErr(err)
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM sync_run_records WHERE created_at < $1`, micros(before))
		if err != nil {
			return mapErr(err)
		}
		if n, err = res.RowsAffected(); err != nil {
			return err
		}
		// The failures by hour go with them: the hours before, and the
		// hour of before counted again from what is left of it.
		cut := micros(before) / hourMicros
		if _, err := tx.ExecContext(ctx, `DELETE FROM sync_failure_hours WHERE hour <= $1`, cut); err != nil {
			return mapErr(err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO sync_failure_hours (tenant_id, hour, reason_code, n)
			SELECT tenant_id, $1, reason_code, COUNT(*) FROM sync_run_records
			WHERE created_at >= $2 AND created_at < $3 AND kind = 'failed' GROUP BY tenant_id, reason_code`, cut, cut*hourMicros, (cut+1)*hourMicros); err != nil {
			return mapErr(err)
		}
		for _, id := range runs {
			if _, err := tx.ExecContext(ctx, `DELETE FROM sync_run_groups WHERE run_id = $1`, id); err != nil {
				return mapErr(err)
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO sync_run_groups (run_id, tenant_id, kind, reason_code, example, count)
				SELECT run_id, MIN(tenant_id), kind, reason_code, MIN(reason), COUNT(*) FROM sync_run_records WHERE run_id = $1 GROUP BY run_id, kind, reason_code`, id); err != nil {
				return mapErr(err)
			}
		}
		return nil
	})
	return n, err
}

// PullRetry is a Salesforce record whose sync to the platform failed and
// is retried on later runs (X7).
type PullRetry struct {
	SalesforceID string
	Attempts     int
	NextAt       time.Time
	LastError    string
}

// DuePullRetries lists a tenant's failed pull records due for a retry.
func (s *Store) DuePullRetries(ctx context.Context, tenantID string, now time.Time, limit int) ([]PullRetry, error) {
	rows, err := s.db().QueryContext(ctx, `SELECT salesforce_id, attempts, next_at, last_error FROM pull_retries WHERE tenant_id = $1 AND next_at <= $2 ORDER BY next_at LIMIT $3`,
		tenantID, micros(now), limit)
	if err != nil {
		return nil, mapErr(err)
	}
	defer rows.Close()
	var out []PullRetry
	for rows.Next() {
		var p PullRetry
		var next int64
		if err := rows.Scan(&p.SalesforceID, &p.Attempts, &next, &p.LastError); err != nil {
			return nil, err
		}
		p.NextAt = fromMicros(next)
		out = append(out, p)
	}
	return out, mapErr(rows.Err())
}

// SetPullRetriesTx records failures (attempts+1, next time) and clears
// successes inside a transaction.
func (s *Store) SetPullRetriesTx(ctx context.Context, tx *sql.Tx, tenantID string, failed map[string]string, next func(attempts int) time.Time, succeeded []string) error {
	ids := make([]string, 0, len(failed))
	for id := range failed {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	if s.Dialect == Postgres {
		return s.setPullRetriesPostgres(ctx, tx, tenantID, failed, next, ids, succeeded)
	}
	var delta int64 // rows added less rows deleted: pull_retry_counts
	for chunk := range stmtChunks(ids, 256) {
		// Earlier attempts of the whole chunk in one query, then one
		// multi-row upsert.
		args := []any{tenantID}
		for _, id := range chunk {
			args = append(args, id)
		}
		cond, args := s.in("salesforce_id", args, 2)
		rows, err := tx.QueryContext(ctx, `SELECT salesforce_id, attempts FROM pull_retries WHERE tenant_id = $1 AND `+cond, args...)
		if err != nil {
			return mapErr(err)
		}
		attempts, err := scanAttempts(rows)
		if err != nil {
			return err
		}
		delta += int64(len(chunk) - len(attempts))
		const per = 5
		vals := make([]string, 0, len(chunk))
		args = make([]any, 0, len(chunk)*per)
		for i, id := range chunk {
			n := attempts[id] + 1
			vals = append(vals, "("+s.ph(i*per+1, per)+")")
			args = append(args, tenantID, id, n, micros(next(n)), failed[id])
		}
		if _, err := tx.ExecContext(ctx, s.insertInto()+` pull_retries (tenant_id, salesforce_id, attempts, next_at, last_error) VALUES `+strings.Join(vals, ", ")+pullRetryUpsert, args...); err != nil {
			return mapErr(err)
		}
	}
	if len(succeeded) > 0 {
		// A tenant with no record waiting for a retry (a first sync's
		// every page, as a rule) has nothing to clear but what this call
		// just added: no look-up of every Id (issue 14).
		var before int64
		err := tx.QueryRowContext(ctx, `SELECT n FROM pull_retry_counts WHERE tenant_id = $1`, tenantID).Scan(&before)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return mapErr(err)
		}
		if before == 0 {
			succeeded = slices.DeleteFunc(slices.Clone(succeeded), func(id string) bool { _, added := failed[id]; return !added })
		}
	}
	for start := 0; start < len(succeeded); start += 500 {
		chunk := succeeded[start:min(start+500, len(succeeded))]
		args := []any{tenantID}
		for _, id := range chunk {
			args = append(args, id)
		}
		cond, args := s.in("salesforce_id", args, 2)
		res, err := tx.ExecContext(ctx, `DELETE FROM pull_retries WHERE tenant_id = $1 AND `+cond, args...)
		if err != nil {
			return mapErr(err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return mapErr(err)
		}
		delta -= n
	}
	return s.addPullRetryCount(ctx, tx, tenantID, delta)
}

const pullRetryUpsert = ` ON CONFLICT (tenant_id, salesforce_id) DO UPDATE SET attempts = excluded.attempts, next_at = excluded.next_at, last_error = excluded.last_error`

// addPullRetryCount adds delta (rows added less rows deleted) to the
// tenant's count of pull retries.
func (s *Store) addPullRetryCount(ctx context.Context, tx *sql.Tx, tenantID string, delta int64) error {
	if delta == 0 {
		return nil
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO pull_retry_counts (tenant_id, n) VALUES ($1, $2)
		ON CONFLICT (tenant_id) DO UPDATE SET n = pull_retry_counts.n + excluded.n`, tenantID, delta)
	return mapErr(err)
}

// setPullRetriesPostgres is SetPullRetriesTx on PostgreSQL: one probe
// (probeQuery) reads which of the page's records, failed or not, have a
// retry row already, instead of a look-up per 300 failed and a DELETE per
// 500 succeeded records, each of which read every retry row of the tenant
// without statistics (issue 14); the failed are upserted in one statement
// and the succeeded deleted only where a row was found (on a first sync,
// never; after a retry, the rows the tenant has are few).
func (s *Store) setPullRetriesPostgres(ctx context.Context, tx *sql.Tx, tenantID string, failed map[string]string, next func(attempts int) time.Time, ids, succeeded []string) error {
	if len(ids)+len(succeeded) == 0 {
		return nil
	}
	rows, err := tx.QueryContext(ctx, probeQuery("salesforce_id, attempts", "pull_retries", "salesforce_id"), tenantID, distinct(append(slices.Clip(ids), succeeded...)))
	if err != nil {
		return mapErr(err)
	}
	attempts, err := scanAttempts(rows)
	if err != nil {
		return err
	}
	var delta int64
	if len(ids) > 0 {
		n, at, errs := make([]int64, len(ids)), make([]int64, len(ids)), make([]string, len(ids))
		for i, id := range ids {
			if _, ok := attempts[id]; !ok {
				delta++
			}
			n[i] = int64(attempts[id] + 1)
			at[i], errs[i] = micros(next(int(n[i]))), failed[id]
		}
		// Arrays, not a VALUES list of five parameters a row (issue 14); no
		// switch to plan_cache_mode auto (autoPlans): pull retries check no
		// foreign key (migration 00037).
		if _, err := tx.ExecContext(ctx, `INSERT INTO pull_retries (tenant_id, salesforce_id, attempts, next_at, last_error)
				SELECT $1, * FROM unnest($2::text[], $3::bigint[], $4::bigint[], $5::text[])`+pullRetryUpsert, tenantID, ids, n, at, errs); err != nil {
			return mapErr(err)
		}
	}
	// The succeeded that hold a row now (one found, or one just upserted:
	// as the other dialect's DELETE of every succeeded ID removes).
	var gone []string
	for _, id := range distinct(succeeded) {
		_, had := attempts[id]
		_, added := failed[id]
		if had || added {
			gone = append(gone, id)
		}
	}
	if len(gone) > 0 {
		res, err := tx.ExecContext(ctx, `DELETE FROM pull_retries WHERE tenant_id = $1 AND salesforce_id IN (SELECT unnest($2::text[]))`, tenantID, gone)
		if err != nil {
			return mapErr(err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return mapErr(err)
		}
		delta -= n
	}
	return s.addPullRetryCount(ctx, tx, tenantID, delta)
}

// scanAttempts reads rows of (salesforce_id, attempts) into a map and
// closes them.
func scanAttempts(rows *sql.Rows) (map[string]int, error) {
	defer rows.Close()
	attempts := map[string]int{}
	for rows.Next() {
		var id string
		var n int
		if err := rows.Scan(&id, &n); err != nil {
			return nil, err
		}
		attempts[id] = n
	}
	return attempts, mapErr(rows.Err())
}

// ClearPullRetries makes failed pull records of a tenant due now ("retry
// failed records"): the given Salesforce IDs, or all of them when none
// are given.
func (s *Store) ClearPullRetries(ctx context.Context, tenantID string, salesforceIDs ...string) error {
	if len(salesforceIDs) == 0 {
		_, err := s.db().ExecContext(ctx, `UPDATE pull_retries SET next_at = 0 WHERE tenant_id = $1`, tenantID)
		return mapErr(err)
	}
	return s.updateIn(ctx, `UPDATE pull_retries SET next_at = 0 WHERE tenant_id = $1 AND `, "salesforce_id", tenantID, salesforceIDs)
}

// updateIn runs q + "col IN (…ids…)" in chunks (see in).
func (s *Store) updateIn(ctx context.Context, q, col, tenantID string, ids []string) error {
	for start := 0; start < len(ids); start += 500 {
		chunk := ids[start:min(start+500, len(ids))]
		args := []any{tenantID}
		for _, id := range chunk {
			args = append(args, id)
		}
		cond, args := s.in(col, args, 2)
		if _, err := s.db().ExecContext(ctx, q+cond, args...); err != nil {
			return mapErr(err)
		}
	}
	return nil
}
