package graphql_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/kassahq/kassa/core/app"
	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/events/eventstest"
	"github.com/kassahq/kassa/core/idempotency"
	"github.com/kassahq/kassa/core/kit/errs"
	"github.com/kassahq/kassa/core/money"
	"github.com/kassahq/kassa/core/payment"
	"github.com/kassahq/kassa/core/plugin"
	"github.com/kassahq/kassa/core/shop"
	"github.com/kassahq/kassa/core/store"
	"github.com/kassahq/kassa/core/testkit"
	"github.com/kassahq/kassa/graphql"
	"github.com/kassahq/kassa/graphql/resolver"
)

// newPayments is the payment service of the servers tests build
// themselves (withSettings): over their orders and shop settings, with
// the plugin host as gateways when they have one, none otherwise.
func newPayments(t testing.TB, db *store.DB, az authz.Authorizer, svc resolver.Services) *payment.Service {
	t.Helper()
	keys, err := idempotency.NewKeys(db, idempotency.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var gws payment.Gateways = noGateways{}
	if svc.Plugins != nil {
		gws = svc.Plugins
	}
	p, err := payment.NewService(db, payment.Options{Authz: az, Outbox: &eventstest.Outbox{}, Orders: app.PaymentOrders{Orders: svc.Orders},
		Gateways: gws, Settings: svc.Shop, Keys: keys, PublicURL: "https://shop.example"})
	if err != nil {
		t.Fatal(err)
	}
	svc.Orders.UsePaymentCloser(app.PaymentCloser(p))
	return p
}

// noGateways is a plugin host without payment plugins.
type noGateways struct{}

func (noGateways) Gateway(_ context.Context, id string) (payment.Gateway, error) {
	return nil, errs.NotFound("PLUGIN_NOT_FOUND", "no plugin "+id)
}

func (g noGateways) InstalledGateway(ctx context.Context, id string) (payment.Gateway, error) {
	return g.Gateway(ctx, id)
}

func (noGateways) Gateways(context.Context) ([]payment.Gateway, error) { return nil, nil }

// The payment plugins of the tests, real processes.
const (
	testpayID      = "payment.testpay"
	banktransferID = "payment.banktransfer"
	// testpaySecret signs testpay's notifications.
	testpaySecret = "whsec_graphql_0123456789abcdef"
)

// payPlugins are the testpay and banktransfer binaries, built once per
// run of the package's tests, on first use, and removed by TestMain.
var payPlugins struct {
	once                  sync.Once
	dir                   string
	testpay, banktransfer string
	err                   error
}

// TestMain removes what the tests built.
func TestMain(m *testing.M) {
	code := m.Run()
	if payPlugins.dir != "" {
		os.RemoveAll(payPlugins.dir)
	}
	os.Exit(code)
}

// payBinaries builds testpay and banktransfer, once.
func payBinaries(t *testing.T) (testpay, banktransfer string) {
	t.Helper()
	payPlugins.once.Do(func() {
		dir, err := os.MkdirTemp("", "kassa-graphql-payments-")
		if err != nil {
			payPlugins.err = err
			return
		}
		payPlugins.dir = dir
		for _, name := range []string{"testpay", "banktransfer"} {
			cmd := exec.Command("go", "build", "-o", filepath.Join(dir, name), "../plugins/"+name)
			cmd.Env = append(cmd.Environ(), "CGO_ENABLED=0")
			if out, err := cmd.CombinedOutput(); err != nil {
				payPlugins.err = fmt.Errorf("build %s: %v\n%s", name, err, out)
				return
			}
		}
		payPlugins.testpay, payPlugins.banktransfer = filepath.Join(dir, "testpay"), filepath.Join(dir, "banktransfer")
	})
	if payPlugins.err != nil {
		t.Fatal(payPlugins.err)
	}
	return payPlugins.testpay, payPlugins.banktransfer
}

// The staff of the payment scenarios (order_test.go has the owner, the
// finance and the fulfillment clerk).
var (
	payManager = authz.Subject{Kind: authz.KindStaff, ID: "stf_manager", Roles: []string{authz.RoleManager}}
	paySupport = authz.Subject{Kind: authz.KindStaff, ID: "stf_support", Roles: []string{authz.RoleSupport}}
)

// payShop is the cart shop of cart_test.go (CNY, tea at 68.00, express
// shipping 25.00, 13 % VAT on top) taking payments through testpay and
// banktransfer.
type payShop struct {
	*cartShop
	n int
}

func newPayShop(t *testing.T, ta *testkit.TestApp, testpay, banktransfer string) *payShop {
	t.Helper()
	s := &payShop{cartShop: newCartShop(t, ta)}
	for _, p := range []struct {
		bin, id, settings string
	}{
		{testpay, testpayID, `{"webhook_secret":"` + testpaySecret + `","async_delay_ms":10,"timeout_ms":3000}`},
		{banktransfer, banktransferID, `{"account_holder":"Kassa Tea Ltd","iban":"DE89370400440532013000","bank_name":"Test Bank"}`},
	} {
		if _, err := ta.Plugins.Install(system(), p.bin, plugin.InstallOptions{}); err != nil {
			t.Fatal(err)
		}
		if _, err := ta.Plugins.UpdateSettings(system(), p.id, []byte(p.settings)); err != nil {
			t.Fatal(err)
		}
		if _, err := ta.Plugins.Enable(system(), p.id); err != nil {
			t.Fatal(err)
		}
	}
	listStorefront(t, ta)
	return s
}

// listStorefront has the shop list https://shop.example, the tests'
// storefront, among its storefront origins: paymentCreate's returnUrl
// is on it (the app's public URL is its own address).
func listStorefront(t *testing.T, ta *testkit.TestApp) {
	t.Helper()
	if _, err := ta.Settings.Shop.Update(system(), shop.UpdateSettingsInput{StorefrontOrigins: &[]string{"https://shop.example"}}); err != nil {
		t.Fatal(err)
	}
}

// placed is an order a test pays.
type placed struct {
	id, token string
	// total is the decimal amount in CNY, minor its minor units.
	total string
	minor int64
}

// guestOrder checks out qty units of tea as a guest through GraphQL.
func (s *payShop) guestOrder(t *testing.T, qty int) placed {
	t.Helper()
	res := must(t, s.do(t, ordGuest, cartCreateOp, in("currency", "CNY", "lines", []any{vars("variantId", s.tea100, "quantity", qty)})))
	ref := vars("token", res.str("cartCreate", "token"))
	return s.checkout(t, ordGuest, ref)
}

// buyerOrder checks out one unit of tea as a signed-in buyer.
func (s *payShop) buyerOrder(t *testing.T, buyer authz.Subject) placed {
	t.Helper()
	must(t, s.do(t, buyer, cartCreateOp, in("currency", "CNY", "lines", []any{vars("variantId", s.tea100, "quantity", 1)})))
	return s.checkout(t, buyer, vars())
}

func (s *payShop) checkout(t *testing.T, sub authz.Subject, ref map[string]any) placed {
	t.Helper()
	s.ready(t, sub, ref)
	s.n++
	out := must(t, s.do(t, sub, checkoutOp, vars("input", with(ref, "idempotencyKey", fmt.Sprintf("checkout-%d", s.n)))))
	o := placed{id: out.str("checkoutComplete", "order", "id"), token: out.str("checkoutComplete", "accessToken"),
		total: out.str("checkoutComplete", "order", "total", "amount")}
	m, err := money.Parse(o.total, money.CNY)
	if err != nil || o.id == "" {
		t.Fatalf("checkout: %v %v", out.Data, err)
	}
	o.minor = m.Amount()
	return o
}

// cny adds minor units to a decimal CNY amount.
func cny(t *testing.T, decimal string, plus int64) string {
	t.Helper()
	m, err := money.Parse(decimal, money.CNY)
	if err != nil {
		t.Fatal(err)
	}
	return money.New(m.Amount()+plus, money.CNY).Decimal()
}

func cnyInput(amount string) map[string]any { return vars("amount", amount, "currencyCode", "CNY") }

// The documents of the payment scenarios.
const (
	payFields = `id gatewayId state amount { amount currencyCode } authorized { amount } captured { amount } refunded { amount }
		manualCapture action { type url qrCode clientSecret instructions expiresAt } declineCode buyerMessage merchantMessage
		events { type source outcome } createdAt updatedAt`
	payCreateOp = `mutation($input: PaymentCreateInput!) { paymentCreate(input: $input) {
		payment { ` + payFields + ` order { id paymentStatus amountPaid { amount } } } userErrors { field code } } }`
	payRefreshOp = `mutation($input: PaymentRefreshInput!) { paymentRefresh(input: $input) {
		payment { ` + payFields + ` order { id paymentStatus amountPaid { amount } payments { id state } } } userErrors { field code } } }`
	payQueryOp = `query($id: ID!, $token: String) { payment(id: $id, token: $token) { ` + payFields + ` order { id paymentStatus } } }`
	methodsOp  = `query($id: ID!, $token: String) { availablePaymentMethods(orderId: $id, token: $token) { gatewayId name actions manualCapture } }`
	captureOp  = `mutation($input: PaymentCaptureInput!) { paymentCapture(input: $input) {
		payment { state authorized { amount } captured { amount } order { paymentStatus } } userErrors { field code } } }`
	voidOp = `mutation($input: PaymentVoidInput!) { paymentVoid(input: $input) {
		payment { state order { paymentStatus } } userErrors { field code } } }`
	refundOp = `mutation($input: OrderRefundInput!) { orderRefund(input: $input) {
		refund { id state amount { amount } shipping { amount } shippingTax { amount } lines { lineId quantity amount { amount } } paymentId gatewayId reason staffId }
		userErrors { field code } } }`
	confirmOp = `mutation($input: PaymentConfirmBankTransferInput!) { paymentConfirmBankTransfer(input: $input) {
		payment { id state captured { amount } order { paymentStatus } } userErrors { field code } } }`
	resolveOp    = `mutation($input: PaymentEventResolveInput!) { paymentEventResolve(input: $input) { event { id resolvedBy resolutionNote } userErrors { code field } } }`
	flaggedOp    = `query($first: Int) { flaggedPaymentEvents(first: $first) { id type source outcome flag amount { amount } orderId paymentId detail receivedAt } }`
	staffOrderOp = `query($id: ID!) { order(id: $id) { paymentStatus shipping { amount } lines { id total { amount } }
		amountPaid { amount } amountRefunded { amount } amountAuthorized { amount }
		payments { id state merchantMessage events { type source outcome flag } }
		refunds { state amount { amount } reason staffId }
		paymentLedger { kind amount { amount } paymentId refundId } } }`
	buyerOrderOp = `query($token: String!) { orderByToken(token: $token) { paymentStatus amountPaid { amount }
		payments { id state merchantMessage events { type } } refunds { state amount { amount } reason staffId } paymentLedger { kind } } }`
	settingsPayOp = `mutation($input: ShopSettingsUpdateInput!) { shopSettingsUpdate(input: $input) {
		shopSettings { refundCancelledOrderPayments paymentMethodOrder } userErrors { field code } } }`
)

// pay starts a payment of o as its guest buyer.
func (s *payShop) pay(t *testing.T, o placed, gateway, method string, extra ...any) gqlResult {
	t.Helper()
	input := with(vars("orderId", o.id, "token", o.token, "gatewayId", gateway, "paymentMethod", method,
		"returnUrl", "https://shop.example/orders/return"), extra...)
	return must(t, s.do(t, ordGuest, payCreateOp, vars("input", input)))
}

// clickOnPage is the buyer's browser on testpay's payment page, served by
// the app under /plugins/payment.testpay/pay/{ref}: it shows the page,
// then clicks Pay (or Fail) and is sent back to the shop.
func (s *payShop) clickOnPage(t *testing.T, actionURL, button string) {
	t.Helper()
	u, err := url.Parse(actionURL)
	if err != nil || !strings.HasPrefix(u.Path, "/plugins/"+testpayID+"/pay/") {
		t.Fatalf("not testpay's page: %q", actionURL)
	}
	page := s.ta.URL + u.Path
	resp, err := http.Get(page)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !bytes.Contains(body, []byte(`id="pay"`)) {
		t.Fatalf("payment page: %d %s", resp.StatusCode, body)
	}
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err = noFollow.PostForm(page, url.Values{"action": {button}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "https://shop.example/orders/return" {
		t.Fatalf("clicking %s: %d to %q", button, resp.StatusCode, resp.Header.Get("Location"))
	}
}

// notify sends testpay's signed notification of a payment's success to
// the app's webhook endpoint, as testpay does (its own delivery goes to
// the configured public URL, which no test serves), and returns the
// status the gateway gets.
func (s *payShop) notify(t *testing.T, paymentID string, minor int64) int {
	t.Helper()
	body := fmt.Sprintf(`{"id":"evt_graphql_%s","type":"payment.succeeded","created":%d,"data":{"attempt_id":%q,"payment":"","amount":%d,"currency":"CNY"}}`,
		paymentID, time.Now().Unix(), paymentID, minor)
	now := time.Now()
	mac := hmac.New(sha256.New, []byte(testpaySecret))
	fmt.Fprintf(mac, "%d.%s", now.Unix(), body)
	req, _ := http.NewRequest(http.MethodPost, s.ta.URL+"/webhooks/"+testpayID, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Testpay-Signature", fmt.Sprintf("t=%d,v1=%s", now.Unix(), hex.EncodeToString(mac.Sum(nil))))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// flags returns the flags of the flagged events of a payment.
func (s *payShop) flags(t *testing.T, paymentID string) []string {
	t.Helper()
	res := must(t, s.do(t, ordFinance, flaggedOp, vars("first", 100)))
	var out []string
	for _, e := range res.get("flaggedPaymentEvents").([]any) {
		if m := e.(map[string]any); m["paymentId"] == paymentID {
			out = append(out, m["flag"].(string))
		}
	}
	slices.Sort(out)
	return out
}

// ledger returns an order's ledger as "KIND amount" rows, as staff read it.
func (s *payShop) ledger(t *testing.T, orderID string) []string {
	t.Helper()
	res := must(t, s.do(t, ordFinance, staffOrderOp, vars("id", orderID)))
	var out []string
	for _, e := range res.get("order", "paymentLedger").([]any) {
		m := e.(map[string]any)
		out = append(out, m["kind"].(string)+" "+m["amount"].(map[string]any)["amount"].(string))
	}
	return out
}

// paymentPost sends a payment operation over HTTP as a guest, with the
// Idempotency-Key header when key is not empty.
func paymentPost(t *testing.T, base, query string, v map[string]any, key string) gqlResult {
	t.Helper()
	var h http.Header
	if key != "" {
		h = http.Header{graphql.IdempotencyKeyHeader: {key}}
	}
	return guestPost(t, base, query, v, h)
}

// subjectQueries counts the SQL statements run for one caller.
type subjectQueries struct {
	id string
	n  atomic.Int64
}

func (c *subjectQueries) BeforeQuery(ctx context.Context, _ *bun.QueryEvent) context.Context {
	return ctx
}

func (c *subjectQueries) AfterQuery(ctx context.Context, _ *bun.QueryEvent) {
	if authz.SubjectFrom(ctx).ID == c.id {
		c.n.Add(1)
	}
}

func eq(t *testing.T, what string, got, want any) {
	t.Helper()
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("%s = %v, want %v", what, got, want)
	}
}

// TestPayments: the buyer's and the staff's payment operations through
// GraphQL, with the real testpay and banktransfer plugin processes, on
// SQLite and PostgreSQL; then the attacks on them and the buyer's live
// status page, on the same shop (one app per engine for all of it).
func TestPayments(t *testing.T) {
	testpay, banktransfer := payBinaries(t)
	testkit.ForEachEngine(t, func(t *testing.T, ta *testkit.TestApp) {
		s := newPayShop(t, ta, testpay, banktransfer)

		t.Run("a guest pays on testpay's page", func(t *testing.T) {
			o := s.guestOrder(t, 1)
			ms := must(t, s.do(t, ordGuest, methodsOp, vars("id", o.id, "token", o.token)))
			want := `[{"actions":["INSTRUCTIONS"],"gatewayId":"payment.banktransfer","manualCapture":false,"name":"Bank transfer"},` +
				`{"actions":["NONE","REDIRECT","QR_CODE"],"gatewayId":"payment.testpay","manualCapture":true,"name":"Test payments"}]`
			eq(t, "methods", testkit.EncodeJSON(t, ms.get("availablePaymentMethods")), want)

			res := s.pay(t, o, testpayID, "redirect", "idempotencyKey", "guest-pays-1")
			p := "paymentCreate.payment."
			id := res.str("paymentCreate", "payment", "id")
			eq(t, p+"state", res.str("paymentCreate", "payment", "state"), "PENDING")
			eq(t, p+"amount", res.str("paymentCreate", "payment", "amount", "amount"), o.total)
			eq(t, p+"action.type", res.str("paymentCreate", "payment", "action", "type"), "REDIRECT")
			eq(t, p+"merchantMessage", res.get("paymentCreate", "payment", "merchantMessage"), nil)
			eq(t, p+"events", res.get("paymentCreate", "payment", "events"), []any{})
			eq(t, p+"order.paymentStatus", res.str("paymentCreate", "payment", "order", "paymentStatus"), "PENDING")

			// The return page reads the payment with the token; without it
			// a guest sees nothing.
			eq(t, "payment with token", must(t, s.do(t, ordGuest, payQueryOp, vars("id", id, "token", o.token))).str("payment", "state"), "PENDING")
			eq(t, "payment without token", must(t, s.do(t, ordGuest, payQueryOp, vars("id", id))).get("payment"), nil)

			// Back from the page, which is no proof: the refresh asks
			// testpay, which says paid.
			s.clickOnPage(t, res.str("paymentCreate", "payment", "action", "url"), "pay")
			res = must(t, s.do(t, ordGuest, payRefreshOp, in("id", id, "token", o.token)))
			eq(t, "refreshed state", res.str("paymentRefresh", "payment", "state"), "CAPTURED")
			eq(t, "captured", res.str("paymentRefresh", "payment", "captured", "amount"), o.total)
			eq(t, "order", res.str("paymentRefresh", "payment", "order", "paymentStatus"), "PAID")
			eq(t, "amountPaid", res.str("paymentRefresh", "payment", "order", "amountPaid", "amount"), o.total)

			// testpay's notification arrives after: one capture still.
			eq(t, "webhook status", s.notify(t, id, o.minor), http.StatusOK)
			eq(t, "ledger", s.ledger(t, o.id), []string{"CAPTURE " + o.total})

			// The buyer sees their payment, not what is the shop's.
			b := must(t, s.do(t, ordGuest, buyerOrderOp, vars("token", o.token)))
			eq(t, "buyer's payments", testkit.EncodeJSON(t, b.get("orderByToken", "payments")),
				`[{"events":[],"id":"`+id+`","merchantMessage":null,"state":"CAPTURED"}]`)
			eq(t, "buyer's ledger", b.get("orderByToken", "paymentLedger"), []any{})
			eq(t, "buyer's amountPaid", b.str("orderByToken", "amountPaid", "amount"), o.total)

			// Staff see the gateway's events: the answer to the creation,
			// the refresh's question, the notification (a duplicate fact).
			st := must(t, s.do(t, ordFinance, staffOrderOp, vars("id", o.id)))
			var sources []string
			for _, e := range st.get("order", "payments", "0", "events").([]any) {
				m := e.(map[string]any)
				sources = append(sources, m["source"].(string)+":"+m["outcome"].(string))
			}
			eq(t, "events", sources, []string{"CREATE:APPLIED", "RECONCILE:APPLIED", "WEBHOOK:IGNORED"})
		})

		t.Run("a decline, then another method", func(t *testing.T) {
			o := s.guestOrder(t, 1)
			res := s.pay(t, o, testpayID, "decline")
			eq(t, "state", res.str("paymentCreate", "payment", "state"), "FAILED")
			eq(t, "declineCode", res.str("paymentCreate", "payment", "declineCode"), "card_declined")
			eq(t, "order", res.str("paymentCreate", "payment", "order", "paymentStatus"), "PENDING")

			res = s.pay(t, o, banktransferID, "")
			id := res.str("paymentCreate", "payment", "id")
			eq(t, "bank transfer", res.str("paymentCreate", "payment", "state"), "PENDING")
			eq(t, "action", res.str("paymentCreate", "payment", "action", "type"), "INSTRUCTIONS")
			if !strings.Contains(res.str("paymentCreate", "payment", "action", "instructions"), "DE89") {
				t.Fatalf("instructions: %q", res.str("paymentCreate", "payment", "action", "instructions"))
			}
			// Staff see the money arrive.
			res = must(t, s.do(t, ordFinance, confirmOp, in("orderId", o.id, "amount", cnyInput(o.total), "idempotencyKey", "bt-"+id)))
			eq(t, "confirmed", res.str("paymentConfirmBankTransfer", "payment", "state"), "CAPTURED")
			eq(t, "order", res.str("paymentConfirmBankTransfer", "payment", "order", "paymentStatus"), "PAID")
			// Paid: no more payments.
			res = s.do(t, ordGuest, payCreateOp, in("orderId", o.id, "token", o.token, "gatewayId", testpayID))
			eq(t, "pay again", res.codes(), []string{payment.CodeOrderAlreadyPaid})
			eq(t, "buyer's payments", len(must(t, s.do(t, ordGuest, buyerOrderOp, vars("token", o.token))).get("orderByToken", "payments").([]any)), 2)
		})

		t.Run("the order names the gateway chosen, then the one that took the money", func(t *testing.T) {
			const methodOp = `query($id: ID!, $m: String) { order(id: $id) { paymentMethod paymentStatus }
				orders(first: 100, filter: {paymentMethod: $m}) { nodes { id } } }`
			o := s.guestOrder(t, 1)
			method := func(step, want, status string) {
				t.Helper()
				res := must(t, s.do(t, ordFinance, methodOp, vars("id", o.id, "m", want)))
				eq(t, step+": paymentMethod", res.get("order", "paymentMethod"), want)
				eq(t, step+": paymentStatus", res.str("order", "paymentStatus"), status)
				if !strings.Contains(testkit.EncodeJSON(t, res.get("orders", "nodes")), o.id) {
					t.Fatalf("%s: orders filtered by %s miss the order: %v", step, want, res.get("orders", "nodes"))
				}
			}
			if m := must(t, s.do(t, ordFinance, methodOp, vars("id", o.id, "m", testpayID))).get("order", "paymentMethod"); m != nil {
				t.Fatalf("before any payment: paymentMethod %v", m)
			}
			eq(t, "decline", s.pay(t, o, testpayID, "decline").str("paymentCreate", "payment", "state"), "FAILED")
			method("a declined card", testpayID, "PENDING")
			eq(t, "bank transfer", s.pay(t, o, banktransferID, "").str("paymentCreate", "payment", "state"), "PENDING")
			method("instructions for a transfer", banktransferID, "PENDING")
			// The buyer turns to a card page, which closes the transfer's
			// instructions; the transfer arrives anyway and staff confirm it.
			eq(t, "card page", s.pay(t, o, testpayID, "redirect").str("paymentCreate", "payment", "state"), "PENDING")
			method("a card page", testpayID, "PENDING")
			res := must(t, s.do(t, ordFinance, confirmOp, in("orderId", o.id, "amount", cnyInput(o.total), "idempotencyKey", "bt-method-"+o.id)))
			eq(t, "confirmed", res.str("paymentConfirmBankTransfer", "payment", "state"), "CAPTURED")
			method("the transfer confirmed", banktransferID, "PAID")
		})

		t.Run("paymentCreate is idempotent", func(t *testing.T) {
			o := s.guestOrder(t, 1)
			first := s.pay(t, o, testpayID, "redirect", "idempotencyKey", "same-key")
			again := s.pay(t, o, testpayID, "redirect", "idempotencyKey", "same-key")
			eq(t, "same key", again.str("paymentCreate", "payment", "id"), first.str("paymentCreate", "payment", "id"))
			other := s.do(t, ordGuest, payCreateOp, in("orderId", o.id, "token", o.token, "gatewayId", testpayID, "paymentMethod", "redirect",
				"returnUrl", "https://shop.example/elsewhere", "idempotencyKey", "same-key"))
			eq(t, "same key, other input", other.codes(), []string{idempotency.CodeKeyReused})
			eq(t, "refused payload", other.get("paymentCreate", "payment"), nil)

			// The Idempotency-Key header, over HTTP.
			input := in("orderId", o.id, "token", o.token, "gatewayId", testpayID, "paymentMethod", "redirect")
			h1 := must(t, paymentPost(t, s.ta.URL, payCreateOp, input, "header-key"))
			h2 := must(t, paymentPost(t, s.ta.URL, payCreateOp, input, "header-key"))
			eq(t, "header key", h2.str("paymentCreate", "payment", "id"), h1.str("paymentCreate", "payment", "id"))
			if h1.str("paymentCreate", "payment", "id") == first.str("paymentCreate", "payment", "id") {
				t.Fatal("another key returned the first payment")
			}
			both := paymentPost(t, s.ta.URL, payCreateOp, in("orderId", o.id, "token", o.token, "gatewayId", testpayID, "idempotencyKey", "input-key"), "header-key")
			eq(t, "two keys", both.codes(), []string{resolver.CodeIdempotencyKeyMismatch})
		})

		t.Run("staff capture part of an authorization, and void another", func(t *testing.T) {
			// A buyer cannot hold the money: the shop's capture mode decides.
			o := s.guestOrder(t, 1)
			eq(t, "a buyer asking to hold the money", s.pay(t, o, testpayID, "succeed", "manualCapture", true).str("paymentCreate", "payment", "state"), "CAPTURED")
			captureMode := `mutation($input: ShopSettingsUpdateInput!) { shopSettingsUpdate(input: $input) { shopSettings { paymentCaptureMode } userErrors { code } } }`
			eq(t, "manual capture", must(t, s.do(t, ordOwner, captureMode, in("paymentCaptureMode", "MANUAL"))).str("shopSettingsUpdate", "shopSettings", "paymentCaptureMode"), "MANUAL")
			o = s.guestOrder(t, 1)
			res := s.pay(t, o, testpayID, "succeed")
			must(t, s.do(t, ordOwner, captureMode, in("paymentCaptureMode", "AUTOMATIC")))
			id := res.str("paymentCreate", "payment", "id")
			eq(t, "authorized", res.str("paymentCreate", "payment", "state"), "AUTHORIZED")
			eq(t, "manualCapture", res.get("paymentCreate", "payment", "manualCapture"), true)
			eq(t, "order", res.str("paymentCreate", "payment", "order", "paymentStatus"), "AUTHORIZED")

			part := cny(t, o.total, -1000)
			if r := s.do(t, paySupport, captureOp, in("paymentId", id, "idempotencyKey", "cap-1")); !r.has("FORBIDDEN") {
				t.Fatalf("support captures: %v", r.codes())
			}
			eq(t, "no key", s.do(t, ordFinance, captureOp, in("paymentId", id)).codes(), []string{idempotency.CodeInvalidKey})
			eq(t, "above the authorization", s.do(t, ordFinance, captureOp, in("paymentId", id, "amount", cnyInput(cny(t, o.total, 1)),
				"idempotencyKey", "cap-0")).codes(), []string{payment.CodeCaptureExceedsAuthorized})
			res = must(t, s.do(t, ordFinance, captureOp, in("paymentId", id, "amount", cnyInput(part), "idempotencyKey", "cap-1")))
			eq(t, "captured", res.str("paymentCapture", "payment", "state"), "CAPTURED")
			eq(t, "captured amount", res.str("paymentCapture", "payment", "captured", "amount"), part)
			// Less than the total was taken: not paid, and flagged for staff.
			eq(t, "order", res.str("paymentCapture", "payment", "order", "paymentStatus"), "PARTIALLY_PAID")
			eq(t, "flags", s.flags(t, id), []string{payment.FlagUnderpaid})
			again := must(t, s.do(t, ordFinance, captureOp, in("paymentId", id, "amount", cnyInput(part), "idempotencyKey", "cap-1")))
			eq(t, "retried capture", again.str("paymentCapture", "payment", "captured", "amount"), part)
			late := s.do(t, ordFinance, captureOp, in("paymentId", id, "idempotencyKey", "cap-2"))
			eq(t, "capture again", testkit.EncodeJSON(t, late.get("paymentCapture", "userErrors")),
				`[{"code":"PAYMENT_NOT_AUTHORIZED","field":["input","paymentId"]}]`)
			eq(t, "ledger", s.ledger(t, o.id), []string{"AUTHORIZATION " + o.total, "CAPTURE " + part, "VOID 10.00"})
			st := must(t, s.do(t, ordFinance, staffOrderOp, vars("id", o.id)))
			eq(t, "amountAuthorized", st.str("order", "amountAuthorized", "amount"), o.total)
			eq(t, "amountPaid", st.str("order", "amountPaid", "amount"), part)

			// Staff may hold one payment's money in a shop that captures at once.
			o2 := s.guestOrder(t, 1)
			id2 := must(t, s.do(t, ordFinance, payCreateOp, in("orderId", o2.id, "gatewayId", testpayID, "paymentMethod", "succeed",
				"manualCapture", true))).str("paymentCreate", "payment", "id")
			res = must(t, s.do(t, ordFinance, voidOp, in("paymentId", id2, "idempotencyKey", "void-1")))
			eq(t, "voided", res.str("paymentVoid", "payment", "state"), "CANCELLED")
			eq(t, "order", res.str("paymentVoid", "payment", "order", "paymentStatus"), "VOIDED")
			eq(t, "ledger", s.ledger(t, o2.id), []string{"AUTHORIZATION " + o2.total, "VOID " + o2.total})
		})

		t.Run("buyers racing paymentCreate are charged once", func(t *testing.T) {
			o := s.guestOrder(t, 1)
			const n = 4
			res := make([]gqlResult, n)
			var wg sync.WaitGroup
			for i := range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					res[i] = s.do(t, ordGuest, payCreateOp, in("orderId", o.id, "token", o.token, "gatewayId", testpayID,
						"returnUrl", "https://shop.example/r", "paymentMethod", "4242424242424242"))
				}()
			}
			wg.Wait()
			captured := 0
			for _, r := range res {
				switch codes := r.codes(); {
				case len(codes) == 0:
					eq(t, "state", r.str("paymentCreate", "payment", "state"), "CAPTURED")
					captured++
				case len(codes) == 1 && (codes[0] == payment.CodePaymentInProgress || codes[0] == payment.CodeOrderAlreadyPaid):
					eq(t, "refused payload", r.get("paymentCreate", "payment"), nil)
				default:
					t.Fatalf("paymentCreate: %v", codes)
				}
			}
			eq(t, "captured", captured, 1)
			st := must(t, s.do(t, ordFinance, staffOrderOp, vars("id", o.id)))
			eq(t, "paymentStatus", st.str("order", "paymentStatus"), "PAID")
			eq(t, "amountPaid", st.str("order", "amountPaid", "amount"), o.total)
			eq(t, "ledger", s.ledger(t, o.id), []string{"CAPTURE " + o.total})
			for _, p := range st.get("order", "payments").([]any) {
				eq(t, "flags", s.flags(t, p.(map[string]any)["id"].(string)), []string(nil))
			}
		})

		t.Run("refunds by lines and shipping count earlier ones", func(t *testing.T) {
			o := s.guestOrder(t, 2)
			s.pay(t, o, testpayID, "succeed")
			st := must(t, s.do(t, ordFinance, staffOrderOp, vars("id", o.id)))
			line, shipping := st.str("order", "lines", "0", "id"), st.str("order", "shipping", "amount")
			unit := func(key string) gqlResult {
				return s.do(t, ordFinance, refundOp, in("orderId", o.id, "lines", []any{vars("lineId", line, "quantity", 1)}, "idempotencyKey", key))
			}
			eq(t, "first unit", must(t, unit("ln-1")).str("orderRefund", "refund", "state"), "SUCCEEDED")
			eq(t, "second unit", must(t, unit("ln-2")).str("orderRefund", "refund", "state"), "SUCCEEDED")
			eq(t, "third unit of two", testkit.EncodeJSON(t, unit("ln-3").get("orderRefund", "userErrors")),
				`[{"code":"LINE_ALREADY_REFUNDED","field":["input","lines","0","quantity"]}]`)
			res := must(t, s.do(t, ordFinance, refundOp, in("orderId", o.id, "shipping", cnyInput(shipping), "idempotencyKey", "sh-1")))
			eq(t, "shipping", res.str("orderRefund", "refund", "state"), "SUCCEEDED")
			again := s.do(t, ordFinance, refundOp, in("orderId", o.id, "shipping", cnyInput("1.00"), "idempotencyKey", "sh-2"))
			eq(t, "shipping again", testkit.EncodeJSON(t, again.get("orderRefund", "userErrors")),
				`[{"code":"SHIPPING_ALREADY_REFUNDED","field":["input","shipping"]}]`)
			// Every unit and the whole shipping, with the 13 % tax added
			// to it, are what the buyer paid: nothing is left.
			st = must(t, s.do(t, ordFinance, staffOrderOp, vars("id", o.id)))
			eq(t, "paymentStatus", st.str("order", "paymentStatus"), "REFUNDED")
			eq(t, "amountRefunded", st.str("order", "amountRefunded", "amount"), o.total)
			eq(t, "amountPaid", st.str("order", "amountPaid", "amount"), "0.00")
		})

		t.Run("refunds by lines and shipping, never above the capture", func(t *testing.T) {
			o := s.guestOrder(t, 2)
			id := s.pay(t, o, testpayID, "succeed").str("paymentCreate", "payment", "id")
			st := must(t, s.do(t, ordFinance, staffOrderOp, vars("id", o.id)))
			eq(t, "paid", st.str("order", "paymentStatus"), "PAID")
			line, lineTotal, shipping := st.str("order", "lines", "0", "id"), st.str("order", "lines", "0", "total", "amount"), st.str("order", "shipping", "amount")
			lt, _ := money.Parse(lineTotal, money.CNY)
			sh, _ := money.Parse(shipping, money.CNY)
			half := money.New(lt.Amount()/2, money.CNY).Decimal()
			// The shipping comes back with the 13 % tax added to it.
			shTax := sh.Amount() * 13 / 100
			first := money.New(lt.Amount()/2+sh.Amount()+shTax, money.CNY).Decimal()

			mismatch := s.do(t, ordFinance, refundOp, in("orderId", o.id, "lines", []any{vars("lineId", line, "quantity", 1)},
				"amount", cnyInput("1.00"), "idempotencyKey", "rf-0"))
			eq(t, "mismatch", mismatch.codes(), []string{payment.CodeRefundAmountMismatch})
			if r := s.do(t, paySupport, refundOp, in("orderId", o.id, "amount", cnyInput("1.00"), "idempotencyKey", "rf-s")); !r.has("FORBIDDEN") {
				t.Fatalf("support refunds: %v", r.codes())
			}
			res := must(t, s.do(t, ordFinance, refundOp, in("orderId", o.id, "lines", []any{vars("lineId", line, "quantity", 1)},
				"shipping", cnyInput(shipping), "reason", "one tin arrived dented", "idempotencyKey", "rf-1")))
			r := "orderRefund.refund."
			eq(t, r+"state", res.str("orderRefund", "refund", "state"), "SUCCEEDED")
			eq(t, r+"amount", res.str("orderRefund", "refund", "amount", "amount"), first)
			eq(t, r+"shipping", res.str("orderRefund", "refund", "shipping", "amount"), shipping)
			eq(t, r+"shippingTax", res.str("orderRefund", "refund", "shippingTax", "amount"), money.New(shTax, money.CNY).Decimal())
			eq(t, r+"lines", testkit.EncodeJSON(t, res.get("orderRefund", "refund", "lines")),
				`[{"amount":{"amount":"`+half+`"},"lineId":"`+line+`","quantity":1}]`)
			eq(t, r+"paymentId", res.str("orderRefund", "refund", "paymentId"), id)
			eq(t, r+"staffId", res.str("orderRefund", "refund", "staffId"), ordFinance.ID)
			eq(t, "order", must(t, s.do(t, ordFinance, staffOrderOp, vars("id", o.id))).str("order", "paymentStatus"), "PARTIALLY_REFUNDED")

			left := o.minor - lt.Amount()/2 - sh.Amount() - shTax
			over := s.do(t, ordFinance, refundOp, in("orderId", o.id, "amount", cnyInput(money.New(left+1, money.CNY).Decimal()), "idempotencyKey", "rf-2"))
			eq(t, "over-refund", testkit.EncodeJSON(t, over.get("orderRefund", "userErrors")),
				`[{"code":"REFUND_EXCEEDS_CAPTURED","field":["input","amount"]}]`)
			res = must(t, s.do(t, payManager, refundOp, in("orderId", o.id, "amount", cnyInput(money.New(left, money.CNY).Decimal()), "idempotencyKey", "rf-3")))
			eq(t, "the rest", res.str("orderRefund", "refund", "state"), "SUCCEEDED")

			st = must(t, s.do(t, ordFinance, staffOrderOp, vars("id", o.id)))
			eq(t, "refunded", st.str("order", "paymentStatus"), "REFUNDED")
			eq(t, "amountRefunded", st.str("order", "amountRefunded", "amount"), o.total)
			eq(t, "amountPaid", st.str("order", "amountPaid", "amount"), "0.00")
			eq(t, "staff's refunds", testkit.EncodeJSON(t, st.get("order", "refunds")),
				`[{"amount":{"amount":"`+first+`"},"reason":"one tin arrived dented","staffId":"stf_finance","state":"SUCCEEDED"},`+
					`{"amount":{"amount":"`+money.New(left, money.CNY).Decimal()+`"},"reason":null,"staffId":"stf_manager","state":"SUCCEEDED"}]`)
			// Through a payment, the same order with the same money.
			nested := must(t, s.do(t, ordFinance, `query($id: ID!) { order(id: $id) { payments { order { amountRefunded { amount } refunds { state } } } } }`,
				vars("id", o.id)))
			eq(t, "nested", testkit.EncodeJSON(t, nested.get("order", "payments", "0", "order")),
				`{"amountRefunded":{"amount":"`+o.total+`"},"refunds":[{"state":"SUCCEEDED"},{"state":"SUCCEEDED"}]}`)
			b := must(t, s.do(t, ordGuest, buyerOrderOp, vars("token", o.token)))
			eq(t, "buyer's refunds", testkit.EncodeJSON(t, b.get("orderByToken", "refunds")),
				`[{"amount":{"amount":"`+first+`"},"reason":null,"staffId":null,"state":"SUCCEEDED"},`+
					`{"amount":{"amount":"`+money.New(left, money.CNY).Decimal()+`"},"reason":null,"staffId":null,"state":"SUCCEEDED"}]`)
		})

		t.Run("bank transfers under- and over-paid are flagged", func(t *testing.T) {
			o := s.guestOrder(t, 1)
			id := s.pay(t, o, banktransferID, "").str("paymentCreate", "payment", "id")
			if r := s.do(t, ordClerk, confirmOp, in("orderId", o.id, "amount", cnyInput(o.total), "idempotencyKey", "bt-c")); !r.has("FORBIDDEN") {
				t.Fatalf("the clerk confirms: %v", r.codes())
			}
			res := must(t, s.do(t, ordFinance, confirmOp, in("orderId", o.id, "amount", cnyInput(cny(t, o.total, -100)), "idempotencyKey", "bt-u1")))
			eq(t, "underpaid", res.str("paymentConfirmBankTransfer", "payment", "state"), "PENDING")
			// Money in short of the total: the buyer owes the rest, by any method.
			eq(t, "order", res.str("paymentConfirmBankTransfer", "payment", "order", "paymentStatus"), "PARTIALLY_PAID")
			eq(t, "flags", s.flags(t, id), []string{payment.FlagUnderpaid})
			res = must(t, s.do(t, ordFinance, confirmOp, in("orderId", o.id, "paymentId", id, "amount", cnyInput("1.00"), "idempotencyKey", "bt-u2")))
			eq(t, "paid in full", res.str("paymentConfirmBankTransfer", "payment", "state"), "CAPTURED")
			eq(t, "order", res.str("paymentConfirmBankTransfer", "payment", "order", "paymentStatus"), "PAID")

			o2 := s.guestOrder(t, 1)
			id2 := s.pay(t, o2, banktransferID, "").str("paymentCreate", "payment", "id")
			res = must(t, s.do(t, ordFinance, confirmOp, in("orderId", o2.id, "amount", cnyInput(cny(t, o2.total, 500)), "idempotencyKey", "bt-o")))
			eq(t, "overpaid", res.str("paymentConfirmBankTransfer", "payment", "captured", "amount"), cny(t, o2.total, 500))
			eq(t, "flags", s.flags(t, id2), []string{payment.FlagOverpaid})

			if r := s.do(t, ordClerk, flaggedOp, nil); !r.has("FORBIDDEN") {
				t.Fatalf("the clerk reads flagged events: %v", r.codes())
			}
			if r := must(t, s.do(t, paySupport, flaggedOp, vars("first", 1))); len(r.get("flaggedPaymentEvents").([]any)) != 1 {
				t.Fatalf("first: 1 gave %v", r.get("flaggedPaymentEvents"))
			}

			// Staff resolve the overpayment's flag once they dealt with it.
			var flagID string
			for _, e := range must(t, s.do(t, ordFinance, flaggedOp, vars("first", 100))).get("flaggedPaymentEvents").([]any) {
				if m := e.(map[string]any); m["paymentId"] == id2 {
					flagID = m["id"].(string)
				}
			}
			for _, who := range []authz.Subject{ordClerk, paySupport, ordGuest} {
				if r := s.do(t, who, resolveOp, in("id", flagID, "note", "mine")); !r.has("FORBIDDEN") && !r.has("UNAUTHENTICATED") {
					t.Fatalf("%s resolves a flag: %v", who.ID, r.codes())
				}
			}
			if r := s.do(t, ordFinance, resolveOp, in("id", flagID, "note", "refunded\x00")); !r.has("INVALID_CHARACTERS") {
				t.Fatalf("a control character in the note: %v", r.codes())
			}
			eq(t, "still open", s.flags(t, id2), []string{payment.FlagOverpaid})
			res = must(t, s.do(t, ordFinance, resolveOp, in("id", flagID, "note", "Sent the 5.00 back by bank transfer.")))
			eq(t, "resolved", testkit.EncodeJSON(t, res.get("paymentEventResolve", "event", "resolvedBy")), `"stf_finance"`)
			eq(t, "note", res.str("paymentEventResolve", "event", "resolutionNote"), "Sent the 5.00 back by bank transfer.")
			eq(t, "open flags", len(s.flags(t, id2)), 0)
			all := must(t, s.do(t, ordFinance, `{ flaggedPaymentEvents(first: 100, resolved: true) { id resolvedAt flag } }`, nil))
			found := false
			for _, e := range all.get("flaggedPaymentEvents").([]any) {
				if m := e.(map[string]any); m["id"] == flagID {
					found = m["resolvedAt"] != nil && m["flag"] == payment.FlagOverpaid
				}
			}
			if !found {
				t.Fatalf("the resolved flag is not listed with resolved: true: %v", all.get("flaggedPaymentEvents"))
			}
			again := s.do(t, ordFinance, resolveOp, in("id", flagID))
			eq(t, "again", testkit.EncodeJSON(t, again.get("paymentEventResolve", "userErrors")),
				`[{"code":"FLAG_ALREADY_RESOLVED","field":["input","id"]}]`)
		})

		t.Run("the setting for money that arrives for a cancelled order", func(t *testing.T) {
			res := must(t, s.do(t, ordOwner, settingsPayOp, in("refundCancelledOrderPayments", true,
				"paymentMethodOrder", []any{testpayID, banktransferID})))
			eq(t, "settings", testkit.EncodeJSON(t, res.get("shopSettingsUpdate", "shopSettings")),
				`{"paymentMethodOrder":["payment.testpay","payment.banktransfer"],"refundCancelledOrderPayments":true}`)
			o := s.guestOrder(t, 1)
			ms := must(t, s.do(t, ordGuest, methodsOp, vars("id", o.id, "token", o.token)))
			eq(t, "first method", ms.str("availablePaymentMethods", "0", "gatewayId"), testpayID)

			bad := s.do(t, ordOwner, settingsPayOp, in("paymentMethodOrder", []any{"payment testpay"}))
			eq(t, "a malformed id", testkit.EncodeJSON(t, bad.get("shopSettingsUpdate", "userErrors")),
				`[{"code":"INVALID_PAYMENT_METHOD","field":["input","paymentMethodOrder","0"]}]`)
			many := make([]any, 51)
			for i := range many {
				many[i] = fmt.Sprintf("payment.p%d", i)
			}
			eq(t, "too many", s.do(t, ordOwner, settingsPayOp, in("paymentMethodOrder", many)).codes(), []string{"TOO_MANY"})
			if r := s.do(t, ordGuest, `{ shopSettings { defaultCurrency paymentMethodOrder } }`, nil); !r.has("UNAUTHENTICATED") || r.str("shopSettings", "defaultCurrency") != "CNY" {
				t.Fatalf("a guest reads the payment settings: %v %v", r.codes(), r.Data)
			}

			// The buyer's transfer arrives after the order was cancelled
			// (cancelling closed the gateways' trades: a card page can no
			// longer be paid, a transfer still arrives): recorded, flagged
			// and, as the shop says, refunded (banktransfer's refunds are
			// made by staff: PENDING with instructions).
			cancelled := func(t *testing.T) (placed, string) {
				o := s.guestOrder(t, 1)
				res := s.pay(t, o, banktransferID, "")
				c := must(t, s.do(t, ordGuest, `mutation($input: OrderCancelInput!) { orderCancel(input: $input) { order { status } userErrors { code } } }`,
					in("token", o.token)))
				eq(t, "cancelled", c.str("orderCancel", "order", "status"), "CANCELLED")
				id := res.str("paymentCreate", "payment", "id")
				must(t, s.do(t, ordFinance, confirmOp, in("orderId", o.id, "amount", cnyInput(o.total), "idempotencyKey", "bt-late-"+id)))
				return o, id
			}
			o, id := cancelled(t)
			eq(t, "flags", s.flags(t, id), []string{payment.FlagCancelledOrder})
			st := must(t, s.do(t, ordFinance, staffOrderOp, vars("id", o.id)))
			eq(t, "refunded at once", testkit.EncodeJSON(t, st.get("order", "refunds")),
				`[{"amount":{"amount":"`+o.total+`"},"reason":"money arrived for a cancelled order","staffId":null,"state":"PENDING"}]`)

			must(t, s.do(t, ordOwner, settingsPayOp, in("refundCancelledOrderPayments", false)))
			o, id = cancelled(t)
			eq(t, "flags", s.flags(t, id), []string{payment.FlagCancelledOrder})
			st = must(t, s.do(t, ordFinance, staffOrderOp, vars("id", o.id)))
			eq(t, "left to staff", st.get("order", "refunds"), []any{})
			eq(t, "amountPaid", st.str("order", "amountPaid", "amount"), o.total)
		})

		t.Run("a page of orders reads its payments in one batch", func(t *testing.T) {
			const page = `query($first: Int) { orders(first: $first) { nodes { id paymentStatus amountPaid { amount } amountRefunded { amount }
				amountOutstanding { amount } payments { state order { id } events { source } } refunds { state } paymentLedger { kind } } } }`
			// The statements run for the finance clerk's request, not the
			// app's workers: a page of 2 costs what a page of 11 does.
			counter := &subjectQueries{id: ordFinance.ID}
			s.ta.DB.AddQueryHook(counter)
			count := func(first int) int64 {
				counter.n.Store(0)
				if n := len(must(t, s.do(t, ordFinance, page, vars("first", first))).get("orders", "nodes").([]any)); n != first {
					t.Fatalf("first %d: %d orders", first, n)
				}
				return counter.n.Load()
			}
			small, large := count(2), count(11)
			t.Logf("statements: %d for 2 orders, %d for 11", small, large)
			if small != large || large > 7 {
				t.Fatalf("a page of 2 orders ran %d statements, of 11 %d; want the same, at most 7", small, large)
			}
			res := must(t, s.do(t, ordFinance, page, vars("first", 100)))
			nodes := res.get("orders", "nodes").([]any)
			paid := 0
			for _, n := range nodes {
				m := n.(map[string]any)
				for _, p := range m["payments"].([]any) {
					if p.(map[string]any)["order"].(map[string]any)["id"] != m["id"] {
						t.Fatalf("a payment listed under %s names another order", m["id"])
					}
				}
				if m["paymentStatus"] == "PAID" && m["amountPaid"] != nil {
					paid++
				}
			}
			if len(nodes) < 10 || paid < 3 {
				t.Fatalf("%d orders, %d paid", len(nodes), paid)
			}
			if r := s.do(t, ordClerk, `{ orders(first: 5) { nodes { payments { id } } } }`, nil); !r.has("FORBIDDEN") {
				t.Fatalf("the clerk reads payments: %v", r.codes())
			}
		})
		t.Run("attacks", func(t *testing.T) { paymentAttacks(t, s) })
		t.Run("live updates", func(t *testing.T) { paymentLiveUpdates(t, s) })
	})
}

// paymentAttacks: another buyer's order, payment or node; a buyer or a
// guest calling the staff's operations; mutations through GET; control
// characters and huge values; a huge page.
func paymentAttacks(t *testing.T, s *payShop) {
	ta := s.ta
	alice, _ := s.buyer(t, "alice.pays@example.com")
	bob, _ := s.buyer(t, "bob.pays@example.com")
	ao := s.buyerOrder(t, alice)
	aPay := must(t, s.do(t, alice, payCreateOp, in("orderId", ao.id, "gatewayId", testpayID, "paymentMethod", "redirect")))
	aID := aPay.str("paymentCreate", "payment", "id")
	eq(t, "alice's payment", aPay.str("paymentCreate", "payment", "state"), "PENDING")
	g := s.guestOrder(t, 1)
	gID := s.pay(t, g, testpayID, "redirect").str("paymentCreate", "payment", "id")

	t.Run("another buyer's order, payment and node", func(t *testing.T) {
		const nodeOp = `query($id: ID!) { node(id: $id) { id ... on Payment { state } } }`
		const nodesOp = `query($ids: [ID!]!) { nodes(ids: $ids) { id } }`
		for _, c := range []struct {
			name string
			as   authz.Subject
			id   string
			tok  any
		}{
			{"bob, alice's payment", bob, aID, nil},
			{"bob, the guest's payment", bob, gID, nil},
			{"a guest, alice's payment with another order's token", ordGuest, aID, g.token},
			{"a guest, the guest's payment without token", ordGuest, gID, nil},
			{"a guest, a wrong token", ordGuest, gID, "not-a-token"},
		} {
			if r := s.do(t, c.as, payQueryOp, vars("id", c.id, "token", c.tok)); r.get("payment") != nil || len(r.codes()) > 0 {
				t.Errorf("%s: payment %v %v", c.name, r.codes(), r.Data)
			}
			if r := s.do(t, c.as, payRefreshOp, in("id", c.id, "token", c.tok)); !slices.Equal(r.codes(), []string{payment.CodeAttemptNotFound}) {
				t.Errorf("%s: refresh %v", c.name, r.codes())
			}
		}
		if r := s.do(t, bob, nodeOp, vars("id", aID)); r.get("node") != nil || len(r.codes()) > 0 {
			t.Errorf("bob's node(alice's payment): %v %v", r.codes(), r.Data)
		}
		if r := s.do(t, bob, nodesOp, vars("ids", []any{aID, gID})); fmt.Sprint(r.get("nodes")) != "[<nil> <nil>]" {
			t.Errorf("bob's nodes: %v %v", r.codes(), r.Data)
		}
		eq(t, "alice's node", must(t, s.do(t, alice, nodeOp, vars("id", aID))).str("node", "state"), "PENDING")
		eq(t, "finance's node", must(t, s.do(t, ordFinance, nodeOp, vars("id", gID))).str("node", "state"), "PENDING")

		if r := s.do(t, bob, methodsOp, vars("id", ao.id)); !slices.Equal(r.codes(), []string{payment.CodeOrderNotFound}) {
			t.Errorf("bob's methods for alice's order: %v", r.codes())
		}
		if r := s.do(t, ordGuest, methodsOp, vars("id", ao.id, "token", g.token)); !slices.Equal(r.codes(), []string{payment.CodeOrderNotFound}) {
			t.Errorf("the guest's methods for alice's order: %v", r.codes())
		}
		for name, input := range map[string]map[string]any{
			"bob pays alice's order":                  in("orderId", ao.id, "gatewayId", testpayID),
			"bob pays the guest's order":              in("orderId", g.id, "gatewayId", testpayID),
			"a guest pays alice's order with a token": in("orderId", ao.id, "token", g.token, "gatewayId", testpayID),
		} {
			sub := bob
			if strings.HasPrefix(name, "a guest") {
				sub = ordGuest
			}
			if r := s.do(t, sub, payCreateOp, input); !slices.Equal(r.codes(), []string{payment.CodeOrderNotFound}) {
				t.Errorf("%s: %v", name, r.codes())
			}
		}
		// Alice's order shows bob no payments: it does not exist for him.
		if r := s.do(t, bob, `query($id: ID!) { order(id: $id) { payments { id } } }`, vars("id", ao.id)); r.get("order") != nil {
			t.Errorf("bob reads alice's order: %v", r.Data)
		}
		eq(t, "alice's own payments", len(must(t, s.do(t, alice, `query($id: ID!) { order(id: $id) { payments { id merchantMessage } } }`,
			vars("id", ao.id))).get("order", "payments").([]any)), 1)
	})

	t.Run("buyers and guests cannot run the staff's operations", func(t *testing.T) {
		huge := cnyInput("1000000000000.01")
		for _, c := range []struct {
			name, doc string
			v         map[string]any
		}{
			{"capture", captureOp, in("paymentId", aID, "idempotencyKey", "k")},
			{"capture, huge amount", captureOp, in("paymentId", aID, "amount", huge, "idempotencyKey", "k")},
			{"void", voidOp, in("paymentId", aID, "idempotencyKey", "k")},
			{"refund", refundOp, in("orderId", ao.id, "amount", cnyInput("1.00"), "idempotencyKey", "k")},
			{"refund, huge amount", refundOp, in("orderId", ao.id, "amount", huge, "idempotencyKey", "k")},
			{"confirm", confirmOp, in("orderId", ao.id, "amount", cnyInput(ao.total), "idempotencyKey", "k")},
			{"flagged", flaggedOp, vars("first", 5)},
			{"flagged, huge page", flaggedOp, vars("first", 100000)},
		} {
			if r := s.do(t, bob, c.doc, c.v); !slices.Equal(r.codes(), []string{"FORBIDDEN"}) {
				t.Errorf("bob, %s: %v", c.name, r.codes())
			}
			if r := s.do(t, ordGuest, c.doc, c.v); !slices.Equal(r.codes(), []string{"UNAUTHENTICATED"}) {
				t.Errorf("a guest, %s: %v", c.name, r.codes())
			}
		}
		// The fulfillment clerk reads orders but no payments.
		if r := s.do(t, ordClerk, payQueryOp, vars("id", aID)); !r.has("FORBIDDEN") {
			t.Errorf("the clerk reads a payment: %v", r.codes())
		}
		if r := s.do(t, paySupport, payCreateOp, in("orderId", ao.id, "gatewayId", testpayID)); !r.has("FORBIDDEN") {
			t.Errorf("support pays: %v", r.codes())
		}
		eq(t, "alice's ledger", s.ledger(t, ao.id), []string(nil))
	})

	t.Run("mutations through GET are refused", func(t *testing.T) {
		doc := `mutation { paymentCreate(input: {orderId: "` + g.id + `", token: "` + g.token + `", gatewayId: "payment.testpay"}) { payment { id } } }`
		resp, err := http.Get(ta.URL + "/graphql?" + url.Values{"query": {doc}}.Encode())
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		eq(t, "GET status", resp.StatusCode, http.StatusMethodNotAllowed)
		eq(t, "the guest's payments", len(must(t, s.do(t, ordFinance, staffOrderOp, vars("id", g.id))).get("order", "payments").([]any)), 1)
	})

	t.Run("control characters and huge values", func(t *testing.T) {
		o := s.guestOrder(t, 1)
		ref := func(kv ...any) map[string]any {
			return vars("input", with(vars("orderId", o.id, "token", o.token, "gatewayId", testpayID), kv...))
		}
		for name, v := range map[string]map[string]any{
			"a NUL in returnUrl":        ref("returnUrl", "https://shop.example/\x00r"),
			"a newline in returnUrl":    ref("returnUrl", "https://shop.example/r\nLocation: https://evil.example"),
			"an ESC in paymentMethod":   ref("paymentMethod", "card\x1b[2J"),
			"a DEL in the key":          ref("idempotencyKey", "k\x7f"),
			"a C1 control in the token": ref("token", o.token+"\u0085"),
		} {
			if r := s.do(t, ordGuest, payCreateOp, v); !r.has("INVALID_CHARACTERS") {
				t.Errorf("%s: %v", name, r.codes())
			}
		}
		if r := s.do(t, ordFinance, refundOp, in("orderId", o.id, "amount", cnyInput("1.00"), "reason", "line one\nline two", "idempotencyKey", "k")); !r.has("INVALID_CHARACTERS") {
			t.Errorf("a newline in a refund's reason: %v", r.codes())
		}
		long := "https://shop.example/" + strings.Repeat("a", 3000)
		for _, c := range []struct {
			name string
			sub  authz.Subject
			doc  string
			v    map[string]any
			want string
		}{
			{"a 3000-character returnUrl", ordGuest, payCreateOp, ref("returnUrl", long), `[{"code":"TOO_LONG","field":["input","returnUrl"]}]`},
			{"a relative returnUrl", ordGuest, payCreateOp, ref("returnUrl", "/orders/1"), `[{"code":"INVALID_URL","field":["input","returnUrl"]}]`},
			{"a javascript: returnUrl", ordGuest, payCreateOp, ref("returnUrl", "javascript:alert(1)"), `[{"code":"INVALID_URL","field":["input","returnUrl"]}]`},
			{"another site's returnUrl (an open redirect)", ordGuest, payCreateOp, ref("returnUrl", "https://evil.example/phish"),
				`[{"code":"RETURN_URL_NOT_ALLOWED","field":["input","returnUrl"]}]`},
			{"a 300-character hint", ordGuest, payCreateOp, ref("paymentMethod", strings.Repeat("4", 300)), `[{"code":"TOO_LONG","field":["input","paymentMethod"]}]`},
			{"a 300-character key", ordGuest, payCreateOp, ref("idempotencyKey", strings.Repeat("k", 300)), `[{"code":"INVALID_IDEMPOTENCY_KEY","field":["input","idempotencyKey"]}]`},
			{"an unknown gateway", ordGuest, payCreateOp, vars("input", vars("orderId", o.id, "token", o.token, "gatewayId", "payment.nope")), `[{"code":"PLUGIN_NOT_FOUND","field":["input","gatewayId"]}]`},
			{"a huge capture", ordFinance, captureOp, in("paymentId", aID, "amount", cnyInput("1000000000000.01"), "idempotencyKey", "k"),
				`[{"code":"AMOUNT_TOO_LARGE","field":["input","amount","amount"]}]`},
			{"an amount beyond int64", ordFinance, refundOp, in("orderId", o.id, "amount", cnyInput("99999999999999999999999"), "idempotencyKey", "k"),
				`[{"code":"INVALID_AMOUNT","field":["input","amount","amount"]}]`},
			{"a negative transfer", ordFinance, confirmOp, in("orderId", o.id, "amount", cnyInput("-5.00"), "idempotencyKey", "k"),
				`[{"code":"INVALID_AMOUNT","field":["input","amount"]}]`},
			{"another currency", ordFinance, confirmOp, in("orderId", o.id, "amount", vars("amount", "5.00", "currencyCode", "USD"), "idempotencyKey", "k"),
				`[{"code":"INVALID_AMOUNT","field":["input","amount"]}]`},
			{"a 600-character reason", ordFinance, refundOp, in("orderId", o.id, "amount", cnyInput("1.00"), "reason", strings.Repeat("r", 600), "idempotencyKey", "k"),
				`[{"code":"TOO_LONG","field":["input","reason"]}]`},
			{"201 refund lines", ordFinance, refundOp, in("orderId", o.id, "lines", slices.Repeat([]any{vars("lineId", "oli_x", "quantity", 1)}, 201), "idempotencyKey", "k"),
				`[{"code":"TOO_MANY_LINES","field":["input","lines"]}]`},
			{"a huge quantity", ordFinance, refundOp, in("orderId", o.id, "lines", []any{vars("lineId", "oli_x", "quantity", 2147483647)}, "idempotencyKey", "k"),
				`[{"code":"LINE_NOT_FOUND","field":["input","lines","0","lineId"]}]`},
		} {
			r := s.do(t, c.sub, c.doc, c.v)
			var ues any
			for _, v := range r.Data {
				ues = v.(map[string]any)["userErrors"]
			}
			if got := testkit.EncodeJSON(t, ues); got != c.want || len(r.Errors) > 0 {
				t.Errorf("%s: %s %v, want %s", c.name, got, r.Errors, c.want)
			}
		}
		for _, first := range []any{100000, 101, 0, -5} {
			if r := s.do(t, ordFinance, flaggedOp, vars("first", first)); !slices.Equal(r.codes(), []string{"INVALID_PAGE_SIZE"}) {
				t.Errorf("first %v: %v", first, r.codes())
			}
		}
		// Nothing of it was recorded.
		eq(t, "payments", must(t, s.do(t, ordFinance, staffOrderOp, vars("id", o.id))).get("order", "payments"), []any{})
	})
}

// paymentLiveUpdates: the buyer's status page follows the order with
// Subscription.orderUpdated; a declined payment, which leaves the order
// PENDING, is sent at once, and so is the payment that succeeds after it.
func paymentLiveUpdates(t *testing.T, s *payShop) {
	ta := s.ta
	o := s.guestOrder(t, 1)
	ctx, cancel := context.WithTimeout(authz.WithSubject(context.Background(), ordGuest), 30*time.Second)
	defer cancel()
	results, refused := ta.GraphQL.Subscribe(ctx, graphql.Request{
		Query:     `subscription($id: ID!, $token: String) { orderUpdated(id: $id, token: $token) { paymentStatus payments { state declineCode } amountPaid { amount } } }`,
		Variables: vars("id", o.id, "token", o.token)})
	if refused != nil {
		t.Fatalf("refused: %+v", refused.Errors)
	}
	// next waits for a result whose JSON satisfies ok.
	next := func(what string, ok func(string) bool) {
		t.Helper()
		deadline := time.After(liveWait)
		for {
			select {
			case r, open := <-results:
				if !open {
					t.Fatalf("the subscription ended waiting for %s", what)
				}
				if len(r.Errors) > 0 {
					t.Fatalf("%s: %+v", what, r.Errors[0])
				}
				if ok(string(r.Data)) {
					return
				}
			case <-deadline:
				t.Fatalf("no update with %s", what)
			}
		}
	}
	next("the order as it stands", func(d string) bool {
		return d == `{"orderUpdated":{"paymentStatus":"PENDING","payments":[],"amountPaid":null}}`
	})
	s.pay(t, o, testpayID, "decline")
	next("the decline", func(d string) bool {
		return d == `{"orderUpdated":{"paymentStatus":"PENDING","payments":[{"state":"FAILED","declineCode":"card_declined"}],"amountPaid":null}}`
	})
	s.pay(t, o, testpayID, "succeed")
	next("the payment", func(d string) bool {
		return d == `{"orderUpdated":{"paymentStatus":"PAID","payments":[{"state":"FAILED","declineCode":"card_declined"},`+
			`{"state":"CAPTURED","declineCode":null}],"amountPaid":{"amount":"`+o.total+`"}}}`
	})
}
