DROP INDEX inventory_adjustments_reference;
--bun:split
ALTER TABLE inventory_adjustments DROP COLUMN reference;
--bun:split
ALTER TABLE inventory_adjustments DROP COLUMN reserved_delta;
