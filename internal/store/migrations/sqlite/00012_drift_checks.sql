-- +goose Up
-- The drift check (Y2): when each tenant's next daily check is due, and
-- each check's report (ranges of Salesforce Ids compared, found drifted,
-- repaired), kept with its run.
CREATE TABLE drift_schedule (
    tenant_id     TEXT PRIMARY KEY REFERENCES tenants(id) ON DELETE CASCADE,
    next_check_at INTEGER NOT NULL
);

CREATE TABLE drift_reports (
    run_id           INTEGER PRIMARY KEY REFERENCES sync_runs(id) ON DELETE CASCADE,
    tenant_id        TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    method           TEXT NOT NULL DEFAULT '',
    ranges_checked   INTEGER NOT NULL DEFAULT 0,
    ranges_drifted   INTEGER NOT NULL DEFAULT 0,
    ranges_repaired  INTEGER NOT NULL DEFAULT 0,
    records_checked  INTEGER NOT NULL DEFAULT 0,
    records_drifted  INTEGER NOT NULL DEFAULT 0,
    records_repaired INTEGER NOT NULL DEFAULT 0
);

-- Records a check found differing but left waiting (failed and due for a
-- retry, held for review, unlinked under the skip policy), with both
-- sides as it saw them: the next check counts them into the links' side,
-- so their ranges are not read again while nothing about them changes.
CREATE TABLE drift_waiting (
    tenant_id     TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    salesforce_id TEXT NOT NULL,
    in_sf         INTEGER NOT NULL DEFAULT 0,
    sf_modstamp   INTEGER NOT NULL DEFAULT 0,
    counted       INTEGER NOT NULL DEFAULT 0,
    link_modstamp INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id, salesforce_id)
);

-- +goose Down
DROP TABLE drift_waiting;
DROP TABLE drift_reports;
DROP TABLE drift_schedule;
