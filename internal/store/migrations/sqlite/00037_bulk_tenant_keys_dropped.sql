-- +goose Up
-- Nothing to change here: on PostgreSQL this migration drops the tenant
-- foreign keys of contacts, links, field history and pull retries (see
-- its copy there). SQLite's contact write path (store.writeTx) runs with
-- foreign-key enforcement off already, and dropping a key would rebuild
-- each table. Kept so that both dialects number their migrations alike.
SELECT 1;

-- +goose Down
SELECT 1;
