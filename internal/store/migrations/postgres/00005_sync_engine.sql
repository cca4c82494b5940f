-- +goose Up
-- Per-tenant sync state: the durable schedule (next_pull_at), the
-- incremental cursor and budget pauses.
CREATE TABLE sync_state (
    tenant_id        TEXT PRIMARY KEY REFERENCES tenants(id) ON DELETE CASCADE,
    config_version   BIGINT NOT NULL DEFAULT 0,
    pull_enabled     BOOLEAN NOT NULL DEFAULT FALSE,
    push_enabled     BOOLEAN NOT NULL DEFAULT FALSE,
    initial_run_id   BIGINT NOT NULL DEFAULT 0,
    pull_cursor      BIGINT NOT NULL DEFAULT 0,
    next_pull_at     BIGINT NOT NULL DEFAULT 0,
    paused_until     BIGINT NOT NULL DEFAULT 0,
    push_run_id      BIGINT NOT NULL DEFAULT 0,
    updated_at       BIGINT NOT NULL
);
CREATE INDEX sync_state_due ON sync_state (next_pull_at);

-- A link pairs one Salesforce contact with one platform contact (X3),
-- unique both ways, and remembers the values last synced on each side
-- (platform form, JSON by mapping key) for the echo guard and conflicts.
CREATE TABLE links (
    tenant_id     TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    salesforce_id TEXT NOT NULL,
    contact_id    TEXT NOT NULL,
    sf_values     TEXT NOT NULL DEFAULT '{}',
    pf_values     TEXT NOT NULL DEFAULT '{}',
    out_of_scope  BOOLEAN NOT NULL DEFAULT FALSE,
    sf_modstamp   BIGINT NOT NULL DEFAULT 0,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, salesforce_id)
);
CREATE UNIQUE INDEX links_contact ON links (tenant_id, contact_id);

CREATE TABLE sync_runs (
    id             BIGSERIAL PRIMARY KEY,
    tenant_id      TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    direction      TEXT NOT NULL,
    trigger        TEXT NOT NULL,
    status         TEXT NOT NULL,
    config_version BIGINT NOT NULL,
    started_at     BIGINT NOT NULL,
    finished_at    BIGINT,
    scanned        BIGINT NOT NULL DEFAULT 0,
    created        BIGINT NOT NULL DEFAULT 0,
    updated        BIGINT NOT NULL DEFAULT 0,
    unchanged      BIGINT NOT NULL DEFAULT 0,
    skipped        BIGINT NOT NULL DEFAULT 0,
    out_of_scope   BIGINT NOT NULL DEFAULT 0,
    ambiguous      BIGINT NOT NULL DEFAULT 0,
    failed         BIGINT NOT NULL DEFAULT 0,
    conflicts      BIGINT NOT NULL DEFAULT 0,
    unlinked       BIGINT NOT NULL DEFAULT 0,
    total          BIGINT NOT NULL DEFAULT 0,
    processed      BIGINT NOT NULL DEFAULT 0,
    api_calls      BIGINT NOT NULL DEFAULT 0,
    checkpoint     TEXT NOT NULL DEFAULT '',
    message        TEXT NOT NULL DEFAULT ''
);
CREATE INDEX sync_runs_tenant ON sync_runs (tenant_id, id);

CREATE TABLE sync_run_records (
    id            BIGSERIAL PRIMARY KEY,
    run_id        BIGINT NOT NULL REFERENCES sync_runs(id) ON DELETE CASCADE,
    tenant_id     TEXT NOT NULL,
    kind          TEXT NOT NULL,
    salesforce_id TEXT NOT NULL DEFAULT '',
    contact_id    TEXT NOT NULL DEFAULT '',
    field         TEXT NOT NULL DEFAULT '',
    reason_code   TEXT NOT NULL,
    reason        TEXT NOT NULL,
    detail        TEXT NOT NULL DEFAULT '',
    created_at    BIGINT NOT NULL
);
CREATE INDEX sync_run_records_run ON sync_run_records (run_id, kind, reason_code);
CREATE INDEX sync_run_records_created ON sync_run_records (created_at);

-- Records of the Salesforce → platform direction that failed, retried on
-- later runs with backoff until they succeed or are fixed (X7).
CREATE TABLE pull_retries (
    tenant_id     TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    salesforce_id TEXT NOT NULL,
    attempts      BIGINT NOT NULL,
    next_at       BIGINT NOT NULL,
    last_error    TEXT NOT NULL,
    PRIMARY KEY (tenant_id, salesforce_id)
);

-- Outbox rows that Salesforce refused stay until they succeed (X7).
ALTER TABLE outbox ADD COLUMN attempts BIGINT NOT NULL DEFAULT 0;
ALTER TABLE outbox ADD COLUMN next_attempt_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE outbox ADD COLUMN last_error TEXT NOT NULL DEFAULT '';
CREATE INDEX outbox_due ON outbox (next_attempt_at, tenant_id);

-- +goose Down
DROP INDEX outbox_due;
ALTER TABLE outbox DROP COLUMN last_error;
ALTER TABLE outbox DROP COLUMN next_attempt_at;
ALTER TABLE outbox DROP COLUMN attempts;
DROP TABLE pull_retries;
DROP TABLE sync_run_records;
DROP TABLE sync_runs;
DROP TABLE links;
DROP TABLE sync_state;
