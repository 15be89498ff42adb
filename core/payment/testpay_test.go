package payment_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/payment"
	"github.com/kassahq/kassa/core/plugin"
	"github.com/kassahq/kassa/core/secret"
	"github.com/kassahq/kassa/core/store"
	"github.com/kassahq/kassa/core/store/storetest"
)

// testpayBin is the reference sandbox gateway, compiled once per run.
var testpayBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "kassa-payment-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	testpayBin = filepath.Join(dir, "testpay")
	cmd := exec.Command("go", "build", "-trimpath", "-o", testpayBin, "../../plugins/testpay")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build testpay: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

const testpayID = "payment.testpay"

// testpaySecret is the webhook secret testpay is configured with.
const testpaySecret = "whsec_0123456789abcdef"

// delivery is a notification testpay sent.
type delivery struct {
	header http.Header
	body   []byte
}

// testpayEnv runs the real testpay plugin process behind a payment
// service, with a webhook endpoint (what the HTTP layer does: raw body
// and headers to ApplyWebhook, the plugin's answer after commit, 5xx on
// an error).
type testpayEnv struct {
	*fixture
	srv        *httptest.Server
	mu         sync.Mutex
	deliveries []delivery
}

func newTestpay(t *testing.T, db *store.DB) *testpayEnv {
	t.Helper()
	e := &testpayEnv{}
	e.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		e.mu.Lock()
		e.deliveries = append(e.deliveries, delivery{header: r.Header.Clone(), body: b})
		e.mu.Unlock()
		out, err := e.svc.ApplyWebhook(context.Background(), testpayID, payment.WebhookRequest{Method: r.Method, Header: r.Header, Body: b, ReceivedAt: time.Now()})
		if err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		for k, v := range out.Response.Header {
			w.Header()[k] = v
		}
		w.WriteHeader(max(out.Response.Status, 200))
		_, _ = w.Write(out.Response.Body)
	}))
	t.Cleanup(e.srv.Close)
	key := make([]byte, secret.KeySize)
	_, _ = rand.Read(key)
	box, err := secret.New(key)
	if err != nil {
		t.Fatal(err)
	}
	data := t.TempDir()
	plugins, err := plugin.NewService(db, plugin.Options{Dir: filepath.Join(data, "plugins"), DataDir: data, BaseURL: e.srv.URL,
		Secrets: box, Logger: slog.New(slog.DiscardHandler), CallTimeout: time.Second, StartTimeout: 10 * time.Second,
		BackoffMin: 50 * time.Millisecond, BackoffMax: time.Second, HealthInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = plugins.Close(ctx)
	})
	sys := authz.WithSubject(context.Background(), authz.SystemSubject("test"))
	if _, err := plugins.Install(sys, testpayBin, plugin.InstallOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := plugins.UpdateSettings(sys, testpayID, []byte(`{"webhook_secret":"whsec_0123456789abcdef","async_delay_ms":10,"timeout_ms":3000}`)); err != nil {
		t.Fatal(err)
	}
	if _, err := plugins.Enable(sys, testpayID); err != nil {
		t.Fatal(err)
	}
	e.fixture = newFixtureWith(t, db, plugins)
	return e
}

func (e *testpayEnv) pay(t *testing.T, o placed, card string) *payment.Attempt {
	t.Helper()
	a, err := e.svc.Create(guest(), payment.CreateInput{AccessToken: o.token, GatewayID: testpayID, ReturnURL: "https://shop.test/r", PaymentMethod: card})
	if err != nil {
		t.Fatalf("create with %s: %v", card, err)
	}
	return a
}

// waitFor polls cond for up to 10 seconds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

// The real testpay process: a synchronous success and its signed
// notification (applied once), a payment that never notifies (found by
// the reconciler), a CreatePayment that times out (UNKNOWN, then
// reconciled), a refund and its notification, and forged and replayed
// notifications (refused, nothing applied).
func TestTestpay(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		e := newTestpay(t, db)

		// Succeeds at once; the notification follows and changes nothing.
		o := e.place(t, 1)
		a := e.pay(t, o, "4242424242424242")
		if a.State != payment.StateCaptured {
			t.Fatalf("succeed: %s", a.State)
		}
		waitFor(t, "the notification", func() bool {
			return e.count(t, "SELECT COUNT(*) FROM payment_gateway_events WHERE source = 'WEBHOOK' AND attempt_id = ?", a.ID) == 1
		})
		if n := e.count(t, "SELECT COUNT(*) FROM payment_ledger WHERE attempt_id = ? AND kind = 'CAPTURE'", a.ID); n != 1 {
			t.Fatalf("%d captures", n)
		}

		// A replay of that very delivery and a forged one are refused.
		e.mu.Lock()
		d := e.deliveries[0]
		e.mu.Unlock()
		for name, b := range map[string][]byte{"replayed": d.body, "forged": bytes.Replace(d.body, []byte(`"amount":`), []byte(`"amount":1`), 1), "truncated": d.body[:len(d.body)/2]} {
			out, err := e.svc.ApplyWebhook(context.Background(), testpayID, payment.WebhookRequest{Method: "POST", Header: d.header, Body: b, ReceivedAt: time.Now()})
			if err != nil || out.Rejected == "" || out.Response.Status < 400 {
				t.Errorf("%s notification: %+v, %v", name, out, err)
			}
		}

		// Never notified: the reconciler finds it.
		o2 := e.place(t, 1)
		a2 := e.pay(t, o2, "4000000000000036")
		if a2.State != payment.StatePending {
			t.Fatalf("never_notify: %s", a2.State)
		}
		time.Sleep(100 * time.Millisecond) // testpay settles after async_delay_ms
		e.clock.Advance(2 * time.Minute)
		if _, err := e.svc.Reconcile(context.Background()); err != nil {
			t.Fatal(err)
		}
		if _, ps := e.orderStatus(t, o2.id); ps != "PAID" {
			t.Fatalf("never_notify after reconciliation: %s", ps)
		}

		// CreatePayment outlives Kassa's deadline: UNKNOWN, never FAILED,
		// then reconciled.
		o3 := e.place(t, 1)
		a3 := e.pay(t, o3, "4000000000000051")
		if a3.State != payment.StateUnknown {
			t.Fatalf("timeout: %s", a3.State)
		}
		e.clock.Advance(2 * time.Minute)
		if _, err := e.svc.Reconcile(context.Background()); err != nil {
			t.Fatal(err)
		}
		if _, ps := e.orderStatus(t, o3.id); ps != "PAID" {
			t.Fatalf("timeout after reconciliation: %s", ps)
		}

		// A full refund, and its notification applied once.
		all := a.Amount()
		refs, err := e.svc.Refund(staff("finance"), payment.RefundInput{OrderID: o.id, Amount: &all, IdempotencyKey: "rf1"})
		r := first(refs)
		if err != nil || r.State != payment.RefundStateSucceeded {
			t.Fatalf("refund: %+v, %v", r, err)
		}
		waitFor(t, "the refund notification", func() bool {
			return e.count(t, "SELECT COUNT(*) FROM payment_gateway_events WHERE source = 'WEBHOOK' AND refund_id = ?", r.ID) == 1
		})
		if _, ps := e.orderStatus(t, o.id); ps != "REFUNDED" {
			t.Fatalf("after the refund: %s", ps)
		}
		if n := e.count(t, "SELECT COUNT(*) FROM payment_ledger WHERE kind = 'REFUND'"); n != 1 {
			t.Fatalf("%d refund rows", n)
		}
	})
}
