package store

import (
	"context"
	"fmt"
)

// SetupState counts tenants and admin users, so that a fresh installation
// can tell its operator what to create first.
func (s *Store) SetupState(ctx context.Context) (tenants, admins int64, err error) {
	err = s.DB.QueryRowContext(ctx, `SELECT (SELECT COUNT(*) FROM tenants), (SELECT COUNT(*) FROM admin_users)`).Scan(&tenants, &admins)
	if err != nil {
		return 0, 0, fmt.Errorf("setup state: %w", mapErr(err))
	}
	return tenants, admins, nil
}
