-- A limit on the orders awaiting payment one buyer may hold at once
-- (core/order place.go; docs/security.md, Stock held by unpaid orders).
--
-- Checkout reserves stock until the payment deadline; without a limit a
-- script could keep a product's whole stock in unpaid orders. The order
-- keeps the network it was placed from (an IPv4 address, or an IPv6 /64;
-- empty for loopback and private addresses, which are proxies' and stand
-- for many buyers), so a checkout counts the unpaid orders of its network
-- and of its signed-in buyer. unpaid_orders_per_buyer is the limit; 0
-- turns it off.
ALTER TABLE orders ADD COLUMN client_network TEXT NOT NULL DEFAULT '';
--bun:split
CREATE INDEX orders_unpaid_network ON orders (client_network) WHERE status = 'OPEN' AND payment_status = 'PENDING' AND client_network <> '';
--bun:split
CREATE INDEX orders_unpaid_customer ON orders (customer_id) WHERE status = 'OPEN' AND payment_status = 'PENDING' AND customer_id IS NOT NULL;
--bun:split
ALTER TABLE shop_settings ADD COLUMN unpaid_orders_per_buyer BIGINT NOT NULL DEFAULT 10;
