-- Staff resolve a flagged gateway event (core/payment flags.go): who,
-- when and what they did, kept on the event. Until then it waits in
-- flaggedPaymentEvents, the admin's "Needs attention" list.
ALTER TABLE payment_gateway_events ADD COLUMN resolved_at TIMESTAMP;
--bun:split
ALTER TABLE payment_gateway_events ADD COLUMN resolved_by TEXT NOT NULL DEFAULT '';
--bun:split
ALTER TABLE payment_gateway_events ADD COLUMN resolution_note TEXT NOT NULL DEFAULT '';
--bun:split
-- The flagged events, newest first, open ones apart: a handful among the
-- millions of events of a busy shop, which the list read by walking the
-- whole table backwards.
CREATE INDEX payment_gateway_events_open_flags ON payment_gateway_events (id DESC) WHERE flag_reason <> '' AND resolved_at IS NULL;
--bun:split
CREATE INDEX payment_gateway_events_flags ON payment_gateway_events (id DESC) WHERE flag_reason <> '';
