package invoice

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/kassahq/kassa/plugins/sdk"
)

func TestOrderRoundTrip(t *testing.T) {
	t.Parallel()
	m := func(a int64) sdk.Money { return sdk.Money{Amount: a, Currency: "EUR"} }
	party := func(n string) Party {
		return Party{Name: n, Company: n + " GmbH", TaxID: "DE123", Email: n + "@x", Phone: "+49",
			Address: Address{Lines: []string{"Main St 1"}, City: "Berlin", PostalCode: "10115", Region: "BE", Country: "DE"}}
	}
	o := Order{
		ID: "ord_1", Number: "#1", StoreID: "st_1", Currency: "EUR", PlacedAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		Lines: []OrderLine{{ID: "l1", SKU: "TEA", Name: "Tea", Quantity: 2, UnitPrice: m(500), Discount: m(50), TaxRate: "7",
			Tax: m(63), Total: m(950), PricesIncludeTax: true}},
		Taxes:  []TaxLine{{Name: "VAT", Rate: "7", Base: m(887), Amount: m(63)}},
		Totals: Totals{Subtotal: m(1000), Discount: m(50), Shipping: m(490), Tax: m(95), Total: m(1440), Paid: m(1440), Refunded: m(0)},
		Seller: party("seller"), Buyer: party("buyer"), PaymentStatus: "PAID", FulfillmentStatus: "FULFILLED", Locale: "de",
		Metadata: map[string]string{"k": "v"},
	}
	got := orderFromPB(orderToPB(o))
	// 0 EUR keeps its currency (only the zero value travels as nil).
	if d := cmp.Diff(o, got); d != "" {
		t.Errorf("Order (-want +got):\n%s", d)
	}
	for _, k := range []DocumentKind{DocumentInvoice, DocumentCreditNote} {
		if kindFromPB(kindToPB(k)) != k {
			t.Errorf("kind %s lost", k)
		}
	}
}
