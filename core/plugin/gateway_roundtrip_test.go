package plugin

import (
	"net/http"
	"reflect"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/kassahq/kassa/core/money"
	"github.com/kassahq/kassa/core/payment"
	"github.com/kassahq/kassa/plugins/sdk"
	sdkpay "github.com/kassahq/kassa/plugins/sdk/payment"
)

// The host's payment adapter must carry every field between the payment
// domain and the SDK, as plugins/sdk/payment/convert_test.go proves for
// SDK ↔ protobuf. The adapter converts one way per type: requests go out
// (domain → SDK), answers come in (SDK → domain). Each test therefore runs
// the direction the host performs plus a reverse written here, and checks
// domain → SDK → domain equality. Before the trip, checkEveryField fails
// on any exported domain field the cases leave zero, so a field added to
// core/payment without a conversion fails here instead of vanishing.

var (
	rtAt  = time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	rtEUR = money.New(1999, mustCurrency("EUR"))
	rtFee = money.New(-35, mustCurrency("EUR"))
	rtAct = payment.Action{
		Type: payment.ActionQRCode, URL: "https://x/pay", QRCode: "weixin://x", ClientSecret: "cs",
		Instructions: "do it", ExpiresAt: rtAt, Details: map[string]string{"iban": "DE89"},
	}
)

func mustCurrency(code string) money.Currency {
	c, err := money.ParseCurrency(code)
	if err != nil {
		panic(err)
	}
	return c
}

// roundTrip checks that the cases together set every exported field of D
// and that trip gives each case back unchanged.
func roundTrip[D any](t *testing.T, cases []D, trip func(D) (D, error)) {
	t.Helper()
	vs := make([]reflect.Value, len(cases))
	for i, c := range cases {
		vs[i] = reflect.ValueOf(c)
	}
	checkEveryField(t, reflect.TypeFor[D]().Name(), vs)
	for i, c := range cases {
		got, err := trip(c)
		if err != nil {
			t.Errorf("%T case %d: %v", c, i, err)
			continue
		}
		if d := cmp.Diff(c, got); d != "" {
			t.Errorf("%T case %d lost something on the way (-want +got):\n%s", c, i, d)
		}
	}
}

// checkEveryField reports every exported field that is zero in all of vs,
// descending into the payment package's own structs and slices of them
// (money.Money and time.Time count as values).
func checkEveryField(t *testing.T, path string, vs []reflect.Value) {
	t.Helper()
	if len(vs) == 0 {
		t.Errorf("%s: no case to check", path)
		return
	}
	domain := reflect.TypeFor[payment.Action]().PkgPath()
	typ := vs[0].Type()
	for i := range typ.NumField() {
		f := typ.Field(i)
		if !f.IsExported() {
			continue
		}
		var set []reflect.Value
		for _, v := range vs {
			if fv := v.Field(i); !fv.IsZero() {
				set = append(set, fv)
			}
		}
		name := path + "." + f.Name
		if len(set) == 0 {
			t.Errorf("%s is zero in every case: set it here and make sure gateway.go converts it", name)
			continue
		}
		switch ft := f.Type; {
		case ft.Kind() == reflect.Struct && ft.PkgPath() == domain:
			checkEveryField(t, name, set)
		case ft.Kind() == reflect.Slice && ft.Elem().Kind() == reflect.Struct && ft.Elem().PkgPath() == domain:
			var elems []reflect.Value
			for _, s := range set {
				for j := range s.Len() {
					elems = append(elems, s.Index(j))
				}
			}
			checkEveryField(t, name+"[]", elems)
		}
	}
}

func TestGatewayRequestsRoundTrip(t *testing.T) {
	t.Parallel()
	t.Run("CreateRequest", func(t *testing.T) {
		roundTrip(t, []payment.CreateRequest{{
			AttemptID: "pay_1", OrderID: "ord_1", OrderNumber: "#1001", Amount: rtEUR, BuyerEmail: "a@b.c",
			Locale: "zh-CN", ReturnURL: "https://r", NotifyURL: "https://n", IdempotencyKey: "k",
			PaymentMethod: "alipay", Metadata: map[string]string{"store": "s"}, Description: "d",
			CaptureMethod: payment.CaptureManual, PluginBaseURL: "https://p", ExpiresAt: rtAt,
			BuyerIP: "203.0.113.7", BuyerUserAgent: "Mozilla/5.0",
		}}, func(d payment.CreateRequest) (payment.CreateRequest, error) {
			s := createReqToSDK(d)
			amount, err := fromSDKMoney(s.Amount, "amount")
			return payment.CreateRequest{
				AttemptID: s.AttemptID, OrderID: s.OrderID, OrderNumber: s.OrderNumber, Amount: amount,
				BuyerEmail: s.BuyerEmail, Locale: s.Locale, ReturnURL: s.ReturnURL, NotifyURL: s.NotifyURL,
				IdempotencyKey: s.IdempotencyKey, PaymentMethod: s.PaymentMethod, Metadata: s.Metadata,
				Description: s.Description, CaptureMethod: captureFromSDK(s.CaptureMethod),
				PluginBaseURL: s.PluginBaseURL, ExpiresAt: s.ExpiresAt,
				BuyerIP: s.BuyerIP, BuyerUserAgent: s.BuyerUserAgent,
			}, err
		})
	})
	t.Run("GetRequest", func(t *testing.T) {
		roundTrip(t, []payment.GetRequest{{AttemptID: "pay_1", GatewayRef: "g"}},
			func(d payment.GetRequest) (payment.GetRequest, error) {
				s := getReqToSDK(d)
				return payment.GetRequest{AttemptID: s.AttemptID, GatewayRef: s.GatewayRef}, nil
			})
	})
	t.Run("CaptureRequest", func(t *testing.T) {
		roundTrip(t, []payment.CaptureRequest{{AttemptID: "pay_1", GatewayRef: "g", Amount: rtEUR, IdempotencyKey: "k"}},
			func(d payment.CaptureRequest) (payment.CaptureRequest, error) {
				s := captureReqToSDK(d)
				amount, err := fromSDKMoney(s.Amount, "amount")
				return payment.CaptureRequest{AttemptID: s.AttemptID, GatewayRef: s.GatewayRef, Amount: amount, IdempotencyKey: s.IdempotencyKey}, err
			})
	})
	t.Run("CancelRequest", func(t *testing.T) {
		roundTrip(t, []payment.CancelRequest{{AttemptID: "pay_1", GatewayRef: "g", IdempotencyKey: "k", Reason: "expired"}},
			func(d payment.CancelRequest) (payment.CancelRequest, error) {
				s := cancelReqToSDK(d)
				return payment.CancelRequest{AttemptID: s.AttemptID, GatewayRef: s.GatewayRef, IdempotencyKey: s.IdempotencyKey, Reason: s.Reason}, nil
			})
	})
	t.Run("RefundRequest", func(t *testing.T) {
		roundTrip(t, []payment.RefundRequest{{
			RefundID: "ref_1", AttemptID: "pay_1", GatewayRef: "g", Amount: rtEUR, Reason: "damaged",
			IdempotencyKey: "k", Locale: "de-DE",
		}}, func(d payment.RefundRequest) (payment.RefundRequest, error) {
			s := refundReqToSDK(d)
			amount, err := fromSDKMoney(s.Amount, "amount")
			return payment.RefundRequest{
				RefundID: s.RefundID, AttemptID: s.AttemptID, GatewayRef: s.GatewayRef, Amount: amount,
				Reason: s.Reason, IdempotencyKey: s.IdempotencyKey, Locale: s.Locale,
			}, err
		})
	})
	t.Run("GetRefundRequest", func(t *testing.T) {
		roundTrip(t, []payment.GetRefundRequest{{RefundID: "ref_1", GatewayRefundRef: "gr", AttemptID: "pay_1", GatewayRef: "g"}},
			func(d payment.GetRefundRequest) (payment.GetRefundRequest, error) {
				s := getRefundReqToSDK(d)
				return payment.GetRefundRequest{RefundID: s.RefundID, GatewayRefundRef: s.GatewayRefundRef, AttemptID: s.AttemptID, GatewayRef: s.GatewayRef}, nil
			})
	})
	t.Run("WebhookRequest", func(t *testing.T) {
		roundTrip(t, []payment.WebhookRequest{{
			Method: "POST", Path: "/notify", Query: "a=1", Header: map[string][]string{"X-Sig": {"1", "2"}},
			Body: []byte(`{"ok":true}`), ReceivedAt: rtAt,
		}}, func(d payment.WebhookRequest) (payment.WebhookRequest, error) {
			s := webhookReqToSDK(d)
			return payment.WebhookRequest{
				Method: s.Method, Path: s.Path, Query: s.Query, Header: map[string][]string(s.Header),
				Body: s.Body, ReceivedAt: s.ReceivedAt,
			}, nil
		})
	})
	t.Run("ListTransactionsRequest", func(t *testing.T) {
		roundTrip(t, []payment.ListTransactionsRequest{{From: rtAt, To: rtAt.Add(time.Hour), PageToken: "p2", PageSize: 50}},
			func(d payment.ListTransactionsRequest) (payment.ListTransactionsRequest, error) {
				s := listTxReqToSDK(d)
				return payment.ListTransactionsRequest{From: s.From, To: s.To, PageToken: s.PageToken, PageSize: s.PageSize}, nil
			})
	})
}

func TestGatewayAnswersRoundTrip(t *testing.T) {
	t.Parallel()
	t.Run("CreateResult", func(t *testing.T) {
		roundTrip(t, []payment.CreateResult{{
			Status: payment.StatusRequiresAction, GatewayRef: "g", Action: rtAct, DeclineCode: "dc",
			BuyerMessage: "b", MerchantMessage: "m", Amount: rtEUR,
		}}, func(d payment.CreateResult) (payment.CreateResult, error) {
			return createResFromSDK(sdkpay.CreateResult{
				Status: statusToSDK(t, d.Status), GatewayRef: d.GatewayRef, Action: actionToSDK(t, d.Action),
				DeclineCode: d.DeclineCode, BuyerMessage: d.BuyerMessage, MerchantMessage: d.MerchantMessage,
				Amount: toSDKMoney(d.Amount),
			})
		})
	})
	t.Run("GatewayPayment", func(t *testing.T) {
		roundTrip(t, []payment.GatewayPayment{{
			Status: payment.StatusAuthorized, GatewayRef: "g", Amount: rtEUR, Authorized: 1999, Captured: 1000,
			Refunded: 500, DeclineCode: "dc", MerchantMessage: "m", Action: rtAct,
		}}, func(d payment.GatewayPayment) (payment.GatewayPayment, error) {
			return paymentFromSDK(sdkpay.PaymentState{
				Status: statusToSDK(t, d.Status), GatewayRef: d.GatewayRef, Amount: toSDKMoney(d.Amount),
				Authorized: d.Authorized, Captured: d.Captured, Refunded: d.Refunded, DeclineCode: d.DeclineCode,
				MerchantMessage: d.MerchantMessage, Action: actionToSDK(t, d.Action),
			})
		})
	})
	t.Run("CaptureResult", func(t *testing.T) {
		roundTrip(t, []payment.CaptureResult{{Status: payment.StatusSucceeded, Captured: 1999, DeclineCode: "dc", MerchantMessage: "m"}},
			func(d payment.CaptureResult) (payment.CaptureResult, error) {
				return captureResFromSDK(sdkpay.CaptureResult{
					Status: statusToSDK(t, d.Status), Captured: d.Captured, DeclineCode: d.DeclineCode, MerchantMessage: d.MerchantMessage,
				}), nil
			})
	})
	t.Run("CancelResult", func(t *testing.T) {
		roundTrip(t, []payment.CancelResult{{Status: payment.CancelAlreadyPaid, PaymentStatus: payment.StatusSucceeded, Code: "c", MerchantMessage: "m"}},
			func(d payment.CancelResult) (payment.CancelResult, error) {
				return cancelResFromSDK(sdkpay.CancelResult{
					Status: cancelToSDK(t, d.Status), PaymentStatus: statusToSDK(t, d.PaymentStatus), Code: d.Code, MerchantMessage: d.MerchantMessage,
				}), nil
			})
	})
	t.Run("RefundResult", func(t *testing.T) {
		roundTrip(t, []payment.RefundResult{{
			Status: payment.RefundPending, GatewayRefundRef: "gr", Amount: rtEUR, FailureCode: "f",
			MerchantMessage: "m", Instructions: "wire it",
		}}, func(d payment.RefundResult) (payment.RefundResult, error) {
			return refundFromSDK(sdkpay.RefundResult{
				Status: refundStatusToSDK(t, d.Status), GatewayRefundRef: d.GatewayRefundRef, Amount: toSDKMoney(d.Amount),
				FailureCode: d.FailureCode, MerchantMessage: d.MerchantMessage, Instructions: d.Instructions,
			})
		})
	})
	t.Run("WebhookResult", func(t *testing.T) {
		// A rejected notification carries no events, so the fields are
		// covered by two cases: accepted and rejected.
		roundTrip(t, []payment.WebhookResult{{
			Events: []payment.GatewayEvent{{
				ID: "e", Type: payment.EventRefundSucceeded, AttemptID: "pay_1", GatewayRef: "g", RefundID: "ref_1",
				GatewayRefundRef: "gr", Amount: rtEUR, OccurredAt: rtAt, DeclineCode: "dc", MerchantMessage: "m",
			}},
			Response: payment.WebhookResponse{Status: 204, Header: map[string][]string{"X-A": {"1", "2"}}, Body: []byte("ok")},
		}, {
			Response: payment.WebhookResponse{Status: 400, Body: []byte("no")},
			Rejected: payment.RejectStale, RejectMessage: "old",
		}}, func(d payment.WebhookResult) (payment.WebhookResult, error) {
			s := sdkpay.WebhookResult{Response: sdkHTTPResponse(d.Response)}
			if d.Rejected != "" {
				s.Rejection = &sdkpay.Rejection{Reason: rejectionToSDK(t, d.Rejected), Message: d.RejectMessage}
			}
			for _, e := range d.Events {
				s.Events = append(s.Events, sdkpay.Event{
					ID: e.ID, Type: e.Type, AttemptID: e.AttemptID, GatewayRef: e.GatewayRef, RefundID: e.RefundID,
					GatewayRefundRef: e.GatewayRefundRef, Amount: toSDKMoney(e.Amount), OccurredAt: e.OccurredAt,
					DeclineCode: e.DeclineCode, MerchantMessage: e.MerchantMessage,
				})
			}
			return webhookResFromSDK(s)
		})
	})
	t.Run("TransactionPage", func(t *testing.T) {
		roundTrip(t, []payment.TransactionPage{{
			Transactions: []payment.GatewayTransaction{{
				ID: "t", Type: "refund", AttemptID: "pay_1", GatewayRef: "g", GatewayRefundRef: "gr",
				Amount: rtEUR, Fee: rtFee, OccurredAt: rtAt,
			}},
			NextPageToken: "p3",
		}}, func(d payment.TransactionPage) (payment.TransactionPage, error) {
			s := sdkpay.TransactionPage{NextPageToken: d.NextPageToken}
			for _, tx := range d.Transactions {
				s.Transactions = append(s.Transactions, sdkpay.Transaction{
					ID: tx.ID, Type: tx.Type, AttemptID: tx.AttemptID, GatewayRef: tx.GatewayRef,
					GatewayRefundRef: tx.GatewayRefundRef, Amount: toSDKMoney(tx.Amount), Fee: toSDKMoney(tx.Fee),
					OccurredAt: tx.OccurredAt,
				})
			}
			return txPageFromSDK(s)
		})
	})
}

// TestGatewayEnumsRoundTrip proves no SDK enum value collapses into
// another on the way in, and both capture methods survive the way out.
func TestGatewayEnumsRoundTrip(t *testing.T) {
	t.Parallel()
	for s := sdkpay.StatusUnknown; s <= sdkpay.StatusNotFound; s++ {
		if got := statusToSDK(t, statusFromSDK(s)); got != s {
			t.Errorf("status %v -> %s -> %v", s, statusFromSDK(s), got)
		}
	}
	for s := sdkpay.CancelUnknown; s <= sdkpay.CancelFailed; s++ {
		if got := cancelToSDK(t, cancelFromSDK(s)); got != s {
			t.Errorf("cancel status %v -> %s -> %v", s, cancelFromSDK(s), got)
		}
	}
	for s := sdkpay.RefundUnknown; s <= sdkpay.RefundNotFound; s++ {
		r, err := refundFromSDK(sdkpay.RefundResult{Status: s})
		if err != nil {
			t.Fatal(err)
		}
		if got := refundStatusToSDK(t, r.Status); got != s {
			t.Errorf("refund status %v -> %s -> %v", s, r.Status, got)
		}
	}
	for _, a := range sdkpay.ActionTypes {
		if got := actionToSDK(t, actionFromSDK(sdkpay.Action{Type: a})).Type; got != a {
			t.Errorf("action type %v -> %v", a, got)
		}
	}
	for _, c := range []payment.CaptureMethod{payment.CaptureAutomatic, payment.CaptureManual} {
		if got := captureFromSDK(captureToSDK(c)); got != c {
			t.Errorf("capture method %s -> %s", c, got)
		}
	}
	for r := sdkpay.RejectBadSignature; r <= sdkpay.RejectNotConfigured; r++ {
		res, err := webhookResFromSDK(sdkpay.WebhookResult{Rejection: &sdkpay.Rejection{Reason: r}})
		if err != nil {
			t.Fatal(err)
		}
		if got := rejectionToSDK(t, res.Rejected); got != r {
			t.Errorf("rejection %v -> %s -> %v", r, res.Rejected, got)
		}
	}
}

// The reverse conversions below exist only here: the host never sends an
// answer or receives a request.

func captureFromSDK(c sdkpay.CaptureMethod) payment.CaptureMethod {
	if c == sdkpay.CaptureManual {
		return payment.CaptureManual
	}
	return payment.CaptureAutomatic
}

func statusToSDK(t *testing.T, s payment.Status) sdkpay.Status {
	t.Helper()
	for v := sdkpay.StatusUnknown; v <= sdkpay.StatusNotFound; v++ {
		if statusFromSDK(v) == s {
			return v
		}
	}
	t.Fatalf("no SDK status reads as %s", s)
	return 0
}

func cancelToSDK(t *testing.T, s payment.CancelStatus) sdkpay.CancelStatus {
	t.Helper()
	for v := sdkpay.CancelUnknown; v <= sdkpay.CancelFailed; v++ {
		if cancelFromSDK(v) == s {
			return v
		}
	}
	t.Fatalf("no SDK cancel status reads as %s", s)
	return 0
}

func refundStatusToSDK(t *testing.T, s payment.RefundStatus) sdkpay.RefundStatus {
	t.Helper()
	want := map[payment.RefundStatus]sdkpay.RefundStatus{
		payment.RefundUnknown: sdkpay.RefundUnknown, payment.RefundPending: sdkpay.RefundPending,
		payment.RefundSucceeded: sdkpay.RefundSucceeded, payment.RefundFailed: sdkpay.RefundFailed,
		payment.RefundNotFound: sdkpay.RefundNotFound,
	}
	v, ok := want[s]
	if !ok {
		t.Fatalf("no SDK refund status for %s", s)
	}
	return v
}

func actionToSDK(t *testing.T, a payment.Action) sdkpay.Action {
	t.Helper()
	out := sdkpay.Action{
		URL: a.URL, QRCode: a.QRCode, ClientSecret: a.ClientSecret, Instructions: a.Instructions,
		ExpiresAt: a.ExpiresAt, Details: a.Details,
	}
	for _, v := range sdkpay.ActionTypes {
		if actionFromSDK(sdkpay.Action{Type: v}).Type == a.Type {
			out.Type = v
			return out
		}
	}
	t.Fatalf("no SDK action type reads as %s", a.Type)
	return out
}

func rejectionToSDK(t *testing.T, reason string) sdkpay.RejectionReason {
	t.Helper()
	for v := sdkpay.RejectBadSignature; v <= sdkpay.RejectNotConfigured; v++ {
		if v.String() == reason {
			return v
		}
	}
	t.Fatalf("no SDK rejection reason %q", reason)
	return 0
}

func sdkHTTPResponse(r payment.WebhookResponse) sdk.HTTPResponse {
	return sdk.HTTPResponse{Status: r.Status, Header: http.Header(r.Header), Body: r.Body}
}
