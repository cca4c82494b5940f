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

-- Records a check found differing but left waiting (failed and due for a
-- retry, held for review, unlinked under the skip policy), with both
-- sides as it saw them: the next check counts them into the links' side,
-- so their ranges are not read again while nothing about them changes.
CREATE TABLE drift_waiting (
    tenant_id     TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    salesforce_id TEXT NOT NULL,
    in_sf         BOOLEAN NOT NULL DEFAULT FALSE,
    sf_modstamp   BIGINT NOT NULL DEFAULT 0,
    counted       BOOLEAN NOT NULL DEFAULT FALSE,
    link_modstamp BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id, salesforce_id)
);

-- +goose Down
DROP TABLE drift_waiting;
DROP TABLE drift_reports;
DROP TABLE drift_schedule;
