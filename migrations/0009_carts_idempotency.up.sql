-- Idempotency keys (core/idempotency) and carts (core/cart; ADR 0008).
--
-- idempotency_keys holds one row per (scope, key): the SHA-256 of the
-- request it was first used with and the result the first call stored
-- (base64), written in the transaction of the work it guards. A
-- concurrent duplicate waits on the primary key until that transaction
-- ends. Rows past expires_at are deleted by the idempotency.expiry worker.
CREATE TABLE idempotency_keys (
    scope        TEXT NOT NULL,
    idem_key     TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    response     TEXT,
    created_at   TIMESTAMP NOT NULL,
    expires_at   TIMESTAMP NOT NULL,
    PRIMARY KEY (scope, idem_key)
);
--bun:split
CREATE INDEX idempotency_keys_expires ON idempotency_keys (expires_at);
--bun:split
-- A cart: a guest's (token_hash set: the SHA-256 of the cart token, the
-- token itself is returned once) or a signed-in buyer's (customer_id set).
-- Addresses are JSON (order.Address), NULL until given. A completed cart
-- names the order it placed; a guest cart merged into a buyer's cart at
-- sign-in names that cart and can no longer be reached.
CREATE TABLE carts (
    id                 TEXT PRIMARY KEY,
    token_hash         TEXT,
    customer_id        TEXT REFERENCES customers (id) ON DELETE CASCADE,
    currency           TEXT NOT NULL,
    email              TEXT NOT NULL DEFAULT '',
    shipping_address   TEXT,
    billing_address    TEXT,
    shipping_method_id TEXT NOT NULL DEFAULT '',
    order_id           TEXT NOT NULL DEFAULT '',
    merged_into        TEXT,
    completed_at       TIMESTAMP,
    created_at         TIMESTAMP NOT NULL,
    updated_at         TIMESTAMP NOT NULL
);
--bun:split
CREATE UNIQUE INDEX carts_token ON carts (token_hash) WHERE token_hash IS NOT NULL;
--bun:split
-- A signed-in buyer has at most one open cart.
CREATE UNIQUE INDEX carts_customer_open ON carts (customer_id)
    WHERE customer_id IS NOT NULL AND completed_at IS NULL AND merged_into IS NULL;
--bun:split
-- A cart's lines: one per variant; prices are never stored, the catalog
-- prices every read.
CREATE TABLE cart_lines (
    id         TEXT PRIMARY KEY,
    cart_id    TEXT NOT NULL REFERENCES carts (id) ON DELETE CASCADE,
    variant_id TEXT NOT NULL REFERENCES product_variants (id) ON DELETE CASCADE,
    quantity   BIGINT NOT NULL CHECK (quantity > 0),
    created_at TIMESTAMP NOT NULL
);
--bun:split
CREATE UNIQUE INDEX cart_lines_variant ON cart_lines (cart_id, variant_id);
