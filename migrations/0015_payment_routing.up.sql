-- Payment routing and failover (core/payment routing.go), and plugins'
-- names in other languages (core/plugin).
--
-- A route sends a payment method the buyer chose ("card", "alipay") to a
-- gateway plugin, when the order matches its conditions: a currency, a
-- buyer country (the shipping address's) and an amount range, each empty
-- (or NULL) for any. The routes of a method are tried in position order;
-- the first matching gateway takes the payment, the next ones only when
-- the gateway provably received nothing (failover). The owner replaces a
-- method's routes as a whole, so positions are dense from 0.
CREATE TABLE payment_routes (
    id          TEXT PRIMARY KEY,
    method      TEXT NOT NULL,
    position    INTEGER NOT NULL CHECK (position >= 0),
    gateway_id  TEXT NOT NULL,
    -- ISO 4217 code, '' for any currency.
    currency    TEXT NOT NULL DEFAULT '',
    -- ISO 3166-1 alpha-2 code of the shipping address, '' for any.
    country     TEXT NOT NULL DEFAULT '',
    -- Bounds of the order's total in its minor units, inclusive; NULL for
    -- none.
    min_amount  BIGINT CHECK (min_amount IS NULL OR min_amount >= 0),
    max_amount  BIGINT CHECK (max_amount IS NULL OR max_amount >= 0),
    created_by  TEXT NOT NULL DEFAULT '',
    created_at  TIMESTAMP NOT NULL,
    UNIQUE (method, position),
    CHECK (min_amount IS NULL OR max_amount IS NULL OR min_amount <= max_amount)
);
--bun:split
-- The method a buyer chose when the attempt was routed ('' when a gateway
-- was named), and the attempt it followed when the gateway before it
-- provably received nothing (NULL for the first): the chain of one
-- paymentCreate, shown on the order.
ALTER TABLE payment_attempts ADD COLUMN method TEXT NOT NULL DEFAULT '';
--bun:split
ALTER TABLE payment_attempts ADD COLUMN failover_of TEXT;
--bun:split
CREATE INDEX payment_attempts_failover ON payment_attempts (failover_of) WHERE failover_of IS NOT NULL;
--bun:split
-- The plugin's display name and description in other languages, JSON
-- objects keyed by BCP 47 tag ({"zh-CN": "微信支付"}), from Describe.
ALTER TABLE plugins ADD COLUMN display_names TEXT NOT NULL DEFAULT '{}';
--bun:split
ALTER TABLE plugins ADD COLUMN descriptions TEXT NOT NULL DEFAULT '{}';
