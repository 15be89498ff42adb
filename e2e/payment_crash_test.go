package e2e

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The reconciler asks quickly in these tests: a crash must end in a true
// state within seconds, not the minute of the default schedule.
var fastReconcile = []string{"--payment-reconcile-interval", "1s", "--payment-recheck-after", "1s"}

// paymentShop is a demo shop with testpay installed and an owner, on a
// fixed address so that a restarted Kassa gets the notifications testpay
// was told to send before the crash.
type paymentShop struct {
	t     *testing.T
	dir   string
	addr  string
	in    *instance
	staff string
}

const crashOwner, crashPassword = "owner@example.com", "correct horse battery staple"

// newPaymentShop is a served demo shop with testpay and morePlugins
// (plugin directories, e.g. "banktransfer") installed, its owner signed in.
func newPaymentShop(t *testing.T, morePlugins ...string) *paymentShop {
	t.Helper()
	dir, bins := t.TempDir(), t.TempDir()
	for _, name := range append([]string{"testpay"}, morePlugins...) {
		kassa(t, dir, "plugin", "install", buildPlugin(t, bins, name))
	}
	createOwner(t, dir, crashOwner, crashPassword)
	kassa(t, dir, "seed", "demo")
	s := &paymentShop{t: t, dir: dir, addr: freeAddr(t)}
	s.start()
	return s
}

func (s *paymentShop) start() {
	s.t.Helper()
	s.in = startAt(s.t, s.addr, s.dir, fastReconcile...)
	s.staff = s.in.staffToken(crashOwner, crashPassword)
}

// do posts an operation (with a bearer token when token is set) and
// decodes data into out; GraphQL errors fail the test.
func (s *paymentShop) do(token, query string, vars map[string]any, out any) {
	s.t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, _ := http.NewRequest(http.MethodPost, s.in.base+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer res.Body.Close()
	var env struct {
		Data   json.RawMessage
		Errors []map[string]any
	}
	if err := json.NewDecoder(res.Body).Decode(&env); err != nil {
		s.t.Fatal(err)
	}
	if len(env.Errors) > 0 {
		s.t.Fatalf("graphql errors: %v", env.Errors)
	}
	if out != nil {
		if err := json.Unmarshal(env.Data, out); err != nil {
			s.t.Fatal(err)
		}
	}
}

func key() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// order is a guest's order: its id and access token.
type order struct{ id, token string }

// placeOrder checks a guest out of the demo shop (CNY, shipping to
// Hangzhou) through GraphQL, one unit of a product in stock.
func (s *paymentShop) placeOrder() order {
	s.t.Helper()
	return s.placeOrderOf(1)
}

// placeOrderOf is placeOrder with quantity units of the product.
func (s *paymentShop) placeOrderOf(quantity int) order {
	s.t.Helper()
	var products struct {
		Products struct {
			Edges []struct {
				Node struct {
					Variants []struct {
						ID                string
						AvailableQuantity int
					}
				}
			}
		}
	}
	s.do("", `{ products(first: 20, currency: "CNY") { edges { node { variants { id availableQuantity } } } } }`, nil, &products)
	variant := ""
	for _, e := range products.Products.Edges {
		for _, v := range e.Node.Variants {
			if v.AvailableQuantity >= quantity && variant == "" {
				variant = v.ID
			}
		}
	}
	if variant == "" {
		s.t.Fatal("the demo shop has nothing in stock")
	}
	type payload struct {
		Token      string
		Cart       struct{ ID string }
		UserErrors []struct{ Code, Message string }
	}
	check := func(name string, p payload) {
		if len(p.UserErrors) > 0 {
			s.t.Fatalf("%s: %+v", name, p.UserErrors)
		}
	}
	var created struct{ CartCreate payload }
	s.do("", `mutation($in: CartCreateInput!) { cartCreate(input: $in) { token cart { id } userErrors { code message } } }`,
		map[string]any{"in": map[string]any{"currency": "CNY"}}, &created)
	check("cartCreate", created.CartCreate)
	tok := created.CartCreate.Token
	steps := []struct{ name, input, doc string }{
		{"cartLinesAdd", "CartLinesAddInput", `{"token": %q, "lines": [{"variantId": %q, "quantity": %d}]}`},
		{"cartEmailUpdate", "CartEmailUpdateInput", `{"token": %q, "email": "crash.buyer@example.com"}`},
		{"cartShippingAddressUpdate", "CartAddressUpdateInput", `{"token": %q, "address": {"firstName": "芳", "lastName": "王",
			"line1": "西湖区文三路1号", "city": "杭州市", "province": "浙江省", "postalCode": "310012", "countryCode": "CN"}}`},
	}
	for _, st := range steps {
		raw := st.doc
		if st.name == "cartLinesAdd" {
			raw = fmt.Sprintf(raw, tok, variant, quantity)
		} else {
			raw = fmt.Sprintf(raw, tok)
		}
		var in map[string]any
		if err := json.Unmarshal([]byte(raw), &in); err != nil {
			s.t.Fatal(err)
		}
		var out map[string]payload
		s.do("", fmt.Sprintf(`mutation($in: %s!) { %s(input: $in) { cart { id } userErrors { code message } } }`, st.input, st.name),
			map[string]any{"in": in}, &out)
		check(st.name, out[st.name])
	}
	var cart struct {
		Cart struct{ ShippingMethods []struct{ MethodID string } }
	}
	s.do("", `query($t: String!) { cart(token: $t) { shippingMethods { methodId } } }`, map[string]any{"t": tok}, &cart)
	if len(cart.Cart.ShippingMethods) == 0 {
		s.t.Fatal("no shipping method to Hangzhou in the demo shop")
	}
	var sel struct{ CartShippingMethodSelect payload }
	s.do("", `mutation($in: CartShippingMethodSelectInput!) { cartShippingMethodSelect(input: $in) { cart { id } userErrors { code message } } }`,
		map[string]any{"in": map[string]any{"token": tok, "methodId": cart.Cart.ShippingMethods[0].MethodID}}, &sel)
	check("cartShippingMethodSelect", sel.CartShippingMethodSelect)
	var done struct {
		CheckoutComplete struct {
			Order       struct{ ID string }
			AccessToken string
			UserErrors  []struct{ Code, Message string }
		}
	}
	s.do("", `mutation($in: CheckoutCompleteInput!) { checkoutComplete(input: $in) { order { id } accessToken userErrors { code message } } }`,
		map[string]any{"in": map[string]any{"token": tok, "idempotencyKey": key()}}, &done)
	if len(done.CheckoutComplete.UserErrors) > 0 || done.CheckoutComplete.Order.ID == "" {
		s.t.Fatalf("checkoutComplete: %+v", done.CheckoutComplete.UserErrors)
	}
	return order{id: done.CheckoutComplete.Order.ID, token: done.CheckoutComplete.AccessToken}
}

// pay starts a testpay payment with a test card (the scenario's name);
// it returns the GraphQL answer's raw body, or an error when the request
// did not get one (Kassa died under it).
func (s *paymentShop) pay(o order, card string) (string, error) {
	body, _ := json.Marshal(map[string]any{
		"query": `mutation($in: PaymentCreateInput!) { paymentCreate(input: $in) { payment { id state } userErrors { code message } } }`,
		"variables": map[string]any{"in": map[string]any{"orderId": o.id, "token": o.token, "gatewayId": "payment.testpay",
			"returnUrl": "http://" + s.addr + "/orders/return", "paymentMethod": card, "idempotencyKey": key()}},
	})
	res, err := http.Post(s.in.base+"/graphql", "application/json", bytes.NewReader(body))
	if err != nil {
		return "", err
	}
	defer res.Body.Close()
	var b bytes.Buffer
	_, err = b.ReadFrom(res.Body)
	return b.String(), err
}

// money is what the staff see of an order's payments.
type money struct {
	PaymentStatus string
	Total         struct{ Amount string }
	AmountPaid    *struct{ Amount string }
	Payments      []struct {
		ID       string
		State    string
		Captured struct{ Amount string }
	}
	PaymentLedger []struct {
		Kind   string
		Amount struct{ Amount string }
	}
}

func (s *paymentShop) money(o order) money {
	s.t.Helper()
	var res struct{ Order *money }
	s.do(s.staff, `query($id: ID!) { order(id: $id) { paymentStatus total { amount } amountPaid { amount }
		payments { id state captured { amount } } paymentLedger { kind amount { amount } } } }`, map[string]any{"id": o.id}, &res)
	if res.Order == nil {
		s.t.Fatalf("order %s not found by staff", o.id)
	}
	return *res.Order
}

// waitFor polls the order until cond holds or two minutes passed (the
// whole suite runs beside it on two cores).
func (s *paymentShop) waitFor(o order, what string, cond func(money) bool) money {
	s.t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		m := s.money(o)
		if cond(m) {
			return m
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("order %s never became %s: %+v", o.id, what, m)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// waitAtGateway waits until testpay has recorded the attempt in its
// journal (one JSON line per change, written before CreatePayment
// answers): the money moved at the gateway, so a crash from now on
// leaves an outcome only GetPayment can tell. A fixed sleep would crash
// too early when the machine is busy.
func (s *paymentShop) waitAtGateway(attemptID string) {
	s.t.Helper()
	state := filepath.Join(s.dir, "plugin-data", "payment.testpay", "testpay-records.jsonl")
	deadline := time.Now().Add(time.Minute)
	for {
		b, _ := os.ReadFile(state)
		if bytes.Contains(b, []byte(strconv.Quote(attemptID))) {
			return
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("testpay never recorded attempt %s in %s", attemptID, state)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// paidOnce checks the end state every crash must reach: the order PAID,
// one attempt CAPTURED for the order's total, one capture in the ledger
// and the paid amount equal to the total: no double charge, no lost
// payment.
func paidOnce(t *testing.T, m money) {
	t.Helper()
	if m.PaymentStatus != "PAID" {
		t.Fatalf("payment status %s, want PAID: %+v", m.PaymentStatus, m)
	}
	captured := 0
	for _, p := range m.Payments {
		if p.State == "CAPTURED" {
			captured++
			if p.Captured.Amount != m.Total.Amount {
				t.Fatalf("attempt %s captured %s of %s", p.ID, p.Captured.Amount, m.Total.Amount)
			}
		}
	}
	captures := 0
	for _, l := range m.PaymentLedger {
		if l.Kind == "CAPTURE" {
			captures++
		}
	}
	if captured != 1 || captures != 1 {
		t.Fatalf("%d captured attempts and %d ledger captures, want 1 and 1: %+v", captured, captures, m)
	}
	if m.AmountPaid == nil || m.AmountPaid.Amount != m.Total.Amount {
		t.Fatalf("amount paid %+v, want the total %s", m.AmountPaid, m.Total.Amount)
	}
}

// TestPaymentSurvivesACrashAtEachStep kills Kassa and its plugins
// (SIGKILL to the process group) at each step of a testpay payment and
// starts it again on the same data: the reconciler, the gateway's
// retried notifications or both end every attempt in its true state.
func TestPaymentSurvivesACrashAtEachStep(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		// card is the testpay scenario.
		card string
		// crash runs the payment up to the moment of the crash.
		crash func(t *testing.T, s *paymentShop, o order)
	}{{
		// The money moved at the gateway while Kassa waited for
		// CreatePayment's answer: the attempt is left PENDING with no
		// answer, and only GetPayment can tell.
		name: "after CreatePayment left",
		card: "timeout",
		crash: func(t *testing.T, s *paymentShop, o order) {
			answered := make(chan struct{})
			go func() {
				defer close(answered)
				_, _ = s.pay(o, "timeout")
			}()
			m := s.waitFor(o, "an attempt", func(m money) bool { return len(m.Payments) == 1 })
			s.waitAtGateway(m.Payments[0].ID)
			select {
			case <-answered:
				t.Fatal("CreatePayment answered before the crash; the timeout scenario should block")
			default:
			}
			s.in.crash()
			<-answered
		},
	}, {
		// The gateway settles two seconds later and notifies: the crash
		// comes before the notification, which reaches the restarted Kassa
		// (testpay retries) or is found by the reconciler.
		name: "before the notification",
		card: "async",
		crash: func(t *testing.T, s *paymentShop, o order) {
			body, err := s.pay(o, "async")
			if err != nil || !strings.Contains(body, `"state":"PENDING"`) {
				t.Fatalf("async payment: %v %s", err, body)
			}
			s.in.crash()
		},
	}, {
		// Everything was committed: the restart must change nothing.
		name: "after the notification was applied",
		card: "succeed",
		crash: func(t *testing.T, s *paymentShop, o order) {
			if body, err := s.pay(o, "succeed"); err != nil || strings.Contains(body, `"code"`) {
				t.Fatalf("payment: %v %s", err, body)
			}
			paidOnce(t, s.waitFor(o, "PAID", func(m money) bool { return m.PaymentStatus == "PAID" }))
			s.in.crash()
		},
	}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := newPaymentShop(t)
			o := s.placeOrder()
			tc.crash(t, s, o)
			s.start()
			s.waitFor(o, "PAID", func(m money) bool { return m.PaymentStatus == "PAID" })
			// Late notifications and reconciler rounds may still come:
			// give them time, then the money must still be right.
			time.Sleep(3 * time.Second)
			paidOnce(t, s.money(o))
			s.in.stop()
		})
	}
}

// TestPaymentSurvivesAPluginCrash kills the testpay process while
// CreatePayment waits for it: Kassa stays up, the buyer hears that the
// gateway is unavailable (the outcome unknown, never "failed"), and once
// the plugin is restarted the reconciler finds the money that moved.
func TestPaymentSurvivesAPluginCrash(t *testing.T) {
	t.Parallel()
	s := newPaymentShop(t)
	o := s.placeOrder()
	answer := make(chan string, 1)
	go func() {
		body, err := s.pay(o, "timeout")
		if err != nil {
			body = err.Error()
		}
		answer <- body
	}()
	m := s.waitFor(o, "an attempt", func(m money) bool { return len(m.Payments) == 1 })
	s.waitAtGateway(m.Payments[0].ID)
	pid := pluginPID(t, s.in, "payment.testpay")
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	var body string
	select {
	case body = <-answer:
	case <-time.After(30 * time.Second):
		t.Fatal("paymentCreate did not answer after the plugin died")
	}
	if !strings.Contains(body, "PLUGIN_UNAVAILABLE") && !strings.Contains(body, `"state":"UNKNOWN"`) {
		t.Fatalf("paymentCreate answered %s after the plugin died, want PLUGIN_UNAVAILABLE or an UNKNOWN attempt", body)
	}
	if strings.Contains(body, `"state":"FAILED"`) {
		t.Fatalf("a crashed plugin made the attempt FAILED: %s", body)
	}
	if code, _ := s.in.get("/readyz"); code != http.StatusOK {
		t.Fatalf("/readyz answered %d after a plugin crash", code)
	}
	s.waitFor(o, "PAID", func(m money) bool { return m.PaymentStatus == "PAID" })
	paidOnce(t, s.money(o))
}

// pluginPID finds the process of an installed plugin among Kassa's
// process group.
func pluginPID(t *testing.T, in *instance, id string) int {
	t.Helper()
	bin := filepath.Join(in.dataDir, "plugins", id)
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		dirs, _ := os.ReadDir("/proc")
		for _, d := range dirs {
			pid, err := strconv.Atoi(d.Name())
			if err != nil {
				continue
			}
			exe, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid))
			if err != nil || exe != bin {
				continue
			}
			if pgid, err := syscall.Getpgid(pid); err == nil && pgid == in.cmd.Process.Pid {
				return pid
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("no running %s process", id)
	return 0
}

// TestPluginsEndWithAKilledShop kills Kassa alone with SIGKILL, as the OOM
// killer would, leaving its plugins behind: they notice that their host
// is gone and exit, instead of piling up at each crash and restart.
func TestPluginsEndWithAKilledShop(t *testing.T) {
	t.Parallel()
	s := newPaymentShop(t)
	pid := pluginPID(t, s.in, "payment.testpay")
	if err := syscall.Kill(s.in.cmd.Process.Pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-s.in.exited
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		// Gone, or a zombie waiting for whoever adopted it to reap it.
		if err != nil || strings.Contains(string(stat), ") Z ") {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	_ = syscall.Kill(pid, syscall.SIGKILL)
	t.Fatalf("payment.testpay (pid %d) still runs 10s after Kassa was killed", pid)
}
