package payment

import (
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/kassahq/kassa/plugins/sdk"
)

// The conversions must carry every field both ways: a field lost here is a
// field Kassa silently never sees.

var (
	at    = time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	eur   = sdk.Money{Amount: 1999, Currency: "EUR"}
	fullA = Action{Type: ActionQRCode, URL: "https://x/pay", QRCode: "weixin://x", ClientSecret: "cs", Instructions: "do it",
		ExpiresAt: at, Details: map[string]string{"iban": "DE89"}}
)

func TestCreateRoundTrip(t *testing.T) {
	t.Parallel()
	req := CreateRequest{
		AttemptID: "pay_1", OrderID: "ord_1", OrderNumber: "#1", Amount: eur, BuyerEmail: "a@b.c", Locale: "zh-CN",
		ReturnURL: "https://r", NotifyURL: "https://n", IdempotencyKey: "k", PaymentMethod: "alipay",
		Metadata: map[string]string{"store": "s"}, Description: "d", CaptureMethod: CaptureManual,
		PluginBaseURL: "https://p", ExpiresAt: at, BuyerIP: "203.0.113.7", BuyerUserAgent: "Mozilla/5.0",
	}
	if d := cmp.Diff(req, createReqFromPB(createReqToPB(req))); d != "" {
		t.Errorf("CreateRequest (-want +got):\n%s", d)
	}
	res := CreateResult{Status: StatusRequiresAction, GatewayRef: "g", Action: fullA, DeclineCode: "dc",
		BuyerMessage: "b", MerchantMessage: "m", Amount: eur}
	if d := cmp.Diff(res, createResFromPB(createResToPB(res))); d != "" {
		t.Errorf("CreateResult (-want +got):\n%s", d)
	}
}

func TestEnumsRoundTrip(t *testing.T) {
	t.Parallel()
	for s := StatusPending; s <= StatusNotFound; s++ {
		if got := statusFromPB(statusToPB[s]); got != s {
			t.Errorf("status %s -> %s", s, got)
		}
	}
	for _, a := range ActionTypes {
		if got := actionTypeFromPB(actionToPB[a]); got != a {
			t.Errorf("action %s -> %s", a, got)
		}
	}
	for s := CancelCanceled; s <= CancelFailed; s++ {
		if got := cancelFromPB(cancelToPB[s]); got != s {
			t.Errorf("cancel %s -> %s", s, got)
		}
	}
	for s := RefundPending; s <= RefundNotFound; s++ {
		if got := refundStatusFromPB(refundToPB[s]); got != s {
			t.Errorf("refund %s -> %s", s, got)
		}
	}
	for r := RejectBadSignature; r <= RejectNotConfigured; r++ {
		if got := rejectFromPB(rejectToPB[r]); got != r {
			t.Errorf("rejection %s -> %s", r, got)
		}
	}
	if statusFromPB(99) != StatusUnknown {
		t.Error("an unknown enum value from a newer peer must read as unknown")
	}
}

func TestStateRefundWebhookRoundTrip(t *testing.T) {
	t.Parallel()
	st := PaymentState{Status: StatusRequiresAction, GatewayRef: "g", Amount: eur, Authorized: 1, Captured: 2, Refunded: 3,
		DeclineCode: "d", MerchantMessage: "m", Action: fullA}
	if d := cmp.Diff(st, stateFromPB(stateToPB(st))); d != "" {
		t.Errorf("PaymentState (-want +got):\n%s", d)
	}
	rr := RefundResult{Status: RefundPending, GatewayRefundRef: "r", Amount: eur, FailureCode: "f", MerchantMessage: "m", Instructions: "i"}
	if d := cmp.Diff(rr, refundResFromPB(refundResToPB(rr))); d != "" {
		t.Errorf("RefundResult (-want +got):\n%s", d)
	}
	wr := WebhookResult{
		Events: []Event{{ID: "e", Type: EventRefundSucceeded, AttemptID: "a", GatewayRef: "g", RefundID: "r", GatewayRefundRef: "gr",
			Amount: eur, OccurredAt: at, DeclineCode: "d", MerchantMessage: "m"}},
		Response:  sdk.HTTPResponse{Status: 204, Header: http.Header{"X-A": {"1", "2"}}, Body: []byte("ok")},
		Rejection: &Rejection{Reason: RejectStale, Message: "old"},
	}
	if d := cmp.Diff(wr, webhookResFromPB(webhookResToPB(wr))); d != "" {
		t.Errorf("WebhookResult (-want +got):\n%s", d)
	}
	tx := Transaction{ID: "t", Type: "refund", AttemptID: "a", GatewayRef: "g", GatewayRefundRef: "r",
		Amount: sdk.Money{Amount: -5, Currency: "EUR"}, Fee: sdk.Money{Amount: 1, Currency: "EUR"}, OccurredAt: at}
	if d := cmp.Diff(tx, txFromPB(txToPB(tx))); d != "" {
		t.Errorf("Transaction (-want +got):\n%s", d)
	}
}
