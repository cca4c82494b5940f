-- +goose Up
-- The review queue (Y5): Salesforce records the engine holds instead of
-- guessing (several share an identity value, or a merge's survivor is
-- linked to another platform contact). An item is stored once and stays
-- open until the duplicate goes away by itself or an admin resolves it;
-- at most one open item per (tenant, kind, identity field, key).
CREATE TABLE review_items (
    id                   BIGSERIAL PRIMARY KEY,
    tenant_id            TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    kind                 TEXT NOT NULL,
    identity_field       TEXT NOT NULL DEFAULT '',
    identity_key         TEXT NOT NULL DEFAULT '',
    contact_id           TEXT NOT NULL DEFAULT '',
    contact_values       TEXT NOT NULL DEFAULT '{}',
    status               TEXT NOT NULL,
    resolution           TEXT NOT NULL DEFAULT '',
    linked_salesforce_id TEXT NOT NULL DEFAULT '',
    resolved_by          TEXT NOT NULL DEFAULT '',
    run_id               BIGINT NOT NULL DEFAULT 0,
    created_at           BIGINT NOT NULL,
    updated_at           BIGINT NOT NULL,
    resolved_at          BIGINT
);
CREATE UNIQUE INDEX review_items_open_key ON review_items (tenant_id, kind, identity_field, identity_key) WHERE status = 'open';
CREATE INDEX review_items_tenant ON review_items (tenant_id, status, id);

-- The Salesforce records an item holds, with a snapshot of their mapped
-- values for the side-by-side view.
CREATE TABLE review_candidates (
    item_id       BIGINT NOT NULL REFERENCES review_items(id) ON DELETE CASCADE,
    tenant_id     TEXT NOT NULL,
    salesforce_id TEXT NOT NULL,
    contact_id    TEXT NOT NULL DEFAULT '',
    sf_values     TEXT NOT NULL DEFAULT '{}',
    PRIMARY KEY (item_id, salesforce_id)
);
CREATE INDEX review_candidates_sf ON review_candidates (tenant_id, salesforce_id);

-- An admin's decision per Salesforce record (linked, apart, ignored),
-- remembered so the engine does not hold the record again.
CREATE TABLE review_decisions (
    tenant_id     TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    salesforce_id TEXT NOT NULL,
    decision      TEXT NOT NULL,
    item_id       BIGINT NOT NULL,
    decided_at    BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, salesforce_id)
);

-- +goose Down
DROP TABLE review_decisions;
DROP TABLE review_candidates;
DROP TABLE review_items;
