-- +goose Up
-- A Salesforce outage as sfsync sees it, per tenant: since when calls
-- have failed for want of an answer, and whether the one warning of
-- this outage has been logged (issue 13 item 6).
CREATE TABLE salesforce_outages (
    tenant_id TEXT PRIMARY KEY REFERENCES tenants(id) ON DELETE CASCADE,
    since     INTEGER NOT NULL,
    warned    INTEGER NOT NULL DEFAULT 0
);

-- +goose Down
DROP TABLE salesforce_outages;
