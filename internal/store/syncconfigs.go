package store

import (
	"context"
	"errors"
	"time"
)

// SyncConfigVersion is one saved sync configuration of a tenant. Config is
// the configuration's canonical JSON (syncconf.Config); the store does not
// interpret it.
type SyncConfigVersion struct {
	TenantID string
	Version  int64
	Config   []byte
	SavedBy  string
	SavedAt  time.Time
}

// SaveSyncConfig stores a new version of a tenant's sync configuration and
// returns its number (1, 2, …). Versions are never overwritten.
func (s *Store) SaveSyncConfig(ctx context.Context, tenantID, savedBy string, config []byte) (SyncConfigVersion, error) {
	v := SyncConfigVersion{TenantID: tenantID, Config: config, SavedBy: savedBy, SavedAt: s.Now().UTC().Truncate(time.Microsecond)}
	for attempt := 0; attempt < 5; attempt++ {
		err := s.db().QueryRowContext(ctx, `INSERT INTO sync_configs (tenant_id, version, config, saved_by, saved_at)
			SELECT $1, COALESCE(MAX(version), 0) + 1, $2, $3, $4 FROM sync_configs WHERE tenant_id = $1
			RETURNING version`, tenantID, string(config), savedBy, micros(v.SavedAt)).Scan(&v.Version)
		if err := mapErr(err); err != nil {
			// Two saves racing for the same number: the loser tries again.
			var uv *UniqueViolation
			if errors.As(err, &uv) {
				continue
			}
			return v, err
		}
		return v, nil
	}
	return v, ErrBusy
}

// GetSyncConfig returns one version; version 0 means the latest. ErrNotFound
// when the tenant has saved none.
func (s *Store) GetSyncConfig(ctx context.Context, tenantID string, version int64) (SyncConfigVersion, error) {
	q := `SELECT version, config, saved_by, saved_at FROM sync_configs WHERE tenant_id = $1 AND version = $2`
	args := []any{tenantID, version}
	if version == 0 {
		q = `SELECT version, config, saved_by, saved_at FROM sync_configs WHERE tenant_id = $1 ORDER BY version DESC LIMIT 1`
		args = args[:1]
	}
	v := SyncConfigVersion{TenantID: tenantID}
	var cfg string
	var saved int64
	err := s.db().QueryRowContext(ctx, q, args...).Scan(&v.Version, &cfg, &v.SavedBy, &saved)
	v.Config, v.SavedAt = []byte(cfg), fromMicros(saved)
	return v, mapErr(err)
}

// ListSyncConfigs returns a tenant's versions, newest first, without their
// bodies' interpretation.
func (s *Store) ListSyncConfigs(ctx context.Context, tenantID string) ([]SyncConfigVersion, error) {
	rows, err := s.db().QueryContext(ctx, `SELECT version, config, saved_by, saved_at FROM sync_configs WHERE tenant_id = $1 ORDER BY version DESC`, tenantID)
	if err != nil {
		return nil, mapErr(err)
	}
	defer rows.Close()
	var out []SyncConfigVersion
	for rows.Next() {
		v := SyncConfigVersion{TenantID: tenantID}
		var cfg string
		var saved int64
		if err := rows.Scan(&v.Version, &cfg, &v.SavedBy, &saved); err != nil {
			return nil, err
		}
		v.Config, v.SavedAt = []byte(cfg), fromMicros(saved)
		out = append(out, v)
	}
	return out, mapErr(rows.Err())
}
