-- +goose Up
-- The last Sforce-Limit-Info reading per connection, so that a new
-- client respects a spent budget from its first call (X4).
ALTER TABLE salesforce_connections ADD COLUMN api_used BIGINT NOT NULL DEFAULT 0;
ALTER TABLE salesforce_connections ADD COLUMN api_max BIGINT NOT NULL DEFAULT 0;
ALTER TABLE salesforce_connections ADD COLUMN api_read_at BIGINT NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE salesforce_connections DROP COLUMN api_read_at;
ALTER TABLE salesforce_connections DROP COLUMN api_max;
ALTER TABLE salesforce_connections DROP COLUMN api_used;
