-- API keys answer to a staff member: the one who created the key, or for a
-- key created with another key, that key's staff member. Disabling the
-- member revokes their keys, and a key stops working while its member is
-- disabled. NULL for keys made by the system (the command line) and for
-- older keys that cannot be traced to a staff member; those keep working.
ALTER TABLE api_keys ADD COLUMN creator_staff_id TEXT;
--bun:split
CREATE INDEX api_keys_creator ON api_keys (creator_staff_id) WHERE creator_staff_id IS NOT NULL;
--bun:split
-- Trace the existing keys through created_by (the subject that made them):
-- a staff member directly, or a chain of keys ending at one.
WITH RECURSIVE origin (id, staff_id) AS (
    SELECT k.id, s.id FROM api_keys k JOIN staff_members s ON s.id = k.created_by
    UNION
    SELECT k.id, o.staff_id FROM api_keys k JOIN origin o ON o.id = k.created_by
)
UPDATE api_keys SET creator_staff_id = (SELECT o.staff_id FROM origin o WHERE o.id = api_keys.id)
WHERE id IN (SELECT id FROM origin);
