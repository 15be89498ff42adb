-- Shop settings, shipping and tax (core/shop, core/shipping, core/tax;
-- ADR 0008).
--
-- shop_settings holds at most one row (id 'shop'); until staff save the
-- settings once, core/shop answers its defaults. Durations are whole
-- seconds; currencies are ISO 4217 codes separated by commas, the first
-- being the shop's default.
CREATE TABLE shop_settings (
    id                       TEXT PRIMARY KEY CHECK (id = 'shop'),
    currencies               TEXT NOT NULL,
    payment_deadline_seconds BIGINT NOT NULL,
    reminder_lead_seconds    BIGINT NOT NULL,
    order_number_prefix      TEXT NOT NULL,
    line_quantity_limit      BIGINT NOT NULL,
    prices_include_tax       BOOLEAN NOT NULL,
    updated_at               TIMESTAMP NOT NULL
);
--bun:split
-- A shipping zone: the countries (ISO 3166-1 alpha-2, separated by
-- commas) and, optionally, the regions within them that it covers.
CREATE TABLE shipping_zones (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    countries  TEXT NOT NULL,
    regions    TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
--bun:split
-- A zone's shipping methods. prices is a JSON list, one entry per
-- currency, whose shape depends on kind (FLAT, FREE_OVER, WEIGHT_BANDS).
CREATE TABLE shipping_methods (
    id         TEXT PRIMARY KEY,
    zone_id    TEXT NOT NULL REFERENCES shipping_zones (id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    kind       TEXT NOT NULL,
    prices     TEXT NOT NULL,
    active     BOOLEAN NOT NULL,
    position   BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
--bun:split
CREATE INDEX shipping_methods_zone ON shipping_methods (zone_id, position, id);
--bun:split
-- Tax rates by country and optional region ('' for the whole country), in
-- basis points (1300 is 13 %). One rate per place.
CREATE TABLE tax_rates (
    id         TEXT PRIMARY KEY,
    country    TEXT NOT NULL,
    region     TEXT NOT NULL DEFAULT '',
    name       TEXT NOT NULL,
    rate_bps   BIGINT NOT NULL CHECK (rate_bps >= 0 AND rate_bps <= 10000),
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
--bun:split
CREATE UNIQUE INDEX tax_rates_place ON tax_rates (country, region);
