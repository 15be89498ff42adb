-- The rate an order's lines and shipping were taxed at, as the cart
-- priced them (core/pricing Totals): tax_name as receipts call it
-- ("VAT"), tax_basis_points the rate (1300 is 13 %). Invoices state it;
-- the shop's rates may change after the order. Empty and zero for orders
-- placed before: their invoices state no rate, as before.
ALTER TABLE orders ADD COLUMN tax_name TEXT NOT NULL DEFAULT '';
--bun:split
ALTER TABLE orders ADD COLUMN tax_basis_points BIGINT NOT NULL DEFAULT 0;
