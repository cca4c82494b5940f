-- +goose Up
-- Bulk API 2.0 ingest jobs a push created and has not yet seen to their
-- end (issue 14): the job's ID is written before any record is uploaded,
-- so after a crash the next push waits for the job (or aborts it if its
-- upload never closed) instead of writing its records a second time.
CREATE TABLE push_ingest_jobs (
    tenant_id  TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    job_id     TEXT NOT NULL,
    operation  TEXT NOT NULL,
    records    INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, job_id)
);

-- +goose Down
DROP TABLE push_ingest_jobs;
