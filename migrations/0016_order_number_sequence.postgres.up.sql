-- Order numbers from a PostgreSQL SEQUENCE (ADR 0010): nextval takes no
-- row lock, so concurrent checkouts no longer queue on the counter row of
-- order_sequences until each commits; a rolled-back checkout leaves a gap.
-- The sequence starts at the counter's next number; the row stays, unused
-- on PostgreSQL, for the down migration to write the count back to.
-- 0016_order_number_sequence.up.sql is SQLite's, which keeps the counter.
CREATE SEQUENCE order_numbers AS BIGINT MINVALUE 1;
--bun:split
SELECT setval('order_numbers', next, false) FROM order_sequences WHERE name = 'orders';
