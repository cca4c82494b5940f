-- +goose Up
-- Per-hour API usage of each tenant, for the sync health charts (issue 17,
-- Y4): the calls sfsync's runs made in the hour (added as runs record
-- them), and the org's last Sforce-Limit-Info reading in that hour (its
-- rolling 24-hour count and its allocation). Pruned after 30 days.
CREATE TABLE api_usage_hours (
    tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    hour      BIGINT NOT NULL,
    calls     BIGINT NOT NULL DEFAULT 0,
    org_used  BIGINT NOT NULL DEFAULT 0,
    org_max   BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id, hour)
);
CREATE INDEX api_usage_hours_hour ON api_usage_hours (hour);

-- +goose Down
DROP TABLE api_usage_hours;
