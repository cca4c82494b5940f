-- +goose Up
-- The tables a sync page fills row by row (contacts, links, field history,
-- pull retries) no longer check each row's tenant with a foreign key: a
-- first sync of 100,000 records ran 168,000 such checks, each a query and
-- a row lock on the tenant (about 12 µs a row of the inserts' server CPU,
-- a fifth of it) (issue 14). Their rows are written in the contact write
-- transaction (store.writeTx), which checks once that the tenant exists,
-- as SQLite's write path already does with its checks off; and no tenant
-- is ever deleted, so no cascade is lost. The keys between these rows and
-- other rows (a social identity's contact, a run record's run) stay.
ALTER TABLE contacts DROP CONSTRAINT contacts_tenant_id_fkey;
ALTER TABLE links DROP CONSTRAINT links_tenant_id_fkey;
ALTER TABLE field_history DROP CONSTRAINT field_history_tenant_id_fkey;
ALTER TABLE pull_retries DROP CONSTRAINT pull_retries_tenant_id_fkey;

-- +goose Down
ALTER TABLE contacts ADD CONSTRAINT contacts_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES tenants(id) ON DELETE CASCADE;
ALTER TABLE links ADD CONSTRAINT links_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES tenants(id) ON DELETE CASCADE;
ALTER TABLE field_history ADD CONSTRAINT field_history_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES tenants(id) ON DELETE CASCADE;
ALTER TABLE pull_retries ADD CONSTRAINT pull_retries_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES tenants(id) ON DELETE CASCADE;
