package graphql_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/catalog"
	"github.com/kassahq/kassa/core/money"
	"github.com/kassahq/kassa/core/order"
	"github.com/kassahq/kassa/core/pricing"
	"github.com/kassahq/kassa/core/testkit"
)

const salesQuery = `query($tz: String!, $from: String!, $to: String!) { salesSummary(timeZone: $tz, from: $from, to: $to) {
	timeZone orders paidOrders revenue { amount currencyCode } awaitingShipment unpaid unpaidNearDeadline nearDeadlineSeconds asOf
	days { date start orders paidOrders revenue { amount currencyCode } } } }`

var (
	salesManager = authz.Subject{Kind: authz.KindStaff, ID: "stf_sales_manager", Roles: []string{authz.RoleManager}, Store: authz.DefaultStore}
	salesSupport = authz.Subject{Kind: authz.KindStaff, ID: "stf_sales_support", Roles: []string{authz.RoleSupport}, Store: authz.DefaultStore}
)

// TestSalesSummary places three orders (two paid, in CNY) through the
// order service and reads the dashboard's figures through GraphQL as a
// manager: the counts and revenue equal those of the orders. Roles without
// report read (fulfillment, support), buyers and guests are refused before
// their input is judged; a bad zone, a reversed range, more than a year,
// control characters and a huge zone name are refused with their codes;
// GET answers a guest UNAUTHENTICATED; 300 summaries in one document are
// held by the cost budget.
func TestSalesSummary(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, ta *testkit.TestApp) {
		sys := authz.WithSubject(context.Background(), authz.SystemSubject("test"))
		p, err := ta.Catalog.CreateProduct(sys, catalog.CreateProductInput{Title: "Sales Tea", Status: catalog.StatusActive,
			Variants: []catalog.VariantInput{{SKU: "SALES-1", InventoryQuantity: 10, Prices: []catalog.PriceInput{{Currency: "CNY", Amount: "12.00"}}}}})
		if err != nil {
			t.Fatal(err)
		}
		vs, err := ta.Catalog.VariantsByProductIDs(sys, []string{p.ID})
		if err != nil {
			t.Fatal(err)
		}
		c := func(n int64) money.Money { return money.New(n, money.CNY) }
		guest := authz.WithSubject(context.Background(), authz.AnonymousSubject())
		place := func(cart string, qty int64, paid bool) {
			t.Helper()
			placed, err := ta.Orders.Place(guest, order.PlaceInput{CartID: cart, Email: "s@example.com", Currency: money.CNY,
				Lines: []order.PlaceLine{{VariantID: vs[p.ID][0].ID, ProductID: p.ID, SKU: "SALES-1", ProductTitle: "Sales Tea", Quantity: qty,
					UnitPrice: c(1200), Subtotal: c(1200 * qty), Discount: c(0), Tax: c(0), Total: c(1200 * qty)}},
				Totals: pricing.Totals{Subtotal: c(1200 * qty), DiscountTotal: c(0), Shipping: c(0), Tax: c(0), Total: c(1200 * qty)}})
			if err != nil {
				t.Fatal(err)
			}
			if paid {
				if _, err := ta.Orders.MovePayment(sys, order.PaymentMove{OrderID: placed.Order.ID, From: order.PaymentPending, To: order.PaymentPaid}); err != nil {
					t.Fatal(err)
				}
			}
		}
		place("cart_sales_1", 1, true)
		place("cart_sales_2", 2, true)
		place("cart_sales_3", 3, false)

		// Yesterday and today, so that a midnight passing during the test
		// moves orders between the two days but not out of the range.
		now := time.Now().UTC()
		vars := func(tz, from, to string) map[string]any { return map[string]any{"tz": tz, "from": from, "to": to} }
		ok := vars("UTC", now.AddDate(0, 0, -1).Format(time.DateOnly), now.Format(time.DateOnly))
		testkit.Run(t, ta, []testkit.Scenario{
			{Name: "a manager reads the figures", As: salesManager, Query: salesQuery, Variables: ok, WantEvents: []string{},
				Check: func(t *testing.T, data json.RawMessage) {
					var got struct {
						S struct {
							TimeZone                                     string
							Orders, PaidOrders                           int
							Revenue                                      []struct{ Amount, CurrencyCode string }
							AwaitingShipment, Unpaid, UnpaidNearDeadline int
							NearDeadlineSeconds                          int
							Days                                         []struct {
								Date    string
								Orders  int
								Revenue []struct{ Amount string }
							}
						} `json:"salesSummary"`
					}
					if err := json.Unmarshal(data, &got); err != nil {
						t.Fatal(err)
					}
					s := got.S
					if s.TimeZone != "UTC" || s.Orders != 3 || s.PaidOrders != 2 || len(s.Revenue) != 1 || s.Revenue[0].Amount != "36.00" ||
						s.Revenue[0].CurrencyCode != "CNY" || s.AwaitingShipment != 2 || s.Unpaid != 1 || s.UnpaidNearDeadline != 0 || s.NearDeadlineSeconds != 600 {
						t.Fatalf("summary %s", data)
					}
					if len(s.Days) != 2 || s.Days[0].Orders+s.Days[1].Orders != 3 || s.Days[1].Date != ok["to"] {
						t.Fatalf("days %s", data)
					}
				}},
			{Name: "a guest is refused", Query: salesQuery, Variables: ok, WantErrorCode: "UNAUTHENTICATED"},
			{Name: "a buyer is refused", As: rptBuyer, Query: salesQuery, Variables: ok, WantErrorCode: "FORBIDDEN"},
			{Name: "fulfillment is refused", As: rptFulfillment, Query: salesQuery, Variables: ok, WantErrorCode: "FORBIDDEN"},
			{Name: "support is refused", As: salesSupport, Query: salesQuery, Variables: ok, WantErrorCode: "FORBIDDEN"},
			{Name: "a guest's huge range tells nothing", Query: salesQuery, Variables: vars("UTC", "0001-01-01", "9999-12-31"), WantErrorCode: "UNAUTHENTICATED"},
			{Name: "support's huge range tells nothing", As: salesSupport, Query: salesQuery, Variables: vars("UTC", "0001-01-01", "9999-12-31"), WantErrorCode: "FORBIDDEN"},
			{Name: "ten thousand years", As: salesManager, Query: salesQuery, Variables: vars("UTC", "0001-01-01", "9999-12-31"), WantErrorCode: order.CodeRangeTooLong},
			{Name: "367 days", As: salesManager, Query: salesQuery, Variables: vars("UTC", "2026-01-01", "2027-01-02"), WantErrorCode: order.CodeRangeTooLong},
			{Name: "a reversed range", As: salesManager, Query: salesQuery, Variables: vars("UTC", "2026-01-02", "2026-01-01"), WantErrorCode: order.CodeInvalidRange},
			{Name: "a date that is none", As: salesManager, Query: salesQuery, Variables: vars("UTC", "2026-02-30", "2026-03-01"), WantErrorCode: order.CodeInvalidDate},
			{Name: "an unknown zone", As: salesManager, Query: salesQuery, Variables: vars("Mars/Olympus", "2026-01-01", "2026-01-02"), WantErrorCode: order.CodeInvalidTimeZone},
			{Name: "a huge zone", As: salesManager, Query: salesQuery, Variables: vars(strings.Repeat("A", 5000), "2026-01-01", "2026-01-02"), WantErrorCode: order.CodeInvalidTimeZone},
			{Name: "control characters in the zone", As: salesManager, Query: salesQuery, Variables: vars("UTC\x00", "2026-01-01", "2026-01-02"), WantErrorCode: "INVALID_CHARACTERS"},
		})

		// GET carries queries, with the same refusals.
		if status, body := guestGet(t, ta.URL, salesQuery, `{"tz":"UTC","from":"2026-01-01","to":"2026-01-02"}`); !strings.Contains(body, "UNAUTHENTICATED") || strings.Contains(body, `"days"`) {
			t.Errorf("anonymous GET: %d %s", status, body)
		}

		// Many summaries in one document are held by the cost budget.
		var b strings.Builder
		b.WriteString("query {")
		for i := range 300 {
			fmt.Fprintf(&b, ` a%d: salesSummary(timeZone: "UTC", from: "2026-01-01", to: "2026-12-31") { orders days { date orders } }`, i)
		}
		b.WriteString(" }")
		if res := ta.Exec(salesManager, b.String(), nil); len(res.Errors) == 0 {
			t.Errorf("300 summaries in one document were answered")
		}
	})
}
