package e2e

import (
	"bufio"
	"encoding/json"
	"html"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"
	"time"
)

// The production gateways, each against its sandbox run as a process of
// its own (plugins/<name>/internal/sandbox/sandboxd): the plugin is
// installed and configured the way a shop owner does it, with the
// sandbox's settings, and the payments issue's flow runs through the
// whole shop: a buyer pays, the gateway's notification (and a repeat of
// it) is applied once, staff refund part of it, the gateway confirms.
var gateways = []struct {
	plugin, id string
	method     string // the paymentMethod whose trade exists before the buyer acts
	action     string // the action the buyer gets
	// renotify: the sandbox repeats a notification on demand (PayPal's
	// and Stripe's send every delivery twice instead).
	renotify bool
	// appWebhook: the gateway notifies the one URL registered for the
	// merchant's account, given to its sandbox, rather than a URL Kassa
	// sends with each payment.
	appWebhook bool
}{
	{"wechatpay", "payment.wechatpay", "wechatpay_native", "QR_CODE", true, false},
	{"alipay", "payment.alipay", "alipay_qr", "QR_CODE", true, false},
	// UnionPay's consumption starts when the buyer's browser posts the
	// plugin's page to UnionPay's cashier.
	{"unionpay", "payment.unionpay", "unionpay", "REDIRECT", true, false},
	// PayPal: the buyer approves on PayPal; the plugin captures on the
	// approval's webhook, and the capture's webhook pays the order.
	{"paypal", "payment.paypal", "paypal", "REDIRECT", false, true},
	// Stripe: the Payment Element confirms the PaymentIntent in the
	// buyer's browser with the client secret.
	{"stripe", "payment.stripe", "stripe_element", "CLIENT_SECRET", false, true},
}

func TestGatewaysEndToEnd(t *testing.T) {
	t.Parallel()
	for _, gw := range gateways {
		t.Run(gw.plugin, func(t *testing.T) {
			t.Parallel()
			addr := freeAddr(t)
			var args []string
			if gw.appWebhook {
				args = []string{"--webhook-url", "http://" + addr + "/webhooks/" + gw.id}
			}
			settings, control := startSandboxd(t, gw.plugin, args...)
			s := newGatewayShop(t, gw.plugin, gw.id, settings, addr)
			o := s.placeOrder()

			var created struct {
				PaymentCreate struct {
					Payment *struct {
						ID, State string
						Action    *struct{ Type, QRCode, URL, ClientSecret string }
					}
					UserErrors []struct{ Code, Message string }
				}
			}
			s.do("", `mutation($in: PaymentCreateInput!) { paymentCreate(input: $in) { payment { id state action { type qrCode url clientSecret } } userErrors { code message } } }`,
				map[string]any{"in": map[string]any{"orderId": o.id, "token": o.token, "gatewayId": gw.id, "paymentMethod": gw.method,
					"returnUrl": s.in.base + "/orders/" + o.id + "/status", "idempotencyKey": key()}}, &created)
			p := created.PaymentCreate.Payment
			if p == nil || len(created.PaymentCreate.UserErrors) > 0 {
				t.Fatalf("paymentCreate: %+v", created.PaymentCreate.UserErrors)
			}
			if p.Action == nil || p.Action.Type != gw.action || p.Action.QRCode+p.Action.URL+p.Action.ClientSecret == "" {
				t.Fatalf("payment %s asks the buyer for %+v, want a %s", p.ID, p.Action, gw.action)
			}
			if gw.plugin == "unionpay" {
				postPayPage(t, p.Action.URL)
			}

			// The buyer pays at the gateway; its notification turns the
			// order PAID. A second delivery of the same notification
			// changes nothing.
			sandboxBuyer(t, control, "pay", p.ID)
			paid := s.waitFor(o, "PAID", func(m money) bool { return m.PaymentStatus == "PAID" })
			if gw.renotify {
				sandboxBuyer(t, control, "renotify", p.ID)
			}
			time.Sleep(time.Second) // the repeat's delivery; nothing may change
			again := s.money(o)
			if captures(again) != 1 || again.AmountPaid == nil || again.AmountPaid.Amount != paid.Total.Amount {
				t.Fatalf("after a repeated notification: %d captures, paid %+v of %s", captures(again), again.AmountPaid, paid.Total.Amount)
			}

			// Staff refund 1.00 of it; the gateway settles the refund
			// (at once or by notification) and the order shows it.
			var refunded struct {
				OrderRefund struct {
					Refund     *struct{ ID, State string }
					UserErrors []struct{ Code, Message string }
				}
			}
			s.do(s.staff, `mutation($in: OrderRefundInput!) { orderRefund(input: $in) { refund { id state } userErrors { code message } } }`,
				map[string]any{"in": map[string]any{"orderId": o.id, "amount": map[string]any{"amount": "1.00", "currencyCode": "CNY"},
					"reason": "e2e partial refund", "idempotencyKey": key()}}, &refunded)
			if r := refunded.OrderRefund; r.Refund == nil || len(r.UserErrors) > 0 || r.Refund.State == "FAILED" {
				t.Fatalf("orderRefund: %+v %+v", r.Refund, r.UserErrors)
			}
			s.waitFor(o, "PARTIALLY_REFUNDED", func(m money) bool { return m.PaymentStatus == "PARTIALLY_REFUNDED" })
		})
	}
}

var (
	payForm   = regexp.MustCompile(`<form[^>]* method="post" action="([^"]+)"`)
	payFields = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)
)

// postPayPage plays the buyer's browser on a gateway's redirect: it opens
// the page (served by the plugin through Kassa) and posts its form to the
// gateway, as the page's script or its button does.
func postPayPage(t *testing.T, pageURL string) {
	t.Helper()
	res, err := http.Get(pageURL)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(res.Body)
	res.Body.Close()
	m := payForm.FindSubmatch(page)
	if res.StatusCode != http.StatusOK || m == nil {
		t.Fatalf("pay page %s: %s\n%s", pageURL, res.Status, page)
	}
	form := url.Values{}
	for _, f := range payFields.FindAllSubmatch(page, -1) {
		form.Set(html.UnescapeString(string(f[1])), html.UnescapeString(string(f[2])))
	}
	res, err = http.PostForm(html.UnescapeString(string(m[1])), form)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("the gateway's cashier answered the posted form: %s\n%s", res.Status, body)
	}
}

// captures counts the capture entries of an order's payment ledger.
func captures(m money) int {
	n := 0
	for _, e := range m.PaymentLedger {
		if e.Kind == "CAPTURE" {
			n++
		}
	}
	return n
}

// startSandboxd builds and runs a gateway's sandbox process; it returns the
// plugin settings for it and its control address.
func startSandboxd(t *testing.T, plugin string, args ...string) (json.RawMessage, string) {
	t.Helper()
	bin := filepath.Join(t.TempDir(), plugin+"-sandboxd")
	if out, err := exec.Command("go", "build", "-o", bin, "../plugins/"+plugin+"/internal/sandbox/sandboxd").CombinedOutput(); err != nil {
		t.Fatalf("build %s sandbox: %v\n%s", plugin, err, out)
	}
	cmd := exec.Command(bin, args...)
	stdin, err := cmd.StdinPipe() // closing it stops the sandbox
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stdin.Close()
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	})
	line, err := bufio.NewReader(stdout).ReadBytes('\n')
	if err != nil {
		t.Fatalf("%s sandbox printed no settings: %v", plugin, err)
	}
	go func() { _, _ = io.Copy(io.Discard, stdout) }()
	var hello struct {
		Settings json.RawMessage
		Control  string
	}
	if err := json.Unmarshal(line, &hello); err != nil || hello.Control == "" {
		t.Fatalf("%s sandbox said %q: %v", plugin, line, err)
	}
	return hello.Settings, hello.Control
}

// sandboxBuyer plays the buyer at the sandbox: "pay" or "renotify" the
// trade of a Kassa payment attempt.
func sandboxBuyer(t *testing.T, control, what, attemptID string) {
	t.Helper()
	res, err := http.Post(control+"/"+what+"?attempt="+attemptID, "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("sandbox %s %s: %s %s", what, attemptID, res.Status, body)
	}
}

// newGatewayShop is a demo shop with one production gateway installed,
// configured for its sandbox and enabled, and an owner.
func newGatewayShop(t *testing.T, plugin, id string, settings json.RawMessage, addr string) *paymentShop {
	t.Helper()
	dir, bins := t.TempDir(), t.TempDir()
	kassa(t, dir, "plugin", "install", buildPlugin(t, bins, plugin))
	// The sandbox listens on loopback, which plugins refuse unless the
	// owner allows private networks (here and in serve below): the
	// settings are checked against the sandbox when saved.
	for _, args := range [][]string{{"plugin", "settings", id, "--set", string(settings)}, {"plugin", "enable", id}} {
		cmd := exec.Command(kassaBin, args...)
		cmd.Env = append(os.Environ(), "KASSA_DATA_DIR="+dir, "KASSA_PLUGIN_ALLOW_PRIVATE_NETWORKS=true")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("kassa plugin %s: %v\n%s", args[1], err, out)
		}
	}
	createOwner(t, dir, crashOwner, crashPassword)
	kassa(t, dir, "seed", "demo")
	s := &paymentShop{t: t, dir: dir, addr: addr}
	s.in = startAt(t, s.addr, dir, "--plugin-allow-private-networks")
	s.staff = s.in.staffToken(crashOwner, crashPassword)
	var methods struct {
		Plugins []struct {
			ID      string
			Enabled bool
		}
	}
	s.do(s.staff, `{ plugins { id enabled } }`, nil, &methods)
	found := false
	for _, p := range methods.Plugins {
		found = found || (p.ID == id && p.Enabled)
	}
	if !found {
		t.Fatalf("%s is not enabled in the running shop: %+v", id, methods.Plugins)
	}
	return s
}
