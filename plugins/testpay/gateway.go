package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kassahq/kassa/plugins/sdk"
	"github.com/kassahq/kassa/plugins/sdk/payment"
	sdkstate "github.com/kassahq/kassa/plugins/sdk/state"
	"github.com/kassahq/kassa/plugins/sdk/webhook"
)

// Version is testpay's version.
const Version = "1.0.0"

// ID is testpay's plugin id.
const ID = "payment.testpay"

// SignatureHeader carries testpay's notification signature,
// "t=<unix>,v1=<hex HMAC-SHA256 of "<t>.<body>">".
const SignatureHeader = "Testpay-Signature"

var schema = sdk.MustCompileSchema(`{
  "type": "object",
  "additionalProperties": false,
  "required": ["webhook_secret"],
  "properties": {
    "webhook_secret": {
      "type": "string", "minLength": 16, "writeOnly": true,
      "title": "Webhook signing secret", "x-kassa-titles": {"zh-CN": "Webhook 签名密钥"},
      "description": "Secret testpay signs its notifications with (HMAC-SHA256 with a timestamp). Any random string of 16 characters or more.", "x-kassa-descriptions": {"zh-CN": "testpay 签名通知所用的密钥（带时间戳的 HMAC-SHA256）。任意 16 个字符以上的随机字符串。"}
    },
    "async_delay_ms": {
      "type": "integer", "minimum": 0, "maximum": 600000, "default": 2000,
      "title": "Asynchronous delay", "x-kassa-titles": {"zh-CN": "异步延迟"},
      "description": "How long asynchronous scenarios stay pending before they settle and notify, in milliseconds.", "x-kassa-descriptions": {"zh-CN": "异步场景在结算并发送通知之前保持待处理的时长，单位为毫秒。"}
    },
    "webhook_tolerance_seconds": {
      "type": "integer", "minimum": 1, "maximum": 86400, "default": 300,
      "title": "Webhook tolerance", "x-kassa-titles": {"zh-CN": "Webhook 时效"},
      "description": "Notifications signed longer ago than this are refused as stale, in seconds.", "x-kassa-descriptions": {"zh-CN": "签名时间早于此时长的通知视为过期而被拒绝，单位为秒。"}
    },
    "amount_triggers": {
      "type": "boolean", "default": false,
      "title": "Amount triggers", "x-kassa-titles": {"zh-CN": "按金额触发场景"},
      "description": "When on, payments without a test card choose their scenario by the amount's last two digits (e.g. .02 declines); when off they go to the payment page.", "x-kassa-descriptions": {"zh-CN": "开启时，未使用测试卡的付款按金额的最后两位选择场景（例如 .02 表示拒绝）；关闭时转到付款页面。"}
    },
    "timeout_ms": {
      "type": "integer", "minimum": 0, "maximum": 600000, "default": 120000,
      "title": "Time-out duration", "x-kassa-titles": {"zh-CN": "超时时长"},
      "description": "How long the time-out scenario blocks CreatePayment at most, in milliseconds (Kassa's deadline usually ends it first).", "x-kassa-descriptions": {"zh-CN": "超时场景最多阻塞 CreatePayment 的时长，单位为毫秒（通常 Kassa 自身的期限会先结束它）。"}
    }
  }
}`)

// settings is the decoded configuration.
type settings struct {
	WebhookSecret           string `json:"webhook_secret"`
	AsyncDelayMS            *int64 `json:"async_delay_ms"`
	WebhookToleranceSeconds *int64 `json:"webhook_tolerance_seconds"`
	AmountTriggers          bool   `json:"amount_triggers"`
	TimeoutMS               *int64 `json:"timeout_ms"`
}

func (s *settings) asyncDelay() time.Duration {
	if s.AsyncDelayMS == nil {
		return 2 * time.Second
	}
	return time.Duration(*s.AsyncDelayMS) * time.Millisecond
}

func (s *settings) tolerance() time.Duration {
	if s.WebhookToleranceSeconds == nil {
		return webhook.DefaultTolerance
	}
	return time.Duration(*s.WebhookToleranceSeconds) * time.Second
}

func (s *settings) timeout() time.Duration {
	if s.TimeoutMS == nil {
		return 2 * time.Minute
	}
	return time.Duration(*s.TimeoutMS) * time.Millisecond
}

// Gateway is the testpay sandbox gateway.
type Gateway struct {
	payment.UnimplementedGateway

	cfg    atomic.Pointer[settings]
	replay *webhook.ReplayCache
	client *http.Client

	mu     sync.Mutex
	st     *state
	j      *sdkstate.Store[item]  // nil when the state is kept in memory only
	timers map[string]*time.Timer // pending settlements by attempt id
	wg     sync.WaitGroup         // outgoing notifications (tests wait on it)
}

// New returns a gateway keeping its state in dataDir ("" keeps it in memory
// only). Pending asynchronous payments found in the state are rescheduled
// once the gateway is configured.
func New(dataDir string) (*Gateway, error) {
	st, j, err := open(dataDir)
	if err != nil {
		return nil, err
	}
	return &Gateway{
		replay: webhook.NewReplayCache(100_000),
		client: notifyClient(),
		st:     st,
		j:      j,
		timers: map[string]*time.Timer{},
	}, nil
}

// notifyClient returns the client of the webhook deliveries. Like a real
// gateway's, it keeps connections to the shop open: the default two idle
// connections a host would make every delivery beyond the second at once
// a new TCP connection, set up and torn down on both sides.
func notifyClient() *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 64
	return &http.Client{Timeout: 10 * time.Second, Transport: tr}
}

// Describe implements sdk.Plugin.
func (g *Gateway) Describe(context.Context) (sdk.Info, error) {
	return sdk.Info{
		ID:           ID,
		Kind:         sdk.KindPayment,
		Version:      Version,
		DisplayName:  "Test payments",
		Description:  "Sandbox gateway for development and demos: test cards decide the outcome. No money moves.",
		DisplayNames: map[string]string{"zh-CN": "测试支付"},
		Descriptions: map[string]string{"zh-CN": "用于开发和演示的沙盒网关：由测试卡决定结果，不会产生真实资金流动。"},
		Capabilities: []string{
			payment.CapActionNone, payment.CapActionRedirect, payment.CapActionQRCode,
			payment.CapCaptureManual, payment.CapCancel, payment.CapRefund, payment.CapRefundPartial,
			payment.CapWebhook, payment.CapWebhookSimulate, payment.CapListTransactions, payment.CapHTTP,
		},
		ConfigSchema: schema.String(),
	}, nil
}

// Configure implements sdk.Plugin.
func (g *Gateway) Configure(_ context.Context, raw json.RawMessage) (sdk.ConfigureResult, error) {
	var s settings
	if errs := schema.Decode(raw, &s); errs != nil {
		return sdk.ConfigureResult{Errors: errs}, nil
	}
	first := g.cfg.Swap(&s) == nil
	if first {
		g.resume()
	}
	return sdk.ConfigureResult{}, nil
}

// Health implements sdk.Plugin.
func (g *Gateway) Health(context.Context) (sdk.Health, error) {
	if g.cfg.Load() == nil {
		return sdk.Health{Status: sdk.HealthNotServing, Message: "testpay is not configured"}, nil
	}
	return sdk.Health{Status: sdk.HealthServing}, nil
}

func newRef(prefix string) string {
	b := make([]byte, 10)
	_, _ = rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

func parseStatus(name string) payment.Status {
	for s := payment.StatusUnknown; s <= payment.StatusNotFound; s++ {
		if s.String() == name {
			return s
		}
	}
	return payment.StatusUnknown
}

// persist journals the changed records; callers hold g.mu, then call
// g.sync after releasing it and before the change is answered or
// notified. A failed write is logged: the sandbox keeps working from
// memory.
func (g *Gateway) persist(es ...entry) {
	if g.j == nil {
		return
	}
	var cs []sdkstate.Change[item]
	for _, e := range es {
		cs = append(cs, e.changes()...)
	}
	if err := g.j.Append(cs...); err != nil {
		slog.Error("saving state failed", "error", err)
	}
}

// sync makes the journalled changes durable; callers do not hold g.mu, so
// concurrent calls share their disk flushes.
func (g *Gateway) sync() {
	if g.j == nil {
		return
	}
	if err := g.j.Sync(); err != nil {
		slog.Error("saving state failed", "error", err)
	}
}

// CreatePayment implements payment.Gateway.
func (g *Gateway) CreatePayment(ctx context.Context, req payment.CreateRequest) (payment.CreateResult, error) {
	cfg := g.cfg.Load()
	if cfg == nil {
		return payment.CreateResult{}, errors.New("testpay is not configured")
	}
	if req.AttemptID == "" {
		return payment.CreateResult{Status: payment.StatusFailed, DeclineCode: "invalid_request",
			BuyerMessage: "The payment could not be started.", MerchantMessage: "attempt id is empty"}, nil
	}
	key := req.IdempotencyKey
	if key == "" {
		key = "attempt:" + req.AttemptID
	}
	g.mu.Lock()
	if id, ok := g.st.Keys[key]; ok {
		res := g.st.Payments[id].Created
		g.mu.Unlock()
		return res, nil // a retry: the first answer, nothing charged again
	}
	if p, ok := g.st.Payments[req.AttemptID]; ok {
		res := p.Created
		g.mu.Unlock()
		return res, nil
	}
	if req.Amount.Amount <= 0 || len(req.Amount.Currency) != 3 {
		g.mu.Unlock()
		return payment.CreateResult{Status: payment.StatusFailed, DeclineCode: payment.DeclineInvalidAmount,
			BuyerMessage: "The amount cannot be paid.", MerchantMessage: fmt.Sprintf("invalid amount %d %q", req.Amount.Amount, req.Amount.Currency)}, nil
	}
	sc := pick(req, cfg.AmountTriggers)
	now := time.Now().UTC()
	p := &record{
		Ref: newRef("tp_"), AttemptID: req.AttemptID, OrderNumber: req.OrderNumber, Scenario: sc.name,
		Amount: req.Amount.Amount, Currency: req.Amount.Currency, CaptureManual: req.CaptureMethod == payment.CaptureManual,
		NotifyURL: req.NotifyURL, ReturnURL: req.ReturnURL, CreatedAt: now, ExpiresAt: req.ExpiresAt.UTC(), Locale: req.Locale,
	}
	res := payment.CreateResult{GatewayRef: p.Ref, Amount: req.Amount, MerchantMessage: "testpay scenario " + sc.name}
	pageURL := req.PluginBaseURL + "/pay/" + p.Ref
	if req.PluginBaseURL == "" {
		pageURL = "/plugins/" + ID + "/pay/" + p.Ref
	}
	var notifyNow int // notifications to send for an immediate outcome
	switch sc.name {
	case "succeed", "notify_twice", "timeout":
		g.settle(p, true, "")
		notifyNow = 1
		if sc.name == "notify_twice" {
			notifyNow = 2
		}
		if sc.name == "timeout" {
			notifyNow = 0
		}
	case "decline", "insufficient_funds", "expired_card":
		code := map[string]string{"decline": payment.DeclineCardDeclined, "insufficient_funds": payment.DeclineInsufficientFunds,
			"expired_card": payment.DeclineExpiredCard}[sc.name]
		g.settle(p, false, code)
		res.BuyerMessage = buyerMessage(code)
		notifyNow = 1
	case "redirect":
		p.Status = payment.StatusRequiresAction.String()
		res.Action = payment.Action{Type: payment.ActionRedirect, URL: pageURL, ExpiresAt: req.ExpiresAt}
	case "qr":
		p.Status = payment.StatusRequiresAction.String()
		res.Action = payment.Action{Type: payment.ActionQRCode, QRCode: pageURL, ExpiresAt: req.ExpiresAt}
	case "async", "async_decline", "never_notify":
		p.Status = payment.StatusPending.String()
		p.SettleAt = now.Add(cfg.asyncDelay())
		p.SettleTo = "succeeded"
		if sc.name == "async_decline" {
			p.SettleTo = payment.DeclineInsufficientFunds
		}
		p.Notify = sc.name != "never_notify"
	}
	res.Status = parseStatus(p.Status)
	res.DeclineCode = p.DeclineCode
	p.Created = res
	g.st.putPayment(p)
	g.st.Keys[key] = p.AttemptID
	g.persist(entry{Payment: p, Key: key})
	if !p.SettleAt.IsZero() {
		g.schedule(p)
	}
	ev := g.eventFor(p, "")
	g.mu.Unlock()
	g.sync()

	for i := range notifyNow {
		g.notify(p.NotifyURL, ev, time.Duration(i)*1100*time.Millisecond)
	}
	if sc.name == "timeout" {
		// The money moved, but the answer never arrives in time: Kassa must
		// treat the attempt as UNKNOWN and reconcile with GetPayment.
		select {
		case <-ctx.Done():
			return payment.CreateResult{}, ctx.Err()
		case <-time.After(cfg.timeout()):
		}
	}
	return res, nil
}

func buyerMessage(code string) string {
	switch code {
	case payment.DeclineInsufficientFunds:
		return "Your card has insufficient funds."
	case payment.DeclineExpiredCard:
		return "Your card has expired."
	case payment.DeclineAuthenticationFailed:
		return "The payment could not be authenticated."
	default:
		return "Your card was declined."
	}
}

// settle moves a payment to its outcome; callers hold g.mu.
func (g *Gateway) settle(p *record, ok bool, declineCode string) {
	p.SettleAt, p.SettleTo = time.Time{}, ""
	if !ok {
		p.Status = payment.StatusFailed.String()
		p.DeclineCode = declineCode
		return
	}
	p.Authorized = p.Amount
	if p.CaptureManual {
		p.Status = payment.StatusAuthorized.String()
		return
	}
	p.Captured = p.Amount
	p.Status = payment.StatusSucceeded.String()
}

// schedule arms the settlement timer of a pending asynchronous payment;
// callers hold g.mu.
func (g *Gateway) schedule(p *record) {
	if t, ok := g.timers[p.AttemptID]; ok {
		t.Stop()
	}
	id := p.AttemptID
	g.timers[id] = time.AfterFunc(time.Until(p.SettleAt), func() { g.settleAsync(id) })
}

func (g *Gateway) settleAsync(attemptID string) {
	g.mu.Lock()
	p, ok := g.st.Payments[attemptID]
	delete(g.timers, attemptID)
	if !ok || p.SettleTo == "" || parseStatus(p.Status) != payment.StatusPending {
		g.mu.Unlock()
		return
	}
	notify := p.Notify
	g.settle(p, p.SettleTo == "succeeded", p.SettleTo)
	g.persist(entry{Payment: p})
	ev := g.eventFor(p, "")
	g.mu.Unlock()
	g.sync()
	if notify {
		g.notify(p.NotifyURL, ev, 0)
	}
}

// resume reschedules pending settlements after a restart.
func (g *Gateway) resume() {
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, p := range g.st.Payments {
		if !p.SettleAt.IsZero() && parseStatus(p.Status) == payment.StatusPending {
			g.schedule(p)
		}
	}
}

func (g *Gateway) state(p *record) payment.PaymentState {
	st := payment.PaymentState{
		Status: parseStatus(p.Status), GatewayRef: p.Ref, Amount: sdk.Money{Amount: p.Amount, Currency: p.Currency},
		Authorized: p.Authorized, Captured: p.Captured, Refunded: p.Refunded, DeclineCode: p.DeclineCode,
		MerchantMessage: "testpay scenario " + p.Scenario,
	}
	if st.Status == payment.StatusRequiresAction {
		st.Action = p.Created.Action
	}
	return st
}

// GetPayment implements payment.Gateway.
func (g *Gateway) GetPayment(_ context.Context, req payment.GetRequest) (payment.PaymentState, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	p := g.find(req.AttemptID, req.GatewayRef)
	if p == nil {
		return payment.PaymentState{Status: payment.StatusNotFound}, nil
	}
	if g.expire(p, time.Now()) {
		g.persist(entry{Payment: p})
	}
	return g.state(p), nil
}

// expire closes p, a payment waiting on the buyer's page, once its
// ExpiresAt passed, as Stripe expires a Checkout Session and Alipay
// closes a trade at its timeout: a page left open past the order's
// payment deadline takes no money. It reports whether it closed p; the
// caller persists it (g.mu held).
func (g *Gateway) expire(p *record, now time.Time) bool {
	if parseStatus(p.Status) != payment.StatusRequiresAction || p.ExpiresAt.IsZero() || !now.After(p.ExpiresAt) {
		return false
	}
	p.Status, p.DeclineCode = payment.StatusCanceled.String(), declineExpired
	return true
}

// declineExpired is the decline code of a payment whose page expired.
const declineExpired = "expired"

func (g *Gateway) find(attemptID, ref string) *record {
	if p, ok := g.st.Payments[attemptID]; ok && attemptID != "" {
		return p
	}
	if ref != "" {
		return g.st.byRef(ref)
	}
	return nil
}

// CapturePayment implements payment.Gateway.
func (g *Gateway) CapturePayment(_ context.Context, req payment.CaptureRequest) (payment.CaptureResult, error) {
	defer g.sync() // deferred first, so it runs after the unlock
	g.mu.Lock()
	defer g.mu.Unlock()
	p := g.find(req.AttemptID, req.GatewayRef)
	if p == nil {
		return payment.CaptureResult{Status: payment.StatusNotFound, DeclineCode: payment.FailurePaymentNotFound}, nil
	}
	key := req.IdempotencyKey
	if c, ok := p.Captures[key]; ok && key != "" {
		return payment.CaptureResult{Status: parseStatus(c.Status), Captured: c.Captured, DeclineCode: c.DeclineCode}, nil
	}
	var res payment.CaptureResult
	switch {
	case parseStatus(p.Status) != payment.StatusAuthorized:
		res = payment.CaptureResult{Status: parseStatus(p.Status), Captured: p.Captured, DeclineCode: payment.FailureInvalidState,
			MerchantMessage: "payment is " + p.Status}
	case req.Amount.Amount <= 0 || req.Amount.Amount > p.Authorized || req.Amount.Currency != p.Currency:
		res = payment.CaptureResult{Status: payment.StatusAuthorized, DeclineCode: payment.FailureAmountExceedsAuthorized,
			MerchantMessage: fmt.Sprintf("authorized %d %s", p.Authorized, p.Currency)}
	default:
		p.Captured = req.Amount.Amount
		p.Status = payment.StatusSucceeded.String()
		res = payment.CaptureResult{Status: payment.StatusSucceeded, Captured: p.Captured}
	}
	if key != "" {
		if p.Captures == nil {
			p.Captures = map[string]captureRes{}
		}
		p.Captures[key] = captureRes{Status: res.Status.String(), Captured: res.Captured, DeclineCode: res.DeclineCode}
	}
	g.persist(entry{Payment: p})
	return res, nil
}

// CancelPayment implements payment.Gateway.
func (g *Gateway) CancelPayment(_ context.Context, req payment.CancelRequest) (payment.CancelResult, error) {
	defer g.sync() // deferred first, so it runs after the unlock
	g.mu.Lock()
	defer g.mu.Unlock()
	p := g.find(req.AttemptID, req.GatewayRef)
	if p == nil {
		return payment.CancelResult{Status: payment.CancelCanceled, PaymentStatus: payment.StatusNotFound}, nil
	}
	switch st := parseStatus(p.Status); st {
	case payment.StatusSucceeded:
		return payment.CancelResult{Status: payment.CancelAlreadyPaid, PaymentStatus: st}, nil
	case payment.StatusPending, payment.StatusRequiresAction, payment.StatusAuthorized:
		p.Status = payment.StatusCanceled.String()
		p.SettleAt, p.SettleTo = time.Time{}, ""
		p.Authorized = 0
		if t, ok := g.timers[p.AttemptID]; ok {
			t.Stop()
			delete(g.timers, p.AttemptID)
		}
		g.persist(entry{Payment: p})
		return payment.CancelResult{Status: payment.CancelCanceled, PaymentStatus: payment.StatusCanceled}, nil
	default: // FAILED or CANCELED: closed already
		return payment.CancelResult{Status: payment.CancelCanceled, PaymentStatus: st}, nil
	}
}

// Refund implements payment.Gateway.
func (g *Gateway) Refund(_ context.Context, req payment.RefundRequest) (payment.RefundResult, error) {
	g.mu.Lock()
	if r, ok := g.st.Refunds[req.RefundID]; ok {
		g.mu.Unlock()
		return refundResult(r), nil
	}
	r := &refundRecord{ID: req.RefundID, Ref: newRef("tpr_"), AttemptID: req.AttemptID, Amount: req.Amount.Amount,
		Currency: req.Amount.Currency, CreatedAt: time.Now().UTC()}
	p := g.find(req.AttemptID, req.GatewayRef)
	switch {
	case req.RefundID == "":
		g.mu.Unlock()
		return payment.RefundResult{Status: payment.RefundFailed, FailureCode: "invalid_request", MerchantMessage: "refund id is empty"}, nil
	case p == nil:
		r.Status, r.FailureCode = payment.RefundFailed.String(), payment.FailurePaymentNotFound
	case p.Captured == 0:
		r.Status, r.FailureCode = payment.RefundFailed.String(), payment.FailurePaymentNotCaptured
	case req.Amount.Amount <= 0 || req.Amount.Currency != p.Currency || req.Amount.Amount > p.Captured-p.Refunded:
		r.Status, r.FailureCode = payment.RefundFailed.String(), payment.FailureAmountExceedsCaptured
	default:
		r.Status = payment.RefundSucceeded.String()
		p.Refunded += req.Amount.Amount
	}
	g.st.Refunds[r.ID] = r
	var ev notification
	var url string
	if p != nil && r.Status == payment.RefundSucceeded.String() {
		ev, url = g.eventFor(p, r.ID), p.NotifyURL
		g.persist(entry{Refund: r}, entry{Payment: p})
	} else {
		g.persist(entry{Refund: r})
	}
	g.mu.Unlock()
	g.sync()
	if url != "" {
		g.notify(url, ev, 0)
	}
	return refundResult(r), nil
}

func refundResult(r *refundRecord) payment.RefundResult {
	out := payment.RefundResult{GatewayRefundRef: r.Ref, Amount: sdk.Money{Amount: r.Amount, Currency: r.Currency}, FailureCode: r.FailureCode}
	switch r.Status {
	case payment.RefundSucceeded.String():
		out.Status = payment.RefundSucceeded
	default:
		out.Status = payment.RefundFailed
		out.MerchantMessage = "refund refused: " + r.FailureCode
	}
	return out
}

// GetRefund implements payment.Gateway.
func (g *Gateway) GetRefund(_ context.Context, req payment.GetRefundRequest) (payment.RefundResult, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if r, ok := g.st.Refunds[req.RefundID]; ok {
		return refundResult(r), nil
	}
	for _, r := range g.st.Refunds {
		if req.GatewayRefundRef != "" && r.Ref == req.GatewayRefundRef {
			return refundResult(r), nil
		}
	}
	return payment.RefundResult{Status: payment.RefundNotFound}, nil
}

// ListTransactions implements payment.Gateway: captured payments and
// succeeded refunds created in the range, oldest first, 100 per page.
func (g *Gateway) ListTransactions(_ context.Context, req payment.ListTransactionsRequest) (payment.TransactionPage, error) {
	g.mu.Lock()
	var all []payment.Transaction
	in := func(t time.Time) bool {
		return (req.From.IsZero() || !t.Before(req.From)) && (req.To.IsZero() || t.Before(req.To))
	}
	for _, p := range g.st.Payments {
		if p.Captured > 0 && in(p.CreatedAt) {
			all = append(all, payment.Transaction{ID: "txn_" + p.Ref, Type: "charge", AttemptID: p.AttemptID, GatewayRef: p.Ref,
				Amount: sdk.Money{Amount: p.Captured, Currency: p.Currency}, Fee: sdk.Money{Amount: 0, Currency: p.Currency}, OccurredAt: p.CreatedAt})
		}
	}
	for _, r := range g.st.Refunds {
		if r.Status == payment.RefundSucceeded.String() && in(r.CreatedAt) {
			ref := ""
			if p := g.st.Payments[r.AttemptID]; p != nil {
				ref = p.Ref
			}
			all = append(all, payment.Transaction{ID: "txn_" + r.Ref, Type: "refund", AttemptID: r.AttemptID, GatewayRef: ref,
				GatewayRefundRef: r.Ref, Amount: sdk.Money{Amount: -r.Amount, Currency: r.Currency}, OccurredAt: r.CreatedAt})
		}
	}
	g.mu.Unlock()
	sort.Slice(all, func(i, j int) bool {
		if !all[i].OccurredAt.Equal(all[j].OccurredAt) {
			return all[i].OccurredAt.Before(all[j].OccurredAt)
		}
		return all[i].ID < all[j].ID
	})
	size := req.PageSize
	if size <= 0 || size > 100 {
		size = 100
	}
	start, _ := strconv.Atoi(req.PageToken)
	if start < 0 || start > len(all) {
		start = len(all)
	}
	end := min(start+size, len(all))
	page := payment.TransactionPage{Transactions: all[start:end]}
	if end < len(all) {
		page.NextPageToken = strconv.Itoa(end)
	}
	return page, nil
}
