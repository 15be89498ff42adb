ALTER TABLE shop_settings DROP COLUMN payment_method_order;
--bun:split
ALTER TABLE shop_settings DROP COLUMN refund_cancelled_order_payments;
--bun:split
DROP TABLE payment_balances;
--bun:split
DROP TABLE payment_ledger;
--bun:split
DROP TABLE payment_gateway_events;
--bun:split
DROP TABLE payment_refund_timeline;
--bun:split
DROP TABLE payment_refunds;
--bun:split
DROP TABLE payment_attempt_timeline;
--bun:split
DROP TABLE payment_attempts;
