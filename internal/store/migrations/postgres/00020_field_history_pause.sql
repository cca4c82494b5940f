-- +goose Up
-- Field provenance (SPEC Y3): one row per contact and applied write of a
-- run, the changed fields of that write as a compact JSON array
-- ([{"k":mapping key,"f":Salesforce field,"s":side that changed,
-- "v":value,"o":value it replaced,"r":rule code}]). Pruned after
-- --field-history-days (90).
CREATE TABLE field_history (
    id            BIGSERIAL PRIMARY KEY,
    tenant_id     TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    contact_id    TEXT NOT NULL,
    salesforce_id TEXT NOT NULL DEFAULT '',
    run_id        BIGINT NOT NULL DEFAULT 0,
    direction     TEXT NOT NULL,
    at            BIGINT NOT NULL,
    changes       TEXT NOT NULL
);
CREATE INDEX field_history_contact ON field_history (tenant_id, contact_id, id);
CREATE INDEX field_history_at ON field_history (at);

-- An admin's pause of one direction (issue 17): scheduled polls and
-- real-time pushes skip while it is set. Separate from paused_until,
-- which is the engine's budget pause.
ALTER TABLE sync_state ADD COLUMN pull_paused BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE sync_state ADD COLUMN push_paused BOOLEAN NOT NULL DEFAULT FALSE;

-- +goose Down
ALTER TABLE sync_state DROP COLUMN push_paused;
ALTER TABLE sync_state DROP COLUMN pull_paused;
DROP INDEX field_history_at;
DROP INDEX field_history_contact;
DROP TABLE field_history;
