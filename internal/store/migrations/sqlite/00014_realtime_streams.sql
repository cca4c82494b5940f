-- +goose Up
-- Change Data Capture (issue 15): per tenant, the replay ID of the last
-- applied batch of change events, whether an incremental pull is owed
-- (a gap, an overflow, a replay ID past retention, a broken stream), how
-- changes arrive now ('realtime' or 'polling', why, since when), the open
-- real-time pull run, and the lease of the one process that holds the
-- subscription (renewed; another process takes it over once it expires).
CREATE TABLE realtime_streams (
    tenant_id    TEXT PRIMARY KEY REFERENCES tenants(id) ON DELETE CASCADE,
    replay_id    TEXT NOT NULL DEFAULT '',
    catch_up     BOOLEAN NOT NULL DEFAULT FALSE,
    mode         TEXT NOT NULL DEFAULT '',
    mode_reason  TEXT NOT NULL DEFAULT '',
    mode_since   BIGINT NOT NULL DEFAULT 0,
    run_id       BIGINT NOT NULL DEFAULT 0,
    lease_owner  TEXT NOT NULL DEFAULT '',
    lease_until  BIGINT NOT NULL DEFAULT 0,
    updated_at   BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX realtime_streams_owner ON realtime_streams (lease_owner);

-- +goose Down
DROP TABLE realtime_streams;
