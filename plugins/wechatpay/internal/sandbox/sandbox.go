// Package sandbox is a WeChat Pay API v3 look-alike for tests: the payment,
// close, query and refund endpoints on 127.0.0.1, merchant request
// signatures checked against the merchant certificate's public key,
// responses signed with a platform key, and encrypted, signed notifications
// sent to the order's notify_url and retried on WeChat's schedule until
// acknowledged. Tests play the buyer with Pay.
package sandbox

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/kassahq/kassa/plugins/wechatpay/internal/wxsign"
)

// RetrySchedule is WeChat Pay's documented notification retry schedule:
// the waits after the first delivery until one is acknowledged with 200
// or 204 (15s/15s/30s/3m/10m/20m/30m/30m/30m/60m/3h/3h/3h/6h/6h).
var RetrySchedule = []time.Duration{
	15 * time.Second, 15 * time.Second, 30 * time.Second, 3 * time.Minute, 10 * time.Minute,
	20 * time.Minute, 30 * time.Minute, 30 * time.Minute, 30 * time.Minute, 60 * time.Minute,
	3 * time.Hour, 3 * time.Hour, 3 * time.Hour, 6 * time.Hour, 6 * time.Hour,
}

// Options configure a Server.
type Options struct {
	MchID string
	AppID string
	// MerchantKey is the public key of the merchant's API certificate, and
	// MerchantSerial its serial number: requests must be signed with it.
	MerchantKey    *rsa.PublicKey
	MerchantSerial string
	// PlatformKey signs responses and notifications; PlatformKeyID is sent
	// as Wechatpay-Serial ("PUB_KEY_ID_...").
	PlatformKey   *rsa.PrivateKey
	PlatformKeyID string
	// APIv3Key encrypts notification resources (32 bytes).
	APIv3Key []byte
	// RetryScale divides RetrySchedule so tests need not wait hours; 0
	// means 1 (the real schedule).
	RetryScale float64
	// RefundDelay is how long a refund stays PROCESSING.
	RefundDelay time.Duration
}

// Order is the sandbox's view of a payment order.
type Order struct {
	OutTradeNo    string
	TransactionID string
	TradeType     string // NATIVE, MWEB (H5), JSAPI
	State         string // NOTPAY, SUCCESS, CLOSED, REFUND
	Total         int64
	Currency      string
	Description   string
	Attach        string
	NotifyURL     string
	OpenID        string
	PaidAt        time.Time
	Refunded      int64
	NotifyID      string // id of the payment notification, kept for redeliveries
	answer        []byte
}

// Refund is the sandbox's view of a refund.
type Refund struct {
	OutRefundNo string
	RefundID    string
	OutTradeNo  string
	Amount      int64
	Status      string // PROCESSING, SUCCESS
	CreatedAt   time.Time
	SucceededAt time.Time
	NotifyURL   string
}

// Attempt is one notification delivery the sandbox made.
type Attempt struct {
	ID     string // the notification id, the same on every retry
	Event  string // TRANSACTION.SUCCESS, REFUND.SUCCESS
	Status int    // HTTP status answered, 0 when unreachable
	Body   []byte // what the receiver answered
	At     time.Time
}

// Server is a running sandbox.
type Server struct {
	opts Options
	srv  *httptest.Server

	mu       sync.Mutex
	orders   map[string]*Order
	refunds  map[string]*Refund
	attempts []Attempt
	skew     time.Duration
	seq      int
	closed   bool
	wg       sync.WaitGroup
	stop     chan struct{}
	client   *http.Client
}

// New starts a sandbox on 127.0.0.1. Close it when done.
func New(opts Options) *Server {
	if opts.RetryScale <= 0 {
		opts.RetryScale = 1
	}
	s := &Server{opts: opts, orders: map[string]*Order{}, refunds: map[string]*Refund{}, stop: make(chan struct{}),
		client: &http.Client{Timeout: 5 * time.Second}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v3/pay/transactions/{kind}", s.create)
	mux.HandleFunc("GET /v3/pay/transactions/out-trade-no/{no}", s.query)
	mux.HandleFunc("POST /v3/pay/transactions/out-trade-no/{no}/close", s.closeOrder)
	mux.HandleFunc("POST /v3/refund/domestic/refunds", s.refund)
	mux.HandleFunc("GET /v3/refund/domestic/refunds/{no}", s.queryRefund)
	mux.HandleFunc("GET /v3/bill/tradebill", s.tradeBill)
	mux.HandleFunc("GET /v3/billdownload/file", s.download)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(fmt.Sprintf("sandbox: listen: %v", err))
	}
	s.srv = &httptest.Server{Listener: l, Config: &http.Server{Handler: s.authenticate(mux)}}
	s.srv.Start()
	return s
}

// URL is the base URL to configure as the API's base_url.
func (s *Server) URL() string { return s.srv.URL }

// Close stops the server and pending notification retries.
func (s *Server) Close() {
	s.mu.Lock()
	if !s.closed {
		s.closed = true
		close(s.stop)
	}
	s.mu.Unlock()
	s.srv.Close()
	s.wg.Wait()
}

// SetClockSkew shifts the sandbox's clock (to test clock-skew detection).
func (s *Server) SetClockSkew(d time.Duration) {
	s.mu.Lock()
	s.skew = d
	s.mu.Unlock()
}

func (s *Server) now() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return time.Now().Add(s.skew)
}

// Order returns a copy of an order.
func (s *Server) Order(outTradeNo string) (Order, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.orders[outTradeNo]
	if !ok {
		return Order{}, false
	}
	return *o, true
}

// Attempts returns the notification deliveries made so far.
func (s *Server) Attempts() []Attempt {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Attempt(nil), s.attempts...)
}

// ByAttach returns the out_trade_no of the order whose attach is attach
// (the plugin sends Kassa's attempt id there), or "".
func (s *Server) ByAttach(attach string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	for no, o := range s.orders {
		if o.Attach == attach {
			return no
		}
	}
	return ""
}

// Errors of Pay.
var (
	ErrNoOrder     = errors.New("sandbox: no such order")
	ErrOrderClosed = errors.New("sandbox: the order is closed")
	ErrOrderPaid   = errors.New("sandbox: the order is already paid")
)

// Pay plays the buyer scanning the QR code (or confirming in WeChat) and
// paying: the order becomes SUCCESS and TRANSACTION.SUCCESS is notified. A
// closed order cannot be paid any more (the close won the race).
func (s *Server) Pay(outTradeNo string) error {
	s.mu.Lock()
	o, ok := s.orders[outTradeNo]
	switch {
	case !ok:
		s.mu.Unlock()
		return ErrNoOrder
	case o.State == "CLOSED":
		s.mu.Unlock()
		return ErrOrderClosed
	case o.State != "NOTPAY":
		s.mu.Unlock()
		return ErrOrderPaid
	}
	o.State = "SUCCESS"
	o.TransactionID = s.newID("4200")
	o.PaidAt = time.Now().Add(s.skew)
	o.NotifyID = s.newUUID()
	id := o.NotifyID
	res := s.transaction(o)
	url := o.NotifyURL
	s.mu.Unlock()
	s.notify(url, id, "TRANSACTION.SUCCESS", "支付成功", "transaction", res)
	return nil
}

// Renotify sends the order's payment notification again with the same
// notification id, as WeChat Pay does when it doubts the first ack.
func (s *Server) Renotify(outTradeNo string) error {
	s.mu.Lock()
	o, ok := s.orders[outTradeNo]
	if !ok || o.State == "NOTPAY" || o.State == "CLOSED" {
		s.mu.Unlock()
		return ErrNoOrder
	}
	res, id, url := s.transaction(o), o.NotifyID, o.NotifyURL
	s.mu.Unlock()
	s.notify(url, id, "TRANSACTION.SUCCESS", "支付成功", "transaction", res)
	return nil
}

// newID returns a numeric id with prefix; callers hold s.mu.
func (s *Server) newID(prefix string) string {
	s.seq++
	return fmt.Sprintf("%s%s%010d", prefix, time.Now().Format("20060102"), s.seq)
}

func (s *Server) newUUID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// wire types, as WeChat Pay v3 sends them.
type amountJSON struct {
	Total         int64  `json:"total"`
	PayerTotal    *int64 `json:"payer_total,omitempty"`
	Currency      string `json:"currency,omitempty"`
	PayerCurrency string `json:"payer_currency,omitempty"`
}

type transactionJSON struct {
	AppID          string            `json:"appid"`
	MchID          string            `json:"mchid"`
	OutTradeNo     string            `json:"out_trade_no"`
	TransactionID  string            `json:"transaction_id,omitempty"`
	TradeType      string            `json:"trade_type,omitempty"`
	TradeState     string            `json:"trade_state"`
	TradeStateDesc string            `json:"trade_state_desc"`
	BankType       string            `json:"bank_type,omitempty"`
	Attach         string            `json:"attach,omitempty"`
	SuccessTime    string            `json:"success_time,omitempty"`
	Payer          map[string]string `json:"payer,omitempty"`
	Amount         amountJSON        `json:"amount"`
}

var stateDesc = map[string]string{"NOTPAY": "未支付", "SUCCESS": "支付成功", "CLOSED": "已关闭", "REFUND": "转入退款"}

var cst = time.FixedZone("CST", 8*3600)

// transaction renders an order; callers hold s.mu.
func (s *Server) transaction(o *Order) transactionJSON {
	t := transactionJSON{AppID: s.opts.AppID, MchID: s.opts.MchID, OutTradeNo: o.OutTradeNo, TradeState: o.State,
		TradeStateDesc: stateDesc[o.State], Attach: o.Attach, Amount: amountJSON{Total: o.Total, Currency: o.Currency}}
	if o.State == "SUCCESS" || o.State == "REFUND" {
		t.TransactionID, t.TradeType, t.BankType = o.TransactionID, o.TradeType, "OTHERS"
		t.SuccessTime = o.PaidAt.In(cst).Format(time.RFC3339)
		pt := o.Total
		t.Amount.PayerTotal, t.Amount.PayerCurrency = &pt, o.Currency
		if o.OpenID != "" {
			t.Payer = map[string]string{"openid": o.OpenID}
		}
	}
	return t
}

// authenticate checks the merchant's signature on every request, as
// WeChat Pay does before anything else.
func (s *Server) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil {
			s.fail(w, http.StatusBadRequest, "PARAM_ERROR", "请求体读取失败")
			return
		}
		if msg := s.checkSignature(r, body); msg != "" {
			s.fail(w, http.StatusUnauthorized, "SIGN_ERROR", msg)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		next.ServeHTTP(w, r)
	})
}

func (s *Server) checkSignature(r *http.Request, body []byte) string {
	auth, err := wxsign.ParseAuthorization(r.Header.Get("Authorization"))
	if err != nil {
		return "签名错误: " + err.Error()
	}
	if auth["mchid"] != s.opts.MchID {
		return "签名错误: mchid 与证书不匹配"
	}
	if auth["serial_no"] != s.opts.MerchantSerial {
		return "签名错误: 商户证书序列号 serial_no 不正确"
	}
	ts, err := strconv.ParseInt(auth["timestamp"], 10, 64)
	if err != nil {
		return "签名错误: timestamp 格式错误"
	}
	if d := s.now().Sub(time.Unix(ts, 0)); d > wxsign.MaxSkew || d < -wxsign.MaxSkew {
		return "签名错误: 请求时间戳与微信支付服务器时间相差超过5分钟"
	}
	msg := wxsign.RequestMessage(r.Method, r.URL.RequestURI(), ts, auth["nonce_str"], body)
	if wxsign.Verify(s.opts.MerchantKey, msg, auth["signature"]) != nil {
		return "签名错误: 请检查签名参数和方法是否都符合签名算法要求"
	}
	return ""
}

// reply writes a signed JSON (or empty) answer.
func (s *Server) reply(w http.ResponseWriter, status int, v any) {
	var body []byte
	if v != nil {
		body, _ = json.Marshal(v)
		w.Header().Set("Content-Type", "application/json")
	}
	if err := wxsign.SignHeaders(w.Header(), s.opts.PlatformKey, s.opts.PlatformKeyID, s.now(), body); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Request-ID", s.newUUID())
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

func (s *Server) fail(w http.ResponseWriter, status int, code, msg string) {
	s.reply(w, status, map[string]string{"code": code, "message": msg})
}

var outTradeNo = regexp.MustCompile(`^[0-9A-Za-z_*|-]{6,32}$`)

type createBody struct {
	AppID       string `json:"appid"`
	MchID       string `json:"mchid"`
	Description string `json:"description"`
	OutTradeNo  string `json:"out_trade_no"`
	TimeExpire  string `json:"time_expire"`
	Attach      string `json:"attach"`
	NotifyURL   string `json:"notify_url"`
	Amount      struct {
		Total    int64  `json:"total"`
		Currency string `json:"currency"`
	} `json:"amount"`
	Payer *struct {
		OpenID string `json:"openid"`
	} `json:"payer"`
	SceneInfo *struct {
		PayerClientIP string `json:"payer_client_ip"`
		H5Info        *struct {
			Type string `json:"type"`
		} `json:"h5_info"`
	} `json:"scene_info"`
}

func (s *Server) create(w http.ResponseWriter, r *http.Request) {
	kind := r.PathValue("kind")
	tradeType := map[string]string{"native": "NATIVE", "h5": "MWEB", "jsapi": "JSAPI"}[kind]
	if tradeType == "" {
		s.fail(w, http.StatusNotFound, "RESOURCE_NOT_EXISTS", "接口不存在")
		return
	}
	var b createBody
	dec := json.NewDecoder(r.Body)
	if err := dec.Decode(&b); err != nil {
		s.fail(w, http.StatusBadRequest, "PARAM_ERROR", "请求体不是合法的JSON")
		return
	}
	switch {
	case b.MchID != s.opts.MchID:
		s.fail(w, http.StatusBadRequest, "PARAM_ERROR", "mchid与请求签名不一致")
		return
	case b.AppID != s.opts.AppID:
		s.fail(w, http.StatusBadRequest, "APPID_MCHID_NOT_MATCH", "appid和mch_id不匹配")
		return
	case !outTradeNo.MatchString(b.OutTradeNo):
		s.fail(w, http.StatusBadRequest, "PARAM_ERROR", "out_trade_no格式错误")
		return
	case b.Description == "" || len(b.Description) > 127:
		s.fail(w, http.StatusBadRequest, "PARAM_ERROR", "description长度错误")
		return
	case len(b.Attach) > 128:
		s.fail(w, http.StatusBadRequest, "PARAM_ERROR", "attach长度超过128")
		return
	case !strings.HasPrefix(b.NotifyURL, "http"):
		s.fail(w, http.StatusBadRequest, "PARAM_ERROR", "notify_url格式错误")
		return
	case b.Amount.Total <= 0:
		s.fail(w, http.StatusBadRequest, "PARAM_ERROR", "amount.total必须大于0")
		return
	case b.Amount.Currency != "" && b.Amount.Currency != "CNY":
		s.fail(w, http.StatusBadRequest, "PARAM_ERROR", "境内商户仅支持人民币CNY")
		return
	case kind == "jsapi" && (b.Payer == nil || b.Payer.OpenID == ""):
		s.fail(w, http.StatusBadRequest, "PARAM_ERROR", "JSAPI下单缺少payer.openid")
		return
	case kind == "h5" && (b.SceneInfo == nil || b.SceneInfo.PayerClientIP == "" || b.SceneInfo.H5Info == nil || b.SceneInfo.H5Info.Type == ""):
		s.fail(w, http.StatusBadRequest, "PARAM_ERROR", "H5下单缺少scene_info.payer_client_ip或h5_info.type")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if o, ok := s.orders[b.OutTradeNo]; ok {
		switch {
		case o.State == "SUCCESS" || o.State == "REFUND":
			s.failLocked(w, http.StatusBadRequest, "ORDERPAID", "该订单已支付")
		case o.State == "CLOSED":
			s.failLocked(w, http.StatusBadRequest, "ORDER_CLOSED", "当前订单已关闭，请重新下单")
		case o.TradeType != tradeType || o.Total != b.Amount.Total || o.Description != b.Description:
			s.failLocked(w, http.StatusBadRequest, "INVALID_REQUEST", "201 商户订单号重复")
		default:
			// The same order again: WeChat answers the same prepay.
			w.Header().Set("Content-Type", "application/json")
			s.replyRaw(w, o.answer)
		}
		return
	}
	o := &Order{OutTradeNo: b.OutTradeNo, TradeType: tradeType, State: "NOTPAY", Total: b.Amount.Total, Currency: "CNY",
		Description: b.Description, Attach: b.Attach, NotifyURL: b.NotifyURL}
	if b.Payer != nil {
		o.OpenID = b.Payer.OpenID
	}
	prepay := "wx" + time.Now().Format("20060102150405") + s.newUUID()[:18]
	var answer any
	switch kind {
	case "native":
		answer = map[string]string{"code_url": "weixin://wxpay/bizpayurl?pr=" + s.newUUID()[:7]}
	case "h5":
		answer = map[string]string{"h5_url": "https://wx.tenpay.com/cgi-bin/mmpayweb-bin/checkmweb?prepay_id=" + prepay + "&package=" + s.newUUID()[:10]}
	default:
		answer = map[string]string{"prepay_id": prepay}
	}
	o.answer, _ = json.Marshal(answer)
	s.orders[o.OutTradeNo] = o
	s.replyRaw(w, o.answer)
}

// replyRaw writes a signed 200 with body; callers may hold s.mu, so it
// reads the clock without locking.
func (s *Server) replyRaw(w http.ResponseWriter, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	if err := wxsign.SignHeaders(w.Header(), s.opts.PlatformKey, s.opts.PlatformKeyID, time.Now().Add(s.skew), body); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}

func (s *Server) query(w http.ResponseWriter, r *http.Request) {
	if r.URL.Query().Get("mchid") != s.opts.MchID {
		s.fail(w, http.StatusBadRequest, "PARAM_ERROR", "mchid参数错误")
		return
	}
	s.mu.Lock()
	o, ok := s.orders[r.PathValue("no")]
	var t transactionJSON
	if ok {
		t = s.transaction(o)
	}
	s.mu.Unlock()
	if !ok {
		s.fail(w, http.StatusNotFound, "ORDER_NOT_EXIST", "订单不存在")
		return
	}
	s.reply(w, http.StatusOK, t)
}

func (s *Server) closeOrder(w http.ResponseWriter, r *http.Request) {
	var b struct {
		MchID string `json:"mchid"`
	}
	if err := json.NewDecoder(r.Body).Decode(&b); err != nil || b.MchID != s.opts.MchID {
		s.fail(w, http.StatusBadRequest, "PARAM_ERROR", "mchid参数错误")
		return
	}
	s.mu.Lock()
	o, ok := s.orders[r.PathValue("no")]
	state := ""
	if ok {
		if o.State == "NOTPAY" {
			o.State = "CLOSED"
		}
		state = o.State
	}
	s.mu.Unlock()
	switch {
	case !ok:
		s.fail(w, http.StatusNotFound, "ORDER_NOT_EXIST", "订单不存在")
	case state == "SUCCESS" || state == "REFUND":
		s.fail(w, http.StatusBadRequest, "ORDERPAID", "订单已支付，不能发起关单")
	default:
		s.reply(w, http.StatusNoContent, nil)
	}
}

type refundBody struct {
	OutTradeNo    string `json:"out_trade_no"`
	TransactionID string `json:"transaction_id"`
	OutRefundNo   string `json:"out_refund_no"`
	Reason        string `json:"reason"`
	NotifyURL     string `json:"notify_url"`
	Amount        struct {
		Refund   int64  `json:"refund"`
		Total    int64  `json:"total"`
		Currency string `json:"currency"`
	} `json:"amount"`
}

type refundJSON struct {
	RefundID            string `json:"refund_id"`
	OutRefundNo         string `json:"out_refund_no"`
	TransactionID       string `json:"transaction_id"`
	OutTradeNo          string `json:"out_trade_no"`
	Channel             string `json:"channel"`
	UserReceivedAccount string `json:"user_received_account"`
	SuccessTime         string `json:"success_time,omitempty"`
	CreateTime          string `json:"create_time"`
	Status              string `json:"status"`
	Amount              struct {
		Total       int64  `json:"total"`
		Refund      int64  `json:"refund"`
		PayerTotal  int64  `json:"payer_total"`
		PayerRefund int64  `json:"payer_refund"`
		Currency    string `json:"currency"`
	} `json:"amount"`
}

// refundView renders a refund; callers hold s.mu.
func (s *Server) refundView(rf *Refund) refundJSON {
	o := s.orders[rf.OutTradeNo]
	v := refundJSON{RefundID: rf.RefundID, OutRefundNo: rf.OutRefundNo, TransactionID: o.TransactionID, OutTradeNo: o.OutTradeNo,
		Channel: "ORIGINAL", UserReceivedAccount: "支付用户零钱", CreateTime: rf.CreatedAt.In(cst).Format(time.RFC3339), Status: rf.Status}
	if rf.Status == "SUCCESS" {
		v.SuccessTime = rf.SucceededAt.In(cst).Format(time.RFC3339)
	}
	v.Amount.Total, v.Amount.Refund, v.Amount.PayerTotal, v.Amount.PayerRefund, v.Amount.Currency = o.Total, rf.Amount, o.Total, rf.Amount, "CNY"
	return v
}

func (s *Server) refund(w http.ResponseWriter, r *http.Request) {
	var b refundBody
	if err := json.NewDecoder(r.Body).Decode(&b); err != nil {
		s.fail(w, http.StatusBadRequest, "PARAM_ERROR", "请求体不是合法的JSON")
		return
	}
	if !outTradeNo.MatchString(b.OutRefundNo) || b.Amount.Refund <= 0 || b.Amount.Currency != "CNY" {
		s.fail(w, http.StatusBadRequest, "PARAM_ERROR", "out_refund_no、amount.refund或amount.currency错误")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if rf, ok := s.refunds[b.OutRefundNo]; ok {
		// The same out_refund_no refunds once; a retry gets the refund.
		body, _ := json.Marshal(s.refundView(rf))
		s.replyRaw(w, body)
		return
	}
	var o *Order
	for _, cand := range s.orders {
		if (b.OutTradeNo != "" && cand.OutTradeNo == b.OutTradeNo) || (b.TransactionID != "" && cand.TransactionID == b.TransactionID) {
			o = cand
		}
	}
	switch {
	case o == nil:
		s.failLocked(w, http.StatusNotFound, "RESOURCE_NOT_EXISTS", "订单不存在")
		return
	case o.State != "SUCCESS" && o.State != "REFUND":
		s.failLocked(w, http.StatusBadRequest, "INVALID_REQUEST", "订单未支付，不能退款")
		return
	case b.Amount.Total != o.Total:
		s.failLocked(w, http.StatusBadRequest, "PARAM_ERROR", "订单金额total与原订单金额不一致")
		return
	case o.Refunded+b.Amount.Refund > o.Total:
		s.failLocked(w, http.StatusBadRequest, "INVALID_REQUEST", "申请退款金额超过订单可退金额")
		return
	}
	o.Refunded += b.Amount.Refund
	o.State = "REFUND"
	url := b.NotifyURL
	if url == "" {
		url = o.NotifyURL
	}
	rf := &Refund{OutRefundNo: b.OutRefundNo, RefundID: s.newID("5030"), OutTradeNo: o.OutTradeNo, Amount: b.Amount.Refund,
		Status: "PROCESSING", CreatedAt: time.Now().Add(s.skew), NotifyURL: url}
	s.refunds[rf.OutRefundNo] = rf
	body, _ := json.Marshal(s.refundView(rf))
	s.replyRaw(w, body)
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		select {
		case <-time.After(s.opts.RefundDelay):
		case <-s.stop:
			return
		}
		s.mu.Lock()
		rf.Status, rf.SucceededAt = "SUCCESS", time.Now().Add(s.skew)
		v := s.refundView(rf)
		s.mu.Unlock()
		res := map[string]any{"mchid": s.opts.MchID, "out_trade_no": v.OutTradeNo, "transaction_id": v.TransactionID,
			"out_refund_no": v.OutRefundNo, "refund_id": v.RefundID, "refund_status": "SUCCESS", "success_time": v.SuccessTime,
			"user_received_account": v.UserReceivedAccount,
			"amount":                map[string]int64{"total": v.Amount.Total, "refund": v.Amount.Refund, "payer_total": v.Amount.PayerTotal, "payer_refund": v.Amount.PayerRefund}}
		s.notify(url, s.newUUID(), "REFUND.SUCCESS", "退款成功", "refund", res)
	}()
}

// failLocked is fail for callers holding s.mu.
func (s *Server) failLocked(w http.ResponseWriter, status int, code, msg string) {
	body, _ := json.Marshal(map[string]string{"code": code, "message": msg})
	w.Header().Set("Content-Type", "application/json")
	if err := wxsign.SignHeaders(w.Header(), s.opts.PlatformKey, s.opts.PlatformKeyID, time.Now().Add(s.skew), body); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

func (s *Server) queryRefund(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	rf, ok := s.refunds[r.PathValue("no")]
	var v refundJSON
	if ok {
		v = s.refundView(rf)
	}
	s.mu.Unlock()
	if !ok {
		s.fail(w, http.StatusNotFound, "RESOURCE_NOT_EXISTS", "退款单不存在")
		return
	}
	s.reply(w, http.StatusOK, v)
}

// Notification builds a notification as WeChat Pay sends it: the resource
// JSON-encoded, encrypted with the APIv3 key (AEAD_AES_256_GCM), the
// envelope signed with the platform key at time at.
func (s *Server) Notification(id, eventType, summary, associatedData string, resource any, at time.Time) (http.Header, []byte, error) {
	plain, err := json.Marshal(resource)
	if err != nil {
		return nil, nil, fmt.Errorf("sandbox: resource: %w", err)
	}
	nonce := wxsign.Nonce()[:12]
	ct, err := wxsign.SealGCM(s.opts.APIv3Key, nonce, associatedData, plain)
	if err != nil {
		return nil, nil, err
	}
	originalType := "transaction"
	if strings.HasPrefix(eventType, "REFUND.") {
		originalType = "refund"
	}
	body, err := json.Marshal(map[string]any{
		"id": id, "create_time": at.In(cst).Format(time.RFC3339), "resource_type": "encrypt-resource",
		"event_type": eventType, "summary": summary,
		"resource": wxsign.Resource{Algorithm: wxsign.Algorithm, Ciphertext: ct, AssociatedData: associatedData, OriginalType: originalType, Nonce: nonce},
	})
	if err != nil {
		return nil, nil, fmt.Errorf("sandbox: notification: %w", err)
	}
	h := http.Header{"Content-Type": {"application/json"}, "User-Agent": {"Mozilla/4.0"}}
	if err := wxsign.SignHeaders(h, s.opts.PlatformKey, s.opts.PlatformKeyID, at, body); err != nil {
		return nil, nil, err
	}
	return h, body, nil
}

// TransactionResource is the decrypted resource of a TRANSACTION.SUCCESS
// notification for an order paid with amount total, for tests that forge
// notifications the way the sandbox sends them.
func (s *Server) TransactionResource(outTradeNo, transactionID, attach string, total int64, paidAt time.Time) any {
	pt := total
	return transactionJSON{AppID: s.opts.AppID, MchID: s.opts.MchID, OutTradeNo: outTradeNo, TransactionID: transactionID,
		TradeType: "NATIVE", TradeState: "SUCCESS", TradeStateDesc: "支付成功", BankType: "OTHERS", Attach: attach,
		SuccessTime: paidAt.In(cst).Format(time.RFC3339), Payer: map[string]string{"openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"},
		Amount: amountJSON{Total: total, PayerTotal: &pt, Currency: "CNY", PayerCurrency: "CNY"}}
}

// notify delivers a notification in the background, re-signed on every
// try, until it is acknowledged with 200 or 204 or the schedule ends.
func (s *Server) notify(url, id, eventType, summary, associatedData string, resource any) {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for try := 0; ; try++ {
			h, body, err := s.Notification(id, eventType, summary, associatedData, resource, s.now())
			if err != nil {
				return
			}
			a := Attempt{ID: id, Event: eventType, At: time.Now()}
			a.Status, a.Body = s.post(url, h, body)
			s.mu.Lock()
			s.attempts = append(s.attempts, a)
			s.mu.Unlock()
			if a.Status == http.StatusOK || a.Status == http.StatusNoContent || try >= len(RetrySchedule) {
				return
			}
			wait := time.Duration(float64(RetrySchedule[try]) / s.opts.RetryScale)
			select {
			case <-time.After(wait):
			case <-s.stop:
				return
			}
		}
	}()
}

func (s *Server) post(url string, h http.Header, body []byte) (int, []byte) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, nil
	}
	req.Header = h
	resp, err := s.client.Do(req)
	if err != nil {
		return 0, nil
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	return resp.StatusCode, b
}
