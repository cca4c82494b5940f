-- +goose Up
-- The metrics collector reads recent runs and runs in progress at every
-- scrape (store.OpsStats); without these it would scan every run ever
-- kept, millions at 10,000 tenants.
CREATE INDEX sync_runs_started ON sync_runs (started_at);
CREATE INDEX sync_runs_unfinished ON sync_runs (direction) WHERE finished_at IS NULL;

-- +goose Down
DROP INDEX sync_runs_unfinished;
DROP INDEX sync_runs_started;
