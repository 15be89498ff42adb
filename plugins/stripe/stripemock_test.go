package main

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/kassahq/kassa/plugins/sdk"
	"github.com/kassahq/kassa/plugins/sdk/payment"
)

// stripeMockBinary finds stripe-mock (go install
// github.com/stripe/stripe-mock@v0.203.0; .ci/run installs it).
func stripeMockBinary() string {
	if p, err := exec.LookPath("stripe-mock"); err == nil {
		return p
	}
	gopath := os.Getenv("GOPATH")
	if gopath == "" {
		if home, err := os.UserHomeDir(); err == nil {
			gopath = filepath.Join(home, "go")
		}
	}
	p := filepath.Join(gopath, "bin", "stripe-mock")
	if _, err := os.Stat(p); err == nil {
		return p
	}
	return ""
}

// startStripeMock runs Stripe's official mock on a loopback port and
// returns its base URL.
func startStripeMock(t *testing.T) string {
	t.Helper()
	bin := stripeMockBinary()
	if bin == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("stripe-mock is not installed; .ci/run installs it with go install github.com/stripe/stripe-mock@v0.203.0")
		}
		t.Skip("stripe-mock is not installed (go install github.com/stripe/stripe-mock@v0.203.0)")
	}
	cmd := exec.Command(bin, "-http-addr", "127.0.0.1:")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	addr := make(chan string, 1)
	go func() {
		re := regexp.MustCompile(`Listening for HTTP at address: (127\.0\.0\.1:\d+)`)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				addr <- m[1]
			}
		}
	}()
	select {
	case a := <-addr:
		return "http://" + a
	case <-time.After(20 * time.Second):
		t.Fatal("stripe-mock did not start listening")
	}
	return ""
}

// TestAgainstStripeMock sends the plugin's requests to stripe-mock, which
// checks every parameter against Stripe's OpenAPI specification and
// answers with Stripe's fixtures: a misspelt or misplaced parameter is a
// 400 there. stripe-mock is stateless (its fixtures are fixed objects), so
// the lifecycle is the sandbox's job; this test is about shapes.
func TestAgainstStripeMock(t *testing.T) {
	base := startStripeMock(t)
	gw, _ := New("")
	res, err := gw.Configure(sdk.WithAllowPrivateNetworks(context.Background(), true), settingsFor(base, map[string]any{"secret_key": "sk_test_123stripeMockKey000"}))
	if err != nil || !res.OK() {
		t.Fatalf("Configure: %+v %v", res, err)
	}
	ctx := context.Background()
	if h, err := gw.Health(ctx); err != nil || h.Status != sdk.HealthServing {
		t.Fatalf("Health = %+v, %v", h, err)
	}
	req := payment.CreateRequest{AttemptID: "pay_mock_1", OrderID: "ord_1", OrderNumber: "#1001", IdempotencyKey: "pay_mock_1",
		Amount: eur(1999), BuyerEmail: "buyer@example.com", Locale: "zh-CN", ReturnURL: "https://shop.example/return",
		Description: "Order #1001", ExpiresAt: time.Now().Add(2 * time.Hour)}
	for _, m := range []string{MethodElement, "pm_card_visa", MethodCheckout} {
		req.PaymentMethod, req.AttemptID = m, "pay_mock_"+m
		req.IdempotencyKey = req.AttemptID
		got, err := gw.CreatePayment(ctx, req)
		if err != nil {
			t.Fatalf("CreatePayment(%s): %v", m, err)
		}
		// stripe-mock's fixture PaymentIntent carries a last_payment_error,
		// so a server-side confirmation reads as a decline; a request
		// refused by the specification has no PaymentIntent at all.
		if got.GatewayRef == "" || strings.Contains(got.MerchantMessage, "refused") {
			t.Fatalf("CreatePayment(%s) refused by stripe-mock (a request Stripe's specification rejects): %+v", m, got)
		}
		wantPrefix := "pi_"
		if m == MethodCheckout {
			wantPrefix = "cs_"
		}
		if !strings.HasPrefix(got.GatewayRef, wantPrefix) {
			t.Errorf("CreatePayment(%s) ref %q", m, got.GatewayRef)
		}
		if m == MethodElement && (got.Action.Type != payment.ActionClientSecret || got.Action.ClientSecret == "") {
			t.Errorf("Payment Element action %+v", got.Action)
		}
		st, err := gw.GetPayment(ctx, payment.GetRequest{AttemptID: req.AttemptID, GatewayRef: got.GatewayRef})
		if err != nil || st.Status == payment.StatusUnknown || st.Status == payment.StatusNotFound {
			t.Errorf("GetPayment(%s) = %+v, %v", m, st, err)
		}
		if m == MethodElement {
			out, err := gw.CancelPayment(ctx, payment.CancelRequest{AttemptID: req.AttemptID, GatewayRef: got.GatewayRef, IdempotencyKey: "c"})
			if err != nil || out.Status == payment.CancelUnknown {
				t.Errorf("CancelPayment = %+v, %v", out, err)
			}
		}
	}
	// Capture and refund: stripe-mock's fixture intent is in no state the
	// plugin would capture or refund, so their requests are sent as the
	// plugin builds them.
	sc := gw.cfg.Load().sc
	if _, err := sc.V1PaymentIntents.Capture(ctx, "pi_123", captureParams(1999, "cap_1", "pay_mock_1")); err != nil {
		t.Errorf("capture request refused by stripe-mock: %v", err)
	}
	if _, err := sc.V1Refunds.Create(ctx, refundParams("pi_123", 500, payment.RefundRequest{RefundID: "ref_1", AttemptID: "pay_mock_1",
		Reason: "requested_by_customer", IdempotencyKey: "ref_1"})); err != nil {
		t.Errorf("refund request refused by stripe-mock: %v", err)
	}
	// Search (GetPayment with the attempt id only, from a plugin that
	// lost its journal) and the refunds list.
	fresh, _ := New("")
	_, _ = fresh.Configure(sdk.WithAllowPrivateNetworks(context.Background(), true), settingsFor(base, map[string]any{"secret_key": "sk_test_123stripeMockKey000"}))
	if _, err := fresh.GetPayment(ctx, payment.GetRequest{AttemptID: "pay_mock_lost"}); err != nil {
		t.Errorf("GetPayment through search: %v", err)
	}
	if _, err := gw.GetRefund(ctx, payment.GetRefundRequest{RefundID: "ref_1", AttemptID: "pay_mock_pm_card_visa"}); err != nil {
		t.Errorf("GetRefund through the refunds list: %v", err)
	}
	if _, err := gw.GetRefund(ctx, payment.GetRefundRequest{RefundID: "ref_1", GatewayRefundRef: "re_123"}); err != nil {
		t.Errorf("GetRefund by id: %v", err)
	}
}
