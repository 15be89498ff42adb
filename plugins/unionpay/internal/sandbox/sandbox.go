// Package sandbox is a local imitation of UnionPay's online gateway (全渠道
// 5.1.0) for tests, on 127.0.0.1:
//
//	POST /gateway/api/frontTransReq.do  the buyer's browser posts the signed order: UnionPay's cashier page
//	POST /sandbox/pay                   the cashier's "pay" button
//	POST /gateway/api/backTransReq.do   refund (txnType 04) and void (消费撤销, txnType 31)
//	POST /gateway/api/queryTrans.do     transaction query
//	POST /                              file transfer (txnType 76): the day's reconciliation file, see files.go
//
// It checks the merchant's signMethod 01 signatures with the registered
// merchant certificate (certId = its serial), answers "k=v&..." signed by
// UnionPay's signing certificate of its test CA (root → middle → signing
// certificate, carried as signPubKeyCert), and posts signed back
// notifications to backUrl, sending them again until backUrl answers HTTP
// 200 on [Schedule]. Duplicates, held and reordered notifications and
// declined cards are test switches.
package sandbox

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"io"
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

// Schedule is the delay before each repeated back notification when
// backUrl does not answer HTTP 200: UnionPay's FAQ describes up to five
// sends at growing intervals (1, 2, 4, 8 and 16 minutes are used here).
var Schedule = []time.Duration{time.Minute, 2 * time.Minute, 4 * time.Minute, 8 * time.Minute, 16 * time.Minute}

var chinaTime = time.FixedZone("CST", 8*3600)

const layout = "20060102150405"

// Options configure a sandbox.
type Options struct {
	// MerID is the only merchant served.
	MerID string
	// MerchantCert is the merchant's registered signing certificate:
	// requests must carry its serial as certId and verify with its key.
	MerchantCert *x509.Certificate
	// SignCN is the CN of UnionPay's signing certificate (default
	// ProductionCN).
	SignCN string
	// CA replaces the generated certificate authority (tests use it for
	// wrong roots, expired or misnamed certificates).
	CA *CA
	// Schedule replaces the retry delays (default [Schedule]).
	Schedule []time.Duration
	// Duplicate sends every notification attempt twice.
	Duplicate bool
}

// Server is a running sandbox.
type Server struct {
	opts    Options
	ca      *CA
	srv     *http.Server
	ln      net.Listener
	client  *http.Client
	mu      sync.Mutex
	txns    map[string]*txn // by orderId
	seq     int
	notes   []Notification
	held    []heldNote
	holding bool
	wg      sync.WaitGroup
	closing chan struct{}
	once    sync.Once
}

type txn struct {
	orderID, txnTime, txnType, backURL, reqReserved, queryID, origQryID, settleDate string
	amount, refunded                                                                int64
	status                                                                          string // "open" (on the cashier), "00" paid, or a failure code
	payTimeout                                                                      time.Time
	traceTime                                                                       time.Time
	voided                                                                          bool
}

type heldNote struct {
	to string
	p  url.Values
}

// Notification is one delivery attempt.
type Notification struct {
	OrderID, TxnType, RespCode string
	Attempt                    int
	// Status is backUrl's HTTP status (0 on a transport error).
	Status int
	At     time.Time
}

// Start generates the CA (unless given) and listens on 127.0.0.1.
func Start(opts Options) (*Server, error) {
	if opts.MerID == "" || opts.MerchantCert == nil {
		return nil, errors.New("sandbox: MerID and MerchantCert are required")
	}
	if opts.Schedule == nil {
		opts.Schedule = Schedule
	}
	if opts.SignCN == "" {
		opts.SignCN = ProductionCN
	}
	ca := opts.CA
	if ca == nil {
		var err error
		if ca, err = NewCA(opts.SignCN); err != nil {
			return nil, fmt.Errorf("sandbox: CA: %w", err)
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("sandbox: listen: %w", err)
	}
	s := &Server{opts: opts, ca: ca, ln: ln, txns: map[string]*txn{}, closing: make(chan struct{}), client: &http.Client{Timeout: 5 * time.Second}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /gateway/api/frontTransReq.do", s.front)
	mux.HandleFunc("POST /sandbox/pay", s.payButton)
	mux.HandleFunc("POST /gateway/api/backTransReq.do", s.back)
	mux.HandleFunc("POST /gateway/api/queryTrans.do", s.query)
	mux.HandleFunc("POST /{$}", s.fileTransfer)
	s.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = s.srv.Serve(ln) }()
	return s, nil
}

// URL is the base URL for the plugin's gateway_url setting.
func (s *Server) URL() string { return "http://" + s.ln.Addr().String() }

// RootPEM and MiddlePEM are the trust anchors for the plugin's settings.
func (s *Server) RootPEM() string   { return PEM(s.ca.Root) }
func (s *Server) MiddlePEM() string { return PEM(s.ca.Middle) }

// Close stops the server and pending retries.
func (s *Server) Close() {
	s.once.Do(func() { close(s.closing) })
	_ = s.srv.Close()
	s.wg.Wait()
}

// Notifications returns the delivery attempts made so far.
func (s *Server) Notifications() []Notification {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Notification(nil), s.notes...)
}

// Hold keeps notifications back until Release.
func (s *Server) Hold() {
	s.mu.Lock()
	s.holding = true
	s.mu.Unlock()
}

// Release sends the held notifications, newest first when reverse is set
// (out of order).
func (s *Server) Release(reverse bool) {
	s.mu.Lock()
	held := s.held
	s.held, s.holding = nil, false
	s.mu.Unlock()
	if reverse {
		for i, j := 0, len(held)-1; i < j; i, j = i+1, j-1 {
			held[i], held[j] = held[j], held[i]
		}
	}
	// The first attempts go out one after the other, in the chosen
	// order; retries follow in the background.
	for _, h := range held {
		if !s.deliverOnce(h.to, h.p, 1) {
			s.retry(h.to, h.p, 2)
		}
	}
}

// Errors of Pay.
var (
	ErrNoOrder   = errors.New("sandbox: no such order (the buyer never reached the cashier)")
	ErrNotOpen   = errors.New("sandbox: the order is not waiting for payment")
	ErrPayTimout = errors.New("sandbox: payTimeout has passed")
)

// Pay plays the buyer paying an order on the cashier; respCode "00" pays,
// another code declines (e.g. "64" insufficient funds). It notifies
// backUrl.
func (s *Server) Pay(orderID, respCode string) error {
	s.mu.Lock()
	t, ok := s.txns[orderID]
	switch {
	case !ok || t.txnType != "01":
		s.mu.Unlock()
		return ErrNoOrder
	case t.status != "open":
		s.mu.Unlock()
		return ErrNotOpen
	case time.Now().After(t.payTimeout):
		s.mu.Unlock()
		return ErrPayTimout
	}
	t.status, t.traceTime = respCode, time.Now()
	t.settleDate = time.Now().In(chinaTime).Add(time.Hour).Format("0102")
	n, to := s.notification(t), t.backURL
	s.mu.Unlock()
	s.notify(to, n)
	return nil
}

// ByReserved returns the orderId of the consumption whose reqReserved is
// reserved (the plugin sends Kassa's attempt id there), or "".
func (s *Server) ByReserved(reserved string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, t := range s.txns {
		if t.txnType == "01" && t.reqReserved == reserved {
			return id
		}
	}
	return ""
}

// Renotify sends an order's notification again, as UnionPay does when it
// doubts a delivery.
func (s *Server) Renotify(orderID string) error {
	s.mu.Lock()
	t, ok := s.txns[orderID]
	if !ok || t.status == "open" {
		s.mu.Unlock()
		return ErrNoOrder
	}
	n, to := s.notification(t), t.backURL
	s.mu.Unlock()
	s.notify(to, n)
	return nil
}

// Sign signs fields as UnionPay does and returns them with signPubKeyCert,
// signMethod and signature set.
func (s *Server) Sign(p url.Values) url.Values {
	out := url.Values{}
	for k, v := range p {
		out[k] = append([]string(nil), v...)
	}
	out.Set("signMethod", "01")
	out.Set("signPubKeyCert", PEM(s.ca.Sign))
	out.Del("signature")
	out.Set("signature", SignWith(s.ca.SignKey, out))
	return out
}

// SignatureString is UnionPay's string to sign: every field but
// signature as "name=value", in name order, joined with "&".
func SignatureString(p url.Values) string {
	pairs := make([]string, 0, len(p))
	for k := range p {
		if k == "signature" {
			continue
		}
		pairs = append(pairs, k+"="+p.Get(k))
	}
	// Names are ASCII letters, so sorting the pairs sorts the names ("="
	// sorts below every letter, so "txnTime=" precedes "txnTimeX=").
	sort.Strings(pairs)
	return strings.Join(pairs, "&")
}

// SignWith is signMethod 01: SHA256withRSA over the hex SHA-256 of the
// string to sign.
func SignWith(key *rsa.PrivateKey, p url.Values) string {
	first := sha256.Sum256([]byte(SignatureString(p)))
	second := sha256.Sum256([]byte(hex.EncodeToString(first[:])))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, second[:])
	if err != nil {
		panic(err) // only for a broken key, which tests make
	}
	return base64.StdEncoding.EncodeToString(sig)
}

// verify checks a merchant request; it returns a refusal code and message.
func (s *Server) verify(p url.Values) (string, string) {
	if p.Get("version") != "5.1.0" || p.Get("signMethod") != "01" || p.Get("encoding") != "UTF-8" {
		return "30", "报文格式错误: version 5.1.0, signMethod 01 and encoding UTF-8 are required"
	}
	if p.Get("certId") != s.opts.MerchantCert.SerialNumber.String() {
		return "11", "验证签名失败: certId " + p.Get("certId") + " is not the registered certificate"
	}
	sig, err := base64.StdEncoding.DecodeString(p.Get("signature"))
	first := sha256.Sum256([]byte(SignatureString(p)))
	second := sha256.Sum256([]byte(hex.EncodeToString(first[:])))
	if err != nil || rsa.VerifyPKCS1v15(s.opts.MerchantCert.PublicKey.(*rsa.PublicKey), crypto.SHA256, second[:], sig) != nil {
		return "11", "验证签名失败"
	}
	if p.Get("merId") != s.opts.MerID {
		return "31", "商户状态不正确: unknown merId"
	}
	if t, err := time.ParseInLocation(layout, p.Get("txnTime"), chinaTime); err != nil {
		return "30", "报文格式错误: txnTime"
	} else if t.After(time.Now().Add(15 * time.Minute)) {
		return "30", "交易时间超出范围: txnTime is in the future (clock skew)"
	}
	if p.Get("txnType") != "76" && !orderIDPattern.MatchString(p.Get("orderId")) { // a file request names no order
		return "30", "报文格式错误: orderId must be 8-40 letters and digits"
	}
	return "", ""
}

var orderIDPattern = regexp.MustCompile(`^[0-9A-Za-z]{8,40}$`)

var cashier = template.Must(template.New("c").Parse(`<!doctype html><html><head><meta charset="utf-8"><title>银联在线支付 sandbox</title></head><body>
<h1>UnionPay sandbox cashier</h1><p>Order {{.OrderID}}: ¥{{.Yuan}}</p>
<form method="post" action="/sandbox/pay"><input type="hidden" name="orderId" value="{{.OrderID}}"><button>Pay</button></form></body></html>`))

func (s *Server) front(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	p := r.PostForm
	if code, msg := s.verify(p); code != "" {
		http.Error(w, code+" "+msg, http.StatusBadRequest)
		return
	}
	amount, err := strconv.ParseInt(p.Get("txnAmt"), 10, 64)
	timeout, terr := time.ParseInLocation(layout, p.Get("payTimeout"), chinaTime)
	if p.Get("txnType") != "01" || p.Get("txnSubType") != "01" || p.Get("bizType") != "000201" || p.Get("currencyCode") != "156" ||
		err != nil || amount < 1 || terr != nil || p.Get("backUrl") == "" || p.Get("frontUrl") == "" ||
		(p.Get("channelType") != "07" && p.Get("channelType") != "08") {
		http.Error(w, "30 报文格式错误", http.StatusBadRequest)
		return
	}
	if time.Now().After(timeout) {
		http.Error(w, "订单已超时 (payTimeout has passed)", http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	t, ok := s.txns[p.Get("orderId")]
	switch {
	case !ok:
		t = &txn{orderID: p.Get("orderId"), txnTime: p.Get("txnTime"), txnType: "01", backURL: p.Get("backUrl"), reqReserved: p.Get("reqReserved"),
			amount: amount, status: "open", payTimeout: timeout}
		s.txns[t.orderID] = t
	case t.txnTime != p.Get("txnTime") || t.amount != amount:
		s.mu.Unlock()
		http.Error(w, "12 重复交易", http.StatusBadRequest)
		return
	case t.status != "open":
		s.mu.Unlock()
		http.Error(w, "12 重复交易: the order is already "+t.status, http.StatusBadRequest)
		return
	default:
		t.payTimeout = timeout
	}
	s.mu.Unlock()
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = cashier.Execute(w, map[string]string{"OrderID": t.orderID, "Yuan": fmt.Sprintf("%d.%02d", amount/100, amount%100)})
}

func (s *Server) payButton(w http.ResponseWriter, r *http.Request) {
	if err := s.Pay(r.FormValue("orderId"), "00"); err != nil {
		http.Error(w, err.Error(), http.StatusConflict)
		return
	}
	_, _ = io.WriteString(w, "paid")
}

// answer writes a synchronous answer: "k=v&..." as UnionPay writes it,
// not URL-encoded, signed unless it refuses the request itself.
func (s *Server) answer(w http.ResponseWriter, req url.Values, fields map[string]string, signed bool) {
	p := url.Values{}
	for _, k := range []string{"version", "encoding", "txnType", "txnSubType", "bizType", "accessType", "merId", "orderId", "txnTime"} {
		if v := req.Get(k); v != "" {
			p.Set(k, v)
		}
	}
	for k, v := range fields {
		p.Set(k, v)
	}
	if signed {
		p = s.Sign(p)
	}
	keys := make([]string, 0, len(p))
	for k := range p {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + p.Get(k)
	}
	w.Header().Set("Content-Type", "text/plain;charset=UTF-8")
	_, _ = io.WriteString(w, strings.Join(parts, "&"))
}

func (s *Server) query(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	p := r.PostForm
	if code, msg := s.verify(p); code != "" {
		s.answer(w, p, map[string]string{"respCode": code, "respMsg": msg}, false)
		return
	}
	s.mu.Lock()
	t, ok := s.txns[p.Get("orderId")]
	if !ok || t.txnTime != p.Get("txnTime") || t.status == "open" {
		s.mu.Unlock()
		s.answer(w, p, map[string]string{"respCode": "34", "respMsg": "查无此交易"}, true)
		return
	}
	f := map[string]string{"respCode": "00", "respMsg": "成功[0000000]", "origRespCode": t.status, "origRespMsg": respMsg(t.status),
		"queryId": t.queryID, "txnAmt": strconv.FormatInt(t.amount, 10), "currencyCode": "156", "settleDate": t.settleDate,
		"traceTime": t.traceTime.In(chinaTime).Format("0102150405"), "txnType": t.txnType}
	if t.origQryID != "" {
		f["origQryId"] = t.origQryID
	}
	s.mu.Unlock()
	s.answer(w, p, f, true)
}

func respMsg(code string) string {
	switch code {
	case "00":
		return "成功[0000000]"
	case "64":
		return "卡上的余额不足"
	case "65":
		return "输入的密码、有效期或CVN2有误"
	}
	return "交易失败"
}

func (s *Server) back(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	p := r.PostForm
	if code, msg := s.verify(p); code != "" {
		s.answer(w, p, map[string]string{"respCode": code, "respMsg": msg}, false)
		return
	}
	refuse := func(code, msg string) { s.answer(w, p, map[string]string{"respCode": code, "respMsg": msg}, true) }
	txnType := p.Get("txnType")
	amount, err := strconv.ParseInt(p.Get("txnAmt"), 10, 64)
	if (txnType != "04" && txnType != "31") || p.Get("txnSubType") != "00" || p.Get("bizType") != "000201" || err != nil || amount < 1 ||
		p.Get("origQryId") == "" || p.Get("backUrl") == "" {
		refuse("30", "报文格式错误")
		return
	}
	s.mu.Lock()
	if _, ok := s.txns[p.Get("orderId")]; ok {
		s.mu.Unlock()
		refuse("12", "重复交易")
		return
	}
	var orig *txn
	for _, t := range s.txns {
		if t.txnType == "01" && t.queryID != "" && t.queryID == p.Get("origQryId") {
			orig = t
		}
	}
	now := time.Now()
	switch {
	case orig == nil || orig.status != "00":
		s.mu.Unlock()
		refuse("35", "原交易不存在或状态不正确")
		return
	case orig.voided:
		s.mu.Unlock()
		refuse("35", "原交易已撤销")
		return
	case txnType == "31" && (amount != orig.amount || orig.refunded != 0 || orig.settleDate != now.In(chinaTime).Add(time.Hour).Format("0102")):
		s.mu.Unlock()
		refuse("35", "原交易状态不正确: a void must be of the whole amount on the day of payment")
		return
	case orig.refunded+amount > orig.amount:
		s.mu.Unlock()
		refuse("33", "交易金额超限: refunds would exceed the payment")
		return
	}
	s.seq++
	t := &txn{orderID: p.Get("orderId"), txnTime: p.Get("txnTime"), txnType: txnType, backURL: p.Get("backUrl"), reqReserved: p.Get("reqReserved"),
		amount: amount, status: "00", origQryID: orig.queryID, queryID: fmt.Sprintf("%s%07d", now.In(chinaTime).Format(layout), s.seq%5000000+5000000),
		traceTime: now, settleDate: now.In(chinaTime).Add(time.Hour).Format("0102")}
	s.txns[t.orderID] = t
	orig.refunded += amount
	if txnType == "31" {
		orig.voided = true
	}
	n, to := s.notification(t), t.backURL
	s.mu.Unlock()
	s.answer(w, p, map[string]string{"respCode": "00", "respMsg": "成功[0000000]", "queryId": t.queryID, "origQryId": t.origQryID, "txnAmt": p.Get("txnAmt")}, true)
	s.notify(to, n)
}

// notification builds a transaction's back notification (unsigned);
// callers hold s.mu.
func (s *Server) notification(t *txn) url.Values {
	if t.queryID == "" {
		s.seq++
		t.queryID = fmt.Sprintf("%s%07d", time.Now().In(chinaTime).Format(layout), s.seq%5000000)
	}
	n := url.Values{}
	n.Set("version", "5.1.0")
	n.Set("encoding", "UTF-8")
	n.Set("bizType", "000201")
	n.Set("txnType", t.txnType)
	if t.txnType == "01" {
		n.Set("txnSubType", "01")
	} else {
		n.Set("txnSubType", "00")
	}
	n.Set("accessType", "0")
	n.Set("merId", s.opts.MerID)
	n.Set("orderId", t.orderID)
	n.Set("txnTime", t.txnTime)
	n.Set("txnAmt", strconv.FormatInt(t.amount, 10))
	n.Set("currencyCode", "156")
	n.Set("queryId", t.queryID)
	n.Set("traceNo", t.queryID[len(t.queryID)-6:])
	n.Set("traceTime", t.traceTime.In(chinaTime).Format("0102150405"))
	n.Set("settleAmt", strconv.FormatInt(t.amount, 10))
	n.Set("settleCurrencyCode", "156")
	n.Set("settleDate", t.settleDate)
	n.Set("respCode", t.status)
	n.Set("respMsg", respMsg(t.status))
	if t.reqReserved != "" {
		n.Set("reqReserved", t.reqReserved)
	}
	if t.origQryID != "" {
		n.Set("origQryId", t.origQryID)
	}
	if t.txnType == "01" {
		n.Set("accNo", "6216********0018")
		n.Set("payCardType", "01")
		n.Set("payType", "0001")
	}
	return n
}

// notify delivers a notification in the background until backUrl answers
// 200 or the schedule is exhausted. UnionPay sends the same signed
// message every time.
func (s *Server) notify(to string, n url.Values) {
	if to == "" {
		return
	}
	signed := s.Sign(n)
	s.mu.Lock()
	if s.holding {
		s.held = append(s.held, heldNote{to, signed})
		s.mu.Unlock()
		return
	}
	s.mu.Unlock()
	s.send(to, signed)
}

func (s *Server) send(to string, signed url.Values) { s.retry(to, signed, 1) }

// deliverOnce makes one attempt (twice with Options.Duplicate).
func (s *Server) deliverOnce(to string, signed url.Values, attempt int) bool {
	ok := s.deliver(to, signed, attempt)
	if s.opts.Duplicate {
		ok = s.deliver(to, signed, attempt) || ok
	}
	return ok
}

// retry makes attempts from the given one on, in the background, waiting
// the schedule's delay before each but the first.
func (s *Server) retry(to string, signed url.Values, from int) {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for attempt := from; ; attempt++ {
			if attempt > len(s.opts.Schedule)+1 {
				return
			}
			if attempt > 1 {
				select {
				case <-time.After(s.opts.Schedule[attempt-2]):
				case <-s.closing:
					return
				}
			}
			if s.deliverOnce(to, signed, attempt) || attempt > len(s.opts.Schedule) {
				return
			}
		}
	}()
}

func (s *Server) deliver(to string, p url.Values, attempt int) bool {
	status := 0
	res, err := s.client.Post(to, "application/x-www-form-urlencoded; charset=UTF-8", strings.NewReader(p.Encode()))
	if err == nil {
		_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 1024))
		res.Body.Close()
		status = res.StatusCode
	}
	s.mu.Lock()
	s.notes = append(s.notes, Notification{OrderID: p.Get("orderId"), TxnType: p.Get("txnType"), RespCode: p.Get("respCode"), Attempt: attempt, Status: status, At: time.Now()})
	s.mu.Unlock()
	return status == http.StatusOK
}
