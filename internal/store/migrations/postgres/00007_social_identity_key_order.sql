-- +goose Up
-- A social identity's key is ordered (tenant, channel type, user ID,
-- channel ID), so finding the owners of user IDs uses the key itself and
-- the separate user-ID index goes: one index fewer to update at a random
-- place for every identity written (a first sync writes a million).
ALTER TABLE social_identities DROP CONSTRAINT social_identities_pkey;
ALTER TABLE social_identities ADD PRIMARY KEY (tenant_id, channel_type, user_id, channel_id);
DROP INDEX social_identities_user;

-- +goose Down
CREATE INDEX social_identities_user ON social_identities (tenant_id, user_id);
ALTER TABLE social_identities DROP CONSTRAINT social_identities_pkey;
ALTER TABLE social_identities ADD PRIMARY KEY (tenant_id, channel_type, channel_id, user_id);
