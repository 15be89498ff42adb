DROP INDEX cart_lines_variant;
--bun:split
DROP TABLE cart_lines;
--bun:split
DROP INDEX carts_customer_open;
--bun:split
DROP INDEX carts_token;
--bun:split
DROP TABLE carts;
--bun:split
DROP INDEX idempotency_keys_expires;
--bun:split
DROP TABLE idempotency_keys;
