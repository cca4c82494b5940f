package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/sfsync/sfsync/internal/tenant"
)

// CreateTenant stores a new tenant and returns it with its ID.
func (s *Store) CreateTenant(ctx context.Context, t tenant.Tenant) (tenant.Tenant, error) {
	if t.Language == "" {
		t.Language = "zh-TW"
	}
	if err := t.Validate(); err != nil {
		return tenant.Tenant{}, err
	}
	t.ID = NewID("t_")
	t.Created = s.Now().UTC().Truncate(time.Microsecond)
	_, err := s.db().ExecContext(ctx, `INSERT INTO tenants (id, name, salesforce_addon, social_cdp, language, phone_region, time_zone, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		t.ID, t.Name, t.Plan.SalesforceAddon, t.Plan.SocialCDP, t.Language, t.PhoneRegion, t.TimeZone, micros(t.Created))
	return t, mapErr(err)
}

const tenantCols = `id, name, salesforce_addon, social_cdp, language, phone_region, time_zone, created_at`

func scanTenant(row interface{ Scan(...any) error }) (tenant.Tenant, error) {
	var t tenant.Tenant
	var created int64
	err := row.Scan(&t.ID, &t.Name, &t.Plan.SalesforceAddon, &t.Plan.SocialCDP, &t.Language, &t.PhoneRegion, &t.TimeZone, &created)
	t.Created = fromMicros(created)
	return t, mapErr(err)
}

// GetTenant returns one tenant, or ErrNotFound.
func (s *Store) GetTenant(ctx context.Context, id string) (tenant.Tenant, error) {
	return scanTenant(s.db().QueryRowContext(ctx, `SELECT `+tenantCols+` FROM tenants WHERE id = $1`, id))
}

// ListTenants returns every tenant, oldest first.
func (s *Store) ListTenants(ctx context.Context) ([]tenant.Tenant, error) {
	rows, err := s.db().QueryContext(ctx, `SELECT `+tenantCols+` FROM tenants ORDER BY id`)
	if err != nil {
		return nil, mapErr(err)
	}
	defer rows.Close()
	var out []tenant.Tenant
	for rows.Next() {
		t, err := scanTenant(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, mapErr(rows.Err())
}

// UpdateTenant saves a tenant's name, plan, language, phone region and time zone.
func (s *Store) UpdateTenant(ctx context.Context, t tenant.Tenant) error {
	if err := t.Validate(); err != nil {
		return err
	}
	res, err := s.db().ExecContext(ctx, `UPDATE tenants SET name = $2, salesforce_addon = $3, social_cdp = $4, language = $5, phone_region = $6, time_zone = $7 WHERE id = $1`,
		t.ID, t.Name, t.Plan.SalesforceAddon, t.Plan.SocialCDP, t.Language, t.PhoneRegion, t.TimeZone)
	return affected(res, err)
}

func affected(res sql.Result, err error) error {
	if err != nil {
		return mapErr(err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return ErrNotFound
	}
	return nil
}

// CreateAdmin adds an admin user with a password to a tenant. E-mail
// addresses are unique across tenants, since they are the login name.
func (s *Store) CreateAdmin(ctx context.Context, tenantID, email, password string) (tenant.Admin, error) {
	email = strings.ToLower(strings.TrimSpace(email))
	if !strings.Contains(email, "@") {
		return tenant.Admin{}, fmt.Errorf("admin e-mail %q is not an e-mail address", email)
	}
	hash, err := tenant.HashPassword(password)
	if err != nil {
		return tenant.Admin{}, err
	}
	a := tenant.Admin{ID: NewID("u_"), TenantID: tenantID, Email: email, Created: s.Now().UTC().Truncate(time.Microsecond)}
	_, err = s.db().ExecContext(ctx, `INSERT INTO admin_users (id, tenant_id, email, password_hash, created_at) VALUES ($1, $2, $3, $4, $5)`,
		a.ID, a.TenantID, a.Email, hash, micros(a.Created))
	if err := mapErr(err); err != nil {
		var uv *UniqueViolation
		if errors.As(err, &uv) {
			return tenant.Admin{}, fmt.Errorf("an admin with e-mail %s already exists: %w", email, ErrConflict)
		}
		return tenant.Admin{}, err
	}
	return a, nil
}

// Authenticate returns the admin with this e-mail and password. A wrong
// e-mail and a wrong password give the same ErrNotFound.
func (s *Store) Authenticate(ctx context.Context, email, password string) (tenant.Admin, error) {
	var a tenant.Admin
	var hash string
	var created int64
	err := s.db().QueryRowContext(ctx, `SELECT id, tenant_id, email, password_hash, language, created_at FROM admin_users WHERE email = $1`,
		strings.ToLower(strings.TrimSpace(email))).Scan(&a.ID, &a.TenantID, &a.Email, &hash, &a.Language, &created)
	if err != nil {
		// Spend the same time as a real check, so timing does not reveal
		// which e-mail addresses exist.
		tenant.CheckPassword(dummyHash, password)
		return tenant.Admin{}, mapErr(err)
	}
	if !tenant.CheckPassword(hash, password) {
		return tenant.Admin{}, ErrNotFound
	}
	a.Created = fromMicros(created)
	return a, nil
}

var dummyHash, _ = tenant.HashPassword("timing-equaliser")

// GetAdmin returns one admin user.
func (s *Store) GetAdmin(ctx context.Context, id string) (tenant.Admin, error) {
	var a tenant.Admin
	var created int64
	err := s.db().QueryRowContext(ctx, `SELECT id, tenant_id, email, language, created_at FROM admin_users WHERE id = $1`, id).
		Scan(&a.ID, &a.TenantID, &a.Email, &a.Language, &created)
	a.Created = fromMicros(created)
	return a, mapErr(err)
}

// SetAdminLanguage stores an admin's own UI language ("" = tenant default).
func (s *Store) SetAdminLanguage(ctx context.Context, id, lang string) error {
	res, err := s.db().ExecContext(ctx, `UPDATE admin_users SET language = $2 WHERE id = $1`, id, lang)
	return affected(res, err)
}

// CreateAPIKey makes a new API key for a tenant. The secret is returned
// once and never stored.
func (s *Store) CreateAPIKey(ctx context.Context, tenantID, name string) (tenant.APIKey, string, error) {
	secret, hash, err := tenant.NewAPIKey()
	if err != nil {
		return tenant.APIKey{}, "", err
	}
	k := tenant.APIKey{ID: NewID("k_"), TenantID: tenantID, Name: name, Created: s.Now().UTC().Truncate(time.Microsecond)}
	_, err = s.db().ExecContext(ctx, `INSERT INTO api_keys (id, tenant_id, name, hash, created_at) VALUES ($1, $2, $3, $4, $5)`,
		k.ID, k.TenantID, k.Name, hash, micros(k.Created))
	if err != nil {
		return tenant.APIKey{}, "", mapErr(err)
	}
	return k, secret, nil
}

// TenantForAPIKey returns the tenant ID of a live API key, or ErrNotFound.
func (s *Store) TenantForAPIKey(ctx context.Context, secret string) (string, error) {
	var tid string
	err := s.db().QueryRowContext(ctx, `SELECT tenant_id FROM api_keys WHERE hash = $1 AND revoked_at IS NULL`, tenant.HashAPIKey(secret)).Scan(&tid)
	return tid, mapErr(err)
}

// RevokeAPIKey revokes a key by ID.
func (s *Store) RevokeAPIKey(ctx context.Context, id string) error {
	res, err := s.db().ExecContext(ctx, `UPDATE api_keys SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL`, id, micros(s.Now()))
	return affected(res, err)
}
