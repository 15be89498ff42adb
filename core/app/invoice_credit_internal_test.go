package app

import (
	"testing"

	"github.com/kassahq/kassa/core/money"
	"github.com/kassahq/kassa/core/payment"
)

// A credit note credits what its refund gave back: the lines and shipping
// of a whole refund, and the amount alone for the first part of a refund
// split across payments, which carries the lines but not all the money.
func TestCreditedRefund(t *testing.T) {
	lines := payment.RefundLines{{LineID: "oli_1", Quantity: 2, Amount: 4000}}
	for _, c := range []struct {
		name                  string
		amount, ship, shipTax int64
		lines                 payment.RefundLines
		wantLines             int
		wantShipping          int64
	}{
		{"an amount", 1500, 0, 0, nil, 0, 0},
		{"lines and shipping", 5000, 1000, 0, lines, 1, 1000},
		{"lines, shipping and its tax", 5130, 1000, 130, lines, 1, 1000},
		{"the first part of a split", 3000, 1000, 0, lines, 0, 0},
		{"the first part of a split short of the shipping's tax", 5000, 1000, 130, lines, 0, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := creditedRefund(&payment.Refund{ID: "ref_1", AmountMinor: c.amount, Currency: money.CNY, ShippingMinor: c.ship, ShippingTaxMinor: c.shipTax, Lines: c.lines}, nil)
			if got.Amount.Amount() != c.amount || len(got.Lines) != c.wantLines || got.Shipping.Amount() != c.wantShipping {
				t.Fatalf("credited %+v", got)
			}
			var sum int64
			for _, l := range got.Lines {
				sum += l.Amount.Amount()
			}
			if sum += got.Shipping.Amount() + got.ShippingTax.Amount(); len(got.Lines) > 0 && sum != got.Amount.Amount() {
				t.Fatalf("the note's lines and shipping come to %d, its total %d", sum, got.Amount.Amount())
			}
		})
	}
}
