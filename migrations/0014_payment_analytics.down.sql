DROP TABLE payment_analytics_watermark;
--bun:split
DROP TABLE payment_analytics_days;
--bun:split
DROP INDEX payment_ledger_gateway_created;
--bun:split
DROP INDEX payment_attempt_timeline_paid;
--bun:split
DROP INDEX payment_attempts_updated;
--bun:split
DROP INDEX payment_attempts_analytics;
