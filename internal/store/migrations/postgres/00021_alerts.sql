-- +goose Up
-- Alerts (issue 17): where a tenant's notices go and when they fire.
-- webhook_secret is sealed with the service's keyring, bound to the
-- tenant (as tokens are).
CREATE TABLE alert_settings (
    tenant_id      TEXT PRIMARY KEY REFERENCES tenants(id) ON DELETE CASCADE,
    emails         TEXT NOT NULL DEFAULT '',
    webhook_url    TEXT NOT NULL DEFAULT '',
    webhook_secret TEXT NOT NULL DEFAULT '',
    failure_rate   DOUBLE PRECISION NOT NULL DEFAULT 0.1,
    review_days    BIGINT NOT NULL DEFAULT 3,
    updated_at     BIGINT NOT NULL
);

-- The last state told per tenant and kind: a notice goes out only when
-- it changes (one per change, never one per run).
CREATE TABLE alert_state (
    tenant_id  TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    kind       TEXT NOT NULL,
    firing     BOOLEAN NOT NULL DEFAULT FALSE,
    detail     TEXT NOT NULL DEFAULT '',
    last_error TEXT NOT NULL DEFAULT '',
    changed_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, kind)
);

-- +goose Down
DROP TABLE alert_state;
DROP TABLE alert_settings;
