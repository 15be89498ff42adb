package app_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/kassahq/kassa/core/app"
	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/catalog"
	"github.com/kassahq/kassa/core/config"
	"github.com/kassahq/kassa/core/money"
	"github.com/kassahq/kassa/core/order"
	"github.com/kassahq/kassa/core/payment"
	"github.com/kassahq/kassa/core/plugin"
	"github.com/kassahq/kassa/core/pricing"
	"github.com/kassahq/kassa/core/store"
	"github.com/kassahq/kassa/core/store/storetest"
	"github.com/kassahq/kassa/core/testkit"
	"github.com/kassahq/kassa/core/testkit/invariant"
)

const (
	testpayID = "payment.testpay"
	// testpaySecret is the webhook_secret payApp gives testpay: the
	// tests sign notifications with it as testpay does.
	testpaySecret = "whsec_webhook_route_test_0123456789"
	// redirectCard makes testpay wait for the buyer on its payment page:
	// the attempt stays PENDING and nothing is notified until a test
	// sends the notification.
	redirectCard = "4000000000003220"
)

// testpayBinary builds the reference testpay plugin once per test binary.
var testpayBinary = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "kassa-app-testpay-")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "testpay")
	cmd := exec.Command("go", "build", "-trimpath", "-o", bin, "../../plugins/testpay")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build testpay: %v\n%s", err, out)
	}
	return bin, nil
})

// payApp is a whole started Kassa instance served over HTTP on a
// loopback port that is also its public URL, so the notify URL testpay
// is given (URL/webhooks/payment.testpay) reaches it; with the real
// testpay plugin installed, configured with testpaySecret and enabled, and
// a product to order.
type payApp struct {
	*app.App
	URL     string
	product catalog.Product
	variant string
	carts   atomic.Int64
	// served, when set, is told how long the server took to answer each
	// request, from the request read to the answer written.
	served atomic.Pointer[func(r *http.Request, took time.Duration)]
}

// newPayApp builds a payApp on the engine; everything stops when the test
// ends.
func newPayApp(t testing.TB, engine testkit.Engine) *payApp {
	t.Helper()
	bin, err := testpayBinary()
	if err != nil {
		t.Fatal(err)
	}
	var db *store.DB
	if engine == testkit.Postgres {
		db = storetest.NewPostgres(t)
	} else {
		db = storetest.NewSQLite(t)
	}
	srv := httptest.NewUnstartedServer(nil)
	t.Cleanup(srv.Close)
	base := "http://" + srv.Listener.Addr().String()
	cfg, err := config.Load("", false, func(string) string { return "" }, map[string]string{"data-dir": t.TempDir(), "public-url": base})
	if err != nil {
		t.Fatal(err)
	}
	var logOut io.Writer = io.Discard
	if os.Getenv("KASSA_TEST_LOG") != "" {
		logOut = os.Stderr
	}
	a, err := app.New(context.Background(), cfg, app.Options{DB: db, SkipMigrate: true, LogOutput: logOut})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := a.Close(context.Background()); err != nil {
			t.Errorf("close app: %v", err)
		}
	})
	if err := a.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	pa := &payApp{App: a, URL: base}
	h := a.Handler()
	srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		h.ServeHTTP(w, r)
		if f := pa.served.Load(); f != nil {
			(*f)(r, time.Since(start))
		}
	})
	srv.Start()

	sys := authz.WithSubject(context.Background(), authz.SystemSubject("test"))
	if _, err := a.Plugins.Install(sys, bin, plugin.InstallOptions{}); err != nil {
		t.Fatal(err)
	}
	settings, _ := json.Marshal(map[string]any{"webhook_secret": testpaySecret, "async_delay_ms": 10})
	if _, err := a.Plugins.UpdateSettings(sys, testpayID, settings); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Plugins.Enable(sys, testpayID); err != nil {
		t.Fatal(err)
	}
	p, err := a.Catalog.CreateProduct(sys, catalog.CreateProductInput{Title: "Longjing Tea", Status: catalog.StatusActive,
		Variants: []catalog.VariantInput{{SKU: "LJ-50", Title: "50 g", InventoryQuantity: 1_000_000,
			Prices: []catalog.PriceInput{{Currency: a.Catalog.DefaultCurrency().Code(), Amount: "35.00"}}}}})
	if err != nil {
		t.Fatal(err)
	}
	vs, err := a.Catalog.VariantsByProductIDs(sys, []string{p.ID})
	if err != nil {
		t.Fatal(err)
	}
	pa.product, pa.variant = p, vs[p.ID][0].ID
	return pa
}

// placed is an order a guest placed, with its access token.
type placed struct {
	id, token string
	total     int64
}

// place places a guest's order of one unit (35.00 plus 10.00 shipping,
// in the shop's default currency) directly through the order service.
func (pa *payApp) place(t testing.TB) placed {
	t.Helper()
	cur := pa.Catalog.DefaultCurrency()
	cny := func(n int64) money.Money { return money.New(n, cur) }
	addr := order.Address{FirstName: "芳", LastName: "王", Line1: "西湖区文三路 1 号", City: "杭州", Province: "浙江", PostalCode: "310012", CountryCode: "CN"}
	p, err := pa.Orders.Place(authz.WithSubject(context.Background(), authz.AnonymousSubject()), order.PlaceInput{
		CartID: "cart_webhook_" + strconv.FormatInt(pa.carts.Add(1), 10), Email: "wang@example.com", Currency: cur,
		ShippingAddress: addr, BillingAddress: addr,
		Lines: []order.PlaceLine{{VariantID: pa.variant, ProductID: pa.product.ID, SKU: "LJ-50", ProductTitle: "Longjing Tea", VariantTitle: "50 g",
			Quantity: 1, UnitPrice: cny(3500), Subtotal: cny(3500), Discount: cny(0), Tax: cny(0), Total: cny(3500)}},
		Totals: pricing.Totals{Subtotal: cny(3500), DiscountTotal: cny(0), Shipping: cny(1000), Tax: cny(0), TaxIncluded: true, Total: cny(4500)},
	})
	if err != nil {
		t.Fatal(err)
	}
	return placed{id: p.Order.ID, token: p.AccessToken, total: 4500}
}

// pay starts the guest's payment of o with testpay's redirect card: the
// attempt waits for the buyer on testpay's page.
func (pa *payApp) pay(t testing.TB, o placed) *payment.Attempt {
	t.Helper()
	a, err := pa.Payments.Create(authz.WithSubject(context.Background(), authz.AnonymousSubject()), payment.CreateInput{
		AccessToken: o.token, GatewayID: testpayID, ReturnURL: pa.URL + "/return", PaymentMethod: redirectCard})
	if err != nil {
		t.Fatal(err)
	}
	if a.State != payment.StatePending || a.ActionURL == "" || a.GatewayRef == "" {
		t.Fatalf("testpay's redirect card: attempt %s, action %q, ref %q", a.State, a.ActionURL, a.GatewayRef)
	}
	return a
}

// notification is a testpay webhook body (plugins/testpay/notify.go).
func notification(id, typ string, a *payment.Attempt, refundRef string) []byte {
	data := map[string]any{"attempt_id": a.ID, "payment": a.GatewayRef, "amount": a.AmountMinor, "currency": a.Currency.Code()}
	if refundRef != "" {
		data["refund"] = refundRef
	}
	b, _ := json.Marshal(map[string]any{"id": id, "type": typ, "created": time.Now().Unix(), "data": data})
	return b
}

// sign returns testpay's signature header of body at t:
// t=<unix>,v1=<hex HMAC-SHA256 of "<t>.<body>">, written here from
// testpay's documentation rather than borrowed from the SDK.
func sign(secret string, at time.Time, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	fmt.Fprintf(m, "%d.", at.Unix())
	m.Write(body)
	return fmt.Sprintf("t=%d,v1=%s", at.Unix(), hex.EncodeToString(m.Sum(nil)))
}

// delivery is one webhook request as a gateway sends it.
type delivery struct {
	signature string
	body      []byte
}

// signed is body signed with testpay's secret at at.
func signed(body []byte, at time.Time) delivery {
	return delivery{signature: sign(testpaySecret, at, body), body: body}
}

// post sends d to the app's webhook route of plugin and returns the
// status and body of the answer.
func (pa *payApp) post(t testing.TB, plugin string, d delivery) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, pa.URL+"/webhooks/"+plugin, bytes.NewReader(d.body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if d.signature != "" {
		req.Header.Set("Testpay-Signature", d.signature)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// count runs a COUNT(*) query.
func (pa *payApp) count(t testing.TB, query string, args ...any) int {
	t.Helper()
	var n int
	if err := pa.DB.NewRaw(query, args...).Scan(context.Background(), &n); err != nil {
		t.Fatal(err)
	}
	return n
}

// paymentStatus reads the order's payment status.
func (pa *payApp) paymentStatus(t testing.TB, orderID string) order.PaymentStatus {
	t.Helper()
	d, err := pa.Orders.Get(authz.WithSubject(context.Background(), authz.SystemSubject("test")), orderID)
	if err != nil {
		t.Fatal(err)
	}
	return d.Order.PaymentStatus
}

// applied is what the database holds about an attempt's payment.
type applied struct {
	events, captures, refunds, captureMoves, paidMoves, paidEvents int
	status                                                         order.PaymentStatus
}

func (pa *payApp) applied(t testing.TB, o placed, a *payment.Attempt) applied {
	t.Helper()
	return applied{
		events:       pa.count(t, "SELECT COUNT(*) FROM payment_gateway_events WHERE attempt_id = ? AND source = 'WEBHOOK'", a.ID),
		captures:     pa.count(t, "SELECT COUNT(*) FROM payment_ledger WHERE attempt_id = ? AND kind = 'CAPTURE'", a.ID),
		refunds:      pa.count(t, "SELECT COUNT(*) FROM payment_ledger WHERE attempt_id = ? AND kind = 'REFUND'", a.ID),
		captureMoves: pa.count(t, "SELECT COUNT(*) FROM payment_attempt_timeline WHERE attempt_id = ? AND to_state = 'CAPTURED'", a.ID),
		paidMoves:    pa.count(t, "SELECT COUNT(*) FROM order_timeline WHERE order_id = ? AND to_state = 'PAID'", o.id),
		paidEvents:   pa.count(t, "SELECT COUNT(*) FROM outbox_events WHERE subject = ? AND payload LIKE ?", order.SubjectPaid, "%"+o.id+"%"),
		status:       pa.paymentStatus(t, o.id),
	}
}

// testpayPID returns the process id of the app's running testpay, a
// child of this test process started from the app's plugin directory.
func (pa *payApp) testpayPID(t testing.TB) int {
	t.Helper()
	exe := filepath.Join(pa.Plugins.Dir(), testpayID)
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, d := range dirs {
		if target, err := os.Readlink(d + "/exe"); err == nil && strings.TrimSuffix(target, " (deleted)") == exe {
			pid, _ := strconv.Atoi(filepath.Base(d))
			return pid
		}
	}
	t.Fatalf("no running process of %s", exe)
	return 0
}

// TestWebhookRoute drives POST /webhooks/{plugin} over HTTP with the real
// testpay process on both engines: one notification delivered a hundred
// times, fifty at once, is applied once; forged, stale, replayed,
// truncated, malformed and oversized notifications change nothing;
// unknown gateways are 404; a killed plugin is 503 until it is back, and
// the gateway's retry then applies; a refund notified before its payment
// ends on the gateway's truth; and the buyer paying on testpay's page
// makes testpay notify this route, which makes the order PAID.
func TestWebhookRoute(t *testing.T) {
	for _, engine := range []struct {
		name string
		e    testkit.Engine
	}{{"sqlite", testkit.SQLite}, {"postgres", testkit.Postgres}} {
		t.Run(engine.name, func(t *testing.T) {
			pa := newPayApp(t, engine.e)
			var accepted delivery // a delivery applied once, replayed below
			t.Run("one notification a hundred times, fifty at once", func(t *testing.T) {
				o := pa.place(t)
				a := pa.pay(t, o)
				body := notification("evt_"+a.GatewayRef+"_payment.succeeded", payment.EventPaymentSucceeded, a, "")
				// A gateway signs each retry anew: a hundred deliveries
				// of one event, signed a second apart.
				now := time.Now()
				deliveries := make([]delivery, 100)
				for i := range deliveries {
					deliveries[i] = signed(body, now.Add(-time.Duration(i)*time.Second))
				}
				type answer struct {
					status int
					body   string
				}
				answers := make([]answer, len(deliveries))
				var wg sync.WaitGroup
				for i := range 50 {
					wg.Add(1)
					go func() {
						defer wg.Done()
						answers[i].status, answers[i].body = pa.post(t, testpayID, deliveries[i])
					}()
				}
				wg.Wait()
				for i := 50; i < len(deliveries); i++ {
					answers[i].status, answers[i].body = pa.post(t, testpayID, deliveries[i])
				}
				for i, ans := range answers {
					if ans.status != http.StatusOK || strings.TrimSpace(ans.body) != `{"received":true}` {
						t.Errorf("delivery %d answered %d %q; want testpay's 200 {\"received\":true}", i, ans.status, ans.body)
					}
				}
				want := applied{events: 1, captures: 1, captureMoves: 1, paidMoves: 1, paidEvents: 1, status: order.PaymentPaid}
				if got := pa.applied(t, o, a); got != want {
					t.Fatalf("after 100 deliveries: %+v; want %+v", got, want)
				}
				accepted = deliveries[0]
			})

			t.Run("refused notifications change nothing", func(t *testing.T) {
				o := pa.place(t)
				a := pa.pay(t, o)
				body := notification("evt_"+a.GatewayRef+"_payment.succeeded", payment.EventPaymentSucceeded, a, "")
				now := time.Now()
				eventsBefore := pa.count(t, "SELECT COUNT(*) FROM payment_gateway_events")
				tooLarge := bytes.Repeat([]byte(" "), app.MaxWebhookBody+1)
				copy(tooLarge, body)
				cases := []struct {
					name   string
					d      delivery
					status int
				}{
					{"forged: signed with another secret", delivery{sign("whsec_someone_else_0123456789", now, body), body}, http.StatusUnauthorized},
					{"unsigned", delivery{"", body}, http.StatusUnauthorized},
					{"tampered: the amount changed after signing", delivery{sign(testpaySecret, now, body),
						bytes.Replace(body, []byte(`"amount":4500`), []byte(`"amount":1`), 1)}, http.StatusUnauthorized},
					{"truncated: half the signed body", delivery{sign(testpaySecret, now, body), body[:len(body)/2]}, http.StatusUnauthorized},
					{"stale: a delivery signed ten minutes ago, replayed", signed(body, now.Add(-10*time.Minute)), http.StatusBadRequest},
					{"replayed: the very delivery applied before", accepted, http.StatusConflict},
					{"malformed: signed, but not a notification", signed([]byte(`{"hello":"world"}`), now), http.StatusBadRequest},
					{"oversized: one byte over the limit, signed", signed(tooLarge, now), http.StatusRequestEntityTooLarge},
				}
				for _, tc := range cases {
					if tc.d.body == nil {
						t.Fatalf("%s: no delivery (did the first subtest fail?)", tc.name)
					}
					status, answer := pa.post(t, testpayID, tc.d)
					if status != tc.status {
						t.Errorf("%s: %d %q; want %d", tc.name, status, answer, tc.status)
					}
				}
				// A body shorter than announced: the connection ends
				// before the body does.
				if status := pa.postShort(t, testpayID, signed(body, now)); status != http.StatusBadRequest {
					t.Errorf("a body cut short in transit: %d; want 400", status)
				}
				if got := pa.applied(t, o, a); got != (applied{status: order.PaymentPending}) {
					t.Fatalf("after refused notifications: %+v; want nothing applied", got)
				}
				if n := pa.count(t, "SELECT COUNT(*) FROM payment_gateway_events"); n != eventsBefore {
					t.Fatalf("%d gateway events recorded for refused notifications", n-eventsBefore)
				}
			})

			t.Run("unknown gateways and other methods", func(t *testing.T) {
				body := []byte(`{"id":"evt_1"}`)
				for _, p := range []string{"payment.nosuch", "notify.email", "invoice.standard", "PAYMENT.TESTPAY", "payment.test%20pay",
					"payment.testpay%2F..", "payment.", "payment", "payment.-x", "payment." + strings.Repeat("x", 64)} {
					if status, answer := pa.post(t, p, signed(body, time.Now())); status != http.StatusNotFound || strings.Contains(answer, "plugin") {
						t.Errorf("POST /webhooks/%s: %d %q; want 404 without detail", p, status, answer)
					}
				}
				for _, m := range []string{http.MethodGet, http.MethodPut, http.MethodDelete, http.MethodPatch} {
					req, _ := http.NewRequest(m, pa.URL+"/webhooks/"+testpayID, nil)
					res, err := http.DefaultClient.Do(req)
					if err != nil {
						t.Fatal(err)
					}
					res.Body.Close()
					if res.StatusCode != http.StatusMethodNotAllowed || !strings.Contains(res.Header.Get("Allow"), "POST") {
						t.Errorf("%s /webhooks/%s: %d, Allow %q; want 405 allowing POST", m, testpayID, res.StatusCode, res.Header.Get("Allow"))
					}
					if res.Header.Get("X-Content-Type-Options") != "nosniff" {
						t.Errorf("%s /webhooks/%s: no security headers", m, testpayID)
					}
				}
			})

			t.Run("a killed plugin answers 503 until it is back", func(t *testing.T) {
				o := pa.place(t)
				a := pa.pay(t, o)
				body := notification("evt_"+a.GatewayRef+"_payment.succeeded", payment.EventPaymentSucceeded, a, "")
				pid := pa.testpayPID(t)
				if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
					t.Fatal(err)
				}
				waitExited(t, pid)
				status, answer := pa.post(t, testpayID, signed(body, time.Now()))
				if status != http.StatusServiceUnavailable || strings.Contains(answer, "testpay") {
					t.Fatalf("with testpay killed: %d %q; want 503 without detail", status, answer)
				}
				if got := pa.applied(t, o, a); got != (applied{status: order.PaymentPending}) {
					t.Fatalf("applied while the plugin was down: %+v", got)
				}
				// The gateway retries, signing each retry anew, until the
				// restarted plugin takes it.
				deadline := time.Now().Add(20 * time.Second)
				for status != http.StatusOK && time.Now().Before(deadline) {
					time.Sleep(100 * time.Millisecond)
					status, answer = pa.post(t, testpayID, signed(body, time.Now()))
				}
				if status != http.StatusOK {
					t.Fatalf("retries after the restart: %d %q", status, answer)
				}
				if pa.testpayPID(t) == pid {
					t.Fatal("testpay was not restarted")
				}
				want := applied{events: 1, captures: 1, captureMoves: 1, paidMoves: 1, paidEvents: 1, status: order.PaymentPaid}
				if got := pa.applied(t, o, a); got != want {
					t.Fatalf("after the retry: %+v; want %+v", got, want)
				}
			})

			t.Run("a refund notified before its payment", func(t *testing.T) {
				o := pa.place(t)
				a := pa.pay(t, o)
				now := time.Now()
				for _, d := range []delivery{
					signed(notification("evt_tpr_"+a.ID, payment.EventRefundSucceeded, a, "tpr_"+a.ID), now),
					signed(notification("evt_"+a.GatewayRef+"_payment.succeeded", payment.EventPaymentSucceeded, a, ""), now),
					signed(notification("evt_"+a.GatewayRef+"_payment.failed", payment.EventPaymentFailed, a, ""), now),
				} {
					if status, answer := pa.post(t, testpayID, d); status != http.StatusOK {
						t.Fatalf("%s: %d %q", d.body, status, answer)
					}
				}
				got := pa.applied(t, o, a)
				if got.status != order.PaymentRefunded || got.captures != 1 || got.refunds != 1 || got.events != 3 {
					t.Fatalf("refund, success, failure: %+v; want REFUNDED with one capture and one refund", got)
				}
				att, err := pa.Payments.Attempt(authz.WithSubject(context.Background(), authz.AnonymousSubject()), a.ID, o.token)
				if err != nil {
					t.Fatal(err)
				}
				if att.State != payment.StateCaptured || att.Captured != o.total || att.Refunded != o.total {
					t.Fatalf("attempt %s, captured %d, refunded %d; want CAPTURED, %d both", att.State, att.Captured, att.Refunded, o.total)
				}
			})

			t.Run("the buyer pays on testpay's page", func(t *testing.T) {
				o := pa.place(t)
				a := pa.pay(t, o)
				noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
				res, err := noRedirect.PostForm(a.ActionURL, url.Values{"action": {"pay"}})
				if err != nil {
					t.Fatal(err)
				}
				res.Body.Close()
				if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != pa.URL+"/return" {
					t.Fatalf("testpay's page: %d to %q; want 303 to the return URL", res.StatusCode, res.Header.Get("Location"))
				}
				deadline := time.Now().Add(10 * time.Second)
				for pa.paymentStatus(t, o.id) != order.PaymentPaid && time.Now().Before(deadline) {
					time.Sleep(20 * time.Millisecond)
				}
				want := applied{events: 1, captures: 1, captureMoves: 1, paidMoves: 1, paidEvents: 1, status: order.PaymentPaid}
				if got := pa.applied(t, o, a); got != want {
					t.Fatalf("after testpay's own notification: %+v; want %+v", got, want)
				}
			})
			invariant.Require(t, pa.DB)
		})
	}
}

// postShort sends d announcing a longer body than it sends, then ends
// its half of the connection: the body arrives truncated.
func (pa *payApp) postShort(t testing.TB, plugin string, d delivery) int {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(pa.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /webhooks/%s HTTP/1.1\r\nHost: shop\r\nContent-Type: application/json\r\nTestpay-Signature: %s\r\nContent-Length: %d\r\n\r\n",
		plugin, d.signature, len(d.body)+100)
	_, _ = conn.Write(d.body)
	_ = conn.(*net.TCPConn).CloseWrite()
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("answer to a short body: %v", err)
	}
	res.Body.Close()
	return res.StatusCode
}

// waitExited waits until the killed process pid is gone or a zombie.
func waitExited(t testing.TB, pid int) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
		if err != nil {
			return
		}
		// The state follows the command name in parentheses.
		if i := bytes.LastIndexByte(b, ')'); i > 0 && len(b) > i+2 && b[i+2] == 'Z' {
			return
		}
	}
	t.Fatalf("process %d still runs after SIGKILL", pid)
}

// BenchmarkWebhookIntake measures notifications applied per second
// through POST /webhooks/payment.testpay, over HTTP with the real testpay
// process verifying each signature, on SQLite and PostgreSQL, from 1 and
// from 16 gateway connections at once. Each notification is the success
// of another PENDING attempt (made before the clock starts), so every one
// is applied (attempt captured, ledger, balance, order PAID, events) and
// none is a duplicate. Reported: applied/s; the p50 and p99 from receipt
// to answer on the server (the request read to testpay's answer written),
// and the p99 of the client's round trip, in ms. One connection gives the cost of one
// notification; sixteen, how many the instance applies at once.
//
//	go test ./core/app -run '^$' -bench WebhookIntake -benchtime 500x
func BenchmarkWebhookIntake(b *testing.B) {
	for _, engine := range []struct {
		name string
		e    testkit.Engine
	}{{"sqlite", testkit.SQLite}, {"postgres", testkit.Postgres}} {
		var pa *payApp
		for _, gateways := range []int{1, 16} {
			b.Run(fmt.Sprintf("%s/connections=%d", engine.name, gateways), func(sb *testing.B) {
				if pa == nil {
					pa = newPayApp(b, engine.e) // lives across the rounds of b.N and both runs
				}
				benchIntake(sb, pa, gateways)
			})
		}
	}
}

// benchIntake sends b.N notifications, each the success of another
// PENDING attempt, over gateways connections at once.
func benchIntake(sb *testing.B, pa *payApp, gateways int) {
	type target struct {
		o placed
		a *payment.Attempt
	}
	targets := make([]target, sb.N)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1)) - 1; i < sb.N; i = int(next.Add(1)) - 1 {
				o := pa.place(sb)
				targets[i] = target{o, pa.pay(sb, o)}
			}
		}()
	}
	wg.Wait()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: gateways}}
	latencies := make([]time.Duration, sb.N)
	var (
		failed atomic.Int64
		mu     sync.Mutex
		server []time.Duration // receipt to answer, on the server
	)
	observe := func(r *http.Request, took time.Duration) {
		if strings.HasPrefix(r.URL.Path, "/webhooks/") {
			mu.Lock()
			server = append(server, took)
			mu.Unlock()
		}
	}
	pa.served.Store(&observe)
	defer pa.served.Store(nil)
	captures := pa.count(sb, "SELECT COUNT(*) FROM payment_ledger WHERE kind = 'CAPTURE'")
	next.Store(0)
	sb.ResetTimer()
	start := time.Now()
	for range gateways {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1)) - 1; i < sb.N; i = int(next.Add(1)) - 1 {
				a := targets[i].a
				body := notification("evt_"+a.GatewayRef+"_payment.succeeded", payment.EventPaymentSucceeded, a, "")
				req, _ := http.NewRequest(http.MethodPost, pa.URL+"/webhooks/"+testpayID, bytes.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Testpay-Signature", sign(testpaySecret, time.Now(), body))
				t0 := time.Now()
				res, err := client.Do(req)
				if err != nil {
					failed.Add(1)
					continue
				}
				_, _ = io.Copy(io.Discard, res.Body)
				res.Body.Close()
				latencies[i] = time.Since(t0)
				if res.StatusCode != http.StatusOK {
					failed.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	sb.StopTimer()
	if n := failed.Load(); n > 0 {
		sb.Fatalf("%d of %d notifications not answered 200", n, sb.N)
	}
	if n := pa.count(sb, "SELECT COUNT(*) FROM payment_ledger WHERE kind = 'CAPTURE'") - captures; n != sb.N {
		sb.Fatalf("%d notifications applied %d captures", sb.N, n)
	}
	last := targets[sb.N-1]
	if got := pa.applied(sb, last.o, last.a); got.captures != 1 || got.status != order.PaymentPaid {
		sb.Fatalf("the last notification: %+v", got)
	}
	pct := func(ds []time.Duration, p float64) float64 {
		slices.Sort(ds)
		return float64(ds[int(float64(len(ds)-1)*p)].Microseconds()) / 1000
	}
	mu.Lock()
	defer mu.Unlock()
	sb.ReportMetric(float64(sb.N)/elapsed.Seconds(), "applied/s")
	sb.ReportMetric(pct(server, .50), "p50-ms")
	sb.ReportMetric(pct(server, .99), "p99-ms")
	sb.ReportMetric(pct(latencies, .99), "p99-roundtrip-ms")
}
