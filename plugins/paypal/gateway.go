package main

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"sync"
	"sync/atomic"
	"time"

	"github.com/plutov/paypal/v4"

	"github.com/kassahq/kassa/plugins/sdk"
	"github.com/kassahq/kassa/plugins/sdk/netguard"
	"github.com/kassahq/kassa/plugins/sdk/payment"
	"github.com/kassahq/kassa/plugins/sdk/state"
	"github.com/kassahq/kassa/plugins/sdk/webhook"
)

// Version is the plugin's version.
const Version = "1.0.0"

// ID is the plugin's id.
const ID = "payment.paypal"

// API base URLs.
const (
	LiveBase    = "https://api-m.paypal.com"
	SandboxBase = "https://api-m.sandbox.paypal.com"
)

// MethodPayPal is the payment method id ("" means the same).
const MethodPayPal = "paypal"

// Webhook verification modes of the webhook_verification setting.
const (
	VerifyAPI     = "api"     // POST /v1/notifications/verify-webhook-signature
	VerifyOffline = "offline" // CRC32 + SHA256withRSA with the certificate at PAYPAL-CERT-URL
)

// transmissionTolerance is how far PAYPAL-TRANSMISSION-TIME may be from
// the time Kassa received the delivery. PayPal signs every retry anew, so
// only a copy sent back later is old.
const transmissionTolerance = 15 * time.Minute

var schema = sdk.MustCompileSchema(`{
  "type": "object",
  "additionalProperties": false,
  "required": ["client_id", "client_secret", "webhook_id"],
  "properties": {
    "client_id": {
      "type": "string", "minLength": 20, "maxLength": 128, "pattern": "^[A-Za-z0-9_-]+$",
      "title": "Client ID", "x-kassa-titles": {"zh-CN": "Client ID"},
      "description": "The Client ID of your REST app: developer.paypal.com > Apps & Credentials > your app (Sandbox or Live tab, matching the Sandbox switch below).", "x-kassa-descriptions": {"zh-CN": "REST 应用的 Client ID：developer.paypal.com > Apps & Credentials > 您的应用（Sandbox 或 Live 标签页，与下方的沙箱开关一致）。"}
    },
    "client_secret": {
      "type": "string", "minLength": 20, "maxLength": 128, "writeOnly": true,
      "title": "Secret", "x-kassa-titles": {"zh-CN": "Secret 密钥"},
      "description": "The app's Secret key, on the same page as the Client ID (Secret key 1, Show).", "x-kassa-descriptions": {"zh-CN": "应用的 Secret 密钥，与 Client ID 在同一页面（Secret key 1，点击 Show）。"}
    },
    "webhook_id": {
      "type": "string", "pattern": "^[A-Z0-9]{8,32}$",
      "title": "Webhook ID", "x-kassa-titles": {"zh-CN": "Webhook ID"},
      "description": "The ID PayPal shows for the webhook you added under the app's Webhooks section (e.g. 8PT597110X687430LKGECATA), not its URL. PayPal signs each notification for this id.", "x-kassa-descriptions": {"zh-CN": "您在应用的 Webhooks 部分添加的 Webhook 的 ID（例如 8PT597110X687430LKGECATA），不是其网址。PayPal 按此 ID 为每条通知签名。"}
    },
    "sandbox": {
      "type": "boolean", "default": false,
      "title": "Sandbox", "x-kassa-titles": {"zh-CN": "沙箱环境"},
      "description": "Use PayPal's sandbox (api-m.sandbox.paypal.com) with the Sandbox app's credentials and sandbox buyer accounts.", "x-kassa-descriptions": {"zh-CN": "使用 PayPal 沙箱（api-m.sandbox.paypal.com），配合沙箱应用的凭据和沙箱买家账户。"}
    },
    "base_url": {
      "type": "string", "format": "uri", "x-kassa-outbound": true,
      "title": "API base URL", "x-kassa-titles": {"zh-CN": "API 地址"},
      "description": "Leave empty: https://api-m.paypal.com, or https://api-m.sandbox.paypal.com when Sandbox is on. Only for a test double of PayPal.", "x-kassa-descriptions": {"zh-CN": "留空即可：默认为 https://api-m.paypal.com，开启沙箱时为 https://api-m.sandbox.paypal.com。仅用于 PayPal 的测试替身。"}
    },
    "intent": {
      "type": "string", "enum": ["CAPTURE", "AUTHORIZE"], "default": "CAPTURE",
      "title": "Payment intent", "x-kassa-titles": {"zh-CN": "付款意图"},
      "description": "CAPTURE takes the money as soon as the buyer approves. AUTHORIZE only reserves it (for up to 29 days, honoured for 3) and staff capture it from the order, e.g. when it ships. Payments Kassa asks to capture manually are always authorized only.", "x-kassa-descriptions": {"zh-CN": "CAPTURE：买家批准后立即扣款。AUTHORIZE：只预留款项（最长 29 天，保证 3 天），由员工在订单中扣款，例如在发货时。Kassa 要求手动扣款的付款始终只授权。"}
    },
    "webhook_verification": {
      "type": "string", "enum": ["api", "offline"], "default": "api",
      "title": "Webhook verification", "x-kassa-titles": {"zh-CN": "Webhook 验证方式"},
      "description": "api asks PayPal (verify-webhook-signature) about each notification; offline checks the signature with PayPal's certificate, fetched once from PayPal's own hosts only.", "x-kassa-descriptions": {"zh-CN": "api：就每条通知询问 PayPal（verify-webhook-signature）；offline：用 PayPal 的证书校验签名，证书只从 PayPal 自己的主机获取一次。"}
    },
    "brand_name": {
      "type": "string", "maxLength": 127,
      "title": "Brand name", "x-kassa-titles": {"zh-CN": "品牌名称"},
      "description": "The shop name the buyer sees on PayPal's pages. Default: the business name of your PayPal account.", "x-kassa-descriptions": {"zh-CN": "买家在 PayPal 页面上看到的店铺名称。默认为您 PayPal 账户的商家名称。"}
    },
    "webhook_url": {
      "type": "string", "format": "uri", "readOnly": true, "x-kassa-outbound": false,
      "title": "Webhook URL", "x-kassa-titles": {"zh-CN": "Webhook 地址"},
      "description": "Register this address for the app's webhook in the PayPal dashboard: your shop's public URL followed by /webhooks/payment.paypal, e.g. https://shop.example/webhooks/payment.paypal. Leave empty.", "x-kassa-descriptions": {"zh-CN": "请在 PayPal 后台为应用的 Webhook 登记此地址：店铺公开网址加上 /webhooks/payment.paypal，例如 https://shop.example/webhooks/payment.paypal。此项无需填写。"}
    }
  }
}`)

// settings is the decoded configuration.
type settings struct {
	ClientID     string `json:"client_id"`
	ClientSecret string `json:"client_secret"`
	WebhookID    string `json:"webhook_id"`
	Sandbox      bool   `json:"sandbox"`
	BaseURL      string `json:"base_url"`
	Intent       string `json:"intent"`
	Verification string `json:"webhook_verification"`
	BrandName    string `json:"brand_name"`
	WebhookURL   string `json:"webhook_url"`
}

// configured is the settings in effect with their API client.
type configured struct {
	s    settings
	base string
	api  *api
	// certHosts are the only hosts PAYPAL-CERT-URL may name.
	certHosts map[string]bool
	certs     *certCache
}

// Gateway is the PayPal payment gateway.
type Gateway struct {
	payment.UnimplementedGateway

	cfg     atomic.Pointer[configured]
	replay  *webhook.ReplayCache
	journal *state.Store[attempt]
	now     func() time.Time
	// locks serialize settling and cancelling one attempt, so a cancel
	// never answers CANCELED while a capture of the same order is on its
	// way.
	locks sync.Map // attempt id -> *sync.Mutex
	// roots verifies the certificate chain of PayPal's webhook
	// certificates; nil means the system's roots.
	roots *x509.CertPool
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

func (g *Gateway) lock(attemptID string) func() {
	m, _ := g.locks.LoadOrStore(attemptID, &sync.Mutex{})
	mu := m.(*sync.Mutex)
	mu.Lock()
	return mu.Unlock
}

// Describe implements sdk.Plugin.
func (g *Gateway) Describe(context.Context) (sdk.Info, error) {
	return sdk.Info{
		ID:           ID,
		Kind:         sdk.KindPayment,
		Version:      Version,
		DisplayName:  "PayPal",
		Description:  "PayPal Checkout (Orders v2): the buyer approves on PayPal, the shop captures at once or authorizes and captures later; partial refunds and signed webhooks.",
		DisplayNames: map[string]string{"zh-CN": "PayPal 贝宝"},
		Descriptions: map[string]string{"zh-CN": "PayPal 结账（Orders v2）：买家在 PayPal 批准付款，商店立即收款或先授权后收款；支持部分退款和签名的 Webhook 通知。"},
		Capabilities: []string{
			payment.CapActionRedirect, payment.CapCaptureManual, payment.CapCancel,
			payment.CapRefund, payment.CapRefundPartial, payment.CapWebhook, payment.CapListTransactions,
		},
		ConfigSchema: schema.String(),
	}, nil
}

var webhookIDPattern = regexp.MustCompile(`^[A-Z0-9]{8,32}$`)

// Configure implements sdk.Plugin.
func (g *Gateway) Configure(ctx context.Context, raw json.RawMessage) (sdk.ConfigureResult, error) {
	var s settings
	if errs := schema.Decode(raw, &s); errs != nil {
		return sdk.ConfigureResult{Errors: errs}, nil
	}
	var errs []sdk.ConfigError
	if s.ClientID == s.ClientSecret {
		errs = append(errs, sdk.ConfigError{Field: "/client_secret", Code: "same_as_client_id",
			Message: "the Secret is the same as the Client ID; paste the app's Secret key (Show under Secret key 1)"})
	}
	if !webhookIDPattern.MatchString(s.WebhookID) {
		errs = append(errs, sdk.ConfigError{Field: "/webhook_id", Code: "invalid_webhook_id",
			Message: "the Webhook ID is the short ID PayPal lists next to the webhook's URL, capital letters and digits"})
	}
	if s.Intent == "" {
		s.Intent = "CAPTURE"
	}
	if s.Verification == "" {
		s.Verification = VerifyAPI
	}
	base := s.BaseURL
	certHosts := map[string]bool{"api.paypal.com": true, "api-m.paypal.com": true}
	if s.Sandbox {
		certHosts = map[string]bool{"api.sandbox.paypal.com": true, "api-m.sandbox.paypal.com": true}
	}
	switch {
	case base == "" && s.Sandbox:
		base = SandboxBase
	case base == "":
		base = LiveBase
	default:
		u, err := url.Parse(base)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil || u.RawQuery != "" {
			errs = append(errs, sdk.ConfigError{Field: "/base_url", Code: "invalid_url", Message: "the API base URL must be an http(s) URL without credentials or query"})
		} else {
			// A test double of PayPal serves its own certificates.
			certHosts = map[string]bool{u.Host: true}
		}
	}
	guard := netguard.Policy{AllowPrivate: sdk.AllowPrivateNetworks(ctx)}
	if err := guard.CheckURL(base); err != nil {
		errs = append(errs, sdk.ConfigError{Field: "/base_url", Code: "private_network", Message: err.Error()})
	}
	if len(errs) > 0 {
		return sdk.ConfigureResult{Errors: errs}, nil
	}
	hc := &http.Client{Transport: guard.Transport(), Timeout: 20 * time.Second}
	c, err := paypal.NewClient(s.ClientID, s.ClientSecret, trimSlash(base))
	if err != nil {
		return sdk.ConfigureResult{}, fmt.Errorf("paypal: %w", err)
	}
	c.SetHTTPClient(hc)
	g.cfg.Store(&configured{s: s, base: trimSlash(base), api: &api{c: c}, certHosts: certHosts,
		certs: newCertCache(hc, g.roots, s.BaseURL != "")})
	return sdk.ConfigureResult{}, nil
}

func trimSlash(s string) string {
	for len(s) > 0 && s[len(s)-1] == '/' {
		s = s[:len(s)-1]
	}
	return s
}

// Health implements sdk.Plugin with two harmless calls: an OAuth token
// (proves the client id and secret, and the environment) and a read of
// the configured webhook (proves the webhook id belongs to this app).
func (g *Gateway) Health(ctx context.Context) (sdk.Health, error) {
	c := g.cfg.Load()
	if c == nil {
		return sdk.Health{Status: sdk.HealthNotServing, Message: "PayPal is not configured"}, nil
	}
	env := "Live"
	if c.s.Sandbox {
		env = "Sandbox"
	}
	if _, err := c.api.c.GetAccessToken(ctx); err != nil {
		var pe *paypal.ErrorResponse
		if errors.As(err, &pe) && pe.Response != nil && pe.Response.StatusCode == http.StatusUnauthorized {
			return sdk.Health{Status: sdk.HealthNotServing, Message: "PayPal refused the Client ID and Secret (invalid_client): copy both from the " + env +
				" tab of your app in developer.paypal.com > Apps & Credentials, and check that the Sandbox switch matches the app"}, nil
		}
		if errors.As(err, &pe) {
			return sdk.Health{Status: sdk.HealthNotServing, Message: "PayPal refused the token request: " + err.Error()}, nil
		}
		return sdk.Health{Status: sdk.HealthDegraded, Message: "PayPal (" + c.base + ") is unreachable: " + err.Error()}, nil
	}
	var wh struct {
		ID  string `json:"id"`
		URL string `json:"url"`
	}
	err := c.api.do(ctx, http.MethodGet, "/v1/notifications/webhooks/"+url.PathEscape(c.s.WebhookID), nil, "", &wh)
	switch {
	case isStatus(err, http.StatusNotFound):
		return sdk.Health{Status: sdk.HealthNotServing, Message: "this app has no webhook with ID " + c.s.WebhookID +
			": copy the Webhook ID (not the URL) from the Webhooks section of the same app in the PayPal dashboard"}, nil
	case err != nil && isAPIError(err):
		return sdk.Health{Status: sdk.HealthNotServing, Message: "PayPal refused reading the webhook: " + err.Error()}, nil
	case err != nil:
		return sdk.Health{Status: sdk.HealthDegraded, Message: "PayPal (" + c.base + ") is unreachable: " + err.Error()}, nil
	}
	return sdk.Health{Status: sdk.HealthServing, Message: "webhook " + wh.ID + " delivers to " + wh.URL}, nil
}
