-- +goose Up
-- A social identity's key is ordered (tenant, channel type, user ID,
-- channel ID), so finding the owners of user IDs uses the key itself and
-- the separate user-ID index goes: one index fewer to update at a random
-- place for every identity written (a first sync writes a million).
CREATE TABLE social_identities_new (
    tenant_id    TEXT NOT NULL,
    contact_id   TEXT NOT NULL,
    channel_type TEXT NOT NULL,
    channel_id   TEXT NOT NULL,
    user_id      TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, channel_type, user_id, channel_id),
    FOREIGN KEY (tenant_id, contact_id) REFERENCES contacts (tenant_id, id) ON DELETE CASCADE
);
INSERT INTO social_identities_new (tenant_id, contact_id, channel_type, channel_id, user_id, created_at)
    SELECT tenant_id, contact_id, channel_type, channel_id, user_id, created_at FROM social_identities;
DROP TABLE social_identities;
ALTER TABLE social_identities_new RENAME TO social_identities;
CREATE INDEX social_identities_contact ON social_identities (tenant_id, contact_id);

-- +goose Down
CREATE TABLE social_identities_old (
    tenant_id    TEXT NOT NULL,
    contact_id   TEXT NOT NULL,
    channel_type TEXT NOT NULL,
    channel_id   TEXT NOT NULL,
    user_id      TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, channel_type, channel_id, user_id),
    FOREIGN KEY (tenant_id, contact_id) REFERENCES contacts (tenant_id, id) ON DELETE CASCADE
);
INSERT INTO social_identities_old (tenant_id, contact_id, channel_type, channel_id, user_id, created_at)
    SELECT tenant_id, contact_id, channel_type, channel_id, user_id, created_at FROM social_identities;
DROP TABLE social_identities;
ALTER TABLE social_identities_old RENAME TO social_identities;
CREATE INDEX social_identities_contact ON social_identities (tenant_id, contact_id);
CREATE INDEX social_identities_user ON social_identities (tenant_id, user_id);
