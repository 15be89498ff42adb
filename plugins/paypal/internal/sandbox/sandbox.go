// Package sandbox is a local imitation of PayPal's REST API for tests,
// written from PayPal's public documentation: the OAuth 2.0
// client-credentials token endpoint, Orders v2 (create, get, authorize,
// capture), Payments v2 (authorizations capture and void, captures
// refund, refunds), Transaction Search (/v1/reporting/transactions, see
// reporting.go), the buyer's approval page, webhook lookup and
// verify-webhook-signature, and signed webhook deliveries.
//
// Every API call needs a bearer token from /v1/oauth2/token (client id
// and secret as HTTP Basic credentials); tokens expire after
// Options.TokenTTL. POST calls honour PayPal-Request-Id: a repeat with
// the same id answers the first answer again, and does nothing else.
//
// Webhook deliveries are signed as PayPal signs them: SHA256withRSA over
// "<transmission id>|<transmission time>|<webhook id>|<crc32 of the
// body, decimal>" with the key of a certificate served under
// /v1/notifications/certs/, named by the PAYPAL-CERT-URL header. An
// answer other than 2xx is retried on [Schedule] (PayPal documents 25
// retries over three days and publishes no exact delays; the schedule
// doubles from one minute and is capped at four hours, 72 h 15 min in
// all). Each retry is a new transmission (new id, time and signature) of
// the same event (same event id). Options.Duplicate sends every
// transmission twice, and [Server.HoldDeliveries] / [Server.Release]
// deliver held events in reverse order.
//
// The buyer approves at /checkoutnow?token=<order id> (an HTML form), or
// through [Server.Approve]. It listens on 127.0.0.1 only.
//
//	sb, _ := sandbox.Start(sandbox.Options{ClientID: "id", Secret: "secret", WebhookID: "1AB23456CD789012E"})
//	defer sb.Close()
//	// settings: base_url = sb.URL(), client_id, client_secret, webhook_id
package sandbox

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"hash/crc32"
	"html"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Schedule is the delay before each of PayPal's 25 retries of a webhook
// delivery answered with anything but 2xx: 1, 2, 4 ... 128 minutes, then
// every 4 hours; the last retry comes about three days after the first
// attempt, as PayPal documents.
var Schedule = func() []time.Duration {
	var s []time.Duration
	d := time.Minute
	for i := 0; i < 25; i++ {
		s = append(s, d)
		if d *= 2; d > 4*time.Hour {
			d = 4 * time.Hour
		}
	}
	return s
}()

// Capture outcomes a buyer can choose on the approval page.
const (
	OutcomeCompleted = "COMPLETED" // the capture completes at once
	OutcomePending   = "PENDING"   // the capture stays PENDING (e.g. an eCheck) until Settle
)

// Options configure a sandbox.
type Options struct {
	// ClientID and Secret are the REST app's credentials.
	ClientID, Secret string
	// WebhookID is the id of the app's webhook (its URL is WebhookURL).
	WebhookID string
	// WebhookURL receives the webhook deliveries; empty sends none.
	WebhookURL string
	// Schedule replaces the retry delays (default [Schedule]).
	Schedule []time.Duration
	// Duplicate sends every transmission twice.
	Duplicate bool
	// TokenTTL is the access tokens' lifetime (default 9 hours, as PayPal's).
	TokenTTL time.Duration
}

// Server is a running sandbox.
type Server struct {
	opts    Options
	key     *rsa.PrivateKey
	certPEM []byte
	ln      net.Listener
	srv     *http.Server
	base    string

	mu       sync.Mutex
	seq      int
	tokens   map[string]time.Time // access token -> expiry
	issued   int
	reads    int // GET /v2/payments/{kind}/{id}
	orders   map[string]*order
	auths    map[string]*authorization
	captures map[string]*capture
	refunds  map[string]*refund
	idem     map[string]stored // method path request-id -> first answer
	held     [][]byte
	hold     bool
	sent     []Delivery
	wg       sync.WaitGroup
	closed   chan struct{}
}

// Delivery is one webhook transmission the sandbox made.
type Delivery struct {
	EventID, EventType, TransmissionID string
	Status                             int // the receiver's answer, 0 if unreachable
}

type stored struct {
	status int
	body   []byte
}

type money struct {
	Currency string `json:"currency_code"`
	Value    string `json:"value"`
}

type link struct {
	Href   string `json:"href"`
	Rel    string `json:"rel"`
	Method string `json:"method"`
}

type order struct {
	id, intent, status, customID, invoiceID, returnURL, cancelURL string
	amount                                                        money
	outcome                                                       string
	auths, captures, refunds                                      []string
	created                                                       time.Time
}

type authorization struct {
	id, orderID, status, customID, invoiceID string
	amount                                   money
	captured                                 int64 // minor units
	created                                  time.Time
}

type capture struct {
	id, orderID, authID, status, customID, invoiceID string
	amount                                           money
	refunded                                         int64
	created                                          time.Time
}

type refund struct {
	id, captureID, orderID, status, customID, invoiceID string
	amount                                              money
	created                                             time.Time
}

// Start listens on 127.0.0.1 and serves.
func Start(opts Options) (*Server, error) {
	if opts.Schedule == nil {
		opts.Schedule = Schedule
	}
	if opts.TokenTTL == 0 {
		opts.TokenTTL = 9 * time.Hour
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: "messageverificationcerts.sandbox.paypal.com", Organization: []string{"Kassa PayPal sandbox"}},
		DNSNames:     []string{"messageverificationcerts.sandbox.paypal.com"},
		NotBefore:    time.Now().Add(-time.Hour), NotAfter: time.Now().Add(365 * 24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &Server{
		opts: opts, key: key, certPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), ln: ln,
		base: "http://" + ln.Addr().String(), tokens: map[string]time.Time{}, orders: map[string]*order{},
		auths: map[string]*authorization{}, captures: map[string]*capture{}, refunds: map[string]*refund{},
		idem: map[string]stored{}, closed: make(chan struct{}),
	}
	s.srv = &http.Server{Handler: http.HandlerFunc(s.serve), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = s.srv.Serve(ln) }()
	return s, nil
}

// URL is the API base URL (the plugin's base_url setting).
func (s *Server) URL() string { return s.base }

// CertURL is the PAYPAL-CERT-URL of the sandbox's signing certificate.
func (s *Server) CertURL() string { return s.base + "/v1/notifications/certs/CERT-kassa-sandbox" }

// CertPEM is the signing certificate.
func (s *Server) CertPEM() []byte { return s.certPEM }

// Close stops the server and the pending deliveries.
func (s *Server) Close() {
	close(s.closed)
	_ = s.srv.Close()
	s.wg.Wait()
}

// TokensIssued counts the access tokens handed out.
func (s *Server) TokensIssued() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.issued
}

// PaymentReads counts the captures, authorizations and refunds read
// (GET /v2/payments/{kind}/{id}).
func (s *Server) PaymentReads() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.reads
}

// Deliveries returns the transmissions made so far.
func (s *Server) Deliveries() []Delivery {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Delivery(nil), s.sent...)
}

// HoldDeliveries keeps new events back until Release.
func (s *Server) HoldDeliveries() {
	s.mu.Lock()
	s.hold = true
	s.mu.Unlock()
}

// Release delivers the held events, the last first: out of order.
func (s *Server) Release() {
	s.mu.Lock()
	held := s.held
	s.held, s.hold = nil, false
	s.mu.Unlock()
	for i := len(held) - 1; i >= 0; i-- {
		s.deliver(held[i], true)
	}
}

// SignatureBase is the string PayPal signs for a webhook transmission:
// "<transmission id>|<transmission time>|<webhook id>|<crc32>", the CRC-32
// (IEEE) of the raw body in decimal.
func SignatureBase(transmissionID, transmissionTime, webhookID string, body []byte) string {
	return transmissionID + "|" + transmissionTime + "|" + webhookID + "|" + strconv.FormatUint(uint64(crc32.ChecksumIEEE(body)), 10)
}

// VerifySignature checks a transmission signature (base64) with a
// certificate's RSA key, as verify-webhook-signature does.
func VerifySignature(cert *x509.Certificate, transmissionID, transmissionTime, webhookID string, body []byte, sig string) error {
	pub, ok := cert.PublicKey.(*rsa.PublicKey)
	if !ok {
		return errors.New("sandbox: not an RSA certificate")
	}
	raw, err := base64.StdEncoding.DecodeString(sig)
	if err != nil {
		return err
	}
	sum := sha256.Sum256([]byte(SignatureBase(transmissionID, transmissionTime, webhookID, body)))
	return rsa.VerifyPKCS1v15(pub, crypto.SHA256, sum[:], raw)
}

// Sign returns the headers of a transmission of body at t, as PayPal
// sends them to the webhook with the configured id.
func (s *Server) Sign(body []byte, t time.Time) http.Header {
	s.mu.Lock()
	s.seq++
	tid := fmt.Sprintf("%08x-%04x-11ee-8000-%012x", time.Now().UnixNano()&0xffffffff, s.seq&0xffff, s.seq)
	s.mu.Unlock()
	ts := t.UTC().Format(time.RFC3339)
	sum := sha256.Sum256([]byte(SignatureBase(tid, ts, s.opts.WebhookID, body)))
	sig, _ := rsa.SignPKCS1v15(rand.Reader, s.key, crypto.SHA256, sum[:])
	return http.Header{
		"Content-Type":             {"application/json"},
		"Paypal-Transmission-Id":   {tid},
		"Paypal-Transmission-Time": {ts},
		"Paypal-Transmission-Sig":  {base64.StdEncoding.EncodeToString(sig)},
		"Paypal-Cert-Url":          {s.CertURL()},
		"Paypal-Auth-Algo":         {"SHA256withRSA"},
		"Paypal-Auth-Version":      {"v2"},
	}
}

// ByCustomID returns the id of the order whose purchase unit carries
// custom_id (the plugin sends Kassa's attempt id there), or "".
func (s *Server) ByCustomID(customID string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, o := range s.orders {
		if o.customID == customID {
			return id
		}
	}
	return ""
}

// Approve plays the buyer approving an order on PayPal; outcome is what
// the capture will do (OutcomeCompleted unless OutcomePending).
func (s *Server) Approve(orderID, outcome string) error {
	s.mu.Lock()
	o, ok := s.orders[orderID]
	if !ok {
		s.mu.Unlock()
		return fmt.Errorf("sandbox: no order %s", orderID)
	}
	if o.status != "CREATED" && o.status != "PAYER_ACTION_REQUIRED" {
		s.mu.Unlock()
		return fmt.Errorf("sandbox: order %s is %s", orderID, o.status)
	}
	o.status, o.outcome = "APPROVED", outcome
	ev := s.eventLocked("CHECKOUT.ORDER.APPROVED", "checkout-order", s.orderJSON(o))
	s.mu.Unlock()
	s.emit(ev)
	return nil
}

// Capture plays the buyer approving a CAPTURE order and the shop capturing
// it at once, with the events PayPal sends for both; it returns the
// capture's id. Tests that need a real capture to name in a webhook start
// here. Both happen under one lock, so the plugin's own capture on the
// APPROVED event finds the order captured.
func (s *Server) Capture(orderID string) (string, error) {
	s.mu.Lock()
	o, ok := s.orders[orderID]
	if !ok || (o.status != "CREATED" && o.status != "PAYER_ACTION_REQUIRED") {
		s.mu.Unlock()
		return "", fmt.Errorf("sandbox: no order %s awaiting approval", orderID)
	}
	o.status, o.outcome = "APPROVED", OutcomeCompleted
	evs := [][]byte{s.eventLocked("CHECKOUT.ORDER.APPROVED", "checkout-order", s.orderJSON(o))}
	_, more, aerr := s.completeOrder(orderID, "capture")
	if aerr != nil {
		s.mu.Unlock()
		return "", fmt.Errorf("sandbox: capture order %s: %s", orderID, aerr.issue)
	}
	id := o.captures[len(o.captures)-1]
	s.mu.Unlock()
	for _, ev := range append(evs, more...) {
		s.emit(ev)
	}
	return id, nil
}

// Settle ends a PENDING capture as COMPLETED or DECLINED, with its webhook.
func (s *Server) Settle(captureID, status string) error {
	s.mu.Lock()
	c, ok := s.captures[captureID]
	if !ok || c.status != "PENDING" {
		s.mu.Unlock()
		return fmt.Errorf("sandbox: no pending capture %s", captureID)
	}
	c.status = status
	typ := "PAYMENT.CAPTURE.COMPLETED"
	if status == "DECLINED" {
		typ = "PAYMENT.CAPTURE.DENIED"
	}
	ev := s.eventLocked(typ, "capture", s.captureJSON(c))
	s.mu.Unlock()
	s.emit(ev)
	return nil
}

// OrderCaptures returns the capture ids of an order.
func (s *Server) OrderCaptures(orderID string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if o, ok := s.orders[orderID]; ok {
		return append([]string(nil), o.captures...)
	}
	return nil
}

// OrderStatus returns an order's status ("" if unknown).
func (s *Server) OrderStatus(orderID string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if o, ok := s.orders[orderID]; ok {
		return o.status
	}
	return ""
}

// newID makes a PayPal-style id: 17 upper-case letters and digits.
func (s *Server) newID(prefix string) string {
	s.seq++
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	id := strings.ToUpper(prefix + hex.EncodeToString(b) + fmt.Sprintf("%04d", s.seq%10000))
	if len(id) > 17 {
		id = id[:17]
	}
	return id
}

type apiError struct {
	status           int
	name, msg, issue string
}

func unprocessable(issue, msg string) *apiError {
	return &apiError{http.StatusUnprocessableEntity, "UNPROCESSABLE_ENTITY", "The requested action could not be performed, semantically incorrect, or failed business validation.", issue + ": " + msg}
}

func notFound() *apiError {
	return &apiError{http.StatusNotFound, "RESOURCE_NOT_FOUND", "The specified resource does not exist.", "INVALID_RESOURCE_ID: Specified resource ID does not exist. Please check the resource ID and try again."}
}

func invalid(field, msg string) *apiError {
	return &apiError{http.StatusBadRequest, "INVALID_REQUEST", "Request is not well-formed, syntactically incorrect, or violates schema.", "INVALID_PARAMETER_VALUE: " + field + ": " + msg}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (e *apiError) body() []byte {
	issue, desc, _ := strings.Cut(e.issue, ": ")
	b, _ := json.Marshal(map[string]any{"name": e.name, "message": e.msg, "debug_id": "sandbox",
		"details": []map[string]string{{"issue": issue, "description": desc}}})
	return b
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.URL.Path == "/v1/oauth2/token" && r.Method == http.MethodPost:
		s.token(w, r)
		return
	case r.URL.Path == "/checkoutnow":
		s.approvalPage(w, r)
		return
	case strings.HasPrefix(r.URL.Path, "/v1/notifications/certs/"):
		if r.URL.Path != "/v1/notifications/certs/CERT-kassa-sandbox" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/x-pem-file")
		_, _ = w.Write(s.certPEM)
		return
	}
	if !s.authorized(r) {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_token", "error_description": "Token signature verification failed"})
		return
	}
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	reqID := r.Header.Get("PayPal-Request-Id")
	s.mu.Lock()
	idemKey := r.Method + " " + r.URL.Path + " " + reqID
	if reqID != "" && r.Method == http.MethodPost {
		if st, ok := s.idem[idemKey]; ok {
			s.mu.Unlock()
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(st.status)
			_, _ = w.Write(st.body)
			return
		}
	}
	status, out, events := s.route(r, body)
	if reqID != "" && r.Method == http.MethodPost {
		s.idem[idemKey] = stored{status, out}
	}
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(out)
	for _, ev := range events {
		s.emit(ev)
	}
}

func (s *Server) authorized(r *http.Request) bool {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	exp, ok := s.tokens[tok]
	return ok && time.Now().Before(exp)
}

func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	id, secret, ok := r.BasicAuth()
	_ = r.ParseForm()
	if !ok || subtle.ConstantTimeCompare([]byte(id), []byte(s.opts.ClientID)) != 1 || subtle.ConstantTimeCompare([]byte(secret), []byte(s.opts.Secret)) != 1 {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_client", "error_description": "Client Authentication failed"})
		return
	}
	if r.PostForm.Get("grant_type") != "client_credentials" {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "unsupported_grant_type", "error_description": "Grant Type is NULL"})
		return
	}
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	tok := "A21AA" + base64.RawURLEncoding.EncodeToString(b)
	s.mu.Lock()
	s.tokens[tok] = time.Now().Add(s.opts.TokenTTL)
	s.issued++
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"scope": "https://uri.paypal.com/services/payments/payment", "access_token": tok,
		"token_type": "Bearer", "app_id": "APP-80W284485P519543T", "expires_in": int(s.opts.TokenTTL / time.Second), "nonce": "sandbox"})
}

// route answers an authorized API call; the caller holds s.mu.
func (s *Server) route(r *http.Request, body []byte) (int, []byte, [][]byte) {
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	var (
		v      any
		status = http.StatusOK
		err    *apiError
		events [][]byte
	)
	switch {
	case r.Method == http.MethodPost && r.URL.Path == "/v2/checkout/orders":
		v, err = s.createOrder(body)
		status = http.StatusCreated
	case r.Method == http.MethodGet && len(parts) == 4 && parts[0] == "v2" && parts[1] == "checkout" && parts[2] == "orders":
		if o, ok := s.orders[parts[3]]; ok {
			v = s.orderJSON(o)
		} else {
			err = notFound()
		}
	case r.Method == http.MethodPost && len(parts) == 5 && parts[1] == "checkout" && parts[2] == "orders" && (parts[4] == "capture" || parts[4] == "authorize"):
		v, events, err = s.completeOrder(parts[3], parts[4])
		status = http.StatusCreated
	case r.Method == http.MethodPost && len(parts) == 5 && parts[1] == "payments" && parts[2] == "authorizations" && parts[4] == "capture":
		v, events, err = s.captureAuthorization(parts[3], body)
		status = http.StatusCreated
	case r.Method == http.MethodPost && len(parts) == 5 && parts[1] == "payments" && parts[2] == "authorizations" && parts[4] == "void":
		events, err = s.void(parts[3])
		status = http.StatusNoContent
	case r.Method == http.MethodPost && len(parts) == 5 && parts[1] == "payments" && parts[2] == "captures" && parts[4] == "refund":
		v, events, err = s.refund(parts[3], body)
		status = http.StatusCreated
	case r.Method == http.MethodGet && len(parts) == 4 && parts[1] == "payments":
		s.reads++
		v, err = s.getPayment(parts[2], parts[3])
	case r.Method == http.MethodGet && len(parts) == 4 && parts[0] == "v1" && parts[1] == "notifications" && parts[2] == "webhooks":
		if parts[3] != s.opts.WebhookID {
			err = notFound()
		} else {
			v = map[string]any{"id": s.opts.WebhookID, "url": s.opts.WebhookURL, "event_types": []map[string]string{{"name": "*"}}}
		}
	case r.Method == http.MethodPost && r.URL.Path == "/v1/notifications/verify-webhook-signature":
		v, err = s.verify(body)
	case r.Method == http.MethodGet && r.URL.Path == "/v1/reporting/transactions":
		v, err = s.search(r.URL.Query())
	default:
		err = notFound()
	}
	if err != nil {
		return err.status, err.body(), nil
	}
	if status == http.StatusNoContent {
		return status, nil, events
	}
	b, _ := json.Marshal(v)
	return status, b, events
}

// decimals are the minor-unit digits of PayPal's currencies that have none
// or other than two.
var decimals = map[string]int{"JPY": 0, "HUF": 0, "TWD": 0}

func toMinor(m money) (int64, error) {
	d, ok := decimals[m.Currency]
	if !ok {
		d = 2
	}
	whole, frac, _ := strings.Cut(m.Value, ".")
	if whole == "" || len(frac) > d || (d == 0 && strings.Contains(m.Value, ".")) {
		return 0, errors.New("bad value")
	}
	for len(frac) < d {
		frac += "0"
	}
	n, err := strconv.ParseInt(whole+frac, 10, 64)
	if err != nil || n < 0 {
		return 0, errors.New("bad value")
	}
	return n, nil
}

func fromMinor(currency string, n int64) money {
	d, ok := decimals[currency]
	if !ok {
		d = 2
	}
	if d == 0 {
		return money{currency, strconv.FormatInt(n, 10)}
	}
	return money{currency, fmt.Sprintf("%d.%02d", n/100, n%100)}
}

func (s *Server) createOrder(body []byte) (any, *apiError) {
	var req struct {
		Intent        string `json:"intent"`
		PurchaseUnits []struct {
			Amount    *money `json:"amount"`
			CustomID  string `json:"custom_id"`
			InvoiceID string `json:"invoice_id"`
		} `json:"purchase_units"`
		ApplicationContext struct {
			ReturnURL string `json:"return_url"`
			CancelURL string `json:"cancel_url"`
		} `json:"application_context"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		return nil, &apiError{http.StatusBadRequest, "INVALID_REQUEST", "Request is not well-formed", "MALFORMED_REQUEST_JSON: " + err.Error()}
	}
	if req.Intent != "CAPTURE" && req.Intent != "AUTHORIZE" {
		return nil, invalid("/intent", "intent must be CAPTURE or AUTHORIZE")
	}
	if len(req.PurchaseUnits) != 1 || req.PurchaseUnits[0].Amount == nil {
		return nil, invalid("/purchase_units", "one purchase unit with an amount")
	}
	pu := req.PurchaseUnits[0]
	if n, err := toMinor(*pu.Amount); err != nil || n == 0 {
		return nil, invalid("/purchase_units/@reference_id=='default'/amount/value", "DECIMAL_PRECISION or value must be positive")
	}
	if len(pu.CustomID) > 127 || len(pu.InvoiceID) > 127 {
		return nil, invalid("/purchase_units/@reference_id=='default'/custom_id", "at most 127 characters")
	}
	for _, o := range s.orders {
		if pu.InvoiceID != "" && o.invoiceID == pu.InvoiceID {
			return nil, unprocessable("DUPLICATE_INVOICE_ID", "Duplicate Invoice ID detected. To avoid a potential duplicate transaction your account setting requires that Invoice Id be unique for each transaction.")
		}
	}
	o := &order{id: s.newID(""), intent: req.Intent, status: "CREATED", customID: pu.CustomID, invoiceID: pu.InvoiceID,
		amount: *pu.Amount, returnURL: req.ApplicationContext.ReturnURL, cancelURL: req.ApplicationContext.CancelURL, created: time.Now().UTC()}
	s.orders[o.id] = o
	return s.orderJSON(o), nil
}

func (s *Server) completeOrder(id, op string) (any, [][]byte, *apiError) {
	o, ok := s.orders[id]
	if !ok {
		return nil, nil, notFound()
	}
	switch {
	case op == "capture" && o.intent != "CAPTURE", op == "authorize" && o.intent != "AUTHORIZE":
		return nil, nil, unprocessable("ACTION_DOES_NOT_MATCH_INTENT", "Order was created with an intent of "+o.intent)
	case o.status == "COMPLETED" && op == "capture":
		return nil, nil, unprocessable("ORDER_ALREADY_CAPTURED", "Order already captured. If 'intent=CAPTURE' only one capture per order is allowed.")
	case o.status == "COMPLETED":
		return nil, nil, unprocessable("ORDER_ALREADY_AUTHORIZED", "Order already authorized. If 'intent=AUTHORIZE' only one authorization per order is allowed.")
	case o.status != "APPROVED":
		return nil, nil, unprocessable("ORDER_NOT_APPROVED", "Payer has not yet approved the Order for payment.")
	}
	o.status = "COMPLETED"
	now := time.Now().UTC()
	if op == "authorize" {
		a := &authorization{id: s.newID(""), orderID: o.id, status: "CREATED", customID: o.customID, invoiceID: o.invoiceID, amount: o.amount, created: now}
		s.auths[a.id] = a
		o.auths = append(o.auths, a.id)
		return s.orderJSON(o), [][]byte{s.eventLocked("PAYMENT.AUTHORIZATION.CREATED", "authorization", s.authJSON(a))}, nil
	}
	st := OutcomeCompleted
	if o.outcome == OutcomePending {
		st = OutcomePending
	}
	c := &capture{id: s.newID(""), orderID: o.id, status: st, customID: o.customID, invoiceID: o.invoiceID, amount: o.amount, created: now}
	s.captures[c.id] = c
	o.captures = append(o.captures, c.id)
	typ := "PAYMENT.CAPTURE.COMPLETED"
	if st == OutcomePending {
		typ = "PAYMENT.CAPTURE.PENDING"
	}
	return s.orderJSON(o), [][]byte{s.eventLocked(typ, "capture", s.captureJSON(c))}, nil
}

func (s *Server) captureAuthorization(id string, body []byte) (any, [][]byte, *apiError) {
	a, ok := s.auths[id]
	if !ok {
		return nil, nil, notFound()
	}
	var req struct {
		Amount       *money `json:"amount"`
		InvoiceID    string `json:"invoice_id"`
		FinalCapture bool   `json:"final_capture"`
	}
	if len(body) > 0 {
		if err := json.Unmarshal(body, &req); err != nil {
			return nil, nil, invalid("/", "malformed JSON")
		}
	}
	switch a.status {
	case "VOIDED":
		return nil, nil, unprocessable("AUTHORIZATION_VOIDED", "A voided authorization cannot be captured or reauthorized.")
	case "CAPTURED":
		return nil, nil, unprocessable("AUTHORIZATION_ALREADY_CAPTURED", "Authorization has been previously captured and hence cannot be captured again.")
	}
	total, _ := toMinor(a.amount)
	amt := total - a.captured
	if req.Amount != nil {
		if req.Amount.Currency != a.amount.Currency {
			return nil, nil, unprocessable("CURRENCY_MISMATCH", "Currency of capture must be the same as currency of authorization.")
		}
		n, err := toMinor(*req.Amount)
		if err != nil || n == 0 {
			return nil, nil, invalid("/amount/value", "DECIMAL_PRECISION")
		}
		amt = n
	}
	if amt > total-a.captured {
		return nil, nil, unprocessable("MAX_CAPTURE_AMOUNT_EXCEEDED", "Capture amount exceeds allowable limit.")
	}
	a.captured += amt
	a.status = "PARTIALLY_CAPTURED"
	if req.FinalCapture || a.captured == total {
		a.status = "CAPTURED"
	}
	o := s.orders[a.orderID]
	c := &capture{id: s.newID(""), orderID: a.orderID, authID: a.id, status: "COMPLETED", customID: a.customID, invoiceID: a.invoiceID,
		amount: fromMinor(a.amount.Currency, amt), created: time.Now().UTC()}
	s.captures[c.id] = c
	o.captures = append(o.captures, c.id)
	return s.captureJSON(c), [][]byte{s.eventLocked("PAYMENT.CAPTURE.COMPLETED", "capture", s.captureJSON(c))}, nil
}

func (s *Server) void(id string) ([][]byte, *apiError) {
	a, ok := s.auths[id]
	if !ok {
		return nil, notFound()
	}
	switch a.status {
	case "VOIDED":
		return nil, unprocessable("AUTHORIZATION_VOIDED", "A voided authorization cannot be voided again.")
	case "CAPTURED", "PARTIALLY_CAPTURED":
		return nil, unprocessable("PREVIOUSLY_CAPTURED", "Authorization has been previously captured and hence cannot be voided.")
	}
	a.status = "VOIDED"
	return [][]byte{s.eventLocked("PAYMENT.AUTHORIZATION.VOIDED", "authorization", s.authJSON(a))}, nil
}

func (s *Server) refund(captureID string, body []byte) (any, [][]byte, *apiError) {
	c, ok := s.captures[captureID]
	if !ok {
		return nil, nil, notFound()
	}
	var req struct {
		Amount    *money `json:"amount"`
		CustomID  string `json:"custom_id"`
		InvoiceID string `json:"invoice_id"`
	}
	if len(body) > 0 {
		if err := json.Unmarshal(body, &req); err != nil {
			return nil, nil, invalid("/", "malformed JSON")
		}
	}
	total, _ := toMinor(c.amount)
	switch {
	case c.status == "REFUNDED":
		return nil, nil, unprocessable("CAPTURE_FULLY_REFUNDED", "The capture has already been fully refunded.")
	case c.status != "COMPLETED" && c.status != "PARTIALLY_REFUNDED":
		return nil, nil, unprocessable("REFUND_NOT_ALLOWED", "Capture is "+c.status)
	}
	amt := total - c.refunded
	if req.Amount != nil {
		if req.Amount.Currency != c.amount.Currency {
			return nil, nil, unprocessable("REFUND_CAPTURE_CURRENCY_MISMATCH", "Refund must be in the same currency as the capture.")
		}
		n, err := toMinor(*req.Amount)
		if err != nil || n == 0 {
			return nil, nil, invalid("/amount/value", "DECIMAL_PRECISION")
		}
		amt = n
	}
	if amt > total-c.refunded {
		return nil, nil, unprocessable("REFUND_AMOUNT_EXCEEDED", "The refund amount must be less than or equal to the capture amount that has not yet been refunded.")
	}
	c.refunded += amt
	c.status = "PARTIALLY_REFUNDED"
	if c.refunded == total {
		c.status = "REFUNDED"
	}
	rf := &refund{id: s.newID(""), captureID: c.id, orderID: c.orderID, status: "COMPLETED", customID: req.CustomID, invoiceID: req.InvoiceID,
		amount: fromMinor(c.amount.Currency, amt), created: time.Now().UTC()}
	s.refunds[rf.id] = rf
	s.orders[c.orderID].refunds = append(s.orders[c.orderID].refunds, rf.id)
	return s.refundJSON(rf), [][]byte{s.eventLocked("PAYMENT.CAPTURE.REFUNDED", "refund", s.refundJSON(rf))}, nil
}

func (s *Server) getPayment(kind, id string) (any, *apiError) {
	switch kind {
	case "authorizations":
		if a, ok := s.auths[id]; ok {
			return s.authJSON(a), nil
		}
	case "captures":
		if c, ok := s.captures[id]; ok {
			return s.captureJSON(c), nil
		}
	case "refunds":
		if r, ok := s.refunds[id]; ok {
			return s.refundJSON(r), nil
		}
	}
	return nil, notFound()
}

func (s *Server) verify(body []byte) (any, *apiError) {
	var req struct {
		AuthAlgo         string          `json:"auth_algo"`
		CertURL          string          `json:"cert_url"`
		TransmissionID   string          `json:"transmission_id"`
		TransmissionSig  string          `json:"transmission_sig"`
		TransmissionTime string          `json:"transmission_time"`
		WebhookID        string          `json:"webhook_id"`
		Event            json.RawMessage `json:"webhook_event"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		return nil, invalid("/", "malformed JSON")
	}
	for f, v := range map[string]string{"auth_algo": req.AuthAlgo, "cert_url": req.CertURL, "transmission_id": req.TransmissionID,
		"transmission_sig": req.TransmissionSig, "transmission_time": req.TransmissionTime, "webhook_id": req.WebhookID} {
		if v == "" {
			return nil, invalid("/"+f, "MISSING_REQUIRED_PARAMETER")
		}
	}
	if req.WebhookID != s.opts.WebhookID {
		return nil, notFound()
	}
	status := "FAILURE"
	block, _ := pem.Decode(s.certPEM)
	cert, _ := x509.ParseCertificate(block.Bytes)
	// The event arrives re-encoded inside this request; the sandbox's own
	// deliveries are compact JSON, so compacting restores their bytes.
	var ev bytes.Buffer
	if json.Compact(&ev, req.Event) == nil && req.AuthAlgo == "SHA256withRSA" && req.CertURL == s.CertURL() &&
		VerifySignature(cert, req.TransmissionID, req.TransmissionTime, req.WebhookID, ev.Bytes(), req.TransmissionSig) == nil {
		status = "SUCCESS"
	}
	return map[string]string{"verification_status": status}, nil
}

func (s *Server) orderJSON(o *order) map[string]any {
	payments := map[string]any{}
	var auths, caps, refs []any
	for _, id := range o.auths {
		auths = append(auths, s.authJSON(s.auths[id]))
	}
	for _, id := range o.captures {
		caps = append(caps, s.captureJSON(s.captures[id]))
	}
	for _, id := range o.refunds {
		refs = append(refs, s.refundJSON(s.refunds[id]))
	}
	if auths != nil {
		payments["authorizations"] = auths
	}
	if caps != nil {
		payments["captures"] = caps
	}
	if refs != nil {
		payments["refunds"] = refs
	}
	pu := map[string]any{"reference_id": "default", "amount": o.amount, "custom_id": o.customID, "invoice_id": o.invoiceID}
	if len(payments) > 0 {
		pu["payments"] = payments
	}
	links := []link{{s.base + "/v2/checkout/orders/" + o.id, "self", "GET"}}
	if o.status == "CREATED" {
		links = append(links, link{s.base + "/checkoutnow?token=" + o.id, "approve", "GET"})
	}
	if o.status == "APPROVED" {
		op := strings.ToLower(o.intent)
		links = append(links, link{s.base + "/v2/checkout/orders/" + o.id + "/" + op, op, "POST"})
	}
	return map[string]any{"id": o.id, "intent": o.intent, "status": o.status, "purchase_units": []any{pu}, "links": links,
		"create_time": o.created.Format(time.RFC3339)}
}

func related(orderID string) map[string]any {
	return map[string]any{"related_ids": map[string]string{"order_id": orderID}}
}

func (s *Server) authJSON(a *authorization) map[string]any {
	return map[string]any{"id": a.id, "status": a.status, "amount": a.amount, "custom_id": a.customID, "invoice_id": a.invoiceID,
		"create_time": a.created.Format(time.RFC3339), "update_time": time.Now().UTC().Format(time.RFC3339),
		"expiration_time": a.created.Add(29 * 24 * time.Hour).Format(time.RFC3339), "supplementary_data": related(a.orderID)}
}

func (s *Server) captureJSON(c *capture) map[string]any {
	m := map[string]any{"id": c.id, "status": c.status, "amount": c.amount, "custom_id": c.customID, "invoice_id": c.invoiceID,
		"final_capture": true, "create_time": c.created.Format(time.RFC3339), "update_time": time.Now().UTC().Format(time.RFC3339),
		"supplementary_data": related(c.orderID)}
	if c.status == "PENDING" {
		m["status_details"] = map[string]string{"reason": "ECHECK"}
	}
	return m
}

func (s *Server) refundJSON(r *refund) map[string]any {
	return map[string]any{"id": r.id, "status": r.status, "amount": r.amount, "custom_id": r.customID, "invoice_id": r.invoiceID,
		"create_time": r.created.Format(time.RFC3339), "update_time": r.created.Format(time.RFC3339),
		"links":              []link{{s.base + "/v2/payments/refunds/" + r.id, "self", "GET"}, {s.base + "/v2/payments/captures/" + r.captureID, "up", "GET"}},
		"supplementary_data": related(r.orderID)}
}

// eventLocked builds a webhook event body; the caller holds s.mu.
func (s *Server) eventLocked(typ, resourceType string, resource any) []byte {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	id := strings.ToUpper("WH-" + hex.EncodeToString(b[:4]) + "-" + hex.EncodeToString(b[4:]))
	ev, _ := json.Marshal(map[string]any{"id": id, "event_version": "1.0", "create_time": time.Now().UTC().Format(time.RFC3339Nano),
		"resource_type": resourceType, "resource_version": "2.0", "event_type": typ, "summary": typ, "resource": resource})
	return ev
}

// emit delivers an event, or holds it back.
func (s *Server) emit(ev []byte) {
	s.mu.Lock()
	if s.hold {
		s.held = append(s.held, ev)
		s.mu.Unlock()
		return
	}
	s.mu.Unlock()
	s.deliver(ev, false)
}

// deliver sends an event to the webhook URL, retrying in the background
// on the schedule until a 2xx answer; firstInline makes the first
// transmission before returning, so released events arrive in order.
func (s *Server) deliver(ev []byte, firstInline bool) {
	if s.opts.WebhookURL == "" {
		return
	}
	var meta struct {
		ID   string `json:"id"`
		Type string `json:"event_type"`
	}
	_ = json.Unmarshal(ev, &meta)
	transmit := func() bool {
		ok := false
		copies := 1
		if s.opts.Duplicate {
			copies = 2
		}
		for i := 0; i < copies; i++ {
			h := s.Sign(ev, time.Now())
			st := s.post(h, ev)
			s.mu.Lock()
			s.sent = append(s.sent, Delivery{EventID: meta.ID, EventType: meta.Type, TransmissionID: h.Get("Paypal-Transmission-Id"), Status: st})
			s.mu.Unlock()
			ok = ok || (st >= 200 && st <= 299)
		}
		return ok
	}
	// retry is the index in the schedule of the next wait.
	retry := 0
	if firstInline {
		if transmit() {
			return
		}
		retry = 1
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for ; ; retry++ {
			if retry > 0 {
				if retry > len(s.opts.Schedule) {
					return
				}
				select {
				case <-time.After(s.opts.Schedule[retry-1]):
				case <-s.closed:
					return
				}
			}
			if transmit() {
				return
			}
		}
	}()
}

func (s *Server) post(h http.Header, body []byte) int {
	req, err := http.NewRequest(http.MethodPost, s.opts.WebhookURL, bytes.NewReader(body))
	if err != nil {
		return 0
	}
	req.Header = h
	req.Header.Set("User-Agent", "PayPal/AUHD-214.0-58033946")
	res, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		return 0
	}
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res.StatusCode
}

// approvalPage is PayPal's checkout as the buyer sees it: GET shows the
// order, POST approves (action=approve, outcome) or cancels and
// redirects to the shop's return or cancel URL.
func (s *Server) approvalPage(w http.ResponseWriter, r *http.Request) {
	id := r.URL.Query().Get("token")
	s.mu.Lock()
	o, ok := s.orders[id]
	var amount, status, ret, cancel string
	if ok {
		amount, status, ret, cancel = o.amount.Value+" "+o.amount.Currency, o.status, o.returnURL, o.cancelURL
	}
	s.mu.Unlock()
	if !ok {
		http.Error(w, "This checkout session has expired or does not exist.", http.StatusNotFound)
		return
	}
	if r.Method == http.MethodGet {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><title>PayPal Checkout (sandbox)</title><h1>Pay with PayPal</h1>
<p id="amount">%s</p><p id="status">%s</p>
<form method="post"><input type="hidden" name="outcome" value="COMPLETED">
<button name="action" value="approve">Pay Now</button> <button name="action" value="cancel">Cancel and return to merchant</button></form>`,
			html.EscapeString(amount), html.EscapeString(status))
		return
	}
	if r.Method != http.MethodPost {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	_ = r.ParseForm()
	target := cancel
	if r.PostForm.Get("action") == "approve" {
		if err := s.Approve(id, r.PostForm.Get("outcome")); err != nil {
			http.Error(w, err.Error(), http.StatusConflict)
			return
		}
		target = ret
	}
	u, err := url.Parse(target)
	if err != nil || target == "" {
		w.WriteHeader(http.StatusOK)
		return
	}
	q := u.Query()
	q.Set("token", id)
	if r.PostForm.Get("action") == "approve" {
		q.Set("PayerID", "SANDBOXPAYER01")
	}
	u.RawQuery = q.Encode()
	http.Redirect(w, r, u.String(), http.StatusFound)
}
