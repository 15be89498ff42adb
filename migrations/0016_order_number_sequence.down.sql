-- SQLite's: 0016_order_number_sequence.up.sql changed nothing.
SELECT 1;
