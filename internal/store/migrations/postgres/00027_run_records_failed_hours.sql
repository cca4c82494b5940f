-- +goose Up
-- The health card counts a tenant's failed records by hour and reason
-- (store.FailuresByHour) on every request of the sync pages. Through the
-- created_at index it looked up every log row of the window in the table
-- (about 300,000 after a 1M first sync with bad phones: the admin page's
-- p99 passed 250 ms). Only failed rows are indexed, with what the count
-- reads, so it is an index range scan.
CREATE INDEX sync_run_records_failed ON sync_run_records (tenant_id, created_at, reason_code) WHERE kind = 'failed';

-- +goose Down
DROP INDEX sync_run_records_failed;
