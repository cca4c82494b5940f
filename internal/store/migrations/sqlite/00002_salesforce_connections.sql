-- +goose Up
CREATE TABLE salesforce_connections (
    tenant_id         TEXT PRIMARY KEY REFERENCES tenants(id) ON DELETE CASCADE,
    status            TEXT NOT NULL,
    login_url         TEXT NOT NULL,
    instance_url      TEXT NOT NULL,
    org_id            TEXT NOT NULL,
    user_id           TEXT NOT NULL,
    username          TEXT NOT NULL,
    org_name          TEXT NOT NULL DEFAULT '',
    edition           TEXT NOT NULL DEFAULT '',
    identity_url      TEXT NOT NULL,
    access_token_enc  TEXT NOT NULL,
    refresh_token_enc TEXT NOT NULL,
    api_budget        REAL NOT NULL DEFAULT 0.5,
    broken_reason     TEXT NOT NULL DEFAULT '',
    connected_at      INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL
);

CREATE TABLE oauth_states (
    state_hash   TEXT PRIMARY KEY,
    tenant_id    TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    binding      TEXT NOT NULL,
    verifier_enc TEXT NOT NULL,
    login_url    TEXT NOT NULL,
    expires_at   INTEGER NOT NULL
);

-- +goose Down
DROP TABLE oauth_states;
DROP TABLE salesforce_connections;
