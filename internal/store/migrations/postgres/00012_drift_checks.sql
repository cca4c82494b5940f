-- +goose Up
-- The drift check (Y2): when each tenant's next daily check is due, and
-- each check's report (ranges of Salesforce Ids compared, found drifted,
-- repaired), kept with its run.
CREATE TABLE drift_schedule (
    tenant_id     TEXT PRIMARY KEY REFERENCES tenants(id) ON DELETE CASCADE,
    next_check_at BIGINT NOT NULL
);

CREATE TABLE drift_reports (
    run_id           BIGINT PRIMARY KEY REFERENCES sync_runs(id) ON DELETE CASCADE,
    tenant_id        TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    method           TEXT NOT NULL DEFAULT '',
    ranges_checked   BIGINT NOT NULL DEFAULT 0,
    ranges_drifted   BIGINT NOT NULL DEFAULT 0,
    ranges_repaired  BIGINT NOT NULL DEFAULT 0,
    records_checked  BIGINT NOT NULL DEFAULT 0,
    records_drifted  BIGINT NOT NULL DEFAULT 0,
    records_repaired BIGINT NOT NULL DEFAULT 0
);

-- +goose Down
DROP TABLE drift_reports;
DROP TABLE drift_schedule;
