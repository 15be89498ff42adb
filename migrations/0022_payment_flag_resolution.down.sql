DROP INDEX payment_gateway_events_flags;
--bun:split
DROP INDEX payment_gateway_events_open_flags;
--bun:split
ALTER TABLE payment_gateway_events DROP COLUMN resolution_note;
--bun:split
ALTER TABLE payment_gateway_events DROP COLUMN resolved_by;
--bun:split
ALTER TABLE payment_gateway_events DROP COLUMN resolved_at;
