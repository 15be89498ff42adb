package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/kassahq/kassa/plugins/sdk"
	"github.com/kassahq/kassa/plugins/sdk/netguard"
	"github.com/kassahq/kassa/plugins/sdk/payment"
)

const (
	testSecret = "whsec_example_0123456789"
	base       = "https://shop.test/plugins/payment.example"
)

// newConfigured returns a configured gateway; allowPrivate is the shop
// owner's choice about private networks.
func newConfigured(t *testing.T, allowPrivate bool) *Gateway {
	t.Helper()
	g := New()
	ctx := sdk.WithAllowPrivateNetworks(context.Background(), allowPrivate)
	if res, err := g.Configure(ctx, json.RawMessage(`{"webhook_secret":"`+testSecret+`"}`)); err != nil || !res.OK() {
		t.Fatalf("Configure: %+v %v", res, err)
	}
	return g
}

// open starts a page payment and returns its link's token.
func open(t *testing.T, g *Gateway, id, locale, order string) string {
	t.Helper()
	res, err := g.CreatePayment(context.Background(), payment.CreateRequest{
		AttemptID: id, IdempotencyKey: "idem_" + id, OrderNumber: order, Locale: locale, PaymentMethod: MethodPage,
		Amount: sdk.Money{Amount: 1999, Currency: "EUR"}, PluginBaseURL: base, ReturnURL: "https://shop.test/return/" + id,
	})
	if err != nil || res.Status != payment.StatusRequiresAction || !strings.HasPrefix(res.Action.URL, base+"/pay/"+id+"?token=") {
		t.Fatalf("CreatePayment: %+v %v", res, err)
	}
	u, _ := url.Parse(res.Action.URL)
	return u.Query().Get("token")
}

func page(t *testing.T, g *Gateway, method, path, query string, form url.Values) sdk.HTTPResponse {
	t.Helper()
	req := sdk.HTTPRequest{Method: method, Path: path, Query: query, BaseURL: base, Header: http.Header{}}
	if form != nil {
		req.Body = []byte(form.Encode())
	}
	res, err := g.HandleHTTP(context.Background(), req)
	if err != nil {
		t.Fatalf("HandleHTTP(%s %s): %v", method, path, err)
	}
	return res
}

func status(t *testing.T, g *Gateway, id string) payment.Status {
	t.Helper()
	st, err := g.GetPayment(context.Background(), payment.GetRequest{AttemptID: id})
	if err != nil {
		t.Fatal(err)
	}
	return st.Status
}

// TestPageRefusesWithoutItsToken: no request without the link's token
// shows or settles a payment, whatever else it knows.
func TestPageRefusesWithoutItsToken(t *testing.T) {
	t.Parallel()
	g := newConfigured(t, false)
	token := open(t, g, "pay_1", "en", "#1")
	other := open(t, g, "pay_2", "en", "#2")
	if _, err := g.CreatePayment(context.Background(), payment.CreateRequest{AttemptID: "pay_3", IdempotencyKey: "idem_3",
		PaymentMethod: TokenOK, Amount: sdk.Money{Amount: 1, Currency: "EUR"}}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, method, path, query string
		form                      url.Values
		want                      int
	}{
		{"GET without token", http.MethodGet, "/pay/pay_1", "", nil, http.StatusNotFound},
		{"GET with another payment's token", http.MethodGet, "/pay/pay_1", "token=" + other, nil, http.StatusNotFound},
		{"GET of an unknown attempt", http.MethodGet, "/pay/pay_9", "token=" + token, nil, http.StatusNotFound},
		{"GET of a payment without page", http.MethodGet, "/pay/pay_3", "token=", nil, http.StatusNotFound},
		{"POST without token", http.MethodPost, "/pay/pay_1", "", url.Values{"action": {"pay"}}, http.StatusNotFound},
		{"POST with the token in the URL only", http.MethodPost, "/pay/pay_1", "token=" + token, url.Values{"action": {"pay"}}, http.StatusNotFound},
		{"POST with a wrong token", http.MethodPost, "/pay/pay_1", "", url.Values{"action": {"pay"}, "token": {other}}, http.StatusNotFound},
		{"POST of an unknown action", http.MethodPost, "/pay/pay_1", "", url.Values{"action": {"refund"}, "token": {token}}, http.StatusBadRequest},
		{"PUT", http.MethodPut, "/pay/pay_1", "token=" + token, nil, http.StatusMethodNotAllowed},
		{"another path", http.MethodGet, "/pay/pay_1/x", "token=" + token, nil, http.StatusNotFound},
	} {
		if got := page(t, g, tc.method, tc.path, tc.query, tc.form); got.StatusCode() != tc.want {
			t.Errorf("%s: %d %q, want %d", tc.name, got.StatusCode(), got.Body, tc.want)
		}
	}
	if st := status(t, g, "pay_1"); st != payment.StatusRequiresAction {
		t.Errorf("after the refused requests pay_1 is %s, want REQUIRES_ACTION", st)
	}
}

// TestPageSettlesOnce: the first click decides; a second click, or a click
// after Kassa closed the payment, only takes the buyer back.
func TestPageSettlesOnce(t *testing.T) {
	t.Parallel()
	g := newConfigured(t, false)
	click := func(id, token, action string) {
		t.Helper()
		res := page(t, g, http.MethodPost, "/pay/"+id, "", url.Values{"token": {token}, "action": {action}})
		if res.StatusCode() != http.StatusSeeOther || res.Header.Get("Location") != "https://shop.test/return/"+id {
			t.Fatalf("%s %s: %d %v", action, id, res.StatusCode(), res.Header)
		}
	}
	paid := open(t, g, "pay_paid", "en", "#1")
	click("pay_paid", paid, "pay")
	click("pay_paid", paid, "cancel")
	if st := status(t, g, "pay_paid"); st != payment.StatusSucceeded {
		t.Errorf("paid, then cancel clicked: %s, want SUCCEEDED", st)
	}
	if body := string(page(t, g, http.MethodGet, "/pay/pay_paid", "token="+paid, nil).Body); strings.Contains(body, "<form") || !strings.Contains(body, "This order is paid.") {
		t.Errorf("the page of a paid payment still offers the form or hides the outcome:\n%s", body)
	}

	gaveUp := open(t, g, "pay_gave_up", "en", "#2")
	click("pay_gave_up", gaveUp, "cancel")
	st, _ := g.GetPayment(context.Background(), payment.GetRequest{AttemptID: "pay_gave_up"})
	if st.Status != payment.StatusFailed || st.DeclineCode != payment.DeclineBuyerCanceled {
		t.Errorf("the buyer cancelled: %+v, want FAILED %s", st, payment.DeclineBuyerCanceled)
	}

	late := open(t, g, "pay_late", "en", "#3")
	if res, err := g.CancelPayment(context.Background(), payment.CancelRequest{AttemptID: "pay_late", IdempotencyKey: "c"}); err != nil || res.Status != payment.CancelCanceled {
		t.Fatalf("CancelPayment: %+v %v", res, err)
	}
	click("pay_late", late, "pay")
	if st := status(t, g, "pay_late"); st != payment.StatusCanceled {
		t.Errorf("paid after Kassa closed the payment: %s, want CANCELED", st)
	}
}

// TestPageSpeaksTheBuyersLanguage: Chinese for zh locales, and the shop's
// text escaped.
func TestPageSpeaksTheBuyersLanguage(t *testing.T) {
	t.Parallel()
	g := newConfigured(t, false)
	for _, tc := range []struct{ locale, lang, pay string }{{"zh-CN", "zh-CN", "支付"}, {"zh-Hans", "zh-CN", "支付"}, {"en-GB", "en", "Pay"}, {"", "en", "Pay"}} {
		id := "pay_lang_" + strings.ReplaceAll(tc.locale, "-", "_")
		token := open(t, g, id, tc.locale, `#1<script>alert(1)</script>`)
		body := string(page(t, g, http.MethodGet, "/pay/"+id, "token="+token, nil).Body)
		if !strings.Contains(body, `<html lang="`+tc.lang+`">`) || !strings.Contains(body, `value="pay" id="pay">`+tc.pay+`<`) || !strings.Contains(body, "19.99 EUR") {
			t.Errorf("locale %q:\n%s", tc.locale, body)
		}
		if strings.Contains(body, "<script>") {
			t.Errorf("locale %q: the order number was not escaped:\n%s", tc.locale, body)
		}
	}
	res, _ := g.CreatePayment(context.Background(), payment.CreateRequest{AttemptID: "pay_x", IdempotencyKey: "idem_x", Locale: "zh-CN",
		PaymentMethod: "cheque", Amount: sdk.Money{Amount: 1, Currency: "EUR"}})
	if res.Status != payment.StatusFailed || !strings.Contains(res.BuyerMessage, "支付方式") || res.MerchantMessage == "" {
		t.Errorf("unknown method for a Chinese buyer: %+v", res)
	}
}

// TestNotificationsRespectTheNetworkGuard: the settlement notification is
// refused on a private network unless the owner allows it, and when it is
// delivered it verifies with the plugin's own HandleWebhook.
func TestNotificationsRespectTheNetworkGuard(t *testing.T) {
	t.Parallel()
	got := make(chan *http.Request, 1)
	bodies := make(chan []byte, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- r
		bodies <- b
	}))
	defer srv.Close()
	body := []byte(`{"id":"evt_1","type":"payment.succeeded","attempt_id":"pay_1","payment":"ch_1","amount":1999,"currency":"EUR","created":1}`)

	strict := newConfigured(t, false)
	if err := strict.cfg.Load().deliver(context.Background(), srv.URL, body); !errors.Is(err, netguard.ErrBlocked) {
		t.Errorf("delivery to %s without private networks allowed: %v, want netguard.ErrBlocked", srv.URL, err)
	}

	lenient := newConfigured(t, true)
	if err := lenient.cfg.Load().deliver(context.Background(), srv.URL, body); err != nil {
		t.Fatalf("delivery with private networks allowed: %v", err)
	}
	r, b := <-got, <-bodies
	res, err := lenient.HandleWebhook(context.Background(), payment.WebhookRequest{Method: r.Method, Header: r.Header, Body: b, ReceivedAt: time.Now()})
	if err != nil || res.Rejection != nil || len(res.Events) != 1 || res.Events[0].ID != "evt_1" {
		t.Errorf("the plugin's own delivery: %+v %v", res, err)
	}
}
