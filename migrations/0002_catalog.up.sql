-- The catalog: products with their options, variants, prices per currency,
-- inventory levels with an adjustment ledger, and collections.
--
-- Products keep their options (name + ordered values) and tags as JSON text:
-- they are always read and written with the product, and a separate table
-- would cost a query per page for nothing. Variants keep the values they
-- select, aligned with the product's options by position.
--
-- Pagination is keyset on (sort key, id); every sort key has an index, once
-- alone (staff see every status) and once behind status (the storefront
-- sees ACTIVE only).
CREATE TABLE products (
    id            TEXT PRIMARY KEY,
    handle        TEXT NOT NULL,
    title         TEXT NOT NULL,
    -- title_sort is the title folded to lower case by the application, so
    -- TITLE order is the same on both engines and ignores case.
    title_sort    TEXT NOT NULL,
    description   TEXT NOT NULL DEFAULT '',
    status        TEXT NOT NULL CHECK (status IN ('DRAFT', 'ACTIVE', 'ARCHIVED')),
    vendor        TEXT NOT NULL DEFAULT '',
    product_type  TEXT NOT NULL DEFAULT '',
    tags          TEXT NOT NULL DEFAULT '[]',
    options       TEXT NOT NULL DEFAULT '[]',
    -- search_text is lower-cased title, handle, vendor and every SKU, kept
    -- by the application: one LIKE per term, no join, same on both engines.
    search_text   TEXT NOT NULL DEFAULT '',
    created_at    TIMESTAMP NOT NULL,
    updated_at    TIMESTAMP NOT NULL
);
--bun:split
CREATE UNIQUE INDEX products_handle ON products (handle);
--bun:split
CREATE INDEX products_status_id ON products (status, id);
--bun:split
CREATE INDEX products_title ON products (title_sort, id);
--bun:split
CREATE INDEX products_status_title ON products (status, title_sort, id);
--bun:split
CREATE INDEX products_created ON products (created_at, id);
--bun:split
CREATE INDEX products_status_created ON products (status, created_at, id);
--bun:split
CREATE INDEX products_updated ON products (updated_at, id);
--bun:split
CREATE INDEX products_status_updated ON products (status, updated_at, id);
--bun:split
CREATE TABLE product_variants (
    id             TEXT PRIMARY KEY,
    product_id     TEXT NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    sku            TEXT NOT NULL DEFAULT '',
    title          TEXT NOT NULL,
    -- option_values[i] is the value of the product's option i.
    option_values  TEXT NOT NULL DEFAULT '[]',
    position       INTEGER NOT NULL,
    weight_grams   INTEGER NOT NULL DEFAULT 0 CHECK (weight_grams >= 0),
    archived       BOOLEAN NOT NULL DEFAULT FALSE,
    created_at     TIMESTAMP NOT NULL,
    updated_at     TIMESTAMP NOT NULL
);
--bun:split
-- A SKU is optional, but when given it names one variant in the shop.
CREATE UNIQUE INDEX product_variants_sku ON product_variants (sku) WHERE sku <> '';
--bun:split
CREATE INDEX product_variants_product ON product_variants (product_id, position);
--bun:split
CREATE TABLE variant_prices (
    variant_id         TEXT NOT NULL REFERENCES product_variants (id) ON DELETE CASCADE,
    currency           TEXT NOT NULL,
    -- Minor units of currency (cents for USD and CNY).
    amount             BIGINT NOT NULL CHECK (amount >= 0),
    compare_at_amount  BIGINT CHECK (compare_at_amount >= 0),
    PRIMARY KEY (variant_id, currency)
);
--bun:split
-- One row per variant. Checkout reserves stock with a conditional UPDATE
-- (SET reserved = reserved + n WHERE on_hand - reserved >= n), which never
-- oversells on either engine; the CHECKs are the last line of defence.
CREATE TABLE inventory_levels (
    variant_id  TEXT PRIMARY KEY REFERENCES product_variants (id) ON DELETE CASCADE,
    on_hand     BIGINT NOT NULL DEFAULT 0 CHECK (on_hand >= 0),
    reserved    BIGINT NOT NULL DEFAULT 0 CHECK (reserved >= 0),
    updated_at  TIMESTAMP NOT NULL
);
--bun:split
-- The ledger of stock changes made by people: every row is written in the
-- same transaction as the inventory_levels change it explains.
CREATE TABLE inventory_adjustments (
    id             TEXT PRIMARY KEY,
    variant_id     TEXT NOT NULL REFERENCES product_variants (id) ON DELETE CASCADE,
    delta          BIGINT NOT NULL,
    reason         TEXT NOT NULL,
    note           TEXT NOT NULL DEFAULT '',
    actor          TEXT NOT NULL,
    on_hand_after  BIGINT NOT NULL,
    created_at     TIMESTAMP NOT NULL
);
--bun:split
CREATE INDEX inventory_adjustments_variant ON inventory_adjustments (variant_id, id);
--bun:split
CREATE TABLE collections (
    id           TEXT PRIMARY KEY,
    handle       TEXT NOT NULL,
    title        TEXT NOT NULL,
    title_sort   TEXT NOT NULL,
    description  TEXT NOT NULL DEFAULT '',
    created_at   TIMESTAMP NOT NULL,
    updated_at   TIMESTAMP NOT NULL
);
--bun:split
CREATE UNIQUE INDEX collections_handle ON collections (handle);
--bun:split
CREATE INDEX collections_title ON collections (title_sort, id);
--bun:split
CREATE TABLE collection_products (
    collection_id  TEXT NOT NULL REFERENCES collections (id) ON DELETE CASCADE,
    product_id     TEXT NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    -- The merchant's order inside the collection (MANUAL sort); gaps are fine.
    position       INTEGER NOT NULL,
    PRIMARY KEY (collection_id, product_id)
);
--bun:split
CREATE INDEX collection_products_position ON collection_products (collection_id, position, product_id);
--bun:split
CREATE INDEX collection_products_product ON collection_products (product_id);
