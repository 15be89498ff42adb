-- A refund of the shipping in a shop whose prices exclude tax gives back
-- the shipping's tax with it (core/payment refund.go): shipping_amount
-- stays the part of the shipping's price, shipping_tax_amount is the tax
-- given back with it, so that a credit note shows the tax it corrects.
-- Zero for refunds before, which gave back no tax of the shipping.
ALTER TABLE payment_refunds ADD COLUMN shipping_tax_amount BIGINT NOT NULL DEFAULT 0;
