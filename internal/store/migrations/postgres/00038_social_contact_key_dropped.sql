-- +goose Up
-- A social identity no longer checks its contact with a foreign key: a
-- bulk import of 100,000 contacts, each with an identity, ran 100,000
-- such checks, a tenth of the server's time (issue 14). Identities are
-- written only by the contact write path (store.writeContactChunks), for
-- contacts of its batch or loaded with it, under the tenant's contact
-- lock; DeleteContact takes the same lock and deletes a contact's
-- identities itself before the contact, so the cascade did nothing. As
-- SQLite's write path, which runs with its checks off.
ALTER TABLE social_identities DROP CONSTRAINT social_identities_tenant_id_contact_id_fkey;

-- +goose Down
ALTER TABLE social_identities ADD CONSTRAINT social_identities_tenant_id_contact_id_fkey
    FOREIGN KEY (tenant_id, contact_id) REFERENCES contacts(tenant_id, id) ON DELETE CASCADE;
