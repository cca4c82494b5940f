-- +goose Up
CREATE TABLE tenants (
    id            TEXT PRIMARY KEY,
    name          TEXT NOT NULL,
    salesforce_addon BOOLEAN NOT NULL DEFAULT FALSE,
    social_cdp    BOOLEAN NOT NULL DEFAULT FALSE,
    language      TEXT NOT NULL DEFAULT 'zh-TW',
    phone_region  TEXT NOT NULL DEFAULT '',
    created_at    BIGINT NOT NULL
);

CREATE TABLE admin_users (
    id            TEXT PRIMARY KEY,
    tenant_id     TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    email         TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    language      TEXT NOT NULL DEFAULT '',
    created_at    BIGINT NOT NULL
);

CREATE TABLE api_keys (
    id          TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    hash        TEXT NOT NULL UNIQUE,
    created_at  BIGINT NOT NULL,
    revoked_at  BIGINT
);

CREATE TABLE custom_field_defs (
    tenant_id  TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    key        TEXT NOT NULL,
    label      TEXT NOT NULL,
    type       TEXT NOT NULL,
    options    TEXT NOT NULL DEFAULT '[]',
    created_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, key)
);

CREATE TABLE contacts (
    tenant_id  TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    id         TEXT NOT NULL,
    member_id  TEXT,
    name       TEXT,
    phone      TEXT,
    email      TEXT,
    birthday   TEXT,
    gender     TEXT,
    tags       TEXT NOT NULL DEFAULT '[]',
    custom     TEXT NOT NULL DEFAULT '{}',
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    version    BIGINT NOT NULL DEFAULT 1,
    PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX contacts_member_id ON contacts (tenant_id, member_id);
CREATE UNIQUE INDEX contacts_phone ON contacts (tenant_id, phone);
CREATE UNIQUE INDEX contacts_email ON contacts (tenant_id, email);
CREATE INDEX contacts_updated ON contacts (tenant_id, updated_at, id);

CREATE TABLE social_identities (
    tenant_id    TEXT NOT NULL,
    contact_id   TEXT NOT NULL,
    channel_type TEXT NOT NULL,
    channel_id   TEXT NOT NULL,
    user_id      TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, channel_type, channel_id, user_id),
    FOREIGN KEY (tenant_id, contact_id) REFERENCES contacts (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX social_identities_contact ON social_identities (tenant_id, contact_id);

CREATE TABLE outbox (
    id             BIGSERIAL PRIMARY KEY,
    tenant_id      TEXT NOT NULL,
    contact_id     TEXT NOT NULL,
    op             TEXT NOT NULL,
    changed_fields TEXT NOT NULL DEFAULT '[]',
    detail         TEXT NOT NULL DEFAULT '{}',
    origin         TEXT NOT NULL,
    created_at     BIGINT NOT NULL
);
CREATE INDEX outbox_tenant ON outbox (tenant_id, id);

-- +goose Down
DROP TABLE outbox;
DROP TABLE social_identities;
DROP TABLE contacts;
DROP TABLE custom_field_defs;
DROP TABLE api_keys;
DROP TABLE admin_users;
DROP TABLE tenants;
