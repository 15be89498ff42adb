ALTER TABLE shop_settings DROP COLUMN unpaid_orders_per_buyer;
--bun:split
DROP INDEX orders_unpaid_customer;
--bun:split
DROP INDEX orders_unpaid_network;
--bun:split
ALTER TABLE orders DROP COLUMN client_network;
