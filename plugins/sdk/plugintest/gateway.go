package plugintest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kassahq/kassa/plugins/sdk"
	"github.com/kassahq/kassa/plugins/sdk/host"
	"github.com/kassahq/kassa/plugins/sdk/payment"
)

// GatewayConfig configures [RunGateway].
type GatewayConfig struct {
	// Binary is the plugin executable (see Build and BuildBinary).
	Binary string
	// SHA256 pins the binary; empty means its current checksum.
	SHA256 string
	// Config is a valid settings object for the plugin, using sandbox
	// credentials.
	Config json.RawMessage
	// Env are extra environment variables for the plugin.
	Env []string
	// AllowPrivateNetworks configures the plugin as a shop whose owner
	// allows private networks (KASSA_PLUGIN_ALLOW_PRIVATE_NETWORKS): set it
	// when Config points at a test server on loopback.
	AllowPrivateNetworks bool
	// Logger receives the plugin's log lines; nil logs them with t.Log.
	Logger *slog.Logger

	// Currency of test payments; default "EUR".
	Currency string
	// Amount of test payments in minor units when a scenario sets none;
	// default 1999. Refund checks split it in three.
	Amount int64
	// CallTimeout bounds each call; default 10s.
	CallTimeout time.Duration
	// SettleTimeout bounds waiting for a payment to reach its final state
	// (after Complete, or for asynchronous gateways); default 20s.
	SettleTimeout time.Duration

	// Scenarios are the CreatePayment cases. Every action type the plugin
	// declares (payment.CapAction*) must be produced by at least one
	// scenario.
	Scenarios []Scenario
	// Paid names a scenario that ends SUCCEEDED (directly, after Complete,
	// or asynchronously). It is replayed with fresh attempt ids for the
	// GetPayment, cancel-after-payment, refund and idempotency checks. Leave
	// empty only if the gateway cannot be paid in a test (e.g. offline bank
	// transfer); the checks that need a paid payment are then skipped and
	// say so in the report.
	Paid string
	// Unpaid names a scenario that stays unpaid (PENDING or
	// REQUIRES_ACTION) until canceled; required with payment.CapCancel.
	Unpaid string
	// Authorized names a scenario with CaptureMethod manual that ends
	// AUTHORIZED; required with payment.CapCaptureManual.
	Authorized string
	// Webhook lets the kit produce signed deliveries; required with
	// payment.CapWebhook, unless the plugin declares
	// payment.CapWebhookSimulate: its SimulateWebhook then signs them.
	Webhook *WebhookKit
}

// Outcome is what a CreatePayment call must answer.
type Outcome struct {
	// Status expected from CreatePayment. payment.StatusUnknown means the
	// call is expected to fail (e.g. a gateway time-out under
	// Scenario.Timeout): outcome unknown, to be reconciled.
	Status payment.Status
	// Action expected (payment.ActionNone when there is none).
	Action payment.ActionType
	// DeclineCode expected when Status is payment.StatusFailed; empty
	// accepts any non-empty code.
	DeclineCode string
}

// Scenario is one CreatePayment case.
type Scenario struct {
	// Name identifies the scenario in subtests and in GatewayConfig.Paid and
	// friends.
	Name string
	// Request is the CreatePayment input. The kit fills AttemptID, OrderID,
	// OrderNumber, IdempotencyKey, ReturnURL, NotifyURL and PluginBaseURL,
	// and Amount when zero; set what triggers the scenario (PaymentMethod,
	// a magic amount, CaptureMethod ...).
	Request payment.CreateRequest
	// Want is the expected answer of CreatePayment.
	Want Outcome
	// Complete, when set, plays the buyer after CreatePayment: it follows
	// the action (submits the gateway's sandbox page, confirms the test
	// QR payment ...). The kit then waits for WantFinal with GetPayment.
	Complete func(ctx context.Context, h *Harness, req payment.CreateRequest, res payment.CreateResult) error
	// WantFinal is the state GetPayment must reach eventually (after
	// Complete, or asynchronously); zero means no waiting.
	WantFinal payment.Status
	// Timeout is the deadline of the CreatePayment call; zero means
	// GatewayConfig.CallTimeout.
	Timeout time.Duration
}

// WebhookKit lets the conformance kit produce notifications in the
// gateway's own format, so it can check HandleWebhook without the real
// gateway. A Stripe plugin builds an Event object and a Stripe-Signature
// header; an Alipay plugin builds form parameters signed with RSA2 by a test
// key whose public half is in the test settings.
type WebhookKit struct {
	// Sign returns the headers and body the gateway would send to announce
	// ev, signed with the secret from GatewayConfig.Config, with the
	// signature's timestamp at (ignore at if the format has none).
	Sign func(ev payment.Event, at time.Time) (http.Header, []byte, error)
	// Tamper changes a signed delivery so that its signature no longer
	// matches; nil appends a space to the body. Set it when the signature
	// covers what the body says rather than its bytes (a JSON document
	// signed after decoding, as PayPal's API verification does): change a
	// signed value, such as the amount.
	Tamper func(h http.Header, body []byte) (http.Header, []byte)
	// NoTimestamp says the gateway's signatures carry no timestamp (e.g.
	// Alipay), so the stale-delivery check is skipped.
	NoTimestamp bool
	// StaleAfter is how old a signature must be to be refused as stale;
	// default 1h (well beyond the usual 5-minute tolerance).
	StaleAfter time.Duration
	// CheckAccepted checks the HTTP answer to an accepted delivery (e.g.
	// Alipay's literal "success"); nil requires a 2xx status.
	CheckAccepted func(sdk.HTTPResponse) error
	// SignatureHeaders names the headers that carry the signature or what
	// it covers (timestamp, nonce, key id), which the kit empties, cuts
	// and alters one by one and requires refused, each refusal followed
	// by the same notification unchanged, which must be accepted
	// (webhook/empty_signature_refused, webhook/cut_signature_refused).
	// nil lets the kit find them: the headers whose values differ between
	// two notifications Sign signs. Set it when that guess is wrong: a
	// header that stays the same (a static token), or one that changes
	// but no signature covers (a random delivery id). An empty, non-nil
	// list says no header carries the signature (it is in the body: see
	// SignatureFields).
	SignatureHeaders []string
	// SignatureFields names the fields of the body that carry the
	// signature, for gateways that sign in the body (Alipay's form field
	// sign, UnionPay's signature). The kit attacks them as it attacks
	// signature headers: each one emptied ("sign="), stripped after its
	// last "=", cut to its first half and altered in one character must be
	// refused, and the same notification unchanged then accepted; and the
	// delivery without a signature (webhook/bad_signature_refused) lacks
	// them all. A field of a form-encoded body is named by its name
	// ("sign"), a string of a JSON body by its JSON Pointer
	// ("/auth/signature"; a bare name is a member at the top). The kit
	// reads only these two kinds of body (by Content-Type, or by their
	// look when Sign sets none), and changes a field in place, every
	// other byte as Sign wrote it.
	//
	// nil lets the kit find them: the fields whose name has a word ending
	// in sign, signature, sig, hmac, mac, hash or checksum (sign,
	// signature, paySign, hmacSignature) and whose values differ between
	// two notifications Sign signs, so a constant sign_type or signing
	// certificate is left alone. Set it when that guess is wrong: a
	// signature field named otherwise, or a changing field named like a
	// signature that no signature check covers. An empty, non-nil list
	// says no body field carries the signature.
	SignatureFields []string
	// DerivedIDs says the gateway's notifications carry no event id of
	// their own, so Sign cannot put the event's ID in the body and the
	// plugin derives one (e.g. from the payment's reference and status).
	// The kit then finds the event by attempt (or payment) and type, and
	// checks that its id is set and the same when the same notification
	// is read twice.
	DerivedIDs bool
}

// Harness is what Scenario.Complete gets to play the buyer.
type Harness struct {
	// Gateway is the plugin's gateway client.
	Gateway payment.Gateway
	// Plugin is the kind-independent client (HandleHTTP serves the
	// plugin's pages).
	Plugin sdk.Plugin
	// Info is the plugin's identity card.
	Info sdk.Info
	// NotifyURL is the kit's webhook receiver, passed as
	// CreateRequest.NotifyURL; deliveries it receives are checked with
	// HandleWebhook at the end.
	NotifyURL string
	// PluginBaseURL is passed as CreateRequest.PluginBaseURL.
	PluginBaseURL string

	mu         sync.Mutex
	deliveries []Delivery
}

// Delivery is a notification the plugin sent to NotifyURL.
type Delivery struct {
	// Header of the request.
	Header http.Header
	// Body of the request.
	Body []byte
	// ReceivedAt is when the kit received it.
	ReceivedAt time.Time
}

// Deliveries returns the notifications received at NotifyURL so far.
func (h *Harness) Deliveries() []Delivery {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]Delivery(nil), h.deliveries...)
}

// Page calls the plugin's HandleHTTP like a browser would: method and path
// below /plugins/{id}, optional form values (sent as an urlencoded body for
// POST). Paths may be absolute URLs under PluginBaseURL, as found in a
// redirect action.
func (h *Harness) Page(ctx context.Context, method, path string, form url.Values) (sdk.HTTPResponse, error) {
	path = strings.TrimPrefix(path, h.PluginBaseURL)
	query := ""
	if p, q, ok := strings.Cut(path, "?"); ok {
		path, query = p, q
	}
	req := sdk.HTTPRequest{Method: method, Path: path, Query: query, Header: http.Header{}, BaseURL: h.PluginBaseURL, RemoteAddr: "127.0.0.1"}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Body = []byte(form.Encode())
	}
	return h.Plugin.HandleHTTP(ctx, req)
}

// gatewayRun is the state of one RunGateway.
type gatewayRun struct {
	cfg   GatewayConfig
	s     *suite
	p     *host.Plugin
	gw    payment.Gateway
	info  sdk.Info
	h     *Harness
	runID string
	seq   int
	mu    sync.Mutex
}

func (r *gatewayRun) nextID(prefix string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.seq++
	return fmt.Sprintf("%s_pt%s_%d", prefix, r.runID, r.seq)
}

var paymentCaps = []string{
	payment.CapActionNone, payment.CapActionRedirect, payment.CapActionQRCode, payment.CapActionClientSecret,
	payment.CapActionInstructions, payment.CapCaptureManual, payment.CapCancel, payment.CapRefund,
	payment.CapRefundPartial, payment.CapRefundManual, payment.CapWebhook, payment.CapListTransactions, payment.CapHTTP,
	payment.CapManualConfirmation, payment.CapWebhookSimulate,
}

// RunGateway starts the gateway binary as Kassa does and checks the payment
// contract as subtests of t, then logs a summary report. It fails t when a
// check fails.
func RunGateway(t *testing.T, cfg GatewayConfig) {
	t.Helper()
	if cfg.Currency == "" {
		cfg.Currency = "EUR"
	}
	if cfg.Amount == 0 {
		cfg.Amount = 1999
	}
	if cfg.CallTimeout == 0 {
		cfg.CallTimeout = 10 * time.Second
	}
	if cfg.SettleTimeout == 0 {
		cfg.SettleTimeout = 20 * time.Second
	}
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	r := &gatewayRun{cfg: cfg, s: newSuite(t), runID: hex.EncodeToString(b)}
	defer r.s.report("payment gateway")

	r.h = &Harness{PluginBaseURL: "https://kassa.plugintest.invalid/plugins/plugin"}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(io.LimitReader(req.Body, 1<<20))
		r.h.mu.Lock()
		r.h.deliveries = append(r.h.deliveries, Delivery{Header: req.Header.Clone(), Body: body, ReceivedAt: time.Now()})
		r.h.mu.Unlock()
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(srv.Close)
	r.h.NotifyURL = srv.URL + "/webhooks/plugin"

	r.p = Start(t, StartConfig{Binary: cfg.Binary, SHA256: cfg.SHA256, Env: cfg.Env, Logger: cfg.Logger, CallTimeout: cfg.CallTimeout})
	gw, err := r.p.Gateway()
	if err != nil {
		t.Fatalf("plugintest: %v", err)
	}
	r.gw = gw
	r.h.Gateway, r.h.Plugin = gw, r.p.Plugin()

	info, configured := commonChecks(r.s, r.p, sdk.KindPayment, paymentCaps, cfg.Config, cfg.AllowPrivateNetworks)
	r.info, r.h.Info = info, info
	if !configured {
		return
	}
	r.h.PluginBaseURL = "https://kassa.plugintest.invalid/plugins/" + info.ID

	created := r.checkScenarios()
	r.checkGet(created)
	r.checkIdempotency()
	r.checkCancel()
	r.checkCapture()
	r.checkRefund(created)
	r.checkWebhooks()
	r.checkSimulate() // simulate.go
	r.checkHTTP()
	r.checkListTransactions()
	r.checkDeliveries()
}

func (r *gatewayRun) scenario(name string) (Scenario, bool) {
	for _, sc := range r.cfg.Scenarios {
		if sc.Name == name {
			return sc, true
		}
	}
	return Scenario{}, false
}

// request fills the kit-owned fields of a scenario's request.
func (r *gatewayRun) request(sc Scenario) payment.CreateRequest {
	req := sc.Request
	req.AttemptID = r.nextID("pay")
	req.OrderID = r.nextID("ord")
	req.OrderNumber = "#" + strings.TrimPrefix(req.OrderID, "ord_")
	req.IdempotencyKey = "idem_" + req.AttemptID
	req.ReturnURL = "https://kassa.plugintest.invalid/checkout/return/" + req.AttemptID
	req.NotifyURL = r.h.NotifyURL
	req.PluginBaseURL = r.h.PluginBaseURL
	if req.Amount.Amount == 0 {
		req.Amount.Amount = r.cfg.Amount
	}
	if req.Amount.Currency == "" {
		req.Amount.Currency = r.cfg.Currency
	}
	if req.Description == "" {
		req.Description = "plugintest order " + req.OrderNumber
	}
	return req
}

// created is a payment a scenario produced.
type created struct {
	req payment.CreateRequest
	res payment.CreateResult
}

// play runs a scenario to its end: CreatePayment, outcome checks,
// Complete, waiting for WantFinal.
func (r *gatewayRun) play(t *testing.T, sc Scenario) (created, bool) {
	t.Helper()
	req := r.request(sc)
	timeout := sc.Timeout
	if timeout == 0 {
		timeout = r.cfg.CallTimeout
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	res, err := r.gw.CreatePayment(ctx, req)
	cancel()
	c := created{req: req, res: res}
	if sc.Want.Status == payment.StatusUnknown {
		if err == nil {
			t.Errorf("CreatePayment(%s) answered %s, want a failed call (outcome unknown) within %s", sc.Name, res.Status, timeout)
			return c, false
		}
	} else {
		if err != nil {
			t.Errorf("CreatePayment(%s) failed with an error: %v\n(business outcomes such as declines must be data: Status, DeclineCode, messages)", sc.Name, err)
			return c, false
		}
		if !checkCreateResult(t, sc, r.info, res) {
			return c, false
		}
	}
	if sc.Complete != nil {
		ctx, cancel := context.WithTimeout(context.Background(), r.cfg.SettleTimeout)
		err := sc.Complete(ctx, r.h, req, res)
		cancel()
		if err != nil {
			t.Errorf("scenario %s: Complete: %v", sc.Name, err)
			return c, false
		}
	}
	if sc.WantFinal != payment.StatusUnknown {
		st, ok := r.waitFor(t, req, res.GatewayRef, sc.WantFinal)
		if !ok {
			t.Errorf("scenario %s: GetPayment did not reach %s within %s; last state %s (%+v)", sc.Name, sc.WantFinal, r.cfg.SettleTimeout, st.Status, st)
			return c, false
		}
		if c.res.GatewayRef == "" {
			c.res.GatewayRef = st.GatewayRef
		}
	}
	return c, true
}

func checkCreateResult(t *testing.T, sc Scenario, info sdk.Info, res payment.CreateResult) bool {
	t.Helper()
	ok := true
	fail := func(format string, args ...any) {
		t.Errorf("CreatePayment(%s): "+format, append([]any{sc.Name}, args...)...)
		ok = false
	}
	if res.Status != sc.Want.Status {
		fail("status %s, want %s (decline code %q, merchant message %q)", res.Status, sc.Want.Status, res.DeclineCode, res.MerchantMessage)
	}
	if res.Action.Type != sc.Want.Action {
		fail("action %s, want %s", res.Action.Type, sc.Want.Action)
	}
	if res.Status == payment.StatusFailed {
		if res.DeclineCode == "" {
			fail("a FAILED payment needs a DeclineCode")
		}
		if sc.Want.DeclineCode != "" && res.DeclineCode != sc.Want.DeclineCode {
			fail("decline code %q, want %q", res.DeclineCode, sc.Want.DeclineCode)
		}
		if res.BuyerMessage == "" {
			fail("a FAILED payment needs a BuyerMessage the storefront can show")
		}
	} else if res.GatewayRef == "" {
		fail("no GatewayRef for a %s payment", res.Status)
	}
	if res.Status == payment.StatusRequiresAction && res.Action.Type == payment.ActionNone {
		fail("REQUIRES_ACTION without an action")
	}
	if res.Action.Type != payment.ActionNone && !info.Has(res.Action.Type.Capability()) {
		fail("answered action %s but does not declare capability %q", res.Action.Type, res.Action.Type.Capability())
	}
	switch res.Action.Type {
	case payment.ActionRedirect:
		if u, err := url.Parse(res.Action.URL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			fail("REDIRECT needs an absolute http(s) URL, got %q", res.Action.URL)
		}
	case payment.ActionQRCode:
		if res.Action.QRCode == "" {
			fail("QR_CODE without QRCode content")
		}
	case payment.ActionClientSecret:
		if res.Action.ClientSecret == "" {
			fail("CLIENT_SECRET without a ClientSecret")
		}
	case payment.ActionInstructions:
		if strings.TrimSpace(res.Action.Instructions) == "" {
			fail("INSTRUCTIONS without instructions text")
		}
	}
	return ok
}

// checkCreateAmount checks CreateResult.Amount, the amount the gateway
// accepted: zero means the requested one, anything else must be the
// requested amount, in minor units, and currency. Kassa compares it with
// the attempt's and flags every payment AMOUNT_MISMATCH when it differs
// (as it does when a plugin answers in major units). call names the call
// in the message: the scenario, and how it was made.
//
// The create checks look at the first answer of each scenario, and
// idempotency/create_retry at the answer to a retry: Kassa retries
// CreatePayment with the same idempotency key when the first answer was
// lost, and then takes the retry's Amount as the first's. A plugin that
// rebuilds the answer of a retry from what it stored (a journal holding
// major units, a gateway's order that spells yuan) fails only there.
func checkCreateAmount(t *testing.T, call string, req payment.CreateRequest, res payment.CreateResult) {
	t.Helper()
	if res.Amount == (sdk.Money{}) || res.Amount == req.Amount {
		return
	}
	t.Errorf("CreatePayment(%s) answered Amount %d %s for a request of %d %s: CreateResult.Amount must be the requested amount in minor units "+
		"(the smallest unit of the currency, as in CreateRequest.Amount) and currency, or zero to mean the requested amount; "+
		"Kassa flags a payment whose amount differs AMOUNT_MISMATCH (see payment.CreateResult.Amount, and docs/plugins.md, \"Build and test\", create)",
		call, res.Amount.Amount, res.Amount.Currency, req.Amount.Amount, req.Amount.Currency)
}

// waitFor polls GetPayment until the status is want.
func (r *gatewayRun) waitFor(t *testing.T, req payment.CreateRequest, ref string, want payment.Status) (payment.PaymentState, bool) {
	t.Helper()
	deadline := time.Now().Add(r.cfg.SettleTimeout)
	var st payment.PaymentState
	for {
		ctx, cancel := context.WithTimeout(context.Background(), r.cfg.CallTimeout)
		var err error
		st, err = r.gw.GetPayment(ctx, payment.GetRequest{AttemptID: req.AttemptID, GatewayRef: ref})
		cancel()
		if err != nil {
			t.Errorf("GetPayment(%s): %v", req.AttemptID, err)
			return st, false
		}
		if st.Status == want {
			return st, true
		}
		if st.Status.Final() || time.Now().After(deadline) {
			return st, false
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// completesAlone reports whether a CreatePayment status is one reached
// without a buyer action.
func completesAlone(st payment.Status) bool {
	return st == payment.StatusSucceeded || st == payment.StatusAuthorized || st == payment.StatusPending
}

func (r *gatewayRun) checkScenarios() map[string]created {
	out := map[string]created{}
	r.s.check("create/action_coverage", func(t *testing.T) {
		for _, a := range payment.ActionTypes {
			if !r.info.Has(a.Capability()) {
				continue
			}
			covered := false
			for _, sc := range r.cfg.Scenarios {
				// action.none promises a payment that goes through
				// without the buyer: a decline, which has no action
				// either, does not show it.
				covered = covered || sc.Want.Action == a && (a != payment.ActionNone || completesAlone(sc.Want.Status))
			}
			if !covered && a == payment.ActionNone {
				t.Errorf("the plugin declares %q but no scenario expects a payment to succeed, authorize or go pending without an action: add one to GatewayConfig.Scenarios, or drop the capability", a.Capability())
			} else if !covered {
				t.Errorf("the plugin declares %q but no scenario expects action %s: add one to GatewayConfig.Scenarios", a.Capability(), a)
			}
		}
		if len(r.cfg.Scenarios) == 0 {
			t.Error("GatewayConfig.Scenarios is empty")
		}
		for _, name := range []string{r.cfg.Paid, r.cfg.Unpaid, r.cfg.Authorized} {
			if _, ok := r.scenario(name); name != "" && !ok {
				t.Errorf("GatewayConfig names scenario %q, which does not exist", name)
			}
		}
	})
	for _, sc := range r.cfg.Scenarios {
		r.s.check("create/"+sc.Name, func(t *testing.T) {
			c, ok := r.play(t, sc)
			if ok {
				out[sc.Name] = c
			}
			checkCreateAmount(t, sc.Name, c.req, c.res)
		})
	}
	return out
}

// paid produces a fresh paid payment, or skips the check.
func (r *gatewayRun) paid(t *testing.T) created {
	t.Helper()
	if r.cfg.Paid == "" {
		r.s.skipf(t, "GatewayConfig.Paid is empty: the gateway cannot be paid in a test")
	}
	sc, ok := r.scenario(r.cfg.Paid)
	if !ok {
		t.Fatalf("GatewayConfig.Paid names unknown scenario %q", r.cfg.Paid)
	}
	if sc.WantFinal == payment.StatusUnknown && sc.Want.Status != payment.StatusSucceeded {
		t.Fatalf("the Paid scenario %q neither answers SUCCEEDED nor sets WantFinal: SUCCEEDED", sc.Name)
	}
	c, ok := r.play(t, sc)
	if !ok {
		t.FailNow()
	}
	return c
}

func (r *gatewayRun) ctx(t *testing.T) context.Context { return ctxT(t, r.cfg.CallTimeout) }

func (r *gatewayRun) checkGet(done map[string]created) {
	r.s.check("get/paid", func(t *testing.T) {
		c := r.paid(t)
		st, err := r.gw.GetPayment(r.ctx(t), payment.GetRequest{AttemptID: c.req.AttemptID, GatewayRef: c.res.GatewayRef})
		if err != nil {
			t.Fatalf("GetPayment: %v", err)
		}
		if st.Status != payment.StatusSucceeded {
			t.Errorf("GetPayment status %s, want SUCCEEDED", st.Status)
		}
		if st.Amount != c.req.Amount {
			t.Errorf("GetPayment amount %+v, want %+v", st.Amount, c.req.Amount)
		}
		if st.Captured != c.req.Amount.Amount {
			t.Errorf("GetPayment captured %d, want %d", st.Captured, c.req.Amount.Amount)
		}
		// Reconciliation after a lost CreatePayment answer: only the attempt id is known.
		st2, err := r.gw.GetPayment(r.ctx(t), payment.GetRequest{AttemptID: c.req.AttemptID})
		if err != nil || st2.Status != payment.StatusSucceeded {
			t.Errorf("GetPayment by attempt id only = %s, %v; want SUCCEEDED (reconciliation knows only the attempt id when CreatePayment's answer was lost)", st2.Status, err)
		}
	})
	r.s.check("get/unknown_attempt", func(t *testing.T) {
		st, err := r.gw.GetPayment(r.ctx(t), payment.GetRequest{AttemptID: r.nextID("pay_never_created")})
		if err != nil {
			t.Fatalf("GetPayment of an unknown attempt failed with an error; answer StatusNotFound as data: %v", err)
		}
		if st.Status != payment.StatusNotFound {
			t.Errorf("GetPayment of an unknown attempt = %s, want NOT_FOUND", st.Status)
		}
	})
	r.s.check("get/each_scenario", func(t *testing.T) {
		for _, sc := range r.cfg.Scenarios {
			c, ok := done[sc.Name]
			if !ok || sc.Want.Status == payment.StatusUnknown {
				continue
			}
			st, err := r.gw.GetPayment(r.ctx(t), payment.GetRequest{AttemptID: c.req.AttemptID, GatewayRef: c.res.GatewayRef})
			if err != nil {
				t.Errorf("GetPayment(%s): %v", sc.Name, err)
				continue
			}
			if st.Status == payment.StatusNotFound || st.Status == payment.StatusUnknown {
				t.Errorf("GetPayment(%s) = %s; the gateway must know every attempt it answered", sc.Name, st.Status)
			}
		}
	})
}

func (r *gatewayRun) checkIdempotency() {
	r.s.check("idempotency/create_retry", func(t *testing.T) {
		name := r.cfg.Paid
		if name == "" && len(r.cfg.Scenarios) > 0 {
			name = r.cfg.Scenarios[0].Name
		}
		sc, ok := r.scenario(name)
		if !ok || sc.Want.Status == payment.StatusUnknown {
			r.s.skipf(t, "no scenario to retry")
		}
		req := r.request(sc)
		first, err := r.gw.CreatePayment(r.ctx(t), req)
		if err != nil {
			t.Fatalf("CreatePayment: %v", err)
		}
		second, err := r.gw.CreatePayment(r.ctx(t), req)
		if err != nil {
			t.Fatalf("retried CreatePayment: %v", err)
		}
		if first.GatewayRef != second.GatewayRef || first.Status != second.Status || first.Action.Type != second.Action.Type {
			t.Errorf("a retry with the same idempotency key must return the first answer:\nfirst  %+v\nsecond %+v", first, second)
		}
		// The retry answers for the same payment, so its amount is the
		// requested one too (the first answer's is checked by create/*).
		checkCreateAmount(t, sc.Name+", retried with the same idempotency key", req, second)
		if r.cfg.Paid == "" || sc.Want.Status != payment.StatusSucceeded {
			return
		}
		st, err := r.gw.GetPayment(r.ctx(t), payment.GetRequest{AttemptID: req.AttemptID, GatewayRef: first.GatewayRef})
		if err != nil {
			t.Fatal(err)
		}
		if st.Captured != req.Amount.Amount {
			t.Errorf("after a retried CreatePayment the gateway captured %d, want %d (charged twice?)", st.Captured, req.Amount.Amount)
		}
	})
}

func (r *gatewayRun) checkCancel() {
	if !r.info.Has(payment.CapCancel) {
		r.s.skip("cancel", "the plugin does not declare "+payment.CapCancel)
		return
	}
	r.s.check("cancel/unpaid", func(t *testing.T) {
		sc, ok := r.scenario(r.cfg.Unpaid)
		if !ok {
			t.Fatalf("the plugin declares %q: set GatewayConfig.Unpaid to a scenario that stays unpaid", payment.CapCancel)
		}
		req := r.request(sc)
		res, err := r.gw.CreatePayment(r.ctx(t), req)
		if err != nil {
			t.Fatal(err)
		}
		cr := payment.CancelRequest{AttemptID: req.AttemptID, GatewayRef: res.GatewayRef, IdempotencyKey: "cancel_" + req.AttemptID, Reason: "expired"}
		out, err := r.gw.CancelPayment(r.ctx(t), cr)
		if err != nil {
			t.Fatalf("CancelPayment: %v", err)
		}
		if out.Status != payment.CancelCanceled {
			t.Errorf("CancelPayment of an unpaid payment = %s (%s %s), want CANCELED", out.Status, out.Code, out.MerchantMessage)
		}
		again, err := r.gw.CancelPayment(r.ctx(t), cr)
		if err != nil || again.Status != payment.CancelCanceled {
			t.Errorf("retried CancelPayment = %s, %v; want CANCELED again", again.Status, err)
		}
		st, err := r.gw.GetPayment(r.ctx(t), payment.GetRequest{AttemptID: req.AttemptID, GatewayRef: res.GatewayRef})
		if err != nil || st.Status != payment.StatusCanceled {
			t.Errorf("GetPayment after cancel = %s, %v; want CANCELED", st.Status, err)
		}
	})
	r.s.check("cancel/already_paid", func(t *testing.T) {
		c := r.paid(t)
		out, err := r.gw.CancelPayment(r.ctx(t), payment.CancelRequest{
			AttemptID: c.req.AttemptID, GatewayRef: c.res.GatewayRef, IdempotencyKey: "cancel_" + c.req.AttemptID, Reason: "expired"})
		if err != nil {
			t.Fatalf("CancelPayment: %v", err)
		}
		if out.Status != payment.CancelAlreadyPaid {
			t.Errorf("CancelPayment of a paid payment = %s, want ALREADY_PAID (Kassa then marks the order paid instead of cancelling it)", out.Status)
		}
		st, err := r.gw.GetPayment(r.ctx(t), payment.GetRequest{AttemptID: c.req.AttemptID, GatewayRef: c.res.GatewayRef})
		if err != nil || st.Status != payment.StatusSucceeded {
			t.Errorf("GetPayment after a refused cancel = %s, %v; want SUCCEEDED", st.Status, err)
		}
	})
	r.s.check("cancel/unknown_attempt", func(t *testing.T) {
		id := r.nextID("pay_never_created")
		out, err := r.gw.CancelPayment(r.ctx(t), payment.CancelRequest{AttemptID: id, IdempotencyKey: "cancel_" + id, Reason: "expired"})
		if err != nil {
			t.Fatalf("CancelPayment of an attempt the gateway never saw failed with an error: %v", err)
		}
		if out.Status != payment.CancelCanceled {
			t.Errorf("CancelPayment of an unknown attempt = %s, want CANCELED (it can never be paid)", out.Status)
		}
	})
}

func (r *gatewayRun) checkCapture() {
	if !r.info.Has(payment.CapCaptureManual) {
		r.s.skip("capture", "the plugin does not declare "+payment.CapCaptureManual)
		return
	}
	r.s.check("capture/authorized", func(t *testing.T) {
		sc, ok := r.scenario(r.cfg.Authorized)
		if !ok {
			t.Fatalf("the plugin declares %q: set GatewayConfig.Authorized to a scenario that ends AUTHORIZED", payment.CapCaptureManual)
		}
		c, ok := r.play(t, sc)
		if !ok {
			t.FailNow()
		}
		st, err := r.gw.GetPayment(r.ctx(t), payment.GetRequest{AttemptID: c.req.AttemptID, GatewayRef: c.res.GatewayRef})
		if err != nil || st.Status != payment.StatusAuthorized || st.Authorized != c.req.Amount.Amount || st.Captured != 0 {
			t.Fatalf("before capture GetPayment = %+v, %v; want AUTHORIZED %d, captured 0", st, err, c.req.Amount.Amount)
		}
		over, err := r.gw.CapturePayment(r.ctx(t), payment.CaptureRequest{AttemptID: c.req.AttemptID, GatewayRef: c.res.GatewayRef,
			Amount: sdk.Money{Amount: c.req.Amount.Amount + 1, Currency: c.req.Amount.Currency}, IdempotencyKey: "cap_over_" + c.req.AttemptID})
		if err != nil {
			t.Errorf("capturing more than authorized failed with an error; refuse it as data: %v", err)
		} else if over.Status == payment.StatusSucceeded || over.DeclineCode == "" {
			t.Errorf("capturing more than authorized = %+v; want a refusal with a DeclineCode", over)
		}
		cr := payment.CaptureRequest{AttemptID: c.req.AttemptID, GatewayRef: c.res.GatewayRef, Amount: c.req.Amount, IdempotencyKey: "cap_" + c.req.AttemptID}
		res, err := r.gw.CapturePayment(r.ctx(t), cr)
		if err != nil {
			t.Fatalf("CapturePayment: %v", err)
		}
		if res.Status != payment.StatusSucceeded || res.Captured != c.req.Amount.Amount {
			t.Errorf("CapturePayment = %+v; want SUCCEEDED with %d captured", res, c.req.Amount.Amount)
		}
		again, err := r.gw.CapturePayment(r.ctx(t), cr)
		if err != nil || again.Status != res.Status || again.Captured != res.Captured {
			t.Errorf("retried CapturePayment = %+v, %v; want the first answer %+v", again, err, res)
		}
		st, err = r.gw.GetPayment(r.ctx(t), payment.GetRequest{AttemptID: c.req.AttemptID, GatewayRef: c.res.GatewayRef})
		if err != nil || st.Status != payment.StatusSucceeded || st.Captured != c.req.Amount.Amount {
			t.Errorf("after capture GetPayment = %+v, %v; want SUCCEEDED, captured %d once", st, err, c.req.Amount.Amount)
		}
	})
}

func (r *gatewayRun) checkRefund(done map[string]created) {
	switch {
	case r.info.Has(payment.CapRefund):
		r.checkGatewayRefund()
	case r.info.Has(payment.CapRefundManual):
		r.checkManualRefund(done)
	default:
		r.s.skip("refund", "the plugin declares neither "+payment.CapRefund+" nor "+payment.CapRefundManual)
	}
}

func (r *gatewayRun) refund(t *testing.T, c created, id string, amount int64) (payment.RefundRequest, payment.RefundResult) {
	t.Helper()
	req := payment.RefundRequest{
		RefundID: id, AttemptID: c.req.AttemptID, GatewayRef: c.res.GatewayRef,
		Amount: sdk.Money{Amount: amount, Currency: c.req.Amount.Currency}, Reason: "requested_by_customer",
		IdempotencyKey: "idem_" + id,
	}
	res, err := r.gw.Refund(r.ctx(t), req)
	if err != nil {
		t.Fatalf("Refund(%d): failed with an error (refusals must be data): %v", amount, err)
	}
	return req, res
}

func (r *gatewayRun) checkGatewayRefund() {
	r.s.check("refund/partial_full_over", func(t *testing.T) {
		c := r.paid(t)
		total := c.req.Amount.Amount
		first := total
		if r.info.Has(payment.CapRefundPartial) {
			first = total / 3
		}
		req1, res1 := r.refund(t, c, r.nextID("ref"), first)
		if res1.Status != payment.RefundSucceeded && res1.Status != payment.RefundPending {
			t.Fatalf("Refund(%d of %d) = %+v, want SUCCEEDED or PENDING", first, total, res1)
		}
		if res1.GatewayRefundRef == "" {
			t.Errorf("Refund answered no GatewayRefundRef")
		}
		retry, err := r.gw.Refund(r.ctx(t), req1)
		if err != nil || retry.GatewayRefundRef != res1.GatewayRefundRef || retry.Status != res1.Status {
			t.Errorf("a retried Refund with the same idempotency key = %+v, %v; want the first answer %+v", retry, err, res1)
		}
		refunded := first
		if first < total {
			_, res2 := r.refund(t, c, r.nextID("ref"), total-first)
			if res2.Status != payment.RefundSucceeded && res2.Status != payment.RefundPending {
				t.Errorf("refunding the remaining %d = %+v, want SUCCEEDED or PENDING", total-first, res2)
			}
			if res2.GatewayRefundRef == res1.GatewayRefundRef {
				t.Errorf("two different refunds got the same GatewayRefundRef %q", res1.GatewayRefundRef)
			}
			refunded += total - first
		}
		_, over := r.refund(t, c, r.nextID("ref"), 1)
		if over.Status != payment.RefundFailed || over.FailureCode == "" {
			t.Errorf("refunding 1 more than captured = %+v; want FAILED with a FailureCode (e.g. %q)", over, payment.FailureAmountExceedsCaptured)
		}
		got, err := r.gw.GetRefund(r.ctx(t), payment.GetRefundRequest{RefundID: req1.RefundID, GatewayRefundRef: res1.GatewayRefundRef, AttemptID: c.req.AttemptID, GatewayRef: c.res.GatewayRef})
		if err != nil {
			t.Errorf("GetRefund: %v", err)
		} else if got.GatewayRefundRef != res1.GatewayRefundRef || (got.Status != payment.RefundSucceeded && got.Status != payment.RefundPending) || got.Amount.Amount != first {
			t.Errorf("GetRefund = %+v; want ref %q, amount %d, SUCCEEDED or PENDING", got, res1.GatewayRefundRef, first)
		}
		unknown, err := r.gw.GetRefund(r.ctx(t), payment.GetRefundRequest{RefundID: r.nextID("ref_never_created"), AttemptID: c.req.AttemptID, GatewayRef: c.res.GatewayRef})
		if err != nil || unknown.Status != payment.RefundNotFound {
			t.Errorf("GetRefund of an unknown refund = %+v, %v; want NOT_FOUND as data", unknown, err)
		}
		if res1.Status == payment.RefundSucceeded {
			st, err := r.gw.GetPayment(r.ctx(t), payment.GetRequest{AttemptID: c.req.AttemptID, GatewayRef: c.res.GatewayRef})
			if err != nil || st.Refunded != refunded {
				t.Errorf("after refunds GetPayment refunded = %d, %v; want %d (each refund once)", st.Refunded, err, refunded)
			}
		}
	})
}

func (r *gatewayRun) checkManualRefund(done map[string]created) {
	r.s.check("refund/manual", func(t *testing.T) {
		var c created
		var found bool
		for _, sc := range r.cfg.Scenarios {
			if cc, ok := done[sc.Name]; ok && sc.Want.Status != payment.StatusFailed {
				c, found = cc, true
				break
			}
		}
		if !found {
			r.s.skipf(t, "no created payment to refund")
		}
		req, res := r.refund(t, c, r.nextID("ref"), c.req.Amount.Amount)
		if res.Status != payment.RefundPending || strings.TrimSpace(res.Instructions) == "" {
			t.Errorf("a manual refund = %+v; want PENDING with Instructions for staff", res)
		}
		again, err := r.gw.Refund(r.ctx(t), req)
		if err != nil || again.GatewayRefundRef != res.GatewayRefundRef || again.Status != res.Status {
			t.Errorf("retried manual Refund = %+v, %v; want the first answer %+v", again, err, res)
		}
	})
}

// webhookEvent is the event the kit signs: a succeeded payment.
func (r *gatewayRun) webhookEvent(t *testing.T) payment.Event {
	t.Helper()
	var c created
	if r.cfg.Paid != "" {
		c = r.paid(t)
	} else {
		if len(r.cfg.Scenarios) == 0 {
			t.Fatal("GatewayConfig.Scenarios is empty")
		}
		sc := r.cfg.Scenarios[0]
		req := r.request(sc)
		res, err := r.gw.CreatePayment(r.ctx(t), req)
		if err != nil {
			t.Fatal(err)
		}
		c = created{req: req, res: res}
	}
	return payment.Event{
		ID: r.nextID("evt"), Type: payment.EventPaymentSucceeded, AttemptID: c.req.AttemptID, GatewayRef: c.res.GatewayRef,
		Amount: c.req.Amount, OccurredAt: time.Now().UTC().Truncate(time.Second),
	}
}

// findEvent finds the kit's event ev among events: by id, or when the
// plugin derives ids, by type and attempt or payment.
func findEvent(events []payment.Event, ev payment.Event, derived bool) *payment.Event {
	for i := range events {
		e := &events[i]
		switch {
		case !derived && e.ID == ev.ID:
			return e
		case derived && e.Type == ev.Type && (e.AttemptID == ev.AttemptID || (ev.GatewayRef != "" && e.GatewayRef == ev.GatewayRef)):
			return e
		}
	}
	return nil
}

func (r *gatewayRun) deliver(t *testing.T, h http.Header, body []byte, at time.Time) payment.WebhookResult {
	t.Helper()
	res, err := r.gw.HandleWebhook(r.ctx(t), payment.WebhookRequest{Method: http.MethodPost, Header: h, Body: body, ReceivedAt: at})
	if err != nil {
		t.Fatalf("HandleWebhook failed with an error (a refused notification is data: Rejection): %v", err)
	}
	return res
}

func (r *gatewayRun) checkWebhooks() {
	if !r.info.Has(payment.CapWebhook) {
		r.s.skip("webhook", "the plugin does not declare "+payment.CapWebhook)
		return
	}
	kit := r.webhookKit() // Sign, or the plugin's SimulateWebhook (simulate.go)
	if kit == nil || kit.Sign == nil {
		r.s.check("webhook", func(t *testing.T) {
			t.Fatalf("the plugin declares %q: set GatewayConfig.Webhook.Sign, or implement payment.WebhookSimulator and declare %q, so the kit can produce signed notifications", payment.CapWebhook, payment.CapWebhookSimulate)
		})
		return
	}
	checkAccepted := func(t *testing.T, res payment.WebhookResult) {
		t.Helper()
		if kit.CheckAccepted != nil {
			if err := kit.CheckAccepted(res.Response); err != nil {
				t.Errorf("answer to an accepted notification: %v", err)
			}
		} else if c := res.Response.StatusCode(); c < 200 || c > 299 {
			t.Errorf("answer to an accepted notification has status %d, want 2xx", c)
		}
	}
	// checkRejected checks the answer to the notification what describes.
	checkRejected := func(t *testing.T, what string, res payment.WebhookResult, want payment.RejectionReason) {
		t.Helper()
		if res.Rejection == nil {
			t.Errorf("%s was accepted (%d events); want a rejection %s", what, len(res.Events), want)
			return
		}
		if res.Rejection.Reason != want {
			t.Errorf("%s: rejection %s (%q), want %s", what, res.Rejection.Reason, res.Rejection.Message, want)
		}
		if len(res.Events) > 0 {
			t.Errorf("%s: a rejected notification must carry no events, got %d", what, len(res.Events))
		}
		if res.Response.Status == 0 {
			t.Errorf("%s: a rejected notification needs an explicit HTTP answer for the gateway", what)
		}
	}

	r.s.check("webhook/valid", func(t *testing.T) {
		ev := r.webhookEvent(t)
		now := time.Now()
		h, body, err := kit.Sign(ev, now)
		if err != nil {
			t.Fatalf("WebhookKit.Sign: %v", err)
		}
		res := r.deliver(t, h, body, now)
		if res.Rejection != nil {
			t.Fatalf("a valid notification was rejected: %s %q", res.Rejection.Reason, res.Rejection.Message)
		}
		checkAccepted(t, res)
		got := findEvent(res.Events, ev, kit.DerivedIDs)
		if got == nil {
			if kit.DerivedIDs {
				t.Fatalf("no %s event of attempt %q or payment %q among %+v", ev.Type, ev.AttemptID, ev.GatewayRef, res.Events)
			}
			t.Fatalf("no event with id %q among %+v (tip: a gateway whose notifications carry no id sets WebhookKit.DerivedIDs)", ev.ID, res.Events)
		}
		if kit.DerivedIDs {
			if got.ID == "" {
				t.Fatalf("the event has no id: derive a stable one (e.g. from the payment and its status) so Kassa applies it once")
			}
			// The same notification again, signed a second later as a
			// gateway's retry is: the id must not change (a refusal as a
			// replay recognises it too).
			later := now.Add(time.Second)
			h2, body2, err := kit.Sign(ev, later)
			if err != nil {
				t.Fatalf("WebhookKit.Sign: %v", err)
			}
			again := r.deliver(t, h2, body2, later)
			if again.Rejection != nil && again.Rejection.Reason != payment.RejectReplay {
				t.Fatalf("the same notification, signed again, was rejected: %s %q", again.Rejection.Reason, again.Rejection.Message)
			}
			if again.Rejection == nil {
				if e := findEvent(again.Events, ev, true); e == nil || e.ID != got.ID {
					t.Errorf("the same notification read twice gave event ids %q and %+v: a derived id must be stable", got.ID, e)
				}
			}
		}
		if got.Type != ev.Type {
			t.Errorf("event type %q, want %q", got.Type, ev.Type)
		}
		if got.AttemptID != ev.AttemptID && (ev.GatewayRef == "" || got.GatewayRef != ev.GatewayRef) {
			t.Errorf("event names attempt %q / payment %q, want attempt %q or payment %q", got.AttemptID, got.GatewayRef, ev.AttemptID, ev.GatewayRef)
		}
		if got.Amount != ev.Amount {
			t.Errorf("event amount %+v, want %+v", got.Amount, ev.Amount)
		}
		if got.OccurredAt.IsZero() {
			t.Errorf("event has no OccurredAt")
		}
	})
	r.s.check("webhook/bad_signature_refused", func(t *testing.T) {
		ev := r.webhookEvent(t)
		now := time.Now()
		h, body, err := kit.Sign(ev, now)
		if err != nil {
			t.Fatalf("WebhookKit.Sign: %v", err)
		}
		if kit.Tamper != nil {
			h, body = kit.Tamper(h, body)
		} else {
			body = append(append([]byte(nil), body...), ' ')
		}
		checkRejected(t, "a tampered notification (WebhookKit.Tamper, or a space after the body)", r.deliver(t, h, body, now), payment.RejectBadSignature)
		// Without any signature at all: no header but the Content-Type,
		// and no signature field in the body (signature.go).
		h, body, err = kit.Sign(ev, now)
		if err != nil {
			t.Fatalf("WebhookKit.Sign: %v", err)
		}
		h, body = unsigned(h, body, r.signaturePlaces(t, kit, ev, h, body, now))
		checkRejected(t, "a notification without a signature (no header but Content-Type, no signature field in the body)", r.deliver(t, h, body, now), payment.RejectBadSignature)
	})
	r.checkSignatureValues(kit) // signature.go
	if kit.NoTimestamp {
		r.s.skip("webhook/stale_refused", "WebhookKit.NoTimestamp: the gateway's signatures carry no timestamp")
	} else {
		r.s.check("webhook/stale_refused", func(t *testing.T) {
			ev := r.webhookEvent(t)
			age := kit.StaleAfter
			if age == 0 {
				age = time.Hour
			}
			now := time.Now()
			h, body, err := kit.Sign(ev, now.Add(-age))
			if err != nil {
				t.Fatalf("WebhookKit.Sign: %v", err)
			}
			checkRejected(t, fmt.Sprintf("a notification signed %s before it was received", age), r.deliver(t, h, body, now), payment.RejectStale)
		})
	}
	// Freshness is judged against ReceivedAt, not the plugin's clock: a
	// notification signed long ago and received then is fresh. Without a
	// signed timestamp there is no freshness to judge (and a plugin may
	// rightly check, say, a certificate in the body at ReceivedAt, which a
	// test certificate issued an hour ago fails two hours back).
	r.s.check("webhook/fresh_at_received_at", func(t *testing.T) {
		if kit.NoTimestamp {
			r.s.skipf(t, "WebhookKit.NoTimestamp: the gateway's signatures carry no timestamp whose freshness to judge")
		}
		ev := r.webhookEvent(t)
		age := max(2*time.Hour, 2*kit.StaleAfter)
		at := time.Now().Add(-age).Truncate(time.Second)
		ev.OccurredAt = at.UTC()
		h, body, err := kit.Sign(ev, at)
		if err != nil {
			t.Fatalf("WebhookKit.Sign: %v", err)
		}
		res := r.deliver(t, h, body, at)
		if res.Rejection != nil {
			t.Fatalf("a notification signed %s ago and received right then (WebhookRequest.ReceivedAt = its signing time, %s) was rejected: %s %q. "+
				"Judge freshness against WebhookRequest.ReceivedAt, the time Kassa received the delivery, never your own clock (time.Now): "+
				"a delivery does not go stale while it waits to be handled. (If the rejection is about a certificate of your test signer that is "+
				"not yet valid then, issue it valid from earlier, e.g. a day back.) See docs/plugins.md, Webhooks, step 2",
				age, at.UTC().Format(time.RFC3339), res.Rejection.Reason, res.Rejection.Message)
		}
		checkAccepted(t, res)
		if findEvent(res.Events, ev, kit.DerivedIDs) == nil {
			t.Errorf("the notification was accepted, but no event of it (id %q, or %s of attempt %q) is among %+v", ev.ID, ev.Type, ev.AttemptID, res.Events)
		}
	})
	r.s.check("webhook/replay_refused", func(t *testing.T) {
		ev := r.webhookEvent(t)
		now := time.Now()
		h, body, err := kit.Sign(ev, now)
		if err != nil {
			t.Fatalf("WebhookKit.Sign: %v", err)
		}
		first := r.deliver(t, h, body, now)
		if first.Rejection != nil {
			t.Fatalf("first delivery rejected: %s %q", first.Rejection.Reason, first.Rejection.Message)
		}
		checkRejected(t, "the same notification delivered again", r.deliver(t, h, body, now.Add(time.Second)), payment.RejectReplay)
	})
	r.s.check("webhook/malformed_is_data", func(t *testing.T) {
		res := r.deliver(t, http.Header{}, []byte("\x00not a notification"), time.Now())
		if res.Rejection == nil || len(res.Events) > 0 {
			t.Errorf("garbage was accepted: %+v", res)
		}
	})
}

func (r *gatewayRun) checkHTTP() {
	if !r.info.Has(payment.CapHTTP) {
		r.s.skip("http", "the plugin does not declare "+payment.CapHTTP)
		return
	}
	r.s.check("http/unknown_path_is_404", func(t *testing.T) {
		res, err := r.h.Page(r.ctx(t), http.MethodGet, "/plugintest/no/such/page", nil)
		if err != nil {
			t.Fatalf("HandleHTTP of an unknown path failed with an error; answer 404: %v", err)
		}
		if res.StatusCode() != http.StatusNotFound {
			t.Errorf("HandleHTTP of an unknown path = %d, want 404", res.StatusCode())
		}
	})
}

func (r *gatewayRun) checkListTransactions() {
	if !r.info.Has(payment.CapListTransactions) {
		return
	}
	r.s.check("list_transactions", func(t *testing.T) {
		now := time.Now()
		_, err := r.gw.ListTransactions(r.ctx(t), payment.ListTransactionsRequest{From: now.Add(-24 * time.Hour), To: now.Add(time.Minute), PageSize: 10})
		if err != nil {
			t.Errorf("ListTransactions: %v", err)
		}
	})
}

// checkDeliveries verifies notifications the plugin itself sent to the
// kit's NotifyURL: each must be accepted by its own HandleWebhook (or
// refused as a replay when the same delivery came twice).
func (r *gatewayRun) checkDeliveries() {
	ds := r.h.Deliveries()
	if len(ds) == 0 {
		return
	}
	r.s.check("webhook/own_deliveries_verify", func(t *testing.T) {
		for i, d := range ds {
			res, err := r.gw.HandleWebhook(r.ctx(t), payment.WebhookRequest{Method: http.MethodPost, Path: "", Header: d.Header, Body: d.Body, ReceivedAt: d.ReceivedAt})
			if err != nil {
				t.Errorf("delivery %d: HandleWebhook: %v", i, err)
				continue
			}
			if res.Rejection != nil && res.Rejection.Reason != payment.RejectReplay {
				t.Errorf("delivery %d the plugin sent to notify_url was rejected by its own HandleWebhook: %s %q", i, res.Rejection.Reason, res.Rejection.Message)
			}
			for _, ev := range res.Events {
				if ev.ID == "" || ev.Type == "" {
					t.Errorf("delivery %d: event without id or type: %+v", i, ev)
				}
			}
		}
	})
}
