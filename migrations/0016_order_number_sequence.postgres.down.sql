-- Back to the counter row: it takes the next number the sequence would
-- have handed out, so no number is handed out twice.
UPDATE order_sequences
SET next = (SELECT CASE WHEN is_called THEN last_value + 1 ELSE last_value END FROM order_numbers)
WHERE name = 'orders';
--bun:split
DROP SEQUENCE order_numbers;
