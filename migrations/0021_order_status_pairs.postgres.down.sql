DROP STATISTICS orders_statuses;
--bun:split
DROP INDEX orders_fulfillment_status_created;
--bun:split
DROP INDEX orders_payment_fulfillment_created;
--bun:split
DROP INDEX orders_status_payment_created;
