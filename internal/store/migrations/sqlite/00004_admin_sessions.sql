-- +goose Up
CREATE TABLE admin_sessions (
    id_hash    TEXT PRIMARY KEY,
    admin_id   TEXT NOT NULL REFERENCES admin_users(id) ON DELETE CASCADE,
    tenant_id  TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    csrf_token TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX admin_sessions_expiry ON admin_sessions (expires_at);

-- +goose Down
DROP TABLE admin_sessions;
