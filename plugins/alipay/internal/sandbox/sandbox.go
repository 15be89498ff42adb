// Package sandbox is a local imitation of Alipay's OpenAPI gateway
// (gateway.do) for tests: it checks the app's RSA2 signatures with the app
// public key, answers JSON signed with an Alipay key pair of its own and
// sends signed form notifications to notify_url, retrying on any answer
// but the literal "success" on Alipay's documented schedule
// (4m, 10m, 10m, 1h, 2h, 6h, 15h after the first attempt; tests compress
// it with Options.Schedule).
//
// Methods: alipay.trade.page.pay and alipay.trade.wap.pay (GET: the
// buyer's cashier page, which creates the trade), alipay.trade.precreate,
// alipay.trade.query, alipay.trade.close, alipay.trade.refund and
// alipay.trade.fastpay.refund.query and
// alipay.data.dataservice.bill.downloadurl.query (a GBK CSV zip, served once
// under /bill/). Options.CertMode switches to certificate mode.
// [Server.Pay] plays the buyer paying.
// It listens on 127.0.0.1 only.
//
//	sb, _ := sandbox.Start(sandbox.Options{AppID: "2021000000000001", AppPublicKey: &appKey.PublicKey})
//	defer sb.Close()
//	// settings: gateway_url = sb.URL(), alipay_public_key = sb.AlipayPublicKeyPEM()
//	_ = sb.Pay("pay_123")
package sandbox

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Schedule is Alipay's documented notification schedule: the delays
// between the 8 attempts within 25 hours.
var Schedule = []time.Duration{4 * time.Minute, 10 * time.Minute, 10 * time.Minute, time.Hour, 2 * time.Hour, 6 * time.Hour, 15 * time.Hour}

var chinaTime = time.FixedZone("CST", 8*3600)

const timeLayout = "2006-01-02 15:04:05"

// Options configure a sandbox.
type Options struct {
	// AppID is the only app the sandbox serves.
	AppID string
	// AppPublicKey verifies the app's request signatures.
	AppPublicKey *rsa.PublicKey
	// Schedule replaces the retry delays (default [Schedule]).
	Schedule []time.Duration
	// Duplicate sends every notification attempt twice.
	Duplicate bool
	// ClockSkew is how far a request's timestamp may be off (default 15m).
	ClockSkew time.Duration
	// CertMode signs answers in certificate mode (公钥证书): requests must
	// carry app_cert_sn and alipay_root_cert_sn, answers carry
	// alipay_cert_sn. The certificates come from AppCertPEM and friends.
	CertMode bool
	// BillsIncludeToday serves today's bill too; Alipay only has a day's
	// bill from the next day on (isp.bill_not_exist before).
	BillsIncludeToday bool
}

// Server is a running sandbox.
type Server struct {
	opts      Options
	key       *rsa.PrivateKey
	srv       *http.Server
	ln        net.Listener
	client    *http.Client
	mu        sync.Mutex
	trades    map[string]*trade // by out_trade_no
	seq       int
	notes     []Notification
	bills     map[string][]byte // download token -> zip
	certs     *certs
	wg        sync.WaitGroup
	closing   chan struct{}
	closeOnce sync.Once
}

type refundRec struct {
	amount int64
	at     time.Time
}

type trade struct {
	outTradeNo, tradeNo, subject, notifyURL, qrCode string
	total, refunded                                 int64
	status                                          string
	created, paid, closed                           time.Time
	refunds                                         map[string]refundRec // by out_request_no
	paidNote                                        url.Values           // the payment's notification, for Renotify
}

// Notification is one delivery attempt the sandbox made.
type Notification struct {
	// OutTradeNo and NotifyID identify the notification.
	OutTradeNo, NotifyID, TradeStatus string
	// Attempt counts from 1.
	Attempt int
	// Answer is what notify_url answered ("" on a transport error).
	Answer string
	// At is when it was sent.
	At time.Time
}

// Start generates the Alipay key pair and listens on 127.0.0.1.
func Start(opts Options) (*Server, error) {
	if opts.AppID == "" || opts.AppPublicKey == nil {
		return nil, errors.New("sandbox: AppID and AppPublicKey are required")
	}
	if opts.Schedule == nil {
		opts.Schedule = Schedule
	}
	if opts.ClockSkew == 0 {
		opts.ClockSkew = 15 * time.Minute
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, fmt.Errorf("sandbox: generate key: %w", err)
	}
	var cm *certs
	if opts.CertMode {
		if cm, err = newCerts(key, opts.AppPublicKey); err != nil {
			return nil, fmt.Errorf("sandbox: certificates: %w", err)
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("sandbox: listen: %w", err)
	}
	s := &Server{opts: opts, key: key, ln: ln, trades: map[string]*trade{}, bills: map[string][]byte{}, certs: cm, closing: make(chan struct{}),
		client: &http.Client{Timeout: 5 * time.Second}}
	mux := http.NewServeMux()
	mux.HandleFunc("/gateway.do", s.gateway)
	mux.HandleFunc("/bill/", s.serveBill)
	s.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = s.srv.Serve(ln) }()
	return s, nil
}

// URL is the gateway URL for the plugin's gateway_url setting.
func (s *Server) URL() string { return "http://" + s.ln.Addr().String() + "/gateway.do" }

// AlipayPublicKeyPEM is the sandbox's Alipay public key (PKIX PEM).
func (s *Server) AlipayPublicKeyPEM() string {
	der, _ := x509.MarshalPKIXPublicKey(&s.key.PublicKey)
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}

// AppCertPEM, AlipayCertPEM and RootCertPEM are the certificate-mode
// files (appCertPublicKey_<APPID>.crt, alipayCertPublicKey_RSA2.crt,
// alipayRootCert.crt); empty without Options.CertMode.
func (s *Server) AppCertPEM() string { return s.certField(func(c *certs) string { return c.appPEM }) }
func (s *Server) AlipayCertPEM() string {
	return s.certField(func(c *certs) string { return c.alipayPEM })
}
func (s *Server) RootCertPEM() string { return s.certField(func(c *certs) string { return c.rootPEM }) }

func (s *Server) certField(f func(*certs) string) string {
	if s.certs == nil {
		return ""
	}
	return f(s.certs)
}

// Close stops the server and pending notification retries.
func (s *Server) Close() {
	s.closeOnce.Do(func() { close(s.closing) })
	_ = s.srv.Close()
	s.wg.Wait()
}

// Notifications returns the delivery attempts made so far.
func (s *Server) Notifications() []Notification {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Notification(nil), s.notes...)
}

// ErrNoTrade and friends are the refusals of Pay.
var (
	ErrNoTrade     = errors.New("sandbox: no such trade (the buyer never opened the cashier)")
	ErrTradeClosed = errors.New("sandbox: trade is closed")
	ErrTradePaid   = errors.New("sandbox: trade is already paid")
)

// Pay plays the buyer paying a trade that is waiting for payment; it
// notifies notify_url. A closed trade cannot be paid (a close that won
// the race against a late payment).
func (s *Server) Pay(outTradeNo string) error {
	s.mu.Lock()
	t, ok := s.trades[outTradeNo]
	switch {
	case !ok:
		s.mu.Unlock()
		return ErrNoTrade
	case t.status == "TRADE_CLOSED":
		s.mu.Unlock()
		return ErrTradeClosed
	case t.status != "WAIT_BUYER_PAY":
		s.mu.Unlock()
		return ErrTradePaid
	}
	t.status, t.paid = "TRADE_SUCCESS", time.Now()
	n := s.tradeNotification(t)
	t.paidNote = n
	s.mu.Unlock()
	s.notify(t.notifyURL, n)
	return nil
}

// Renotify sends a paid trade's payment notification again with the same
// notify_id, as Alipay does when it doubts an answer.
func (s *Server) Renotify(outTradeNo string) error {
	s.mu.Lock()
	t, ok := s.trades[outTradeNo]
	if !ok || t.paidNote == nil {
		s.mu.Unlock()
		return ErrNoTrade
	}
	n, to := t.paidNote, t.notifyURL
	s.mu.Unlock()
	s.notify(to, n)
	return nil
}

// Sign signs notification parameters as Alipay does (sorted, without sign
// and sign_type) and returns them with sign and sign_type set. Tests use
// it to forge nothing but well-formed deliveries.
func (s *Server) Sign(p url.Values) url.Values {
	out := url.Values{}
	for k, v := range p {
		out[k] = append([]string(nil), v...)
	}
	out.Del("sign")
	out.Set("sign_type", "RSA2")
	out.Set("sign", s.sign([]byte(content(out, false))))
	return out
}

func (s *Server) sign(b []byte) string {
	sum := sha256.Sum256(b)
	sig, err := rsa.SignPKCS1v15(rand.Reader, s.key, crypto.SHA256, sum[:])
	if err != nil {
		panic(err) // only fails for a broken key, which Start made
	}
	return base64.StdEncoding.EncodeToString(sig)
}

// content is Alipay's string to sign.
func content(p url.Values, withSignType bool) string {
	var keys []string
	for k, v := range p {
		if k == "sign" || (!withSignType && k == "sign_type") || len(v) == 0 || v[0] == "" {
			continue
		}
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + p.Get(k)
	}
	return strings.Join(parts, "&")
}

func yuan(fen int64) string { return fmt.Sprintf("%d.%02d", fen/100, fen%100) }

func parseYuan(s string) (int64, bool) {
	w, f, _ := strings.Cut(s, ".")
	if len(f) > 2 {
		return 0, false
	}
	for len(f) < 2 {
		f += "0"
	}
	wi, err1 := strconv.ParseInt(w, 10, 64)
	fi, err2 := strconv.ParseInt(f, 10, 64)
	if err1 != nil || err2 != nil || wi < 0 || fi < 0 {
		return 0, false
	}
	return wi*100 + fi, true
}

// gateway serves gateway.do.
func (s *Server) gateway(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	p := r.Form
	method := p.Get("method")
	page := method == "alipay.trade.page.pay" || method == "alipay.trade.wap.pay"
	if code, sub, msg := s.checkCall(p); code != "" {
		if page {
			http.Error(w, "Alipay cashier error: "+sub+": "+msg, http.StatusBadRequest)
			return
		}
		s.answer(w, method, map[string]any{"code": code, "msg": "Invalid Arguments", "sub_code": sub, "sub_msg": msg}, false)
		return
	}
	var biz map[string]any
	if err := json.Unmarshal([]byte(p.Get("biz_content")), &biz); err != nil {
		s.answer(w, method, fail("40002", "isv.invalid-parameter", "biz_content is not JSON"), false)
		return
	}
	str := func(k string) string { v, _ := biz[k].(string); return v }
	switch method {
	case "alipay.trade.page.pay", "alipay.trade.wap.pay":
		s.cashier(w, p, str)
	case "alipay.trade.precreate":
		s.answer(w, method, s.precreate(p, str), true)
	case "alipay.trade.query":
		s.answer(w, method, s.query(str("out_trade_no")), true)
	case "alipay.trade.close":
		s.answer(w, method, s.close(str("out_trade_no")), true)
	case "alipay.trade.refund":
		s.answer(w, method, s.refund(str), true)
	case "alipay.data.dataservice.bill.downloadurl.query":
		s.answer(w, method, s.billURL(str("bill_type"), str("bill_date")), true)
	case "alipay.trade.fastpay.refund.query":
		s.answer(w, method, s.refundQuery(str("out_trade_no"), str("out_request_no")), true)
	default:
		s.answer(w, method, fail("40002", "isv.invalid-method", "unknown method "+method), false)
	}
}

func fail(code, sub, msg string) map[string]any {
	m := map[string]any{"code": code, "msg": "Business Failed", "sub_code": sub, "sub_msg": msg}
	if code == "40002" {
		m["msg"] = "Invalid Arguments"
	}
	return m
}

// checkCall checks the public parameters and the app's signature.
func (s *Server) checkCall(p url.Values) (code, sub, msg string) {
	if p.Get("app_id") != s.opts.AppID {
		return "40002", "isv.invalid-app-id", "unknown app_id"
	}
	if p.Get("sign_type") != "RSA2" {
		return "40002", "isv.invalid-signature-type", "sign_type must be RSA2"
	}
	if c := strings.ToLower(p.Get("charset")); c != "utf-8" {
		return "40002", "isv.invalid-charset", "charset must be utf-8"
	}
	ts, err := time.ParseInLocation(timeLayout, p.Get("timestamp"), chinaTime)
	if err != nil || time.Since(ts).Abs() > s.opts.ClockSkew {
		return "40002", "isv.invalid-timestamp", "timestamp is missing or off by more than the allowed skew"
	}
	if s.certs != nil && (p.Get("app_cert_sn") != s.certs.appSN || p.Get("alipay_root_cert_sn") != s.certs.rootSN) {
		return "40002", "isv.invalid-cert-sn", "app_cert_sn or alipay_root_cert_sn does not match the uploaded certificates"
	}
	sig, err := base64.StdEncoding.DecodeString(p.Get("sign"))
	sum := sha256.Sum256([]byte(content(p, true)))
	if err != nil || rsa.VerifyPKCS1v15(s.opts.AppPublicKey, crypto.SHA256, sum[:], sig) != nil {
		return "40002", "isv.invalid-signature", "signature does not verify with the app public key"
	}
	return "", "", ""
}

// answer writes {"<method>_response": node, "sign": ...}. The node is
// written with a space and non-ASCII text as Alipay's is, so a client that
// re-encodes before verifying fails.
func (s *Server) answer(w http.ResponseWriter, method string, node map[string]any, signed bool) {
	if _, ok := node["code"]; !ok {
		node["code"], node["msg"] = "10000", "Success"
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(node)
	raw := bytes.TrimRight(buf.Bytes(), "\n")
	raw = bytes.Replace(raw, []byte(`{"`), []byte(`{ "`), 1)
	name := strings.ReplaceAll(method, ".", "_") + "_response"
	if method == "" {
		name = "error_response"
	}
	out := []byte(`{"` + name + `":`)
	out = append(out, raw...)
	if signed && s.certs != nil {
		out = append(out, `,"alipay_cert_sn":"`+s.certs.alipaySN+`"`...)
	}
	if signed {
		out = append(out, `,"sign":"`+s.sign(raw)+`"`...)
	}
	out = append(out, '}')
	w.Header().Set("Content-Type", "text/html;charset=utf-8") // as Alipay sends it
	_, _ = w.Write(out)
}

// newTrade creates or finds a trade; it refuses a different amount for
// the same out_trade_no.
func (s *Server) newTrade(p url.Values, str func(string) string) (*trade, map[string]any) {
	no := str("out_trade_no")
	total, ok := parseYuan(str("total_amount"))
	if no == "" || !ok || total < 1 || str("subject") == "" {
		return nil, fail("40004", "ACQ.INVALID_PARAMETER", "out_trade_no, total_amount and subject are required")
	}
	notify := p.Get("notify_url")
	if t, ok := s.trades[no]; ok {
		switch {
		case t.status == "TRADE_CLOSED":
			return nil, fail("40004", "ACQ.TRADE_HAS_CLOSE", "交易已经关闭")
		case t.status != "WAIT_BUYER_PAY":
			return nil, fail("40004", "ACQ.TRADE_HAS_SUCCESS", "交易已被支付")
		case t.total != total:
			return nil, fail("40004", "ACQ.CONTEXT_INCONSISTENT", "交易信息被篡改")
		}
		return t, nil
	}
	s.seq++
	t := &trade{outTradeNo: no, total: total, subject: str("subject"), notifyURL: notify, status: "WAIT_BUYER_PAY",
		tradeNo: fmt.Sprintf("2026%016d", s.seq), created: time.Now(), refunds: map[string]refundRec{},
		qrCode: fmt.Sprintf("https://qr.alipay.com/bax%08d", s.seq)}
	s.trades[no] = t
	return t, nil
}

func (s *Server) cashier(w http.ResponseWriter, p url.Values, str func(string) string) {
	s.mu.Lock()
	t, errNode := s.newTrade(p, str)
	s.mu.Unlock()
	if errNode != nil {
		http.Error(w, "Alipay cashier error: "+errNode["sub_code"].(string), http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	fmt.Fprintf(w, "<!doctype html><title>支付宝收银台</title><p>%s</p><p>¥%s</p>", t.subject, yuan(t.total))
}

func (s *Server) precreate(p url.Values, str func(string) string) map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, errNode := s.newTrade(p, str)
	if errNode != nil {
		return errNode
	}
	return map[string]any{"out_trade_no": t.outTradeNo, "qr_code": t.qrCode}
}

func (s *Server) query(no string) map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.trades[no]
	if !ok {
		return fail("40004", "ACQ.TRADE_NOT_EXIST", "交易不存在")
	}
	m := map[string]any{"trade_no": t.tradeNo, "out_trade_no": t.outTradeNo, "trade_status": t.status,
		"total_amount": yuan(t.total), "buyer_logon_id": "san***@example.com"}
	if !t.paid.IsZero() {
		m["send_pay_date"] = t.paid.In(chinaTime).Format(timeLayout)
		m["buyer_pay_amount"] = yuan(t.total)
	}
	return m
}

func (s *Server) close(no string) map[string]any {
	s.mu.Lock()
	t, ok := s.trades[no]
	if !ok {
		s.mu.Unlock()
		return fail("40004", "ACQ.TRADE_NOT_EXIST", "交易不存在")
	}
	if t.status != "WAIT_BUYER_PAY" {
		s.mu.Unlock()
		return fail("40004", "ACQ.TRADE_STATUS_ERROR", "交易状态不合法")
	}
	t.status, t.closed = "TRADE_CLOSED", time.Now()
	n := s.tradeNotification(t)
	s.mu.Unlock()
	s.notify(t.notifyURL, n)
	return map[string]any{"trade_no": t.tradeNo, "out_trade_no": t.outTradeNo}
}

func (s *Server) refund(str func(string) string) map[string]any {
	s.mu.Lock()
	t, ok := s.trades[str("out_trade_no")]
	if !ok {
		s.mu.Unlock()
		return fail("40004", "ACQ.TRADE_NOT_EXIST", "交易不存在")
	}
	reqNo := str("out_request_no")
	amount, okAmt := parseYuan(str("refund_amount"))
	if !okAmt || amount < 1 || reqNo == "" {
		s.mu.Unlock()
		return fail("40004", "ACQ.INVALID_PARAMETER", "refund_amount and out_request_no are required")
	}
	base := map[string]any{"trade_no": t.tradeNo, "out_trade_no": t.outTradeNo, "buyer_logon_id": "san***@example.com"}
	if prev, done := t.refunds[reqNo]; done {
		// The same out_request_no again: the first refund, no money moves.
		s.mu.Unlock()
		if prev.amount != amount {
			return fail("40004", "ACQ.REFUND_AMT_NOT_EQUAL_TOTAL", "退款金额与原请求不一致")
		}
		base["fund_change"], base["refund_fee"] = "N", yuan(t.refunded)
		return base
	}
	if t.status != "TRADE_SUCCESS" && t.status != "TRADE_FINISHED" {
		s.mu.Unlock()
		return fail("40004", "ACQ.TRADE_STATUS_ERROR", "交易状态不合法")
	}
	if amount > t.total-t.refunded {
		s.mu.Unlock()
		return fail("40004", "ACQ.REFUND_AMT_NOT_EQUAL_TOTAL", "退款金额超限")
	}
	t.refunds[reqNo] = refundRec{amount: amount, at: time.Now()}
	t.refunded += amount
	if t.refunded == t.total {
		t.status, t.closed = "TRADE_CLOSED", time.Now()
	}
	n := s.tradeNotification(t)
	n.Set("gmt_refund", time.Now().In(chinaTime).Format(timeLayout)+".000")
	n.Set("refund_fee", yuan(t.refunded))
	n.Set("out_biz_no", reqNo)
	s.mu.Unlock()
	s.notify(t.notifyURL, n)
	base["fund_change"], base["refund_fee"] = "Y", yuan(t.refunded)
	base["gmt_refund_pay"] = time.Now().In(chinaTime).Format(timeLayout)
	return base
}

func (s *Server) refundQuery(no, reqNo string) map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.trades[no]
	if !ok {
		return fail("40004", "ACQ.TRADE_NOT_EXIST", "交易不存在")
	}
	rec, ok := t.refunds[reqNo]
	amount := rec.amount
	if !ok {
		// Alipay answers success with no refund fields for an unknown refund.
		return map[string]any{"out_trade_no": no}
	}
	return map[string]any{"trade_no": t.tradeNo, "out_trade_no": no, "out_request_no": reqNo,
		"total_amount": yuan(t.total), "refund_amount": yuan(amount), "refund_status": "REFUND_SUCCESS"}
}

// tradeNotification builds the unsigned parameters of a trade notification;
// callers hold s.mu.
func (s *Server) tradeNotification(t *trade) url.Values {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	n := url.Values{}
	n.Set("notify_id", "2026"+fmt.Sprintf("%x", b))
	n.Set("notify_type", "trade_status_sync")
	n.Set("charset", "utf-8")
	n.Set("version", "1.0")
	n.Set("app_id", s.opts.AppID)
	n.Set("auth_app_id", s.opts.AppID)
	n.Set("trade_no", t.tradeNo)
	n.Set("out_trade_no", t.outTradeNo)
	n.Set("trade_status", t.status)
	n.Set("total_amount", yuan(t.total))
	n.Set("subject", t.subject)
	n.Set("gmt_create", t.created.In(chinaTime).Format(timeLayout))
	if !t.paid.IsZero() {
		n.Set("gmt_payment", t.paid.In(chinaTime).Format(timeLayout))
		n.Set("receipt_amount", yuan(t.total))
		n.Set("buyer_pay_amount", yuan(t.total))
	}
	if !t.closed.IsZero() {
		n.Set("gmt_close", t.closed.In(chinaTime).Format(timeLayout))
	}
	return n
}

// notify delivers a notification in the background until notify_url
// answers "success" or the schedule is exhausted. Every attempt keeps the
// notify_id and is signed anew with its own notify_time.
func (s *Server) notify(to string, n url.Values) {
	if to == "" {
		return
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for attempt := 1; ; attempt++ {
			ok := s.deliver(to, n, attempt)
			if s.opts.Duplicate {
				ok = s.deliver(to, n, attempt) || ok
			}
			if ok || attempt > len(s.opts.Schedule) {
				return
			}
			select {
			case <-time.After(s.opts.Schedule[attempt-1]):
			case <-s.closing:
				return
			}
		}
	}()
}

func (s *Server) deliver(to string, n url.Values, attempt int) bool {
	p := url.Values{}
	for k, v := range n {
		p[k] = v
	}
	p.Set("notify_time", time.Now().In(chinaTime).Format(timeLayout))
	signed := s.Sign(p)
	answer := ""
	res, err := s.client.Post(to, "application/x-www-form-urlencoded; charset=utf-8", strings.NewReader(signed.Encode()))
	if err == nil {
		b, _ := io.ReadAll(io.LimitReader(res.Body, 1024))
		res.Body.Close()
		answer = string(b)
	}
	s.mu.Lock()
	s.notes = append(s.notes, Notification{OutTradeNo: n.Get("out_trade_no"), NotifyID: n.Get("notify_id"),
		TradeStatus: n.Get("trade_status"), Attempt: attempt, Answer: answer, At: time.Now()})
	s.mu.Unlock()
	return answer == "success"
}
