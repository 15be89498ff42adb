package app

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kassahq/kassa/core/invoice"
	"github.com/kassahq/kassa/core/money"
	"github.com/kassahq/kassa/core/order"
	"github.com/kassahq/kassa/core/payment"
)

// An invoice states the rate the order was taxed at, on every line and
// in its tax breakdown, which holds all of the order's tax (the
// shipping's too): subtotal, shipping and tax come to the total.
func TestInvoiceOrderStatesTheRate(t *testing.T) {
	// 2 × 10.00 with 13 % VAT added (2.60), 10.00 shipping (1.30).
	d := &order.Detail{
		Order: &order.Order{ID: "ord_1", Number: "#1001", Currency: money.CNY, SubtotalAmount: 2000, ShippingAmount: 1000,
			TaxAmount: 390, TotalAmount: 3390, TaxName: "VAT", TaxBasisPoints: 1300},
		Lines: []*order.Line{{ID: "oli_1", ProductTitle: "Oolong", Quantity: 2, UnitPriceAmount: 1000, SubtotalAmount: 2000,
			TaxAmount: 260, TotalAmount: 2260}},
	}
	got := invoiceOrder(d, payment.Amounts{})
	want := []invoice.TaxLine{{Name: "VAT", Rate: "13", Base: money.New(3000, money.CNY), Amount: money.New(390, money.CNY)}}
	if diff := cmp.Diff(want, got.Taxes, cmp.AllowUnexported(money.Money{})); diff != "" {
		t.Errorf("tax breakdown (-want +got):\n%s", diff)
	}
	if got.Lines[0].TaxRate != "13" {
		t.Errorf("line tax rate %q, want 13", got.Lines[0].TaxRate)
	}
	if tt := got.Totals; tt.Subtotal.Amount()+tt.Shipping.Amount()+tt.Tax.Amount() != tt.Total.Amount() {
		t.Errorf("totals %+v do not add up", tt)
	}

	// An order placed before the rate was kept: all of its tax, no rate.
	d.Order.TaxName, d.Order.TaxBasisPoints = "", 0
	if got := invoiceOrder(d, payment.Amounts{}); got.Taxes[0].Name != "Tax" || got.Taxes[0].Rate != "" || got.Taxes[0].Amount.Amount() != 390 {
		t.Errorf("without a rate: %+v", got.Taxes)
	}
}
