-- +goose Up
-- Nothing to change here: on PostgreSQL this migration drops the foreign
-- key from a social identity to its contact (see its copy there).
-- SQLite's contact write path runs with foreign-key enforcement off
-- already. Kept so that both dialects number their migrations alike.
SELECT 1;

-- +goose Down
SELECT 1;
