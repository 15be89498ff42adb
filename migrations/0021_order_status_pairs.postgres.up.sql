-- The staff list filtered on two status dimensions at once: one index per
-- pair (see 0021_order_status_pairs.up.sql, SQLite's file, for why).
CREATE INDEX orders_status_payment_created ON orders (status, payment_status, created_at DESC, id DESC);
--bun:split
CREATE INDEX orders_payment_fulfillment_created ON orders (payment_status, fulfillment_status, created_at DESC, id DESC);
--bun:split
CREATE INDEX orders_fulfillment_status_created ON orders (fulfillment_status, status, created_at DESC, id DESC);
--bun:split
-- The statuses are not independent (a cancelled order is rarely paid, a
-- completed one never unpaid), and PostgreSQL's estimates multiply them as
-- if they were: it took an empty pair for 4 % of the orders and, sorted by
-- total, walked the whole total index waiting for matches. Statistics on
-- the combinations (refreshed by ANALYZE and autovacuum) let it see the
-- pair is empty and sort the pair index's few rows instead.
CREATE STATISTICS orders_statuses (mcv) ON status, payment_status, fulfillment_status FROM orders;
--bun:split
-- A shop with orders gets the statistics now rather than when autovacuum
-- next analyzes (after a tenth of the orders changed). A new shop does
-- not: ANALYZE of an empty table records it as empty, and PostgreSQL would
-- then plan the checkout's statements as sequential scans of a table
-- expected to stay empty (graphql/resolver cart_statements_test.go).
DO $$
BEGIN
    IF (SELECT reltuples FROM pg_class WHERE oid = 'orders'::regclass) > 10000 THEN
        ANALYZE orders;
    END IF;
END
$$;
