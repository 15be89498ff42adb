DROP TABLE invoice_sequence_values;
--bun:split
DROP TABLE invoice_sequences;
--bun:split
DROP TABLE invoice_documents;
