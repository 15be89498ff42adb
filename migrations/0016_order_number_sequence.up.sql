-- Order numbers from a PostgreSQL SEQUENCE (ADR 0010): nextval takes no
-- row lock, so concurrent checkouts no longer queue on the counter row of
-- order_sequences until each commits; a rolled-back checkout leaves a gap.
-- This file is SQLite's, which keeps numbering from the counter row
-- (writers take turns there anyway): it changes nothing.
-- 0016_order_number_sequence.postgres.up.sql is PostgreSQL's.
SELECT 1;
