-- +goose Up
-- Per-tenant sync state: the durable schedule (next_pull_at), the
-- incremental cursor and budget pauses.
CREATE TABLE sync_state (
    tenant_id        TEXT PRIMARY KEY REFERENCES tenants(id) ON DELETE CASCADE,
    config_version   INTEGER NOT NULL DEFAULT 0,
    pull_enabled     INTEGER NOT NULL DEFAULT 0,
    push_enabled     INTEGER NOT NULL DEFAULT 0,
    initial_run_id   INTEGER NOT NULL DEFAULT 0,
    pull_cursor      INTEGER NOT NULL DEFAULT 0,
    next_pull_at     INTEGER NOT NULL DEFAULT 0,
    paused_until     INTEGER NOT NULL DEFAULT 0,
    push_run_id      INTEGER NOT NULL DEFAULT 0,
    updated_at       INTEGER NOT NULL
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
    out_of_scope  INTEGER NOT NULL DEFAULT 0,
    sf_modstamp   INTEGER NOT NULL DEFAULT 0,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, salesforce_id)
);
CREATE UNIQUE INDEX links_contact ON links (tenant_id, contact_id);

CREATE TABLE sync_runs (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id      TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    direction      TEXT NOT NULL,
    trigger        TEXT NOT NULL,
    status         TEXT NOT NULL,
    config_version INTEGER NOT NULL,
    started_at     INTEGER NOT NULL,
    finished_at    INTEGER,
    scanned        INTEGER NOT NULL DEFAULT 0,
    created        INTEGER NOT NULL DEFAULT 0,
    updated        INTEGER NOT NULL DEFAULT 0,
    unchanged      INTEGER NOT NULL DEFAULT 0,
    skipped        INTEGER NOT NULL DEFAULT 0,
    out_of_scope   INTEGER NOT NULL DEFAULT 0,
    ambiguous      INTEGER NOT NULL DEFAULT 0,
    failed         INTEGER NOT NULL DEFAULT 0,
    conflicts      INTEGER NOT NULL DEFAULT 0,
    unlinked       INTEGER NOT NULL DEFAULT 0,
    total          INTEGER NOT NULL DEFAULT 0,
    processed      INTEGER NOT NULL DEFAULT 0,
    api_calls      INTEGER NOT NULL DEFAULT 0,
    checkpoint     TEXT NOT NULL DEFAULT '',
    message        TEXT NOT NULL DEFAULT ''
);
CREATE INDEX sync_runs_tenant ON sync_runs (tenant_id, id);

CREATE TABLE sync_run_records (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id        INTEGER NOT NULL REFERENCES sync_runs(id) ON DELETE CASCADE,
    tenant_id     TEXT NOT NULL,
    kind          TEXT NOT NULL,
    salesforce_id TEXT NOT NULL DEFAULT '',
    contact_id    TEXT NOT NULL DEFAULT '',
    field         TEXT NOT NULL DEFAULT '',
    reason_code   TEXT NOT NULL,
    reason        TEXT NOT NULL,
    detail        TEXT NOT NULL DEFAULT '',
    created_at    INTEGER NOT NULL
);
CREATE INDEX sync_run_records_run ON sync_run_records (run_id, kind, reason_code);
CREATE INDEX sync_run_records_created ON sync_run_records (created_at);

-- Records of the Salesforce → platform direction that failed, retried on
-- later runs with backoff until they succeed or are fixed (X7).
CREATE TABLE pull_retries (
    tenant_id     TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    salesforce_id TEXT NOT NULL,
    attempts      INTEGER NOT NULL,
    next_at       INTEGER NOT NULL,
    last_error    TEXT NOT NULL,
    PRIMARY KEY (tenant_id, salesforce_id)
);

-- Outbox rows that Salesforce refused stay until they succeed (X7).
ALTER TABLE outbox ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE outbox ADD COLUMN next_attempt_at INTEGER NOT NULL DEFAULT 0;
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
