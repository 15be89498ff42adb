DROP INDEX api_keys_creator;
--bun:split
ALTER TABLE api_keys DROP COLUMN creator_staff_id;
