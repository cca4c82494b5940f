-- +goose Up
CREATE TABLE sync_configs (
    tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    version   INTEGER NOT NULL,
    config    TEXT NOT NULL,
    saved_by  TEXT NOT NULL,
    saved_at  INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, version)
);

-- +goose Down
DROP TABLE sync_configs;
