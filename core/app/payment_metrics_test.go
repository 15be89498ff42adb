package app_test

import (
	"context"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kassahq/kassa/core/app"
	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/catalog"
	"github.com/kassahq/kassa/core/money"
	"github.com/kassahq/kassa/core/order"
	"github.com/kassahq/kassa/core/payment"
	"github.com/kassahq/kassa/core/plugin"
	"github.com/kassahq/kassa/core/pricing"
	"github.com/kassahq/kassa/core/testkit"
)

// TestPaymentMetrics: /metrics counts payment outcomes per gateway (a
// card paid, a card declined, both through the real testpay process)
// and notifications per result; a notification to an unknown gateway
// adds no series.
func TestPaymentMetrics(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "testpay")
	build := exec.Command("go", "build", "-o", bin, "../../plugins/testpay")
	build.Env = append(build.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build testpay: %v\n%s", err, out)
	}
	testkit.ForEachEngine(t, func(t *testing.T, ta *testkit.TestApp) {
		ctx := context.Background()
		sys := authz.WithSubject(ctx, authz.SystemSubject("test"))
		if _, err := ta.Plugins.Install(sys, bin, plugin.InstallOptions{}); err != nil {
			t.Fatal(err)
		}
		if _, err := app.SetUpDemoPlugins(ctx, ta.Plugins); err != nil {
			t.Fatal(err)
		}
		p, err := ta.Catalog.CreateProduct(sys, catalog.CreateProductInput{Title: "Oolong", Status: catalog.StatusActive,
			Variants: []catalog.VariantInput{{SKU: "TEA-M", InventoryQuantity: 10, Prices: []catalog.PriceInput{{Currency: "CNY", Amount: "10.00"}}}}})
		if err != nil {
			t.Fatal(err)
		}
		vs, err := ta.Catalog.VariantsByProductIDs(sys, []string{p.ID})
		if err != nil {
			t.Fatal(err)
		}
		cny := func(n int64) money.Money { return money.New(n, money.CNY) }
		guest := authz.WithSubject(ctx, authz.AnonymousSubject())
		pay := func(cart, card string) *payment.Attempt {
			t.Helper()
			placed, err := ta.Orders.Place(guest, order.PlaceInput{CartID: cart, Email: "m@example.com", Currency: money.CNY,
				Lines: []order.PlaceLine{{VariantID: vs[p.ID][0].ID, ProductID: p.ID, SKU: "TEA-M", ProductTitle: "Oolong", Quantity: 1,
					UnitPrice: cny(1000), Subtotal: cny(1000), Discount: cny(0), Tax: cny(0), Total: cny(1000)}},
				Totals: pricing.Totals{Subtotal: cny(1000), DiscountTotal: cny(0), Shipping: cny(0), Tax: cny(0), Total: cny(1000)}})
			if err != nil {
				t.Fatal(err)
			}
			a, err := ta.Payments.Create(guest, payment.CreateInput{AccessToken: placed.AccessToken, GatewayID: "payment.testpay",
				ReturnURL: ta.Config.BaseURL() + "/r", PaymentMethod: card})
			if err != nil {
				t.Fatal(err)
			}
			return a
		}
		if a := pay("cart_m1", "4242424242424242"); a.State != payment.StateCaptured {
			t.Fatalf("paid: %s", a.State)
		}
		if a := pay("cart_m2", "4000000000000002"); a.State != payment.StateFailed {
			t.Fatalf("declined: %s", a.State)
		}
		for _, gw := range []string{"payment.testpay", "payment.nope"} {
			resp, err := http.Post(ta.URL+app.WebhookPath+gw, "application/json", strings.NewReader(`{"id":"evt_forged"}`))
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode < 400 {
				t.Fatalf("a forged notification to %s: %d", gw, resp.StatusCode)
			}
		}

		text := metricsText(t, ta)
		for _, line := range []string{
			`kassa_payment_attempts_total{gateway="payment.testpay",outcome="captured"} 1`,
			`kassa_payment_attempts_total{gateway="payment.testpay",outcome="failed"} 1`,
			`kassa_payment_webhooks_total{gateway="payment.testpay",result="rejected"} 1`,
		} {
			if !strings.Contains(text, line+"\n") {
				t.Errorf("/metrics lacks %s", line)
			}
		}
		if strings.Contains(text, "payment.nope") {
			t.Error("/metrics counts a gateway that does not exist")
		}
	})
}
