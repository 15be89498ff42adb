-- Accounts and permissions: Casbin rules, buyers with their addresses,
-- groups and tags, staff members and invitations, sessions, single-use
-- account tokens, API keys and the login throttle.
--
-- Casbin rules: "p, role, store, object, action" and "g, principal, role,
-- store"; unused values are empty strings so the whole rule is the key.
CREATE TABLE casbin_rule (
    ptype TEXT NOT NULL,
    v0    TEXT NOT NULL DEFAULT '',
    v1    TEXT NOT NULL DEFAULT '',
    v2    TEXT NOT NULL DEFAULT '',
    v3    TEXT NOT NULL DEFAULT '',
    v4    TEXT NOT NULL DEFAULT '',
    v5    TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (ptype, v0, v1, v2, v3, v4, v5)
);
--bun:split
-- Roles known in each store, built-in or made by the owner.
CREATE TABLE authz_roles (
    store       TEXT NOT NULL,
    name        TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    builtin     BOOLEAN NOT NULL DEFAULT FALSE,
    created_at  TIMESTAMP NOT NULL,
    PRIMARY KEY (store, name)
);
--bun:split
-- Default rules already seeded once: a default rule the owner removed is
-- not seeded again, a default rule added by a later version is.
CREATE TABLE authz_seeded (
    rule      TEXT PRIMARY KEY,
    seeded_at TIMESTAMP NOT NULL
);
--bun:split
CREATE TABLE customers (
    id                          TEXT PRIMARY KEY,
    email                       TEXT NOT NULL,
    email_verified_at           TIMESTAMP,
    password_hash               TEXT,
    first_name                  TEXT NOT NULL DEFAULT '',
    last_name                   TEXT NOT NULL DEFAULT '',
    phone                       TEXT NOT NULL DEFAULT '',
    kind                        TEXT NOT NULL DEFAULT 'individual',
    company_name                TEXT NOT NULL DEFAULT '',
    tax_id                      TEXT NOT NULL DEFAULT '',
    accepts_marketing           BOOLEAN NOT NULL DEFAULT FALSE,
    note                        TEXT NOT NULL DEFAULT '',
    default_shipping_address_id TEXT,
    default_billing_address_id  TEXT,
    erased_at                   TIMESTAMP,
    created_at                  TIMESTAMP NOT NULL,
    updated_at                  TIMESTAMP NOT NULL
);
--bun:split
CREATE UNIQUE INDEX customers_email ON customers (email);
--bun:split
CREATE INDEX customers_created ON customers (created_at, id);
--bun:split
CREATE TABLE customer_addresses (
    id           TEXT PRIMARY KEY,
    customer_id  TEXT NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    first_name   TEXT NOT NULL DEFAULT '',
    last_name    TEXT NOT NULL DEFAULT '',
    company      TEXT NOT NULL DEFAULT '',
    line1        TEXT NOT NULL DEFAULT '',
    line2        TEXT NOT NULL DEFAULT '',
    city         TEXT NOT NULL DEFAULT '',
    province     TEXT NOT NULL DEFAULT '',
    postal_code  TEXT NOT NULL DEFAULT '',
    country_code TEXT NOT NULL DEFAULT '',
    phone        TEXT NOT NULL DEFAULT '',
    created_at   TIMESTAMP NOT NULL,
    updated_at   TIMESTAMP NOT NULL
);
--bun:split
CREATE INDEX customer_addresses_customer ON customer_addresses (customer_id, id);
--bun:split
CREATE TABLE customer_groups (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    created_at  TIMESTAMP NOT NULL,
    updated_at  TIMESTAMP NOT NULL
);
--bun:split
CREATE UNIQUE INDEX customer_groups_name ON customer_groups (name);
--bun:split
CREATE TABLE customer_group_members (
    group_id    TEXT NOT NULL REFERENCES customer_groups (id) ON DELETE CASCADE,
    customer_id TEXT NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    created_at  TIMESTAMP NOT NULL,
    PRIMARY KEY (group_id, customer_id)
);
--bun:split
CREATE INDEX customer_group_members_customer ON customer_group_members (customer_id);
--bun:split
CREATE TABLE customer_tags (
    customer_id TEXT NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    tag         TEXT NOT NULL,
    PRIMARY KEY (customer_id, tag)
);
--bun:split
CREATE INDEX customer_tags_tag ON customer_tags (tag, customer_id);
--bun:split
CREATE TABLE staff_members (
    id            TEXT PRIMARY KEY,
    email         TEXT NOT NULL,
    name          TEXT NOT NULL DEFAULT '',
    password_hash TEXT,
    status        TEXT NOT NULL DEFAULT 'active',
    created_at    TIMESTAMP NOT NULL,
    updated_at    TIMESTAMP NOT NULL,
    last_login_at TIMESTAMP
);
--bun:split
CREATE UNIQUE INDEX staff_members_email ON staff_members (email);
--bun:split
CREATE TABLE staff_invitations (
    id          TEXT PRIMARY KEY,
    email       TEXT NOT NULL,
    name        TEXT NOT NULL DEFAULT '',
    roles       TEXT NOT NULL,
    token_hash  TEXT NOT NULL,
    invited_by  TEXT NOT NULL,
    created_at  TIMESTAMP NOT NULL,
    expires_at  TIMESTAMP NOT NULL,
    accepted_at TIMESTAMP,
    revoked_at  TIMESTAMP
);
--bun:split
CREATE UNIQUE INDEX staff_invitations_token ON staff_invitations (token_hash);
--bun:split
-- Sessions: only the SHA-256 of the token is stored.
CREATE TABLE sessions (
    id             TEXT PRIMARY KEY,
    token_hash     TEXT NOT NULL,
    principal_kind TEXT NOT NULL,
    principal_id   TEXT NOT NULL,
    created_at     TIMESTAMP NOT NULL,
    expires_at     TIMESTAMP NOT NULL,
    last_seen_at   TIMESTAMP NOT NULL,
    ip             TEXT NOT NULL DEFAULT '',
    user_agent     TEXT NOT NULL DEFAULT ''
);
--bun:split
CREATE UNIQUE INDEX sessions_token ON sessions (token_hash);
--bun:split
CREATE INDEX sessions_principal ON sessions (principal_kind, principal_id);
--bun:split
-- Single-use tokens mailed to people: email verification, password reset,
-- the owner setup token. Only the SHA-256 of the token is stored.
CREATE TABLE account_tokens (
    id           TEXT PRIMARY KEY,
    token_hash   TEXT NOT NULL,
    purpose      TEXT NOT NULL,
    principal_id TEXT NOT NULL DEFAULT '',
    created_at   TIMESTAMP NOT NULL,
    expires_at   TIMESTAMP NOT NULL,
    used_at      TIMESTAMP
);
--bun:split
CREATE UNIQUE INDEX account_tokens_token ON account_tokens (token_hash);
--bun:split
CREATE INDEX account_tokens_principal ON account_tokens (purpose, principal_id);
--bun:split
CREATE TABLE api_keys (
    id           TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    token_hash   TEXT NOT NULL,
    hint         TEXT NOT NULL,
    created_by   TEXT NOT NULL,
    created_at   TIMESTAMP NOT NULL,
    last_used_at TIMESTAMP,
    revoked_at   TIMESTAMP
);
--bun:split
CREATE UNIQUE INDEX api_keys_token ON api_keys (token_hash);
--bun:split
-- Failed sign-in attempts per account ("acct:" + email digest) and per
-- client address ("ip:" + address), for the exponential back-off.
CREATE TABLE login_throttle (
    key             TEXT PRIMARY KEY,
    failures        INTEGER NOT NULL DEFAULT 0,
    last_failure_at TIMESTAMP NOT NULL,
    blocked_until   TIMESTAMP
);
