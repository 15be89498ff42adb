package main

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/kassahq/kassa/plugins/sdk"
	"github.com/kassahq/kassa/plugins/sdk/netguard"
	"github.com/kassahq/kassa/plugins/sdk/payment"
	"github.com/kassahq/kassa/plugins/sdk/state"
	"github.com/kassahq/kassa/plugins/sdk/webhook"
)

// Version is the plugin's version.
const Version = "1.0.0"

// ID is the plugin's id.
const ID = "payment.alipay"

// Gateway URLs.
const (
	ProductionGateway = "https://openapi.alipay.com/gateway.do"
	SandboxGateway    = "https://openapi-sandbox.dl.alipaydev.com/gateway.do"
)

// Payment method ids of CreateRequest.PaymentMethod.
const (
	MethodPage = "alipay_page" // computer website: alipay.trade.page.pay
	MethodWap  = "alipay_wap"  // mobile website: alipay.trade.wap.pay
	MethodQR   = "alipay_qr"   // QR code shown by the shop: alipay.trade.precreate
)

// replayWindow is how long an accepted delivery is refused when it comes
// again with the same signed content, however re-encoded. Alipay signs each
// retry anew (a new notify_time), so its retries are never replays; Kassa
// applies each notify_id once.
const replayWindow = 3 * time.Minute

var schema = sdk.MustCompileSchema(`{
  "type": "object",
  "additionalProperties": false,
  "required": ["app_id", "app_private_key"],
  "properties": {
    "app_id": {
      "type": "string", "pattern": "^[0-9]{8,32}$",
      "title": "APPID", "x-kassa-titles": {"zh-CN": "APPID"},
      "description": "Your application's APPID in the Alipay open platform console (open.alipay.com, 控制台 > 应用 > APPID), digits only.", "x-kassa-descriptions": {"zh-CN": "您的应用在支付宝开放平台控制台中的 APPID（open.alipay.com，控制台 > 应用 > APPID），仅限数字。"}
    },
    "app_private_key": {
      "type": "string", "minLength": 100, "writeOnly": true,
      "title": "App private key (应用私钥)", "x-kassa-titles": {"zh-CN": "应用私钥"},
      "description": "The RSA2 (2048-bit) private key of your application, PEM (PKCS#1 or PKCS#8) or the bare base64 text the Alipay key tool produces. Its public half must be uploaded in the console as 应用公钥.", "x-kassa-descriptions": {"zh-CN": "应用的 RSA2（2048 位）私钥：PEM 格式（PKCS#1 或 PKCS#8），或支付宝密钥工具生成的纯 base64 文本。对应的公钥须作为“应用公钥”上传到控制台。"}
    },
    "alipay_public_key": {
      "type": "string", "minLength": 100,
      "title": "Alipay public key (支付宝公钥)", "x-kassa-titles": {"zh-CN": "支付宝公钥"},
      "description": "Alipay's public key shown in the console after you uploaded your app public key (接口加签方式 > 公钥模式 > 支付宝公钥), PEM or bare base64.", "x-kassa-descriptions": {"zh-CN": "上传应用公钥后控制台显示的支付宝公钥（接口加签方式 > 公钥模式 > 支付宝公钥），PEM 格式或纯 base64 文本。"}
    },
    "app_cert": {
      "type": "string",
      "title": "App certificate (应用公钥证书)", "x-kassa-titles": {"zh-CN": "应用公钥证书"},
      "description": "Certificate mode only: appCertPublicKey_<APPID>.crt from the console (接口加签方式 > 公钥证书), PEM. Leave empty in public-key mode.", "x-kassa-descriptions": {"zh-CN": "仅用于公钥证书模式：控制台中下载的 appCertPublicKey_<APPID>.crt（接口加签方式 > 公钥证书），PEM 格式。公钥模式下请留空。"}
    },
    "alipay_cert": {
      "type": "string",
      "title": "Alipay certificate (支付宝公钥证书)", "x-kassa-titles": {"zh-CN": "支付宝公钥证书"},
      "description": "Certificate mode only: alipayCertPublicKey_RSA2.crt, PEM. Leave the Alipay public key empty then.", "x-kassa-descriptions": {"zh-CN": "仅用于公钥证书模式：alipayCertPublicKey_RSA2.crt，PEM 格式。此时“支付宝公钥”请留空。"}
    },
    "alipay_root_cert": {
      "type": "string",
      "title": "Alipay root certificate (支付宝根证书)", "x-kassa-titles": {"zh-CN": "支付宝根证书"},
      "description": "Certificate mode only: alipayRootCert.crt, PEM (all certificates in the file).", "x-kassa-descriptions": {"zh-CN": "仅用于公钥证书模式：alipayRootCert.crt，PEM 格式（保留文件中的全部证书）。"}
    },
    "gateway_url": {
      "type": "string", "format": "uri", "x-kassa-outbound": true,
      "title": "Gateway URL", "x-kassa-titles": {"zh-CN": "网关地址"},
      "description": "OpenAPI gateway. Default https://openapi.alipay.com/gateway.do, or https://openapi-sandbox.dl.alipaydev.com/gateway.do when Sandbox is on.", "x-kassa-descriptions": {"zh-CN": "OpenAPI 网关。默认为 https://openapi.alipay.com/gateway.do；开启沙箱环境时为 https://openapi-sandbox.dl.alipaydev.com/gateway.do。"}
    },
    "sandbox": {
      "type": "boolean", "default": false,
      "title": "Sandbox", "x-kassa-titles": {"zh-CN": "沙箱环境"},
      "description": "Use Alipay's sandbox (沙箱环境) with the sandbox APPID and keys.", "x-kassa-descriptions": {"zh-CN": "使用支付宝沙箱环境，并填写沙箱 APPID 和密钥。"}
    },
    "notify_url": {
      "type": "string", "format": "uri", "readOnly": true, "x-kassa-outbound": false,
      "title": "Notify URL (异步通知地址)", "x-kassa-titles": {"zh-CN": "异步通知地址"},
      "description": "Where Alipay sends payment notifications: your shop's public URL followed by /webhooks/payment.alipay, e.g. https://shop.example/webhooks/payment.alipay. Kassa sends it with every payment; register the same address in the console. Leave empty.", "x-kassa-descriptions": {"zh-CN": "支付宝发送付款通知的地址：店铺公开网址加上 /webhooks/payment.alipay，例如 https://shop.example/webhooks/payment.alipay。Kassa 会在每笔付款中附带此地址；请在控制台登记相同的地址。此项无需填写。"}
    },
    "subject_prefix": {
      "type": "string", "maxLength": 64,
      "title": "Order subject prefix", "x-kassa-titles": {"zh-CN": "订单标题前缀"},
      "description": "Text before the order number in the subject the buyer sees in Alipay, e.g. your shop's name. Default: \"订单\" for buyers reading Chinese, \"Order\" for others.", "x-kassa-descriptions": {"zh-CN": "买家在支付宝中看到的订单标题里、订单号前面的文字，例如店铺名称。默认：中文买家为“订单”，其他买家为“Order”。"}
    }
  }
}`)

// settings is the decoded configuration.
type settings struct {
	AppID           string `json:"app_id"`
	AppPrivateKey   string `json:"app_private_key"`
	AlipayPublicKey string `json:"alipay_public_key"`
	AppCert         string `json:"app_cert"`
	AlipayCert      string `json:"alipay_cert"`
	AlipayRootCert  string `json:"alipay_root_cert"`
	GatewayURL      string `json:"gateway_url"`
	Sandbox         bool   `json:"sandbox"`
	NotifyURL       string `json:"notify_url"`
	SubjectPrefix   string `json:"subject_prefix"`
}

// configured is the settings in effect with their parsed keys.
type configured struct {
	s   settings
	api *client
}

// Gateway is the Alipay payment gateway.
type Gateway struct {
	payment.UnimplementedGateway

	cfg     atomic.Pointer[configured]
	replay  *webhook.ReplayCache
	journal *state.Store[attempt]
	now     func() time.Time
}

// New returns a gateway remembering its attempts in dataDir ("" keeps
// them in memory only).
func New(dataDir string) (*Gateway, error) {
	j, err := openJournal(dataDir)
	if err != nil {
		return nil, err
	}
	return &Gateway{replay: webhook.NewReplayCache(100_000), journal: j, now: time.Now}, nil
}

// Describe implements sdk.Plugin.
func (g *Gateway) Describe(context.Context) (sdk.Info, error) {
	return sdk.Info{
		ID:           ID,
		Kind:         sdk.KindPayment,
		Version:      Version,
		DisplayName:  "Alipay",
		Description:  "Alipay (支付宝) through the Open Platform: computer and mobile website payments and QR codes, with refunds and notifications. CNY only.",
		DisplayNames: map[string]string{"zh-CN": "支付宝"},
		Descriptions: map[string]string{"zh-CN": "通过支付宝开放平台收款：电脑网站支付、手机网站支付和扫码支付，支持退款和异步通知。仅限人民币。"},
		Capabilities: []string{
			payment.CapActionRedirect, payment.CapActionQRCode, payment.CapCancel,
			payment.CapRefund, payment.CapRefundPartial, payment.CapWebhook, payment.CapListTransactions,
		},
		ConfigSchema: schema.String(),
	}, nil
}

// Configure implements sdk.Plugin: the keys are parsed here, so a wrong
// paste is refused with a message naming the field.
func (g *Gateway) Configure(ctx context.Context, raw json.RawMessage) (sdk.ConfigureResult, error) {
	var s settings
	if errs := schema.Decode(raw, &s); errs != nil {
		return sdk.ConfigureResult{Errors: errs}, nil
	}
	var errs []sdk.ConfigError
	appKey, err := webhook.ParseRSAPrivateKey([]byte(s.AppPrivateKey))
	switch {
	case err != nil:
		errs = append(errs, sdk.ConfigError{Field: "/app_private_key", Code: "invalid_key",
			Message: "the app private key is not an RSA private key in PEM (PKCS#1 or PKCS#8) or base64 form; paste the private key the Alipay key tool generated, not the public key"})
	case appKey.N.BitLen() < 2048:
		errs = append(errs, sdk.ConfigError{Field: "/app_private_key", Code: "weak_key",
			Message: fmt.Sprintf("the app private key has %d bits; RSA2 needs 2048 bits or more", appKey.N.BitLen())})
	}
	var alipayKey *rsa.PublicKey
	var certs *certMode
	if s.AppCert != "" || s.AlipayCert != "" || s.AlipayRootCert != "" {
		var certErrs []sdk.ConfigError
		certs, alipayKey, certErrs = configureCerts(s, appKey)
		errs = append(errs, certErrs...)
	} else if s.AlipayPublicKey == "" {
		errs = append(errs, sdk.ConfigError{Field: "/alipay_public_key", Code: "required",
			Message: "paste the Alipay public key (支付宝公钥), or the three certificates of certificate mode"})
	} else {
		alipayKey, err = webhook.ParseRSAPublicKey([]byte(s.AlipayPublicKey))
		switch {
		case err != nil:
			errs = append(errs, sdk.ConfigError{Field: "/alipay_public_key", Code: "invalid_key",
				Message: "the Alipay public key is not an RSA public key in PEM or base64 form; copy 支付宝公钥 from the console (not your app public key)"})
		case appKey != nil && alipayKey.Equal(&appKey.PublicKey):
			errs = append(errs, sdk.ConfigError{Field: "/alipay_public_key", Code: "own_key",
				Message: "this is your app's own public key; paste the Alipay public key (支付宝公钥) the console shows after you uploaded yours"})
		}
	}
	gw := s.GatewayURL
	if gw == "" {
		gw = ProductionGateway
		if s.Sandbox {
			gw = SandboxGateway
		}
	}
	guard := netguard.Policy{AllowPrivate: sdk.AllowPrivateNetworks(ctx)}
	if err := guard.CheckURL(gw); err != nil {
		errs = append(errs, sdk.ConfigError{Field: "/gateway_url", Code: "private_network", Message: err.Error()})
	}
	if len(errs) > 0 {
		return sdk.ConfigureResult{Errors: errs}, nil
	}
	g.cfg.Store(&configured{s: s, api: &client{
		appID: s.AppID, gatewayURL: gw, appKey: appKey, alipayKey: alipayKey, certs: certs,
		http: &http.Client{Transport: guard.Transport(), Timeout: 15 * time.Second}, now: g.now,
	}})
	return sdk.ConfigureResult{}, nil
}

// Health implements sdk.Plugin with a harmless signed call: a query of a
// trade that cannot exist. ACQ.TRADE_NOT_EXIST proves the app id, both
// keys and the clock are right.
func (g *Gateway) Health(ctx context.Context) (sdk.Health, error) {
	c := g.cfg.Load()
	if c == nil {
		return sdk.Health{Status: sdk.HealthNotServing, Message: "Alipay is not configured"}, nil
	}
	res, err := c.api.call(ctx, "alipay.trade.query", map[string]string{"out_trade_no": "kassa_health_" + randomHex(8)}, nil)
	switch {
	case errors.Is(err, errUnreachable):
		return sdk.Health{Status: sdk.HealthDegraded, Message: "the Alipay gateway " + c.api.gatewayURL + " is unreachable: " + err.Error()}, nil
	case errors.Is(err, errCertChanged):
		return sdk.Health{Status: sdk.HealthNotServing, Message: err.Error()}, nil
	case err != nil:
		return sdk.Health{Status: sdk.HealthNotServing, Message: "Alipay's answer could not be verified: check that the Alipay public key is 支付宝公钥 of this APPID (" + err.Error() + ")"}, nil
	case res.ok() || res.SubCode == "ACQ.TRADE_NOT_EXIST":
		return sdk.Health{Status: sdk.HealthServing}, nil
	}
	return sdk.Health{Status: sdk.HealthNotServing, Message: healthMessage(res)}, nil
}

// healthMessage says what the owner must fix for an Alipay refusal.
func healthMessage(res *apiResponse) string {
	switch res.SubCode {
	case "isv.invalid-signature":
		return "Alipay refused the request signature (isv.invalid-signature): the app private key does not match the app public key uploaded for this APPID"
	case "isv.invalid-app-id", "isv.app-unavailable":
		return "Alipay does not know this APPID or it is not online (" + res.SubCode + "): check the APPID and that the app is published, or turn Sandbox on for a sandbox APPID"
	case "isv.invalid-timestamp":
		return "Alipay refused the request time (isv.invalid-timestamp): the server clock is off; synchronize it with NTP"
	case "isv.insufficient-isv-permissions":
		return "the app has not signed up for the payment products (isv.insufficient-isv-permissions): add 电脑网站支付 / 手机网站支付 / 当面付 in the console"
	}
	return "Alipay refused the test call: " + res.String()
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// declined is a CreatePayment refusal as data.
func declined(code string, t text, locale, staff string) payment.CreateResult {
	return payment.CreateResult{Status: payment.StatusFailed, DeclineCode: code, BuyerMessage: t.in(locale), MerchantMessage: staff}
}

// CreatePayment implements payment.Gateway. Declines are remembered, so
// GetPayment answers FAILED for them rather than NOT_FOUND.
func (g *Gateway) CreatePayment(ctx context.Context, req payment.CreateRequest) (payment.CreateResult, error) {
	res, err := g.createPayment(ctx, req)
	if err == nil && res.Status == payment.StatusFailed && req.AttemptID != "" {
		if _, known := g.journal.Get(req.AttemptID); !known {
			err = g.journal.Put(req.AttemptID, attempt{Method: req.PaymentMethod, Amount: req.Amount.Amount, Created: g.now().UTC(), Declined: res.DeclineCode})
		}
	}
	return res, err
}

func (g *Gateway) createPayment(ctx context.Context, req payment.CreateRequest) (payment.CreateResult, error) {
	c := g.cfg.Load()
	if c == nil {
		return payment.CreateResult{}, errors.New("alipay: not configured")
	}
	if req.Amount.Currency != "CNY" {
		return declined(payment.DeclineCurrencyNotSupported, textCurrency, req.Locale,
			fmt.Sprintf("Alipay takes CNY only; the order is in %q", req.Amount.Currency)), nil
	}
	// Alipay's limits: 0.01 to 100,000,000.00 yuan.
	if req.Amount.Amount < 1 || req.Amount.Amount > 100_000_000_00 {
		return declined(payment.DeclineInvalidAmount, textAmount, req.Locale,
			fmt.Sprintf("amount %d fen is outside Alipay's 0.01 to 100000000.00", req.Amount.Amount)), nil
	}
	if !validTradeNo(req.AttemptID) {
		return declined("invalid_request", textRefused, req.Locale, "the attempt id is not a valid out_trade_no (1-64 letters, digits, _ and -)"), nil
	}
	method := req.PaymentMethod
	if method == "" || method == "alipay" {
		method = MethodPage
	}
	if prev, ok := g.journal.Get(req.AttemptID); ok && prev.Declined == "" && prev.Method == method && prev.Amount == req.Amount.Amount && !prev.Closed {
		// A retry: same out_trade_no, the same answer.
		return prev.result(req.AttemptID, req.Locale), nil
	}
	notify := c.s.NotifyURL
	if notify == "" {
		notify = req.NotifyURL
	}
	biz := map[string]any{
		"out_trade_no": req.AttemptID,
		"total_amount": formatYuan(req.Amount.Amount),
		"subject":      subject(c.s.SubjectPrefix, req),
	}
	if !req.ExpiresAt.IsZero() {
		biz["time_expire"] = req.ExpiresAt.In(chinaTime).Format(timeLayout)
	}
	a := attempt{Method: method, Amount: req.Amount.Amount, Created: g.now().UTC(), IdemKey: req.IdempotencyKey}
	switch method {
	case MethodPage, MethodWap:
		api, product := "alipay.trade.page.pay", "FAST_INSTANT_TRADE_PAY"
		if method == MethodWap {
			api, product = "alipay.trade.wap.pay", "QUICK_WAP_WAY"
			if req.ReturnURL != "" {
				biz["quit_url"] = req.ReturnURL
			}
		}
		biz["product_code"] = product
		u, err := c.api.pageURL(api, biz, map[string]string{"notify_url": notify, "return_url": req.ReturnURL})
		if err != nil {
			return payment.CreateResult{}, err
		}
		a.ActionURL = u
	case MethodQR:
		res, err := c.api.call(ctx, "alipay.trade.precreate", biz, map[string]string{"notify_url": notify})
		if err != nil {
			return payment.CreateResult{}, err
		}
		if !res.ok() {
			return g.createRefused(req, res), nil
		}
		var out struct {
			QRCode string `json:"qr_code"`
		}
		if err := json.Unmarshal(res.Raw, &out); err != nil || out.QRCode == "" {
			return payment.CreateResult{}, fmt.Errorf("alipay: precreate answered no qr_code")
		}
		a.QRCode = out.QRCode
	default:
		return declined("payment_method_not_supported", textMethod, req.Locale,
			fmt.Sprintf("unknown payment method %q (alipay_page, alipay_wap or alipay_qr)", req.PaymentMethod)), nil
	}
	if err := g.journal.Put(req.AttemptID, a); err != nil {
		return payment.CreateResult{}, err
	}
	return a.result(req.AttemptID, req.Locale), nil
}

// createRefused maps a precreate refusal.
func (g *Gateway) createRefused(req payment.CreateRequest, res *apiResponse) payment.CreateResult {
	switch res.SubCode {
	case "ACQ.TRADE_HAS_SUCCESS":
		return payment.CreateResult{Status: payment.StatusSucceeded, GatewayRef: req.AttemptID, MerchantMessage: "Alipay: the trade was already paid"}
	case "ACQ.TRADE_HAS_CLOSE":
		return declined("trade_closed", textClosed, req.Locale, "Alipay: "+res.String())
	}
	slog.Warn("alipay refused precreate", "attempt", req.AttemptID, "code", res.Code, "sub_code", res.SubCode)
	return declined(payment.DeclineProcessingError, textRefused, req.Locale, "Alipay: "+res.String())
}

// result is CreatePayment's answer for a started attempt.
func (a attempt) result(id, locale string) payment.CreateResult {
	r := payment.CreateResult{Status: payment.StatusRequiresAction, GatewayRef: id}
	if a.QRCode != "" {
		r.Action = payment.Action{Type: payment.ActionQRCode, QRCode: a.QRCode, Instructions: textScan.in(locale)}
	} else {
		r.Action = payment.Action{Type: payment.ActionRedirect, URL: a.ActionURL}
	}
	return r
}

// subject is the text the buyer sees in Alipay (at most 256 characters):
// the shop's prefix and the order number, or without a prefix "订单" for
// a buyer reading Chinese (Alipay's own language), "Order" for others.
func subject(prefix string, req payment.CreateRequest) string {
	if prefix == "" {
		prefix = "Order"
		if strings.HasPrefix(strings.ToLower(req.Locale), "zh") {
			prefix = "订单"
		}
	}
	s := strings.TrimSpace(prefix + " " + req.OrderNumber)
	if r := []rune(s); len(r) > 256 {
		s = string(r[:256])
	}
	return s
}

// validTradeNo checks Alipay's out_trade_no / out_request_no syntax.
func validTradeNo(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}
