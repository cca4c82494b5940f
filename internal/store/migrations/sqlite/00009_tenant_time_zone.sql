-- +goose Up
-- The IANA time zone the admin UI shows a tenant's times in; '' = the
-- default of the tenant's language (Asia/Taipei for zh-TW).
ALTER TABLE tenants ADD COLUMN time_zone TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE tenants DROP COLUMN time_zone;
