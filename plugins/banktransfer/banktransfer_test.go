package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
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
	return startWith(t, dir, testConfig)
}

// startWith is start with the given settings.
func startWith(t *testing.T, dir, config string) payment.Gateway {
	t.Helper()
	p := plugintest.Start(t, plugintest.StartConfig{Binary: binary, DataDir: dir, PluginID: ID})
	if res, err := p.Plugin().Configure(context.Background(), json.RawMessage(config)); err != nil || !res.OK() {
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
	if !strings.Contains(zh.Action.Instructions, "转账附言请填写：#1002") || !strings.Contains(zh.Action.Instructions, "请将 42.50 EUR 转账至") {
		t.Errorf("zh-CN instructions:\n%s", zh.Action.Instructions)
	}
	// Yuan read as the checkout shows them.
	req.AttemptID, req.IdempotencyKey, req.OrderNumber, req.Amount.Currency = "pay_3", "k3", "#1003", "CNY"
	if cny, _ := gw.CreatePayment(ctx, req); !strings.Contains(cny.Action.Instructions, "请将 ¥42.50 转账至") {
		t.Errorf("zh-CN instructions in yuan:\n%s", cny.Action.Instructions)
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
		{"no account", `{"account_holder":"A","bank_name":"B"}`, "/account_number", "required"},
		{"an IBAN and an account number", `{"account_holder":"A","iban":"DE89370400440532013000","account_number":"6214830012345678","bank_name":"B"}`, "/account_number", "one_of"},
		{"letters in an account number", `{"account_holder":"A","account_number":"6214-8300-ABCD-5678","bank_name":"B"}`, "/account_number", "pattern"},
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
	refund := payment.RefundRequest{RefundID: "ref_r", AttemptID: "pay_r", Amount: sdk.Money{Amount: 40, Currency: "EUR"}, IdempotencyKey: "rr"}
	r1, err := gw.Refund(ctx, refund)
	if err != nil || r1.Status != payment.RefundPending {
		t.Fatalf("refund: %+v %v", r1, err)
	}
	gw2 := start(t, dir)
	again, _ := gw2.CreatePayment(ctx, req)
	if again.GatewayRef != first.GatewayRef || again.Action.Instructions != first.Action.Instructions {
		t.Errorf("retry after restart differs: %+v vs %+v", again, first)
	}
	// The idempotency key is remembered too: the same key for another
	// attempt id answers the first transfer.
	other := req
	other.AttemptID = "pay_other"
	if byKey, _ := gw2.CreatePayment(ctx, other); byKey.GatewayRef != first.GatewayRef {
		t.Errorf("same key after restart made %q, want %q", byKey.GatewayRef, first.GatewayRef)
	}
	if st, _ := gw2.GetPayment(ctx, payment.GetRequest{AttemptID: "pay_r"}); st.Status != payment.StatusCanceled {
		t.Errorf("after restart GetPayment = %s, want CANCELED", st.Status)
	}
	if st, _ := gw2.GetPayment(ctx, payment.GetRequest{GatewayRef: first.GatewayRef}); st.Status != payment.StatusCanceled {
		t.Errorf("after restart GetPayment by ref = %s, want CANCELED", st.Status)
	}
	if r, err := gw2.GetRefund(ctx, payment.GetRefundRequest{RefundID: "ref_r"}); err != nil || r.Status != payment.RefundPending || r.Instructions != r1.Instructions {
		t.Errorf("after restart GetRefund = %+v %v, want %+v", r, err, r1)
	}
	// A repeated refund id answers the first refund, even with another amount.
	refund.Amount.Amount = 60
	if r, _ := gw2.Refund(ctx, refund); r.Amount.Amount != 40 || r.GatewayRefundRef != r1.GatewayRefundRef {
		t.Errorf("repeated refund after restart = %+v, want the first", r)
	}
}

// TestLegacyStateFolded: the whole-state file of earlier builds is read once into the
// journals and removed; its transfers, keys and refunds are all kept.
func TestLegacyStateFolded(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	legacy := `{
 "transfers": {"pay_old": {"attempt_id": "pay_old", "ref": "bt_pay_old", "reference": "#9", "amount": 500, "currency": "EUR",
   "status": "PENDING", "created_at": "2026-01-02T03:04:05Z",
   "created": {"Status": 1, "GatewayRef": "bt_pay_old", "MerchantMessage": "awaiting bank transfer with reference #9"}}},
 "keys": {"k_old": "pay_old"},
 "refunds": {"ref_old": {"id": "ref_old", "attempt_id": "pay_old", "result": {"Status": 1, "GatewayRefundRef": "btr_ref_old"}}}
}`
	if err := os.WriteFile(filepath.Join(dir, legacyStateFile), []byte(legacy), 0o600); err != nil {
		t.Fatal(err)
	}
	g, err := New(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, legacyStateFile)); !os.IsNotExist(err) {
		t.Errorf("legacy file still there: %v", err)
	}
	check := func(g *Gateway) {
		t.Helper()
		ctx := context.Background()
		g.cfg.Store(&settings{AccountHolder: "A", IBAN: "DE89370400440532013000", BankName: "B"})
		st, err := g.GetPayment(ctx, payment.GetRequest{AttemptID: "pay_old"})
		if err != nil || st.Status != payment.StatusPending || st.Amount.Amount != 500 || st.GatewayRef != "bt_pay_old" {
			t.Errorf("GetPayment = %+v %v", st, err)
		}
		res, err := g.CreatePayment(ctx, payment.CreateRequest{AttemptID: "pay_new", IdempotencyKey: "k_old", Amount: sdk.Money{Amount: 1, Currency: "EUR"}})
		if err != nil || res.GatewayRef != "bt_pay_old" {
			t.Errorf("CreatePayment with the old key = %+v %v, want bt_pay_old", res, err)
		}
		r, err := g.GetRefund(ctx, payment.GetRefundRequest{RefundID: "ref_old"})
		if err != nil || r.GatewayRefundRef != "btr_ref_old" {
			t.Errorf("GetRefund = %+v %v", r, err)
		}
	}
	check(g)
	// Closed and opened again: read from the journals alone.
	g.transfers.Close()
	g.refunds.Close()
	g2, err := New(dir)
	if err != nil {
		t.Fatal(err)
	}
	check(g2)
	if _, ok := g2.transfers.Get("pay_new"); ok {
		t.Error("a retry with the old key made a new transfer")
	}
}

// TestCorruptLegacyStateRefused: an unreadable state file stops the start
// rather than losing the transfers it holds.
func TestCorruptLegacyStateRefused(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, legacyStateFile), []byte(`{"transfers": [`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := New(dir); err == nil || !strings.Contains(err.Error(), legacyStateFile) {
		t.Fatalf("New = %v, want an error naming %s", err, legacyStateFile)
	}
	if _, err := os.Stat(filepath.Join(dir, legacyStateFile)); err != nil {
		t.Errorf("legacy file removed: %v", err)
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

// TestSettingsInChinese: the admin in Chinese shows every setting's title
// and description in Chinese, none in English.
func TestSettingsInChinese(t *testing.T) { plugintest.CheckTranslated(t, schema.String(), "zh-CN") }

// TestDomesticAccount: a mainland China shop, whose bank account has no
// IBAN, gives its account number and branch; buyers read them in groups
// of four, with the bank and branch, in Chinese.
func TestDomesticAccount(t *testing.T) {
	t.Parallel()
	gw := startWith(t, "", `{"account_holder":"杭州茶语贸易有限公司","account_number":"6214 8300-1234 5678 901","branch":"杭州分行西湖支行","bank_name":"招商银行"}`)
	res, err := gw.CreatePayment(context.Background(), payment.CreateRequest{AttemptID: "pay_1", OrderNumber: "#1001", IdempotencyKey: "k1",
		Locale: "zh-CN", Amount: sdk.Money{Amount: 13900, Currency: "CNY"}})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"account_holder": "杭州茶语贸易有限公司", "account_number": "6214830012345678901", "branch": "杭州分行西湖支行",
		"bank_name": "招商银行", "reference": "#1001", "amount": "139.00 CNY", "currency": "CNY",
	}
	if d := cmp.Diff(want, res.Action.Details); d != "" {
		t.Errorf("details (-want +got):\n%s", d)
	}
	for _, s := range []string{"请将 ¥139.00 转账至", "收款人：杭州茶语贸易有限公司", "账号：6214 8300 1234 5678 901", "开户银行：招商银行 杭州分行西湖支行", "转账附言请填写：#1001"} {
		if !strings.Contains(res.Action.Instructions, s) {
			t.Errorf("instructions lack %q:\n%s", s, res.Action.Instructions)
		}
	}
	if strings.Contains(res.Action.Instructions, "IBAN") {
		t.Errorf("instructions name an IBAN the shop has none of:\n%s", res.Action.Instructions)
	}
}
