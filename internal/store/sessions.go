package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"time"
)

// AdminSession is a signed-in admin's session. The session ID itself is
// only in the admin's cookie; the store keeps its SHA-256.
type AdminSession struct {
	AdminID   string
	TenantID  string
	CSRFToken string
	Created   time.Time
	Expires   time.Time
}

func hashSessionID(id string) string {
	sum := sha256.Sum256([]byte(id))
	return hex.EncodeToString(sum[:])
}

func randomToken() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// CreateSession starts a session for an admin and returns the session ID
// for the cookie. Expired sessions are swept on the way.
func (s *Store) CreateSession(ctx context.Context, adminID, tenantID string, ttl time.Duration) (string, AdminSession, error) {
	now := s.Now().UTC().Truncate(time.Microsecond)
	if _, err := s.db().ExecContext(ctx, `DELETE FROM admin_sessions WHERE expires_at < $1`, micros(now)); err != nil {
		return "", AdminSession{}, mapErr(err)
	}
	id := randomToken()
	sess := AdminSession{AdminID: adminID, TenantID: tenantID, CSRFToken: randomToken(), Created: now, Expires: now.Add(ttl)}
	_, err := s.db().ExecContext(ctx, `INSERT INTO admin_sessions (id_hash, admin_id, tenant_id, csrf_token, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)`,
		hashSessionID(id), adminID, tenantID, sess.CSRFToken, micros(sess.Created), micros(sess.Expires))
	return id, sess, mapErr(err)
}

// GetSession returns a live session by its ID, or ErrNotFound.
func (s *Store) GetSession(ctx context.Context, id string) (AdminSession, error) {
	var sess AdminSession
	var created, expires int64
	err := s.db().QueryRowContext(ctx, `SELECT admin_id, tenant_id, csrf_token, created_at, expires_at FROM admin_sessions WHERE id_hash = $1 AND expires_at > $2`,
		hashSessionID(id), micros(s.Now())).Scan(&sess.AdminID, &sess.TenantID, &sess.CSRFToken, &created, &expires)
	sess.Created, sess.Expires = fromMicros(created), fromMicros(expires)
	return sess, mapErr(err)
}

// DeleteSession ends a session (logout).
func (s *Store) DeleteSession(ctx context.Context, id string) error {
	_, err := s.db().ExecContext(ctx, `DELETE FROM admin_sessions WHERE id_hash = $1`, hashSessionID(id))
	return mapErr(err)
}
