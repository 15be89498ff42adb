package storefront_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/money"
	"github.com/kassahq/kassa/core/payment"
	"github.com/kassahq/kassa/core/testkit"
)

// TestStatusPagePaysTheRest is a guest paying the rest of a partly paid
// order with forms alone, on both databases: staff capture all but 10.00
// of the order's payment; the status page shows what is left with the
// payment methods; a post without a method is refused next to them; one
// with testpay sends the buyer to testpay's page for 10.00, and back on
// the status page the order is PAID.
func TestStatusPagePaysTheRest(t *testing.T) {
	for _, engine := range []testkit.Engine{testkit.SQLite, testkit.Postgres} {
		name := map[testkit.Engine]string{testkit.SQLite: "sqlite", testkit.Postgres: "postgres"}[engine]
		t.Run(name, func(t *testing.T) {
			s := newTestShop(t, engine)
			b, _ := s.atPayment()
			id, token, _ := strings.Cut(b.cookie("kassa_order"), "~")

			// Staff hold the payment and capture all of it but 10.00.
			sys := authz.WithSubject(context.Background(), authz.SystemSubject("test"))
			held, err := s.app.Payments.Create(sys, payment.CreateInput{OrderID: id, GatewayID: "payment.testpay", PaymentMethod: "succeed",
				ManualCapture: true, ReturnURL: s.URL + "/r"})
			if err != nil || held.State != payment.StateAuthorized {
				t.Fatalf("staff's authorization: %+v, %v", held, err)
			}
			part := money.New(held.AmountMinor-1000, held.Currency)
			if _, err := s.app.Payments.Capture(sys, payment.CaptureInput{AttemptID: held.ID, Amount: &part, IdempotencyKey: "part"}); err != nil {
				t.Fatal(err)
			}

			status := "/orders/" + id + "/status?token=" + url.QueryEscape(token)
			res, page := b.get(status)
			for _, want := range []string{"Partly paid", "Still to pay", "¥10.00", `id="rest-form"`, `value="payment.testpay"`, "Pay ¥10.00"} {
				if res.StatusCode != http.StatusOK || !strings.Contains(page, want) {
					t.Fatalf("status page %d lacks %q:\n%s", res.StatusCode, want, page)
				}
			}
			key := keyRE.FindStringSubmatch(page)
			if key == nil {
				t.Fatalf("no key in the form:\n%s", page)
			}
			res, page = b.post("/orders/"+id+"/pay", url.Values{"key": {key[1]}, "token": {token}})
			if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(page, "Choose a payment method.") || !strings.Contains(page, `id="rest-form"`) {
				t.Fatalf("a post without a method: %d\n%s", res.StatusCode, page)
			}
			res, _ = b.post("/orders/"+id+"/pay", url.Values{"key": {key[1]}, "token": {token}, "pay": {"payment.testpay"}})
			wantRedirect(t, res, s.URL+"/plugins/payment.testpay/pay/")
			atts, err := s.app.Payments.AttemptsOf(sys, []string{id})
			if err != nil {
				t.Fatal(err)
			}
			if rest := atts[id][len(atts[id])-1]; rest.AmountMinor != 1000 {
				t.Fatalf("the rest asks %d, want 1000", rest.AmountMinor)
			}
			back, _ := b.post(strings.TrimPrefix(res.Header.Get("Location"), s.URL), url.Values{"action": {"pay"}})
			if got := back.Header.Get("Location"); got != s.URL+status {
				t.Fatalf("testpay sends the buyer back to %q, want %q", got, s.URL+status)
			}
			// testpay notifies Kassa on its own time.
			for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
				if _, page = b.get(status); strings.Contains(page, `data-status="PAID"`) {
					break
				}
			}
			if !strings.Contains(page, "Paid. Thank you!") || strings.Contains(page, `id="rest-form"`) {
				t.Fatalf("after paying the rest:\n%s", page)
			}
		})
	}
}

// TestStatusPageAfterAShortTransfer is a guest whose bank transfer came
// in short: the status page no longer shows the transfer's instructions,
// which ask the whole amount, but what is left and the form paying it;
// paying the rest by bank transfer shows new instructions, for the rest.
func TestStatusPageAfterAShortTransfer(t *testing.T) {
	s := newTestShop(t, testkit.SQLite)
	b, page := s.atPayment()
	wantRedirect(t, b.pay(page, "payment.banktransfer"), "/checkout")
	id, token, _ := strings.Cut(b.cookie("kassa_order"), "~")
	status := "/orders/" + id + "/status?token=" + url.QueryEscape(token)
	if _, page := b.get(status); !strings.Contains(page, `id="instructions"`) {
		t.Fatalf("the transfer's instructions are not on the status page:\n%s", page)
	}

	sys := authz.WithSubject(context.Background(), authz.SystemSubject("test"))
	atts, err := s.app.Payments.AttemptsOf(sys, []string{id})
	if err != nil || len(atts[id]) != 1 {
		t.Fatalf("attempts %v, %v", atts, err)
	}
	transfer := atts[id][0]
	short := money.New(transfer.AmountMinor-1000, transfer.Currency)
	if _, err := s.app.Payments.ConfirmBankTransfer(sys, payment.ConfirmInput{OrderID: id, Amount: short, IdempotencyKey: "short"}); err != nil {
		t.Fatal(err)
	}
	res, page := b.get(status)
	if res.StatusCode != http.StatusOK || strings.Contains(page, `id="instructions"`) {
		t.Fatalf("after a short transfer the page still shows the instructions for the whole amount:\n%s", page)
	}
	for _, want := range []string{"Partly paid", "Still to pay", "¥10.00", `id="rest-form"`, `value="payment.banktransfer"`} {
		if !strings.Contains(page, want) {
			t.Fatalf("the page after a short transfer lacks %q:\n%s", want, page)
		}
	}

	key := keyRE.FindStringSubmatch(page)
	if key == nil {
		t.Fatalf("no key in the form:\n%s", page)
	}
	res, _ = b.post("/orders/"+id+"/pay", url.Values{"key": {key[1]}, "token": {token}, "pay": {"payment.banktransfer"}})
	wantRedirect(t, res, s.URL+status)
	if _, page = b.get(status); !strings.Contains(page, `id="instructions"`) || !strings.Contains(page, "10.00") {
		t.Fatalf("paying the rest by transfer shows no instructions for it:\n%s", page)
	}
}
