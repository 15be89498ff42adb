-- The staff list filtered on two status dimensions at once (core/order
-- store.go, filterOrders). With one index per dimension, PostgreSQL and
-- SQLite read one dimension's index newest first and drop the rows whose
-- other status differs until a page is full: fast for common pairs, but a
-- rare or empty pair (cancelled orders that were paid: money to send
-- back) read every cancelled order, 130 to 190 ms at 1,000,000 orders,
-- and over 3 s sorted by total (BENCHMARKS.md, Status pairs). An index
-- per pair answers any pair, and a third status on top of it is filtered
-- from the pair's few rows. The single-status indexes stay: a pair index
-- cannot give one status's orders newest first.
-- This file is SQLite's; 0021_order_status_pairs.postgres.up.sql is
-- PostgreSQL's, which adds statistics on the statuses together.
CREATE INDEX orders_status_payment_created ON orders (status, payment_status, created_at DESC, id DESC);
--bun:split
CREATE INDEX orders_payment_fulfillment_created ON orders (payment_status, fulfillment_status, created_at DESC, id DESC);
--bun:split
CREATE INDEX orders_fulfillment_status_created ON orders (fulfillment_status, status, created_at DESC, id DESC);
