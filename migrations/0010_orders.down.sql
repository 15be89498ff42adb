DROP TABLE order_timeline;
--bun:split
DROP TABLE order_notes;
--bun:split
DROP TABLE order_shipment_lines;
--bun:split
DROP TABLE order_shipments;
--bun:split
DROP TABLE order_lines;
--bun:split
DROP TABLE orders;
--bun:split
DROP TABLE order_sequences;
