ALTER TABLE plugins DROP COLUMN descriptions;
--bun:split
ALTER TABLE plugins DROP COLUMN display_names;
--bun:split
DROP INDEX payment_attempts_failover;
--bun:split
ALTER TABLE payment_attempts DROP COLUMN failover_of;
--bun:split
ALTER TABLE payment_attempts DROP COLUMN method;
--bun:split
DROP TABLE payment_routes;
