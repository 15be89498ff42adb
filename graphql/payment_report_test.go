package graphql_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/catalog"
	"github.com/kassahq/kassa/core/money"
	"github.com/kassahq/kassa/core/order"
	"github.com/kassahq/kassa/core/payment"
	"github.com/kassahq/kassa/core/plugin"
	"github.com/kassahq/kassa/core/pricing"
	"github.com/kassahq/kassa/core/testkit"
)

// The callers of the report scenarios.
var (
	rptFinance     = authz.Subject{Kind: authz.KindStaff, ID: "stf_rpt_finance", Roles: []string{authz.RoleFinance}, Store: authz.DefaultStore}
	rptFulfillment = authz.Subject{Kind: authz.KindStaff, ID: "stf_rpt_fulfil", Roles: []string{authz.RoleFulfillment}, Store: authz.DefaultStore}
	rptBuyer       = authz.Subject{Kind: authz.KindCustomer, ID: "cus_rpt_buyer", Roles: []string{authz.RoleCustomer}, Store: authz.DefaultStore}
)

const (
	reconciliationQuery = `query($g: String!, $d: String!) { paymentReconciliation(gatewayId: $g, date: $d) {
		gatewayId date from to matched gatewayTransactions kassaMoves ignoredTransactions
		totals { currencyCode captured { amount currencyCode } refunded { amount } captures refunds }
		discrepancies { kind type transactionId attemptId refundId orderId gatewayRef gatewayAmount { amount currencyCode } kassaAmount { amount } occurredAt } } }`
	analyticsQuery = `query($from: DateTime!, $to: DateTime!, $g: PaymentAnalyticsGroup!, $i: PaymentAnalyticsInterval) {
		paymentAnalytics(from: $from, to: $to, groupBy: $g, interval: $i) {
			bucketStart key attempts succeeded failed open successRate failureRate captured { amount currencyCode } medianTimeToPaidSeconds } }`
	zonedAnalyticsQuery = `query($from: DateTime!, $to: DateTime!, $tz: String) {
		paymentAnalytics(from: $from, to: $to, groupBy: GATEWAY, interval: DAY, timeZone: $tz) { bucketStart key attempts } }`
)

// TestPaymentReports runs the two staff reports through GraphQL over
// payments made with the real testpay process: a card paid at once and a
// payment testpay settled without telling Kassa. Staff with payment read
// get the reconciliation (one match, one payment missing in Kassa) and
// the analytics; guests, buyers and staff without the permission are
// refused before their input is judged; bad dates, huge and reversed
// ranges, control characters and long ids are refused with their codes.
func TestPaymentReports(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "testpay")
	build := exec.Command("go", "build", "-o", bin, "../plugins/testpay")
	build.Env = append(build.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build testpay: %v\n%s", err, out)
	}
	testkit.ForEachEngine(t, func(t *testing.T, ta *testkit.TestApp) {
		if now := time.Now().UTC(); now.Add(2*time.Minute).Day() != now.Day() {
			time.Sleep(3 * time.Minute) // one UTC day for the whole test
		}
		paid, silent := reportPayments(t, ta, bin)
		today := time.Now().UTC().Format(time.DateOnly)
		from, to := time.Now().UTC().Add(-24*time.Hour).Format(time.RFC3339), time.Now().UTC().Add(time.Hour).Format(time.RFC3339)
		rec := func(g, d string) map[string]any { return map[string]any{"g": g, "d": d} }
		an := func(from, to, group, interval string) map[string]any {
			return map[string]any{"from": from, "to": to, "g": group, "i": interval}
		}
		zoned := func(tz string) map[string]any { return map[string]any{"from": from, "to": to, "tz": tz} }
		testkit.Run(t, ta, []testkit.Scenario{
			{Name: "finance reconciles the day", As: rptFinance, Query: reconciliationQuery, Variables: rec(testpayID, today), WantEvents: []string{},
				Check: func(t *testing.T, data json.RawMessage) {
					var got struct {
						R struct {
							Date                string
							Matched             int
							GatewayTransactions int
							KassaMoves          int
							Totals              []struct {
								CurrencyCode string
								Captured     struct{ Amount string }
							}
							Discrepancies []struct {
								Kind, Type, AttemptID string
								GatewayAmount         *struct{ Amount string }
								KassaAmount           *struct{ Amount string }
							}
						} `json:"paymentReconciliation"`
					}
					if err := json.Unmarshal(data, &got); err != nil {
						t.Fatal(err)
					}
					r := got.R
					if r.Date != today || r.Matched != 1 || r.GatewayTransactions != 2 || r.KassaMoves != 1 ||
						len(r.Totals) != 1 || r.Totals[0].Captured.Amount != paid.Amount().Decimal() {
						t.Fatalf("report %s", data)
					}
					if len(r.Discrepancies) != 1 || r.Discrepancies[0].Kind != "MISSING_IN_KASSA" || r.Discrepancies[0].Type != "CAPTURE" ||
						r.Discrepancies[0].AttemptID != silent.ID || r.Discrepancies[0].KassaAmount != nil ||
						r.Discrepancies[0].GatewayAmount == nil || r.Discrepancies[0].GatewayAmount.Amount != silent.Amount().Decimal() {
						t.Fatalf("discrepancies %s", data)
					}
				}},
			{Name: "a guest is refused the reconciliation", Query: reconciliationQuery, Variables: rec(testpayID, today), WantErrorCode: "UNAUTHENTICATED"},
			{Name: "a buyer is refused the reconciliation", As: rptBuyer, Query: reconciliationQuery, Variables: rec(testpayID, today), WantErrorCode: "FORBIDDEN"},
			{Name: "fulfillment is refused the reconciliation", As: rptFulfillment, Query: reconciliationQuery, Variables: rec(testpayID, today), WantErrorCode: "FORBIDDEN"},
			{Name: "a guest's bad date tells nothing", Query: reconciliationQuery, Variables: rec(testpayID, "tomorrow"), WantErrorCode: "UNAUTHENTICATED"},
			{Name: "a date that is no date", As: rptFinance, Query: reconciliationQuery, Variables: rec(testpayID, "2026-02-30"), WantErrorCode: payment.CodeInvalidDate},
			{Name: "a date in another format", As: rptFinance, Query: reconciliationQuery, Variables: rec(testpayID, "05.12.2026"), WantErrorCode: payment.CodeInvalidDate},
			{Name: "a day to come", As: rptFinance, Query: reconciliationQuery, Variables: rec(testpayID, "2999-01-01"), WantErrorCode: payment.CodeInvalidDate},
			{Name: "control characters in the date", As: rptFinance, Query: reconciliationQuery, Variables: rec(testpayID, today+"\x00"), WantErrorCode: "INVALID_CHARACTERS"},
			{Name: "a huge gateway id", As: rptFinance, Query: reconciliationQuery, Variables: rec(strings.Repeat("g", 5000), today), WantErrorCode: payment.CodeTooLong},
			{Name: "an unknown gateway", As: rptFinance, Query: reconciliationQuery, Variables: rec("payment.nope", today), WantErrorCode: "PLUGIN_NOT_FOUND"},

			{Name: "finance reads the analytics", As: rptFinance, Query: analyticsQuery, Variables: an(from, to, "GATEWAY", "NONE"), WantEvents: []string{},
				Check: func(t *testing.T, data json.RawMessage) {
					var got struct {
						Rows []struct {
							BucketStart                       *string
							Key                               string
							Attempts, Succeeded, Failed, Open int
							SuccessRate                       float64
							Captured                          []struct{ Amount, CurrencyCode string }
							MedianTimeToPaidSeconds           *float64
						} `json:"paymentAnalytics"`
					}
					if err := json.Unmarshal(data, &got); err != nil {
						t.Fatal(err)
					}
					if len(got.Rows) != 1 {
						t.Fatalf("rows %s", data)
					}
					r := got.Rows[0]
					if r.BucketStart != nil || r.Key != testpayID || r.Attempts != 2 || r.Succeeded != 1 || r.Open != 1 || r.SuccessRate != 0.5 ||
						len(r.Captured) != 1 || r.Captured[0].Amount != paid.Amount().Decimal() || r.MedianTimeToPaidSeconds == nil || *r.MedianTimeToPaidSeconds < 0 {
						t.Fatalf("row %s", data)
					}
				}},
			{Name: "analytics by currency and hour", As: rptFinance, Query: analyticsQuery, Variables: an(from, to, "CURRENCY", "HOUR"),
				Check: func(t *testing.T, data json.RawMessage) {
					if !strings.Contains(string(data), `"key":"CNY"`) || !strings.Contains(string(data), `"bucketStart":"`) {
						t.Fatalf("rows %s", data)
					}
				}},
			{Name: "a guest is refused the analytics", Query: analyticsQuery, Variables: an(from, to, "GATEWAY", "DAY"), WantErrorCode: "UNAUTHENTICATED"},
			{Name: "a buyer is refused the analytics", As: rptBuyer, Query: analyticsQuery, Variables: an(from, to, "GATEWAY", "DAY"), WantErrorCode: "FORBIDDEN"},
			{Name: "a guest's huge range tells nothing", Query: analyticsQuery, Variables: an("1970-01-01T00:00:00Z", "2999-01-01T00:00:00Z", "GATEWAY", "HOUR"), WantErrorCode: "UNAUTHENTICATED"},
			{Name: "more than a year", As: rptFinance, Query: analyticsQuery, Variables: an("1970-01-01T00:00:00Z", "2999-01-01T00:00:00Z", "GATEWAY", "DAY"), WantErrorCode: payment.CodeRangeTooLong},
			{Name: "hours over a year", As: rptFinance, Query: analyticsQuery, Variables: an("2026-01-01T00:00:00Z", "2026-12-01T00:00:00Z", "METHOD", "HOUR"), WantErrorCode: payment.CodeTooManyBuckets},
			{Name: "a reversed range", As: rptFinance, Query: analyticsQuery, Variables: an(to, from, "GATEWAY", "DAY"), WantErrorCode: payment.CodeInvalidRange},
			{Name: "an unknown grouping", As: rptFinance, Query: analyticsQuery, Variables: an(from, to, "ORDER", "DAY"), WantErrorCode: "GRAPHQL_VALIDATION_FAILED"},

			// Days of a time zone: Shanghai's start at 16:00 UTC.
			{Name: "finance reads Shanghai's days", As: rptFinance, Query: zonedAnalyticsQuery, Variables: zoned("Asia/Shanghai"), WantEvents: []string{},
				Check: func(t *testing.T, data json.RawMessage) {
					var got struct {
						Rows []struct {
							BucketStart string
							Attempts    int
						} `json:"paymentAnalytics"`
					}
					if err := json.Unmarshal(data, &got); err != nil {
						t.Fatal(err)
					}
					attempts := 0
					for _, r := range got.Rows {
						attempts += r.Attempts
						if !strings.HasSuffix(r.BucketStart, "T16:00:00Z") {
							t.Errorf("a Shanghai day starts at %s", r.BucketStart)
						}
					}
					if len(got.Rows) == 0 || attempts != 2 {
						t.Fatalf("rows %s", data)
					}
				}},
			{Name: "no time zone is UTC", As: rptFinance, Query: zonedAnalyticsQuery, Variables: map[string]any{"from": from, "to": to},
				Check: func(t *testing.T, data json.RawMessage) {
					if !strings.Contains(string(data), `T00:00:00Z"`) || strings.Contains(string(data), `T16:00:00Z"`) {
						t.Fatalf("rows %s", data)
					}
				}},
			{Name: "fulfillment is refused Shanghai's days", As: rptFulfillment, Query: zonedAnalyticsQuery, Variables: zoned("Asia/Shanghai"), WantErrorCode: "FORBIDDEN"},
			{Name: "a guest's bad time zone tells nothing", Query: zonedAnalyticsQuery, Variables: zoned("Mars/Olympus_Mons"), WantErrorCode: "UNAUTHENTICATED"},
			{Name: "a time zone that is none", As: rptFinance, Query: zonedAnalyticsQuery, Variables: zoned("Mars/Olympus_Mons"), WantErrorCode: payment.CodeInvalidTimeZone},
			{Name: "the server's own zone", As: rptFinance, Query: zonedAnalyticsQuery, Variables: zoned("Local"), WantErrorCode: payment.CodeInvalidTimeZone},
			{Name: "a path for a time zone", As: rptFinance, Query: zonedAnalyticsQuery, Variables: zoned("../../../etc/passwd"), WantErrorCode: payment.CodeInvalidTimeZone},
			{Name: "a huge time zone", As: rptFinance, Query: zonedAnalyticsQuery, Variables: zoned(strings.Repeat("Asia/", 1000)), WantErrorCode: payment.CodeInvalidTimeZone},
			{Name: "control characters in the time zone", As: rptFinance, Query: zonedAnalyticsQuery, Variables: zoned("Asia/Shanghai\x00"), WantErrorCode: "INVALID_CHARACTERS"},
		})

		// A date that is not RFC 3339 is refused by the schema, before
		// any resolver.
		res := ta.Exec(rptFinance, analyticsQuery, an("yesterday", to, "GATEWAY", "DAY"))
		if len(res.Errors) == 0 || strings.Contains(string(res.Data), "paymentAnalytics") {
			t.Errorf("a bad DateTime: %s %v", res.Data, res.Errors)
		}

		// GET carries queries, with the same refusals.
		for _, q := range [][2]string{
			{analyticsQuery, `{"from":"` + from + `","to":"` + to + `","g":"GATEWAY"}`},
			{zonedAnalyticsQuery, `{"from":"` + from + `","to":"` + to + `","tz":"Asia/Shanghai"}`},
		} {
			if status, body := guestGet(t, ta.URL, q[0], q[1]); !strings.Contains(body, "UNAUTHENTICATED") || strings.Contains(body, testpayID) {
				t.Errorf("anonymous GET: %d %s", status, body)
			}
		}

		// Many reports in one document are held by the cost budget
		// like any other fields, not answered hundreds of times.
		var b strings.Builder
		b.WriteString("query($from: DateTime!, $to: DateTime!) {")
		for i := range 300 {
			fmt.Fprintf(&b, " a%d: paymentAnalytics(from: $from, to: $to, groupBy: GATEWAY) { key attempts }", i)
		}
		b.WriteString(" }")
		res = ta.Exec(rptFinance, b.String(), map[string]any{"from": from, "to": to})
		if len(res.Errors) == 0 {
			t.Errorf("300 analytics in one document were answered")
		}
	})
}

// reportPayments pays one order with a card at once and one in testpay's
// never_notify scenario (testpay settles it, Kassa is not told), through
// the services; it returns both attempts.
func reportPayments(t *testing.T, ta *testkit.TestApp, bin string) (paid, silent *payment.Attempt) {
	t.Helper()
	sys := authz.WithSubject(context.Background(), authz.SystemSubject("test"))
	listStorefront(t, ta)
	if _, err := ta.Plugins.Install(sys, bin, plugin.InstallOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := ta.Plugins.UpdateSettings(sys, testpayID, []byte(`{"webhook_secret":"whsec_reports_0123456789","async_delay_ms":10}`)); err != nil {
		t.Fatal(err)
	}
	if _, err := ta.Plugins.Enable(sys, testpayID); err != nil {
		t.Fatal(err)
	}
	p, err := ta.Catalog.CreateProduct(sys, catalog.CreateProductInput{Title: "Report Tea", Status: catalog.StatusActive,
		Variants: []catalog.VariantInput{{SKU: "RPT-1", InventoryQuantity: 10, Prices: []catalog.PriceInput{{Currency: "CNY", Amount: "12.00"}}}}})
	if err != nil {
		t.Fatal(err)
	}
	vs, err := ta.Catalog.VariantsByProductIDs(sys, []string{p.ID})
	if err != nil {
		t.Fatal(err)
	}
	c := func(n int64) money.Money { return money.New(n, money.CNY) }
	guestCtx := authz.WithSubject(context.Background(), authz.AnonymousSubject())
	pay := func(cart, card string, qty int64) *payment.Attempt {
		t.Helper()
		placed, err := ta.Orders.Place(guestCtx, order.PlaceInput{CartID: cart, Email: "r@example.com", Currency: money.CNY,
			Lines: []order.PlaceLine{{VariantID: vs[p.ID][0].ID, ProductID: p.ID, SKU: "RPT-1", ProductTitle: "Report Tea", Quantity: qty,
				UnitPrice: c(1200), Subtotal: c(1200 * qty), Discount: c(0), Tax: c(0), Total: c(1200 * qty)}},
			Totals: pricing.Totals{Subtotal: c(1200 * qty), DiscountTotal: c(0), Shipping: c(0), Tax: c(0), Total: c(1200 * qty)}})
		if err != nil {
			t.Fatal(err)
		}
		a, err := ta.Payments.Create(guestCtx, payment.CreateInput{AccessToken: placed.AccessToken, GatewayID: testpayID,
			ReturnURL: "https://shop.example/r", PaymentMethod: card})
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	paid = pay("cart_rpt_1", "4242424242424242", 1)
	silent = pay("cart_rpt_2", "4000000000000036", 2)
	if paid.State != payment.StateCaptured || silent.State != payment.StatePending {
		t.Fatalf("payments: %s, %s", paid.State, silent.State)
	}
	time.Sleep(300 * time.Millisecond) // testpay settles after async_delay_ms
	return paid, silent
}
