-- +goose Up
-- Finding the owners of social identities by user ID (bulk upserts) must
-- not scan a tenant's every identity.
CREATE INDEX social_identities_user ON social_identities (tenant_id, user_id);

-- +goose Down
DROP INDEX social_identities_user;
