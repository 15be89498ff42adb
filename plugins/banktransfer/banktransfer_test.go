package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kassahq/kassa/plugins/sdk"
	"github.com/kassahq/kassa/plugins/sdk/payment"
	"github.com/kassahq/kassa/plugins/sdk/plugintest"
)

var binary string

func TestMain(m *testing.M) { plugintest.Main(m, ".", &binary) }

const testConfig = `{"account_holder":"Kassa Demo GmbH","iban":"DE89 3704 0044 0532 0130 00","bic":"COBADEFFXXX","bank_name":"Commerzbank"}`

func TestConformance(t *testing.T) {
	plugintest.RunGateway(t, plugintest.GatewayConfig{
		Binary: binary,
		Config: json.RawMessage(testConfig),
		Scenarios: []plugintest.Scenario{
			{Name: "transfer", Want: plugintest.Outcome{Status: payment.StatusPending, Action: payment.ActionInstructions}},
		},
		Unpaid: "transfer",
		// Paid stays empty: a bank transfer is confirmed by staff in Kassa,
		// never by the plugin.
	})
}

func start(t *testing.T, dir string) payment.Gateway {
	t.Helper()
	p := plugintest.Start(t, plugintest.StartConfig{Binary: binary, DataDir: dir, PluginID: ID})
	if res, err := p.Plugin().Configure(context.Background(), json.RawMessage(testConfig)); err != nil || !res.OK() {
		t.Fatalf("Configure: %v %v", res, err)
	}
	gw, err := p.Gateway()
	if err != nil {
		t.Fatal(err)
	}
	return gw
}

func TestInstructions(t *testing.T) {
	t.Parallel()
	gw := start(t, "")
	ctx := context.Background()
	req := payment.CreateRequest{AttemptID: "pay_1", OrderNumber: "#1001", IdempotencyKey: "k1", Amount: sdk.Money{Amount: 4250, Currency: "EUR"}}
	res, err := gw.CreatePayment(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	wantDetails := map[string]string{
		"account_holder": "Kassa Demo GmbH", "iban": "DE89370400440532013000", "bic": "COBADEFFXXX", "bank_name": "Commerzbank",
		"reference": "#1001", "amount": "42.50 EUR", "currency": "EUR",
	}
	if d := cmp.Diff(wantDetails, res.Action.Details); d != "" {
		t.Errorf("details (-want +got):\n%s", d)
	}
	for _, s := range []string{"42.50 EUR", "Kassa Demo GmbH", "DE89 3704 0044 0532 0130 00", "Reference: #1001", "COBADEFFXXX"} {
		if !strings.Contains(res.Action.Instructions, s) {
			t.Errorf("instructions lack %q:\n%s", s, res.Action.Instructions)
		}
	}
	req.AttemptID, req.IdempotencyKey, req.Locale, req.OrderNumber = "pay_2", "k2", "zh-CN", "#1002"
	zh, _ := gw.CreatePayment(ctx, req)
	if !strings.Contains(zh.Action.Instructions, "转账附言请填写：#1002") {
		t.Errorf("zh-CN instructions:\n%s", zh.Action.Instructions)
	}
	// Staff confirm receipt in Kassa: the plugin keeps answering PENDING.
	st, err := gw.GetPayment(ctx, payment.GetRequest{AttemptID: "pay_1"})
	if err != nil || st.Status != payment.StatusPending || st.Amount.Amount != 4250 {
		t.Errorf("GetPayment = %+v, %v", st, err)
	}
	// Manual refund: pending with instructions, over-refund refused as data.
	r, err := gw.Refund(ctx, payment.RefundRequest{RefundID: "ref_1", AttemptID: "pay_1", Amount: sdk.Money{Amount: 1000, Currency: "EUR"}, IdempotencyKey: "r1"})
	if err != nil || r.Status != payment.RefundPending || !strings.Contains(r.Instructions, "10.00 EUR") || !strings.Contains(r.Instructions, "#1001") {
		t.Errorf("Refund = %+v, %v", r, err)
	}
	over, err := gw.Refund(ctx, payment.RefundRequest{RefundID: "ref_2", AttemptID: "pay_1", Amount: sdk.Money{Amount: 4251, Currency: "EUR"}, IdempotencyKey: "r2"})
	if err != nil || over.Status != payment.RefundFailed || over.FailureCode != payment.FailureAmountExceedsCaptured {
		t.Errorf("over-refund = %+v, %v", over, err)
	}
}

func TestSettingsRefused(t *testing.T) {
	t.Parallel()
	p := plugintest.Start(t, plugintest.StartConfig{Binary: binary})
	tests := []struct {
		name, config, field, code string
	}{
		{"bad IBAN checksum", `{"account_holder":"A","iban":"DE00370400440532013000","bank_name":"B"}`, "/iban", "checksum"},
		{"IBAN pattern", `{"account_holder":"A","iban":"not an iban","bank_name":"B"}`, "/iban", "pattern"},
		{"missing bank", `{"account_holder":"A","iban":"DE89370400440532013000"}`, "/bank_name", "required"},
		{"wrong type", `{"account_holder":7,"iban":"DE89370400440532013000","bank_name":"B"}`, "/account_holder", "type"},
	}
	for _, tc := range tests {
		res, err := p.Plugin().Configure(context.Background(), json.RawMessage(tc.config))
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if len(res.Errors) != 1 || res.Errors[0].Field != tc.field || res.Errors[0].Code != tc.code {
			t.Errorf("%s: errors %+v, want one %s on %s", tc.name, res.Errors, tc.code, tc.field)
		}
	}
}

func TestStateSurvivesRestart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	gw := start(t, dir)
	ctx := context.Background()
	req := payment.CreateRequest{AttemptID: "pay_r", OrderNumber: "#7", IdempotencyKey: "kr", Amount: sdk.Money{Amount: 100, Currency: "EUR"}}
	first, _ := gw.CreatePayment(ctx, req)
	if c, err := gw.CancelPayment(ctx, payment.CancelRequest{AttemptID: "pay_r", IdempotencyKey: "c"}); err != nil || c.Status != payment.CancelCanceled {
		t.Fatalf("cancel: %+v %v", c, err)
	}
	gw2 := start(t, dir)
	again, _ := gw2.CreatePayment(ctx, req)
	if again.GatewayRef != first.GatewayRef || again.Action.Instructions != first.Action.Instructions {
		t.Errorf("retry after restart differs: %+v vs %+v", again, first)
	}
	if st, _ := gw2.GetPayment(ctx, payment.GetRequest{AttemptID: "pay_r"}); st.Status != payment.StatusCanceled {
		t.Errorf("after restart GetPayment = %s, want CANCELED", st.Status)
	}
}

func TestValidIBAN(t *testing.T) {
	t.Parallel()
	for iban, want := range map[string]bool{
		"DE89370400440532013000": true, "GB82WEST12345698765432": true, "NL91ABNA0417164300": true,
		"DE89370400440532013001": false, "DE8937": false, "DE89-370400440532013000": false,
	} {
		if got := validIBAN(iban); got != want {
			t.Errorf("validIBAN(%s) = %v, want %v", iban, got, want)
		}
	}
}
