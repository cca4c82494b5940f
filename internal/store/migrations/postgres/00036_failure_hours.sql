-- +goose Up
-- A tenant's failed records counted by hour and reason, kept as the run
-- log's entries are written (issue 14): the health card reads it on every
-- request of the sync pages. Grouping the log's failed rows instead
-- (00027's index) sorted every one of them per request: 33% of serve's
-- CPU during a 1M first sync whose admin page was open, with 300,000
-- records failing on invalid phone numbers.
CREATE TABLE sync_failure_hours (
    tenant_id   TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    hour        BIGINT NOT NULL, -- created_at / 3,600,000,000 (hours since 1970)
    reason_code TEXT NOT NULL,
    n           BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, hour, reason_code)
);
INSERT INTO sync_failure_hours (tenant_id, hour, reason_code, n)
    SELECT tenant_id, created_at / 3600000000, reason_code, COUNT(*) FROM sync_run_records WHERE kind = 'failed'
    GROUP BY tenant_id, created_at / 3600000000, reason_code;
DROP INDEX sync_run_records_failed;

-- +goose Down
CREATE INDEX sync_run_records_failed ON sync_run_records (tenant_id, created_at, reason_code) WHERE kind = 'failed';
DROP TABLE sync_failure_hours;
