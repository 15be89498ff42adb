// Package sandbox is a stateful imitation of the parts of Stripe's API the
// Kassa Stripe plugin uses, for tests on 127.0.0.1, written from Stripe's
// public API reference:
//
//   - PaymentIntents (create, retrieve, list, search on metadata, capture,
//     cancel) with their lifecycle requires_payment_method ->
//     requires_confirmation / requires_action -> processing ->
//     requires_capture -> succeeded / canceled, and Stripe's test
//     PaymentMethods (pm_card_visa, pm_card_chargeDeclined,
//     pm_card_chargeDeclinedInsufficientFunds, pm_card_chargeDeclinedExpiredCard,
//     pm_card_threeDSecure2Required);
//   - Checkout Sessions (create, retrieve with expand, expire) whose
//     PaymentIntent appears when the buyer pays;
//   - refunds (partial, pending then settled on request);
//   - Idempotency-Key replay (same key and parameters: the first answer
//     with Idempotent-Replayed: true; other parameters: idempotency_error);
//   - signed webhook events (Stripe-Signature t=,v1= for each signing
//     secret) retried on a non-2xx answer on a back-off schedule, and
//     optionally delivered twice or out of order.
//
// A test plays the buyer with Confirm (the Payment Element's
// confirmPayment), Authenticate (the 3-D Secure page) and PayCheckout (the
// hosted Checkout page).
package sandbox

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// APIVersion is the API version the sandbox renders objects in.
const APIVersion = "2025-04-30.basil"

// Schedule is the default retry schedule of webhook deliveries after a
// non-2xx answer: exponential back-off, as Stripe's is (Stripe retries for
// up to three days in live mode). Tests pass a compressed one.
var Schedule = []time.Duration{time.Minute, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour, 5 * time.Hour, 10 * time.Hour, 24 * time.Hour, 24 * time.Hour}

// Options configure a sandbox.
type Options struct {
	// SecretKey is the only API key accepted (Authorization: Bearer).
	SecretKey string
	// WebhookSecrets sign every delivery, one v1 signature each (several
	// while a secret is rolled).
	WebhookSecrets []string
	// WebhookURL receives the events; empty sends none. SetWebhookURL
	// changes it later.
	WebhookURL string
	// Schedule are the retry delays; nil means the package's Schedule.
	Schedule []time.Duration
	// Duplicate delivers every event twice.
	Duplicate bool
	// OutOfOrder delivers the events of one API call in reverse order.
	OutOfOrder bool
	// ProcessingDelay keeps a confirmed card payment in "processing" this
	// long before it succeeds or waits for capture.
	ProcessingDelay time.Duration
	// PendingRefunds leaves new refunds "pending" until SettleRefund.
	PendingRefunds bool
	// Now is the clock; nil is time.Now.
	Now func() time.Time
}

// Delivery is one attempt to deliver an event.
type Delivery struct {
	EventID string
	Type    string
	Attempt int
	Status  int // the endpoint's HTTP status, 0 when unreachable
	At      time.Time
}

// Server is a running sandbox.
type Server struct {
	opts Options
	srv  *http.Server
	ln   net.Listener
	url  string

	mu         sync.Mutex
	webhookURL string
	intents    map[string]*intent
	order      []string
	sessions   map[string]*session
	refunds    map[string]*refund
	refundList []string
	idem       map[string]idemEntry
	deliveries []Delivery
	closed     bool
	wg         sync.WaitGroup
	stop       chan struct{}
}

type intent struct {
	ID, Currency, Status, CaptureMethod, Description, PaymentMethod, ReturnURL, Charge, CancellationReason string
	Amount, AmountCapturable, AmountReceived, AmountRefunded                                               int64
	Metadata                                                                                               map[string]string
	Created                                                                                                int64
	LastError                                                                                              map[string]any
	Secret                                                                                                 string
	RedirectURL                                                                                            string
	Session                                                                                                string
}

type session struct {
	ID, Status, PaymentStatus, Currency, ClientReferenceID, SuccessURL, CancelURL, CaptureMethod, Description string
	AmountTotal, ExpiresAt, Created                                                                           int64
	Metadata, PIMetadata                                                                                      map[string]string
	Intent                                                                                                    string
}

type refund struct {
	ID, Intent, Charge, Currency, Status, Reason string
	Amount, Created                              int64
	Metadata                                     map[string]string
}

type idemEntry struct {
	endpoint, params string
	status           int
	body             []byte
}

// Start listens on 127.0.0.1 and serves.
func Start(opts Options) (*Server, error) {
	if opts.SecretKey == "" {
		return nil, errors.New("sandbox: SecretKey is required")
	}
	if opts.Schedule == nil {
		opts.Schedule = Schedule
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &Server{opts: opts, ln: ln, url: "http://" + ln.Addr().String(), webhookURL: opts.WebhookURL,
		intents: map[string]*intent{}, sessions: map[string]*session{}, refunds: map[string]*refund{}, idem: map[string]idemEntry{},
		stop: make(chan struct{})}
	s.srv = &http.Server{Handler: http.HandlerFunc(s.serve), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = s.srv.Serve(ln) }()
	return s, nil
}

// URL is the API base, e.g. http://127.0.0.1:41234.
func (s *Server) URL() string { return s.url }

// SetWebhookURL changes where events go.
func (s *Server) SetWebhookURL(u string) {
	s.mu.Lock()
	s.webhookURL = u
	s.mu.Unlock()
}

// Close stops the server and the pending deliveries.
func (s *Server) Close() {
	s.mu.Lock()
	if !s.closed {
		s.closed = true
		close(s.stop)
	}
	s.mu.Unlock()
	_ = s.srv.Close()
	s.wg.Wait()
}

// Deliveries returns every delivery attempt so far.
func (s *Server) Deliveries() []Delivery {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Delivery(nil), s.deliveries...)
}

func newID(prefix string) string {
	const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	b := make([]byte, 24)
	for i := range b {
		n, _ := rand.Int(rand.Reader, big.NewInt(int64(len(alphabet))))
		b[i] = alphabet[n.Int64()]
	}
	return prefix + string(b)
}

// apiError is Stripe's error body.
type apiError struct {
	status                                 int
	typ, code, declineCode, message, param string
	intent                                 *intent
}

func (e *apiError) Error() string { return e.message }

func invalid(code, param, msg string) *apiError {
	return &apiError{status: http.StatusBadRequest, typ: "invalid_request_error", code: code, param: param, message: msg}
}

func missing(kind, id string) *apiError {
	return &apiError{status: http.StatusNotFound, typ: "invalid_request_error", code: "resource_missing", param: "id", message: fmt.Sprintf("No such %s: '%s'", kind, id)}
}

func (s *Server) writeError(w http.ResponseWriter, e *apiError) []byte {
	body := map[string]any{"type": e.typ, "message": e.message}
	if e.code != "" {
		body["code"] = e.code
	}
	if e.declineCode != "" {
		body["decline_code"] = e.declineCode
	}
	if e.param != "" {
		body["param"] = e.param
	}
	if e.intent != nil {
		body["payment_intent"] = s.intentJSON(e.intent)
	}
	b, _ := json.Marshal(map[string]any{"error": body})
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(e.status)
	_, _ = w.Write(b)
	return b
}

var (
	rePI       = regexp.MustCompile(`^/v1/payment_intents/(pi_[A-Za-z0-9]+)(/capture|/cancel|/confirm)?$`)
	reCS       = regexp.MustCompile(`^/v1/checkout/sessions/(cs_[A-Za-z0-9_]+)(/expire)?$`)
	reRefund   = regexp.MustCompile(`^/v1/refunds/(re_[A-Za-z0-9]+)$`)
	reSearchMD = regexp.MustCompile(`^metadata\['([^']+)'\]:'([^']*)'$`)
)

// serve authenticates, handles idempotency and routes.
func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/checkout/pay/") || strings.HasPrefix(r.URL.Path, "/3ds/") {
		s.page(w, r)
		return
	}
	if r.Header.Get("Authorization") != "Bearer "+s.opts.SecretKey {
		s.writeError(w, &apiError{status: http.StatusUnauthorized, typ: "invalid_request_error", code: "api_key_invalid",
			message: "Invalid API Key provided: " + maskKey(strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "))})
		return
	}
	if err := r.ParseForm(); err != nil {
		s.writeError(w, invalid("parameter_invalid", "", "could not parse the request body"))
		return
	}
	key := r.Header.Get("Idempotency-Key")
	endpoint := r.Method + " " + r.URL.Path
	params := canonicalForm(r.PostForm)
	s.mu.Lock()
	if key != "" && r.Method == http.MethodPost {
		if prev, ok := s.idem[key]; ok {
			s.mu.Unlock()
			if prev.endpoint != endpoint || prev.params != params {
				s.writeError(w, &apiError{status: http.StatusBadRequest, typ: "idempotency_error",
					message: "Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '" + key + "' if you meant to execute a different request."})
				return
			}
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Idempotent-Replayed", "true")
			w.WriteHeader(prev.status)
			_, _ = w.Write(prev.body)
			return
		}
	}
	var events []event
	status, body, apiErr := s.route(r, &events)
	var out []byte
	if apiErr != nil {
		// Stripe stores 4xx answers under the key too; 5xx it does not.
		out = s.writeError(w, apiErr)
		status = apiErr.status
	} else {
		out, _ = json.Marshal(body)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = w.Write(out)
	}
	if key != "" && r.Method == http.MethodPost && status < 500 {
		s.idem[key] = idemEntry{endpoint: endpoint, params: params, status: status, body: out}
	}
	s.mu.Unlock()
	s.send(events)
}

func maskKey(k string) string {
	if len(k) <= 4 {
		return "****"
	}
	return k[:min(8, len(k)-4)] + "****" + k[len(k)-4:]
}

func canonicalForm(v url.Values) string {
	keys := make([]string, 0, len(v))
	for k := range v {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		b.WriteString(k + "=" + strings.Join(v[k], ",") + "&")
	}
	return b.String()
}

// route runs one API call under s.mu.
func (s *Server) route(r *http.Request, events *[]event) (int, any, *apiError) {
	p := r.URL.Path
	f := r.Form
	switch {
	case p == "/v1/payment_intents" && r.Method == http.MethodPost:
		return s.createIntent(f, events)
	case p == "/v1/payment_intents" && r.Method == http.MethodGet:
		var data []any
		for i := len(s.order) - 1; i >= 0 && len(data) < limit(f); i-- {
			data = append(data, s.intentJSON(s.intents[s.order[i]]))
		}
		return 200, list("/v1/payment_intents", data), nil
	case p == "/v1/payment_intents/search" && r.Method == http.MethodGet:
		m := reSearchMD.FindStringSubmatch(f.Get("query"))
		if m == nil {
			return 0, nil, invalid("parameter_invalid", "query", "the sandbox supports metadata['key']:'value' queries only")
		}
		data := []any{}
		for _, id := range s.order {
			if in := s.intents[id]; in.Metadata[m[1]] == m[2] {
				data = append(data, s.intentJSON(in))
			}
		}
		return 200, map[string]any{"object": "search_result", "data": data, "has_more": false, "next_page": nil, "url": p}, nil
	case rePI.MatchString(p):
		m := rePI.FindStringSubmatch(p)
		in, ok := s.intents[m[1]]
		if !ok {
			return 0, nil, missing("payment_intent", m[1])
		}
		switch {
		case m[2] == "" && r.Method == http.MethodGet:
			return 200, s.intentJSON(in), nil
		case m[2] == "/capture" && r.Method == http.MethodPost:
			return s.capture(in, f, events)
		case m[2] == "/cancel" && r.Method == http.MethodPost:
			return s.cancel(in, f, events)
		case m[2] == "/confirm" && r.Method == http.MethodPost:
			if pm := f.Get("payment_method"); pm != "" {
				in.PaymentMethod = pm
			}
			if err := s.confirm(in, events); err != nil {
				return 0, nil, err
			}
			return 200, s.intentJSON(in), nil
		}
	case p == "/v1/checkout/sessions" && r.Method == http.MethodPost:
		return s.createSession(f, events)
	case reCS.MatchString(p):
		m := reCS.FindStringSubmatch(p)
		cs, ok := s.sessions[m[1]]
		if !ok {
			return 0, nil, missing("checkout.session", m[1])
		}
		if m[2] == "/expire" && r.Method == http.MethodPost {
			if cs.Status != "open" {
				return 0, nil, invalid("checkout_session_unexpected_state", "", `Only Checkout Sessions with a status in ["open"] can be expired.`)
			}
			cs.Status = "expired"
			*events = append(*events, event{typ: "checkout.session.expired", obj: s.sessionJSON(cs, false)})
			return 200, s.sessionJSON(cs, false), nil
		}
		if m[2] == "" && r.Method == http.MethodGet {
			return 200, s.sessionJSON(cs, expands(f, "payment_intent")), nil
		}
	case p == "/v1/refunds" && r.Method == http.MethodPost:
		return s.createRefund(f, events)
	case p == "/v1/refunds" && r.Method == http.MethodGet:
		data := []any{}
		for i := len(s.refundList) - 1; i >= 0; i-- {
			rf := s.refunds[s.refundList[i]]
			if (f.Get("payment_intent") == "" || rf.Intent == f.Get("payment_intent")) && (f.Get("charge") == "" || rf.Charge == f.Get("charge")) {
				data = append(data, s.refundJSON(rf))
			}
		}
		return 200, list("/v1/refunds", data), nil
	case reRefund.MatchString(p) && r.Method == http.MethodGet:
		id := reRefund.FindStringSubmatch(p)[1]
		rf, ok := s.refunds[id]
		if !ok {
			return 0, nil, missing("refund", id)
		}
		return 200, s.refundJSON(rf), nil
	}
	return 0, nil, &apiError{status: http.StatusNotFound, typ: "invalid_request_error", message: "Unrecognized request URL (" + r.Method + ": " + p + ")."}
}

func limit(f url.Values) int {
	n, err := strconv.Atoi(f.Get("limit"))
	if err != nil || n <= 0 || n > 100 {
		return 10
	}
	return n
}

func list(u string, data []any) map[string]any {
	if data == nil {
		data = []any{}
	}
	return map[string]any{"object": "list", "data": data, "has_more": false, "url": u}
}

func expands(f url.Values, field string) bool {
	for k, vs := range f {
		if strings.HasPrefix(k, "expand") {
			for _, v := range vs {
				if v == field {
					return true
				}
			}
		}
	}
	return false
}

// metadata reads metadata[k]=v form fields with the given prefix.
func metadata(f url.Values, prefix string) map[string]string {
	out := map[string]string{}
	for k, v := range f {
		if strings.HasPrefix(k, prefix+"[") && strings.HasSuffix(k, "]") {
			out[k[len(prefix)+1:len(k)-1]] = v[0]
		}
	}
	return out
}

func positive(f url.Values, name string) (int64, *apiError) {
	n, err := strconv.ParseInt(f.Get(name), 10, 64)
	if err != nil {
		return 0, invalid("parameter_invalid_integer", name, "Invalid integer: "+f.Get(name))
	}
	if n < 1 {
		return 0, invalid("amount_too_small", name, "Amount must be at least 1")
	}
	if n > 99_999_999 {
		return 0, invalid("amount_too_large", name, "Amount must be no more than 99999999")
	}
	return n, nil
}

var currencyRe = regexp.MustCompile(`^[a-z]{3}$`)

func (s *Server) createIntent(f url.Values, events *[]event) (int, any, *apiError) {
	amount, err := positive(f, "amount")
	if err != nil {
		return 0, nil, err
	}
	cur := f.Get("currency")
	if !currencyRe.MatchString(cur) {
		return 0, nil, invalid("parameter_invalid", "currency", "Invalid currency: "+cur+". Stripe currently supports these currencies in lowercase: usd, eur, cny, jpy, ...")
	}
	capture := f.Get("capture_method")
	if capture == "" {
		capture = "automatic_async"
	}
	if capture != "automatic" && capture != "automatic_async" && capture != "manual" {
		return 0, nil, invalid("parameter_invalid", "capture_method", "Invalid capture_method")
	}
	in := &intent{ID: newID("pi_"), Amount: amount, Currency: cur, Status: "requires_payment_method", CaptureMethod: capture,
		Description: f.Get("description"), Metadata: metadata(f, "metadata"), Created: s.opts.Now().Unix(), ReturnURL: f.Get("return_url")}
	in.Secret = in.ID + "_secret_" + newID("")
	if pm := f.Get("payment_method"); pm != "" {
		in.PaymentMethod, in.Status = pm, "requires_confirmation"
	}
	s.intents[in.ID] = in
	s.order = append(s.order, in.ID)
	*events = append(*events, event{typ: "payment_intent.created", obj: s.intentJSON(in)})
	if f.Get("confirm") == "true" {
		if err := s.confirm(in, events); err != nil {
			return 0, nil, err
		}
	}
	return 200, s.intentJSON(in), nil
}

// Stripe's test PaymentMethods the sandbox knows.
var testCards = map[string]struct{ code, decline, msg string }{
	"pm_card_visa":                            {},
	"pm_card_mastercard":                      {},
	"pm_card_threeDSecure2Required":           {code: "3ds"},
	"pm_card_chargeDeclined":                  {"card_declined", "generic_decline", "Your card was declined."},
	"pm_card_chargeDeclinedInsufficientFunds": {"card_declined", "insufficient_funds", "Your card has insufficient funds."},
	"pm_card_chargeDeclinedExpiredCard":       {"expired_card", "expired_card", "Your card has expired."},
}

// confirm runs the card through its outcome, under s.mu.
func (s *Server) confirm(in *intent, events *[]event) *apiError {
	if in.Status != "requires_payment_method" && in.Status != "requires_confirmation" {
		return invalid("payment_intent_unexpected_state", "", "You cannot confirm this PaymentIntent because it has a status of "+in.Status+".")
	}
	card, ok := testCards[in.PaymentMethod]
	if !ok {
		return invalid("resource_missing", "payment_method", "No such PaymentMethod: '"+in.PaymentMethod+"'")
	}
	switch card.code {
	case "":
		s.succeed(in, events)
	case "3ds":
		in.Status, in.LastError = "requires_action", nil
		in.RedirectURL = s.url + "/3ds/" + in.ID
		*events = append(*events, event{typ: "payment_intent.requires_action", obj: s.intentJSON(in)})
	default:
		in.Status = "requires_payment_method"
		in.LastError = map[string]any{"type": "card_error", "code": card.code, "decline_code": card.decline, "message": card.msg}
		*events = append(*events, event{typ: "payment_intent.payment_failed", obj: s.intentJSON(in)})
		return &apiError{status: http.StatusPaymentRequired, typ: "card_error", code: card.code, declineCode: card.decline, message: card.msg, intent: in}
	}
	return nil
}

// succeed authorizes the card: processing, then requires_capture or
// succeeded. Under s.mu.
func (s *Server) succeed(in *intent, events *[]event) {
	in.Status, in.LastError, in.RedirectURL = "processing", nil, ""
	in.Charge = "ch_" + strings.TrimPrefix(in.ID, "pi_")
	if s.opts.ProcessingDelay <= 0 {
		s.settle(in, events)
		return
	}
	*events = append(*events, event{typ: "payment_intent.processing", obj: s.intentJSON(in)})
	id := in.ID
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		select {
		case <-time.After(s.opts.ProcessingDelay):
		case <-s.stop:
			return
		}
		var evs []event
		s.mu.Lock()
		if in := s.intents[id]; in.Status == "processing" {
			s.settle(in, &evs)
		}
		s.mu.Unlock()
		s.send(evs)
	}()
}

func (s *Server) settle(in *intent, events *[]event) {
	if in.CaptureMethod == "manual" {
		in.Status, in.AmountCapturable = "requires_capture", in.Amount
		*events = append(*events, event{typ: "payment_intent.amount_capturable_updated", obj: s.intentJSON(in)})
	} else {
		in.Status, in.AmountReceived = "succeeded", in.Amount
		*events = append(*events, event{typ: "payment_intent.succeeded", obj: s.intentJSON(in)})
	}
	if cs := s.sessions[in.Session]; cs != nil {
		cs.Status, cs.PaymentStatus = "complete", "paid"
		if in.Status == "requires_capture" {
			cs.PaymentStatus = "unpaid"
		}
		*events = append(*events, event{typ: "checkout.session.completed", obj: s.sessionJSON(cs, false)})
	}
}

func (s *Server) capture(in *intent, f url.Values, events *[]event) (int, any, *apiError) {
	if in.Status != "requires_capture" {
		return 0, nil, invalid("payment_intent_unexpected_state", "", "This PaymentIntent could not be captured because it has a status of "+in.Status+". Only a PaymentIntent with one of the following statuses may be captured: requires_capture.")
	}
	amt := in.AmountCapturable
	if f.Get("amount_to_capture") != "" {
		var err *apiError
		if amt, err = positive(f, "amount_to_capture"); err != nil {
			return 0, nil, err
		}
		if amt > in.AmountCapturable {
			return 0, nil, invalid("amount_too_large", "amount_to_capture", fmt.Sprintf("The amount to capture (%d) is greater than the amount capturable (%d).", amt, in.AmountCapturable))
		}
	}
	in.Status, in.AmountReceived, in.AmountCapturable = "succeeded", amt, 0
	*events = append(*events, event{typ: "payment_intent.succeeded", obj: s.intentJSON(in)})
	return 200, s.intentJSON(in), nil
}

func (s *Server) cancel(in *intent, f url.Values, events *[]event) (int, any, *apiError) {
	switch in.Status {
	case "succeeded", "canceled", "processing":
		return 0, nil, invalid("payment_intent_unexpected_state", "", "You cannot cancel this PaymentIntent because it has a status of "+in.Status+". Only a PaymentIntent with one of the following statuses may be canceled: requires_payment_method, requires_capture, requires_confirmation, requires_action.")
	}
	in.Status, in.AmountCapturable, in.CancellationReason = "canceled", 0, f.Get("cancellation_reason")
	*events = append(*events, event{typ: "payment_intent.canceled", obj: s.intentJSON(in)})
	return 200, s.intentJSON(in), nil
}

func (s *Server) createSession(f url.Values, events *[]event) (int, any, *apiError) {
	if f.Get("mode") != "payment" {
		return 0, nil, invalid("parameter_invalid", "mode", "the sandbox supports mode=payment only")
	}
	if f.Get("success_url") == "" {
		return 0, nil, invalid("parameter_missing", "success_url", "Missing required param: success_url.")
	}
	unit, err := positive(f, "line_items[0][price_data][unit_amount]")
	if err != nil {
		return 0, nil, err
	}
	qty, _ := strconv.ParseInt(f.Get("line_items[0][quantity]"), 10, 64)
	cur := f.Get("line_items[0][price_data][currency]")
	if qty < 1 || !currencyRe.MatchString(cur) {
		return 0, nil, invalid("parameter_invalid", "line_items", "Invalid line item")
	}
	now := s.opts.Now()
	exp := now.Add(24 * time.Hour).Unix()
	if e := f.Get("expires_at"); e != "" {
		n, perr := strconv.ParseInt(e, 10, 64)
		if perr != nil || n < now.Add(30*time.Minute).Unix()-5 || n > now.Add(24*time.Hour).Unix()+5 {
			return 0, nil, invalid("parameter_invalid", "expires_at", "The `expires_at` timestamp must be between 30 minutes and 24 hours from Checkout Session creation.")
		}
		exp = n
	}
	cs := &session{ID: newID("cs_test_"), Status: "open", PaymentStatus: "unpaid", Currency: cur, AmountTotal: unit * qty,
		ClientReferenceID: f.Get("client_reference_id"), SuccessURL: f.Get("success_url"), CancelURL: f.Get("cancel_url"),
		CaptureMethod: f.Get("payment_intent_data[capture_method]"), Description: f.Get("payment_intent_data[description]"),
		Metadata: metadata(f, "metadata"), PIMetadata: metadata(f, "payment_intent_data[metadata]"), ExpiresAt: exp, Created: now.Unix()}
	s.sessions[cs.ID] = cs
	return 200, s.sessionJSON(cs, false), nil
}

func (s *Server) createRefund(f url.Values, events *[]event) (int, any, *apiError) {
	in, ok := s.intents[f.Get("payment_intent")]
	if !ok {
		return 0, nil, missing("payment_intent", f.Get("payment_intent"))
	}
	if in.Status != "succeeded" {
		return 0, nil, invalid("payment_intent_unexpected_state", "payment_intent", "This PaymentIntent ("+in.ID+") does not have a successful charge to refund.")
	}
	left := in.AmountReceived - in.AmountRefunded
	if left == 0 {
		return 0, nil, invalid("charge_already_refunded", "", "Charge "+in.Charge+" has already been refunded.")
	}
	amt := left
	if f.Get("amount") != "" {
		var err *apiError
		if amt, err = positive(f, "amount"); err != nil {
			return 0, nil, err
		}
		if amt > left {
			return 0, nil, invalid("amount_too_large", "amount", fmt.Sprintf("Refund amount (%d) is greater than unrefunded amount on charge (%d)", amt, left))
		}
	}
	rf := &refund{ID: newID("re_"), Intent: in.ID, Charge: in.Charge, Currency: in.Currency, Amount: amt, Status: "succeeded",
		Reason: f.Get("reason"), Metadata: metadata(f, "metadata"), Created: s.opts.Now().Unix()}
	if s.opts.PendingRefunds {
		rf.Status = "pending"
	}
	in.AmountRefunded += amt
	s.refunds[rf.ID] = rf
	s.refundList = append(s.refundList, rf.ID)
	*events = append(*events, event{typ: "refund.created", obj: s.refundJSON(rf)})
	if rf.Status == "succeeded" {
		*events = append(*events, event{typ: "charge.refunded", obj: s.chargeJSON(in)})
	}
	return 200, s.refundJSON(rf), nil
}

// SettleRefund ends a pending refund: succeeded, or failed (the money
// returns to the balance).
func (s *Server) SettleRefund(id string, ok bool) error {
	var evs []event
	s.mu.Lock()
	rf, found := s.refunds[id]
	if !found || rf.Status != "pending" {
		s.mu.Unlock()
		return fmt.Errorf("sandbox: refund %s is not pending", id)
	}
	in := s.intents[rf.Intent]
	if ok {
		rf.Status = "succeeded"
		evs = append(evs, event{typ: "refund.updated", obj: s.refundJSON(rf)}, event{typ: "charge.refunded", obj: s.chargeJSON(in)})
	} else {
		rf.Status = "failed"
		in.AmountRefunded -= rf.Amount
		evs = append(evs, event{typ: "refund.failed", obj: s.refundJSON(rf)})
	}
	s.mu.Unlock()
	s.send(evs)
	return nil
}

// ErrNotPayable is returned for a payment in a state the buyer cannot pay.
var ErrNotPayable = errors.New("sandbox: the payment cannot be paid in its state")

// IntentByMetadata returns the id of the PaymentIntent whose metadata has
// key = value (the plugin puts Kassa's attempt id there), or "".
func (s *Server) IntentByMetadata(key, value string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, in := range s.intents {
		if in.Metadata[key] == value {
			return id
		}
	}
	return ""
}

// Confirm plays Stripe.js confirmPayment on a PaymentIntent with a test
// PaymentMethod. A decline is returned as an error carrying the message.
func (s *Server) Confirm(piID, paymentMethod string) error {
	var evs []event
	s.mu.Lock()
	in, ok := s.intents[piID]
	if !ok {
		s.mu.Unlock()
		return fmt.Errorf("sandbox: no PaymentIntent %s", piID)
	}
	in.PaymentMethod = paymentMethod
	var err error
	if e := s.confirm(in, &evs); e != nil {
		err = e
	}
	s.mu.Unlock()
	s.send(evs)
	return err
}

// Authenticate plays the buyer on the 3-D Secure page: passed or failed.
func (s *Server) Authenticate(piID string, pass bool) error {
	var evs []event
	s.mu.Lock()
	in, ok := s.intents[piID]
	if !ok || in.Status != "requires_action" {
		s.mu.Unlock()
		return ErrNotPayable
	}
	if pass {
		s.succeed(in, &evs)
	} else {
		in.Status, in.RedirectURL = "requires_payment_method", ""
		in.LastError = map[string]any{"type": "invalid_request_error", "code": "payment_intent_authentication_failure",
			"message": "The provided PaymentMethod has failed authentication."}
		evs = append(evs, event{typ: "payment_intent.payment_failed", obj: s.intentJSON(in)})
	}
	s.mu.Unlock()
	s.send(evs)
	return nil
}

// PayCheckout plays the buyer on the hosted Checkout page: the session's
// PaymentIntent is created (with payment_intent_data) and confirmed with
// the test PaymentMethod.
func (s *Server) PayCheckout(csID, paymentMethod string) error {
	var evs []event
	s.mu.Lock()
	cs, ok := s.sessions[csID]
	if !ok || cs.Status != "open" {
		s.mu.Unlock()
		return ErrNotPayable
	}
	in := s.intents[cs.Intent]
	if in == nil {
		capture := cs.CaptureMethod
		if capture == "" {
			capture = "automatic_async"
		}
		in = &intent{ID: newID("pi_"), Amount: cs.AmountTotal, Currency: cs.Currency, Status: "requires_payment_method", CaptureMethod: capture,
			Description: cs.Description, Metadata: cs.PIMetadata, Created: s.opts.Now().Unix(), Session: cs.ID}
		in.Secret = in.ID + "_secret_" + newID("")
		s.intents[in.ID] = in
		s.order = append(s.order, in.ID)
		cs.Intent = in.ID
		evs = append(evs, event{typ: "payment_intent.created", obj: s.intentJSON(in)})
	}
	in.PaymentMethod = paymentMethod
	var err error
	if e := s.confirm(in, &evs); e != nil {
		err = e
	}
	s.mu.Unlock()
	s.send(evs)
	return err
}

// page serves the hosted Checkout page and the 3-D Secure page (GET only:
// what a browser following the plugin's redirect sees).
func (s *Server) page(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if id, ok := strings.CutPrefix(r.URL.Path, "/checkout/pay/"); ok {
		cs, found := s.sessions[id]
		if !found {
			http.NotFound(w, r)
			return
		}
		fmt.Fprintf(w, "<!doctype html><title>Stripe Checkout (sandbox)</title><p>Pay %d %s</p><p>status %s</p>", cs.AmountTotal, strings.ToUpper(cs.Currency), cs.Status)
		return
	}
	id := strings.TrimPrefix(r.URL.Path, "/3ds/")
	in, found := s.intents[id]
	if !found {
		http.NotFound(w, r)
		return
	}
	fmt.Fprintf(w, "<!doctype html><title>3D Secure (sandbox)</title><p>Authenticate %d %s</p>", in.Amount, strings.ToUpper(in.Currency))
}

// JSON renderings, in Stripe's shapes. Under s.mu.

func (s *Server) intentJSON(in *intent) map[string]any {
	m := map[string]any{"id": in.ID, "object": "payment_intent", "amount": in.Amount, "amount_capturable": in.AmountCapturable,
		"amount_received": in.AmountReceived, "currency": in.Currency, "status": in.Status, "capture_method": in.CaptureMethod,
		"client_secret": in.Secret, "created": in.Created, "livemode": false, "metadata": nonNil(in.Metadata), "description": nullable(in.Description),
		"last_payment_error": nil, "next_action": nil, "latest_charge": nullable(in.Charge), "payment_method": nullable(in.PaymentMethod),
		"cancellation_reason": nullable(in.CancellationReason), "payment_method_types": []string{"card"}}
	if in.LastError != nil {
		m["last_payment_error"] = in.LastError
	}
	if in.RedirectURL != "" {
		m["next_action"] = map[string]any{"type": "redirect_to_url", "redirect_to_url": map[string]any{"url": in.RedirectURL, "return_url": in.ReturnURL}}
	}
	return m
}

func (s *Server) sessionJSON(cs *session, expandIntent bool) map[string]any {
	m := map[string]any{"id": cs.ID, "object": "checkout.session", "mode": "payment", "status": cs.Status, "payment_status": cs.PaymentStatus,
		"amount_total": cs.AmountTotal, "currency": cs.Currency, "client_reference_id": nullable(cs.ClientReferenceID),
		"success_url": cs.SuccessURL, "cancel_url": nullable(cs.CancelURL), "expires_at": cs.ExpiresAt, "created": cs.Created,
		"metadata": nonNil(cs.Metadata), "livemode": false, "payment_intent": nullable(cs.Intent), "url": nil}
	if cs.Status == "open" {
		m["url"] = s.url + "/checkout/pay/" + cs.ID
	}
	if expandIntent && cs.Intent != "" {
		m["payment_intent"] = s.intentJSON(s.intents[cs.Intent])
	}
	return m
}

func (s *Server) refundJSON(rf *refund) map[string]any {
	return map[string]any{"id": rf.ID, "object": "refund", "amount": rf.Amount, "currency": rf.Currency, "status": rf.Status,
		"payment_intent": rf.Intent, "charge": rf.Charge, "reason": nullable(rf.Reason), "metadata": nonNil(rf.Metadata), "created": rf.Created}
}

// chargeJSON is the charge of an intent as API versions since 2022-11-15
// render it: amount_refunded, no refunds list.
func (s *Server) chargeJSON(in *intent) map[string]any {
	return map[string]any{"id": in.Charge, "object": "charge", "amount": in.Amount, "amount_captured": in.AmountReceived,
		"amount_refunded": in.AmountRefunded, "refunded": in.AmountRefunded == in.AmountReceived, "currency": in.Currency,
		"payment_intent": in.ID, "metadata": nonNil(in.Metadata), "status": "succeeded", "created": in.Created}
}

func nonNil(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// event is an event to deliver.
type event struct {
	typ string
	obj map[string]any
}

// Sign returns the Stripe-Signature header for payload signed at t with
// each secret, as Stripe computes it: HMAC-SHA256 over "<t>.<payload>",
// hex, one v1 per secret.
func Sign(payload []byte, t time.Time, secrets ...string) string {
	parts := []string{"t=" + strconv.FormatInt(t.Unix(), 10)}
	for _, secret := range secrets {
		m := hmac.New(sha256.New, []byte(secret))
		m.Write([]byte(strconv.FormatInt(t.Unix(), 10) + "." + string(payload)))
		parts = append(parts, "v1="+hex.EncodeToString(m.Sum(nil)))
	}
	return strings.Join(parts, ",")
}

// EventJSON renders an event envelope around obj, as Stripe delivers it.
func EventJSON(id, typ string, created time.Time, obj map[string]any) []byte {
	b, _ := json.Marshal(map[string]any{"id": id, "object": "event", "api_version": APIVersion, "created": created.Unix(),
		"type": typ, "livemode": false, "pending_webhooks": 1, "data": map[string]any{"object": obj},
		"request": map[string]any{"id": nil, "idempotency_key": nil}})
	return b
}

// send delivers the events of one API call, each in its own goroutine
// with its own retries. Stripe does not guarantee order; OutOfOrder makes
// the disorder certain.
func (s *Server) send(events []event) {
	s.mu.Lock()
	target := s.webhookURL
	closed := s.closed
	s.mu.Unlock()
	if target == "" || closed || len(events) == 0 {
		return
	}
	if s.opts.OutOfOrder {
		for i, j := 0, len(events)-1; i < j; i, j = i+1, j-1 {
			events[i], events[j] = events[j], events[i]
		}
	}
	now := s.opts.Now()
	for i, ev := range events {
		body := EventJSON(newID("evt_"), ev.typ, now, ev.obj)
		copies := 1
		if s.opts.Duplicate {
			copies = 2
		}
		for c := 0; c < copies; c++ {
			s.wg.Add(1)
			go s.deliver(target, ev.typ, body, time.Duration(i)*20*time.Millisecond)
		}
	}
}

// deliver posts one event until a 2xx answer or the schedule ends. Each
// attempt is signed anew with the current time.
func (s *Server) deliver(target, typ string, body []byte, delay time.Duration) {
	defer s.wg.Done()
	var id struct {
		ID string `json:"id"`
	}
	_ = json.Unmarshal(body, &id)
	client := &http.Client{Timeout: 10 * time.Second}
	for attempt := 0; ; attempt++ {
		select {
		case <-time.After(delay):
		case <-s.stop:
			return
		}
		req, _ := http.NewRequest(http.MethodPost, target, strings.NewReader(string(body)))
		req.Header.Set("Content-Type", "application/json; charset=utf-8")
		req.Header.Set("User-Agent", "Stripe/1.0 (+https://stripe.com/docs/webhooks)")
		req.Header.Set("Stripe-Signature", Sign(body, s.opts.Now(), s.opts.WebhookSecrets...))
		status := 0
		if res, err := client.Do(req); err == nil {
			status = res.StatusCode
			res.Body.Close()
		}
		s.mu.Lock()
		s.deliveries = append(s.deliveries, Delivery{EventID: id.ID, Type: typ, Attempt: attempt + 1, Status: status, At: s.opts.Now()})
		s.mu.Unlock()
		if status >= 200 && status < 300 || attempt >= len(s.opts.Schedule) {
			return
		}
		delay = s.opts.Schedule[attempt]
	}
}
