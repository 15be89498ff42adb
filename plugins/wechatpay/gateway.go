package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kassahq/kassa/plugins/sdk"
	"github.com/kassahq/kassa/plugins/sdk/netguard"
	"github.com/kassahq/kassa/plugins/sdk/payment"
	"github.com/kassahq/kassa/plugins/sdk/webhook"
	"github.com/kassahq/kassa/plugins/wechatpay/internal/wxsign"
)

// ID is the plugin's id.
const ID = "payment.wechatpay"

// Version is the plugin's version.
const Version = "0.1.0"

// DefaultBaseURL is WeChat Pay's API v3 endpoint.
const DefaultBaseURL = "https://api.mch.weixin.qq.com"

// WebhookPath is where Kassa receives this plugin's notifications, below
// the shop's public URL.
const WebhookPath = "/webhooks/" + ID

var schema = sdk.MustCompileSchema(`{
  "type": "object",
  "additionalProperties": false,
  "required": ["mchid", "appid", "merchant_private_key", "merchant_serial_no", "apiv3_key", "platform_public_key", "platform_public_key_id"],
  "properties": {
    "mchid": {
      "type": "string", "pattern": "^[0-9]{1,32}$",
      "title": "Merchant ID (mchid)", "x-kassa-titles": {"zh-CN": "商户号（mchid）"},
      "description": "Your WeChat Pay merchant number (商户号), shown under Account Center > Merchant information.", "x-kassa-descriptions": {"zh-CN": "您的微信支付商户号，见商户平台“账户中心 > 商户信息”。"}
    },
    "appid": {
      "type": "string", "pattern": "^wx[0-9A-Za-z]{16}$",
      "title": "AppID", "x-kassa-titles": {"zh-CN": "AppID"},
      "description": "The AppID (wx...) of the Official Account, Mini Program or app bound to the merchant number (Product Center > AppID account management).", "x-kassa-descriptions": {"zh-CN": "与商户号绑定的公众号、小程序或 App 的 AppID（wx 开头），见商户平台“产品中心 > AppID 账号管理”。"}
    },
    "merchant_private_key": {
      "type": "string", "writeOnly": true, "minLength": 1,
      "title": "Merchant API private key", "x-kassa-titles": {"zh-CN": "商户 API 私钥"},
      "description": "Contents of apiclient_key.pem (-----BEGIN PRIVATE KEY-----...), written by the certificate tool when you applied for the merchant API certificate. Requests to WeChat Pay are signed with it.", "x-kassa-descriptions": {"zh-CN": "apiclient_key.pem 的内容（-----BEGIN PRIVATE KEY-----...），由申请商户 API 证书时的证书工具生成。发往微信支付的请求用它签名。"}
    },
    "merchant_serial_no": {
      "type": "string", "pattern": "^[0-9A-Fa-f]{8,40}$",
      "title": "Merchant API certificate serial number", "x-kassa-titles": {"zh-CN": "商户 API 证书序列号"},
      "description": "Serial number of the merchant API certificate (Account Center > API security > API certificate > View certificate).", "x-kassa-descriptions": {"zh-CN": "商户 API 证书的序列号（账户中心 > API 安全 > API 证书 > 查看证书）。"}
    },
    "apiv3_key": {
      "type": "string", "writeOnly": true, "minLength": 32, "maxLength": 32,
      "title": "APIv3 key", "x-kassa-titles": {"zh-CN": "APIv3 密钥"},
      "description": "The 32-character APIv3 key you set under Account Center > API security > APIv3 key; notifications are encrypted with it.", "x-kassa-descriptions": {"zh-CN": "您在“账户中心 > API 安全 > APIv3 密钥”中设置的 32 位 APIv3 密钥；支付通知用它加密。"}
    },
    "platform_public_key": {
      "type": "string", "minLength": 1,
      "title": "WeChat Pay public key", "x-kassa-titles": {"zh-CN": "微信支付公钥"},
      "description": "Contents of pub_key.pem (-----BEGIN PUBLIC KEY-----...) downloaded under Account Center > API security > WeChat Pay public key; answers and notifications must be signed by it.", "x-kassa-descriptions": {"zh-CN": "在“账户中心 > API 安全 > 微信支付公钥”下载的 pub_key.pem 的内容（-----BEGIN PUBLIC KEY-----...）；应答和通知须由它签名。"}
    },
    "platform_public_key_id": {
      "type": "string", "pattern": "^PUB_KEY_ID_[0-9A-Za-z_]+$",
      "title": "WeChat Pay public key ID", "x-kassa-titles": {"zh-CN": "微信支付公钥 ID"},
      "description": "The ID shown next to the WeChat Pay public key (PUB_KEY_ID_...).", "x-kassa-descriptions": {"zh-CN": "微信支付公钥旁显示的 ID（PUB_KEY_ID_...）。"}
    },
    "base_url": {
      "type": "string", "format": "uri", "x-kassa-outbound": true, "default": "https://api.mch.weixin.qq.com",
      "title": "API base URL", "x-kassa-titles": {"zh-CN": "API 地址"},
      "description": "WeChat Pay API v3 endpoint. Keep the default; change it only to use the backup domain https://api2.mch.weixin.qq.com or a test server.", "x-kassa-descriptions": {"zh-CN": "微信支付 API v3 地址。请保留默认值；仅在使用备用域名 https://api2.mch.weixin.qq.com 或测试服务器时修改。"}
    },
    "notify_url": {
      "type": "string", "readOnly": true, "x-kassa-outbound": false,
      "default": "{your shop's public URL}/webhooks/payment.wechatpay",
      "title": "Notify URL (set by Kassa)", "x-kassa-titles": {"zh-CN": "支付通知地址（由 Kassa 设置）"},
      "description": "Kassa sends WeChat Pay this address with every payment and refund: {your shop's public URL}/webhooks/payment.wechatpay, e.g. https://shop.example/webhooks/payment.wechatpay. It must be public HTTPS on port 443. You do not need to enter it anywhere; a value here is ignored.", "x-kassa-descriptions": {"zh-CN": "Kassa 会在每笔付款和退款中把此地址发给微信支付：{店铺公开网址}/webhooks/payment.wechatpay，例如 https://shop.example/webhooks/payment.wechatpay。它必须是 443 端口上可公开访问的 HTTPS 地址。无需在任何地方填写；此处填写的值会被忽略。"}
    }
  }
}`)

// settings is the decoded configuration.
type settings struct {
	MchID                string `json:"mchid"`
	AppID                string `json:"appid"`
	MerchantPrivateKey   string `json:"merchant_private_key"`
	MerchantSerialNo     string `json:"merchant_serial_no"`
	APIv3Key             string `json:"apiv3_key"`
	PlatformPublicKey    string `json:"platform_public_key"`
	PlatformPublicKeyID  string `json:"platform_public_key_id"`
	BaseURL              string `json:"base_url"`
	NotifyURLInformation string `json:"notify_url"`
}

// config is what Configure accepted, parsed.
type config struct {
	mchID, appID string
	apiV3Key     []byte
	api          *client
}

// Gateway is the WeChat Pay gateway.
type Gateway struct {
	payment.UnimplementedGateway

	cfg    atomic.Pointer[config]
	replay *webhook.ReplayCache
	now    func() time.Time

	mu      sync.Mutex
	refunds map[string]payment.RefundResult // first answers by idempotency key
	// lastNotifyURL is the notify URL Kassa passed with the latest payment;
	// Kassa passes none with refunds, and it is the same for every payment.
	lastNotifyURL string
	dataDir       string
	declined      map[string]decline // attempts declined before reaching WeChat
	declineOrder  []string
}

// New returns an unconfigured gateway keeping local declines in dataDir
// ("" keeps them in memory only).
func New(dataDir string) (*Gateway, error) {
	g := &Gateway{replay: webhook.NewReplayCache(100_000), now: time.Now, refunds: map[string]payment.RefundResult{},
		dataDir: dataDir, declined: map[string]decline{}}
	if dataDir != "" {
		if err := g.loadDeclines(dataDir); err != nil {
			return nil, err
		}
	}
	return g, nil
}

// Describe implements sdk.Plugin.
func (g *Gateway) Describe(context.Context) (sdk.Info, error) {
	return sdk.Info{
		ID:           ID,
		Kind:         sdk.KindPayment,
		Version:      Version,
		DisplayName:  "WeChat Pay",
		Description:  "WeChat Pay API v3 for mainland China merchants: QR code (Native), mobile browser (H5) and in-WeChat (JSAPI) payments in CNY, refunds and signed notifications.",
		DisplayNames: map[string]string{"zh-CN": "微信支付"},
		Descriptions: map[string]string{"zh-CN": "面向中国大陆商户的微信支付 API v3：Native 扫码、H5 手机浏览器和 JSAPI 公众号内支付，人民币结算，支持退款和签名通知。"},
		Capabilities: []string{
			payment.CapActionRedirect, payment.CapActionQRCode, payment.CapActionClientSecret,
			payment.CapCancel, payment.CapRefund, payment.CapRefundPartial, payment.CapWebhook, payment.CapListTransactions,
		},
		ConfigSchema: schema.String(),
	}, nil
}

// Configure implements sdk.Plugin. Keys are parsed here so that a pasted
// certificate instead of a key, a key of another type or a short key is
// refused at once with a message naming the field.
func (g *Gateway) Configure(ctx context.Context, raw json.RawMessage) (sdk.ConfigureResult, error) {
	var s settings
	if errs := schema.Decode(raw, &s); errs != nil {
		return sdk.ConfigureResult{Errors: errs}, nil
	}
	var errs []sdk.ConfigError
	priv, err := wxsign.ParsePrivateKey([]byte(s.MerchantPrivateKey))
	if err != nil {
		errs = append(errs, keyError("/merchant_private_key", "merchant API private key (apiclient_key.pem)", err))
	}
	pub, err := wxsign.ParsePublicKey([]byte(s.PlatformPublicKey))
	if err != nil {
		errs = append(errs, keyError("/platform_public_key", "WeChat Pay public key (pub_key.pem)", err))
	}
	if priv != nil && pub != nil && priv.PublicKey.Equal(pub) {
		errs = append(errs, sdk.ConfigError{Field: "/platform_public_key", Code: "own_key",
			Message: "this is the public half of your merchant key; paste WeChat Pay's public key (pub_key.pem) instead"})
	}
	base := s.BaseURL
	if base == "" {
		base = DefaultBaseURL
	}
	base = strings.TrimRight(base, "/")
	guard := netguard.Policy{AllowPrivate: sdk.AllowPrivateNetworks(ctx)}
	if err := guard.CheckURL(base); err != nil {
		code := "invalid_url"
		if errors.Is(err, netguard.ErrBlocked) {
			code = "private_network"
		}
		errs = append(errs, sdk.ConfigError{Field: "/base_url", Code: code, Message: err.Error()})
	}
	if errs != nil {
		return sdk.ConfigureResult{Errors: errs}, nil
	}
	g.cfg.Store(&config{
		mchID: s.MchID, appID: s.AppID, apiV3Key: []byte(s.APIv3Key),
		api: &client{
			base: base, mchID: s.MchID, serial: strings.ToUpper(s.MerchantSerialNo), key: priv,
			platform: pub, platformID: s.PlatformPublicKeyID, now: g.now,
			http: &http.Client{Transport: guard.Transport(), Timeout: 30 * time.Second},
		},
	})
	return sdk.ConfigureResult{}, nil
}

func keyError(field, what string, err error) sdk.ConfigError {
	switch {
	case errors.Is(err, wxsign.ErrNotPEM):
		return sdk.ConfigError{Field: field, Code: "not_pem", Message: "the " + what + " is not PEM text: paste the whole file including the -----BEGIN and -----END lines"}
	case errors.Is(err, wxsign.ErrTooShort):
		return sdk.ConfigError{Field: field, Code: "key_too_short", Message: fmt.Sprintf("the %s is too short: WeChat Pay uses RSA keys of at least %d bits (%v)", what, wxsign.MinKeyBits, err)}
	default:
		return sdk.ConfigError{Field: field, Code: "not_rsa", Message: "the " + what + " is not an RSA key: " + err.Error()}
	}
}

// healthProbe is the out_trade_no Health queries: no order has it, so a
// correctly signed query answers ORDER_NOT_EXIST and changes nothing.
const healthProbe = "kassa_health_probe_0"

// Health implements sdk.Plugin: a signed query of an order that does not
// exist proves the key, serial, mchid, clock and platform key, and tells
// which one is wrong.
func (g *Gateway) Health(ctx context.Context) (sdk.Health, error) {
	cfg := g.cfg.Load()
	if cfg == nil {
		return sdk.Health{Status: sdk.HealthNotServing, Message: "WeChat Pay is not configured"}, nil
	}
	var out json.RawMessage
	_, err := cfg.api.do(ctx, http.MethodGet, "/v3/pay/transactions/out-trade-no/"+healthProbe+"?mchid="+cfg.mchID, nil, &out)
	var ae *apiError
	switch {
	case errors.As(err, &ae) && ae.Code == "ORDER_NOT_EXIST":
		return sdk.Health{Status: sdk.HealthServing}, nil
	case err == nil:
		return sdk.Health{Status: sdk.HealthServing, Message: "the health probe order unexpectedly exists"}, nil
	default:
		return sdk.Health{Status: sdk.HealthNotServing, Message: diagnose(err)}, nil
	}
}

// diagnose turns a failed call into what the shop owner must fix.
func diagnose(err error) string {
	var ae *apiError
	switch {
	case errors.As(err, &ae) && ae.Code == "SIGN_ERROR":
		return "WeChat Pay refused the request signature (SIGN_ERROR: " + ae.Message + "): check that the merchant private key, the certificate serial number and the mchid belong together, and that this server's clock is right"
	case errors.As(err, &ae) && (ae.Code == "APPID_MCHID_NOT_MATCH" || ae.Code == "MCH_NOT_EXISTS" || ae.Code == "NO_AUTH"):
		return "WeChat Pay refused the merchant settings (" + ae.Code + ": " + ae.Message + ")"
	case errors.As(err, &ae):
		return fmt.Sprintf("WeChat Pay answered %d %s: %s", ae.Status, ae.Code, ae.Message)
	case errors.Is(err, wxsign.ErrWrongSerial):
		return "WeChat Pay signed its answer with another key than the configured WeChat Pay public key ID: " + err.Error()
	case errors.Is(err, wxsign.ErrBadSignature):
		return "the answer's signature does not verify with the configured WeChat Pay public key: check that you pasted WeChat Pay's public key (pub_key.pem), not your own"
	case errors.Is(err, wxsign.ErrStale):
		return "clock skew: WeChat Pay's signed time differs from this server's clock by more than 5 minutes (" + err.Error() + "); synchronize the clock (NTP)"
	case errors.Is(err, wxsign.ErrMissing):
		return "the answer carries no WeChat Pay signature: is base_url really WeChat Pay's API? (" + err.Error() + ")"
	case errors.Is(err, netguard.ErrBlocked):
		return "base_url points at a private network address, which this shop does not allow: " + err.Error()
	default:
		return "WeChat Pay is unreachable: " + err.Error()
	}
}
