DROP INDEX carts_retired_touched;
--bun:split
DROP INDEX carts_buyer_touched;
--bun:split
DROP INDEX carts_guest_touched;
--bun:split
ALTER TABLE carts DROP COLUMN touched_at;
