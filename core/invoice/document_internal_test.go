package invoice

import (
	"testing"

	"github.com/kassahq/kassa/core/money"
)

// A credit note adds up as its invoice does, where tax was added to the
// prices: the lines' prices net of their tax, the shipping, and all the
// tax given back (the lines' share and the shipping's) come to the total
// credited, and its tax breakdown is all of that tax. A refund of an
// amount credits the order's tax in proportion.
func TestCreditNoteAddsUp(t *testing.T) {
	m := func(n int64) money.Money { return money.New(n, money.CNY) }
	// 2 units at 10.00 with 13 % tax added (2.60), 10.00 shipping (1.30).
	o := &Order{ID: "ord_1", Number: "#1001", Currency: money.CNY,
		Lines:  []Line{{ID: "oli_1", Name: "Oolong", Quantity: 2, UnitPrice: m(1000), Discount: m(0), Tax: m(260), Total: m(2260)}},
		Totals: Totals{Subtotal: m(2000), Discount: m(0), Shipping: m(1000), Tax: m(390), Total: m(3390)}}
	for _, c := range []struct {
		name                    string
		refund                  *Refund
		subtotal, shipping, tax int64
	}{
		{"a unit and the shipping", &Refund{ID: "ref_1", Amount: m(1130 + 1130), Shipping: m(1000), ShippingTax: m(130),
			Lines: []RefundLine{{LineID: "oli_1", Quantity: 1, Amount: m(1130)}}}, 1000, 1000, 130 + 130},
		{"the whole order", &Refund{ID: "ref_2", Amount: m(3390), Shipping: m(1000), ShippingTax: m(130),
			Lines: []RefundLine{{LineID: "oli_1", Quantity: 2, Amount: m(2260)}}}, 2000, 1000, 390},
		// 5.00 of 33.90 carries 5.00 × 3.90 / 33.90 = 0.575 of tax.
		{"an amount", &Refund{ID: "ref_3", Amount: m(500), Shipping: m(0), ShippingTax: m(0)}, 0, 0, 58},
	} {
		t.Run(c.name, func(t *testing.T) {
			d := documentOrder(o, KindCreditNote, c.refund)
			tt := d.Totals
			if tt.Subtotal.Amount() != c.subtotal || tt.Shipping.Amount() != c.shipping || tt.Tax.Amount() != c.tax || tt.Total != c.refund.Amount {
				t.Fatalf("totals %+v; want subtotal %d, shipping %d, tax %d, total %s", tt, c.subtotal, c.shipping, c.tax, c.refund.Amount)
			}
			if len(d.Lines) > 0 && tt.Subtotal.Amount()+tt.Shipping.Amount()+tt.Tax.Amount() != tt.Total.Amount() {
				t.Fatalf("subtotal, shipping and tax come to %d, the total is %s", tt.Subtotal.Amount()+tt.Shipping.Amount()+tt.Tax.Amount(), tt.Total)
			}
			var tax, base int64
			for _, l := range d.Taxes {
				tax, base = tax+l.Amount.Amount(), base+l.Base.Amount()
			}
			if tax != c.tax || base+tax != tt.Total.Amount() {
				t.Fatalf("tax breakdown %+v for tax %d of %s", d.Taxes, c.tax, tt.Total)
			}
		})
	}
}

// A line refunded a unit at a time is credited its whole tax: the last
// unit's note carries what rounding left, as the refund's amount did.
func TestCreditNotesOfALineAddUpToItsTax(t *testing.T) {
	m := func(n int64) money.Money { return money.New(n, money.CNY) }
	// 3 units at 0.10 with 13 % tax added: 0.30 and 0.04 of tax, 0.34.
	o := &Order{ID: "ord_1", Number: "#1001", Currency: money.CNY,
		Lines:  []Line{{ID: "oli_1", Name: "Sample", Quantity: 3, UnitPrice: m(10), Discount: m(0), Tax: m(4), Total: m(34)}},
		Totals: Totals{Subtotal: m(30), Discount: m(0), Shipping: m(0), Tax: m(4), Total: m(34)}}
	var taxes []int64
	var tax, credited int64
	for i, amount := range []int64{11, 11, 12} {
		d := documentOrder(o, KindCreditNote, &Refund{ID: "ref", Amount: m(amount), Shipping: m(0), ShippingTax: m(0),
			Lines: []RefundLine{{LineID: "oli_1", Quantity: 1, Amount: m(amount), Before: int64(i)}}})
		taxes = append(taxes, d.Totals.Tax.Amount())
		tax, credited = tax+d.Totals.Tax.Amount(), credited+d.Totals.Subtotal.Amount()+d.Totals.Tax.Amount()
	}
	if tax != 4 || credited != 34 {
		t.Fatalf("credit notes' tax %v (sum %d), credited %d; want the line's 4 and 34", taxes, tax, credited)
	}
}
