package store

import (
	"context"
	"time"
)

// Connection states (SPEC X5).
const (
	ConnNotConnected = "not_connected"
	ConnConnected    = "connected"
	ConnBroken       = "broken"
)

// SalesforceConnection is a tenant's stored link to its Salesforce org. The
// tokens are ciphertexts; the store never sees them in plaintext.
type SalesforceConnection struct {
	TenantID        string
	Status          string
	LoginURL        string
	InstanceURL     string
	OrgID           string
	UserID          string
	Username        string
	OrgName         string
	Edition         string
	IdentityURL     string
	AccessTokenEnc  string
	RefreshTokenEnc string
	APIBudget       float64
	// APIUsed and APIMax are the last Sforce-Limit-Info reading (calls in
	// the org's rolling 24 hours, and its allocation), taken at APIReadAt;
	// zero before the first.
	APIUsed, APIMax int64
	APIReadAt       time.Time
	BrokenReason    string
	ConnectedAt     time.Time
	UpdatedAt       time.Time
}

const connCols = `tenant_id, status, login_url, instance_url, org_id, user_id, username, org_name, edition, identity_url,
	access_token_enc, refresh_token_enc, api_budget, broken_reason, connected_at, updated_at`

// SaveConnection creates or replaces a tenant's connection.
func (s *Store) SaveConnection(ctx context.Context, c SalesforceConnection) error {
	_, err := s.db().ExecContext(ctx, `INSERT INTO salesforce_connections (`+connCols+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
		ON CONFLICT (tenant_id) DO UPDATE SET status = excluded.status, login_url = excluded.login_url,
			instance_url = excluded.instance_url, org_id = excluded.org_id, user_id = excluded.user_id,
			username = excluded.username, org_name = excluded.org_name, edition = excluded.edition,
			identity_url = excluded.identity_url, access_token_enc = excluded.access_token_enc,
			refresh_token_enc = excluded.refresh_token_enc, api_budget = excluded.api_budget,
			broken_reason = excluded.broken_reason, connected_at = excluded.connected_at, updated_at = excluded.updated_at,
			api_read_at = CASE WHEN salesforce_connections.org_id = excluded.org_id THEN salesforce_connections.api_read_at ELSE 0 END`,
		c.TenantID, c.Status, c.LoginURL, c.InstanceURL, c.OrgID, c.UserID, c.Username, c.OrgName, c.Edition, c.IdentityURL,
		c.AccessTokenEnc, c.RefreshTokenEnc, c.APIBudget, c.BrokenReason, micros(c.ConnectedAt), micros(c.UpdatedAt))
	return mapErr(err)
}

// GetConnection returns a tenant's connection, or ErrNotFound.
func (s *Store) GetConnection(ctx context.Context, tenantID string) (SalesforceConnection, error) {
	return scanConnection(s.db().QueryRowContext(ctx, `SELECT `+connSelectCols+` FROM salesforce_connections WHERE tenant_id = $1`, tenantID))
}

// connSelectCols are connCols and the usage reading, which only
// SaveAPIUsage writes.
const connSelectCols = connCols + `, api_used, api_max, api_read_at`

func scanConnection(row interface{ Scan(...any) error }) (SalesforceConnection, error) {
	var c SalesforceConnection
	var connected, updated, readAt int64
	err := row.Scan(
		&c.TenantID, &c.Status, &c.LoginURL, &c.InstanceURL, &c.OrgID, &c.UserID, &c.Username, &c.OrgName, &c.Edition, &c.IdentityURL,
		&c.AccessTokenEnc, &c.RefreshTokenEnc, &c.APIBudget, &c.BrokenReason, &connected, &updated, &c.APIUsed, &c.APIMax, &readAt)
	c.ConnectedAt, c.UpdatedAt = fromMicros(connected), fromMicros(updated)
	if readAt != 0 {
		c.APIReadAt = fromMicros(readAt)
	}
	return c, mapErr(err)
}

// SaveAPIUsage stores a connection's API usage reading, unless a newer
// one is stored already.
func (s *Store) SaveAPIUsage(ctx context.Context, tenantID string, used, max int64, at time.Time) error {
	_, err := s.db().ExecContext(ctx, `UPDATE salesforce_connections SET api_used = $2, api_max = $3, api_read_at = $4
		WHERE tenant_id = $1 AND api_read_at < $4`, tenantID, used, max, micros(at))
	if err != nil {
		return mapErr(err)
	}
	return s.saveAPIUsageHour(ctx, tenantID, used, max, at)
}

// ListConnections returns every tenant's connection (for key rotation and
// the scheduler).
func (s *Store) ListConnections(ctx context.Context) ([]SalesforceConnection, error) {
	rows, err := s.db().QueryContext(ctx, `SELECT `+connSelectCols+` FROM salesforce_connections ORDER BY tenant_id`)
	if err != nil {
		return nil, mapErr(err)
	}
	defer rows.Close()
	var out []SalesforceConnection
	for rows.Next() {
		c, err := scanConnection(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, mapErr(rows.Err())
}

// UpdateConnectionTokens stores refreshed (encrypted) tokens.
func (s *Store) UpdateConnectionTokens(ctx context.Context, tenantID, accessEnc, refreshEnc string) error {
	res, err := s.db().ExecContext(ctx, `UPDATE salesforce_connections SET access_token_enc = $2, refresh_token_enc = $3, updated_at = $4 WHERE tenant_id = $1`,
		tenantID, accessEnc, refreshEnc, micros(s.Now()))
	return affected(res, err)
}

// MarkConnectionBroken records that the connection needs re-authorising.
func (s *Store) MarkConnectionBroken(ctx context.Context, tenantID, reason string) error {
	res, err := s.db().ExecContext(ctx, `UPDATE salesforce_connections SET status = $2, broken_reason = $3, access_token_enc = '', updated_at = $4 WHERE tenant_id = $1`,
		tenantID, ConnBroken, reason, micros(s.Now()))
	return affected(res, err)
}

// SetConnectionBudget sets the share of the org's daily API allocation sfsync may use.
func (s *Store) SetConnectionBudget(ctx context.Context, tenantID string, budget float64) error {
	res, err := s.db().ExecContext(ctx, `UPDATE salesforce_connections SET api_budget = $2, updated_at = $3 WHERE tenant_id = $1`, tenantID, budget, micros(s.Now()))
	return affected(res, err)
}

// DeleteConnection forgets a tenant's connection and its tokens.
func (s *Store) DeleteConnection(ctx context.Context, tenantID string) error {
	res, err := s.db().ExecContext(ctx, `DELETE FROM salesforce_connections WHERE tenant_id = $1`, tenantID)
	return affected(res, err)
}

// OAuthState is a pending authorization: the state parameter's hash, who
// started it, and the PKCE verifier (encrypted).
type OAuthState struct {
	StateHash   string
	TenantID    string
	Binding     string
	VerifierEnc string
	LoginURL    string
	ExpiresAt   time.Time
}

// SaveOAuthState stores a pending authorization and drops expired ones.
func (s *Store) SaveOAuthState(ctx context.Context, st OAuthState) error {
	if _, err := s.db().ExecContext(ctx, `DELETE FROM oauth_states WHERE expires_at < $1`, micros(s.Now())); err != nil {
		return mapErr(err)
	}
	_, err := s.db().ExecContext(ctx, `INSERT INTO oauth_states (state_hash, tenant_id, binding, verifier_enc, login_url, expires_at) VALUES ($1, $2, $3, $4, $5, $6)`,
		st.StateHash, st.TenantID, st.Binding, st.VerifierEnc, st.LoginURL, micros(st.ExpiresAt))
	return mapErr(err)
}

// ConsumeOAuthState removes and returns a pending authorization, so each
// state can be used once. ErrNotFound when unknown or already used.
func (s *Store) ConsumeOAuthState(ctx context.Context, stateHash string) (OAuthState, error) {
	var st OAuthState
	var exp int64
	err := s.db().QueryRowContext(ctx, `DELETE FROM oauth_states WHERE state_hash = $1 RETURNING state_hash, tenant_id, binding, verifier_enc, login_url, expires_at`, stateHash).
		Scan(&st.StateHash, &st.TenantID, &st.Binding, &st.VerifierEnc, &st.LoginURL, &exp)
	st.ExpiresAt = fromMicros(exp)
	return st, mapErr(err)
}
