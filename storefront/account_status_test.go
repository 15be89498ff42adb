package storefront

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/graphql"
)

// TestOrderStatusActions: the status page shows what the API's action
// types ask of the buyer: bank transfer instructions for INSTRUCTIONS,
// a QR code drawn on the server for QR_CODE (as the checkout does).
func TestOrderStatusActions(t *testing.T) {
	withAction := func(action map[string]any) map[string]any {
		o := pendingOrder()
		o["payments"].([]any)[0].(map[string]any)["action"] = action
		return o
	}
	tests := []struct {
		name          string
		order         map[string]any
		want, wantNot []string
	}{
		{"instructions", withAction(map[string]any{"type": "INSTRUCTIONS", "instructions": "IBAN DE89 3704 0044\nRef #1001"}),
			[]string{`id="instructions"`, "IBAN DE89 3704 0044\nRef #1001", "Bank transfer instructions"}, []string{`<svg class="qr"`}},
		{"a wallet's QR code", withAction(map[string]any{"type": "QR_CODE", "qrCode": "weixin://wxpay/bizpayurl?pr=abc123"}),
			[]string{`id="qr"`, `<svg class="qr"`, "Scan to pay"}, []string{"weixin://", "Or open the payment page"}},
		{"a QR code of a link", withAction(map[string]any{"type": "QR_CODE", "qrCode": "https://qr.alipay.com/bax1"}),
			[]string{`<svg class="qr"`, `href="https://qr.alipay.com/bax1"`, "Or open the payment page"}, nil},
		{"a QR code too long to draw", withAction(map[string]any{"type": "QR_CODE", "qrCode": strings.Repeat("x", 5000)}),
			[]string{"Scan to pay"}, []string{`<svg class="qr"`, "xxxxxxxxxx"}},
		{"an unknown type shows nothing", withAction(map[string]any{"type": "CLIENT_SECRET", "instructions": "secret"}),
			nil, []string{"secret", `id="instructions"`, `<svg class="qr"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := get(newTestHandler(t, &fakeGraphQL{order: tt.order}, ""), "/orders/ord_1/status?token=tok")
			body := rec.Body.String()
			if rec.Code != 200 {
				t.Fatalf("status %d:\n%s", rec.Code, body)
			}
			for _, w := range tt.want {
				if !strings.Contains(body, w) {
					t.Errorf("page lacks %q:\n%s", w, body)
				}
			}
			for _, w := range tt.wantNot {
				if strings.Contains(body, w) {
					t.Errorf("page has %q", w)
				}
			}
		})
	}
}

// TestSafeReturn: sign-in goes back only to a path of this shop.
func TestSafeReturn(t *testing.T) {
	for in, want := range map[string]string{
		"":                             "/account",
		"/account/orders?after=x":      "/account/orders?after=x",
		"/checkout":                    "/checkout",
		"//evil.example/":              "/account",
		"/\\evil.example":              "/account",
		"https://evil.example/":        "/account",
		"javascript:alert(1)":          "/account",
		"/ok\r\nSet-Cookie: x=1":       "/account",
		"/a\x00b":                      "/account",
		"/" + strings.Repeat("a", 600): "/account",
	} {
		if got := safeReturn(in); got != want {
			t.Errorf("safeReturn(%.40q) = %q, want %q", in, got, want)
		}
	}
}

// accountGraphQL answers the account's order query with a canned order.
type accountGraphQL struct{ order map[string]any }

func (f *accountGraphQL) Exec(_ context.Context, req graphql.Request) *graphql.Response {
	data, _ := json.Marshal(map[string]any{"order": f.order})
	return &graphql.Response{Data: data}
}

// TestAccountOrderInvoices: an order with invoices links each document's
// download, and only to a path of this shop; a guest is sent to sign in.
func TestAccountOrderInvoices(t *testing.T) {
	m := func(a string) map[string]any { return map[string]any{"amount": a, "currencyCode": "CNY"} }
	order := map[string]any{"id": "ord_1", "number": "#1001", "email": "fang@example.com", "status": "OPEN", "paymentStatus": "PAID",
		"fulfillmentStatus": "UNFULFILLED", "createdAt": "2026-12-05T13:00:00Z", "paymentDeadline": "2026-12-05T13:30:00Z",
		"cancelledAt": nil, "shippingMethodName": "Standard", "taxIncluded": true,
		"shippingAddress": map[string]any{"line1": "文三路1号", "city": "杭州市", "countryCode": "CN"},
		"subtotal":        m("48.00"), "shipping": m("10.00"), "tax": m("6.67"), "discountTotal": m("0.00"), "total": m("58.00"),
		"lines": []any{}, "shipments": []any{}, "payments": []any{}, "refunds": []any{}, "amountPaid": m("58.00"), "amountRefunded": nil,
		"invoices": []any{
			map[string]any{"id": "inv_1", "kind": "INVOICE", "number": "INV-000042", "issuedAt": "2026-12-05T13:01:00Z", "total": m("58.00"),
				"downloadUrl": "/orders/ord_1/invoices/inv_1.pdf"},
			map[string]any{"id": "inv_2", "kind": "CREDIT_NOTE", "number": "CN-000001", "issuedAt": "2026-12-05T13:02:00Z", "total": m("1.00"),
				"downloadUrl": "//evil.example/x.pdf"},
		}}
	h := newTestHandler(t, &accountGraphQL{order: order}, "")
	req := httptest.NewRequest(http.MethodGet, "/account/orders/ord_1", nil)
	req = req.WithContext(authz.WithSubject(req.Context(), authz.Subject{Kind: authz.KindCustomer, ID: "cus_1", Session: "ses_1"}))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	body := rec.Body.String()
	if rec.Code != http.StatusOK || !strings.Contains(body, `href="/orders/ord_1/invoices/inv_1.pdf"`) || !strings.Contains(body, "INV-000042") ||
		!strings.Contains(body, "Credit note CN-000001") || strings.Contains(body, "evil.example") || !strings.Contains(body, "noindex") {
		t.Fatalf("order page: %d\n%s", rec.Code, body)
	}
	if rec.Header().Get("Cache-Control") != "no-store" {
		t.Fatalf("Cache-Control %q", rec.Header().Get("Cache-Control"))
	}
	rec = get(h, "/account/orders/ord_1")
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/account/login?return=%2Faccount%2Forders%2Ford_1" {
		t.Fatalf("a guest: %d to %q", rec.Code, rec.Header().Get("Location"))
	}
}

// TestAccountDates: a Chinese buyer reads dates on Beijing time, so an
// order placed at 01:30 in Hangzhou is placed that day; others read UTC.
func TestAccountDates(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 12, 4, 17, 30, 0, 0, time.UTC)
	if got := (accountView{lang: "zh-CN"}).Date(at); got != "2026年12月5日 01:30" {
		t.Errorf("in Chinese: %q", got)
	}
	if got := (accountView{lang: "en"}).Date(at); got != "4 Dec 2026, 17:30" {
		t.Errorf("in English: %q", got)
	}
}
