package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// OpsStats is what an operator's dashboard needs from the database,
// aggregated over every tenant: read at scrape time by the metrics
// collector (internal/app), so the engine needs no instrumentation for it.
type OpsStats struct {
	// Connections counts Salesforce connections by status.
	Connections map[string]int64
	// PullLag is, per tenant whose pull is on and has succeeded once, how
	// far behind Salesforce its platform copy may be: the time since its
	// last successful pull started (seconds). (The pull cursor is no
	// measure: it is the newest change seen, old for a quiet org.)
	PullLag []TenantSeconds
	// PullOverdue is, per tenant whose pull is on and not paused, how long
	// its scheduled pull has been due without finishing (0 if not due).
	PullOverdue []float64
	// PushLag is, per tenant with outbox rows, the age of its oldest row
	// (seconds): how long a platform change has waited for Salesforce.
	PushLag []float64
	// OutboxRows counts platform changes not yet acknowledged by Salesforce.
	OutboxRows int64
	// PausedTenants counts tenants whose sync waits for the API budget.
	PausedTenants int64
	// RunsFinished counts runs finished in the window by direction and status.
	RunsFinished map[[2]string]int64
	// RunsRunning counts runs in progress by direction.
	RunsRunning map[string]int64
	// Records sums the per-record counts of runs finished in the window,
	// by direction and outcome (created, updated, unchanged, …).
	Records map[[2]string]int64
	// Issues counts per-record log entries written in the window by kind
	// (failed, ambiguous, conflict, …) and reason code; the 20 largest
	// groups by name, the rest under reason code "other".
	Issues map[[2]string]int64
	// APIUsage is, per connection whose org reported its API usage in the
	// last 24 hours (Sforce-Limit-Info, stored after each run), the share
	// of the org's daily allocation in use; OverBudget counts those at or
	// above sfsync's share (calls are refused locally until it falls).
	APIUsage   []float64
	OverBudget int64
	// APICalls24h sums the Salesforce calls of runs started in the last 24 hours.
	APICalls24h int64
	// Jobs counts River jobs not yet finalized, by queue and state.
	Jobs map[[2]string]int64
	// JobStartDelay is, per queue, how long each job attempted in the
	// window waited between its scheduled time and its start (seconds).
	JobStartDelay map[string][]float64
	// JobDuration is, per queue, how long each job finalized in the window
	// ran (seconds).
	JobDuration map[string][]float64
}

// TenantSeconds is one tenant's figure, for top-N lists.
type TenantSeconds struct {
	TenantID string
	Seconds  float64
}

// maxIssueGroups bounds the reason codes named in OpsStats.Issues.
const maxIssueGroups = 20

// maxRunAge bounds how long ago a run counted among the recently finished
// may have started, so the query walks the started_at index, not the
// whole table; a run longer than a day is rare (a first sync of millions
// of records takes about an hour).
const maxRunAge = 24 * time.Hour

// maxJobSamples bounds the job timings read per scrape.
const maxJobSamples = 50000

// OpsStats reads the operator's figures at now; window is how far back
// "recent" (finished runs, log entries, job timings) reaches.
func (s *Store) OpsStats(ctx context.Context, now time.Time, window time.Duration) (OpsStats, error) {
	st := OpsStats{Connections: map[string]int64{}, RunsFinished: map[[2]string]int64{}, RunsRunning: map[string]int64{},
		Records: map[[2]string]int64{}, Issues: map[[2]string]int64{}, Jobs: map[[2]string]int64{},
		JobStartDelay: map[string][]float64{}, JobDuration: map[string][]float64{}}
	nowUS, since := micros(now), micros(now.Add(-window))
	seconds := func(us int64) float64 { return float64(us) / 1e6 }

	if err := s.groupCount(ctx, `SELECT status, '', COUNT(*) FROM salesforce_connections GROUP BY status`, nil, func(a, _ string, n int64) {
		st.Connections[a] = n
	}); err != nil {
		return st, err
	}
	if err := s.each(ctx, `SELECT api_used, api_max, api_budget FROM salesforce_connections WHERE api_max > 0 AND api_read_at >= $1`,
		[]any{micros(now.Add(-24 * time.Hour))}, func(scan func(...any) error) error {
			var used, max int64
			var budget float64
			if err := scan(&used, &max, &budget); err != nil {
				return err
			}
			r := float64(used) / float64(max)
			st.APIUsage = append(st.APIUsage, r)
			if budget > 0 && r >= budget {
				st.OverBudget++
			}
			return nil
		}); err != nil {
		return st, err
	}
	// The last successful pull of each tenant is found through the
	// (tenant_id, id) index, newest first: one short index walk per tenant.
	if err := s.each(ctx, `SELECT st.tenant_id, st.next_pull_at, st.paused_until,
			COALESCE((SELECT r.started_at FROM sync_runs r WHERE r.tenant_id = st.tenant_id AND r.direction = 'to_platform'
				AND r.status IN ('succeeded', 'partially_failed') ORDER BY r.id DESC LIMIT 1), 0)
		FROM sync_state st WHERE st.pull_enabled = $1`, []any{true}, func(scan func(...any) error) error {
		var id string
		var next, paused, lastOK int64
		if err := scan(&id, &next, &paused, &lastOK); err != nil {
			return err
		}
		if lastOK > 0 {
			st.PullLag = append(st.PullLag, TenantSeconds{TenantID: id, Seconds: seconds(max(0, nowUS-lastOK))})
		}
		if paused > nowUS {
			st.PausedTenants++
			return nil
		}
		st.PullOverdue = append(st.PullOverdue, seconds(max(0, nowUS-next)))
		return nil
	}); err != nil {
		return st, err
	}
	if err := s.each(ctx, `SELECT MIN(created_at), COUNT(*) FROM outbox GROUP BY tenant_id`, nil, func(scan func(...any) error) error {
		var oldest, n int64
		if err := scan(&oldest, &n); err != nil {
			return err
		}
		st.PushLag = append(st.PushLag, seconds(max(0, nowUS-oldest)))
		st.OutboxRows += n
		return nil
	}); err != nil {
		return st, err
	}
	if err := s.each(ctx, `SELECT direction, status, COUNT(*), COALESCE(SUM(created), 0), COALESCE(SUM(updated), 0), COALESCE(SUM(unchanged), 0),
			COALESCE(SUM(skipped), 0), COALESCE(SUM(out_of_scope), 0), COALESCE(SUM(ambiguous), 0), COALESCE(SUM(failed), 0),
			COALESCE(SUM(conflicts), 0), COALESCE(SUM(unlinked), 0)
		FROM sync_runs WHERE started_at >= $2 AND finished_at >= $1 GROUP BY direction, status`, []any{since, micros(now.Add(-maxRunAge))}, func(scan func(...any) error) error {
		var dir, status string
		var n int64
		var c [9]int64
		if err := scan(&dir, &status, &n, &c[0], &c[1], &c[2], &c[3], &c[4], &c[5], &c[6], &c[7], &c[8]); err != nil {
			return err
		}
		st.RunsFinished[[2]string{dir, status}] += n
		for i, outcome := range []string{"created", "updated", "unchanged", "skipped", "out_of_scope", "ambiguous", "failed", "conflict", "unlinked"} {
			st.Records[[2]string{dir, outcome}] += c[i]
		}
		return nil
	}); err != nil {
		return st, err
	}
	if err := s.groupCount(ctx, `SELECT direction, '', COUNT(*) FROM sync_runs WHERE finished_at IS NULL AND status = 'running' GROUP BY direction`, nil,
		func(dir, _ string, n int64) { st.RunsRunning[dir] = n }); err != nil {
		return st, err
	}
	groups := 0
	if err := s.groupCount(ctx, `SELECT kind, reason_code, COUNT(*) FROM sync_run_records WHERE created_at >= $1
		GROUP BY kind, reason_code ORDER BY COUNT(*) DESC, kind, reason_code`, []any{since}, func(kind, code string, n int64) {
		if groups++; groups > maxIssueGroups {
			code = "other"
		}
		st.Issues[[2]string{kind, code}] += n
	}); err != nil {
		return st, err
	}
	if err := s.DB.QueryRowContext(ctx, `SELECT COALESCE(SUM(api_calls), 0) FROM sync_runs WHERE started_at >= $1`,
		micros(now.Add(-24*time.Hour))).Scan(&st.APICalls24h); err != nil {
		return st, fmt.Errorf("ops stats: api calls: %w", mapErr(err))
	}
	return st, s.jobStats(ctx, &st, now, window)
}

// jobStats reads River's job table, whose times are timestamps (not the
// store's microseconds), so the arithmetic differs per dialect.
func (s *Store) jobStats(ctx context.Context, st *OpsStats, now time.Time, window time.Duration) error {
	jobs := s.JobsDB()
	if err := eachOn(ctx, jobs, `SELECT queue, state, COUNT(*) FROM river_job
		WHERE state IN ('available', 'pending', 'running', 'retryable', 'scheduled') GROUP BY queue, state`, nil,
		func(scan func(...any) error) error {
			var queue, state string
			var n int64
			if err := scan(&queue, &state, &n); err != nil {
				return err
			}
			st.Jobs[[2]string{queue, state}] = n
			return nil
		}); err != nil {
		return err
	}
	// River's SQLite driver writes timestamps that julianday parses; the
	// cutoff is compared as a Julian day there, not as text.
	secs, cutoff := `EXTRACT(EPOCH FROM (%s - %s))::float8`, `$1::timestamptz`
	attempted, finalized := `attempted_at`, `finalized_at`
	if s.Dialect == SQLite {
		secs, cutoff = `(julianday(%s) - julianday(%s)) * 86400.0`, `julianday($1)`
		attempted, finalized = `julianday(attempted_at)`, `julianday(finalized_at)`
	}
	ts := now.Add(-window).UTC().Format("2006-01-02 15:04:05.000000+00:00")
	q := fmt.Sprintf(`SELECT queue, %s FROM river_job WHERE attempted_at IS NOT NULL AND %s >= %s LIMIT %d`,
		fmt.Sprintf(secs, "attempted_at", "scheduled_at"), attempted, cutoff, maxJobSamples)
	if err := eachOn(ctx, jobs, q, []any{ts}, func(scan func(...any) error) error {
		var queue string
		var d float64
		if err := scan(&queue, &d); err != nil {
			return err
		}
		st.JobStartDelay[queue] = append(st.JobStartDelay[queue], max(0, d))
		return nil
	}); err != nil {
		return err
	}
	q = fmt.Sprintf(`SELECT queue, %s FROM river_job WHERE finalized_at IS NOT NULL AND attempted_at IS NOT NULL AND %s >= %s LIMIT %d`,
		fmt.Sprintf(secs, "finalized_at", "attempted_at"), finalized, cutoff, maxJobSamples)
	return eachOn(ctx, jobs, q, []any{ts}, func(scan func(...any) error) error {
		var queue string
		var d float64
		if err := scan(&queue, &d); err != nil {
			return err
		}
		st.JobDuration[queue] = append(st.JobDuration[queue], max(0, d))
		return nil
	})
}

// groupCount runs a query answering (text, text, count) rows.
func (s *Store) groupCount(ctx context.Context, q string, args []any, f func(a, b string, n int64)) error {
	return s.each(ctx, q, args, func(scan func(...any) error) error {
		var a, b string
		var n int64
		if err := scan(&a, &b, &n); err != nil {
			return err
		}
		f(a, b, n)
		return nil
	})
}

// each runs q and calls f with a scanner for every row.
func (s *Store) each(ctx context.Context, q string, args []any, f func(scan func(...any) error) error) error {
	return eachOn(ctx, s.DB, q, args, f)
}

// eachOn is each on db (the store's, or the job queue's: JobsDB).
func eachOn(ctx context.Context, db *sql.DB, q string, args []any, f func(scan func(...any) error) error) error {
	rows, err := db.QueryContext(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("ops stats: %w", mapErr(err))
	}
	defer rows.Close()
	for rows.Next() {
		if err := f(rows.Scan); err != nil {
			return fmt.Errorf("ops stats: %w", mapErr(err))
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("ops stats: %w", mapErr(err))
	}
	return nil
}
