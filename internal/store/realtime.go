package store

import (
	"context"
	"database/sql"
	"encoding/hex"
	"time"
)

// How a tenant's Salesforce changes arrive (issue 15), as the admin sees it.
const (
	StreamRealtime = "realtime" // a Change Data Capture subscription is up
	StreamPolling  = "polling"  // the incremental pull every 15 minutes
)

// RealtimeStream is a tenant's Change Data Capture subscription state.
type RealtimeStream struct {
	TenantID string
	// ReplayID is the replay ID of the last applied batch (nil: none;
	// the subscription starts at the newest event and a pull catches up).
	ReplayID []byte
	// CatchUp: an incremental pull is owed before the stream alone can be
	// trusted (a gap or overflow event, an invalid replay ID, a break).
	CatchUp bool
	Mode    string    // StreamRealtime, StreamPolling, or "" before any subscription
	Reason  string    // why polling (a code the UI translates)
	Since   time.Time // when Mode (and Reason) last changed
	RunID   int64     // the open real-time pull run
	// LeaseOwner holds the subscription until LeaseUntil.
	LeaseOwner string
	LeaseUntil time.Time
}

// GetRealtimeStream returns a tenant's stream state; a zero state when
// the tenant never had one.
func (s *Store) GetRealtimeStream(ctx context.Context, tenantID string) (RealtimeStream, error) {
	rs := RealtimeStream{TenantID: tenantID}
	var replay string
	var since, until int64
	err := s.db().QueryRowContext(ctx, `SELECT replay_id, catch_up, mode, mode_reason, mode_since, run_id, lease_owner, lease_until
		FROM realtime_streams WHERE tenant_id = $1`, tenantID).Scan(&replay, &rs.CatchUp, &rs.Mode, &rs.Reason, &since, &rs.RunID, &rs.LeaseOwner, &until)
	if err == sql.ErrNoRows {
		return rs, nil
	}
	if err != nil {
		return rs, mapErr(err)
	}
	if replay != "" {
		rs.ReplayID, _ = hex.DecodeString(replay)
	}
	rs.Since, rs.LeaseUntil = timeOrZero(since), timeOrZero(until)
	return rs, nil
}

func (s *Store) ensureStream(ctx context.Context, q querier, tenantID string) error {
	_, err := q.ExecContext(ctx, `INSERT INTO realtime_streams (tenant_id, updated_at) VALUES ($1, $2) ON CONFLICT (tenant_id) DO NOTHING`,
		tenantID, micros(s.Now()))
	return mapErr(err)
}

// SaveReplayIDTx stores, inside the transaction that applied a batch of
// change events, the batch's replay ID and whether a pull is owed.
func (s *Store) SaveReplayIDTx(ctx context.Context, tx *sql.Tx, tenantID string, replayID []byte, catchUp bool) error {
	return s.saveReplayID(ctx, tx, tenantID, replayID, catchUp)
}

// SaveReplayID is SaveReplayIDTx in a statement of its own (a batch that
// applied nothing: keep-alives, echoes).
func (s *Store) SaveReplayID(ctx context.Context, tenantID string, replayID []byte, catchUp bool) error {
	return s.saveReplayID(ctx, s.db(), tenantID, replayID, catchUp)
}

func (s *Store) saveReplayID(ctx context.Context, q querier, tenantID string, replayID []byte, catchUp bool) error {
	if err := s.ensureStream(ctx, q, tenantID); err != nil {
		return err
	}
	_, err := q.ExecContext(ctx, `UPDATE realtime_streams SET replay_id = $2, catch_up = $3, updated_at = $4 WHERE tenant_id = $1`,
		tenantID, hex.EncodeToString(replayID), catchUp, micros(s.Now()))
	return mapErr(err)
}

// SetCatchUp records that an incremental pull is owed (or was run).
func (s *Store) SetCatchUp(ctx context.Context, tenantID string, catchUp bool) error {
	if err := s.ensureStream(ctx, s.db(), tenantID); err != nil {
		return err
	}
	_, err := s.db().ExecContext(ctx, `UPDATE realtime_streams SET catch_up = $2, updated_at = $3 WHERE tenant_id = $1`, tenantID, catchUp, micros(s.Now()))
	return mapErr(err)
}

// SetStreamMode records how changes arrive; Since moves only when the
// mode or the reason changes.
func (s *Store) SetStreamMode(ctx context.Context, tenantID, mode, reason string, now time.Time) error {
	if err := s.ensureStream(ctx, s.db(), tenantID); err != nil {
		return err
	}
	_, err := s.db().ExecContext(ctx, `UPDATE realtime_streams SET mode = $2, mode_reason = $3, mode_since = $4, updated_at = $4
		WHERE tenant_id = $1 AND (mode <> $2 OR mode_reason <> $3)`, tenantID, mode, reason, micros(now))
	return mapErr(err)
}

// SetStreamRun records the tenant's open real-time pull run.
func (s *Store) SetStreamRun(ctx context.Context, tenantID string, runID int64) error {
	if err := s.ensureStream(ctx, s.db(), tenantID); err != nil {
		return err
	}
	_, err := s.db().ExecContext(ctx, `UPDATE realtime_streams SET run_id = $2, updated_at = $3 WHERE tenant_id = $1`, tenantID, runID, micros(s.Now()))
	return mapErr(err)
}

// streamable are the tenants that should have a subscription: pulling
// from Salesforce, with a first sync behind them (a cursor).
const streamable = `SELECT tenant_id FROM sync_state WHERE pull_enabled = TRUE AND pull_cursor > 0`

// ClaimStreams takes the leases of up to limit streamable tenants that no
// live process holds, for owner until until, and returns them. The
// UPDATE re-checks each row's lease, so two processes never both take one.
func (s *Store) ClaimStreams(ctx context.Context, owner string, now, until time.Time, limit int) ([]string, error) {
	if _, err := s.db().ExecContext(ctx, `INSERT INTO realtime_streams (tenant_id, updated_at)
		SELECT tenant_id, $1 FROM sync_state WHERE pull_enabled = TRUE AND pull_cursor > 0
		ON CONFLICT (tenant_id) DO NOTHING`, micros(now)); err != nil {
		return nil, mapErr(err)
	}
	return s.tenantIDs(ctx, `UPDATE realtime_streams SET lease_owner = $1, lease_until = $2, updated_at = $3
		WHERE (lease_owner = '' OR lease_until < $3) AND tenant_id IN (
			SELECT r.tenant_id FROM realtime_streams r WHERE (r.lease_owner = '' OR r.lease_until < $3)
				AND r.tenant_id IN (`+streamable+`) ORDER BY r.lease_until LIMIT $4)
		RETURNING tenant_id`, owner, micros(until), micros(now), limit)
}

// RenewLeases extends owner's leases that are still its own and whose
// tenants still stream, and returns those tenants; the leases of tenants
// that stopped pulling are released.
func (s *Store) RenewLeases(ctx context.Context, owner string, now, until time.Time) ([]string, error) {
	if _, err := s.db().ExecContext(ctx, `UPDATE realtime_streams SET lease_owner = '', lease_until = 0, updated_at = $2
		WHERE lease_owner = $1 AND tenant_id NOT IN (`+streamable+`)`, owner, micros(now)); err != nil {
		return nil, mapErr(err)
	}
	return s.tenantIDs(ctx, `UPDATE realtime_streams SET lease_until = $2, updated_at = $3
		WHERE lease_owner = $1 AND lease_until >= $3 RETURNING tenant_id`, owner, micros(until), micros(now))
}

// ReleaseLeases gives up owner's leases (of the given tenants, or all
// when none are given), so another process may take them at once.
func (s *Store) ReleaseLeases(ctx context.Context, owner string, tenantIDs ...string) error {
	q := `UPDATE realtime_streams SET lease_owner = '', lease_until = 0 WHERE lease_owner = $1`
	args := []any{owner}
	if len(tenantIDs) > 0 {
		for _, id := range tenantIDs {
			args = append(args, id)
		}
		var in string
		in, args = s.in("tenant_id", args, 2)
		q += ` AND ` + in
	}
	_, err := s.db().ExecContext(ctx, q, args...)
	return mapErr(err)
}
