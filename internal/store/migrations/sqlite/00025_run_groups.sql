-- +goose Up
-- A run's log entries counted by kind and reason (issue 14): kept as the
-- entries are written, so that the run's page and
-- GET /api/v1/salesforce/runs/{id}, which a client polls while a first
-- sync runs, read a handful of rows instead of counting every entry the
-- run has logged so far (which made a polled 1M first sync quadratic).
CREATE TABLE sync_run_groups (
    run_id      INTEGER NOT NULL REFERENCES sync_runs(id) ON DELETE CASCADE,
    tenant_id   TEXT NOT NULL,
    kind        TEXT NOT NULL,
    reason_code TEXT NOT NULL,
    example     TEXT NOT NULL,
    count       INTEGER NOT NULL,
    PRIMARY KEY (run_id, kind, reason_code)
);
INSERT INTO sync_run_groups (run_id, tenant_id, kind, reason_code, example, count)
    SELECT run_id, MIN(tenant_id), kind, reason_code, MIN(reason), COUNT(*) FROM sync_run_records GROUP BY run_id, kind, reason_code;

-- How many records of a tenant wait for a pull retry, kept as
-- pull_retries changes: the sync page (polled during a first sync) showed
-- it by counting the rows, hundreds of thousands of them at the end of a
-- 1M first sync with invalid phone numbers.
CREATE TABLE pull_retry_counts (
    tenant_id TEXT PRIMARY KEY REFERENCES tenants(id) ON DELETE CASCADE,
    n         INTEGER NOT NULL
);
INSERT INTO pull_retry_counts (tenant_id, n) SELECT tenant_id, COUNT(*) FROM pull_retries GROUP BY tenant_id;

-- +goose Down
DROP TABLE pull_retry_counts;
DROP TABLE sync_run_groups;
