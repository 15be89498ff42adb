-- Orders (core/order, ADR 0008): the order with its snapshot of lines and
-- prices, shipments, staff notes, the timeline shared by its three status
-- machines (core/transition) and the per-shop number sequence.
CREATE TABLE order_sequences (
    name  TEXT PRIMARY KEY,          -- "orders"
    next  BIGINT NOT NULL            -- the next number to hand out
);
--bun:split
INSERT INTO order_sequences (name, next) VALUES ('orders', 1001);
--bun:split
CREATE TABLE orders (
    id                   TEXT PRIMARY KEY,
    seq                  BIGINT NOT NULL UNIQUE,
    number               TEXT NOT NULL,
    customer_id          TEXT REFERENCES customers (id),
    email                TEXT NOT NULL,
    email_local          TEXT NOT NULL DEFAULT '', -- email before its last @, for search
    currency             TEXT NOT NULL,
    status               TEXT NOT NULL,
    payment_status       TEXT NOT NULL,
    fulfillment_status   TEXT NOT NULL,
    shipping_address     TEXT NOT NULL,
    billing_address      TEXT NOT NULL,
    shipping_method_id   TEXT NOT NULL DEFAULT '',
    shipping_method_name TEXT NOT NULL DEFAULT '',
    subtotal_amount      BIGINT NOT NULL,
    discount_amount      BIGINT NOT NULL DEFAULT 0,
    shipping_amount      BIGINT NOT NULL DEFAULT 0,
    tax_amount           BIGINT NOT NULL DEFAULT 0,
    total_amount         BIGINT NOT NULL CHECK (total_amount >= 0),
    tax_included         BOOLEAN NOT NULL DEFAULT FALSE,
    discounts            TEXT NOT NULL DEFAULT '[]',
    payment_method       TEXT NOT NULL DEFAULT '',
    payment_deadline     TIMESTAMP NOT NULL,
    remind_at            TIMESTAMP NOT NULL,
    reminded_at          TIMESTAMP,
    cart_id              TEXT NOT NULL UNIQUE,
    access_token_hash    TEXT NOT NULL DEFAULT '',
    -- Scheduler claims (core/worker.Claimer): the reminder and the
    -- deadline closer take an order for a while so that two instances
    -- never act on it twice.
    claimed_by           TEXT,
    claimed_until        TIMESTAMP,
    cancelled_at         TIMESTAMP,
    completed_at         TIMESTAMP,
    created_at           TIMESTAMP NOT NULL,
    updated_at           TIMESTAMP NOT NULL
);
--bun:split
-- The staff list (Service.List) and a buyer's own orders: newest first by
-- default, optionally within a created range, each filter served by an
-- index that also gives the order, so a page costs the same on 1,000,000
-- orders as on 100 (keyset on (created_at, id)).
CREATE INDEX orders_created ON orders (created_at DESC, id DESC);
--bun:split
CREATE INDEX orders_status_created ON orders (status, created_at DESC, id DESC);
--bun:split
CREATE INDEX orders_payment_created ON orders (payment_status, created_at DESC, id DESC);
--bun:split
CREATE INDEX orders_fulfillment_created ON orders (fulfillment_status, created_at DESC, id DESC);
--bun:split
CREATE INDEX orders_customer_created ON orders (customer_id, created_at DESC, id DESC);
--bun:split
CREATE INDEX orders_method_created ON orders (payment_method, created_at DESC, id DESC);
--bun:split
-- Sorting by total; sorting by number uses the unique index on seq.
CREATE INDEX orders_total ON orders (total_amount DESC, id DESC);
--bun:split
-- Search by a full email address, and the guest orders a buyer claims.
CREATE INDEX orders_email_created ON orders (email, created_at DESC, id DESC);
--bun:split
-- Search by the name before the @ of an email address: an equality, which
-- a plain index serves on both engines whatever the collation (a LIKE
-- prefix would need text_pattern_ops on PostgreSQL and a NOCASE column on
-- SQLite).
CREATE INDEX orders_email_local_created ON orders (email_local, created_at DESC, id DESC);
--bun:split
-- A guest reads the order with the token returned at checkout.
CREATE UNIQUE INDEX orders_access_token ON orders (access_token_hash) WHERE access_token_hash <> '';
--bun:split
-- The schedulers' scans: unpaid open orders by deadline and reminder time.
CREATE INDEX orders_unpaid_deadline ON orders (payment_deadline) WHERE status = 'OPEN' AND payment_status = 'PENDING';
--bun:split
CREATE INDEX orders_unpaid_remind ON orders (remind_at) WHERE status = 'OPEN' AND payment_status = 'PENDING' AND reminded_at IS NULL;
--bun:split
CREATE TABLE order_lines (
    id                 TEXT PRIMARY KEY,
    order_id           TEXT NOT NULL REFERENCES orders (id),
    position           INTEGER NOT NULL,
    variant_id         TEXT NOT NULL,
    product_id         TEXT NOT NULL,
    sku                TEXT NOT NULL DEFAULT '',
    product_title      TEXT NOT NULL,
    variant_title      TEXT NOT NULL DEFAULT '',
    weight_grams       BIGINT NOT NULL DEFAULT 0,
    quantity           BIGINT NOT NULL CHECK (quantity > 0),
    unit_price_amount  BIGINT NOT NULL,
    subtotal_amount    BIGINT NOT NULL,
    discount_amount    BIGINT NOT NULL DEFAULT 0,
    tax_amount         BIGINT NOT NULL DEFAULT 0,
    total_amount       BIGINT NOT NULL,
    quantity_shipped   BIGINT NOT NULL DEFAULT 0 CHECK (quantity_shipped >= 0 AND quantity_shipped <= quantity)
);
--bun:split
CREATE INDEX order_lines_order ON order_lines (order_id, position);
--bun:split
CREATE TABLE order_shipments (
    id              TEXT PRIMARY KEY,
    order_id        TEXT NOT NULL REFERENCES orders (id),
    carrier         TEXT NOT NULL DEFAULT '',
    tracking_number TEXT NOT NULL DEFAULT '',
    delivered_at    TIMESTAMP,
    created_by      TEXT NOT NULL DEFAULT '',
    created_at      TIMESTAMP NOT NULL
);
--bun:split
CREATE INDEX order_shipments_order ON order_shipments (order_id, id);
--bun:split
CREATE TABLE order_shipment_lines (
    shipment_id   TEXT NOT NULL REFERENCES order_shipments (id),
    order_line_id TEXT NOT NULL REFERENCES order_lines (id),
    quantity      BIGINT NOT NULL CHECK (quantity > 0),
    PRIMARY KEY (shipment_id, order_line_id)
);
--bun:split
CREATE TABLE order_notes (
    id         TEXT PRIMARY KEY,
    order_id   TEXT NOT NULL REFERENCES orders (id),
    body       TEXT NOT NULL,
    author_id  TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMP NOT NULL
);
--bun:split
CREATE INDEX order_notes_order ON order_notes (order_id, id);
--bun:split
-- Written by core/transition for the moves of the three status machines
-- (machine order.status, order.payment_status, order.fulfillment_status)
-- and by core/order for the placement (order.status, '' -> OPEN), a
-- shipment that leaves the fulfillment status as it was (order.shipment),
-- a staff note (order.note, the body in reason, no event: event_id '') and
-- guest orders claimed by their buyer (order.claim).
CREATE TABLE order_timeline (
    id          TEXT PRIMARY KEY,
    order_id    TEXT NOT NULL REFERENCES orders (id),
    machine     TEXT NOT NULL,
    from_state  TEXT NOT NULL,
    to_state    TEXT NOT NULL,
    actor_kind  TEXT NOT NULL,
    actor       TEXT,
    reason      TEXT,
    event_id    TEXT NOT NULL,
    created_at  TIMESTAMP NOT NULL,
    -- BUYER rows are shown to the order's buyer, STAFF rows (notes) only
    -- to staff. core/transition does not know the column: its rows take
    -- the default.
    visibility  TEXT NOT NULL DEFAULT 'BUYER'
);
--bun:split
CREATE INDEX order_timeline_order ON order_timeline (order_id, id);
